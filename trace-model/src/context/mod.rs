//! The context model: what every CPU and task was doing over time, rebuilt from
//! events. Lock holds are the contract between the context builder and the detectors.
//!
//! [`ContextModel::build`] makes one time-ordered pass over the store (plus a calibration pass
//! over the recorded preempt depths) and produces columnar tables:
//!
//! - per CPU, [`CpuLanes`]: interval lanes of the running task, softirq, hardirq and NMI
//!   context, irqs-off / BH-off / preempt-off intervals and unknown ranges; the locks held
//!   per CPU ([`held`], swept on first use);
//! - [`LockTable`]: every lock hold with its holder context and the holds under it;
//! - [`SleepCall`]s: every call of a might-sleep entry point and every real sleep, with the
//!   context at the call;
//! - [`TaskTimeline`]s: per task running / runnable / sleeping, migrations and wakeups.
//!
//! Sources, best first: explicit events (irq / softirq entry and exit, `lock:*`,
//! `preemptirq:*`), the flags every event records (sampled state), function-tracer entries of
//! lock and sleep primitives, and kprobes that carry a lock address. Unknown is a state: a CPU's
//! context is unknown from the start of the trace and after lost events until an event proves it.

mod builder;
pub mod calibrate;
pub mod columns;
pub mod coverage;
pub mod held;
pub mod lanes;
pub mod locks;
mod preview;
pub mod primitives;
pub mod seen;
pub mod state;
pub mod tasks;
#[cfg(test)]
pub(crate) mod tests;

use crate::StrId;
use crate::store::EventIdx;
use crate::strings::{ExtendedInterner, Interner};
use crate::symbols::SymbolTable;
use calibrate::Baselines;
use lanes::IntervalLane;
use locks::{HoldIdx, HolderContext, LockTable};
use primitives::SleepEntry;
use std::ops::Range;
use tasks::TaskTimeline;

pub use coverage::Coverage;
pub use state::CpuState;

/// Symbols from outside the trace (a `--kallsyms FILE` sidecar), with the strings they use.
#[derive(Clone, Debug, Default)]
pub struct Sidecar {
    pub symbols: SymbolTable,
    pub strings: Interner,
}

/// Options of [`ContextModel::build`].
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Names lock addresses the trace's own symbols do not cover.
    pub kallsyms: Option<Sidecar>,
}

/// A task running on a CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskSpan {
    pub pid: i32,
    pub comm: StrId,
}

/// A softirq being served; `vec` is None when only the flags showed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftirqSpan {
    pub vec: Option<u32>,
}

/// A hardirq; `irq` / `name` are None / EMPTY when only the flags showed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HardirqSpan {
    pub irq: Option<i32>,
    pub name: StrId,
}

/// Preemption disabled beyond the calibrated baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreemptSpan {
    /// Levels above the baseline.
    pub excess: u8,
    /// The depth as recorded.
    pub depth: u8,
    /// The first event that showed it.
    pub first: EventIdx,
}

/// Why a CPU's context is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownReason {
    /// Before the CPU's first event that proves its context.
    StartOfData,
    /// After lost events, until an event proves the context again.
    LostEvents,
}

/// The interval lanes of one CPU. Each lane is non-overlapping and sorted, so a query is a
/// binary search plus a walk.
#[derive(Clone, Debug, Default)]
pub struct CpuLanes {
    pub tasks: IntervalLane<TaskSpan>,
    pub softirq: IntervalLane<SoftirqSpan>,
    pub hardirq: IntervalLane<HardirqSpan>,
    pub nmi: IntervalLane<()>,
    /// Value: the first event that showed irqs off.
    pub irqs_off: IntervalLane<EventIdx>,
    /// Value: the first event that showed BH disabled.
    pub bh_off: IntervalLane<EventIdx>,
    pub preempt_off: IntervalLane<PreemptSpan>,
    pub unknown: IntervalLane<UnknownReason>,
}

/// What a sleep call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SleepKind {
    /// A call of a might-sleep entry point.
    Call(SleepEntry),
    /// `sched_switch` left the task in a sleeping state.
    RealSleep,
}

/// What the trace says about an allocation's GFP flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gfp {
    /// Not an allocation.
    NotAllocation,
    /// The trace does not tell (no kmem events, no `__might_sleep` marker traced).
    Unknown,
    /// Blocking: `gfp_flags` include direct reclaim, or the kernel's might_sleep marker or the
    /// `fs_reclaim` pseudo-lock followed the call.
    Blocking,
    /// Non-blocking (GFP_ATOMIC / GFP_NOWAIT), or no marker followed where markers are traced.
    NonBlocking,
}

