//! The timeline: a time axis over one block of rows per CPU (running task, context
//! sub-lanes, event density), then a collapsible section of task lanes, with the cursor,
//! markers A/B, findings and lost-event gaps on top. Zoom with the wheel, `+`/`-` or a
//! right-drag (or shift-drag) range; pan by dragging, with the arrows or WASD; `F` fits the
//! whole trace. Clicking a CPU row selects the CPU, a task lane the task.

pub mod axis;
mod hover;
pub mod labels;
pub mod lane;
pub mod model;
pub mod notes;
pub mod paint;
pub mod sampled;
pub mod summary;
pub mod view;

use super::theme;
use super::trace::LoadedTrace;
use egui::{
    Align2, Color32, FontId, Key, Mesh, Pos2, Rangef, Rect, Sense, Shape, Stroke, TextureHandle,
    TextureOptions, Ui, Vec2,
};
use labels::LabelPlacer;
use model::{LaneKind, TaskActivity, TimelineModel};
use paint::{DENSITY_LINES, Raster};
use std::sync::Arc;
use summary::Bucket;
use trace_model::CommPid;
use view::TimeView;

/// Width of the label gutter left of the canvas.
pub const GUTTER_PX: f32 = 104.0;
const AXIS_PX: f32 = 26.0;
const TASK_ROW_PX: f32 = 20.0;
const SUB_ROW_PX: f32 = 11.0;
const DENSITY_ROW_PX: f32 = 12.0;
const CPU_GAP_PX: f32 = 9.0;
const TASKS_HEADER_PX: f32 = 20.0;
const TASK_LANE_PX: f32 = 13.0;

/// A time range to emphasise (the selected finding's atomic interval or a witness).
#[derive(Clone, Debug, PartialEq)]
pub struct Highlight {
    pub cpu: Option<u32>,
    pub start_ns: u64,
    pub end_ns: u64,
    pub colour: Color32,
    pub label: String,
}

/// A point marker on a CPU row (a finding's evidence, a console splat).
#[derive(Clone, Debug, PartialEq)]
pub struct PointMarker {
    pub cpu: Option<u32>,
    pub ts_ns: u64,
    pub colour: Color32,
    pub label: String,
}

/// What the user did on the timeline this frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimelineResponse {
    /// The user clicked: the cursor moved to this time, on this CPU.
    pub clicked: Option<(u64, Option<usize>)>,
}

/// The rows' pixels of the last frame, redrawn only when what they show changed.
#[derive(Default)]
struct RowPixels {
    key: Option<(TimeView, Rect, Vec<Row>)>,
    texture: Option<TextureHandle>,
    mesh: Arc<Mesh>,
}

impl std::fmt::Debug for RowPixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowPixels").field("key", &self.key).finish()
    }
}

impl Clone for RowPixels {
    /// A clone redraws its first frame (the texture is per state).
    fn clone(&self) -> Self {
        RowPixels::default()
    }
}

/// The timeline's state: the view, the cursor, markers and what is highlighted.
#[derive(Clone, Debug, Default)]
pub struct TimelineState {
    pub view: TimeView,
    pub cursor_ns: Option<u64>,
    pub marker_a: Option<u64>,
    pub marker_b: Option<u64>,
    pub selected_cpu: Option<usize>,
    /// The task whose lane was clicked: replay steps through its events.
    pub selected_task: Option<i32>,
    /// The task lanes are folded away.
    pub tasks_collapsed: bool,
    pub highlights: Vec<Highlight>,
    pub markers: Vec<PointMarker>,
    /// Fit the whole trace at the next frame (the canvas width is known only then).
    pub fit_pending: bool,
    /// Show `[t0, t1]` at the next frame.
    pub pending_range: Option<(u64, u64)>,
    /// Scroll this task's lane into view at the next frame.
    pub scroll_to_task: Option<i32>,
    /// The user's notes, drawn as flags.
    pub notes: Vec<notes::Note>,
    /// Where each note's flag was drawn in the last frame.
    pub note_flags: Vec<Rect>,
    /// Task lanes listed first, in this order (pins).
    pub pinned_tasks: Vec<i32>,
    /// Task lanes not drawn.
    pub hidden_tasks: Vec<i32>,
    /// The task lanes in the order drawn (indices into the model's task rows), once pins or
    /// hidden lanes change it; `None`: the model's order.
    task_order: Option<Vec<usize>>,
    /// Task lanes outlined as part of the selected finding (every task of a lock-order
    /// cycle).
    pub marked_tasks: Vec<i32>,
    /// The task lane the context menu was opened on.
    menu_task: Option<i32>,
    /// The last fit and the canvas width it was made for.
    fitted: Option<(TimeView, f32)>,
    /// Width of the canvas in the last frame.
    pub width_px: f32,
    range_drag_from: Option<f32>,
    columns: Vec<Bucket>,
    pixels: RowPixels,
    /// The screen x range a range drag covers so far (drawn as a band).
    pub selection_band: Option<(f32, f32)>,
    /// The tooltip of what the pointer is over, as shown in the last frame.
    pub hover_text: Option<String>,
    /// Where the highlights' labels were drawn in the last frame (none overlap).
    pub label_rects: Vec<Rect>,
    /// The rows drawn in the last frame (only those in view), and the canvas's left edge.
    rows: Vec<Row>,
    canvas_left: f32,
}

