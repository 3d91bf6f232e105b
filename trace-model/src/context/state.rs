//! The state of one CPU at one time (what the timeline cursor and `kctx context --at` show),
//! answered from the lanes and a per-holder index of lock holds by binary search.

use super::locks::{HoldIdx, HolderContext, LockTable};
use super::{ContextModel, HoldSpan, UnknownReason};
use crate::store::EventStore;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Holds longer than this are kept apart, so that a query walks back over short holds only.
const LONG_HOLD_NS: u64 = 10_000_000;
/// How many events back a query looks for the last recorded preempt depth.
const SAMPLE_LOOKBACK: usize = 256;

/// Who holds a lock: a task (pid; the idle task is per CPU) or one interrupt level of a CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum OwnerKey {
    Task(i64),
    Irq(u32, HolderContext),
}

impl OwnerKey {
    fn of_task(pid: i32, cpu: u32) -> OwnerKey {
        OwnerKey::Task(if pid == 0 {
            -i64::from(cpu) - 1
        } else {
            i64::from(pid)
        })
    }
}

#[derive(Clone, Debug, Default)]
struct OwnerHolds {
    /// By acquire time.
    short: Vec<HoldIdx>,
    long: Vec<HoldIdx>,
}

/// Holds per owner, for "held at t" queries.
#[derive(Clone, Debug, Default)]
pub(super) struct OwnerIndex {
    by_owner: FxHashMap<OwnerKey, OwnerHolds>,
}

impl OwnerIndex {
    pub(super) fn build(locks: &LockTable, spans: &[HoldSpan]) -> OwnerIndex {
        let mut by_owner: FxHashMap<OwnerKey, OwnerHolds> = FxHashMap::default();
        for (i, h) in locks.holds.iter().enumerate() {
            let key = match h.context {
                HolderContext::Task | HolderContext::Unknown => OwnerKey::of_task(h.pid, h.cpu),
                irq => OwnerKey::Irq(h.cpu, irq),
            };
            let o = by_owner.entry(key).or_default();
            if spans[i].end_ns - h.acquire_ts > LONG_HOLD_NS {
                o.long.push(i as HoldIdx);
            } else {
                o.short.push(i as HoldIdx);
            }
        }
        OwnerIndex { by_owner }
    }

    /// The owner's holds held at `ts`, in acquire order.
    fn held_at(&self, model: &ContextModel, key: OwnerKey, ts: u64) -> Vec<HoldIdx> {
        let Some(o) = self.by_owner.get(&key) else {
            return Vec::new();
        };
        let holds = &model.locks.holds;
        let held = |&h: &HoldIdx| {
            holds[h as usize].acquire_ts <= ts && model.hold_spans[h as usize].end_ns > ts
        };
        let end = o
            .short
            .partition_point(|&h| holds[h as usize].acquire_ts <= ts);
        let mut out: Vec<HoldIdx> = o.short[..end]
            .iter()
            .rev()
            .take_while(|&&h| holds[h as usize].acquire_ts + LONG_HOLD_NS >= ts)
            .filter(|h| held(h))
            .copied()
            .collect();
        out.extend(o.long.iter().filter(|h| held(h)));
        out.sort_unstable();
        out
    }
}

/// One level of a CPU's context stack.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Level {
    Task {
        pid: i32,
        comm: String,
    },
    Softirq {
        vec: Option<u32>,
        name: Option<&'static str>,
    },
    Hardirq {
        irq: Option<i32>,
        name: Option<String>,
    },
    Nmi,
}

/// A lock held at the queried time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldLock {
    pub hold: HoldIdx,
    pub class: String,
    pub addr: String,
    pub mode: &'static str,
    /// Task or interrupt level that holds it.
    pub context: &'static str,
    pub since_ns: u64,
    /// The function that took it, when the trace shows it.
    pub caller: Option<String>,
}

/// What one CPU was doing at one time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CpuState {
    pub cpu: u32,
    pub ts_ns: u64,
    /// Set when the context is not known at this time.
    pub unknown: Option<UnknownReason>,
    /// Outermost (task) first.
    pub stack: Vec<Level>,
    /// The depth the last event at or before `ts_ns` recorded.
    pub preempt_depth: Option<u8>,
    /// Preempt levels above the trace's calibrated baseline (0: preemptible as far as the
    /// depth tells).
    pub preempt_excess: Option<u8>,
    pub irqs_off: Option<bool>,
    pub bh_off: Option<bool>,
    /// Locks held by the task and the interrupt levels on the stack, in acquire order.
    pub locks: Vec<HeldLock>,
}

