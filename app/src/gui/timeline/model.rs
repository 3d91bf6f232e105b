//! The timeline's rows, built once per trace from the context model: per CPU, the running
//! task and the context sub-lanes (hardirq, softirq, NMI, preempt-off with its depth,
//! irqs-off, BH-off, locks held), unknown ranges, lost-event gaps and the event density; then
//! one lane per task (running, runnable, sleeping by state). Each lane has its zoomed-out
//! summary.

use super::super::theme;
use super::lane::{Lane, LaneBuilder};
use super::sampled;
use super::summary::Summary;
use egui::Color32;
use rustc_hash::FxHashMap;
use trace_model::context::ContextModel;
use trace_model::context::lanes::IntervalLane;
use trace_model::context::seen::{CpuSeen, GapFinder};
use trace_model::context::tasks::TaskRun;
use trace_model::payload::TaskState;
use trace_model::{EventStore, StrId};

/// The most finest buckets of a CPU's event density: some 30 screen widths. Zoomed in
/// further, a frame counts the events of each column by binary search
/// ([`super::paint::Raster::density`]), so the summary need not grow with the events.
const DENSITY_BUCKETS: u64 = 1 << 16;

/// The sub-lanes of a CPU, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaneKind {
    Task,
    Hardirq,
    Softirq,
    Nmi,
    PreemptOff,
    IrqsOff,
    BhOff,
    Locks,
}

impl LaneKind {
    pub const ALL: [LaneKind; 8] = [
        LaneKind::Task,
        LaneKind::Hardirq,
        LaneKind::Softirq,
        LaneKind::Nmi,
        LaneKind::PreemptOff,
        LaneKind::IrqsOff,
        LaneKind::BhOff,
        LaneKind::Locks,
    ];

    /// Row label.
    pub fn label(self) -> &'static str {
        match self {
            LaneKind::Task => "task",
            LaneKind::Hardirq => "hardirq",
            LaneKind::Softirq => "softirq",
            LaneKind::Nmi => "NMI",
            LaneKind::PreemptOff => "preempt-off",
            LaneKind::IrqsOff => "irqs-off",
            LaneKind::BhOff => "BH-off",
            LaneKind::Locks => "locks held",
        }
    }
}

/// A task as the timeline colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskKey {
    pub pid: i32,
    pub comm: StrId,
}

/// What a task lane shows at a time: the value of its intervals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskActivity {
    Running,
    /// Preempted, or woken and waiting for a CPU.
    Runnable,
    /// Interruptible sleep (`S`) or idle (`I`).
    Sleeping,
    /// Uninterruptible sleep (`D`): blocked, counted as load.
    DiskSleep,
    /// Stopped, traced, parked, exiting, or a state the trace could not tell.
    Other,
}

impl TaskActivity {
    pub const ALL: [TaskActivity; 5] = [
        TaskActivity::Running,
        TaskActivity::Runnable,
        TaskActivity::Sleeping,
        TaskActivity::DiskSleep,
        TaskActivity::Other,
    ];

    /// From the context model's task state.
    pub fn of(run: &TaskRun) -> TaskActivity {
        match *run {
            TaskRun::Running { .. } => TaskActivity::Running,
            TaskRun::Runnable => TaskActivity::Runnable,
            TaskRun::Sleeping(state) => {
                let bits = state.0;
                // `I` (TASK_IDLE) is D|NOLOAD on the kernel side: an idle wait, not a block.
                if bits & TaskState::UNKNOWN != 0 {
                    TaskActivity::Other
                } else if bits & TaskState::IDLE != 0 || bits & TaskState::INTERRUPTIBLE != 0 {
                    TaskActivity::Sleeping
                } else if bits & TaskState::UNINTERRUPTIBLE != 0 {
                    TaskActivity::DiskSleep
                } else {
                    TaskActivity::Other
                }
            }
        }
    }

    /// What the lane's colour key and tooltips call it.
    pub fn name(self) -> &'static str {
        match self {
            TaskActivity::Running => "running (task colour)",
            TaskActivity::Runnable => "runnable",
            TaskActivity::Sleeping => "sleeping S / I",
            TaskActivity::DiskSleep => "blocked D",
            TaskActivity::Other => "stopped, parked, exiting",
        }
    }

    /// The lane value of this activity.
    pub fn value(self) -> u32 {
        self as u32
    }

    /// The activity of a lane value.
    pub fn from_value(v: u32) -> TaskActivity {
        Self::ALL
            .get(v as usize)
            .copied()
            .unwrap_or(TaskActivity::Other)
    }
}

