//! The HTML report: one self-contained page (inline style, no scripts), every piece of trace
//! text escaped.

use super::text::{UNDECIDED, place, verdict, violations_then_undecided};
use analysis::Report;
use std::fmt::Write as _;
use trace_model::seconds;

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;\
text-align:left;vertical-align:top}th{background:#f0f0f0}code{font-size:90%}\
.definite{color:#b00020;font-weight:bold}.probable{color:#c05800;font-weight:bold}\
.unverifiable{color:#555}.finding{border-top:2px solid #ddd;margin-top:1.5em}";

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>kctx check report</title><style>{STYLE}</style></head><body>\n\
         <h1>kctx check report</h1>\n<p>{}</p>\n<h2>Inputs</h2>\n<ul>\n",
        escape(&verdict(report))
    );
    for i in &report.inputs {
        let what = match &i.error {
            Some(e) => format!("<b>unreadable</b>: {}", escape(e)),
            None => format!("{} events", i.events),
        };
        let _ = writeln!(w, "<li><code>{}</code>: {what}</li>", escape(&i.path));
    }
    for why in &report.impossible {
        let _ = writeln!(
            w,
            "<li><b>required check impossible</b>: {}</li>",
            escape(why)
        );
    }
    for s in report.suppressed_by.iter().filter(|s| s.hidden > 0) {
        let _ = writeln!(
            w,
            "<li>allowlist line {} (<code>{}</code>) hid {}</li>",
            s.line,
            escape(&s.rule),
            s.hidden
        );
    }
    let _ = writeln!(w, "</ul>");
    if report.findings.is_empty() {
        let _ = writeln!(w, "<p>No findings.</p>");
    } else {
        let _ = writeln!(
            w,
            "<h2>Summary</h2>\n<table><tr><th>#</th><th>kind</th><th>confidence</th>\
             <th>count</th><th>where</th><th>first time (s)</th><th>locks</th></tr>"
        );
        for (n, rf) in report.findings.iter().enumerate() {
            let f = &rf.finding;
            let c = f.confidence.name();
            let _ = writeln!(
                w,
                "<tr><td><a href=\"#finding-{n}\">{}</a></td><td>{}</td><td class=\"{c}\">{c}</td>\
                 <td>{}</td><td>{}</td><td>{:.6}</td><td>{}</td></tr>",
                n + 1,
                f.kind.name(),
                f.count,
                escape(&place(rf)),
                seconds(f.ts[0]),
                escape(&f.locks.join(", "))
            );
        }
        let _ = writeln!(w, "</table>");
    }
    for (n, rf, undecided_start) in violations_then_undecided(report) {
        let f = &rf.finding;
        let c = f.confidence.name();
        if undecided_start {
            let _ = writeln!(w, "<h2>{}</h2>", escape(UNDECIDED));
        }
        let _ = writeln!(
            w,
            "<section class=\"finding\" id=\"finding-{n}\"><h2>{}. {} <span class=\"{c}\">{c}</span></h2>\n\
             <p>{}</p>\n<p>Seen {} between {:.6} and {:.6} s in <code>{}</code>. \
             Id <code>{}</code>.</p>",
            n + 1,
            f.kind.name(),
            escape(&f.summary),
            crate::units::counted(f.count, "time"),
            seconds(f.ts[0]),
            seconds(f.ts[1]),
            escape(&rf.input),
            escape(&f.id)
        );
        if !f.locks.is_empty() {
            let _ = writeln!(w, "<p>Locks: {}</p>", escape(&f.locks.join(", ")));
        }
        if !f.functions.is_empty() {
            let _ = writeln!(w, "<p>Functions: {}</p>", escape(&f.functions.join(", ")));
        }
        let _ = writeln!(
            w,
            "<table><tr><th>time (s)</th><th>CPU</th><th>task</th><th>event</th><th>detail</th></tr>"
        );
        for e in &f.evidence {
            let _ = writeln!(
                w,
                "<tr><td>{:.6}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                seconds(e.ts),
                e.cpu,
                escape(&e.task),
                escape(&e.event),
                escape(&e.detail)
            );
        }
        let _ = writeln!(w, "</table></section>");
    }
    if let Some(console) = &report.console {
        let text = super::console::render_text(console);
        let _ = writeln!(w, "<h2>Kernel console</h2>\n<pre>{}</pre>", escape(&text));
    }
    let _ = writeln!(w, "</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">&rq->lock's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;rq-&gt;lock&#39;s&lt;/a&gt;"
        );
    }
}
