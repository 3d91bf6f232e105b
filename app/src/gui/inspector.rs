//! The context inspector: at the cursor, the selected task's state, then each CPU's context
//! stack, preempt depth, irq / BH state, locks held and the last event seen.

use super::app::task_name;
use super::replay::{StepScope, step_event};
use super::theme;
use super::timeline::TimelineState;
use super::timeline::axis::format_ts;
use super::trace::LoadedTrace;
use crate::units::format_duration;
use egui::{Color32, RichText, Ui};
use trace_model::CommPid;
use trace_model::context::state::Level;
use trace_model::context::tasks::TaskRun;

/// Shows the selected task's state and every CPU's at the cursor (the selected CPU first).
pub fn inspector_ui(ui: &mut Ui, trace: &LoadedTrace, timeline: &TimelineState) {
    let (cursor_ns, selected_cpu) = (timeline.cursor_ns, timeline.selected_cpu);
    ui.heading("Context at cursor");
    let Some(ts) = cursor_ns else {
        ui.add(
            egui::Label::new("Click the timeline, or step with N / P, to place the cursor.").wrap(),
        );
        return;
    };
    ui.label(RichText::new(format_ts(ts as f64, 1.0)).monospace());
    if let Some(pid) = timeline.selected_task {
        task_ui(ui, trace, pid, ts);
    }
    ui.separator();
    let mut cpus: Vec<usize> = (0..trace.timeline.cpus.len()).collect();
    if let Some(sel) = selected_cpu {
        cpus.sort_by_key(|&c| c != sel);
    }
    egui::ScrollArea::vertical()
        .id_salt("inspector")
        .show(ui, |ui| {
            for cpu in cpus {
                cpu_ui(ui, trace, cpu, ts, selected_cpu == Some(cpu));
            }
        });
}

fn cpu_ui(ui: &mut Ui, trace: &LoadedTrace, cpu: usize, ts: u64, selected: bool) {
    let store = &trace.store;
    let Some(state) = trace.context.state_at(store, cpu as u32, ts) else {
        return;
    };
    let title = RichText::new(format!("CPU {cpu}")).strong();
    let title = if selected {
        title.color(ui.visuals().selection.stroke.color)
    } else {
        title
    };
    egui::CollapsingHeader::new(title)
        .id_salt(("inspector cpu", cpu))
        .default_open(true)
        .show(ui, |ui| {
            if let Some(reason) = state.unknown {
                ui.colored_label(theme::UNKNOWN, format!("context unknown here ({reason:?})"));
            }
            // The panel cuts long values rather than widen: the names column keeps its
            // width (a cut cell would otherwise measure, and stay, narrow).
            egui::Grid::new(("inspector grid", cpu))
                .num_columns(2)
                .min_col_width(92.0)
                .show(ui, |ui| {
                    ui.label("context");
                    ui.vertical(|ui| {
                        if state.stack.is_empty() {
                            ui.weak("idle");
                        }
                        for level in &state.stack {
                            level_ui(ui, level);
                        }
                    });
                    ui.end_row();
                    ui.label("preempt depth");
                    let depth = state
                        .preempt_depth
                        .map_or("not recorded".to_owned(), |d| d.to_string());
                    let excess = state.preempt_excess.unwrap_or(0);
                    let text = if excess > 0 {
                        format!("{depth} (+{excess} atomic)")
                    } else {
                        depth
                    };
                    let colour = if excess > 0 {
                        theme::PREEMPT_OFF
                    } else {
                        ui.visuals().text_color()
                    };
                    ui.colored_label(colour, text);
                    ui.end_row();
                    flag_row(ui, "irqs", state.irqs_off, theme::IRQS_OFF);
                    flag_row(ui, "BH", state.bh_off, theme::BH_OFF);
                    ui.label("locks held");
                    if state.locks.is_empty() {
                        ui.weak("none");
                    } else {
                        ui.vertical(|ui| {
                            for lock in &state.locks {
                                let colour = trace
                                    .context
                                    .strings
                                    .lookup(&lock.class)
                                    .map_or(theme::WITNESS, |id| theme::lock_set(&[id]));
                                ui.colored_label(
                                    colour,
                                    format!("{} ({}, {})", lock.class, lock.mode, lock.context),
                                )
                                .on_hover_text(format!(
                                    "{} taken at {}{}",
                                    lock.addr,
                                    format_ts(lock.since_ns as f64, 1.0),
                                    lock.caller
                                        .as_ref()
                                        .map_or(String::new(), |c| format!(" by {c}"))
                                ));
                            }
                        });
                    }
                    ui.end_row();
                    ui.label("last event");
                    match step_event(
                        store,
                        &trace.context,
                        ts.saturating_add(1),
                        StepScope::Cpu(cpu),
                        false,
                    ) {
                        Some(i) => {
                            let e = store.event(i);
                            let flags = e.flags.to_column().unwrap_or_default();
                            ui.label(
                                RichText::new(format!(
                                    "{} {flags}  {} ago",
                                    e.name,
                                    format_duration((ts - e.ts) as f64)
                                ))
                                .monospace(),
                            )
                        }
                        None => ui.weak("none yet"),
                    };
                    ui.end_row();
                });
        });
}

/// What task `pid` was doing at `ts`, since when.
fn task_ui(ui: &mut Ui, trace: &LoadedTrace, pid: i32, ts: u64) {
    let name = task_name(trace, pid);
    let Some(run) = trace.context.tasks.lane(pid).and_then(|l| l.at(ts)) else {
        ui.label(format!(
            "task {name}: no scheduler event tells its state here"
        ));
        return;
    };
    let (what, colour) = match *run.value {
        TaskRun::Running { cpu } => (format!("running on CPU {cpu}"), theme::task(pid)),
        TaskRun::Runnable => ("runnable, waiting for a CPU".to_owned(), theme::RUNNABLE),
        TaskRun::Sleeping(state) => {
            let activity = super::timeline::model::TaskActivity::of(run.value);
            let colour = theme::task_activity(activity, theme::task(pid));
            (
                format!("sleeping ({})", state.letters()),
                colour.to_opaque(),
            )
        }
    };
    ui.horizontal_wrapped(|ui| {
        ui.strong(format!("task {name}:"));
        ui.colored_label(colour, what);
        ui.weak(format!(
            "since {} ({} ago)",
            format_ts(run.start_ns as f64, 1.0),
            format_duration((ts - run.start_ns) as f64)
        ));
    });
}

fn level_ui(ui: &mut Ui, level: &Level) {
    match level {
        Level::Task { pid, comm } => {
            ui.colored_label(theme::task(*pid), format!("task {}", CommPid(comm, *pid)))
        }
        Level::Softirq { vec, name } => ui.colored_label(
            theme::SOFTIRQ,
            format!(
                "softirq {}",
                name.map_or_else(|| vec.map_or("?".into(), |v| v.to_string()), str::to_owned)
            ),
        ),
        Level::Hardirq { irq, name } => ui.colored_label(
            theme::HARDIRQ,
            format!(
                "hardirq {} {}",
                irq.map_or("?".into(), |i| i.to_string()),
                name.as_deref().unwrap_or("")
            ),
        ),
        Level::Nmi => ui.colored_label(theme::NMI, "NMI"),
    };
}

fn flag_row(ui: &mut Ui, name: &str, off: Option<bool>, colour: Color32) {
    ui.label(name);
    match off {
        Some(true) => ui.colored_label(colour, "disabled"),
        Some(false) => ui.label("enabled"),
        None => ui.weak("not recorded"),
    };
    ui.end_row();
}
