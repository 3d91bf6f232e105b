//! A lock-order cycle as a picture: the lock classes as nodes round a circle, an arrow per
//! order (held -> taken) numbered like the list under it, where each order names its
//! witness (task, CPU, time, function). Clicking an arrow or its line places the cursor on
//! that acquisition.

use super::theme;
use egui::{Align2, Color32, FontId, Rect, Sense, Stroke, Ui, Vec2};
use trace_model::{EventIdx, Evidence, Finding, FindingKind};

/// One order of the cycle and the acquisition that shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleEdge {
    pub from: String,
    pub to: String,
    pub witness: Evidence,
}

/// The orders of a lock-order cycle finding: class `k` to class `k + 1`, witnessed by the
/// evidence line `2k + 1` (line `2k` is where the first class was taken). Empty for other
/// kinds or evidence not in that shape.
pub fn cycle_edges(f: &Finding) -> Vec<CycleEdge> {
    let n = f.locks.len();
    if f.kind != FindingKind::LockOrderCycle || n < 2 || f.evidence.len() != 2 * n {
        return Vec::new();
    }
    (0..n)
        .map(|k| CycleEdge {
            from: f.locks[k].clone(),
            to: f.locks[(k + 1) % n].clone(),
            witness: f.evidence[2 * k + 1].clone(),
        })
        .collect()
}

/// The function an evidence line names (`... in lab_s3_take_a_then_b() ...`).
pub fn evidence_function(e: &Evidence) -> Option<&str> {
    let at = e.detail.find(" in ")? + 4;
    let rest = &e.detail[at..];
    let end = rest.find("()")?;
    let name = &rest[..end];
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.$".contains(c));
    (plain && !name.is_empty()).then_some(name)
}

/// The pid of an evidence line's task (`comm-pid`), if it names one.
pub fn evidence_pid(e: &Evidence) -> Option<i32> {
    e.task.rsplit_once('-')?.1.parse().ok()
}

/// The line describing edge `k` (1-based as drawn).
pub fn edge_line(k: usize, e: &CycleEdge) -> String {
    let w = &e.witness;
    let function = evidence_function(w).map_or(String::new(), |f| format!(" in {f}()"));
    format!(
        "{k}: {} -> {}  ·  {} on CPU {} at {:.6}{function}",
        e.from,
        e.to,
        w.task,
        w.cpu,
        trace_model::seconds(w.ts)
    )
}

/// Draws the diagram and its list; returns the witness event clicked.
pub fn cycle_diagram_ui(ui: &mut Ui, edges: &[CycleEdge]) -> Option<EventIdx> {
    if edges.is_empty() {
        return None;
    }
    let n = edges.len();
    let width = ui.available_width().clamp(160.0, 320.0);
    let height = if n == 2 { 90.0 } else { 170.0 };
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let painter = ui.painter_at(rect.expand(2.0));
    let centre = rect.center();
    let radius = Vec2::new(rect.width() / 2.0 - 50.0, rect.height() / 2.0 - 18.0);
    // Node k at an angle round the ellipse; two nodes sit left and right.
    let node = |k: usize| {
        let a = std::f32::consts::TAU * k as f32 / n as f32 + std::f32::consts::PI;
        centre + Vec2::new(radius.x * a.cos(), radius.y * a.sin())
    };
    let text = ui.visuals().strong_text_color();
    let mut clicked = None;
    for (k, e) in edges.iter().enumerate() {
        let (a, b) = (node(k), node((k + 1) % n));
        // Two arrows between the same nodes (an AB-BA) bow apart.
        let normal = (b - a).normalized().rot90() * if n == 2 { 14.0 } else { 0.0 };
        let (a, b) = (a + normal, b + normal);
        let dir = (b - a).normalized();
        let (a, b) = (a + dir * 34.0, b - dir * 34.0);
        let id = ui.scope_id().with(("cycle edge", k));
        let hit = Rect::from_two_pos(a, b).expand(6.0);
        let response = ui.interact(hit, id, Sense::click());
        // Named for screen readers and UI tests: the arrow is a button of its own.
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Button, true, arrow_label(k + 1))
        });
        let colour = if response.hovered() {
            theme::SELECTION
        } else {
            theme::WITNESS
        };
        painter.arrow(a, b - a, Stroke::new(2.0, colour));
        let mid = a + (b - a) / 2.0 + normal * 0.9;
        painter.text(
            mid,
            Align2::CENTER_CENTER,
            format!("{}", k + 1),
            FontId::proportional(12.0),
            colour,
        );
        if response.on_hover_text(edge_line(k + 1, e)).clicked() {
            clicked = Some(witness_at(&e.witness));
        }
    }
    for (k, e) in edges.iter().enumerate() {
        let p = node(k);
        let galley = painter.layout_no_wrap(e.from.clone(), FontId::monospace(11.0), text);
        let r = Rect::from_center_size(p, galley.size() + Vec2::new(10.0, 6.0));
        painter.rect_filled(r, 4.0, ui.visuals().extreme_bg_color);
        painter.rect_stroke(r, 4.0, Stroke::new(1.0, text), egui::StrokeKind::Inside);
        painter.galley(r.min + Vec2::new(5.0, 3.0), galley, Color32::WHITE);
    }
    for (k, e) in edges.iter().enumerate() {
        let line = egui::RichText::new(edge_line(k + 1, e))
            .monospace()
            .size(11.0);
        let button = egui::Button::selectable(false, line).wrap_mode(egui::TextWrapMode::Wrap);
        if ui
            .add(button)
            .on_hover_text("place the cursor on this acquisition")
            .clicked()
        {
            clicked = Some(witness_at(&e.witness));
        }
    }
    clicked
}

/// The accessible name of the diagram's arrow `n`.
pub fn arrow_label(n: usize) -> String {
    format!("order {n} of the cycle")
}

fn witness_at(e: &Evidence) -> EventIdx {
    e.index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(task: &str, detail: &str) -> Evidence {
        Evidence {
            index: 0,
            shows: trace_model::finding::Shows::Event,
            ts: 1_000_000_000,
            cpu: 2,
            task: task.to_owned(),
            event: "lock_acquire".to_owned(),
            detail: detail.to_owned(),
        }
    }

    #[test]
    fn function_and_pid_come_from_the_evidence_line() {
        let e = evidence(
            "lab_ab-173",
            "mutex acquire of lab_mutex_b (0xffff) in lab_s3_take_a_then_b() while holding lab_mutex_a",
        );
        assert_eq!(evidence_function(&e), Some("lab_s3_take_a_then_b"));
        assert_eq!(evidence_pid(&e), Some(173));
        let none = evidence("<irq>", "spin acquire of x");
        assert_eq!(
            (evidence_function(&none), evidence_pid(&none)),
            (None, None)
        );
    }
}