/// One row of the layout.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowKind {
    Lane {
        cpu: usize,
        kind: LaneKind,
    },
    Density {
        cpu: usize,
    },
    TasksHeader,
    /// `index` into [`TimelineModel::task_rows`].
    Task {
        index: usize,
        pid: i32,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    kind: RowKind,
    y: Rangef,
}

impl Row {
    fn cpu(&self) -> Option<usize> {
        match self.kind {
            RowKind::Lane { cpu, .. } | RowKind::Density { cpu } => Some(cpu),
            RowKind::TasksHeader | RowKind::Task { .. } => None,
        }
    }

    /// Texture lines the row's pixels take (none for the header).
    fn lines(&self) -> usize {
        match self.kind {
            RowKind::Lane { .. } => 1,
            // Top half: running only; bottom half: every state. A full-height bar is the
            // task running, a half-height one waiting or sleeping, whatever the colours.
            RowKind::Task { .. } => 2,
            RowKind::Density { .. } => DENSITY_LINES,
            RowKind::TasksHeader => 0,
        }
    }
}

/// The sub-lanes worth showing: those with an interval on some CPU (the task lane always).
fn shown_lanes(model: &TimelineModel) -> Vec<LaneKind> {
    LaneKind::ALL
        .into_iter()
        .filter(|&k| k == LaneKind::Task || model.cpus.iter().any(|c| !c.lane(k).is_empty()))
        .collect()
}

/// The rows from `top`: every CPU's block, the tasks header, and of the task lanes only
/// those inside `clip` (thousands of tasks cost nothing while scrolled away). Returns the
/// rows and the bottom of the whole layout.
fn layout(
    model: &TimelineModel,
    top: f32,
    clip: Rangef,
    tasks_collapsed: bool,
    order: Option<&[usize]>,
) -> (Vec<Row>, f32) {
    let lanes = shown_lanes(model);
    let mut rows = Vec::new();
    let mut y = top;
    for cpu in 0..model.cpus.len() {
        for &kind in &lanes {
            let h = if kind == LaneKind::Task {
                TASK_ROW_PX
            } else {
                SUB_ROW_PX
            };
            rows.push(Row {
                kind: RowKind::Lane { cpu, kind },
                y: Rangef::new(y, y + h - 1.0),
            });
            y += h;
        }
        rows.push(Row {
            kind: RowKind::Density { cpu },
            y: Rangef::new(y + 1.0, y + DENSITY_ROW_PX),
        });
        y += DENSITY_ROW_PX + CPU_GAP_PX;
    }
    let tasks = order.map_or(model.task_rows.len(), <[usize]>::len);
    if model.task_rows.is_empty() {
        return (rows, y);
    }
    rows.push(Row {
        kind: RowKind::TasksHeader,
        y: Rangef::new(y, y + TASKS_HEADER_PX - 2.0),
    });
    y += TASKS_HEADER_PX;
    if tasks_collapsed {
        return (rows, y);
    }
    let index_at = |at: f32| (((at - y) / TASK_LANE_PX).max(0.0) as usize).min(tasks);
    for k in index_at(clip.min)..(index_at(clip.max) + 1).min(tasks) {
        let top = y + k as f32 * TASK_LANE_PX;
        let index = order.map_or(k, |o| o[k]);
        rows.push(Row {
            kind: RowKind::Task {
                index,
                pid: model.task_rows[index].pid,
            },
            y: Rangef::new(top, top + TASK_LANE_PX - 1.0),
        });
    }
    (rows, y + tasks as f32 * TASK_LANE_PX)
}