/// One task's lane.
#[derive(Clone, Debug)]
pub struct TaskRow {
    pub pid: i32,
    /// The name the task last ran under (empty when it never ran in the trace).
    pub comm: StrId,
    /// Time it ran, on any CPU.
    pub running_ns: u64,
    /// A finding names this task.
    pub in_finding: bool,
    /// Values are [`TaskActivity::value`]s.
    pub lane: Lane,
}

/// One CPU's rows.
#[derive(Clone, Debug, Default)]
pub struct CpuLanes {
    lanes: Vec<Lane>,
    /// Context unknown: before the CPU's first telling event, and after lost events.
    pub unknown: Lane,
    /// Times of lost-event gaps.
    pub lost_ts: Vec<u64>,
    /// Events per time bucket.
    pub density: Summary,
}

impl CpuLanes {
    /// The lane of `kind`.
    pub fn lane(&self, kind: LaneKind) -> &Lane {
        &self.lanes[kind as usize]
    }
}

/// Everything the timeline draws, for all CPUs.
#[derive(Clone, Debug, Default)]
pub struct TimelineModel {
    pub origin_ns: u64,
    pub end_ns: u64,
    pub cpus: Vec<CpuLanes>,
    /// Task lane values index this table.
    pub tasks: Vec<TaskKey>,
    /// The colour of each task of `tasks`, and of each lock set of `lock_sets`: computed
    /// once, as frames colour thousands of columns.
    pub task_colours: Vec<Color32>,
    pub lock_colours: Vec<Color32>,
    /// Lock lane values index this table (the model's lock sets): the lock class names
    /// held, outermost first.
    pub lock_sets: Vec<Vec<StrId>>,
    /// One lane per task: tasks a finding names first, then by time running.
    pub task_rows: Vec<TaskRow>,
}

impl TimelineModel {
    /// Builds the rows of every CPU from the context model's lanes (the CPUs on the
    /// machine's cores), and the task lanes (`finding_pids`: tasks named by findings,
    /// listed first).
    pub fn build(
        store: &EventStore,
        context: &ContextModel,
        finding_pids: &[i32],
    ) -> TimelineModel {
        let Some((origin_ns, end_ns)) = store.time_span() else {
            return TimelineModel::default();
        };
        let span = Span { origin_ns, end_ns };
        let empty = Default::default();
        let cpu_context = |cpu: usize| context.cpus.get(cpu).unwrap_or(&empty);
        // Task lane values index one table for all CPUs: interned here, in CPU order.
        let mut tables = Tables::default();
        let mut task_lanes: Vec<Lane> = (0..store.cpu_count())
            .map(|cpu| {
                span.lane(&cpu_context(cpu).tasks, |t| {
                    (t.pid != 0).then(|| tables.task(t.pid, t.comm))
                })
            })
            .collect();
        let held = context.locks_held();
        let cpus = trace_model::parallel::map(store.cpu_count(), |cpu| {
            span.cpu_lanes(store, cpu, cpu_context(cpu), held.lanes.get(cpu))
        });
        let cpus = cpus
            .into_iter()
            .zip(&mut task_lanes)
            .map(|(mut lanes, task)| {
                lanes.lanes[LaneKind::Task as usize] = std::mem::take(task);
                lanes
            })
            .collect();
        let task_rows = task_rows(context, finding_pids, span);
        let lock_sets: Vec<Vec<StrId>> = held
            .sets
            .iter()
            .map(|set| {
                set.iter()
                    .map(|c| context.locks.classes[c.0 as usize].name)
                    .collect()
            })
            .collect();
        TimelineModel {
            origin_ns,
            end_ns,
            cpus,
            task_colours: tables.tasks.iter().map(|t| theme::task(t.pid)).collect(),
            lock_colours: lock_sets.iter().map(|s| theme::lock_set(s)).collect(),
            tasks: tables.tasks,
            lock_sets,
            task_rows,
        }
    }

    /// The row of task `pid`.
    pub fn task_row(&self, pid: i32) -> Option<&TaskRow> {
        self.task_rows.iter().find(|r| r.pid == pid)
    }
}

