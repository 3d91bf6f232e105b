//! The label gutter left of the canvas: CPU and sub-lane names, task lane names (selected,
//! marked, in a finding, pinned), and the task section's header with its colour key.

use super::layout::{Row, RowKind};
use super::model::{LaneKind, TaskActivity};
use super::{GUTTER_PX, TimelineState};
use crate::gui::theme;
use crate::gui::trace::LoadedTrace;
use egui::{Align2, FontId, Pos2, Rangef, Rect, Ui};

pub(super) fn paint_gutter(
    painter: &egui::Painter,
    ui: &Ui,
    state: &TimelineState,
    trace: &LoadedTrace,
    rows: &[Row],
    canvas: Rect,
) {
    let gutter = Rect::from_x_y_ranges(
        canvas.left() - GUTTER_PX..=canvas.left() - 1.0,
        painter.clip_rect().y_range(),
    );
    painter.rect_filled(gutter, 0.0, ui.visuals().panel_fill);
    let strong = ui.visuals().strong_text_color();
    let weak = ui.visuals().weak_text_color();
    let selected = ui.visuals().selection.stroke.color;
    for row in rows {
        let (text, font, colour) = match row.kind {
            RowKind::Lane {
                cpu,
                kind: LaneKind::Task,
            } => {
                let c = if state.selected_cpu == Some(cpu) {
                    selected
                } else {
                    strong
                };
                (format!("CPU {cpu}"), FontId::proportional(13.0), c)
            }
            RowKind::Lane { kind, .. } => {
                (kind.label().to_owned(), FontId::proportional(9.5), weak)
            }
            RowKind::Density { .. } => ("events".to_owned(), FontId::proportional(9.5), weak),
            RowKind::TasksHeader => {
                tasks_header(painter, state, trace, row.y, canvas);
                continue;
            }
            RowKind::Task { index, pid } => {
                let task = &trace.timeline.task_rows[index];
                let c = if state.selected_task == Some(pid) {
                    selected
                } else if state.marked_tasks.contains(&pid) {
                    theme::WITNESS
                } else if task.in_finding {
                    theme::VIOLATION
                } else {
                    strong
                };
                let name = trace.store.str(task.comm);
                let label = if name.is_empty() {
                    format!("pid {pid}")
                } else {
                    trace_model::CommPid(name, pid).to_string()
                };
                // A pinned lane says so with a mark before its name.
                let pin = if state.pinned_tasks.contains(&pid) {
                    "^ "
                } else {
                    ""
                };
                let label = format!("{pin}{label}");
                // About 6 px a character at this size: cut the name, keep the pid.
                let keep = ((GUTTER_PX - 10.0) / 5.6) as usize;
                let label = if label.chars().count() > keep {
                    let pid = format!("~-{pid}");
                    let head: String = name
                        .chars()
                        .take(keep.saturating_sub(pid.chars().count()))
                        .collect();
                    head + &pid
                } else {
                    label
                };
                (label, FontId::proportional(10.0), c)
            }
        };
        painter.text(
            Pos2::new(canvas.left() - 6.0, row.y.center()),
            Align2::RIGHT_CENTER,
            text,
            font,
            colour,
        );
    }
}

/// The task section's header: fold toggle, count, and the colour key of the task lanes.
fn tasks_header(
    painter: &egui::Painter,
    state: &TimelineState,
    trace: &LoadedTrace,
    y: Rangef,
    canvas: Rect,
) {
    let fold = if state.tasks_collapsed { "[+]" } else { "[-]" };
    let text = painter.ctx().global_style().visuals.strong_text_color();
    painter.text(
        Pos2::new(canvas.left() - GUTTER_PX + 4.0, y.center()),
        Align2::LEFT_CENTER,
        match state.hidden_tasks.len() {
            0 => format!("{fold} Tasks ({})", trace.timeline.task_rows.len()),
            n => format!(
                "{fold} Tasks ({}, {n} hidden)",
                trace.timeline.task_rows.len() - n
            ),
        },
        FontId::proportional(12.0),
        text,
    );
    let mut x = canvas.left() + 6.0;
    let font = FontId::proportional(10.5);
    for activity in TaskActivity::ALL {
        let name = activity.name();
        let swatch = Rect::from_x_y_ranges(x..=x + 14.0, y.center() - 4.0..=y.center() + 4.0);
        let colour = theme::task_activity(activity, theme::task(1));
        painter.rect_filled(swatch, 1.0, colour);
        let r = painter.text(
            Pos2::new(x + 18.0, y.center()),
            Align2::LEFT_CENTER,
            name,
            font.clone(),
            text,
        );
        x = r.right() + 14.0;
    }
    painter.text(
        Pos2::new(x + 10.0, y.center()),
        Align2::LEFT_CENTER,
        "· tasks in findings first, then by CPU time · click a lane to step through its task",
        font,
        painter.ctx().global_style().visuals.weak_text_color(),
    );
}
