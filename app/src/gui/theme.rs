//! Colours: one per context kind, one per task and lock (stable hashes), and the highlight
//! colours of findings, markers and the cursor.

use super::timeline::model::{LaneKind, TaskActivity, TimelineModel};
use egui::Color32;

pub const HARDIRQ: Color32 = Color32::from_rgb(0xf0, 0x6a, 0x2c);
pub const SOFTIRQ: Color32 = Color32::from_rgb(0xf5, 0xb0, 0x1b);
pub const NMI: Color32 = Color32::from_rgb(0xe6, 0x49, 0x80);
pub const PREEMPT_OFF: Color32 = Color32::from_rgb(0x4d, 0xab, 0xf7);
pub const IRQS_OFF: Color32 = Color32::from_rgb(0xff, 0x5c, 0x5c);
pub const BH_OFF: Color32 = Color32::from_rgb(0x5c, 0xd6, 0x6f);
pub const UNKNOWN: Color32 = Color32::from_rgb(0x70, 0x70, 0x78);
pub const LOST: Color32 = Color32::from_rgb(0xff, 0x30, 0x30);
pub const CURSOR: Color32 = Color32::from_rgb(0xff, 0xff, 0xff);
pub const MARKER_A: Color32 = Color32::from_rgb(0x40, 0xe0, 0xd0);
pub const MARKER_B: Color32 = Color32::from_rgb(0xff, 0x9f, 0xf3);
pub const VIOLATION: Color32 = Color32::from_rgb(0xff, 0x3b, 0x3b);
pub const PROBABLE: Color32 = Color32::from_rgb(0xff, 0x9a, 0x3b);
pub const UNVERIFIABLE: Color32 = Color32::from_rgb(0x8f, 0xa3, 0xc4);
pub const SELECTION: Color32 = Color32::from_rgb(0x6c, 0xc4, 0xff);
pub const SPLAT: Color32 = Color32::from_rgb(0xc0, 0x84, 0xfc);
pub const NOTE: Color32 = Color32::from_rgb(0xff, 0xe0, 0x8a);
pub const WITNESS: Color32 = Color32::from_rgb(0xff, 0xd4, 0x3b);
pub const DENSITY: Color32 = Color32::from_rgb(0x8c, 0x9c, 0xb4);
pub const RUNNABLE: Color32 = Color32::from_rgb(0xd8, 0xe8, 0x6a);
pub const SLEEPING: Color32 = Color32::from_rgb(0x5a, 0x6c, 0x8c);
pub const DISK_SLEEP: Color32 = Color32::from_rgb(0xe0, 0x7b, 0x39);
pub const TASK_OTHER: Color32 = Color32::from_rgb(0x80, 0x80, 0x80);
pub const ROW_BG: Color32 = Color32::from_rgb(0x1e, 0x21, 0x27);
pub const ROW_BG_ALT: Color32 = Color32::from_rgb(0x23, 0x26, 0x2d);

/// A finding's colour by how sure it is: red for what the trace proves, orange for what
/// sampled state makes likely, grey-blue for what the trace cannot decide.
pub fn confidence(c: trace_model::Confidence) -> Color32 {
    match c {
        trace_model::Confidence::Definite => VIOLATION,
        trace_model::Confidence::Probable => PROBABLE,
        trace_model::Confidence::Unverifiable => UNVERIFIABLE,
    }
}

/// A stable, well-spread colour for a key (a pid, a lock name id): golden-ratio hues.
pub fn hashed(key: u32, saturation: f32, value: f32) -> Color32 {
    let h = (key.wrapping_mul(0x9e37_79b9) >> 8) as f32 / (1u32 << 24) as f32;
    egui::ecolor::Hsva::new(h, saturation, value, 1.0).into()
}

/// A task's colour.
pub fn task(pid: i32) -> Color32 {
    hashed(pid as u32, 0.50, 0.78)
}

/// The colour of a value of a context lane, before coverage is applied.
pub fn lane_value(kind: LaneKind, value: u32, model: &TimelineModel) -> Color32 {
    use super::timeline::sampled;
    // What only the flags showed is a guess between events: drawn faint.
    if sampled::is_sampled(value) {
        return lane_value(kind, sampled::plain(value), model).gamma_multiply(0.42);
    }
    match kind {
        LaneKind::Task => model
            .task_colours
            .get(value as usize)
            .copied()
            .unwrap_or_else(|| task(0)),
        LaneKind::Hardirq => HARDIRQ,
        LaneKind::Softirq => SOFTIRQ,
        LaneKind::Nmi => NMI,
        // Depth as intensity: 1 is pale, 3 and more full.
        LaneKind::PreemptOff => PREEMPT_OFF.gamma_multiply((0.35 + 0.22 * value as f32).min(1.0)),
        LaneKind::IrqsOff => IRQS_OFF,
        LaneKind::BhOff => BH_OFF,
        LaneKind::Locks => model
            .lock_colours
            .get(value as usize)
            .copied()
            .unwrap_or_else(|| lock_set(&[])),
    }
}

/// A set of locks held (outermost first): the innermost lock names the colour.
pub fn lock_set(names: &[trace_model::StrId]) -> Color32 {
    hashed(names.last().map_or(0, |n| n.0), 0.45, 0.95)
}

/// The colour of a task lane: the task's own colour while it runs (`running`), a state
/// colour otherwise. Sleeping is muted: most tasks sleep most of the time.
pub fn task_activity(activity: TaskActivity, running: Color32) -> Color32 {
    match activity {
        TaskActivity::Running => running,
        TaskActivity::Runnable => RUNNABLE,
        TaskActivity::Sleeping => SLEEPING.gamma_multiply(0.55),
        TaskActivity::DiskSleep => DISK_SLEEP,
        TaskActivity::Other => TASK_OTHER.gamma_multiply(0.7),
    }
}
