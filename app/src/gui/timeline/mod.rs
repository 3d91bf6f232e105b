//! The timeline: a time axis over one block of rows per CPU (running task, context
//! sub-lanes, event density), with the cursor, markers A/B, findings and lost-event gaps on
//! top. Zoom with the wheel, `+`/`-` or a right-drag (or shift-drag) range; pan by dragging,
//! with the arrows or WASD; `F` fits the whole trace.

pub mod axis;
pub mod lane;
pub mod model;
pub mod paint;
pub mod summary;
pub mod view;

use super::theme;
use super::trace::LoadedTrace;
use egui::{
    Align2, Color32, FontId, Key, Mesh, Pos2, Rangef, Rect, Sense, Shape, Stroke, Ui, Vec2,
};
use model::{LaneKind, TimelineModel};
use paint::Canvas;
use summary::Bucket;
use view::TimeView;

/// Width of the label gutter left of the canvas.
pub const GUTTER_PX: f32 = 104.0;
const AXIS_PX: f32 = 26.0;
const TASK_ROW_PX: f32 = 20.0;
const SUB_ROW_PX: f32 = 11.0;
const DENSITY_ROW_PX: f32 = 12.0;
const CPU_GAP_PX: f32 = 9.0;

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
    pub highlights: Vec<Highlight>,
    pub markers: Vec<PointMarker>,
    /// Fit the whole trace at the next frame (the canvas width is known only then).
    pub fit_pending: bool,
    /// Show `[t0, t1]` at the next frame.
    pub pending_range: Option<(u64, u64)>,
    /// Width of the canvas in the last frame.
    pub width_px: f32,
    range_drag_from: Option<f32>,
    columns: Vec<Bucket>,
}

/// One row of the layout.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowKind {
    Lane(LaneKind),
    Density,
}

#[derive(Clone, Copy, Debug)]
struct Row {
    cpu: usize,
    kind: RowKind,
    y: Rangef,
}

/// The sub-lanes worth showing: those with an interval on some CPU (the task lane always).
fn shown_lanes(model: &TimelineModel) -> Vec<LaneKind> {
    LaneKind::ALL
        .into_iter()
        .filter(|&k| k == LaneKind::Task || model.cpus.iter().any(|c| !c.lane(k).is_empty()))
        .collect()
}

fn layout(model: &TimelineModel, top: f32) -> (Vec<Row>, f32) {
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
                cpu,
                kind: RowKind::Lane(kind),
                y: Rangef::new(y, y + h - 1.0),
            });
            y += h;
        }
        rows.push(Row {
            cpu,
            kind: RowKind::Density,
            y: Rangef::new(y + 1.0, y + DENSITY_ROW_PX),
        });
        y += DENSITY_ROW_PX + CPU_GAP_PX;
    }
    (rows, y)
}

fn ns(seconds: f64) -> u64 {
    (seconds * 1e9).round().max(0.0) as u64
}

/// Converts trace seconds (a [`trace_model::Finding`]'s unit) to ns.
pub fn ns_from_seconds(seconds: f64) -> u64 {
    ns(seconds)
}

impl TimelineState {
    /// Fits the whole trace.
    pub fn fit(&mut self) {
        self.fit_pending = true;
    }

    fn apply_pending(&mut self, model: &TimelineModel, width: f32) {
        if std::mem::take(&mut self.fit_pending) {
            self.view = TimeView::fit(model.origin_ns, model.end_ns, width);
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
    state.apply_pending(model, state.width_px);
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
            let (rows, bottom) = layout(model, top);
            let (rect, interact) = ui.allocate_exact_size(
                Vec2::new(full.width(), bottom - top),
                Sense::click_and_drag(),
            );
            let canvas = Rect::from_x_y_ranges(canvas_x, rect.y_range());
            let clip = ui.clip_rect();
            response = input(ui, state, &interact, canvas, &rows);
            paint_rows(ui, state, trace, &rows, canvas, clip);
        });
    ui.allocate_rect(full, Sense::hover());
    axis_ui(ui, state, axis_rect);
    response
}

