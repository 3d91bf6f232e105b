//! Locks held per CPU over time, as a lane of the model: one sweep over each CPU's
//! acquires and releases. A task's holds count only while that task runs on the CPU (a task
//! that sleeps holding a mutex does not lend it to the next task); an interrupt's holds
//! count from acquire to release.

use super::lanes::IntervalLane;
use super::locks::{ClassId, HoldIdx, HolderContext, LockTable};
use super::{CpuLanes, HoldSpan, TaskSpan};
use rustc_hash::FxHashMap;

/// Per CPU, the locks held by what runs on it, and the sets the lanes' values index.
#[derive(Clone, Debug, Default)]
pub struct LocksHeld {
    /// Indexed by CPU lane, like [`super::ContextModel::cpus`].
    pub lanes: Vec<IntervalLane<u32>>,
    pub sets: LockSets,
}

/// The distinct sets of lock classes held at some time, outermost first: the values of the
/// `locks_held` lanes index it, so a set held ten thousand times is stored once.
#[derive(Clone, Debug, Default)]
pub struct LockSets {
    sets: Vec<Vec<ClassId>>,
    ids: FxHashMap<Vec<ClassId>, u32>,
}

impl LockSets {
    /// The classes of set `id`, outermost first.
    pub fn get(&self, id: u32) -> &[ClassId] {
        &self.sets[id as usize]
    }

    /// Every set, by id.
    pub fn iter(&self) -> impl Iterator<Item = &[ClassId]> {
        self.sets.iter().map(Vec::as_slice)
    }

    /// Number of distinct sets.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// True when no lock is ever held.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    fn id(&mut self, classes: &[ClassId]) -> u32 {
        if let Some(&id) = self.ids.get(classes) {
            return id;
        }
        self.sets.push(classes.to_vec());
        let id = self.sets.len() as u32 - 1;
        self.ids.insert(classes.to_vec(), id);
        id
    }
}

/// Every CPU's lane from the holds and the task lanes.
pub(super) fn sweep(locks: &LockTable, spans: &[HoldSpan], cpus: &[CpuLanes]) -> LocksHeld {
    let mut by_cpu: Vec<Vec<HoldIdx>> = vec![Vec::new(); cpus.len()];
    for (i, h) in locks.holds.iter().enumerate() {
        if let Some(c) = by_cpu.get_mut(h.cpu as usize) {
            c.push(i as HoldIdx);
        }
    }
    let mut sets = LockSets::default();
    let lanes = cpus
        .iter()
        .zip(&by_cpu)
        .map(|(cpu, holds)| held_lane(locks, &edges(locks, spans, &cpu.tasks, holds), &mut sets))
        .collect();
    LocksHeld { lanes, sets }
}

/// (time, is_acquire, hold) for each piece of a hold this CPU shows; releases sort before
/// acquires at equal times.
fn edges(
    locks: &LockTable,
    spans: &[HoldSpan],
    tasks: &IntervalLane<TaskSpan>,
    holds: &[HoldIdx],
) -> Vec<(u64, bool, HoldIdx)> {
    let mut edges = Vec::with_capacity(holds.len() * 2);
    for &h in holds {
        let hold = &locks.holds[h as usize];
        let end = spans[h as usize].end_ns;
        let mut piece = |a: u64, b: u64| {
            // An empty piece would sort its release before its acquire and never end.
            if a < b {
                edges.push((a, true, h));
                edges.push((b, false, h));
            }
        };
        if hold.context == HolderContext::Task {
            for i in tasks.overlapping(hold.acquire_ts, end) {
                let run = tasks.get(i);
                if run.value.pid == hold.pid {
                    piece(run.start_ns.max(hold.acquire_ts), run.end_ns.min(end));
                }
            }
        } else {
            piece(hold.acquire_ts, end);
        }
    }
    edges.sort_unstable();
    edges
}

/// The lane of the class sets held between consecutive edges (none: not in the lane).
fn held_lane(
    locks: &LockTable,
    edges: &[(u64, bool, HoldIdx)],
    sets: &mut LockSets,
) -> IntervalLane<u32> {
    let mut lane = IntervalLane::default();
    let mut held: Vec<HoldIdx> = Vec::new();
    let mut classes: Vec<ClassId> = Vec::new();
    // The interval being extended: start, end, set.
    let mut open: Option<(u64, u64, u32)> = None;
    for (k, &(ts, acquire, h)) in edges.iter().enumerate() {
        if acquire {
            held.push(h);
        } else if let Some(i) = held.iter().rposition(|&x| x == h) {
            held.remove(i);
        }
        let next = edges.get(k + 1).map_or(ts, |e| e.0);
        if held.is_empty() || next == ts {
            continue;
        }
        classes.clear();
        classes.extend(
            held.iter()
                .map(|&h| locks.class_of(locks.holds[h as usize].lock)),
        );
        let set = sets.id(&classes);
        open = match open {
            Some((start, end, s)) if s == set && end == ts => Some((start, next, s)),
            other => {
                if let Some((start, end, s)) = other {
                    lane.push(start, end, s);
                }
                Some((ts, next, set))
            }
        };
    }
    if let Some((start, end, s)) = open {
        lane.push(start, end, s);
    }
    lane
}
