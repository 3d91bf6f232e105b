//! The pipeline: each trace imported, its context rebuilt and every detector run; the console
//! logs' splats linked to the findings; the report assembled.

use crate::console::ContextCheck;
use crate::import::{CacheEvent, ImportedTrace, import_trace};
use crate::inputs::TraceSource;
use crate::report::{InputSummary, ReportedFinding, Suppression};
use crate::{Console, Inputs, Report, RequiredCheck, TraceInput, counted, sidecar};
use std::ops::ControlFlow;
use std::sync::Arc;
use trace_cache::{CheckEntry, Derived, TraceCache};
use trace_model::context::coverage::CheckLevel;
use trace_model::context::{BuildOptions, ContextModel, Coverage};
use trace_model::splat::Splat;
use trace_model::{EventStore, Finding};

/// The stages of an analysis, in order, as told to a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Importing,
    RebuildingContext,
    Checking,
}

/// One trace analysed.
pub struct TraceAnalysis {
    pub name: String,
    pub store: Arc<EventStore>,
    /// Per-CPU context, lock holds, sleep calls, coverage.
    pub context: ContextModel,
    /// Every detector's findings, allowlisted ones included.
    pub findings: Vec<Finding>,
}

/// The result of [`analyze`].
pub struct Analysis {
    /// With [`crate::Options::retain`], the traces that could be read, in input order (the
    /// report names the others).
    pub traces: Vec<TraceAnalysis>,
    /// Every trace's findings, allowlisted ones included.
    pub findings: Vec<Finding>,
    /// The kernel's own reports, from every console log.
    pub splats: Vec<Splat>,
    pub report: Report,
    /// What reading noticed that is not an error: sidecars merged, console logs read.
    pub notes: Vec<String>,
    /// What the cache did, per trace name.
    pub cache: Vec<(String, CacheEvent)>,
}

impl Analysis {
    /// Takes the first trace out, or says why no trace could be read.
    pub fn take_first_trace(&mut self) -> anyhow::Result<TraceAnalysis> {
        if self.traces.is_empty() {
            let why = self.report.inputs.iter().find_map(|i| i.error.clone());
            anyhow::bail!(why.unwrap_or_else(|| "no trace among the inputs".to_owned()));
        }
        Ok(self.traces.remove(0))
    }
}

/// Runs the pipeline on `inputs`; `progress` is told each stage of each trace as it starts.
/// Unreadable sidecars and console logs are errors; an unreadable trace is reported in
/// `report.inputs` and the others are still analysed.
pub fn analyze(inputs: Inputs, progress: &dyn Fn(Stage)) -> anyhow::Result<Analysis> {
    analyze_showing(inputs, progress, &|_, _| ControlFlow::Continue(()))
}

