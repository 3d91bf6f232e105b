//! The console section of a report in text: links, the disagreements both ways, and the
//! printed-context comparisons.

use analysis::ConsoleCheck;
use analysis::console::{ContextCheck, SplatSummary};
use std::fmt::Write as _;
use trace_model::splat_context::SplatContextCheck;

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
