//! Replay: stepping the cursor event by event (on the selected CPU, or the selected task, or
//! all), violation by violation, or playing forward at a chosen speed.

use super::timeline::ns_from_seconds;
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
        // A task's events are not indexed: scan from the cursor (a key press, not a frame).
        StepScope::Task(pid) => {
            let pids = store.pids();
            if forward {
                let from = ts.partition_point(|&t| t <= cursor_ns);
                (from..ts.len())
                    .find(|&i| pids[i] == pid)
                    .map(|i| i as EventIdx)
            } else {
                let to = ts.partition_point(|&t| t < cursor_ns);
                (0..to)
                    .rev()
                    .find(|&i| pids[i] == pid)
                    .map(|i| i as EventIdx)
            }
        }
    }
}

/// The finding whose first instance is the next (previous) one after (before) `cursor_ns`.
pub fn step_violation(
    findings: &[Finding],
    cursor_ns: Option<u64>,
    forward: bool,
) -> Option<usize> {
    let start = |f: &Finding| ns_from_seconds(f.ts[0]);
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (start(&findings[i]), i));
    match (cursor_ns, forward) {
        (None, true) => order.first().copied(),
        (None, false) => order.last().copied(),
        (Some(c), true) => order.into_iter().find(|&i| start(&findings[i]) > c),
        (Some(c), false) => order.into_iter().rev().find(|&i| start(&findings[i]) < c),
    }
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
    use trace_model::synthetic::{SyntheticSpec, generate};

    #[test]
    fn steps_visit_neighbours_in_scope() {
        let s = generate(SyntheticSpec {
            events: 3_000,
            cpus: 2,
            ..SyntheticSpec::default()
        });
        let mid = s.ts()[1500];
        let next = step_event(&s, mid, StepScope::Cpu(1), true).unwrap();
        assert_eq!(s.cpus()[next as usize], 1);
        assert!(s.ts()[next as usize] > mid);
        let prev = step_event(&s, mid, StepScope::Cpu(1), false).unwrap();
        assert!(s.ts()[prev as usize] < mid);
        // No CPU-1 event lies strictly between prev and next except at `mid` itself.
        let between = s.cpu_events(1).iter().filter(|&&i| {
            let t = s.ts()[i as usize];
            t > s.ts()[prev as usize] && t < s.ts()[next as usize] && t != mid
        });
        assert_eq!(between.count(), 0);
        let pid = s.pids()[1600];
        let t = step_event(&s, mid, StepScope::Task(pid), true).unwrap();
        assert_eq!(s.pids()[t as usize], pid);
    }
}
