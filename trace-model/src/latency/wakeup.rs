//! Wakeup latency from the per-task timelines.

use super::{LatencyKind, Section, Source, Truncation, gap_between, gap_times};
use crate::StrId;
use crate::context::ContextModel;
use crate::context::tasks::TaskRun;
use crate::payload::Payload;
use crate::store::{EventIdx, EventStore, EventTypeId};

/// Wakeup latency: from `sched_waking` (else `sched_wakeup`) to the `sched_switch` that put
/// the task on a CPU, for every runnable interval a wakeup began.
pub(super) fn sections(store: &EventStore, model: &ContextModel, out: &mut Vec<Section>) {
    let tasks = &model.tasks;
    // Waking events by (wakee, time): one index, searched per wakeup.
    let mut by_wakee: Vec<u32> = (0..tasks.wakeups.len() as u32).collect();
    by_wakee.sort_by_key(|&w| {
        let w = &tasks.wakeups[w as usize];
        (w.wakee_pid, w.ts)
    });
    let waking_type = store.event_type_id("sched_waking");
    let wakeup_new_type = store.event_type_id("sched_wakeup_new");
    let gaps = gap_times(store, None);
    for (&pid, lane) in tasks.pids.iter().zip(&tasks.lanes) {
        for k in 0..lane.len() {
            let runnable = lane.get(k);
            if *runnable.value != TaskRun::Runnable {
                continue;
            }
            let before = k.checked_sub(1).map(|p| lane.get(p));
            if before.is_some_and(|b| matches!(b.value, TaskRun::Running { .. })) {
                continue; // preempted, not woken
            }
            let Some(wakeup) = wakeup_event_at(store, pid, runnable.start_ns, waking_type) else {
                continue;
            };
            // The waking that began it: the task's last one since it last ran (ttwu may
            // race the task's own way into schedule()).
            let ran_at = k.checked_sub(2).map_or(0, |r| lane.get(r).start_ns);
            let first = by_wakee.partition_point(|&w| {
                let w = &tasks.wakeups[w as usize];
                (w.wakee_pid, w.ts) <= (pid, runnable.start_ns)
            });
            let waking = first
                .checked_sub(1)
                .map(|w| &tasks.wakeups[by_wakee[w] as usize])
                .filter(|w| w.wakee_pid == pid && w.ts >= ran_at);
            let (start_ns, opened_by) =
                waking.map_or((runnable.start_ns, wakeup), |w| (w.ts, w.event));
            let switched_in =
                (k + 1 < lane.len())
                    .then(|| lane.get(k + 1))
                    .and_then(|n| match n.value {
                        TaskRun::Running { cpu } => Some((*cpu, n.start_ns)),
                        _ => None,
                    });
            let mut section = wakeup_section(
                store,
                &gaps,
                pid,
                start_ns,
                opened_by,
                switched_in,
                runnable.end_ns,
            );
            let new_task = Some(store.event_types()[wakeup as usize]) == wakeup_new_type;
            if waking.is_none() && before.is_none() && waking_type.is_some() && !new_task {
                // Woken as the trace began: its waking is not in the trace.
                section.truncated = Some(Truncation::StartOfData);
            }
            out.push(section);
        }
    }
}

fn wakeup_section(
    store: &EventStore,
    gaps: &[u64],
    pid: i32,
    start_ns: u64,
    opened_by: EventIdx,
    switched_in: Option<(u32, u64)>,
    end_ns: u64,
) -> Section {
    let switch = switched_in.and_then(|(cpu, ts)| {
        let view = &store.cpu_events(cpu as usize)[store.cpu_range(cpu as usize, ts, ts + 1)];
        view.iter().copied().find(|&i| {
            matches!(store.payload(i), Payload::SchedSwitch { next_pid, .. } if next_pid == pid)
        })
    });
    let comm = match switch.map(|i| store.payload(i)) {
        Some(Payload::SchedSwitch { next_comm, .. }) => next_comm,
        _ => match store.payload(opened_by) {
            Payload::SchedWakeup { comm, .. } => comm,
            _ => StrId::EMPTY,
        },
    };
    // The task may have run and slept again on any CPU inside a gap.
    let lost = gap_between(gaps, start_ns, end_ns);
    let truncated = if switched_in.is_none() {
        Some(Truncation::EndOfData)
    } else if lost {
        Some(Truncation::LostEvents)
    } else {
        None
    };
    Section {
        kind: LatencyKind::Wakeup,
        start_ns,
        end_ns,
        cpu: switched_in.map_or(store.cpus()[opened_by as usize] as u32, |(cpu, _)| cpu),
        pid,
        comm,
        source: Source::None,
        opened_by: Some(opened_by),
        closed_by: switch,
        start_slack_ns: 0,
        end_slack_ns: 0,
        unseen_ns: 0,
        truncated,
    }
}

/// The `sched_wakeup` (not `sched_waking`) of `pid` at `ts`, if one is there.
fn wakeup_event_at(
    store: &EventStore,
    pid: i32,
    ts: u64,
    waking: Option<EventTypeId>,
) -> Option<EventIdx> {
    store.range(ts, ts + 1).map(|i| i as EventIdx).find(|&i| {
        Some(store.event_types()[i as usize]) != waking
            && matches!(store.payload(i), Payload::SchedWakeup { pid: p, .. } if p == pid)
    })
}
