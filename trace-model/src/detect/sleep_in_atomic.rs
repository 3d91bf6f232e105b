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

use crate::CommPid;
use crate::context::locks::{HoldIdx, HolderContext, LockMode};
use crate::context::primitives::{SleepEntry, base_name};
use crate::context::state::softirq_name;
use crate::context::{ContextModel, Gfp, SleepCall, SleepKind};
use crate::payload::Payload;
use crate::store::{EventIdx, EventStore};
use crate::{Confidence, Evidence, Finding, FindingInstance, FindingKind, seconds};
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
        let causes = atomic_causes(store, model, call, rt);
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
    by_site.into_values().collect()
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

/// One reason the context was atomic, with how sure it is and the event that shows it.
struct Cause {
    text: String,
    lock: Option<String>,
    definite: bool,
    evidence: Option<EventIdx>,
}

fn atomic_causes(
    store: &EventStore,
    model: &ContextModel,
    call: &SleepCall,
    rt: bool,
) -> Vec<Cause> {
    let mut causes = Vec::new();
    let lanes = &model.cpus[call.cpu as usize];
    match call.context {
        HolderContext::Softirq => {
            let vec = lanes.softirq.at(call.ts).and_then(|s| s.value.vec);
            let name = vec.and_then(softirq_name).unwrap_or("?");
            causes.push(Cause {
                text: format!("serving softirq {name}"),
                lock: None,
                definite: true,
                evidence: None,
            });
        }
        HolderContext::Hardirq => {
            let name = lanes
                .hardirq
                .at(call.ts)
                .map(|h| model.str(h.value.name).to_owned())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "?".into());
            causes.push(Cause {
                text: format!("in hardirq context ({name})"),
                lock: None,
                definite: true,
                evidence: None,
            });
        }
        HolderContext::Nmi => causes.push(Cause {
            text: "in NMI context".into(),
            lock: None,
            definite: true,
            evidence: None,
        }),
        HolderContext::Task | HolderContext::Unknown => {}
    }
    let spinning: Vec<HoldIdx> = model
        .held_at(call)
        .iter()
        .copied()
        .filter(|&h| atomic_hold(model, h, rt))
        .collect();
    for &h in &spinning {
        let hold = &model.locks.holds[h as usize];
        let class = model.hold_class_name(h).to_owned();
        let by = hold
            .caller
            .map(|c| format!(" in {}()", model.str(c)))
            .unwrap_or_default();
        causes.push(Cause {
            text: format!(
                "{} {class} ({}) taken at {:.6}{by} is held",
                if hold.mode == LockMode::Pseudo {
                    "RCU read lock"
                } else {
                    "spinlock"
                },
                hold.mode.name(),
                seconds(hold.acquire_ts)
            ),
            lock: Some(class),
            definite: true,
            evidence: Some(hold.acquire_event),
        });
    }
    let in_task = call.context == HolderContext::Task;
    for (off, lane, what) in [
        (call.irqs_off, &lanes.irqs_off, "irqs disabled"),
        (call.bh_off, &lanes.bh_off, "softirqs (BH) disabled"),
    ] {
        if off == Some(true) && in_task {
            let first = lane.at(call.ts).map(|i| *i.value);
            causes.push(Cause {
                text: format!("{what}{}", since(store, model, first)),
                lock: None,
                definite: true,
                evidence: first,
            });
        }
    }
    let excess = call.excess_depth.unwrap_or(0);
    if excess as usize > spinning.len() && in_task {
        let first = lanes.preempt_off.at(call.ts).map(|p| p.value.first);
        causes.push(Cause {
            text: format!(
                "preemption disabled ({excess} level(s) above this trace's baseline){}",
                since(store, model, first)
            ),
            lock: None,
            definite: false,
            evidence: first,
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

/// " at T by f()" for the event that first showed a state.
fn since(store: &EventStore, model: &ContextModel, first: Option<EventIdx>) -> String {
    let Some(i) = first else {
        return String::new();
    };
    let ts = seconds(store.ts()[i as usize]);
    match store.payload(i) {
        Payload::IrqDisable { caller, .. } | Payload::PreemptDisable { caller, .. } => {
            format!(" at {ts:.6} by {}", model.str(caller))
        }
        _ => format!(" since {ts:.6} (first seen at {})", describe(store, i)),
    }
}

/// A short description of an event for evidence lists.
pub fn describe(store: &EventStore, i: EventIdx) -> String {
    let e = store.event(i);
    let s = |id| store.str(id);
    match e.payload {
        Payload::Function { func, parent } => format!("{} <- {}", s(func), s(parent)),
        Payload::FuncGraphEntry { func, .. } => format!("{}()", s(func)),
        Payload::LockProbe { addr, probed } => format!("{} lock={addr:#x}", s(probed)),
        Payload::LockAcquire {
            addr,
            name,
            trylock,
            read,
        } => format!(
            "{}{}{} {addr:#x}",
            if trylock { "try " } else { "" },
            if read > 0 { "read " } else { "" },
            s(name)
        ),
        Payload::LockRelease { addr, name } => format!("{} {addr:#x}", s(name)),
        Payload::SchedSwitch {
            prev_comm,
            prev_pid,
            prev_state,
            next_comm,
            next_pid,
            ..
        } => format!(
            "{}:{prev_pid} [{}] ==> {}:{next_pid}",
            s(prev_comm),
            prev_state.letters(),
            s(next_comm)
        ),
        Payload::IrqDisable { caller, .. }
        | Payload::IrqEnable { caller, .. }
        | Payload::PreemptDisable { caller, .. }
        | Payload::PreemptEnable { caller, .. } => format!("caller={}", s(caller)),
        _ => e.flags.to_column().unwrap_or_default(),
    }
}

fn evidence(store: &EventStore, i: EventIdx) -> Evidence {
    let e = store.event(i);
    Evidence {
        index: i,
        ts: e.ts,
        cpu: e.cpu,
        task: CommPid(e.comm, e.pid).to_string(),
        event: e.name.to_owned(),
        detail: describe(store, i),
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
        causes: Vec<Cause>,
    ) -> Instance {
        let func = base_name(model.str(root.func)).to_owned();
        let caller = model.str(root.caller).to_owned();
        let entry = match root.kind {
            SleepKind::RealSleep => "sleep (sched_switch)".to_owned(),
            SleepKind::Call(_) => format!("{func}()"),
        };
        let id = format!("sleep-in-atomic:{caller}:{entry}");
        let definite = causes.iter().any(|c| c.definite);
        let confidence = if root.gfp == Gfp::Unknown {
            Confidence::Unverifiable
        } else if definite || root.schedule_bug.is_some() {
            Confidence::Definite
        } else {
            Confidence::Probable
        };
        let from = if caller.is_empty() {
            String::new()
        } else {
            format!(" from {caller}()")
        };
        let reasons: Vec<&str> = causes.iter().map(|c| c.text.as_str()).collect();
        let mut summary = format!(
            "{entry}{from} at {:.6} in atomic context: {}",
            seconds(root.ts),
            reasons.join("; ")
        );
        if let Some(s) = root.slept {
            summary += &format!(
                "; the task really slept at {:.6} (sched_switch {})",
                seconds(store.ts()[s as usize]),
                describe(store, s)
            );
        }
        if let Some(b) = root.schedule_bug {
            summary += &format!(
                "; the kernel reported scheduling while atomic (__schedule_bug at {:.6})",
                seconds(store.ts()[b as usize])
            );
        }
        if root.gfp == Gfp::Unknown {
            summary += ". The allocation's GFP flags are not in the trace, so whether it may \
                        sleep is undecided: record kmem:kmalloc / kmem:kmem_cache_alloc \
                        (gfp_flags), or trace __might_sleep (CONFIG_DEBUG_ATOMIC_SLEEP) or __cond_resched \
                        (voluntary preemption) with the function tracer";
        }
        // The call, the cause and the sleep can be one event (irqs first seen off at the
        // call itself): cite each event once, in time order.
        let mut cited: Vec<EventIdx> = std::iter::once(root.event)
            .chain(causes.iter().filter_map(|c| c.evidence))
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
        let mut locks: Vec<String> = causes.iter().filter_map(|c| c.lock.clone()).collect();
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
                summary,
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
