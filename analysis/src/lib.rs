//! The analysis pipeline of kctx, shared by every subcommand and the GUI: [`Inputs`] (traces,
//! kallsyms sidecars, console logs, options) -> [`Analysis`] (per trace the event store,
//! context model and findings; the console's splats linked to the findings and their printed
//! context checked; the [`Report`] that `kctx check` and the GUI's export render).
//!
//! Knows no GUI and no command line: what to read and how to show the result is the caller's.

pub mod allow;
pub mod console;
mod derived;
pub mod diff;
mod import;
pub mod inputs;
pub mod logs;
mod pipeline;
pub mod report;
pub mod sidecar;

pub use allow::Allowlist;
pub use console::{Console, ConsoleCheck};
pub use import::{CacheEvent, ImportedTrace, import_trace};
pub use inputs::{Inputs, NamedSource, Options, RequiredCheck, TraceInput, TraceSource};
pub use pipeline::{Analysis, Stage, TraceAnalysis, analyze, analyze_showing};
pub use report::Report;
pub use trace_cache::TraceCache;

/// A count and its noun, singular for one: `1 finding`, `3 findings`, `1 time`. Every noun
/// kctx counts takes a plain `s`.
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
