//! Replay: stepping the cursor event by event (on the selected CPU, or the selected task, or
//! all), violation by violation, or playing forward at a chosen speed.

use super::findings::{Selection, instance_times};
use trace_model::context::ContextModel;
use trace_model::context::lanes::Interval;
use trace_model::context::tasks::TaskRun;
use trace_model::payload::Payload;
use trace_model::{EventIdx, EventStore, Finding};

/// Which events a step visits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StepScope {
    #[default]
    All,
    Cpu(usize),
    Task(i32),
}

/// The next (or previous) event strictly after (before) `cursor_ns` in `scope`.
pub fn step_event(
    store: &EventStore,
    context: &ContextModel,
    cursor_ns: u64,
    scope: StepScope,
    forward: bool,
) -> Option<EventIdx> {
    let ts = store.ts();
    match scope {
        StepScope::All => {
            let i = if forward {
                ts.partition_point(|&t| t <= cursor_ns)
            } else {
                ts.partition_point(|&t| t < cursor_ns).checked_sub(1)?
            };
            (i < ts.len()).then_some(i as EventIdx)
        }
        StepScope::Cpu(cpu) => {
            let events = store.cpu_events(cpu);
            let k = if forward {
                events.partition_point(|&i| ts[i as usize] <= cursor_ns)
            } else {
                events
                    .partition_point(|&i| ts[i as usize] < cursor_ns)
                    .checked_sub(1)?
            };
            events.get(k).copied()
        }
        StepScope::Task(pid) => {
            let lane = context.tasks.lane(pid)?;
            let task = TaskSteps { store, pid };
            if forward {
                let first = lane.overlapping(cursor_ns, u64::MAX).start;
                (first..lane.len()).find_map(|k| task.first_in(lane.get(k), cursor_ns))
            } else {
                let end = lane.overlapping(0, cursor_ns).end;
                (0..end)
                    .rev()
                    .find_map(|k| task.last_in(lane.get(k), cursor_ns))
            }
        }
    }
}

/// A task's events: those it ran (the pid column names the task current on the CPU), and
/// the scheduler events that changed its state (switched in or out, woken). Found through
/// its timeline in the context model, an interval at a time: the event that started the
/// interval, then, while it ran, a binary search in that CPU's events. No scan of the trace.
struct TaskSteps<'a> {
    store: &'a EventStore,
    pid: i32,
}

impl TaskSteps<'_> {
    /// The scheduler event at `ts` that changed the task's state.
    fn transition(&self, ts: u64) -> Option<EventIdx> {
        let waking = self.store.event_type_id("sched_waking");
        self.store.range(ts, ts + 1).find_map(|i| {
            let changed = match self.store.payload(i as EventIdx) {
                Payload::SchedSwitch {
                    prev_pid, next_pid, ..
                } => prev_pid == self.pid || next_pid == self.pid,
                Payload::SchedWakeup { pid, .. } => {
                    pid == self.pid && Some(self.store.event_types()[i]) != waking
                }
                _ => false,
            };
            changed.then_some(i as EventIdx)
        })
    }

    /// The task's events while it ran on `cpu` in `[start, end]`.
    fn ran(&self, cpu: u32, start: u64, end: u64) -> impl DoubleEndedIterator<Item = EventIdx> {
        let events = self.store.cpu_events(cpu as usize);
        let range = self
            .store
            .cpu_range(cpu as usize, start, end.saturating_add(1));
        let pids = self.store.pids();
        events[range]
            .iter()
            .copied()
            .filter(move |&i| pids[i as usize] == self.pid)
    }

    /// The task's first event in `iv` strictly after `cursor_ns`.
    fn first_in(&self, iv: Interval<'_, TaskRun>, cursor_ns: u64) -> Option<EventIdx> {
        if iv.start_ns > cursor_ns
            && let Some(i) = self.transition(iv.start_ns)
        {
            return Some(i);
        }
        match *iv.value {
            TaskRun::Running { cpu } if iv.end_ns > cursor_ns => self
                .ran(cpu, iv.start_ns.max(cursor_ns + 1), iv.end_ns)
                .next(),
            _ => None,
        }
    }

    /// The task's last event in `iv` strictly before `cursor_ns`.
    fn last_in(&self, iv: Interval<'_, TaskRun>, cursor_ns: u64) -> Option<EventIdx> {
        let during = match *iv.value {
            TaskRun::Running { cpu } if cursor_ns > iv.start_ns => self
                .ran(cpu, iv.start_ns, iv.end_ns.min(cursor_ns - 1))
                .next_back(),
            _ => None,
        };
        during.or_else(|| {
            (iv.start_ns < cursor_ns)
                .then(|| self.transition(iv.start_ns))
                .flatten()
        })
    }
}

