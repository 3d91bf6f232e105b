//! Command-line subcommands.

mod cache;
pub mod check;
pub mod context;
pub mod coverage;
pub mod diff;
pub mod export;
pub mod generate;
pub mod latency;
mod lock_deps;
mod locks;
mod output;
pub mod query;
pub mod splats;
pub mod stats;
mod table_inputs;

use analysis::{CacheEvent, TraceCache};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

/// Output formats shared by the reporting subcommands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Detect sleep-in-atomic, lock-order cycles and irq inversions: the headless CI gate.
    Check(check::CheckArgs),
    /// Counts: events in all, by name and CPU, time span, lost events, unparsed lines.
    Stats {
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Writes a synthetic ftrace text trace (fixed seed) for scale tests and benchmarks.
    Generate {
        /// Number of events.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
        #[arg(long, default_value_t = 8)]
        cpus: u32,
        #[arg(long, default_value_t = trace_model::synthetic::SyntheticSpec::default().seed)]
        seed: u64,
        /// Output file (tracefs `trace` format).
        #[arg(long)]
        out: PathBuf,
    },
    /// Context stack, preempt depth, irq / BH state and locks held on each CPU at one time.
    Context {
        file: PathBuf,
        /// Trace time in seconds, as the trace prints it.
        #[arg(long)]
        at: f64,
        /// Only this CPU.
        #[arg(long)]
        cpu: Option<u32>,
        /// kallsyms text (`address type name [module]`) naming lock addresses.
        #[arg(long)]
        kallsyms: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
    },
    /// What the trace can and cannot tell, and which checks it supports.
    Coverage {
        file: PathBuf,
        #[arg(long)]
        kallsyms: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
    },
    /// Per lock class: acquisitions, waits, total and longest hold and wait (with where), modes
    /// and contexts: an offline /proc/lock_stat.
    Locks {
        file: PathBuf,
        #[arg(long)]
        kallsyms: Option<PathBuf>,
        /// The lock classes' irq usage and the dependencies between them, as lockdep
        /// derives them (its `/proc/lockdep`, offline).
        #[arg(long)]
        deps: bool,
        #[arg(long, value_enum, default_value_t)]
        sort: locks::LockSort,
        /// Only the first N classes.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
    },
    /// Findings new in NEW, fixed since OLD and unchanged between two traces, by stable id;
    /// exit status 1 when a new violation appears.
    Diff(diff::DiffArgs),
    /// Every irqs-off, preempt-off and BH-off section, interrupt and wakeup latency, with
    /// where each began and ended: the kernel's irqsoff / preemptoff / wakeup tracers offline,
    /// and a CI gate on the longest (`--fail-above irqsoff=100us`).
    Latency(latency::LatencyArgs),
    /// The kernel's own reports (lockdep, might_sleep, RCU stalls...) in a console / serial
    /// log, or the interrupt counts by vector of a QEMU `-d int` log.
    Splats {
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
        file: PathBuf,
    },
    /// SQL over the trace tables (events, intervals, lock holds, findings...) of one or more
    /// traces: `kctx query "SELECT kind, count(*) FROM findings GROUP BY kind" trace.dat`.
    Query(query::QueryArgs),
    /// Writes the trace tables as a Parquet / CSV dataset for DuckDB, Spark or polars.
    Export(export::ExportArgs),
    /// The cache of imported traces (big traces are reopened from it): where it is, what it
    /// holds, `clear` to empty it.
    Cache {
        #[command(subcommand)]
        action: Option<cache::CacheAction>,
    },
}

/// Tells the user, on stderr, what went wrong with the cache: a damaged entry rebuilt, a
/// store not written. What went right (read back, written) is not worth a line.
fn tell_cache(command: &str, events: &[(String, CacheEvent)]) {
    let who = if command.is_empty() {
        "kctx".to_owned()
    } else {
        format!("kctx {command}")
    };
    for (name, event) in events.iter().filter(|(_, e)| e.is_problem()) {
        eprintln!("{who}: {name}: {event}");
    }
}

/// Runs a subcommand, with imported traces read from and written to `cache` when given;
/// returns the process exit code.
pub fn run(command: Command, cache: Option<&TraceCache>) -> anyhow::Result<u8> {
    match command {
        Command::Check(args) => check::run(&args, cache),
        Command::Stats { format, files } => stats::run(&files, format, cache),
        Command::Generate {
            events,
            cpus,
            seed,
            out,
        } => generate::run(events, cpus, seed, &out),
        Command::Context {
            file,
            at,
            cpu,
            kallsyms,
            format,
        } => context::run(&file, at, cpu, kallsyms.as_deref(), format, cache),
        Command::Coverage {
            file,
            kallsyms,
            format,
        } => coverage::run(&file, kallsyms.as_deref(), format, cache),
        Command::Locks {
            file,
            kallsyms,
            deps,
            sort,
            top,
            format,
        } => locks::run(&file, kallsyms.as_deref(), deps, sort, top, format, cache),
        Command::Latency(args) => latency::run(&args, cache),
        Command::Diff(args) => diff::run(&args, cache),
        Command::Splats { format, file } => splats::run(&file, format),
        Command::Query(args) => query::run(&args, cache),
        Command::Export(args) => export::run(&args, cache),
        Command::Cache { action } => cache::run(action.unwrap_or_default(), cache),
    }
}
