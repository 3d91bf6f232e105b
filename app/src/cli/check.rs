//! `kctx check`: the headless gate. Imports each input, rebuilds its context, runs every
//! detector, hides allowlisted findings and writes one report.
//!
//! Exit status: 0 no violation; 1 a definite or probable violation; 2 an input could not be
//! read or a required check is impossible on it (the report and stderr say which).

mod allow;
mod html;
mod markdown;
mod sarif;
mod text;

pub use allow::Allowlist;

use super::console_check::{Console, ConsoleCheck};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trace_model::context::coverage::CheckLevel;
use trace_model::context::{BuildOptions, ContextModel, Coverage, Sidecar};
use trace_model::{Confidence, EventStore, Finding, ImportReport};

/// Report formats of `kctx check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
    Sarif,
    Markdown,
    Html,
}

/// A check the gate can require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RequiredCheck {
    SleepInAtomic,
    LockOrder,
    IrqInversion,
}

impl RequiredCheck {
    /// The name the coverage uses.
    fn coverage_name(self) -> &'static str {
        match self {
            RequiredCheck::SleepInAtomic => "sleep-in-atomic",
            RequiredCheck::LockOrder => "lock-order",
            RequiredCheck::IrqInversion => "irq-inversion",
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

/// One input as the report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct InputSummary {
    pub path: String,
    pub events: u64,
    /// Why it could not be read.
    pub error: Option<String>,
    /// What the import noticed and worked around, one line per kind.
    pub warnings: Vec<String>,
}

/// A finding and the input it was found in.
#[derive(Clone, Debug, Serialize)]
pub struct ReportedFinding {
    pub input: String,
    #[serde(flatten)]
    pub finding: Finding,
}

/// How many findings one allowlist rule hid.
#[derive(Clone, Debug, Serialize)]
pub struct Suppression {
    pub rule: String,
    pub line: usize,
    pub hidden: u64,
}

/// The whole report: what `--format json` prints, and what every other format renders.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub inputs: Vec<InputSummary>,
    /// What each readable input can tell, by input path.
    pub coverage: BTreeMap<String, Coverage>,
    pub findings: Vec<ReportedFinding>,
    /// Findings the allowlist hid, in all.
    pub suppressed: u64,
    pub suppressed_by: Vec<Suppression>,
    /// Required checks that are impossible: `input: check: reasons`.
    pub impossible: Vec<String>,
    /// The console log's splats linked to the findings (`--console`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<ConsoleCheck>,
    pub exit_code: u8,
}

/// Reads a trace and rebuilds its context model.
pub fn load(path: &Path, opts: &BuildOptions) -> anyhow::Result<(EventStore, ContextModel)> {
    let store = importers::open(path)?;
    let model = ContextModel::build(&store, opts);
    Ok((store, model))
}

/// Reads a `--kallsyms` sidecar.
pub fn read_sidecar(path: &Path) -> anyhow::Result<Sidecar> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read kallsyms", path.display()))?;
    let mut strings = trace_model::Interner::default();
    let symbols = importers::kallsyms::parse(&text, &mut strings, &mut ImportReport::default());
    if symbols.is_empty() {
        anyhow::bail!("{}: no `address type name` line", path.display());
    }
    Ok(Sidecar { symbols, strings })
}

