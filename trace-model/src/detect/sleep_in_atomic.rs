//! Sleep-in-atomic: a might-sleep call, a real sleep or a schedule while the
//! calling context is atomic: serving a softirq / hardirq / NMI, irqs or BH disabled, a
//! spinning lock or an RCU read lock held, or preemption disabled beyond the trace's
//! calibrated baseline (formats.md 4.3-4.5, 4.7).
//!
//! Judged from the context model's [`SleepCall`]s: one finding per call site (entry point and
//! caller), with every instance counted. Legal patterns stay silent by construction: sleeping
//! locks are not spinning holds, a lock released before the sleep is no longer held, the
//! scheduler's own state (sched_switch flags) is never sampled, the idle task is skipped,
//! non-blocking allocations are not calls that may sleep.

use super::evidence::LockView;
use crate::context::locks::{HoldIdx, HolderContext, LockMode};
use crate::context::primitives::{SleepEntry, base_name};
use crate::context::{ContextModel, Gfp, SleepCall, SleepKind};
use crate::finding::{AtomicCause, Cause, Shows, SleepWhy};
use crate::store::{EventIdx, EventStore};
use crate::{Confidence, Evidence, Finding, FindingInstance, FindingKind};
use std::collections::BTreeMap;

/// Finds every sleep-in-atomic instance, deduplicated by call site.
pub fn detect(store: &EventStore, model: &ContextModel) -> Vec<Finding> {
    let boot_end = early_boot_end(store);
    let rt = is_preempt_rt(store);
    let mut by_site: BTreeMap<String, Finding> = BTreeMap::new();
    for call in &model.sleep_calls {
        // Only the state the caller brought in counts: what a call does inside (the
        // allocator's RCU read lock, a mutex's wait_lock, the scheduler's irqs-off section)
        // is the primitive's own business.
        if call.root.is_some() || call.ts < boot_end || !judged(model, call) {
            continue;
        }
        let causes = atomic_causes(model, call, rt);
        if causes.is_empty() {
            continue;
        }
        let instance = Instance::new(store, model, call, causes);
        match by_site.get_mut(&instance.id) {
            Some(f) => f.absorb(instance.into_finding()),
            None => {
                by_site.insert(instance.id.clone(), instance.into_finding());
            }
        }
    }
    let mut findings: Vec<Finding> = by_site.into_values().collect();
    crate::explain::explain(&LockView::of(store, model), &mut findings);
    findings
}

/// The kernel stays silent before `system_state` reaches RUNNING: in a trace that starts at
/// boot, everything before init's first exec is early boot.
fn early_boot_end(store: &EventStore) -> u64 {
    let Some(exec) = store.event_type_id("sched_process_exec") else {
        return 0;
    };
    (0..store.len())
        .find(|&i| store.event_types()[i] == exec && store.pids()[i] == 1)
        .map_or(0, |i| store.ts()[i])
}

/// A PREEMPT_RT kernel, as its release string says (`6.6.0-rt15`).
fn is_preempt_rt(store: &EventStore) -> bool {
    store.meta.kernel_release().is_some_and(|k| k.preempt_rt)
}

/// Calls worth judging: not the idle task, not an allocation known not to block, not a
/// `__might_resched` whose allowed offset (cond_resched_lock holds one lock) is unknown.
fn judged(model: &ContextModel, call: &SleepCall) -> bool {
    if call.context == HolderContext::Task && call.pid == 0 {
        return false;
    }
    if call.gfp == Gfp::NonBlocking {
        return false;
    }
    let func = base_name(model.str(call.func));
    !(call.kind == SleepKind::Call(SleepEntry::Marker) && func == "__might_resched")
}

/// Why the call's context was atomic, each reason with the event that shows it.
fn atomic_causes(model: &ContextModel, call: &SleepCall, rt: bool) -> Vec<AtomicCause> {
    let mut causes = Vec::new();
    let lanes = &model.cpus[call.cpu as usize];
    match call.context {
        HolderContext::Softirq => {
            let vec = lanes.softirq.at(call.ts).and_then(|s| s.value.vec);
            causes.push(AtomicCause::Softirq(vec));
        }
        HolderContext::Hardirq => {
            let name = lanes.hardirq.at(call.ts).map(|h| h.value.name);
            causes.push(AtomicCause::Hardirq(name));
        }
        HolderContext::Nmi => causes.push(AtomicCause::Nmi),
        HolderContext::Task | HolderContext::Unknown => {}
    }
    let spinning: Vec<HoldIdx> = model
        .held_at(call)
        .iter()
        .copied()
        .filter(|&h| atomic_hold(model, h, rt))
        .collect();
    causes.extend(spinning.iter().map(|&h| AtomicCause::LockHeld(h)));
    let in_task = call.context == HolderContext::Task;
    if in_task && call.irqs_off == Some(true) {
        causes.push(AtomicCause::IrqsOff(
            lanes.irqs_off.at(call.ts).map(|i| *i.value),
        ));
    }
    if in_task && call.bh_off == Some(true) {
        causes.push(AtomicCause::BhOff(
            lanes.bh_off.at(call.ts).map(|i| *i.value),
        ));
    }
    let excess = call.excess_depth.unwrap_or(0);
    if excess as usize > spinning.len() && in_task {
        causes.push(AtomicCause::PreemptOff {
            excess,
            since: lanes.preempt_off.at(call.ts).map(|p| p.value.first),
        });
    }
    causes
}