/// The task lanes' order: the pinned ones first, in the order pinned, then the others in
/// the model's order; hidden ones left out.
fn task_order(model: &TimelineModel, pinned: &[i32], hidden: &[i32]) -> Vec<usize> {
    let index_of = |pid: i32| model.task_rows.iter().position(|t| t.pid == pid);
    let shown = |pid: &i32| !hidden.contains(pid);
    let mut order: Vec<usize> = pinned
        .iter()
        .filter(|p| shown(p))
        .filter_map(|&p| index_of(p))
        .collect();
    let rest = (0..model.task_rows.len()).filter(|&i| {
        let pid = model.task_rows[i].pid;
        shown(&pid) && !pinned.contains(&pid)
    });
    order.extend(rest);
    order
}

/// Where task `pid`'s lane is in a layout ending at `bottom` with the lanes unfolded,
/// whether or not it is scrolled into view.
fn task_lane_span(
    model: &TimelineModel,
    order: Option<&[usize]>,
    bottom: f32,
    pid: i32,
) -> Option<Rangef> {
    let tasks = &model.task_rows;
    let (k, n) = match order {
        Some(o) => (o.iter().position(|&i| tasks[i].pid == pid)?, o.len()),
        None => (tasks.iter().position(|t| t.pid == pid)?, tasks.len()),
    };
    let top = bottom - (n - k) as f32 * TASK_LANE_PX;
    Some(Rangef::new(top, top + TASK_LANE_PX - 1.0))
}

fn ns(seconds: f64) -> u64 {
    (seconds * 1e9).round().max(0.0) as u64
}

/// Converts a console log's stamp (seconds since boot, as the kernel prints them) to ns.
pub fn ns_from_console_seconds(seconds: f64) -> u64 {
    ns(seconds)
}

impl TimelineState {
    /// Fits the whole trace.
    pub fn fit(&mut self) {
        self.fit_pending = true;
    }

    /// Pins, unpins or hides task lanes: the order of the lanes follows at once.
    pub fn set_task_rows(&mut self, model: &TimelineModel, pinned: Vec<i32>, hidden: Vec<i32>) {
        (self.pinned_tasks, self.hidden_tasks) = (pinned, hidden);
        self.task_order = (!self.pinned_tasks.is_empty() || !self.hidden_tasks.is_empty())
            .then(|| task_order(model, &self.pinned_tasks, &self.hidden_tasks));
    }

    /// Screen x of `ts` in the last frame.
    pub fn screen_x(&self, ts: u64) -> f32 {
        self.canvas_left + self.view.x_from_ts(ts as f64) as f32
    }

    /// Where CPU `cpu`'s block of rows was drawn in the last frame.
    pub fn cpu_block_y(&self, cpu: usize) -> Option<Rangef> {
        cpu_y(&self.rows, cpu)
    }

    /// Where CPU `cpu`'s `kind` sub-lane was drawn in the last frame.
    pub fn lane_y(&self, cpu: usize, kind: LaneKind) -> Option<Rangef> {
        let row = RowKind::Lane { cpu, kind };
        self.rows.iter().find(|r| r.kind == row).map(|r| r.y)
    }

    /// Where task `pid`'s lane was drawn in the last frame (None: scrolled away, folded).
    pub fn task_lane_y(&self, pid: i32) -> Option<Rangef> {
        self.rows
            .iter()
            .find(|r| matches!(r.kind, RowKind::Task { pid: p, .. } if p == pid))
            .map(|r| r.y)
    }

    /// Applies a pending fit or range at the canvas width of the last frame. The app calls
    /// it before the panels that follow the view (the event list) are drawn, so that they
    /// show the new view in the same frame as the timeline.
    pub fn apply_pending(&mut self, model: &TimelineModel) {
        let width = self.width_px;
        if width <= 1.0 {
            return; // Not drawn yet: the timeline applies it once its width is known.
        }
        // The panels around the canvas settle over the first frames: a view still as fitted
        // is fitted again at the new width, so the first view shows the whole trace.
        let refit = self
            .fitted
            .is_some_and(|(view, w)| view == self.view && w != width);
        if std::mem::take(&mut self.fit_pending) || refit {
            self.view = TimeView::fit(model.origin_ns, model.end_ns, width);
            self.fitted = Some((self.view, width));
        }
        if let Some((t0, t1)) = self.pending_range.take() {
            self.view.show_range(t0, t1.max(t0 + 1), width);
        }
    }