/// Checks every input and builds the report (no output written).
pub fn check(args: &CheckArgs) -> anyhow::Result<Report> {
    let allow = args.allow.as_deref().map(Allowlist::read).transpose()?;
    let opts = BuildOptions {
        kallsyms: args.kallsyms.as_deref().map(read_sidecar).transpose()?,
    };
    let required: Vec<RequiredCheck> = if args.required.is_empty() {
        RequiredCheck::value_variants().to_vec()
    } else {
        args.required.clone()
    };
    let mut report = Report {
        inputs: Vec::new(),
        coverage: BTreeMap::new(),
        findings: Vec::new(),
        suppressed: 0,
        suppressed_by: Vec::new(),
        impossible: Vec::new(),
        console: None,
        exit_code: 0,
    };
    let console = args.console.as_deref().map(Console::read).transpose()?;
    let mut context_checks = Vec::new();
    // Every finding, allowlisted ones included: a splat the allowlist hides is still explained.
    let mut all_findings: Vec<Finding> = Vec::new();
    let mut trace_clock: Option<String> = None;
    let mut hidden_by_rule = vec![0u64; allow.as_ref().map_or(0, Allowlist::len)];
    for path in &args.inputs {
        let name = path.display().to_string();
        let (store, model) = match load(path, &opts) {
            Ok(loaded) => loaded,
            Err(e) => {
                report.inputs.push(InputSummary {
                    path: name,
                    events: 0,
                    error: Some(e.to_string()),
                    warnings: Vec::new(),
                });
                continue;
            }
        };
        for c in &model.coverage.checks {
            let is_required = required.iter().any(|r| r.coverage_name() == c.check);
            if is_required && c.level == CheckLevel::Impossible {
                report.impossible.push(format!(
                    "{name}: {} impossible: {}",
                    c.check,
                    c.reasons.join("; ")
                ));
            }
        }
        trace_clock = trace_clock.or_else(|| store.meta.clock.clone());
        if let Some(console) = &console {
            context_checks.extend(console.check_context(&name, &store, &model));
        }
        for finding in trace_model::detect::run_all(&store, &model) {
            if console.is_some() || args.write_allowlist.is_some() {
                all_findings.push(finding.clone());
            }
            match allow.as_ref().and_then(|a| a.matching_rule(&finding)) {
                Some(rule) => {
                    hidden_by_rule[rule] += 1;
                    report.suppressed += 1;
                }
                None => report.findings.push(ReportedFinding {
                    input: name.clone(),
                    finding,
                }),
            }
        }
        report.inputs.push(InputSummary {
            path: name.clone(),
            events: store.len() as u64,
            error: None,
            warnings: store.report.warning_lines(),
        });
        report.coverage.insert(name, model.coverage);
    }
    if let Some(allow) = &allow {
        report.suppressed_by = allow
            .rules()
            .zip(hidden_by_rule)
            .map(|((line, rule), hidden)| Suppression {
                rule: rule.to_owned(),
                line,
                hidden,
            })
            .collect();
    }
    if let Some(path) = &args.write_allowlist {
        let findings: Vec<&Finding> = all_findings.iter().collect();
        std::fs::write(path, allow::baseline(&findings))
            .with_context(|| format!("{}: cannot write the allowlist", path.display()))?;
    }
    report.console =
        console.map(|console| console.check(&all_findings, trace_clock.as_deref(), context_checks));
    report.exit_code = exit_code(&report);
    Ok(report)
}

fn exit_code(report: &Report) -> u8 {
    let unreadable = report.inputs.iter().any(|i| i.error.is_some());
    if unreadable || !report.impossible.is_empty() {
        2
    } else if report.findings.iter().any(|f| is_violation(&f.finding)) {
        1
    } else {
        0
    }
}

/// Definite and probable findings fail the gate; unverifiable ones only inform.
pub fn is_violation(f: &Finding) -> bool {
    f.confidence != Confidence::Unverifiable
}

/// Renders the report in `format`.
pub fn render(report: &Report, format: ReportFormat) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Text => text::render(report),
        ReportFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        ReportFormat::Sarif => serde_json::to_string_pretty(&sarif::render(report))? + "\n",
        ReportFormat::Markdown => markdown::render(report),
        ReportFormat::Html => html::render(report),
    })
}

/// `kctx check ...`
pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let report = check(args)?;
    let out = render(&report, args.format)?;
    match &args.out {
        Some(path) => std::fs::write(path, out)
            .with_context(|| format!("{}: cannot write the report", path.display()))?,
        None => print!("{out}"),
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