/// Holds that make a context atomic: spinning locks, and the RCU read lock (lockdep's
/// pseudo-lock; sleeping inside it is invalid too).
/// On PREEMPT_RT only raw spinlocks spin: spinlock_t and rwlock_t are sleeping rtmutexes.
fn atomic_hold(model: &ContextModel, h: HoldIdx, rt: bool) -> bool {
    let hold = &model.locks.holds[h as usize];
    let spins = if rt {
        hold.mode == LockMode::RawSpin
    } else {
        hold.mode.is_spinning()
    };
    spins || hold.mode == LockMode::Pseudo && model.hold_class_name(h) == "rcu_read_lock"
}

fn evidence(store: &EventStore, i: EventIdx) -> Evidence {
    let e = store.event(i);
    Evidence {
        index: i,
        shows: Shows::Event,
        ts: e.ts,
        cpu: e.cpu,
        task: String::new(),
        event: e.name.to_owned(),
        detail: String::new(),
    }
}

/// One judged root call, ready to become or join a finding.
struct Instance {
    id: String,
    finding: Finding,
}

impl Instance {
    fn new(
        store: &EventStore,
        model: &ContextModel,
        root: &SleepCall,
        causes: Vec<AtomicCause>,
    ) -> Instance {
        let func = base_name(model.str(root.func)).to_owned();
        let caller = model.str(root.caller).to_owned();
        let called = match root.kind {
            SleepKind::RealSleep => None,
            SleepKind::Call(_) => Some(root.func),
        };
        let entry = crate::explain::sleep_entry(called.map(|f| model.str(f)));
        let id = format!("sleep-in-atomic:{caller}:{entry}");
        let definite = causes.iter().any(|c| c.definite());
        let confidence = if root.gfp == Gfp::Unknown {
            Confidence::Unverifiable
        } else if definite || root.schedule_bug.is_some() {
            Confidence::Definite
        } else {
            Confidence::Probable
        };
        // The call, the cause and the sleep can be one event (irqs first seen off at the
        // call itself): cite each event once, in time order.
        let mut cited: Vec<EventIdx> = std::iter::once(root.event)
            .chain(causes.iter().filter_map(|c| c.evidence(&model.locks.holds)))
            .chain(root.slept)
            .chain(root.schedule_bug)
            .collect();
        cited.sort_unstable();
        cited.dedup();
        let ev: Vec<Evidence> = cited.into_iter().map(|i| evidence(store, i)).collect();
        let mut functions = Vec::new();
        if !caller.is_empty() {
            functions.push(caller);
        }
        if root.kind != SleepKind::RealSleep {
            functions.push(func);
        }
        let mut locks: Vec<String> = causes
            .iter()
            .filter_map(|c| match *c {
                AtomicCause::LockHeld(h) => Some(model.hold_class_name(h).to_owned()),
                _ => None,
            })
            .collect();
        locks.dedup();
        let comm = store.str(store.comm(root.event)).to_owned();
        let last_ts = root.slept.map_or(root.ts, |s| store.ts()[s as usize]);
        let one = FindingInstance {
            cpu: root.cpu,
            pid: root.pid,
            ts: root.ts,
            span: [
                ev.first().map_or(root.ts, |e| e.ts),
                ev.last().map_or(last_ts, |e| e.ts),
            ],
        };
        Instance {
            id: id.clone(),
            finding: Finding {
                id,
                kind: FindingKind::SleepInAtomic,
                confidence,
                cpu: Some(root.cpu),
                task: Some(comm),
                pid: Some(root.pid),
                ts: [root.ts, last_ts],
                functions,
                locks,
                why: Some(
                    Cause::SleepInAtomic(SleepWhy {
                        func: called,
                        caller: root.caller,
                        ts: root.ts,
                        causes,
                        slept: root.slept,
                        schedule_bug: root.schedule_bug,
                        gfp_unknown: root.gfp == Gfp::Unknown,
                    })
                    .into(),
                ),
                summary: String::new(),
                evidence: ev,
                count: 1,
                instances: vec![one],
            },
        }
    }

    fn into_finding(self) -> Finding {
        self.finding
    }
}
