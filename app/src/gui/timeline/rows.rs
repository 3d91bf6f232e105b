//! The rows' pixels: each visible row rastered into one texture line (two for a task lane,
//! more for density), uploaded once per change of view or layout, then the hatched
//! unknown-context ranges, lost-event lines and task names drawn over them.

use super::gutter::paint_gutter;
use super::layout::{Row, RowKind, cpu_y};
use super::model::{LaneKind, TaskActivity, TimelineModel};
use super::overlays::paint_overlays;
use super::paint::Raster;
use super::view::TimeView;
use super::{TimelineState, notes};
use crate::gui::theme;
use crate::gui::trace::LoadedTrace;
use egui::{
    Align2, Color32, FontId, Mesh, Pos2, Rect, Shape, Stroke, TextureHandle, TextureOptions, Ui,
};
use std::sync::Arc;
use trace_model::CommPid;

/// The rows' pixels of the last frame, redrawn only when what they show changed.
#[derive(Default)]
pub(super) struct RowPixels {
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

pub(super) fn paint_rows(
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
