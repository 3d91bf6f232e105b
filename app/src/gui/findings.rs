//! The findings panel: violations grouped by kind with counts, then, apart and collapsed,
//! what the trace cannot decide. Selecting one zooms the
//! timeline to it, highlights its atomic interval and sleeping call (or, for a lock-order
//! cycle, each witness acquisition) and shows the explanation.

use super::theme;
use super::timeline::{Highlight, PointMarker, TimelineState, ns_from_seconds};
use egui::{RichText, Ui};
use std::collections::BTreeMap;
use trace_model::splat::Splat;
use trace_model::{Confidence, Finding, FindingKind};

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
        parts.push(f.locks.join(" -> "));
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
pub fn findings_ui(
    ui: &mut Ui,
    findings: &[Finding],
    selected: Option<usize>,
    note: Option<&str>,
) -> Option<usize> {
    ui.heading(format!("Findings ({})", findings.len()));
    if findings.is_empty() {
        ui.label(note.unwrap_or("No violations found."));
        return None;
    }
    // Violations first; undecided findings (unverifiable) in groups of their own after them.
    let mut by_kind: BTreeMap<(bool, FindingKind), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let undecided = f.confidence == Confidence::Unverifiable;
        by_kind.entry((undecided, f.kind)).or_default().push(i);
    }
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .id_salt("findings")
        .max_height(ui.available_height() * 0.55)
        .show(ui, |ui| {
            for (&(undecided, kind), list) in &by_kind {
                let name = kind_name(kind);
                let header = if undecided {
                    RichText::new(format!("Undecided: {name} ({})", list.len()))
                } else {
                    RichText::new(format!("{name} ({})", list.len())).strong()
                };
                let color = if undecided {
                    theme::UNKNOWN
                } else {
                    theme::VIOLATION
                };
                egui::CollapsingHeader::new(header)
                    .id_salt((undecided, kind))
                    .default_open(!undecided)
                    .show(ui, |ui| {
                        for &i in list {
                            let f = &findings[i];
                            let text = RichText::new(finding_title(f)).color(color);
                            if ui
                                .selectable_label(selected == Some(i), text)
                                .on_hover_text(&f.summary)
                                .clicked()
                            {
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
    ui.label(
        RichText::new(kind_name(f.kind))
            .strong()
            .color(theme::VIOLATION),
    );
    ui.label(format!("{:?} · id {}", f.confidence, f.id));
    egui::ScrollArea::vertical()
        .id_salt("explanation")
        .show(ui, |ui| {
            ui.label(&f.summary);
            ui.add_space(4.0);
            for (n, e) in f.evidence.iter().enumerate() {
                ui.label(
                    RichText::new(format!(
                        "{}. {:.6} CPU {} {} {}: {}",
                        n + 1,
                        e.ts,
                        e.cpu,
                        e.task,
                        e.event,
                        e.detail
                    ))
                    .monospace()
                    .size(11.0),
                );
            }
        });
}

/// Points the timeline at finding `f`: zooms to its evidence, highlights the atomic
/// interval and the sleeping call (or each witness of a cycle) and places the cursor on the
/// call.
pub fn focus_finding(timeline: &mut TimelineState, f: &Finding) {
    let call = ns_from_seconds(f.ts[0]);
    let evidence: Vec<u64> = f.evidence.iter().map(|e| ns_from_seconds(e.ts)).collect();
    let lo = evidence.iter().copied().chain([call]).min().unwrap_or(call);
    let hi = evidence
        .iter()
        .copied()
        .chain([ns_from_seconds(f.ts[1])])
        .max()
        .unwrap_or(call);
    timeline.highlights.clear();
    match f.kind {
        FindingKind::LockOrderCycle => {
            let pad = (hi - lo).max(1000) / 200;
            for (n, (e, &t)) in f.evidence.iter().zip(&evidence).enumerate() {
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
            // From what made the context atomic (the first evidence) to the sleep.
            timeline.highlights.push(Highlight {
                cpu: f.cpu,
                start_ns: lo,
                end_ns: hi.max(lo + 1),
                colour: theme::VIOLATION,
                label: "atomic context".into(),
            });
            timeline.highlights.push(Highlight {
                cpu: f.cpu,
                start_ns: call,
                end_ns: call + 1,
                colour: theme::WITNESS,
                label: f
                    .functions
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "sleep".into()),
            });
        }
    }
    timeline.pending_range = Some((lo, hi.max(lo + 1000)));
    timeline.cursor_ns = Some(call);
    timeline.selected_cpu = f.cpu.map(|c| c as usize).or(timeline.selected_cpu);
}

/// A marker at each finding's first instance, and at each console splat (the console's
/// clock is the trace's on `global`-clock recordings).
pub fn finding_markers(findings: &[Finding], splats: &[Splat]) -> Vec<PointMarker> {
    let findings = findings.iter().map(|f| PointMarker {
        cpu: f.cpu,
        ts_ns: ns_from_seconds(f.ts[0]),
        colour: theme::VIOLATION,
        label: kind_name(f.kind).to_owned(),
    });
    let splats = splats.iter().filter_map(|s| {
        Some(PointMarker {
            cpu: s.cpu.or(s.cpu_from_printk_caller_id),
            ts_ns: ns_from_seconds(s.console_ts?),
            colour: theme::SPLAT,
            label: format!("console: {}", s.kind.name()),
        })
    });
    findings.chain(splats).collect()
}

/// Lists the console splats; returns the time of the one clicked.
pub fn splats_ui(ui: &mut Ui, splats: &[Splat]) -> Option<u64> {
    if splats.is_empty() {
        return None;
    }
    let mut clicked = None;
    let header = RichText::new(format!("Console splats ({})", splats.len())).strong();
    egui::CollapsingHeader::new(header)
        .id_salt("splats")
        .show(ui, |ui| {
            for s in splats {
                let at = s
                    .console_ts
                    .map_or("no time".to_owned(), |t| format!("{t:.6}"));
                let text = format!("{at} {} {}", s.kind.name(), s.task.as_deref().unwrap_or(""));
                if ui
                    .selectable_label(false, RichText::new(text).color(theme::SPLAT))
                    .clicked()
                {
                    clicked = s.console_ts.map(ns_from_seconds);
                }
            }
        });
    clicked
}
