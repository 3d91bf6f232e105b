//! Two traces compared: a second trace drawn under the open one, its timeline following the
//! first's view shifted so that a chosen anchor (the traces' starts, markers A, or the next
//! event of a type after each cursor) lines up, and the findings diff `kctx diff OLD NEW`
//! prints (new / fixed / unchanged by stable id), the open trace being OLD.

use super::findings::{finding_markers, finding_title, focus_finding};
use super::timeline::{TimelineState, timeline_ui};
use super::trace::LoadedTrace;
use analysis::diff::FindingDiff;
use egui::{RichText, Ui};
use trace_model::Finding;

/// What lines the two traces up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alignment {
    /// The first event of each.
    Start,
    /// Each trace's marker A.
    MarkerA,
    /// The next event of the named type after each trace's cursor (its start without one).
    Event,
}

/// The second trace and how it lines up with the first.
pub struct Comparison {
    /// The trace compared with the open one (NEW).
    pub trace: LoadedTrace,
    pub timeline: TimelineState,
    pub alignment: Alignment,
    /// The event type [`Alignment::Event`] aligns on.
    pub align_event: String,
    /// A time in the second trace is the first's plus this.
    pub offset_ns: i64,
    /// Why the last alignment asked for could not be made.
    pub problem: Option<String>,
    /// The findings diff, the open trace as OLD.
    pub diff: FindingDiff,
}

/// What the user chose in the comparison's list.
#[derive(Clone, Debug, PartialEq)]
pub enum CompareAction {
    /// A fixed finding: select it in the open trace (its index there).
    SelectFirst(usize),
    /// A new finding: show it in the second trace (its index there).
    SelectSecond(usize),
}

impl Comparison {
    /// `second` compared with `first`, aligned on their starts.
    pub fn new(first: &LoadedTrace, second: LoadedTrace) -> Comparison {
        let diff = FindingDiff::of(
            &first.title(),
            &first.findings,
            &second.title(),
            &second.findings,
        );
        let mut timeline = TimelineState::default();
        timeline.markers = finding_markers(&second.findings, &second.splats);
        let offset_ns = signed(second.timeline.origin_ns) - signed(first.timeline.origin_ns);
        Comparison {
            trace: second,
            timeline,
            alignment: Alignment::Start,
            align_event: String::new(),
            offset_ns,
            problem: None,
            diff,
        }
    }

    /// Lines the traces up on `alignment`; when an anchor is missing the offset stays and
    /// `problem` says which.
    pub fn align(&mut self, first: &LoadedTrace, first_timeline: &TimelineState, a: Alignment) {
        self.alignment = a;
        match self.anchors(first, first_timeline) {
            Ok((t1, t2)) => {
                self.offset_ns = signed(t2) - signed(t1);
                self.problem = None;
            }
            Err(why) => self.problem = Some(why),
        }
    }

    /// The times that line up: one in the first trace, one in the second.
    fn anchors(&self, first: &LoadedTrace, first_tl: &TimelineState) -> Result<(u64, u64), String> {
        let second = &self.trace;
        match self.alignment {
            Alignment::Start => Ok((first.timeline.origin_ns, second.timeline.origin_ns)),
            Alignment::MarkerA => match (first_tl.marker_a, self.timeline.marker_a) {
                (Some(a), Some(b)) => Ok((a, b)),
                _ => Err("set marker A in both traces (key 1, or right-click)".to_owned()),
            },
            Alignment::Event => {
                let name = self.align_event.trim();
                let at = |t: &LoadedTrace, tl: &TimelineState| {
                    next_event_named(t, name, tl.cursor_ns.unwrap_or(t.timeline.origin_ns))
                };
                match (at(first, first_tl), at(second, &self.timeline)) {
                    (Some(a), Some(b)) => Ok((a, b)),
                    _ => Err(format!(
                        "no {name:?} event at or after the cursor in both traces"
                    )),
                }
            }
        }
    }

    /// The second view: the first's, shifted by the offset.
    pub fn follow(&mut self, first: &TimelineState) {
        self.timeline.view.start_ns = first.view.start_ns + self.offset_ns as f64;
        self.timeline.view.ns_per_px = first.view.ns_per_px;
    }

    /// Shows instance 0 of the second trace's finding `i` and moves the first view with it.
    pub fn select_second(&mut self, first: &mut TimelineState, i: usize) {
        let Some(f) = self.trace.findings.get(i) else {
            return;
        };
        focus_finding(&mut self.timeline, f, 0);
        if let Some((t0, t1)) = self.timeline.pending_range.take() {
            let back = |t: u64| u64::try_from(signed(t) - self.offset_ns).unwrap_or(0);
            first.pending_range = Some((back(t0), back(t1)));
        }
    }
}