/// The name task `pid` last ran under (a task renames itself on exec), from the CPU lane
/// of its last run.
fn last_comm(context: &ContextModel, pid: i32, lane: &IntervalLane<TaskRun>) -> StrId {
    let last_run = (0..lane.len())
        .rev()
        .find_map(|i| match *lane.get(i).value {
            TaskRun::Running { cpu } => Some((cpu, lane.get(i).start_ns)),
            _ => None,
        });
    last_run
        .and_then(|(cpu, ts)| context.cpus.get(cpu as usize)?.tasks.at(ts))
        .filter(|span| span.value.pid == pid)
        .map_or(StrId::EMPTY, |span| span.value.comm)
}

/// A lane per task of the context model, sorted for the eye: tasks a finding names, then
/// the busiest.
fn task_rows(context: &ContextModel, finding_pids: &[i32], span: Span) -> Vec<TaskRow> {
    let timeline = &context.tasks;
    let mut rows: Vec<TaskRow> = timeline
        .pids
        .iter()
        .zip(&timeline.lanes)
        .map(|(&pid, lane)| TaskRow {
            pid,
            comm: last_comm(context, pid, lane),
            running_ns: lane
                .iter()
                .filter(|iv| matches!(iv.value, TaskRun::Running { .. }))
                .map(|iv| iv.end_ns - iv.start_ns)
                .sum(),
            in_finding: finding_pids.contains(&pid),
            lane: span.lane(lane, |run| Some(TaskActivity::of(run).value())),
        })
        .collect();
    rows.sort_by_key(|r| (!r.in_finding, std::cmp::Reverse(r.running_ns), r.pid));
    rows
}

#[derive(Clone, Copy)]
struct Span {
    origin_ns: u64,
    end_ns: u64,
}

impl Span {
    /// The rows of `cpu` from its context lanes and its locks held (`held`), but for its
    /// task lane (left empty: its values index a table shared by all CPUs).
    fn cpu_lanes(
        self,
        store: &EventStore,
        cpu: usize,
        ctx: &trace_model::context::CpuLanes,
        held: Option<&IntervalLane<u32>>,
    ) -> CpuLanes {
        let events = store.cpu_events(cpu);
        // One walk over the CPU's events finds both its gaps and its density.
        let ts = store.ts();
        let mut gaps = GapFinder::default();
        let times = events.iter().map(|&i| ts[i as usize]);
        let density = Summary::of_points(
            self.origin_ns,
            self.end_ns,
            events.len(),
            DENSITY_BUCKETS,
            times.inspect(|&t| gaps.push(t)),
        );
        let seen = gaps.finish();
        let lanes = vec![
            Lane::default(),
            // A hardirq without an irq number is one only the flags showed.
            self.sampled_lane(&ctx.hardirq, &seen, |h| {
                Some(h.irq.map_or(sampled::SAMPLED, |i| sampled::plain(i as u32)))
            }),
            self.lane(&ctx.softirq, |s| Some(s.vec.unwrap_or(0))),
            self.lane(&ctx.nmi, |_| Some(1)),
            // Depth above the calibrated baseline drives the intensity.
            self.sampled_lane(&ctx.preempt_off, &seen, |p| {
                let exact = sampled::preempt_off_exact(store, p.first);
                Some(sampled::mark(u32::from(p.excess.max(1)), exact))
            }),
            self.sampled_lane(&ctx.irqs_off, &seen, |&first| {
                Some(sampled::mark(1, sampled::irqs_off_exact(store, first)))
            }),
            // No event toggles BH: only the flags (kernels >= 5.18) show it.
            self.sampled_lane(&ctx.bh_off, &seen, |_| Some(sampled::mark(1, false))),
            self.lane(held.unwrap_or(&IntervalLane::default()), |&set| Some(set)),
        ];
        CpuLanes {
            lanes,
            unknown: self.lane(&ctx.unknown, |_| Some(0)),
            lost_ts: store
                .meta
                .lost
                .iter()
                .filter(|l| l.cpu as usize == cpu)
                .map(|l| l.ts)
                .collect(),
            density,
        }
    }

    /// A drawable lane from a context lane; `value` maps each interval (None: not drawn).
    fn lane<T>(self, from: &IntervalLane<T>, value: impl FnMut(&T) -> Option<u32>) -> Lane {
        self.collect(from, value, |b, start, end, v| b.push(start, end, v))
    }

