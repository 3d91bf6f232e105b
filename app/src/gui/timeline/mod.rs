//! The timeline: a time axis over one block of rows per CPU (running task, context
//! sub-lanes, event density), then a collapsible section of task lanes, with the cursor,
//! markers A/B, findings and lost-event gaps on top. Zoom with the wheel, `+`/`-` or a
//! right-drag (or shift-drag) range; pan by dragging, with the arrows or WASD; `F` fits the
//! whole trace. Clicking a CPU row selects the CPU, a task lane the task.

pub mod axis;
mod gutter;
mod hover;
mod input;
pub mod labels;
pub mod lane;
mod layout;
pub mod model;
pub mod notes;
mod overlays;
pub mod paint;
mod rows;
pub mod sampled;
pub mod summary;
pub mod view;

use super::trace::LoadedTrace;
use egui::{Color32, Pos2, Rangef, Rect, Sense, Ui, Vec2};
use layout::{AXIS_PX, Row, RowKind, cpu_y, layout, task_lane_span, task_order};
use model::{LaneKind, TimelineModel};
use rows::RowPixels;
use summary::Bucket;
use view::TimeView;

/// Width of the label gutter left of the canvas.
pub const GUTTER_PX: f32 = 104.0;

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

    /// The rows' model was replaced (a preview by the whole trace): redraw every row.
    pub fn model_replaced(&mut self) {
        self.pixels = rows::RowPixels::default();
        self.rows.clear();
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
            response = input::input(ui, state, trace, &interact, canvas, &rows);
            state
                .view
                .clamp_to(model.origin_ns, model.end_ns, state.width_px);
            rows::paint_rows(ui, state, trace, rows, canvas, clip);
        });
    ui.allocate_rect(full, Sense::hover());
    axis::axis_ui(ui, state, axis_rect);
    response
}
