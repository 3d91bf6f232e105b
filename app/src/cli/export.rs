//! `kctx export --out DIR TRACE...`: the trace tables (docs/tables.md) as a Parquet or CSV
//! dataset, `DIR/<table>/trace=<id>/part-0.parquet`, that DuckDB, Spark or polars read with
//! one glob.

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Instant;
use tables::Table;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// zstd-compressed Parquet, row groups of 1 Mi rows.
    #[default]
    Parquet,
    Csv,
}

/// `kctx export` arguments.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Layout: DIR/<table>/trace=<id>/part-0.parquet, one file per table \
per input (a trace lacks `splats`, a console log has only `traces` and `splats`). The id is \
`t` and 16 hex digits of a hash of the file's size and its first and last 64 KiB: the same file \
always lands in the same partition, and exporting it again replaces its files. Each file is \
written under a temporary name and renamed when complete.

DuckDB: SELECT kind, count(*) FROM 'DIR/findings/*/*.parquet' GROUP BY kind

Exit status: 0 written; 2 an unreadable input or an unwritable output directory."
)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: ExportFormat,
    /// Only these tables (comma-separated; default: all).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub tables: Vec<String>,
    /// The dataset directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// kallsyms-format symbols naming lock addresses the trace does not name.
    #[arg(long, value_name = "FILE")]
    pub kallsyms: Option<PathBuf>,
    /// Traces (ftrace text, trace.dat) and console logs; gzip is read transparently.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

fn parse_tables(names: &[String]) -> anyhow::Result<Vec<Table>> {
    if names.is_empty() {
        return Ok(Table::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            Table::from_name(n.trim()).with_context(|| {
                let all: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
                format!(
                    "--tables: no table named `{n}` (tables: {})",
                    all.join(", ")
                )
            })
        })
        .collect()
}

/// `kctx export ...`
pub fn run(args: &ExportArgs, cache: Option<&analysis::TraceCache>) -> anyhow::Result<u8> {
    let tables = parse_tables(&args.tables)?;
    let format = match args.format {
        ExportFormat::Parquet => tables::ExportFormat::Parquet,
        ExportFormat::Csv => tables::ExportFormat::Csv,
    };
    // Every input must open before anything is written.
    for path in &args.inputs {
        std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
    }
    let export = tables::Export::new(&args.out, format, tables)?;
    let with_findings = export.tables().iter().any(|t| t.needs_findings());
    let started = Instant::now();
    let (mut files, mut rows) = (0usize, 0usize);
    let total = args.inputs.len();
    let mut n = 0;
    super::table_inputs::for_each(
        &args.inputs,
        args.kallsyms.as_deref(),
        with_findings,
        cache,
        &mut |input| {
            n += 1;
            eprintln!(
                "kctx export: [{n}/{total}] {} (trace={}) loaded at {:.1} s",
                input.path(),
                input.id(),
                started.elapsed().as_secs_f64()
            );
            let written = export.add(input, &mut |what| eprintln!("kctx export:   {what}"))?;
            files += written.len();
            rows += written.iter().map(|w| w.rows).sum::<usize>();
            Ok(())
        },
    )?;
    eprintln!(
        "kctx export: {files} files, {rows} rows written to {} in {:.1} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}
