//! The plain-text report: a verdict line, the inputs, then each finding with its evidence.

use analysis::Report;
use analysis::report::ReportedFinding;
use std::fmt::Write as _;
use trace_model::seconds;

/// `task-pid on CPU n`, as far as the finding says.
pub fn place(f: &ReportedFinding) -> String {
    let f = &f.finding;
    let mut s = match (&f.task, f.pid) {
        (Some(t), Some(p)) => trace_model::CommPid(t, p).to_string(),
        (Some(t), None) => t.clone(),
        (None, Some(p)) => format!("pid {p}"),
        (None, None) => String::new(),
    };
    if let Some(cpu) = f.cpu {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = write!(s, "CPU {cpu}");
    }
    s
}

/// Findings the trace cannot decide are shown apart from the violations, after them, under
/// this heading; each says what to record to decide.
pub const UNDECIDED: &str =
    "Undecided: this trace cannot tell whether these are violations; each says what to record";

fn is_undecided(rf: &ReportedFinding) -> bool {
    rf.finding.confidence == trace_model::Confidence::Unverifiable
}

/// The findings with their number in the report: violations first, then the undecided ones,
/// the first of which comes with `true` (where the [`UNDECIDED`] heading goes).
pub fn violations_then_undecided(
    report: &Report,
) -> impl Iterator<Item = (usize, &ReportedFinding, bool)> {
    let all = || report.findings.iter().enumerate();
    let violations = all().filter(|(_, rf)| !is_undecided(rf));
    let undecided = all().filter(|(_, rf)| is_undecided(rf));
    violations
        .map(|(n, rf)| (n, rf, false))
        .chain(undecided.enumerate().map(|(k, (n, rf))| (n, rf, k == 0)))
}

/// One line: how many findings of each confidence, what was hidden, the exit status.
pub fn verdict(report: &Report) -> String {
    let count = |c: trace_model::Confidence| {
        report
            .findings
            .iter()
            .filter(|f| f.finding.confidence == c)
            .count()
    };
    use trace_model::Confidence::*;
    format!(
        "{} ({} definite, {} probable, {} unverifiable); {} hidden by the allowlist; \
         exit status {}",
        crate::units::counted(report.findings.len() as u64, "finding"),
        count(Definite),
        count(Probable),
        count(Unverifiable),
        report.suppressed,
        report.exit_code
    )
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "kctx check: {}", verdict(report));
    for input in &report.inputs {
        match &input.error {
            Some(e) => {
                let _ = writeln!(w, "  input {}: UNREADABLE: {e}", input.path);
            }
            None => {
                let _ = writeln!(w, "  input {}: {} events", input.path, input.events);
            }
        }
    }
    for why in &report.impossible {
        let _ = writeln!(w, "  required check impossible: {why}");
    }
    for s in report.suppressed_by.iter().filter(|s| s.hidden > 0) {
        let _ = writeln!(
            w,
            "  allowlist line {} `{}` hid {}",
            s.line, s.rule, s.hidden
        );
    }
    for (n, rf, undecided_start) in violations_then_undecided(report) {
        let f = &rf.finding;
        if undecided_start {
            let _ = writeln!(w, "\n{UNDECIDED}:");
        }
        let _ = writeln!(
            w,
            "\n#{} [{}] {} x{}  {:.6} .. {:.6}  {}\n   id: {}\n   input: {}",
            n + 1,
            f.confidence.name(),
            f.kind.name(),
            f.count,
            seconds(f.ts[0]),
            seconds(f.ts[1]),
            place(rf),
            f.id,
            rf.input
        );
        if !f.locks.is_empty() {
            let _ = writeln!(w, "   locks: {}", f.locks.join(", "));
        }
        if !f.functions.is_empty() {
            let _ = writeln!(w, "   functions: {}", f.functions.join(", "));
        }
        let _ = writeln!(w, "   {}", f.summary);
        for e in &f.evidence {
            let _ = writeln!(w, "     {}", trace_model::explain::evidence_line(e));
        }
    }
    if let Some(console) = &report.console {
        let _ = write!(w, "\n{}", super::console::render_text(console));
    }
    out
}
