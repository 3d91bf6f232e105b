//! Lock dependencies and irq usage as lockdep derives them, from a trace's lock holds alone:
//! the class dependency graph (`graph.rs`) and each class's irq usage bits (`usage.rs`).
//! The lock detectors judge them; `kctx locks --deps` prints them.

pub mod graph;
pub mod usage;

pub use graph::{DependencyGraph, Edge, Recursion, first_untied_class};
pub use usage::{IrqState, Usage, UsageBit, enabled_at, usage_table};