    /// A lane of state the flags may only have sampled: a sampled value is drawn over the
    /// stretches the CPU's events saw, nothing across the gaps between them; an exact value
    /// over its whole interval.
    fn sampled_lane<T>(
        self,
        from: &IntervalLane<T>,
        seen: &CpuSeen,
        value: impl FnMut(&T) -> Option<u32>,
    ) -> Lane {
        self.collect(from, value, |b, start, end, v| {
            if sampled::is_sampled(v) {
                seen.stretches(start, end, |a, e| b.push(a, e, v));
            } else {
                b.push(start, end, v);
            }
        })
    }

    fn collect<T>(
        self,
        from: &IntervalLane<T>,
        mut value: impl FnMut(&T) -> Option<u32>,
        mut push: impl FnMut(&mut LaneBuilder, u64, u64, u32),
    ) -> Lane {
        let mut b = LaneBuilder::default();
        for iv in from.iter() {
            if let Some(v) = value(iv.value) {
                push(&mut b, iv.start_ns, iv.end_ns, v);
            }
        }
        b.finish(self.origin_ns, self.end_ns)
    }
}

/// Interning tables for lane values.
#[derive(Default)]
struct Tables {
    tasks: Vec<TaskKey>,
    task_ids: FxHashMap<(i32, StrId), u32>,
}

impl Tables {
    fn task(&mut self, pid: i32, comm: StrId) -> u32 {
        *self.task_ids.entry((pid, comm)).or_insert_with(|| {
            self.tasks.push(TaskKey { pid, comm });
            self.tasks.len() as u32 - 1
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::context::BuildOptions;
    use trace_model::synthetic::{SyntheticSpec, generate};

    #[test]
    fn synthetic_trace_fills_every_context_lane() {
        let store = generate(SyntheticSpec {
            events: 50_000,
            cpus: 2,
            ..SyntheticSpec::default()
        });
        let context = ContextModel::build(&store, &BuildOptions::default());
        let m = TimelineModel::build(&store, &context, &[]);
        assert_eq!(m.cpus.len(), 2);
        for kind in [
            LaneKind::Task,
            LaneKind::Hardirq,
            LaneKind::Softirq,
            LaneKind::PreemptOff,
            LaneKind::IrqsOff,
            LaneKind::Locks,
        ] {
            assert!(
                m.cpus[0].lane(kind).len() > 100,
                "{kind:?} lane has {}",
                m.cpus[0].lane(kind).len()
            );
        }
        // The lock lane names what the context model says is held.
        let lane = m.cpus[1].lane(LaneKind::Locks);
        let (start, _, set) = lane.get(lane.len() / 2);
        let held = context.state_at(&store, 1, start).unwrap().locks;
        let names: Vec<&str> = m.lock_sets[set as usize]
            .iter()
            .map(|&n| context.str(n))
            .collect();
        assert_eq!(
            held.iter().map(|h| h.class.as_str()).collect::<Vec<_>>(),
            names
        );
    }

    #[test]
    fn task_lanes_follow_the_context_model_busiest_first_after_findings() {
        let store = generate(SyntheticSpec {
            events: 30_000,
            cpus: 2,
            ..SyntheticSpec::default()
        });
        let context = ContextModel::build(&store, &BuildOptions::default());
        let plain = TimelineModel::build(&store, &context, &[]);
        assert_eq!(plain.task_rows.len(), context.tasks.pids.len());
        assert!(plain.task_rows.len() > 3);
        assert!(
            plain
                .task_rows
                .windows(2)
                .all(|w| w[0].running_ns >= w[1].running_ns)
        );
        // A task named by a finding comes first, however little it ran.
        let quiet = plain.task_rows.last().unwrap().pid;
        let m = TimelineModel::build(&store, &context, &[quiet]);
        assert_eq!(m.task_rows[0].pid, quiet);
        assert!(m.task_rows[0].in_finding);
        // Each lane shows what the context model says the task did.
        let mut states = [0usize; 5];
        for row in &m.task_rows {
            let lane = context.tasks.lane(row.pid).unwrap();
            for iv in lane.iter().filter(|iv| iv.end_ns > iv.start_ns) {
                let mid = iv.start_ns + (iv.end_ns - iv.start_ns) / 2;
                let (_, _, v) = row.lane.get(row.lane.at(mid).unwrap());
                assert_eq!(TaskActivity::from_value(v), TaskActivity::of(iv.value));
                states[v as usize] += 1;
            }
        }
        assert!(
            states[..3].iter().all(|&n| n > 0),
            "running, runnable and sleeping all occur: {states:?}"
        );
    }
}
