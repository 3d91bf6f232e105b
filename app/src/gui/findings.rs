//! The findings panel: violations grouped by kind with counts, each with its confidence in
//! words and colour, then, apart and collapsed, what the trace cannot decide. Selecting one
//! zooms the timeline to its first instance, highlights that instance's atomic span and
//! sleeping call (or, for a lock-order cycle, each witness acquisition) and shows the
//! explanation; a group lists its instances, each selectable.

use super::theme;
use super::timeline::{Highlight, PointMarker, TimelineState, ns_from_console_seconds};
use egui::{RichText, Ui};
use std::collections::BTreeMap;
use trace_model::splat::Splat;
use trace_model::{Confidence, EventIdx, Evidence, Finding, FindingKind, seconds};

pub use trace_model::explain::kind_name;

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

/// A finding and one of its instances (0 for a finding that keeps none).
pub type Selection = (usize, usize);

/// What the user asked of the findings panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingAction {
    /// Show this instance of this finding.
    Select(Selection),
    /// Place the cursor on an evidence event (its index in the store).
    Evidence { event: EventIdx },
}

/// Instances a finding can be stepped through: its own, or itself as one.
pub fn instance_count(f: &Finding) -> usize {
    f.instances.len().max(1)
}

/// The time (ns) of each instance of `f`, in order.
pub fn instance_times(f: &Finding) -> impl Iterator<Item = u64> + '_ {
    let own = f.instances.iter().map(|inst| inst.ts);
    let itself = f.instances.is_empty().then(|| f.ts[0]);
    own.chain(itself)
}

/// Lists the findings, each with its confidence in words and colour; the selected one, when
/// it groups several instances, lists them. Returns what the user asked for this frame.
pub fn findings_ui(
    ui: &mut Ui,
    findings: &[Finding],
    selected: Option<Selection>,
    note: Option<&str>,
) -> Option<FindingAction> {
    ui.heading(format!("Findings ({})", findings.len()));
    if findings.is_empty() {
        ui.add(egui::Label::new(note.unwrap_or("No violations found.")).wrap());
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
                egui::CollapsingHeader::new(header)
                    .id_salt((undecided, kind))
                    .default_open(!undecided)
                    .show(ui, |ui| {
                        for &i in list {
                            let f = &findings[i];
                            let colour = theme::confidence(f.confidence);
                            let is_selected = selected.is_some_and(|(s, _)| s == i);
                            let row = ui.horizontal(|ui| {
                                ui.label(
                                    RichText::new(f.confidence.name())
                                        .small()
                                        .strong()
                                        .color(colour),
                                );
                                let text = RichText::new(finding_title(f)).color(colour);
                                ui.selectable_label(is_selected, text)
                                    .on_hover_text(&f.summary)
                            });
                            if row.inner.clicked() {
                                clicked = Some(FindingAction::Select((i, 0)));
                            }
                            if let Some((_, k)) = selected.filter(|_| is_selected)
                                && f.instances.len() > 1
                                && let Some(k) = instances_ui(ui, f, k)
                            {
                                clicked = Some(FindingAction::Select((i, k)));
                            }
                        }
                    });
            }
        });
    if let Some((i, k)) = selected
        && let Some(f) = findings.get(i)
    {
        ui.separator();
        if let Some(action) = explanation_ui(ui, f, i, k) {
            clicked = Some(action);
        }
    }
    clicked
}

/// One line for instance `k` of `f`.
pub fn instance_label(f: &Finding, k: usize) -> String {
    let Some(inst) = f.instances.get(k) else {
        return format!("#{} {:.6}", k + 1, seconds(f.ts[0]));
    };
    let span = crate::units::format_duration((inst.span[1] - inst.span[0]) as f64);
    format!(
        "#{} {:.6} CPU {} pid {} · atomic {span}",
        k + 1,
        seconds(inst.ts),
        inst.cpu,
        inst.pid
    )
}

/// The instances of a grouped finding, scrolled to the selected one; returns a click.
fn instances_ui(ui: &mut Ui, f: &Finding, selected: usize) -> Option<usize> {
    let mut clicked = None;
    let row_h = ui.spacing().interact_size.y;
    ui.indent("instances", |ui| {
        egui::ScrollArea::vertical()
            .id_salt(("instances", &f.id))
            .max_height(row_h * 6.0)
            .show_rows(ui, row_h, f.instances.len(), |ui, range| {
                for k in range {
                    let text = RichText::new(instance_label(f, k)).monospace().size(11.0);
                    if ui.selectable_label(k == selected, text).clicked() {
                        clicked = Some(k);
                    }
                }
            });
    });
    clicked
}

