//! kctx's model of a kernel trace.
//!
//! Importers (crate `importers`) turn bytes into an [`EventStore`] through an
//! [`EventStoreBuilder`]; everything else (context intervals, detectors, the timeline) reads
//! the store. This crate knows no input format and no GUI.
//!
//! # Event store layout
//!
//! Struct of arrays, one entry per event, in global time order:
//!
//! | column        | type            | bytes |
//! |---------------|-----------------|-------|
//! | timestamp     | `u64` ns        | 8     |
//! | CPU           | `u16`           | 2     |
//! | event type    | `u16`           | 2     |
//! | pid           | `i32`           | 4     |
//! | context flags | `u8` code       | 1     |
//! | payload index | `u32`           | 4     |
//!
//! 21 bytes per event, plus:
//!
//! | part          | bytes                                                              |
//! |---------------|--------------------------------------------------------------------|
//! | flags table   | 4 per distinct packed flag word (a few dozen per trace); past 256 distinct words (a damaged or hostile trace) the column keeps every event's 4-byte word instead ([`store::Flags`]) |
//! | payload       | typed payloads take 2 to 8 four-byte words in one arena, and the short ones that repeat (a function and its caller, a softirq vector) share one copy: about 6 bytes an event on a function-tracer recording; generic ones keep their field text in a text arena |
//! | comm          | none per event: 12 bytes per change of a pid's comm ([`store::CommTable`]), a few thousand per trace |
//! | per-CPU index | 4 (`u32` event index), built on the first per-CPU query; a whole-trace pass (`kctx stats`, the context builder) never builds it |
//!
//! Names are interned, so a `sched_switch` costs 21 bytes and its 8-word payload. No event
//! owns a heap object. Measured on a 37,965,912-event whole-kernel function trace (the
//! corpus's `wk-debian-a` repeated 8 times): `kctx stats` peaks at 23.2 bytes an event for
//! the whole process (columns 21, payloads, strings, symbols and the importer's buffers
//! the rest); the builder faults the columns' pages in on a second core ahead of its
//! pushes (`store/prefault.rs`).

pub mod column;
pub mod comm_pid;
pub mod context;
pub mod correlate;
pub mod culprit;
pub mod detect;
pub mod direct_mapped;
pub mod explain;
pub mod finding;
pub mod flags;
pub mod latency;
pub mod lock_stats;
pub mod lockdep;
pub mod meta;
pub mod parallel;
pub mod payload;
pub mod qemu;
pub mod report;
pub mod splat;
pub mod splat_context;
pub mod stable_hash;
pub mod store;
pub mod strings;
pub mod symbols;
pub mod synthetic;

pub use comm_pid::CommPid;
pub use finding::{Confidence, Evidence, Finding, FindingInstance, FindingKind};
pub use flags::{ContextFlags, FlagBits, IrqContext};
pub use meta::{KernelRelease, LostEvents, SourceFormat, TraceMeta};
pub use payload::{Payload, PayloadIn, PayloadView, TaskState};
pub use report::{ImportReport, Location, ProblemCount};
pub use store::{EventHeader, EventIdx, EventRef, EventStore, EventStoreBuilder, EventTypeId};
pub use strings::{ExtendedInterner, Interner, StrId};

/// Nanoseconds of the trace clock to trace seconds, as reports and findings print them.
pub fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}
