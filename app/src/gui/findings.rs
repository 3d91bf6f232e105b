//! The findings panel: violations grouped by kind with counts. Selecting one zooms the
//! timeline to it, highlights its atomic interval and sleeping call (or, for a lock-order
//! cycle, each witness acquisition) and shows the explanation.

use super::theme;
use super::timeline::{Highlight, PointMarker, TimelineState, ns_from_seconds};
use egui::{RichText, Ui};
use std::collections::BTreeMap;
use trace_model::{Finding, FindingKind};

/// Human name of a kind.
pub fn kind_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::SleepInAtomic => "Sleep in atomic context",
        FindingKind::LockOrderCycle => "Lock-order cycle",
        FindingKind::IrqInversion => "IRQ-safe / unsafe inversion",
    }
}

/// One-line title of a finding for the list.
pub fn finding_title(f: &Finding) -> String {
    let mut parts = Vec::new();
    if let Some(cpu) = f.cpu {
        parts.push(format!("CPU {cpu}"));
    }
    if let Some(task) = &f.task {
        parts.push(task.clone());
    }
    if !f.locks.is_empty() {
        parts.push(f.locks.join(" → "));
    }
    if let Some(func) = f.functions.last() {
        parts.push(func.clone());
    }
    if f.count > 1 {
        parts.push(format!("×{}", f.count));
    }
    parts.join(" · ")
}

/// Lists the findings; returns the index the user selected this frame.
pub fn findings_ui(ui: &mut Ui, findings: &[Finding], selected: Option<usize>, note: Option<&str>) -> Option<usize> {
    ui.heading(format!("Findings ({})", findings.len()));
    if findings.is_empty() {
        ui.label(note.unwrap_or("No violations found."));
        return None;
    }
    let mut by_kind: BTreeMap<FindingKind, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        by_kind.entry(f.kind).or_default().push(i);
    }
    let mut clicked = None;
    egui::ScrollArea::vertical().id_salt("findings").max_height(ui.available_height() * 0.55).show(ui, |ui| {
        for (kind, list) in &by_kind {
            let header = RichText::new(format!("{} ({})", kind_name(*kind), list.len())).strong();
            egui::CollapsingHeader::new(header).id_salt(kind).default_open(true).show(ui, |ui| {
                for &i in list {
                    let f = &findings[i];
                    let text = RichText::new(finding_title(f)).color(theme::VIOLATION);
                    if ui.selectable_label(selected == Some(i), text).on_hover_text(&f.summary).clicked() {
                        clicked = Some(i);
                    }
                }
            });
        }
    });
    if let Some(f) = selected.and_then(|i| findings.get(i)) {
        ui.separator();
        explanation_ui(ui, f);
    }
    clicked
}

fn explanation_ui(ui: &mut Ui, f: &Finding) {
    ui.label(RichText::new(kind_name(f.kind)).strong().color(theme::VIOLATION));
    ui.label(format!("{:?} · id {}", f.confidence, f.id));
    egui::ScrollArea::vertical().id_salt("explanation").show(ui, |ui| {
        ui.label(&f.summary);
        ui.add_space(4.0);
        for (n, e) in f.evidence.iter().enumerate() {
            ui.label(
                RichText::new(format!("{}. {:.6} CPU {} {} {}: {}", n + 1, e.ts, e.cpu, e.task, e.event, e.detail))
                    .monospace()
                    .size(11.0),
            );
        }
    });
}

/// Points the timeline at finding `f`: zooms to its evidence, highlights the atomic
/// interval (or each witness of a cycle) and places the cursor on its first instance.
pub fn focus_finding(timeline: &mut TimelineState, f: &Finding) {
    let (t0, t1) = (ns_from_seconds(f.ts[0]), ns_from_seconds(f.ts[1]));
    let mut lo = t0;
    let mut hi = t1;
    for e in &f.evidence {
        let t = ns_from_seconds(e.ts);
        lo = lo.min(t);
        hi = hi.max(t);
    }
    timeline.highlights.clear();
    match f.kind {
        FindingKind::LockOrderCycle => {
            for (n, e) in f.evidence.iter().enumerate() {
                let t = ns_from_seconds(e.ts);
                let pad = (hi - lo).max(1000) / 200;
                timeline.highlights.push(Highlight {
                    cpu: Some(e.cpu),
                    start_ns: t.saturating_sub(pad),
                    end_ns: t + pad,
                    colour: theme::WITNESS,
                    label: format!("witness {}: {}", n + 1, e.detail),
                });
            }
        }
        _ => {
            timeline.highlights.push(Highlight {
                cpu: f.cpu,
                start_ns: t0,
                end_ns: t1.max(t0 + 1),
                colour: theme::VIOLATION,
                label: "atomic".into(),
            });
            if let Some(sleep) = f.evidence.last() {
                let t = ns_from_seconds(sleep.ts);
                timeline.highlights.push(Highlight {
                    cpu: Some(sleep.cpu),
                    start_ns: t,
                    end_ns: t + 1,
                    colour: theme::WITNESS,
                    label: sleep.event.clone(),
                });
            }
        }
    }
    timeline.pending_range = Some((lo, hi.max(lo + 1000)));
    timeline.cursor_ns = Some(t0);
    timeline.selected_cpu = f.cpu.map(|c| c as usize).or(timeline.selected_cpu);
}

/// A marker at each finding's first instance.
pub fn finding_markers(findings: &[Finding]) -> Vec<PointMarker> {
    findings
        .iter()
        .map(|f| PointMarker {
            cpu: f.cpu,
            ts_ns: ns_from_seconds(f.ts[0]),
            colour: theme::VIOLATION,
            label: kind_name(f.kind).to_owned(),
        })
        .collect()
}
