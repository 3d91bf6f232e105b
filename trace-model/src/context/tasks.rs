//! Per-task timelines from the scheduler events: running (on which CPU), runnable (preempted
//! or woken, waiting for a CPU) and sleeping (with the state `sched_switch` reported), plus
//! migrations and wakeups. The idle tasks (pid 0) are left out.

use super::lanes::IntervalLane;
use crate::payload::{Payload, TaskState};
use crate::store::{EventIdx, EventStore};
use rustc_hash::FxHashMap;

/// What a task was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskRun {
    Running {
        cpu: u32,
    },
    /// Preempted (`R` / `R+`) or woken and waiting for a CPU.
    Runnable,
    /// Left the CPU in this state (`S`, `D`, `I`...).
    Sleeping(TaskState),
}

/// A task moved to another CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Migration {
    pub ts: u64,
    pub pid: i32,
    pub from_cpu: i32,
    pub to_cpu: i32,
    pub event: EventIdx,
}

/// A wakeup: who woke whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wakeup {
    pub ts: u64,
    /// The waker: the task running on `waker_cpu` (for a wakeup from an interrupt, the
    /// interrupted task).
    pub waker_pid: i32,
    pub waker_cpu: u32,
    pub wakee_pid: i32,
    pub target_cpu: i32,
    pub event: EventIdx,
}

/// All tasks' timelines.
#[derive(Clone, Debug, Default)]
pub struct TaskTimeline {
    /// Task pids, ascending; `lanes[i]` belongs to `pids[i]`.
    pub pids: Vec<i32>,
    pub lanes: Vec<IntervalLane<TaskRun>>,
    pub migrations: Vec<Migration>,
    pub wakeups: Vec<Wakeup>,
}

impl TaskTimeline {
    /// Builds the timelines from `sched_switch`, `sched_wakeup*`, `sched_waking` and
    /// `sched_migrate_task`.
    pub fn build(store: &EventStore) -> TaskTimeline {
        let waking = store.event_type_id("sched_waking");
        let mut open: FxHashMap<i32, (u64, TaskRun)> = FxHashMap::default();
        let mut lanes: FxHashMap<i32, IntervalLane<TaskRun>> = FxHashMap::default();
        let mut out = TaskTimeline::default();
        let mut set = |pid: i32, ts: u64, run: TaskRun| {
            if pid == 0 {
                return;
            }
            if let Some((start, prev)) = open.insert(pid, (ts, run)) {
                lanes.entry(pid).or_default().push(start, ts, prev);
            }
        };
        for i in 0..store.len() as EventIdx {
            let u = i as usize;
            let ts = store.ts()[u];
            let cpu = u32::from(store.cpus()[u]);
            match store.payload(i) {
                Payload::SchedSwitch {
                    prev_pid,
                    prev_state,
                    next_pid,
                    ..
                } => {
                    let prev = if prev_state.is_runnable() {
                        TaskRun::Runnable
                    } else {
                        TaskRun::Sleeping(prev_state)
                    };
                    set(prev_pid, ts, prev);
                    set(next_pid, ts, TaskRun::Running { cpu });
                }
                Payload::SchedWakeup {
                    pid, target_cpu, ..
                } => {
                    let is_waking = Some(store.event_types()[u]) == waking;
                    if !is_waking {
                        set(pid, ts, TaskRun::Runnable);
                    }
                    if is_waking || waking.is_none() {
                        out.wakeups.push(Wakeup {
                            ts,
                            waker_pid: store.pids()[u],
                            waker_cpu: cpu,
                            wakee_pid: pid,
                            target_cpu,
                            event: i,
                        });
                    }
                }
                Payload::SchedMigrate {
                    pid,
                    orig_cpu,
                    dest_cpu,
                    ..
                } => out.migrations.push(Migration {
                    ts,
                    pid,
                    from_cpu: orig_cpu,
                    to_cpu: dest_cpu,
                    event: i,
                }),
                _ => {}
            }
        }
        let end = store.time_span().map_or(0, |s| s.1);
        for (pid, (start, run)) in open {
            lanes.entry(pid).or_default().push(start, end, run);
        }
        let mut lanes: Vec<_> = lanes.into_iter().collect();
        lanes.sort_unstable_by_key(|(pid, _)| *pid);
        (out.pids, out.lanes) = lanes.into_iter().unzip();
        out
    }

    /// The timeline of one task.
    pub fn lane(&self, pid: i32) -> Option<&IntervalLane<TaskRun>> {
        let i = self.pids.binary_search(&pid).ok()?;
        Some(&self.lanes[i])
    }
}
