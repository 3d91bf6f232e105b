//! The timeline's input: keys, wheel zoom, drag pan, right/shift-drag range zoom with its
//! band, clicks for the cursor and selection, hover tooltips and the context menus.

use super::hover;
use super::layout::{Row, RowKind};
use super::model::TimelineModel;
use super::view::TimeView;
use super::{TimelineResponse, TimelineState};
use crate::gui::trace::LoadedTrace;
use egui::{Key, Pos2, Rect, Ui, Vec2};

impl TimelineState {
    /// Keyboard: zoom `+`/`-`/W/S, pan arrows/A/D, fit F/Home.
    pub(super) fn keyboard(&mut self, ui: &Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let w = f64::from(self.width_px);
        ui.input(|i| {
            let zoom_in =
                i.key_pressed(Key::Plus) || i.key_pressed(Key::Equals) || i.key_down(Key::W);
            let zoom_out = i.key_pressed(Key::Minus) || i.key_down(Key::S);
            let step = if i.key_down(Key::W) || i.key_down(Key::S) {
                1.06
            } else {
                1.6
            };
            if zoom_in {
                self.view.zoom(step, w / 2.0);
            }
            if zoom_out {
                self.view.zoom(1.0 / step, w / 2.0);
            }
            if i.key_down(Key::ArrowLeft) || i.key_down(Key::A) {
                self.view.pan_px(-w / 60.0);
            }
            if i.key_down(Key::ArrowRight) || i.key_down(Key::D) {
                self.view.pan_px(w / 60.0);
            }
            if i.key_pressed(Key::F) || i.key_pressed(Key::Home) {
                self.fit_pending = true;
            }
        });
    }
}

/// Wheel zoom (on the labels: scroll), drag pan, right/shift-drag range zoom, click for the
/// cursor.
pub(super) fn input(
    ui: &Ui,
    state: &mut TimelineState,
    trace: &LoadedTrace,
    r: &egui::Response,
    canvas: Rect,
    rows: &[Row],
) -> TimelineResponse {
    let mut out = TimelineResponse::default();
    let x_of = |p: Pos2| f64::from(p.x - canvas.left());
    if let Some(p) = r.hover_pos() {
        let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta()));
        if canvas.contains(p) {
            let factor = (f64::from(scroll.y) * 0.004).exp() * f64::from(zoom);
            if factor != 1.0 {
                state.view.zoom(factor, x_of(p));
            }
            if scroll.x != 0.0 {
                state.view.pan_px(-f64::from(scroll.x));
            }
        } else if scroll.y != 0.0 {
            // Over the labels the wheel scrolls the rows (down to the task lanes): on the
            // canvas it zooms.
            ui.scroll_with_delta(Vec2::new(0.0, scroll.y));
        }
    }
    let range_drag = r.dragged_by(egui::PointerButton::Secondary)
        || (r.dragged_by(egui::PointerButton::Primary) && ui.input(|i| i.modifiers.shift));
    if r.drag_started() && range_drag {
        // From where the button went down: a drag is recognised some points later.
        state.range_drag_from = ui
            .input(|i| i.pointer.press_origin())
            .or(r.interact_pointer_pos())
            .map(|p| p.x);
    } else if r.dragged_by(egui::PointerButton::Primary) && state.range_drag_from.is_none() {
        state.view.pan_px(-f64::from(r.drag_delta().x));
    }
    // The range a right-drag (shift-drag) will zoom to, shown while dragging.
    state.selection_band = match (state.range_drag_from, r.interact_pointer_pos()) {
        (Some(x0), Some(p)) if r.dragged() => Some((x0.min(p.x), x0.max(p.x))),
        _ => None,
    };
    state.hover_text = r
        .hover_pos()
        .filter(|_| !r.dragged())
        .and_then(|p| hover::hover_text(state, trace, rows, canvas, p));
    if let Some(text) = &state.hover_text {
        r.clone().on_hover_text_at_pointer(text);
    }
    if r.drag_stopped()
        && let (Some(x0), Some(p)) = (state.range_drag_from.take(), r.interact_pointer_pos())
    {
        let (a, b) = (x0.min(p.x), x0.max(p.x));
        if b - a > 3.0 {
            let t0 = state.view.ts_from_x(f64::from(a - canvas.left()));
            let t1 = state.view.ts_from_x(f64::from(b - canvas.left()));
            state.view = TimeView {
                start_ns: t0,
                ns_per_px: (t1 - t0) / f64::from(canvas.width()),
            };
        }
    }
    if r.clicked()
        && let Some(p) = r.interact_pointer_pos()
    {
        let ts = state.view.ts_from_x(x_of(p)).max(0.0) as u64;
        let row = rows.iter().find(|row| row.y.expand(1.0).contains(p.y));
        match row.map(|r| r.kind) {
            Some(RowKind::TasksHeader) => state.tasks_collapsed = !state.tasks_collapsed,
            Some(RowKind::Task { pid, .. }) => {
                state.selected_task = Some(pid);
                state.cursor_ns = Some(ts);
                out.clicked = Some((ts, None));
            }
            _ => {
                let cpu = row.and_then(Row::cpu);
                if cpu.is_some() {
                    state.selected_task = None;
                }
                state.cursor_ns = Some(ts);
                state.selected_cpu = cpu.or(state.selected_cpu);
                out.clicked = Some((ts, cpu));
            }
        }
    }
    if r.double_clicked() {
        state.fit_pending = true;
    }
    // The lane a right-click opened the menu on (kept while the menu is open).
    if r.secondary_clicked() {
        state.menu_task = r.interact_pointer_pos().and_then(|p| {
            rows.iter().find_map(|row| match row.kind {
                RowKind::Task { pid, .. } if row.y.contains(p.y) => Some(pid),
                _ => None,
            })
        });
    }
    let task_under_menu = state.menu_task;
    r.context_menu(|ui| {
        let at = ui
            .ctx()
            .pointer_interact_pos()
            .map(|p| state.view.ts_from_x(x_of(p)).max(0.0) as u64);
        if ui.button("Set marker A here").clicked() {
            state.marker_a = at;
            ui.close();
        }
        if ui.button("Set marker B here").clicked() {
            state.marker_b = at;
            ui.close();
        }
        if ui.button("Fit whole trace (F)").clicked() {
            state.fit_pending = true;
            ui.close();
        }
        if let Some(pid) = task_under_menu {
            task_lane_menu(ui, state, &trace.timeline, pid);
        }
    });
    out
}

/// Pin, unpin or hide the task lane `pid` (the context menu of a task lane).
fn task_lane_menu(ui: &mut Ui, state: &mut TimelineState, model: &TimelineModel, pid: i32) {
    ui.separator();
    let (mut pinned, mut hidden) = (state.pinned_tasks.clone(), state.hidden_tasks.clone());
    let is_pinned = pinned.contains(&pid);
    if ui
        .button(if is_pinned {
            "Unpin this task's lane"
        } else {
            "Pin this task's lane to the top"
        })
        .clicked()
    {
        if is_pinned {
            pinned.retain(|&p| p != pid);
        } else {
            pinned.push(pid);
        }
        state.set_task_rows(model, pinned, hidden);
        ui.close();
    } else if ui.button("Hide this task's lane").clicked() {
        hidden.push(pid);
        state.set_task_rows(model, pinned, hidden);
        ui.close();
    }
}
