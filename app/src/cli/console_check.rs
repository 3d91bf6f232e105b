//! `kctx check --console FILE`: the kernel's own splats next to kctx's findings, linked, with
//! the disagreements both ways.

use super::splats::{SplatsOutput, load};
use anyhow::bail;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use trace_model::Finding;
use trace_model::correlate::{CorrelateOptions, MatchedOn, correlate};
use trace_model::splat::Splat;

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
            culprit: splat.culprit_frame().map(|f| f.function.clone()),
        }
    }
}

/// Console stamps share the trace's time base only for the `local` / `global` clocks (both
/// guest `sched_clock`); with no recorded clock the default (`local`) is assumed.
pub fn shares_console_time_base(trace_clock: Option<&str>) -> bool {
    trace_clock.is_none_or(|c| matches!(c, "local" | "global"))
}

/// Reads the console log at `path` and links its splats to `findings`.
pub fn check_console(
    path: &Path,
    findings: &[Finding],
    trace_clock: Option<&str>,
) -> anyhow::Result<ConsoleCheck> {
    let SplatsOutput::Console { splats } = load(path)? else {
        bail!("{}: a QEMU log, not a console log", path.display());
    };
    let time_compared = shares_console_time_base(trace_clock);
    let options = CorrelateOptions {
        use_time: time_compared,
        ..CorrelateOptions::default()
    };
    let result = correlate(&splats, findings, &options);
    Ok(ConsoleCheck {
        console: path.to_owned(),
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
    })
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
    out
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
