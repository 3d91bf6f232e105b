//! Where each row goes: every CPU's block of sub-lanes and its density strip, the task
//! section's header, then the task lanes (only those scrolled into view), in the order pins
//! and hidden lanes give.

use super::model::{LaneKind, TimelineModel};
use super::paint::DENSITY_LINES;
use egui::Rangef;

pub(super) const AXIS_PX: f32 = 26.0;
const TASK_ROW_PX: f32 = 20.0;
const SUB_ROW_PX: f32 = 11.0;
const DENSITY_ROW_PX: f32 = 12.0;
const CPU_GAP_PX: f32 = 9.0;
const TASKS_HEADER_PX: f32 = 20.0;
const TASK_LANE_PX: f32 = 13.0;

/// One row of the layout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum RowKind {
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
pub(super) struct Row {
    pub(super) kind: RowKind,
    pub(super) y: Rangef,
}

impl Row {
    pub(super) fn cpu(&self) -> Option<usize> {
        match self.kind {
            RowKind::Lane { cpu, .. } | RowKind::Density { cpu } => Some(cpu),
            RowKind::TasksHeader | RowKind::Task { .. } => None,
        }
    }

    /// Texture lines the row's pixels take (none for the header).
    pub(super) fn lines(&self) -> usize {
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
pub(super) fn layout(
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
pub(super) fn task_order(model: &TimelineModel, pinned: &[i32], hidden: &[i32]) -> Vec<usize> {
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
pub(super) fn task_lane_span(
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

/// The y range of a CPU's whole block.
pub(super) fn cpu_y(rows: &[Row], cpu: usize) -> Option<Rangef> {
    let mut it = rows.iter().filter(|r| r.cpu() == Some(cpu));
    let first = it.next()?;
    let last = it.next_back().unwrap_or(first);
    Some(Rangef::new(first.y.min, last.y.max))
}