/// Wheel zoom, drag pan, right/shift-drag range zoom, click for the cursor.
fn input(
    ui: &Ui,
    state: &mut TimelineState,
    r: &egui::Response,
    canvas: Rect,
    rows: &[Row],
) -> TimelineResponse {
    let mut out = TimelineResponse::default();
    let x_of = |p: Pos2| f64::from(p.x - canvas.left());
    if let Some(p) = r.hover_pos().filter(|p| canvas.contains(*p)) {
        let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta()));
        let factor = (f64::from(scroll.y) * 0.004).exp() * f64::from(zoom);
        if factor != 1.0 {
            state.view.zoom(factor, x_of(p));
        }
        if scroll.x != 0.0 {
            state.view.pan_px(-f64::from(scroll.x));
        }
    }
    let range_drag = r.dragged_by(egui::PointerButton::Secondary)
        || (r.dragged_by(egui::PointerButton::Primary) && ui.input(|i| i.modifiers.shift));
    if r.drag_started() && range_drag {
        state.range_drag_from = r.interact_pointer_pos().map(|p| p.x);
    } else if r.dragged_by(egui::PointerButton::Primary) && state.range_drag_from.is_none() {
        state.view.pan_px(-f64::from(r.drag_delta().x));
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
        let cpu = rows
            .iter()
            .find(|row| row.y.expand(1.0).contains(p.y))
            .map(|row| row.cpu);
        state.cursor_ns = Some(ts);
        state.selected_cpu = cpu.or(state.selected_cpu);
        out.clicked = Some((ts, cpu));
    }
    if r.double_clicked() {
        state.fit_pending = true;
    }
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
    });
    out
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
    let span = axis::format_duration(state.view.ns_per_px * f64::from(rect.width()));
    painter.text(
        Pos2::new(rect.left() - 6.0, rect.center().y),
        Align2::RIGHT_CENTER,
        format!("{span} in view"),
        FontId::proportional(11.0),
        ui.visuals().weak_text_color(),
    );
}

fn paint_rows(
    ui: &Ui,
    state: &mut TimelineState,
    trace: &LoadedTrace,
    rows: &[Row],
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
    let mut mesh = Mesh::default();
    let mut columns = std::mem::take(&mut state.columns);
    let mut c = Canvas {
        mesh: &mut mesh,
        rect: canvas,
        view: state.view,
        columns: &mut columns,
    };
    // Row backgrounds: alternate per CPU so a CPU's block reads as one.
    for row in &visible {
        let bg = if row.cpu % 2 == 0 {
            theme::ROW_BG
        } else {
            theme::ROW_BG_ALT
        };
        c.mesh
            .add_colored_rect(Rect::from_x_y_ranges(canvas.x_range(), row.y), bg);
    }
    for row in &visible {
        let lanes = &model.cpus[row.cpu];
        match row.kind {
            RowKind::Lane(kind) => {
                c.lane(lanes.lane(kind), row.y, &|v| {
                    theme::lane_value(kind, v, model)
                });
            }
            RowKind::Density => {
                c.density(
                    &lanes.density,
                    trace.store.ts(),
                    trace.store.cpu_events(row.cpu),
                    row.y,
                );
            }
        }
    }
    state.columns = columns;
    painter.add(Shape::mesh(mesh));
    paint_unknown(&painter, state, model, rows, canvas);
    paint_task_labels(&painter, state, trace, &visible, canvas);
    paint_gutter(&painter, ui, state, &visible, canvas);
    paint_overlays(&painter, state, rows, canvas);
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
    let mut it = rows.iter().filter(|r| r.cpu == cpu);
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
    for row in rows
        .iter()
        .filter(|r| r.kind == RowKind::Lane(LaneKind::Task))
    {
        let lane = trace.timeline.cpus[row.cpu].lane(LaneKind::Task);
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
            let text = format!("{}-{}", trace.store.str(task.comm), task.pid);
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
    for row in rows {
        let (text, font, colour) = match row.kind {
            RowKind::Lane(LaneKind::Task) => {
                let selected = state.selected_cpu == Some(row.cpu);
                let c = if selected {
                    ui.visuals().selection.stroke.color
                } else {
                    strong
                };
                (format!("CPU {}", row.cpu), FontId::proportional(13.0), c)
            }
            RowKind::Lane(kind) => (kind.label().to_owned(), FontId::proportional(9.5), weak),
            RowKind::Density => ("events".to_owned(), FontId::proportional(9.5), weak),
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

/// Highlights, point markers, markers A/B and the cursor.
fn paint_overlays(painter: &egui::Painter, state: &TimelineState, rows: &[Row], canvas: Rect) {
    let view = &state.view;
    let x_of = |ts: u64| canvas.left() + view.x_from_ts(ts as f64) as f32;
    let all_y = Rangef::new(canvas.top(), canvas.bottom());
    let y_of = |cpu: Option<u32>| cpu.and_then(|c| cpu_y(rows, c as usize)).unwrap_or(all_y);
    for h in &state.highlights {
        let (x0, x1) = (x_of(h.start_ns), x_of(h.end_ns));
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
        // Wide ranges label their right end, points their left: two labels never collide.
        let (at, align) = if r.width() > 120.0 {
            (r.right_top() + Vec2::new(-2.0, -2.0), Align2::RIGHT_BOTTOM)
        } else {
            (r.left_top() + Vec2::new(2.0, -2.0), Align2::LEFT_BOTTOM)
        };
        painter.text(at, align, &h.label, FontId::proportional(11.0), h.colour);
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
    if let Some(ts) = state.cursor_ns {
        painter.vline(x_of(ts), all_y, Stroke::new(1.0, theme::CURSOR));
    }
}