    /// Keyboard: zoom `+`/`-`/W/S, pan arrows/A/D, fit F/Home.
    fn keyboard(&mut self, ui: &Ui) {
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

/// Draws the timeline in the available space and handles its input.
pub fn timeline_ui(
    ui: &mut Ui,
    state: &mut TimelineState,
    trace: &LoadedTrace,
) -> TimelineResponse {
    let model = &trace.timeline;
    let full = ui.available_rect_before_wrap();
    let canvas_x = Rangef::new(full.left() + GUTTER_PX, full.right());
    state.width_px = canvas_x.span().max(1.0);
    state.apply_pending(model);
    state.keyboard(ui);

    let axis_rect = Rect::from_x_y_ranges(canvas_x, full.top()..=full.top() + AXIS_PX);
    let mut response = TimelineResponse::default();
    let body = Rect::from_min_max(Pos2::new(full.left(), axis_rect.bottom()), full.max);
    let mut body_ui = ui.new_child(egui::UiBuilder::new().max_rect(body));
    egui::ScrollArea::vertical()
        .id_salt("timeline rows")
        .auto_shrink([false, false])
        .scroll_source(egui::scroll_area::ScrollSource::SCROLL_BAR)
        .show(&mut body_ui, |ui| {
            let top = ui.max_rect().top();
            let clip = ui.clip_rect();
            let order = state.task_order.as_deref();
            let (rows, bottom) = layout(model, top, clip.y_range(), state.tasks_collapsed, order);
            if let Some(y) = state
                .scroll_to_task
                .take()
                .and_then(|pid| task_lane_span(model, order, bottom, pid))
            {
                ui.scroll_to_rect(
                    Rect::from_x_y_ranges(full.x_range(), y),
                    Some(egui::Align::Center),
                );
            }
            let (rect, interact) = ui.allocate_exact_size(
                Vec2::new(full.width(), bottom - top),
                Sense::click_and_drag(),
            );
            let canvas = Rect::from_x_y_ranges(canvas_x, rect.y_range());
            response = input(ui, state, trace, &interact, canvas, &rows);
            state
                .view
                .clamp_to(model.origin_ns, model.end_ns, state.width_px);
            paint_rows(ui, state, trace, rows, canvas, clip);
        });
    ui.allocate_rect(full, Sense::hover());
    axis_ui(ui, state, axis_rect);
    response
}

/// Wheel zoom (on the labels: scroll), drag pan, right/shift-drag range zoom, click for the
/// cursor.
fn input(
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

fn axis_ui(ui: &Ui, state: &TimelineState, rect: Rect) {
    let painter = ui.painter_at(rect.expand2(Vec2::new(GUTTER_PX, 0.0)));
    painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
    let step = axis::tick_step_ns(state.view.ns_per_px);
    let text = ui.visuals().text_color();
    for (ts, x) in axis::ticks(&state.view, rect.width()) {
        let x = rect.left() + x as f32;
        painter.line_segment(
            [
                Pos2::new(x, rect.bottom() - 6.0),
                Pos2::new(x, rect.bottom()),
            ],
            Stroke::new(1.0, text),
        );
        painter.text(
            Pos2::new(x + 3.0, rect.top() + 3.0),
            Align2::LEFT_TOP,
            axis::format_ts(ts, step),
            FontId::monospace(11.0),
            text,
        );
    }
    // Two short lines fit the gutter whatever the span ("292.450 s" over "in view").
    let span = axis::format_span(state.view.ns_per_px * f64::from(rect.width()));
    painter.text(
        Pos2::new(rect.left() - 6.0, rect.center().y),
        Align2::RIGHT_CENTER,
        format!("{span}\nin view"),
        FontId::proportional(10.0),
        ui.visuals().weak_text_color(),
    );
}

fn paint_rows(
    ui: &Ui,
    state: &mut TimelineState,
    trace: &LoadedTrace,
    rows: Vec<Row>,
    canvas: Rect,
    clip: Rect,
) {
    let model = &trace.timeline;
    let painter = ui.painter().with_clip_rect(clip);
    let visible: Vec<Row> = rows
        .iter()
        .copied()
        .filter(|r| r.y.intersects(clip.y_range()))
        .collect();
    let key = (state.view, canvas, visible.clone());
    if state.pixels.key.as_ref() != Some(&key) {
        let image = raster_rows(state, trace, &visible, canvas);
        let mesh = row_quads(state, ui.ctx(), image, &visible, canvas);
        state.pixels.mesh = Arc::new(mesh);
        state.pixels.key = Some(key);
    }
    painter.add(Shape::Mesh(Arc::clone(&state.pixels.mesh)));
    paint_unknown(&painter, state, model, &rows, canvas);
    paint_task_labels(&painter, state, trace, &visible, canvas);
    paint_gutter(&painter, ui, state, trace, &visible, canvas);
    state.label_rects = paint_overlays(&painter, state, &rows, canvas);
    state.note_flags = notes::paint_notes(&painter, state, canvas);
    state.rows = visible;
    state.canvas_left = canvas.left();
}

/// The pixels of every visible row, one texture line each (more for density bars), on the
/// row's background.
fn raster_rows(
    state: &mut TimelineState,
    trace: &LoadedTrace,
    visible: &[Row],
    canvas: Rect,
) -> egui::ColorImage {
    let model = &trace.timeline;
    let lines = visible.iter().map(Row::lines).sum();
    let mut columns = std::mem::take(&mut state.columns);
    let width = canvas.width().ceil() as usize;
    let mut raster = Raster::new(state.view, width, lines, &mut columns);
    let mut line = 0;
    for row in visible {
        // Alternate per CPU so a CPU's block reads as one; per task so lanes stay apart.
        let band = row.cpu().or(match row.kind {
            RowKind::Task { index, .. } => Some(index),
            _ => None,
        });
        let bg = if band.unwrap_or(0) % 2 == 0 {
            theme::ROW_BG
        } else {
            theme::ROW_BG_ALT
        };
        raster.fill_lines(line, row.lines(), bg);
        match row.kind {
            RowKind::Lane { cpu, kind } => {
                raster.lane(line, model.cpus[cpu].lane(kind), &|v| {
                    theme::lane_value(kind, v, model)
                });
            }
            RowKind::Density { cpu } => raster.density(
                line,
                &model.cpus[cpu].density,
                trace.store.ts(),
                trace.store.cpu_events(cpu),
                theme::DENSITY,
            ),
            RowKind::Task { index, pid } => {
                let running = theme::task(pid);
                let running_only = |v| match TaskActivity::from_value(v) {
                    TaskActivity::Running => running,
                    _ => Color32::TRANSPARENT,
                };
                let any = |v| theme::task_activity(TaskActivity::from_value(v), running);
                raster.lane_lines(
                    &model.task_rows[index].lane,
                    &[(line, &running_only), (line + 1, &any)],
                );
            }
            RowKind::TasksHeader => {}
        }
        line += row.lines();
    }
    let image = raster.into_image();
    state.columns = columns;
    image
}

/// Uploads the rows' pixels and returns one quad per row mapping its texture lines.
fn row_quads(
    state: &mut TimelineState,
    ctx: &egui::Context,
    image: egui::ColorImage,
    visible: &[Row],
    canvas: Rect,
) -> Mesh {
    let [width, lines] = image.size;
    let texture = match &mut state.pixels.texture {
        Some(t) => {
            t.set(image, TextureOptions::NEAREST);
            t
        }
        slot @ None => {
            slot.insert(ctx.load_texture("timeline rows", image, TextureOptions::NEAREST))
        }
    };
    let mut mesh = Mesh::with_texture(texture.id());
    let u1 = canvas.width() / width as f32;
    let mut line = 0;
    for row in visible.iter().filter(|r| r.lines() > 0) {
        let v0 = line as f32 / lines as f32;
        line += row.lines();
        let v1 = line as f32 / lines as f32;
        mesh.add_rect_with_uv(
            Rect::from_x_y_ranges(canvas.x_range(), row.y),
            Rect::from_min_max(Pos2::new(0.0, v0), Pos2::new(u1, v1)),
            Color32::WHITE,
        );
    }
    mesh
}

/// Unknown-context ranges, hatched over the CPU's whole block; lost-event gaps as red lines.
fn paint_unknown(
    painter: &egui::Painter,
    state: &TimelineState,
    model: &TimelineModel,
    rows: &[Row],
    canvas: Rect,
) {
    let view = &state.view;
    let (t0, t1) = (
        view.start_ns.max(0.0) as u64,
        view.end_ns(canvas.width()).max(0.0) as u64 + 1,
    );
    let stroke = Stroke::new(1.0, theme::UNKNOWN.gamma_multiply(0.7));
    for (cpu, lanes) in model.cpus.iter().enumerate() {
        let Some(y) = cpu_y(rows, cpu) else { continue };
        let range = lanes.unknown.visible(t0, t1);
        for i in range.take(500) {
            let (s, e, _) = lanes.unknown.get(i);
            let x0 = canvas.left() + view.x_from_ts(s as f64).max(-2.0) as f32;
            let x1 = canvas.left() + (view.x_from_ts(e as f64) as f32).min(canvas.width() + 2.0);
            if x1 - x0 < 1.0 {
                continue;
            }
            let r = Rect::from_x_y_ranges(x0..=x1, y);
            painter.rect_filled(r, 0.0, theme::UNKNOWN.gamma_multiply(0.25));
            let hatch = painter.with_clip_rect(r.intersect(painter.clip_rect()));
            let mut x = x0 - y.span();
            while x < x1 {
                hatch.line_segment(
                    [Pos2::new(x, y.max), Pos2::new(x + y.span(), y.min)],
                    stroke,
                );
                x += 8.0;
            }
        }
        let lo = lanes.lost_ts.partition_point(|&t| t < t0);
        for &t in lanes.lost_ts[lo..]
            .iter()
            .take_while(|&&t| t < t1)
            .take(500)
        {
            let x = canvas.left() + view.x_from_ts(t as f64) as f32;
            painter.line_segment(
                [Pos2::new(x, y.min), Pos2::new(x, y.max)],
                Stroke::new(2.0, theme::LOST),
            );
            painter.text(
                Pos2::new(x + 2.0, y.min),
                Align2::LEFT_TOP,
                "lost",
                FontId::proportional(10.0),
                theme::LOST,
            );
        }
    }
}

/// The y range of a CPU's whole block.
fn cpu_y(rows: &[Row], cpu: usize) -> Option<Rangef> {
    let mut it = rows.iter().filter(|r| r.cpu() == Some(cpu));
    let first = it.next()?;
    let last = it.next_back().unwrap_or(first);
    Some(Rangef::new(first.y.min, last.y.max))
}

/// Task names inside task intervals wide enough for them.
fn paint_task_labels(
    painter: &egui::Painter,
    state: &TimelineState,
    trace: &LoadedTrace,
    rows: &[Row],
    canvas: Rect,
) {
    const MAX_LABELS: usize = 400;
    let view = &state.view;
    let (t0, t1) = (
        view.start_ns.max(0.0) as u64,
        view.end_ns(canvas.width()).max(0.0) as u64 + 1,
    );
    let mut drawn = 0;
    for (cpu, row) in rows.iter().filter_map(|r| match r.kind {
        RowKind::Lane {
            cpu,
            kind: LaneKind::Task,
        } => Some((cpu, r)),
        _ => None,
    }) {
        let lane = trace.timeline.cpus[cpu].lane(LaneKind::Task);
        let range = lane.visible(t0, t1);
        if range.len() > canvas.width() as usize / 8 {
            continue; // Nothing wide enough for text at this zoom.
        }
        for i in range {
            let (s, e, v) = lane.get(i);
            let x0 = (canvas.left() + view.x_from_ts(s as f64) as f32).max(canvas.left());
            let x1 = (canvas.left() + view.x_from_ts(e as f64) as f32).min(canvas.right());
            if x1 - x0 < 40.0 || drawn >= MAX_LABELS {
                continue;
            }
            let task = trace.timeline.tasks[v as usize];
            let text = CommPid(trace.store.str(task.comm), task.pid).to_string();
            let max_chars = ((x1 - x0 - 6.0) / 6.5) as usize;
            let text: String = text.chars().take(max_chars).collect();
            painter
                .with_clip_rect(Rect::from_x_y_ranges(x0..=x1, row.y))
                .text(
                    Pos2::new(x0 + 3.0, row.y.center()),
                    Align2::LEFT_CENTER,
                    text,
                    FontId::proportional(11.0),
                    Color32::BLACK,
                );
            drawn += 1;
        }
    }
}

fn paint_gutter(
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
                    format!("{name}-{pid}")
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

/// Highlights, point markers, markers A/B and the cursor; returns where the labels went.
fn paint_overlays(
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