/// The instance of a finding (finding, instance) that is the next (previous) one after
/// (before) `cursor_ns`, over every instance of every finding.
pub fn step_violation(
    findings: &[Finding],
    cursor_ns: Option<u64>,
    forward: bool,
) -> Option<Selection> {
    let mut order: Vec<(u64, usize, usize)> = findings
        .iter()
        .enumerate()
        .flat_map(|(i, f)| instance_times(f).enumerate().map(move |(k, t)| (t, i, k)))
        .collect();
    order.sort_unstable();
    let found = match (cursor_ns, forward) {
        (None, true) => order.first().copied(),
        (None, false) => order.last().copied(),
        (Some(c), true) => order.into_iter().find(|&(t, ..)| t > c),
        (Some(c), false) => order.into_iter().rev().find(|&(t, ..)| t < c),
    };
    found.map(|(_, i, k)| (i, k))
}

/// Playing forward: trace time advances `speed` times real time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Playback {
    /// Trace ns per real second.
    pub speed_ns_per_s: f64,
}

impl Playback {
    /// Speeds offered in the toolbar, in trace time per real second.
    pub const SPEEDS: [(f64, &'static str); 5] = [
        (1e3, "1 µs/s"),
        (1e4, "10 µs/s"),
        (1e5, "100 µs/s"),
        (1e6, "1 ms/s"),
        (1e7, "10 ms/s"),
    ];

    /// The cursor after `dt_s` real seconds.
    pub fn advance(&self, cursor_ns: u64, dt_s: f64) -> u64 {
        cursor_ns + (self.speed_ns_per_s * dt_s).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::context::BuildOptions;
    use trace_model::synthetic::{SyntheticSpec, generate};

    #[test]
    fn steps_visit_neighbours_in_scope() {
        let s = generate(SyntheticSpec {
            events: 3_000,
            cpus: 2,
            ..SyntheticSpec::default()
        });
        let context = ContextModel::build(&s, &BuildOptions::default());
        let mid = s.ts()[1500];
        let next = step_event(&s, &context, mid, StepScope::Cpu(1), true).unwrap();
        assert_eq!(s.cpus()[next as usize], 1);
        assert!(s.ts()[next as usize] > mid);
        let prev = step_event(&s, &context, mid, StepScope::Cpu(1), false).unwrap();
        assert!(s.ts()[prev as usize] < mid);
        // No CPU-1 event lies strictly between prev and next except at `mid` itself.
        let between = s.cpu_events(1).iter().filter(|&&i| {
            let t = s.ts()[i as usize];
            t > s.ts()[prev as usize] && t < s.ts()[next as usize] && t != mid
        });
        assert_eq!(between.count(), 0);
    }

    /// The brute-force definition of a task's events: it is current (pid column), or a
    /// switch / wakeup names it.
    fn is_task_event(s: &EventStore, i: usize, pid: i32) -> bool {
        let waking = s.event_type_id("sched_waking");
        s.pids()[i] == pid
            || match s.payload(i as EventIdx) {
                Payload::SchedSwitch {
                    prev_pid, next_pid, ..
                } => prev_pid == pid || next_pid == pid,
                Payload::SchedWakeup { pid: p, .. } => {
                    p == pid && Some(s.event_types()[i]) != waking
                }
                _ => false,
            }
    }

    #[test]
    fn task_steps_agree_with_a_scan_of_the_trace() {
        let s = generate(SyntheticSpec {
            events: 20_000,
            cpus: 4,
            ..SyntheticSpec::default()
        });
        let context = ContextModel::build(&s, &BuildOptions::default());
        let pids: Vec<i32> = context.tasks.pids.iter().copied().take(6).collect();
        assert!(pids.len() >= 3, "{pids:?}");
        let ts = s.ts();
        for &pid in &pids {
            let lane = context.tasks.lane(pid).unwrap();
            let (first, last) = (lane.get(0).start_ns, lane.get(lane.len() - 1).start_ns);
            for k in 1..40u64 {
                let cursor = first + (last - first) * k / 40;
                let scan_next = (0..s.len()).find(|&i| ts[i] > cursor && is_task_event(&s, i, pid));
                let scan_prev = (0..s.len())
                    .rev()
                    .find(|&i| ts[i] < cursor && ts[i] >= first && is_task_event(&s, i, pid));
                let next = step_event(&s, &context, cursor, StepScope::Task(pid), true);
                let prev = step_event(&s, &context, cursor, StepScope::Task(pid), false);
                // Same time (several events can share a timestamp).
                assert_eq!(
                    next.map(|i| ts[i as usize]),
                    scan_next.map(|i| ts[i]),
                    "pid {pid} after {cursor}"
                );
                assert_eq!(
                    prev.map(|i| ts[i as usize]),
                    scan_prev.map(|i| ts[i]),
                    "pid {pid} before {cursor}"
                );
                if let Some(i) = next {
                    assert!(is_task_event(&s, i as usize, pid));
                }
            }
        }
    }
}
