//! `kctx check --console FILE`: the kernel's own splats next to kctx's findings, linked, with
//! the disagreements both ways.

use super::splats::{SplatsOutput, load};
use anyhow::bail;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use trace_model::context::ContextModel;
use trace_model::correlate::{CorrelateOptions, MatchedOn, correlate};
use trace_model::splat::Splat;
use trace_model::splat_context::{SplatContextCheck, check_splat_context};
use trace_model::{EventStore, Finding};

/// The console part of `kctx check`'s output.
#[derive(Clone, Debug, Serialize)]
pub struct ConsoleCheck {
    pub console: PathBuf,
    /// Console and trace times were compared (trace clock `local` / `global` or unknown).
    pub time_compared: bool,
    pub links: Vec<ConsoleLink>,
    /// Kernel reported, kctx did not find.
    pub kernel_only: Vec<SplatSummary>,
    /// kctx found what the kernel never reported (ids of findings).
    pub kctx_only: Vec<String>,
    /// The context each splat printed, checked against each trace's reconstruction.
    pub context: Vec<ContextCheck>,
}

/// One splat's printed context against one trace.
#[derive(Clone, Debug, Serialize)]
pub struct ContextCheck {
    pub input: String,
    pub splat: SplatSummary,
    #[serde(flatten)]
    pub check: SplatContextCheck,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConsoleLink {
    pub splat: SplatSummary,
    pub finding: String,
    pub matched_on: Vec<MatchedOn>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_delta_s: Option<f64>,
}

/// A splat in one line's worth of facts.
#[derive(Clone, Debug, Serialize)]
pub struct SplatSummary {
    pub kind: &'static str,
    pub console_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culprit: Option<String>,
}

impl SplatSummary {
    fn of(splat: &Splat) -> Self {
        SplatSummary {
            kind: splat.kind.name(),
            console_line: splat.console_line,
            console_ts: splat.console_ts,
            task: splat.task.clone(),
            pid: splat.pid,
            culprit: splat.culprit.clone(),
        }
    }
}

/// Console stamps share the trace's time base only for the `local` / `global` clocks (both
/// guest `sched_clock`); with no recorded clock the default (`local`) is assumed.
pub fn shares_console_time_base(trace_clock: Option<&str>) -> bool {
    trace_clock.is_none_or(|c| matches!(c, "local" | "global"))
}

/// A console log's splats, read before the traces so that each trace can be checked
/// against them while it is loaded.
pub struct Console {
    path: PathBuf,
    splats: Vec<Splat>,
}

impl Console {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let SplatsOutput::Console { splats } = load(path)? else {
            bail!("{}: a QEMU log, not a console log", path.display());
        };
        Ok(Console {
            path: path.to_owned(),
            splats,
        })
    }

    /// Compares the context each splat printed with the reconstruction of the trace `input`.
    pub fn check_context(
        &self,
        input: &str,
        store: &EventStore,
        model: &ContextModel,
    ) -> Vec<ContextCheck> {
        let same_clock = shares_console_time_base(store.meta.clock.as_deref());
        self.splats
            .iter()
            .filter_map(|splat| {
                let check = check_splat_context(splat, store, model, same_clock)?;
                Some(ContextCheck {
                    input: input.to_owned(),
                    splat: SplatSummary::of(splat),
                    check,
                })
            })
            .collect()
    }

    /// Links the splats to `findings`; `context` is what [`Console::check_context`] gave.
    pub fn check(
        &self,
        findings: &[Finding],
        trace_clock: Option<&str>,
        context: Vec<ContextCheck>,
    ) -> ConsoleCheck {
        let splats = &self.splats;
        let time_compared = shares_console_time_base(trace_clock);
        let options = CorrelateOptions {
            use_time: time_compared,
            ..CorrelateOptions::default()
        };
        let result = correlate(splats, findings, &options);
        ConsoleCheck {
            console: self.path.clone(),
            time_compared,
            links: result
                .links
                .iter()
                .map(|l| ConsoleLink {
                    splat: SplatSummary::of(&splats[l.splat]),
                    finding: findings[l.finding].id.clone(),
                    matched_on: l.matched_on.clone(),
                    time_delta_s: l.time_delta_s,
                })
                .collect(),
            kernel_only: result
                .kernel_only
                .iter()
                .map(|&i| SplatSummary::of(&splats[i]))
                .collect(),
            kctx_only: result
                .kctx_only
                .iter()
                .map(|&i| findings[i].id.clone())
                .collect(),
            context,
        }
    }
}

pub fn render_text(check: &ConsoleCheck) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "console {}: {} linked, {} reported by the kernel only, {} found by kctx only{}",
        check.console.display(),
        check.links.len(),
        check.kernel_only.len(),
        check.kctx_only.len(),
        if check.time_compared {
            ""
        } else {
            " (times not compared: trace clock differs)"
        }
    );
    for link in &check.links {
        let _ = writeln!(
            out,
            "  linked   {} -> {}",
            splat_text(&link.splat),
            link.finding
        );
    }
    for splat in &check.kernel_only {
        let _ = writeln!(
            out,
            "  kernel reported, kctx did not find: {}",
            splat_text(splat)
        );
    }
    for id in &check.kctx_only {
        let _ = writeln!(out, "  kctx found what the kernel never reported: {id}");
    }
    render_context(&mut out, &check.context);
    out
}

/// The printed-context comparisons: a count line, then one line per splat.
fn render_context(out: &mut String, checks: &[ContextCheck]) {
    if checks.is_empty() {
        return;
    }
    let compared = checks
        .iter()
        .filter(|c| matches!(c.check, SplatContextCheck::Compared { .. }))
        .count();
    let disagree = checks.iter().filter(|c| c.check.disagrees()).count();
    let _ = writeln!(
        out,
        "context printed by the kernel vs kctx's reconstruction: {compared} compared, {} agree, {disagree} disagree, {} not comparable",
        compared - disagree,
        checks.len() - compared
    );
    for c in checks {
        let _ = write!(out, "  {} in {}: ", splat_text(&c.splat), c.input);
        match &c.check {
            SplatContextCheck::Compared { cpu, facts, .. } => {
                let verdict = if c.check.disagrees() {
                    "DISAGREES"
                } else {
                    "agrees"
                };
                let facts: Vec<String> = facts
                    .iter()
                    .map(|f| {
                        if f.agrees {
                            format!("{} {}", f.fact.name(), f.kernel)
                        } else {
                            format!("{}: kernel {}, kctx {}", f.fact.name(), f.kernel, f.kctx)
                        }
                    })
                    .collect();
                let _ = writeln!(out, "CPU {cpu} {verdict} ({})", facts.join("; "));
            }
            SplatContextCheck::NotCompared { reason } => {
                let _ = writeln!(out, "not compared: {}", reason.describe());
            }
        }
    }
}

fn splat_text(splat: &SplatSummary) -> String {
    let mut text = format!("{} (line {}", splat.kind, splat.console_line);
    if let Some(ts) = splat.console_ts {
        let _ = write!(text, ", {ts:.6} s");
    }
    if let (Some(task), Some(pid)) = (&splat.task, splat.pid) {
        let _ = write!(text, ", {task}/{pid}");
    }
    if let Some(culprit) = &splat.culprit {
        let _ = write!(text, ", in {culprit}");
    }
    text.push(')');
    text
}
