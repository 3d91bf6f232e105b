//! What is drawn over the rows: highlighted ranges with their labels, point markers,
//! markers A/B, the selected and marked task lanes, the cursor and the range-zoom band.

use super::TimelineState;
use super::axis;
use super::labels::LabelPlacer;
use super::layout::{Row, RowKind, cpu_y};
use crate::gui::theme;
use egui::{Align2, Color32, FontId, Pos2, Rangef, Rect, Shape, Stroke, Vec2};

/// Highlights, point markers, markers A/B and the cursor; returns where the labels went.
pub(super) fn paint_overlays(
    painter: &egui::Painter,
    state: &TimelineState,
    rows: &[Row],
    canvas: Rect,
) -> Vec<Rect> {
    let view = &state.view;
    let x_of = |ts: u64| canvas.left() + view.x_from_ts(ts as f64) as f32;
    let all_y = Rangef::new(canvas.top(), canvas.bottom());
    let y_of = |cpu: Option<u32>| cpu.and_then(|c| cpu_y(rows, c as usize)).unwrap_or(all_y);
    let mut labels = LabelPlacer::new(canvas);
    for h in &state.highlights {
        let (x0, x1) = (x_of(h.start_ns), x_of(h.end_ns));
        if x1 < canvas.left() - 2.0 || x0 > canvas.right() + 2.0 {
            continue; // Scrolled away: neither its box nor its label.
        }
        let (x0, x1) = (
            x0.max(canvas.left() - 2.0),
            x1.min(canvas.right() + 2.0).max(x0 + 3.0),
        );
        let r = Rect::from_x_y_ranges(x0..=x1, y_of(h.cpu));
        painter.rect_filled(r, 2.0, h.colour.gamma_multiply(0.18));
        painter.rect_stroke(
            r,
            2.0,
            Stroke::new(2.0, h.colour),
            egui::StrokeKind::Outside,
        );
        // A wide range labels its right end, a point its left.
        let wide = r.width() > 120.0;
        let at = if wide {
            r.right_top() + Vec2::new(-2.0, -2.0)
        } else {
            r.left_top() + Vec2::new(2.0, -2.0)
        };
        labels.place(
            painter,
            at,
            wide,
            &h.label,
            FontId::proportional(11.0),
            h.colour,
        );
    }
    for m in &state.markers {
        let x = x_of(m.ts_ns);
        if x < canvas.left() - 8.0 || x > canvas.right() + 8.0 {
            continue;
        }
        let y = y_of(m.cpu).min;
        let tri = vec![
            Pos2::new(x - 5.0, y),
            Pos2::new(x + 5.0, y),
            Pos2::new(x, y + 8.0),
        ];
        painter.add(Shape::convex_polygon(
            tri,
            m.colour,
            Stroke::new(1.0, Color32::BLACK),
        ));
    }
    for (ts, colour, name) in [
        (state.marker_a, theme::MARKER_A, "A"),
        (state.marker_b, theme::MARKER_B, "B"),
    ] {
        if let Some(ts) = ts {
            let x = x_of(ts);
            painter.vline(x, all_y, Stroke::new(1.5, colour));
            painter.text(
                Pos2::new(x + 3.0, canvas.top() + 2.0),
                Align2::LEFT_TOP,
                name,
                FontId::proportional(12.0),
                colour,
            );
        }
    }
    if let Some(y) = state.selected_task.and_then(|pid| {
        rows.iter()
            .find(|r| matches!(r.kind, RowKind::Task { pid: p, .. } if p == pid))
            .map(|r| r.y)
    }) {
        let r = Rect::from_x_y_ranges(canvas.x_range(), y);
        let stroke = Stroke::new(
            1.5,
            painter.ctx().global_style().visuals.selection.stroke.color,
        );
        painter.rect_stroke(r, 0.0, stroke, egui::StrokeKind::Outside);
    }
    for r in rows.iter().filter(
        |r| matches!(r.kind, RowKind::Task { pid, .. } if state.marked_tasks.contains(&pid)),
    ) {
        let lane = Rect::from_x_y_ranges(canvas.x_range(), r.y);
        painter.rect_stroke(
            lane,
            0.0,
            Stroke::new(1.5, theme::WITNESS),
            egui::StrokeKind::Inside,
        );
    }
    if let Some(ts) = state.cursor_ns {
        painter.vline(x_of(ts), all_y, Stroke::new(1.0, theme::CURSOR));
    }
    if let Some((a, b)) = state.selection_band {
        let band = Rect::from_x_y_ranges(a.max(canvas.left())..=b.min(canvas.right()), all_y);
        painter.rect_filled(band, 0.0, theme::SELECTION.gamma_multiply(0.2));
        painter.rect_stroke(
            band,
            0.0,
            Stroke::new(1.0, theme::SELECTION),
            egui::StrokeKind::Inside,
        );
        let span = view.ns_per_px * f64::from(b - a);
        painter.text(
            band.center_top() + Vec2::new(0.0, 4.0),
            Align2::CENTER_TOP,
            axis::format_span(span),
            FontId::proportional(12.0),
            theme::SELECTION,
        );
    }
    labels.into_placed()
}