/// The name of softirq vector `vec` (include/linux/interrupt.h).
pub fn softirq_name(vec: u32) -> Option<&'static str> {
    const NAMES: [&str; 10] = [
        "HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER",
        "RCU",
    ];
    NAMES.get(vec as usize).copied()
}

impl ContextModel {
    /// The state of `cpu` at `ts_ns`, or None when the trace has no such CPU.
    pub fn state_at(&self, store: &EventStore, cpu: u32, ts_ns: u64) -> Option<CpuState> {
        let lanes = self.cpus.get(cpu as usize)?;
        let mut stack = Vec::new();
        let mut owners = Vec::new();
        if let Some(t) = lanes.tasks.at(ts_ns) {
            stack.push(Level::Task {
                pid: t.value.pid,
                comm: self.str(t.value.comm).to_owned(),
            });
            owners.push(OwnerKey::of_task(t.value.pid, cpu));
        }
        if let Some(s) = lanes.softirq.at(ts_ns) {
            stack.push(Level::Softirq {
                vec: s.value.vec,
                name: s.value.vec.and_then(softirq_name),
            });
            owners.push(OwnerKey::Irq(cpu, HolderContext::Softirq));
        }
        if let Some(h) = lanes.hardirq.at(ts_ns) {
            let name = self.str(h.value.name);
            stack.push(Level::Hardirq {
                irq: h.value.irq,
                name: (!name.is_empty()).then(|| name.to_owned()),
            });
            owners.push(OwnerKey::Irq(cpu, HolderContext::Hardirq));
        }
        if lanes.nmi.at(ts_ns).is_some() {
            stack.push(Level::Nmi);
            owners.push(OwnerKey::Irq(cpu, HolderContext::Nmi));
        }
        let unknown = lanes.unknown.at(ts_ns).map(|u| *u.value);
        let last_depth = {
            let events = store.cpu_events(cpu as usize);
            let end = store
                .cpu_range(cpu as usize, 0, ts_ns.saturating_add(1))
                .end;
            events[..end]
                .iter()
                .rev()
                .take(SAMPLE_LOOKBACK)
                .find_map(|&i| store.flags()[i as usize].preempt_depth())
        };
        let has_flags = last_depth.is_some() && unknown.is_none();
        let covered = |hit: bool| has_flags.then_some(hit);
        let preempt = lanes.preempt_off.at(ts_ns);
        let locks = owners
            .into_iter()
            .flat_map(|o| self.owners.held_at(self, o, ts_ns))
            .map(|h| self.held_lock(h))
            .collect();
        Some(CpuState {
            cpu,
            ts_ns,
            unknown,
            stack,
            preempt_depth: last_depth.filter(|_| unknown.is_none()),
            preempt_excess: covered(true).map(|_| preempt.map_or(0, |p| p.value.excess)),
            irqs_off: covered(lanes.irqs_off.at(ts_ns).is_some()),
            bh_off: covered(lanes.bh_off.at(ts_ns).is_some())
                .filter(|_| self.build_stats.bh_visible),
            locks,
        })
    }

    fn held_lock(&self, h: HoldIdx) -> HeldLock {
        let hold = &self.locks.holds[h as usize];
        HeldLock {
            hold: h,
            class: self.hold_class_name(h).to_owned(),
            addr: format!("{:#x}", self.locks.locks[hold.lock.0 as usize].addr),
            mode: hold.mode.name(),
            context: hold.context.name(),
            since_ns: hold.acquire_ts,
            caller: hold.caller.map(|c| self.str(c).to_owned()),
        }
    }

    /// Holds of the task `pid` (as it ran on `cpu`) held at `ts_ns`.
    pub fn task_holds_at(&self, pid: i32, cpu: u32, ts_ns: u64) -> Vec<HoldIdx> {
        self.owners
            .held_at(self, OwnerKey::of_task(pid, cpu), ts_ns)
    }
}
