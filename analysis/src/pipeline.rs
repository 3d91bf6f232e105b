//! The pipeline: each trace imported, its context rebuilt and every detector run; the console
//! logs' splats linked to the findings; the report assembled.

use crate::console::ContextCheck;
use crate::import::{CacheEvent, ImportedTrace, import_trace};
use crate::report::{InputSummary, ReportedFinding, Suppression};
use crate::{Console, Inputs, Report, RequiredCheck, TraceInput, counted, sidecar};
use trace_model::context::coverage::CheckLevel;
use trace_model::context::{BuildOptions, ContextModel};
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
    pub store: EventStore,
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
        let mut imported = match import_trace(&name, source, cache) {
            Ok(imported) => imported,
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
        progress(Stage::RebuildingContext);
        let context = imported.while_caching(cache, |store| ContextModel::build(store, &build));
        let ImportedTrace {
            store,
            cache: events,
            ..
        } = imported;
        cache_events.extend(events.into_iter().map(|e| (name.clone(), e)));
        for c in &context.coverage.checks {
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
        progress(Stage::Checking);
        if let Some(console) = linked {
            context_checks.extend(console.check_context(&name, &store, &context));
        }
        let findings = if options.context_only {
            Vec::new()
        } else {
            trace_model::detect::run_all(&store, &context)
        };
        for finding in &findings {
            match allow.and_then(|a| a.matching_rule(finding)) {
                Some(rule) => {
                    hidden_by_rule[rule] += 1;
                    report.suppressed += 1;
                }
                None => report.findings.push(ReportedFinding {
                    input: name.clone(),
                    finding: finding.clone(),
                }),
            }
        }
        report.inputs.push(InputSummary {
            path: name.clone(),
            events: store.len() as u64,
            error: None,
            warnings: store.report.warning_lines(),
        });
        report
            .coverage
            .insert(name.clone(), context.coverage.clone());
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