/// Kind, confidence, the explanation and the numbered evidence; for a group, which instance
/// is shown with buttons to the previous and next; each evidence line places the cursor on
/// its event. Returns what the user asked for.
fn explanation_ui(ui: &mut Ui, f: &Finding, i: usize, k: usize) -> Option<FindingAction> {
    let colour = theme::confidence(f.confidence);
    ui.label(RichText::new(kind_name(f.kind)).strong().color(colour));
    ui.label(RichText::new(format!("{} · id {}", f.confidence.name(), f.id)).color(colour));
    let mut asked = None;
    let n = instance_count(f);
    if n > 1 {
        ui.horizontal(|ui| {
            if ui
                .button("<")
                .on_hover_text("previous instance  [")
                .clicked()
            {
                asked = Some(FindingAction::Select((i, k.saturating_sub(1))));
            }
            ui.label(format!("instance {} of {n}", k + 1));
            if ui.button(">").on_hover_text("next instance  ]").clicked() {
                asked = Some(FindingAction::Select((i, (k + 1).min(n - 1))));
            }
        });
    } else if f.count > 1 {
        let text = format!(
            "×{}: the acquisitions seen in these orders; the evidence is the first of each",
            f.count
        );
        ui.add(egui::Label::new(RichText::new(text).weak()).wrap());
    }
    egui::ScrollArea::vertical()
        .id_salt("explanation")
        .show(ui, |ui| {
            ui.add(egui::Label::new(&f.summary).wrap());
            ui.add_space(4.0);
            let edges = super::cycle_diagram::cycle_edges(f);
            if let Some(event) = super::cycle_diagram::cycle_diagram_ui(ui, &edges) {
                asked = Some(FindingAction::Evidence { event });
            }
            if k > 0 {
                ui.weak("Evidence of the first instance:");
            }
            for (n, e) in f.evidence.iter().enumerate() {
                let line = RichText::new(evidence_label(n, e)).monospace().size(11.0);
                let line =
                    egui::Button::selectable(false, line).wrap_mode(egui::TextWrapMode::Wrap);
                if ui
                    .add(line)
                    .on_hover_text("place the cursor on this event")
                    .clicked()
                {
                    asked = Some(FindingAction::Evidence { event: e.index });
                }
            }
        });
    asked
}

/// The line of the `n`th (from 0) evidence event: `1. 63.864935 CPU 1 task event: detail`.
pub fn evidence_label(n: usize, e: &Evidence) -> String {
    format!("{}. {}", n + 1, trace_model::explain::evidence_line(e))
}

/// Points the timeline at instance `k` of finding `f`: zooms to it, highlights its atomic
/// span and sleeping call (or each witness of a cycle) and places the cursor on the call.
pub fn focus_finding(timeline: &mut TimelineState, f: &Finding, k: usize) {
    let colour = theme::confidence(f.confidence);
    timeline.highlights.clear();
    timeline.marked_tasks.clear();
    let (lo, hi, call, cpu) = match f.instances.get(k) {
        Some(inst) => {
            let (lo, hi) = (inst.span[0], inst.span[1]);
            let call = inst.ts;
            (lo.min(call), hi.max(call), call, Some(inst.cpu))
        }
        None => {
            // The evidence (the first instance's, or each order's first witness).
            let call = f.ts[0];
            // The cursor goes to the first witness: select its CPU, so that the inspector
            // and the steps follow the CPU the cursor is on.
            let at_call = f.evidence.iter().find(|e| e.ts == call);
            let evidence = f.evidence.iter().map(|e| e.ts);
            let lo = evidence.clone().chain([call]).min().unwrap_or(call);
            let hi = evidence.chain([call]).max().unwrap_or(call);
            (lo, hi, call, at_call.map(|e| e.cpu).or(f.cpu))
        }
    };
    match f.kind {
        FindingKind::LockOrderCycle => {
            // Every task of the cycle, not only the one closing it.
            let edges = super::cycle_diagram::cycle_edges(f);
            let pids = edges
                .iter()
                .filter_map(|e| super::cycle_diagram::evidence_pid(&e.witness));
            timeline.marked_tasks = pids.collect();
            let pad = (hi - lo).max(1000) / 200;
            for (n, e) in f.evidence.iter().enumerate() {
                let t = e.ts;
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
                cpu,
                start_ns: lo,
                end_ns: hi.max(lo + 1),
                colour,
                label: "atomic context".into(),
            });
            timeline.highlights.push(Highlight {
                cpu,
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
    timeline.selected_cpu = cpu.map(|c| c as usize).or(timeline.selected_cpu);
}

/// A marker at each console splat (the console's clock is the trace's on `global`-clock
/// recordings) and, painted over them, at each instance of a finding.
pub fn finding_markers(findings: &[Finding], splats: &[Splat]) -> Vec<PointMarker> {
    let findings = findings.iter().flat_map(|f| {
        let cpus = f.instances.iter().map(|inst| Some(inst.cpu));
        let cpus = cpus.chain(f.instances.is_empty().then_some(f.cpu));
        instance_times(f).zip(cpus).map(|(ts_ns, cpu)| PointMarker {
            cpu,
            ts_ns,
            colour: theme::confidence(f.confidence),
            label: format!("{} ({})", kind_name(f.kind), f.confidence.name()),
        })
    });
    let splats = splats.iter().filter_map(|s| {
        Some(PointMarker {
            cpu: s.cpu.or(s.cpu_from_printk_caller_id),
            ts_ns: ns_from_console_seconds(s.console_ts?),
            colour: theme::SPLAT,
            label: format!("console: {}", s.kind.name()),
        })
    });
    // Drawn in this order: a finding's marker stays on top of a splat's at the same spot.
    splats.chain(findings).collect()
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
                    clicked = s.console_ts.map(ns_from_console_seconds);
                }
            }
        });
    clicked
}