/// One call of a might-sleep entry point, or one real sleep, with the context at the call.
#[derive(Clone, Debug, PartialEq)]
pub struct SleepCall {
    pub event: EventIdx,
    pub ts: u64,
    pub cpu: u32,
    pub pid: i32,
    pub kind: SleepKind,
    /// The entry point (`msleep`), or for a real sleep the task's comm.
    pub func: StrId,
    /// The calling function (function tracer parent), EMPTY when unknown.
    pub caller: StrId,
    pub context: HolderContext,
    /// Preempt levels above the calibrated baseline, as this event recorded them.
    pub excess_depth: Option<u8>,
    pub depth: Option<u8>,
    pub irqs_off: Option<bool>,
    pub bh_off: Option<bool>,
    /// Holds of the calling context at the call: a range into [`ContextModel::held_at_call`].
    pub held: Range<u32>,
    pub gfp: Gfp,
    /// The outer call this one is part of (`schedule_timeout` inside `msleep`).
    pub root: Option<u32>,
    /// For a root call: the real sleep that followed (sched_switch leaving it sleeping).
    pub slept: Option<EventIdx>,
    /// For a root call: the kernel's own `__schedule_bug` ("scheduling while atomic").
    pub schedule_bug: Option<EventIdx>,
}

/// Per-hold facts beyond the [`LockTable`] contract, indexed like [`LockTable::holds`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoldSpan {
    /// Release time, or where the hold stops being known (frame exit, lost events, end of
    /// data).
    pub end_ns: u64,
    /// The mode was inferred from the preempt / irq state around the hold, not named.
    pub mode_inferred: bool,
}

/// Counts of what the builder had to guess or could not match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildStats {
    /// Releases of locks whose acquisition the trace does not show.
    pub unmatched_releases: u64,
    /// Trylock attempts (kprobes see attempts) judged failed.
    pub failed_trylocks: u64,
    /// Holds an interrupt level still had when it ended.
    pub unreleased_at_irq_exit: u64,
    /// `__might_sleep` / `__might_resched` / `__might_fault` appear in the trace.
    pub might_sleep_markers: bool,
    /// The flags show BH-disabled (kernels >= 5.18).
    pub bh_visible: bool,
}

/// Everything rebuilt from a trace's events: per-CPU context, per-task state, lock holds,
/// sleep calls, coverage.
#[derive(Clone, Debug, Default)]
pub struct ContextModel {
    /// Lock instances, classes and holds.
    pub locks: LockTable,
    /// Indexed like `locks.holds`.
    pub hold_spans: Vec<HoldSpan>,
    /// Per CPU.
    pub cpus: Vec<CpuLanes>,
    /// Calls of might-sleep entry points and real sleeps, in time order.
    pub sleep_calls: Vec<SleepCall>,
    /// Arena of [`SleepCall::held`].
    pub held_at_call: Vec<HoldIdx>,
    /// Per task.
    pub tasks: TaskTimeline,
    /// What the builder had to guess or could not match.
    pub build_stats: BuildStats,
    /// The learned normal preempt depth per event key.
    pub baselines: Baselines,
    /// What the trace can and cannot tell.
    pub coverage: Coverage,
    /// The store's strings (shared, not copied) extended by names the model made (sidecar
    /// symbols, hex addresses): any [`StrId`] of the store or of the model resolves here.
    pub strings: ExtendedInterner,
    /// Holds per owner (task or CPU interrupt slot), for time queries.
    owners: state::OwnerIndex,
    /// Swept on first use: `kctx check` never reads it, the timeline does.
    locks_held: std::sync::OnceLock<held::LocksHeld>,
}

impl ContextModel {
    /// Rebuilds the context of every CPU and task from `store`.
    pub fn build(store: &crate::EventStore, opts: &BuildOptions) -> ContextModel {
        let baselines = Baselines::learn(store);
        let mut model = builder::Builder::new(store, opts, &baselines).run();
        model.tasks = TaskTimeline::build(store);
        model.coverage = Coverage::of(store, &model, &baselines);
        model.baselines = baselines;
        model.owners = state::OwnerIndex::build(&model.locks, &model.hold_spans);
        model
    }

    /// The locks held per CPU over time (one sweep, on first use).
    pub fn locks_held(&self) -> &held::LocksHeld {
        self.locks_held
            .get_or_init(|| held::sweep(&self.locks, &self.hold_spans, &self.cpus))
    }

    /// Resolves a string of the store or of the model.
    pub fn str(&self, id: StrId) -> &str {
        self.strings.resolve(id)
    }

    /// The holds a sleep call's context held.
    pub fn held_at(&self, call: &SleepCall) -> &[HoldIdx] {
        &self.held_at_call[call.held.start as usize..call.held.end as usize]
    }

    /// The class name of a hold's lock.
    pub fn hold_class_name(&self, hold: HoldIdx) -> &str {
        let h = &self.locks.holds[hold as usize];
        self.str(self.locks.classes[self.locks.class_of(h.lock).0 as usize].name)
    }
}