fn signed(ns: u64) -> i64 {
    i64::try_from(ns).unwrap_or(i64::MAX)
}

/// The time of the first event named `name` at or after `from_ns`.
fn next_event_named(trace: &LoadedTrace, name: &str, from_ns: u64) -> Option<u64> {
    let store = &trace.store;
    let (t, _) = store.event_type_names().find(|(_, n)| *n == name)?;
    let from = store.ts().partition_point(|&ts| ts < from_ns);
    let i = store.event_types()[from..].iter().position(|&e| e == t)?;
    Some(store.ts()[from + i])
}

/// A diff line: the id, its confidence and count.
pub fn diff_line(mark: char, f: &Finding) -> String {
    format!("{mark} {} [{}] ×{}", f.id, f.confidence.name(), f.count)
}

/// The comparison's part of the findings panel: counts, then the new, fixed and unchanged
/// findings; a click on a new or fixed one shows it in its trace.
pub fn compare_findings_ui(
    ui: &mut Ui,
    c: &Comparison,
    first: &LoadedTrace,
) -> Option<CompareAction> {
    let d = &c.diff;
    let mut action = None;
    ui.heading("Compared");
    ui.label(format!(
        "{} new, {} fixed, {} unchanged",
        d.new_findings.len(),
        d.fixed.len(),
        d.unchanged.len()
    ))
    .on_hover_text(format!("old: {}\nnew: {}", d.old, d.new));
    if d.exit_code != 0 {
        ui.colored_label(
            super::theme::VIOLATION,
            "a new violation: kctx diff exits 1",
        );
    }
    let index_in = |findings: &[Finding], f: &Finding| findings.iter().position(|g| g.id == f.id);
    ui.strong("new (in the trace below only)");
    for f in &d.new_findings {
        let text = RichText::new(diff_line('+', f)).color(super::theme::confidence(f.confidence));
        if ui.button(text).on_hover_text(finding_title(f)).clicked() {
            action = index_in(&c.trace.findings, f).map(CompareAction::SelectSecond);
        }
    }
    ui.strong("fixed (in the open trace only)");
    for f in &d.fixed {
        if ui
            .button(diff_line('-', f))
            .on_hover_text(finding_title(f))
            .clicked()
        {
            action = index_in(&first.findings, f).map(CompareAction::SelectFirst);
        }
    }
    ui.strong("unchanged");
    for u in &d.unchanged {
        ui.weak(format!("= {} ×{} -> ×{}", u.id, u.old_count, u.new_count));
    }
    action
}

/// The second trace under the first: a header with its name and the alignment, then its
/// timeline following the first's view. A pan or zoom on it moves both.
pub fn compared_timeline_ui(
    ui: &mut Ui,
    c: &mut Comparison,
    first: &LoadedTrace,
    first_tl: &mut TimelineState,
) -> bool {
    let mut close = false;
    ui.horizontal(|ui| {
        ui.strong("Compared:");
        ui.label(c.trace.title());
        ui.separator();
        ui.label("align on");
        let mut chosen = None;
        for (a, name) in [
            (Alignment::Start, "starts"),
            (Alignment::MarkerA, "markers A"),
            (Alignment::Event, "next event"),
        ] {
            if ui.selectable_label(c.alignment == a, name).clicked() {
                chosen = Some(a);
            }
        }
        let field = ui.add(
            egui::TextEdit::singleline(&mut c.align_event)
                .hint_text("event type")
                .desired_width(120.0),
        );
        if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            chosen = Some(Alignment::Event);
        }
        if let Some(a) = chosen {
            c.align(first, first_tl, a);
        }
        ui.weak(format!("offset {:+.6} s", c.offset_ns as f64 / 1e9));
        if let Some(p) = &c.problem {
            ui.colored_label(super::theme::LOST, p);
        }
        if ui.button("Close").clicked() {
            close = true;
        }
    });
    c.follow(first_tl);
    let before = c.timeline.view;
    timeline_ui(ui, &mut c.timeline, &c.trace);
    if c.timeline.view != before && ui.rect_contains_pointer(ui.max_rect()) {
        first_tl.view.start_ns = c.timeline.view.start_ns - c.offset_ns as f64;
        first_tl.view.ns_per_px = c.timeline.view.ns_per_px;
    }
    close
}
