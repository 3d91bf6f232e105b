//! The Markdown report: a summary table, then each finding with its explanation and its
//! evidence events.

use super::text::{UNDECIDED, place, verdict, violations_then_undecided};
use analysis::Report;
use std::fmt::Write as _;
use trace_model::seconds;

/// Escapes text for a Markdown table cell or paragraph.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '\\' | '#'
        ) {
            out.push('\\');
        }
        out.push(if c == '\n' { ' ' } else { c });
    }
    out
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# kctx check report\n\n{}\n", md(&verdict(report)));
    let _ = writeln!(w, "## Inputs\n");
    for i in &report.inputs {
        let what = match &i.error {
            Some(e) => format!("**unreadable**: {}", md(e)),
            None => format!("{} events", i.events),
        };
        let _ = writeln!(w, "- `{}`: {what}", i.path.replace('`', "'"));
    }
    for why in &report.impossible {
        let _ = writeln!(w, "- **required check impossible**: {}", md(why));
    }
    for s in report.suppressed_by.iter().filter(|s| s.hidden > 0) {
        let _ = writeln!(
            w,
            "- allowlist line {} (`{}`) hid {}",
            s.line,
            s.rule.replace('`', "'"),
            s.hidden
        );
    }
    if report.findings.is_empty() {
        let _ = writeln!(w, "\nNo findings.");
        write_console(w, report);
        return out;
    }
    let _ = writeln!(
        w,
        "\n## Summary\n\n| # | kind | confidence | count | where | first time (s) | locks |\n|---|---|---|---|---|---|---|"
    );
    for (n, rf) in report.findings.iter().enumerate() {
        let f = &rf.finding;
        let _ = writeln!(
            w,
            "| [{}](#finding-{}) | {} | {} | {} | {} | {:.6} | {} |",
            n + 1,
            n + 1,
            f.kind.name(),
            f.confidence.name(),
            f.count,
            md(&place(rf)),
            seconds(f.ts[0]),
            md(&f.locks.join(", "))
        );
    }
    for (n, rf, undecided_start) in violations_then_undecided(report) {
        let f = &rf.finding;
        if undecided_start {
            let _ = writeln!(w, "\n## {UNDECIDED}");
        }
        let _ = writeln!(
            w,
            "\n## Finding {}\n<a id=\"finding-{}\"></a>\n\n**{}**, {}, seen {} between {:.6} and {:.6} s in `{}`.\n\n{}\n",
            n + 1,
            n + 1,
            f.kind.name(),
            f.confidence.name(),
            crate::units::counted(f.count, "time"),
            seconds(f.ts[0]),
            seconds(f.ts[1]),
            rf.input.replace('`', "'"),
            md(&f.summary)
        );
        let _ = writeln!(w, "- id: `{}`", f.id.replace('`', "'"));
        if !f.locks.is_empty() {
            let _ = writeln!(w, "- locks: {}", md(&f.locks.join(", ")));
        }
        if !f.functions.is_empty() {
            let _ = writeln!(w, "- functions: {}", md(&f.functions.join(", ")));
        }
        let _ = writeln!(
            w,
            "\n| time (s) | CPU | task | event | detail |\n|---|---|---|---|---|"
        );
        for e in &f.evidence {
            let _ = writeln!(
                w,
                "| {:.6} | {} | {} | {} | {} |",
                seconds(e.ts),
                e.cpu,
                md(&e.task),
                md(&e.event),
                md(&e.detail)
            );
        }
    }
    write_console(w, report);
    out
}

/// The `--console` links and disagreements: plain text (names, times, paths), verbatim in a
/// code block.
fn write_console(w: &mut String, report: &Report) {
    if let Some(console) = &report.console {
        let text = super::console::render_text(console);
        let _ = write!(w, "\n## Kernel console\n\n```text\n{text}```\n");
    }
}
