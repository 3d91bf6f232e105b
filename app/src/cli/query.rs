//! `kctx query "SQL" TRACE...`: SQL over the trace tables (docs/tables.md) of one or more
//! traces and console logs.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// Aligned columns, then the row count.
    #[default]
    Table,
    Csv,
    /// An array of one object per row.
    Json,
}

/// `kctx query` arguments.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Tables (docs/tables.md): traces, events, cpu_intervals, \
task_states, lock_holds, lock_deps, sleep_calls, findings, evidence, splats (from console logs \
given as inputs), latency_sections. Every table has a `trace` column: the input's id (see the \
`traces` table). Times are signed 64-bit nanoseconds of the trace clock.

Example: kctx query \"SELECT class, count(*) AS n, sum(hold_ns) AS held FROM lock_holds \
GROUP BY class ORDER BY held DESC LIMIT 10\" trace.dat

Exit status: 0 the query ran; 2 bad SQL, an unknown table or column, or an unreadable input."
)]
pub struct QueryArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: QueryFormat,
    /// kallsyms-format symbols naming lock addresses the trace does not name.
    #[arg(long, value_name = "FILE")]
    pub kallsyms: Option<PathBuf>,
    /// Print to stderr how long loading, building the tables and running the query took (wall
    /// time, and the CPU time of running it).
    #[arg(long)]
    pub timings: bool,
    /// The statement (polars SQL).
    pub sql: String,
    /// Traces (ftrace text, trace.dat) and console logs; gzip is read transparently.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// `kctx query ...`
pub fn run(args: &QueryArgs, cache: Option<&analysis::TraceCache>) -> anyhow::Result<u8> {
    let started = Instant::now();
    let cpu_started = cpu_time();
    let mut query = tables::Query::new(&args.sql)?;
    let with_findings = query.tables().iter().any(|t| t.needs_findings());
    let mut building = Duration::ZERO;
    super::table_inputs::for_each(
        &args.inputs,
        args.kallsyms.as_deref(),
        with_findings,
        cache,
        &mut |input| {
            let t = Instant::now();
            query.add(input)?;
            building += t.elapsed();
            Ok(())
        },
    )?;
    let loading = started.elapsed() - building;
    let (t, cpu) = (Instant::now(), cpu_time());
    let mut result = query.run()?;
    let (running, running_cpu) = (t.elapsed(), cpu_time() - cpu);
    let format = match args.format {
        QueryFormat::Table => tables::OutputFormat::Table,
        QueryFormat::Csv => tables::OutputFormat::Csv,
        QueryFormat::Json => tables::OutputFormat::Json,
    };
    let mut text = Vec::new();
    result.write(format, &mut text)?;
    super::output::emit(&String::from_utf8_lossy(&text))?;
    if args.timings {
        eprintln!(
            "kctx query: load and analyse {:.3} s, build tables {:.3} s, query {:.3} s \
             ({:.3} s CPU), {} rows; {:.3} s CPU in all",
            loading.as_secs_f64(),
            building.as_secs_f64(),
            running.as_secs_f64(),
            running_cpu.as_secs_f64(),
            result.height(),
            (cpu_time() - cpu_started).as_secs_f64(),
        );
    }
    Ok(0)
}

/// CPU time of the whole process, every thread (polars runs a query on a pool).
fn cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
