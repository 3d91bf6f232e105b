//! What the pointer is over on the timeline, in words for its tooltip: a finding or splat
//! marker, a highlighted range (a finding's atomic span, a witness), else the interval of the
//! row under it (its value, length and ends).

use super::layout::{Row, RowKind, cpu_y};
use super::model::{LaneKind, TaskActivity, TimelineModel};
use super::{TimelineState, sampled};
use crate::gui::trace::LoadedTrace;
use crate::units::format_duration;
use egui::{Pos2, Rect};
use trace_model::CommPid;
use trace_model::seconds;

/// Points either side of a marker's tip that still hover it.
const MARKER_SLACK_PX: f32 = 6.0;

/// The tooltip for the pointer at `p` over `canvas`.
pub(super) fn hover_text(
    state: &TimelineState,
    trace: &LoadedTrace,
    rows: &[Row],
    canvas: Rect,
    p: Pos2,
) -> Option<String> {
    let view = &state.view;
    let x_of = |ts: u64| canvas.left() + view.x_from_ts(ts as f64) as f32;
    let y_of = |cpu: Option<u32>| {
        cpu.and_then(|c| cpu_y(rows, c as usize))
            .unwrap_or(canvas.y_range())
    };
    if let Some(text) = super::notes::hover_note(state, p) {
        return Some(text);
    }
    // The last painted is on top.
    let marker = state.markers.iter().rev().find(|m| {
        let y = y_of(m.cpu).min;
        (x_of(m.ts_ns) - p.x).abs() <= MARKER_SLACK_PX && (y..=y + 10.0).contains(&p.y)
    });
    if let Some(m) = marker {
        return Some(format!("{} at {:.6} s", m.label, seconds(m.ts_ns)));
    }
    let ts = view.ts_from_x(f64::from(p.x - canvas.left())).max(0.0) as u64;
    let highlight = state.highlights.iter().find(|h| {
        let x = x_of(h.start_ns) - 2.0..=x_of(h.end_ns).max(x_of(h.start_ns) + 3.0) + 2.0;
        x.contains(&p.x) && y_of(h.cpu).contains(p.y)
    });
    if let Some(h) = highlight {
        return Some(format!(
            "{}\n{} from {:.6} s",
            h.label,
            format_duration((h.end_ns - h.start_ns) as f64),
            seconds(h.start_ns)
        ));
    }
    let row = rows.iter().find(|r| r.y.contains(p.y))?;
    interval_text(&trace.timeline, trace, row.kind, ts)
}

/// The interval of a row at `ts`: what it is, how long, from when to when.
fn interval_text(
    model: &TimelineModel,
    trace: &LoadedTrace,
    kind: RowKind,
    ts: u64,
) -> Option<String> {
    let (lane, what): (_, &dyn Fn(u32) -> String) = match kind {
        RowKind::Lane { cpu, kind } => {
            let lane = model.cpus.get(cpu)?.lane(kind);
            (lane, &move |v| lane_value_text(model, trace, kind, v))
        }
        RowKind::Task { index, .. } => {
            let row = model.task_rows.get(index)?;
            (&row.lane, &|v| {
                TaskActivity::from_value(v).name().to_owned()
            })
        }
        RowKind::Density { .. } | RowKind::TasksHeader => return None,
    };
    let (start, end, v) = lane.get(lane.at(ts)?);
    Some(format!(
        "{}\n{} from {:.6} to {:.6} s",
        what(v),
        format_duration(end.saturating_sub(start) as f64),
        seconds(start),
        seconds(end)
    ))
}

/// A CPU sub-lane's value in words.
fn lane_value_text(model: &TimelineModel, trace: &LoadedTrace, kind: LaneKind, v: u32) -> String {
    match kind {
        LaneKind::Task => model.tasks.get(v as usize).map_or_else(
            || "task".to_owned(),
            |t| format!("task {}", CommPid(trace.store.str(t.comm), t.pid)),
        ),
        LaneKind::PreemptOff => format!(
            "preempt-off, depth {}\n{}",
            sampled::plain(v),
            sampled::source_text(v)
        ),
        LaneKind::Hardirq | LaneKind::IrqsOff | LaneKind::BhOff => {
            let irq = match sampled::plain(v) {
                n if kind == LaneKind::Hardirq && !sampled::is_sampled(v) => format!(" {n}"),
                _ => String::new(),
            };
            format!("{}{irq}\n{}", kind.label(), sampled::source_text(v))
        }
        LaneKind::Locks => {
            let names = model.lock_sets.get(v as usize).into_iter().flatten();
            let names: Vec<&str> = names.map(|&n| trace.context.str(n)).collect();
            format!("locks held: {}", names.join(" > "))
        }
        other => other.label().to_owned(),
    }
}
