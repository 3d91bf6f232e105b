//! `kctx locks FILE`: per lock class, how often it was taken, waited for and held, in which
//! modes and contexts, and where its longest hold and longest wait were.

use super::TextOrJson;
use super::output;
use crate::units::format_duration;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use trace_model::CommPid;
use trace_model::lock_stats::{Instance, LockClassStats, lock_stats};
use trace_model::{EventStore, seconds};

/// Which total orders the table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LockSort {
    /// Total time held.
    #[default]
    Held,
    /// Total time waited.
    Wait,
    /// Acquisitions.
    Count,
}

#[derive(Serialize)]
struct LocksOutput<'a> {
    file: String,
    lock_source: trace_model::context::coverage::LockSource,
    classes: &'a [LockClassStats],
}

/// `kctx locks [--format text|json] [--sort held|wait|count] [--top N] FILE`
pub fn run(
    file: &Path,
    kallsyms: Option<&Path>,
    deps: bool,
    sort: LockSort,
    top: Option<usize>,
    format: TextOrJson,
    cache: Option<&analysis::TraceCache>,
) -> anyhow::Result<u8> {
    let trace = super::context::load(file, kallsyms, cache)?;
    let (store, model) = (trace.store, trace.context);
    if deps {
        super::lock_deps::print(file, &store, &model, format)?;
        return Ok(0);
    }
    let mut classes = lock_stats(&model);
    sort_classes(&mut classes, sort);
    classes.truncate(top.unwrap_or(usize::MAX));
    match format {
        TextOrJson::Json => {
            let output = LocksOutput {
                file: file.display().to_string(),
                lock_source: model.coverage.lock_source,
                classes: &classes,
            };
            output::emit_line(&serde_json::to_string_pretty(&output)?)?;
        }
        TextOrJson::Text => output::emit(&locks_text(file, &store, &classes, &model.coverage))?,
    }
    Ok(0)
}

fn sort_classes(classes: &mut [LockClassStats], sort: LockSort) {
    let key = |s: &LockClassStats| match sort {
        LockSort::Held => s.held_total_ns,
        LockSort::Wait => s.wait_total_ns,
        LockSort::Count => s.acquisitions,
    };
    // Stable: ties keep lock_stats' order (held time, then name).
    classes.sort_by_key(|s| std::cmp::Reverse(key(s)));
}

/// The human-readable table: one row per class, then where each longest hold and wait was.
pub fn locks_text(
    file: &Path,
    store: &EventStore,
    classes: &[LockClassStats],
    coverage: &trace_model::context::Coverage,
) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "{}: {} lock classes (holds from {:?})",
        file.display(),
        classes.len(),
        coverage.lock_source
    );
    if classes.is_empty() {
        let _ = writeln!(
            w,
            "  no lock holds: record lock:* events (lockdep kernels) or kprobes on the lock primitives"
        );
        return out;
    }
    let _ = writeln!(
        w,
        "  {:<32} {:>8} {:>8} {:>13} {:>13} {:>13} {:>13}  modes / contexts",
        "class", "acquired", "waited", "held total", "held max", "wait total", "wait max"
    );
    for c in classes {
        let _ = writeln!(
            w,
            "  {:<32} {:>8} {:>8} {:>13} {:>13} {:>13} {:>13}  {} / {}",
            c.class,
            c.acquisitions,
            c.contended,
            format_duration(c.held_total_ns as f64),
            max_text(&c.longest_hold),
            format_duration(c.wait_total_ns as f64),
            max_text(&c.longest_wait),
            c.modes.join(","),
            c.contexts.join(","),
        );
    }
    let _ = writeln!(w, "  longest:");
    for c in classes {
        for (what, instance) in [("hold", &c.longest_hold), ("wait", &c.longest_wait)] {
            if let Some(i) = instance {
                let text = instance_text(store, i);
                let _ = writeln!(w, "    {:<32} {what} {text}", c.class);
            }
        }
        if c.unreleased > 0 {
            let _ = writeln!(
                w,
                "    {:<32} {} hold(s) never released in the trace (not counted)",
                c.class, c.unreleased
            );
        }
    }
    out
}

fn max_text(instance: &Option<Instance>) -> String {
    instance
        .as_ref()
        .map_or_else(|| "-".to_owned(), |i| format_duration(i.duration_ns as f64))
}

fn instance_text(store: &EventStore, i: &Instance) -> String {
    let mut text = format!(
        "{} from {:.6} on CPU {} by {} ({})",
        format_duration(i.duration_ns as f64),
        seconds(i.ts_ns),
        i.cpu,
        task_text(store, i),
        i.context
    );
    if let Some(caller) = &i.caller {
        let _ = write!(text, " in {caller}()");
    }
    text
}

/// `comm-pid` of the task an instance began in: the comm of its event at that time on that
/// CPU (the acquire, or the start of the wait), else of the task's last earlier event there.
fn task_text(store: &EventStore, i: &Instance) -> String {
    let cpu = i.cpu as usize;
    let events = store.cpu_events(cpu);
    let upto = store.cpu_range(cpu, 0, i.ts_ns.saturating_add(1)).end;
    let comm = events[..upto]
        .iter()
        .rev()
        .find(|&&e| store.pids()[e as usize] == i.pid)
        .map(|&e| store.str(store.comm(e)))
        .filter(|c| !c.is_empty());
    match comm {
        Some(comm) => CommPid(comm, i.pid).to_string(),
        None => format!("pid {}", i.pid),
    }
}
