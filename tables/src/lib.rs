//! kctx's trace tables: events, context intervals, task states, lock holds and dependencies,
//! sleep calls, findings and their evidence, console splats and latency sections, built on
//! demand from a loaded trace as polars data frames; SQL over them (`kctx query`) and a
//! Parquet / CSV dataset writer (`kctx export`).
//!
//! The schema is in [`schema`] (documented in `docs/tables.md`). This is the only crate that
//! uses polars: callers pass trace-model types in and get text, files or plain cells out, so
//! the GUI's frame path and the importers never touch it.

mod events;
mod export;
mod findings;
mod frame;
mod input;
mod intervals;
mod latency;
mod locks;
mod query;
mod result;
pub mod schema;
mod sleep_calls;
mod splats;

pub use export::{Export, ExportFormat, Written};
pub use input::{ConsoleInput, DetailsFn, Input, TraceInput, name_id, trace_id};
pub use query::{Query, QueryError};
pub use result::{Cell, OutputFormat, QueryResult};
pub use schema::{SCHEMA_VERSION, Table};

use frame::{Frame, int32, int64, ns};
use polars_core::prelude::DataFrame;
use trace_model::SourceFormat;

impl Table {
    /// Building this table needs the detectors' findings.
    pub fn needs_findings(self) -> bool {
        matches!(self, Table::Findings | Table::Evidence)
    }
}

/// Why a table could not be built.
#[derive(Debug)]
pub struct MissingFindings;

impl std::fmt::Display for MissingFindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the findings table needs the detectors' findings, which were not computed")
    }
}

impl std::error::Error for MissingFindings {}

/// `table` of one input; `Ok(None)` when the input cannot have it (events of a console log,
/// splats of a trace).
fn build(input: &Input, table: Table) -> Result<Option<DataFrame>, MissingFindings> {
    if table == Table::Traces {
        return Ok(Some(traces(input)));
    }
    let t = match input {
        Input::Console(c) => return Ok(table.only_in_console_logs().then(|| splats::splats(c))),
        Input::Trace(_) if table.only_in_console_logs() => return Ok(None),
        Input::Trace(t) => t,
    };
    let found = || t.findings.ok_or(MissingFindings);
    Ok(Some(match table {
        Table::Traces | Table::Splats => unreachable!("handled above"),
        Table::Events => {
            let mut slices = events::slices(t, export::ROWS_PER_GROUP);
            let mut all = slices.next().expect("at least one slice");
            for slice in slices {
                all.vstack_mut_owned(slice).expect("slices of one schema");
            }
            all
        }
        Table::CpuIntervals => intervals::cpu_intervals(t),
        Table::TaskStates => intervals::task_states(t),
        Table::LockHolds => locks::lock_holds(t),
        Table::LockDeps => locks::lock_deps(t),
        Table::SleepCalls => sleep_calls::sleep_calls(t),
        Table::Findings => findings::findings(found()?),
        Table::Evidence => findings::evidence(found()?),
        Table::LatencySections => latency::latency_sections(t),
    }))
}

fn format_name(source: &SourceFormat) -> &'static str {
    match source {
        SourceFormat::FtraceText { .. } => "ftrace-text",
        SourceFormat::TraceDat { .. } => "trace-dat",
        SourceFormat::Console => "console",
        SourceFormat::Qemu => "qemu",
        SourceFormat::Unknown => "unknown",
    }
}

/// The `traces` row of one input.
fn traces(input: &Input) -> DataFrame {
    let mut f = Frame::new(Table::Traces, 1);
    f.str("path", [input.path()]);
    match input {
        Input::Trace(t) => {
            let (store, meta) = (t.store, &t.store.meta);
            let span = store.time_span();
            let (gaps, lost) = meta.lost_totals();
            f.str("format", [format_name(&meta.source)]);
            f.i64("events", vec![int64(store.len() as u64)]);
            f.opt_i64("first_ns", vec![span.map(|s| ns(s.0))]);
            f.opt_i64("last_ns", vec![span.map(|s| ns(s.1))]);
            f.i32("cpus", vec![int32(store.cpu_count() as u32)]);
            f.i64("lost_events", vec![int64(lost)]);
            f.i64("lost_gaps", vec![int64(gaps as u64)]);
            f.opt_str("kernel", [meta.kernel_version.as_deref()]);
            f.opt_str("clock", [meta.clock.as_deref()]);
        }
        Input::Console(_) => {
            f.str("format", ["console"]);
            f.i64("events", vec![0]);
            f.opt_i64("first_ns", vec![None]);
            f.opt_i64("last_ns", vec![None]);
            f.i32("cpus", vec![0]);
            f.i64("lost_events", vec![0]);
            f.i64("lost_gaps", vec![0]);
            f.opt_str("kernel", [None::<&str>]);
            f.opt_str("clock", [None::<&str>]);
        }
    }
    f.i32("schema_version", vec![SCHEMA_VERSION as i32]);
    f.finish()
}

#[cfg(test)]
mod tests;
