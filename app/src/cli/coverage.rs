//! `kctx coverage FILE`: what the trace can and cannot tell, and which checks are complete,
//! partial or impossible on it.

use super::TextOrJson;
use super::output;
use std::fmt::Write as _;
use std::path::Path;
use trace_model::context::Coverage;
use trace_model::context::coverage::CheckLevel;

fn yes_no(v: bool) -> &'static str {
    if v { "yes" } else { "no" }
}

/// The human-readable form.
pub fn coverage_text(file: &Path, c: &Coverage) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "{}", file.display());
    let rows = [
        ("flags column", yes_no(c.flags_recorded).to_owned()),
        (
            "preempt depth recorded",
            yes_no(c.preempt_depth_recorded).to_owned(),
        ),
        (
            "preempt count active (depth > 0 seen)",
            yes_no(c.preempt_count_active).to_owned(),
        ),
        (
            "BH-disabled visible (>= 5.18)",
            yes_no(c.bh_off_visible).to_owned(),
        ),
        ("preemptirq events", yes_no(c.preemptirq_events).to_owned()),
        ("irq / softirq events", yes_no(c.irq_events).to_owned()),
        (
            "lock source",
            format!("{:?} ({} holds)", c.lock_source, c.lock_holds),
        ),
        ("function tracer", yes_no(c.function_tracer).to_owned()),
        (
            "might-sleep calls traced",
            yes_no(c.sleep_calls_traced).to_owned(),
        ),
        (
            "__might_sleep markers",
            yes_no(c.might_sleep_markers).to_owned(),
        ),
        ("allocation gfp flags", yes_no(c.gfp_visible).to_owned()),
        ("sched_switch", yes_no(c.sched_switch).to_owned()),
        (
            "lost events",
            format!("{} in {} gaps", c.lost_events, c.lost_event_gaps),
        ),
        ("kallsyms symbols", c.kallsyms_symbols.to_string()),
        (
            "unknown context time",
            format!("{:.6} s (all CPUs)", c.unknown_ns as f64 / 1e9),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(w, "  {k:<40} {v}");
    }
    let _ = writeln!(w, "  checks:");
    for check in &c.checks {
        let level = match check.level {
            CheckLevel::Complete => "complete",
            CheckLevel::Partial => "partial",
            CheckLevel::Impossible => "impossible",
        };
        let _ = writeln!(w, "    {:<16} {level}", check.check);
        for r in &check.reasons {
            let _ = writeln!(w, "      - {r}");
        }
    }
    out
}

/// `kctx coverage [--format text|json] FILE`
pub fn run(
    file: &Path,
    kallsyms: Option<&Path>,
    format: TextOrJson,
    cache: Option<&analysis::TraceCache>,
) -> anyhow::Result<u8> {
    let model = super::context::load(file, kallsyms, cache)?.context;
    match format {
        TextOrJson::Text => output::emit(&coverage_text(file, &model.coverage))?,
        TextOrJson::Json => output::emit_line(&serde_json::to_string_pretty(&model.coverage)?)?,
    }
    Ok(0)
}
