//! `kctx check`: the headless gate. Imports each input, rebuilds its context, runs every
//! detector, hides allowlisted findings and writes one report.
//!
//! Exit status: 0 no violation; 1 a definite or probable violation; 2 an input could not be
//! read or a required check is impossible on it (the report and stderr say which).

pub use crate::report::{ReportFormat, render};
pub use analysis::Allowlist;

use super::output;
use analysis::allow::baseline;
use analysis::{Inputs, NamedSource, Options, Report, TraceCache, TraceInput, analyze};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use trace_model::Finding;

/// A check the gate can require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RequiredCheck {
    SleepInAtomic,
    LockOrder,
    IrqInversion,
}

impl From<RequiredCheck> for analysis::RequiredCheck {
    fn from(check: RequiredCheck) -> Self {
        match check {
            RequiredCheck::SleepInAtomic => analysis::RequiredCheck::SleepInAtomic,
            RequiredCheck::LockOrder => analysis::RequiredCheck::LockOrder,
            RequiredCheck::IrqInversion => analysis::RequiredCheck::IrqInversion,
        }
    }
}

const ALLOWLIST_HELP: &str = "\
Exit status: 0 no violation, 1 a definite or probable violation (unverifiable findings are
reported but do not fail), 2 an input is unreadable or a required check is impossible on it.

Allowlist file (--allow): one rule per line; `#` starts a comment. A rule is one or more
whitespace-separated terms, all of which must match a finding:
  ID-GLOB               the finding id, e.g. lock-order-cycle:mutex_a>mutex_b>mutex_a
  id=GLOB               the same, explicitly
  kind=GLOB             sleep-in-atomic | lock-order-cycle | irq-inversion
  function=GLOB         any function the finding names
  lock=GLOB             any lock class the finding names
  confidence=GLOB       definite | probable | unverifiable
Globs: `*`, `?`, `[abc]`, `{a,b}`. Example:
  irq-inversion:softirq>*          # every softirq inconsistency
  kind=lock-order-cycle lock=&rq->__lock
Ids are built from the kind and the lock classes (or call site), so they survive
re-recording. The report says how many findings each rule hid.
`--write-allowlist FILE` writes one `id=` rule per finding of the run: a baseline for
adopting kctx on a tree with known issues, so that CI fails only on new findings.";

/// `kctx check` arguments.
#[derive(Debug, Args)]
#[command(after_long_help = ALLOWLIST_HELP)]
pub struct CheckArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Allowlist of known findings (format: `kctx check --help`).
    #[arg(long, value_name = "FILE")]
    pub allow: Option<PathBuf>,
    /// kallsyms-format symbols naming lock addresses the trace does not name.
    #[arg(long, value_name = "FILE")]
    pub kallsyms: Option<PathBuf>,
    /// Kernel console / serial log of the same boot: link its splats (lockdep, might_sleep,
    /// scheduling while atomic) to the findings and report where they disagree.
    #[arg(long, value_name = "FILE")]
    pub console: Option<PathBuf>,
    /// Write an allowlist hiding every finding of this run (a baseline: later runs with
    /// `--allow FILE` fail only on new findings).
    #[arg(long, value_name = "FILE")]
    pub write_allowlist: Option<PathBuf>,
    /// Checks that must be possible on every input (default: all three).
    #[arg(long = "require", value_enum, value_name = "CHECK")]
    pub required: Vec<RequiredCheck>,
    /// Trace files (ftrace text, trace.dat; gzip is read transparently).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// Checks every input and builds the report (no output written).
pub fn check(args: &CheckArgs, cache: Option<&TraceCache>) -> anyhow::Result<Report> {
    let inputs = Inputs {
        traces: args.inputs.iter().map(|p| TraceInput::path(p)).collect(),
        kallsyms: args
            .kallsyms
            .iter()
            .map(|p| NamedSource::open(p))
            .collect::<anyhow::Result<_>>()?,
        consoles: args
            .console
            .iter()
            .map(|p| NamedSource::open(p))
            .collect::<anyhow::Result<_>>()?,
        options: Options {
            allow: args.allow.as_deref().map(Allowlist::read).transpose()?,
            required: args.required.iter().map(|&r| r.into()).collect(),
            context_only: false,
            retain: false,
            cache: cache.cloned(),
        },
    };
    let analysis = analyze(inputs, &|_| {})?;
    super::tell_cache("check", &analysis.cache);
    if let Some(path) = &args.write_allowlist {
        let findings: Vec<&Finding> = analysis.findings.iter().collect();
        std::fs::write(path, baseline(&findings))
            .with_context(|| format!("{}: cannot write the allowlist", path.display()))?;
    }
    Ok(analysis.report)
}

/// `kctx check ...`
pub fn run(args: &CheckArgs, cache: Option<&TraceCache>) -> anyhow::Result<u8> {
    let report = check(args, cache)?;
    let out = render(&report, args.format)?;
    match &args.out {
        Some(path) => std::fs::write(path, out)
            .with_context(|| format!("{}: cannot write the report", path.display()))?,
        None => output::emit(&out)?,
    }
    for input in &report.inputs {
        if let Some(e) = &input.error {
            eprintln!("kctx check: unreadable input: {e}");
        }
        for w in &input.warnings {
            eprintln!("kctx check: {}: warning: {w}", input.path);
        }
    }
    for why in &report.impossible {
        eprintln!("kctx check: required check impossible: {why}");
    }
    Ok(report.exit_code)
}
