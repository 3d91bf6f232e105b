//! The status bar: trace facts (format, kernel, events, CPUs, span, lost and unparsed), the
//! checks the trace's content allows (the context model's coverage), and markers A/B with
//! their delta.

use super::theme;
use super::timeline::TimelineState;
use super::timeline::axis::format_ts;
use super::trace::LoadedTrace;
use crate::units::format_duration;
use egui::{RichText, Ui};
use trace_model::SourceFormat;
use trace_model::context::coverage::CheckLevel;

fn format_name(f: &SourceFormat) -> String {
    match f {
        SourceFormat::Unknown => "unknown format".into(),
        SourceFormat::FtraceText { dialect } => format!("ftrace text ({dialect})"),
        SourceFormat::TraceDat {
            version,
            compression,
        } => format!("trace.dat v{version} {compression}"),
        SourceFormat::Console => "console log".into(),
        SourceFormat::Qemu => "QEMU log".into(),
    }
}

/// Draws the status bar.
pub fn status_bar_ui(ui: &mut Ui, trace: &LoadedTrace, timeline: &TimelineState) {
    let store = &trace.store;
    ui.horizontal_wrapped(|ui| {
        ui.label(format_name(&store.meta.source));
        if let Some(k) = &store.meta.kernel_version {
            ui.label(format!("kernel {k}"));
        }
        ui.separator();
        ui.label(format!("{} events", store.len()));
        ui.label(format!("{} CPUs", store.cpu_count()));
        if let Some((a, b)) = store.time_span() {
            ui.label(format!("span {}", format_duration((b - a) as f64)));
        }
        let (gaps, _) = store.meta.lost_totals();
        let lost_text = RichText::new(format!("lost {}", store.meta.lost_text()));
        ui.label(if gaps > 0 {
            lost_text.color(theme::LOST)
        } else {
            lost_text
        });
        let unparsed = store.report.unparsed_total();
        if unparsed > 0 {
            ui.colored_label(theme::LOST, format!("{unparsed} lines unparsed"));
        }
        let warnings = store.report.warnings_total();
        if warnings > 0 {
            ui.colored_label(theme::LOST, format!("{warnings} warnings"))
                .on_hover_text(store.report.warning_lines().join("\n"));
        }
        ui.separator();
        for check in &trace.context.coverage.checks {
            let (mark, colour) = match check.level {
                CheckLevel::Complete => ("complete", theme::BH_OFF),
                CheckLevel::Partial => ("partial", theme::SOFTIRQ),
                CheckLevel::Impossible => ("impossible", theme::UNKNOWN),
            };
            let why = if check.reasons.is_empty() {
                "complete".to_owned()
            } else {
                check.reasons.join("\n")
            };
            ui.colored_label(colour, format!("{}: {mark}", check.check))
                .on_hover_text(why);
        }
        ui.separator();
        markers_ui(ui, timeline);
    });
}

fn markers_ui(ui: &mut Ui, t: &TimelineState) {
    let show = |ts: Option<u64>| ts.map_or("-".to_owned(), |v| format_ts(v as f64, 1.0));
    ui.colored_label(theme::MARKER_A, format!("A {}", show(t.marker_a)));
    ui.colored_label(theme::MARKER_B, format!("B {}", show(t.marker_b)));
    if let (Some(a), Some(b)) = (t.marker_a, t.marker_b) {
        ui.strong(format!("B-A {}", format_duration(b as f64 - a as f64)));
    }
    if let Some(c) = t.cursor_ns {
        ui.label(format!("cursor {}", format_ts(c as f64, 1.0)));
    }
}