/// [`analyze`], with `imported` given each trace's store (and its name) when its context
/// model must be built, not read from the cache: a window shows the store meanwhile.
/// `imported` breaking stops the analysis there (the user cancelled): an error.
pub fn analyze_showing(
    inputs: Inputs,
    progress: &dyn Fn(Stage),
    imported: &dyn Fn(&str, &Arc<EventStore>) -> ControlFlow<()>,
) -> anyhow::Result<Analysis> {
    let Inputs {
        traces,
        kallsyms,
        consoles,
        options,
    } = inputs;
    if traces.is_empty() {
        // Name each input and what it was read as: "no trace" alone leaves the user guessing
        // which file is wrong.
        let mut what = Vec::new();
        for k in &kallsyms {
            what.push(format!("{}: kallsyms symbols, not a trace", k.name));
        }
        for c in &consoles {
            let splats = importers::console::parse_splats(c.source.bytes()).len();
            what.push(format!(
                "{}: no trace events found (not ftrace text or trace.dat); read as a console \
                 log: {}",
                c.name,
                counted(splats as u64, "kernel report")
            ));
        }
        anyhow::bail!("no trace among the inputs:\n{}", what.join("\n"));
    }
    let mut notes = Vec::new();
    let build = BuildOptions {
        kallsyms: sidecar::read_all(&kallsyms, &mut |n| notes.push(n))?,
    };
    let consoles: Vec<Console> = consoles
        .iter()
        .map(Console::read)
        .collect::<anyhow::Result<_>>()?;
    for c in &consoles {
        notes.push(format!(
            "{}: {}",
            c.name(),
            counted(c.splats().len() as u64, "console splat")
        ));
    }
    // The report links one console log to the findings; the others' splats are shown only.
    let linked = consoles.first();
    for c in consoles.iter().skip(1) {
        notes.push(format!(
            "{}: not linked to the findings (one console log at a time)",
            c.name()
        ));
    }
    let required = if options.required.is_empty() {
        RequiredCheck::ALL.to_vec()
    } else {
        options.required.clone()
    };
    let allow = options.allow.as_ref();
    let mut report = Report::default();
    let mut hidden_by_rule = vec![0u64; allow.map_or(0, |a| a.len())];
    let mut context_checks: Vec<ContextCheck> = Vec::new();
    let mut trace_clock: Option<String> = None;
    let mut analysed = Vec::new();
    let mut all_findings: Vec<Finding> = Vec::new();
    let mut cache_events = Vec::new();
    let cache = options.cache.as_ref();
    for TraceInput { name, source } in traces {
        progress(Stage::Importing);
        // `check` alone needs nothing of a cached trace but its findings: its events are not
        // read at all.
        let quick = !options.retain && !options.context_only && linked.is_none();
        let quick = quick && build.kallsyms.is_none();
        let checked = match (cache, quick) {
            (Some(cache), true) => cached_check(cache, &source, &name, &mut cache_events),
            _ => None,
        };
        if let Some(entry) = checked {
            let summary = &entry.store;
            trace_clock = trace_clock.or_else(|| summary.meta.clock.clone());
            judge(&mut Judged {
                report: &mut report,
                hidden_by_rule: &mut hidden_by_rule,
                required: &required,
                allow,
                name: &name,
                events: summary.events,
                warnings: summary.report.warning_lines(),
                coverage: &entry.findings.coverage,
                findings: &entry.findings.findings,
            });
            all_findings.extend(entry.findings.findings);
            continue;
        }
        let mut trace = match import_trace(&name, source, cache) {
            Ok(trace) => trace,
            Err(error) => {
                report.inputs.push(InputSummary {
                    path: name,
                    events: 0,
                    error: Some(error),
                    warnings: Vec::new(),
                });
                continue;
            }
        };
        let Some((context, findings)) = crate::derived::model_and_findings(
            &mut trace,
            cache,
            &build,
            !options.context_only,
            progress,
            &|store| imported(&name, store),
        ) else {
            anyhow::bail!("{name}: loading cancelled");
        };
        let ImportedTrace {
            store,
            cache: events,
            ..
        } = trace;
        cache_events.extend(events.into_iter().map(|e| (name.clone(), e)));
        trace_clock = trace_clock.or_else(|| store.meta.clock.clone());
        if let Some(console) = linked {
            context_checks.extend(console.check_context(&name, &store, &context));
        }
        judge(&mut Judged {
            report: &mut report,
            hidden_by_rule: &mut hidden_by_rule,
            required: &required,
            allow,
            name: &name,
            events: store.len(),
            warnings: store.report.warning_lines(),
            coverage: &context.coverage,
            findings: &findings,
        });
        if options.retain {
            all_findings.extend(findings.iter().cloned());
            analysed.push(TraceAnalysis {
                name,
                store,
                context,
                findings,
            });
        } else {
            all_findings.extend(findings);
        }
    }
    if let Some(allow) = allow {
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
    // Every finding, allowlisted ones included: a splat the allowlist hides is still explained.
    report.console =
        linked.map(|console| console.check(&all_findings, trace_clock.as_deref(), context_checks));
    report.exit_code = report.judged_exit_code();
    Ok(Analysis {
        traces: analysed,
        findings: all_findings,
        splats: consoles.into_iter().flat_map(|c| c.into_splats()).collect(),
        report,
        notes,
        cache: cache_events,
    })
}

/// The cached findings of a trace file, when the cache holds them for the file as it is; a
/// findings file that failed its checks is told and the trace analysed as usual.
fn cached_check(
    cache: &TraceCache,
    source: &TraceSource,
    name: &str,
    told: &mut Vec<(String, CacheEvent)>,
) -> Option<CheckEntry> {
    let file = match source {
        TraceSource::Path(path) => path,
        TraceSource::Read { file, .. } => file.as_ref()?,
        TraceSource::Store(_) => return None,
    };
    match cache.check_entry(file).ok()? {
        Derived::Hit(entry) => {
            told.push((name.to_owned(), CacheEvent::DerivedHit("findings")));
            Some(entry)
        }
        Derived::Miss => None,
        Derived::Rejected(why) => {
            let event = CacheEvent::DerivedRejected("findings", why.to_string());
            told.push((name.to_owned(), event));
            None
        }
    }
}

/// What one trace adds to the report.
struct Judged<'a> {
    report: &'a mut Report,
    hidden_by_rule: &'a mut [u64],
    required: &'a [RequiredCheck],
    allow: Option<&'a crate::Allowlist>,
    name: &'a str,
    events: usize,
    warnings: Vec<String>,
    coverage: &'a Coverage,
    findings: &'a [Finding],
}

/// Adds one trace to the report: its impossible required checks, its findings (allowlisted
/// ones counted, not shown), its summary and coverage.
fn judge(j: &mut Judged<'_>) {
    let name = j.name;
    for c in &j.coverage.checks {
        let is_required = j.required.iter().any(|r| r.coverage_name() == c.check);
        if is_required && c.level == CheckLevel::Impossible {
            j.report.impossible.push(format!(
                "{name}: {} impossible: {}",
                c.check,
                c.reasons.join("; ")
            ));
        }
    }
    for finding in j.findings {
        match j.allow.and_then(|a| a.matching_rule(finding)) {
            Some(rule) => {
                j.hidden_by_rule[rule] += 1;
                j.report.suppressed += 1;
            }
            None => j.report.findings.push(ReportedFinding {
                input: name.to_owned(),
                finding: finding.clone(),
            }),
        }
    }
    j.report.inputs.push(InputSummary {
        path: name.to_owned(),
        events: j.events as u64,
        error: None,
        warnings: std::mem::take(&mut j.warnings),
    });
    j.report
        .coverage
        .insert(name.to_owned(), j.coverage.clone());
}
