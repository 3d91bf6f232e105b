//! `cpu_intervals` (each CPU's context lanes) and `task_states` (each task's timeline).

use crate::frame::{Frame, int32, ns};
use crate::input::TraceInput;
use crate::schema::Table;
use polars_core::prelude::DataFrame;
use rustc_hash::FxHashMap;
use trace_model::EventIdx;
use trace_model::context::UnknownReason;
use trace_model::context::lanes::IntervalLane;
use trace_model::context::state::softirq_name;
use trace_model::context::tasks::TaskRun;

/// One row of `cpu_intervals`.
struct Row {
    cpu: i32,
    kind: &'static str,
    start: u64,
    end: u64,
    value: Option<String>,
    pid: Option<i32>,
    depth: Option<i32>,
    excess: Option<i32>,
    exact: Option<bool>,
}

impl Row {
    fn new(cpu: usize, kind: &'static str, start: u64, end: u64) -> Row {
        Row {
            cpu: int32(cpu as u32),
            kind,
            start,
            end,
            value: None,
            pid: None,
            depth: None,
            excess: None,
            exact: None,
        }
    }
}

/// Appends one lane's intervals, each row filled in by `fill` from the interval's value.
fn lane<T>(
    rows: &mut Vec<Row>,
    cpu: usize,
    kind: &'static str,
    lane: &IntervalLane<T>,
    fill: impl Fn(&mut Row, &T),
) {
    for iv in lane.iter() {
        let mut row = Row::new(cpu, kind, iv.start_ns, iv.end_ns);
        fill(&mut row, iv.value);
        rows.push(row);
    }
}

pub fn cpu_intervals(input: &TraceInput) -> DataFrame {
    let (store, model) = (input.store, input.model);
    let event_name = |i: u32| Some(store.type_name(store.event_types()[i as usize]).to_owned());
    let mut rows = Vec::new();
    for (cpu, lanes) in model.cpus.iter().enumerate() {
        lane(&mut rows, cpu, "task", &lanes.tasks, |r, t| {
            r.value = Some(format!("{}-{}", model.str(t.comm), t.pid));
            r.pid = Some(t.pid);
        });
        lane(&mut rows, cpu, "softirq", &lanes.softirq, |r, s| {
            r.value = s
                .vec
                .map(|v| softirq_name(v).map_or(v.to_string(), str::to_owned));
            r.exact = Some(s.vec.is_some());
        });
        lane(&mut rows, cpu, "hardirq", &lanes.hardirq, |r, h| {
            r.value = h.irq.map(|irq| {
                format!("irq {irq} {}", model.str(h.name))
                    .trim_end()
                    .to_owned()
            });
            r.exact = Some(h.irq.is_some());
        });
        lane(&mut rows, cpu, "nmi", &lanes.nmi, |_, _| {});
        lane(&mut rows, cpu, "irqs_off", &lanes.irqs_off, |r, &first| {
            r.value = event_name(first);
        });
        lane(&mut rows, cpu, "preempt_off", &lanes.preempt_off, |r, p| {
            r.value = event_name(p.first);
            r.depth = Some(i32::from(p.depth));
            r.excess = Some(i32::from(p.excess));
        });
        lane(&mut rows, cpu, "bh_off", &lanes.bh_off, |r, &first| {
            r.value = event_name(first);
        });
        lane(&mut rows, cpu, "unknown", &lanes.unknown, |r, why| {
            r.value = Some(
                match why {
                    UnknownReason::StartOfData => "start-of-data",
                    UnknownReason::LostEvents => "lost-events",
                }
                .to_owned(),
            );
        });
    }
    let mut f = Frame::new(Table::CpuIntervals, rows.len());
    f.i32("cpu", rows.iter().map(|r| r.cpu).collect());
    f.str("kind", rows.iter().map(|r| r.kind));
    f.i64("start_ns", rows.iter().map(|r| ns(r.start)).collect());
    f.i64("end_ns", rows.iter().map(|r| ns(r.end)).collect());
    f.opt_str("value", rows.iter().map(|r| r.value.as_deref()));
    f.opt_i32("pid", rows.iter().map(|r| r.pid).collect());
    f.opt_i32("depth", rows.iter().map(|r| r.depth).collect());
    f.opt_i32("excess", rows.iter().map(|r| r.excess).collect());
    f.opt_bool("exact", rows.iter().map(|r| r.exact).collect());
    f.finish()
}

pub fn task_states(input: &TraceInput) -> DataFrame {
    let (store, tasks) = (input.store, &input.model.tasks);
    // Each task's last name: the comm of its last event.
    let mut last = FxHashMap::default();
    for (i, &pid) in store.pids().iter().enumerate() {
        last.insert(pid, i as EventIdx);
    }
    let comms: FxHashMap<i32, _> = last
        .into_iter()
        .map(|(pid, i)| (pid, store.comm(i)))
        .collect();
    let n: usize = tasks.lanes.iter().map(IntervalLane::len).sum();
    let (mut pid, mut comm, mut state, mut sleep_state, mut cpu, mut start, mut end) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (&p, lane) in tasks.pids.iter().zip(&tasks.lanes) {
        for iv in lane.iter() {
            pid.push(p);
            comm.push(comms.get(&p).map(|&c| store.str(c)));
            let (name, letters, on) = match *iv.value {
                TaskRun::Running { cpu } => ("running", None, Some(int32(cpu))),
                TaskRun::Runnable => ("runnable", None, None),
                TaskRun::Sleeping(s) => ("sleeping", Some(s.letters()), None),
            };
            state.push(name);
            sleep_state.push(letters);
            cpu.push(on);
            start.push(ns(iv.start_ns));
            end.push(ns(iv.end_ns));
        }
    }
    let mut f = Frame::new(Table::TaskStates, n);
    f.i32("pid", pid);
    f.opt_str("comm", comm);
    f.str("state", state);
    f.opt_str("sleep_state", sleep_state);
    f.opt_i32("cpu", cpu);
    f.i64("start_ns", start);
    f.i64("end_ns", end);
    f.finish()
}
