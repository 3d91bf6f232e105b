//! The context model (issue 5): what every CPU and task was doing over time, rebuilt from
//! events. Lock holds are the contract between the context builder and the detectors.

pub mod locks;

use locks::LockTable;

/// Everything rebuilt from a trace's events: per-CPU context, per-task state, lock holds,
/// sleep calls, coverage (issue 5 fills this in; the detectors read it).
#[derive(Clone, Debug, Default)]
pub struct ContextModel {
    /// Lock instances, classes and holds.
    pub locks: LockTable,
}
