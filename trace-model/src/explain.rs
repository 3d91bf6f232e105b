//! The one place findings become words: a finding's [`Why`] and each evidence event's
//! [`Shows`] turned into the summary, the evidence's task and detail, and the lines every
//! output (text, Markdown, HTML, JSON, SARIF reports and the window) prints them with.

use crate::context::locks::{ClassId, HoldIdx, HolderContext, LockHold, LockMode};
use crate::context::primitives::base_name;
use crate::context::state::softirq_name;
use crate::detect::evidence::{LockView, caller_name, class_name};
use crate::finding::{AtomicCause, Cause, Shows, SleepWhy, Why};
use crate::lockdep::IrqState;
use crate::payload::Payload;
use crate::store::{EventIdx, EventStore};
use crate::{CommPid, Evidence, Finding, FindingKind, seconds};
use std::fmt::Write as _;

/// Writes the summary and the evidence's task and detail of every finding a detector made.
pub fn explain(v: &LockView, findings: &mut [Finding]) {
    for f in findings {
        let Some(why) = &f.why else { continue };
        f.summary = summary(v, why);
        for e in &mut f.evidence {
            e.task = task(v, e);
            e.detail = detail(v, e);
        }
    }
}

/// A kind's name for people (the window's headings and markers).
pub fn kind_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::SleepInAtomic => "Sleep in atomic context",
        FindingKind::LockOrderCycle => "Lock-order cycle",
        FindingKind::IrqInversion => "IRQ-safe / unsafe inversion",
    }
}

/// An evidence event on one line: `63.864935 CPU 1 task event: detail`.
pub fn evidence_line(e: &Evidence) -> String {
    format!(
        "{:.6} CPU {} {} {}: {}",
        seconds(e.ts),
        e.cpu,
        e.task,
        e.event,
        e.detail
    )
}

/// What a sleep-in-atomic finding is named after: the might-sleep call, or the sleep.
pub fn sleep_entry(func: Option<&str>) -> String {
    match func {
        Some(f) => format!("{}()", base_name(f)),
        None => "sleep (sched_switch)".to_owned(),
    }
}

/// `comm-pid` of a task hold, or the interrupt context (its pid is the interrupted task's).
pub fn holder_label(v: &LockView, hold: &LockHold) -> String {
    let task = CommPid(v.comm(hold), hold.pid);
    match hold.context {
        HolderContext::Task => task.to_string(),
        HolderContext::Softirq => format!("softirq (in {task})"),
        HolderContext::Hardirq => format!("hardirq (in {task})"),
        HolderContext::Nmi => format!("NMI (in {task})"),
        HolderContext::Unknown => format!("{task} (context unknown)"),
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

/// How a hold was taken, in words: `spin_lock_bh(L) in f()`.
fn describe_acquire(v: &LockView, hold: &LockHold) -> String {
    let class = class_name(v, v.table.class_of(hold.lock));
    let addr = v.table.locks[hold.lock.0 as usize].addr;
    let mode = hold.mode.name();
    let try_ = if hold.trylock { " trylock" } else { "" };
    let read = match hold.read {
        1 => " read",
        2 => " recursive-read",
        _ => "",
    };
    let mut s = format!("{mode}{try_}{read} acquire of {class} ({addr:#x})");
    if let Some(f) = caller_name(v, hold) {
        let _ = write!(s, " in {f}()");
    }
    s
}

fn task(v: &LockView, e: &Evidence) -> String {
    match e.shows.hold() {
        Some(h) => holder_label(v, v.hold(h)),
        None => {
            let ev = v.store.event(e.index);
            CommPid(ev.comm, ev.pid).to_string()
        }
    }
}

fn detail(v: &LockView, e: &Evidence) -> String {
    let acquire = |h: HoldIdx| describe_acquire(v, v.hold(h));
    match e.shows {
        Shows::Event => describe(v.store, e.index),
        Shows::Holds(h) => format!("holds {}", acquire(h)),
        Shows::Order {
            hold,
            from,
            to,
            count,
            last_ts,
        } => {
            let (from, to) = (class_name(v, from), class_name(v, to));
            format!(
                "{} while holding {from}: order {from} -> {to} (seen {count} times, last at {:.6})",
                acquire(hold),
                seconds(last_ts)
            )
        }
        Shows::Again(h) => format!("{} again while still holding it", acquire(h)),
        Shows::WhileHolding { hold, held } => {
            format!("{} while holding {}", acquire(hold), class_name(v, held))
        }
        Shows::Usage {
            hold,
            state,
            used_in,
        } => {
            let (how, bit) = if used_in {
                (
                    format!("in {} context", state.name()),
                    format!("IN-{}", state.upper()),
                )
            } else {
                (
                    format!("with {}s enabled", state.name()),
                    format!("{}-ON", state.upper()),
                )
            };
            format!("{} {how}: {{{bit}-{}}}", acquire(hold), rw(v.hold(hold)))
        }
        Shows::UnknownState { hold, state } => {
            format!("{} with the {} state unknown", acquire(hold), state.name())
        }
    }
}

/// lockdep's usage suffix: `W` for a write acquisition, `R` for a read.
fn rw(hold: &LockHold) -> &'static str {
    if hold.read == 0 { "W" } else { "R" }
}

fn summary(v: &LockView, why: &Why) -> String {
    let mut s = match &why.cause {
        Cause::SleepInAtomic(call) => sleep_summary(v, call),
        Cause::LockOrderCycle { orders, overlapped } => cycle_summary(v, orders, *overlapped),
        Cause::Recursion { outer, inner } => {
            let (outer, inner) = (v.hold(*outer), v.hold(*inner));
            format!(
                "Recursive locking: {} acquired {} at {:.6} on CPU {} while already holding \
                 the same lock instance (taken at {:.6}); it deadlocks on itself.",
                holder_label(v, inner),
                class_name(v, v.table.class_of(inner.lock)),
                seconds(inner.acquire_ts),
                inner.cpu,
                seconds(outer.acquire_ts),
            )
        }
        Cause::InconsistentUsage {
            state,
            class,
            used,
            enabled,
        } => {
            let (used, enabled) = (v.hold(*used), v.hold(*enabled));
            format!(
                "Inconsistent lock state {{IN-{up}-{}}} / {{{up}-ON-{}}}: {name} is taken in \
                 {st} context ({} at {:.6}, CPU {}) and also with {st}s enabled ({} at {:.6}, \
                 CPU {}). If a {st} that takes {name} interrupts the second holder on its CPU, \
                 it spins forever. Take it with {} on that side.",
                rw(used),
                rw(enabled),
                holder_label(v, used),
                seconds(used.acquire_ts),
                used.cpu,
                holder_label(v, enabled),
                seconds(enabled.acquire_ts),
                enabled.cpu,
                match state {
                    IrqState::Hardirq => "spin_lock_irqsave",
                    IrqState::Softirq => "spin_lock_bh",
                },
                name = class_name(v, *class),
                up = state.upper(),
                st = state.name(),
            )
        }
        Cause::UndecidedUsage {
            state,
            class,
            used,
            unknown,
            times,
        } => {
            let (used, unknown) = (v.hold(*used), v.hold(*unknown));
            format!(
                "Cannot decide: {name} is taken in {st} context ({} at {:.6}) and in task \
                 context ({} at {:.6}), but the trace does not show whether {st}s were enabled \
                 there ({times} times). To decide, {}.",
                holder_label(v, used),
                seconds(used.acquire_ts),
                holder_label(v, unknown),
                seconds(unknown.acquire_ts),
                state.how_to_record(),
                name = class_name(v, *class),
                st = state.name(),
            )
        }
        Cause::SafeToUnsafe {
            state,
            chain,
            used,
            enabled,
            ..
        } => {
            let (used, enabled) = (v.hold(*used), v.hold(*enabled));
            let names: Vec<_> = chain.iter().map(|&c| class_name(v, c)).collect();
            let (safe, unsafe_) = (&names[0], &names[names.len() - 1]);
            format!(
                "{up}-safe -> {up}-unsafe lock order: {safe} is taken in {st} context ({} at \
                 {:.6}) and is held while taking {} ; {unsafe_} is taken with {st}s enabled \
                 ({} at {:.6}). A {st} taking {safe} can interrupt the holder of \
                 {unsafe_} while another CPU holds {safe} and waits for {unsafe_}.",
                holder_label(v, used),
                seconds(used.acquire_ts),
                names[1..].join(" -> "),
                holder_label(v, enabled),
                seconds(enabled.acquire_ts),
                up = state.upper(),
                st = state.name(),
            )
        }
    };
    if let Some(class) = why.untied_at {
        let _ = write!(
            s,
            " Undecided: at {} it joins different lock instances, and \
             lock:* events carry lockdep's class name but not its key (#N) or subclass, so they \
             may be two lockdep classes that share the name. To decide, read the kernel's \
             /proc/lockdep (classes with their #N keys) or run the scenario on a lockdep kernel \
             and read its console.",
            class_name(v, class)
        );
    }
    if let Cause::SafeToUnsafe {
        state, more, named, ..
    } = &why.cause
        && *more > 0
    {
        let names: Vec<_> = named.iter().map(|&c| class_name(v, c)).collect();
        let _ = write!(
            s,
            " {more} more {}-unsafe classes are reachable from it: {}{}.",
            state.name(),
            names.join(", "),
            if *more > names.len() { ", ..." } else { "" }
        );
    }
    if !why.same_name.is_empty() {
        let _ = write!(
            s,
            " {} more finding(s) come apart at the same name: {}.",
            why.same_name.len(),
            why.same_name.join(", ")
        );
    }
    s
}

fn sleep_summary(v: &LockView, call: &SleepWhy) -> String {
    let store = v.store;
    let entry = sleep_entry(call.func.map(|f| v.strings.resolve(f)));
    let caller = v.strings.resolve(call.caller);
    let from = if caller.is_empty() {
        String::new()
    } else {
        format!(" from {caller}()")
    };
    let reasons: Vec<String> = call.causes.iter().map(|&c| atomic_cause(v, c)).collect();
    let mut s = format!(
        "{entry}{from} at {:.6} in atomic context: {}",
        seconds(call.ts),
        reasons.join("; ")
    );
    if let Some(slept) = call.slept {
        let _ = write!(
            s,
            "; the task really slept at {:.6} (sched_switch {})",
            seconds(store.ts()[slept as usize]),
            describe(store, slept)
        );
    }
    if let Some(b) = call.schedule_bug {
        let _ = write!(
            s,
            "; the kernel reported scheduling while atomic (__schedule_bug at {:.6})",
            seconds(store.ts()[b as usize])
        );
    }
    if call.gfp_unknown {
        s += ". The allocation's GFP flags are not in the trace, so whether it may \
              sleep is undecided: record kmem:kmalloc / kmem:kmem_cache_alloc \
              (gfp_flags), or trace __might_sleep (CONFIG_DEBUG_ATOMIC_SLEEP) or __cond_resched \
              (voluntary preemption) with the function tracer";
    }
    s
}

fn atomic_cause(v: &LockView, cause: AtomicCause) -> String {
    match cause {
        AtomicCause::Softirq(vec) => {
            format!(
                "serving softirq {}",
                vec.and_then(softirq_name).unwrap_or("?")
            )
        }
        AtomicCause::Hardirq(name) => {
            let name = name.map(|n| v.strings.resolve(n)).unwrap_or_default();
            let name = if name.is_empty() { "?" } else { name };
            format!("in hardirq context ({name})")
        }
        AtomicCause::Nmi => "in NMI context".into(),
        AtomicCause::LockHeld(h) => {
            let hold = v.hold(h);
            let class = v.table.classes[v.table.class_of(hold.lock).0 as usize].name;
            let by = hold
                .caller
                .map(|c| format!(" in {}()", v.strings.resolve(c)))
                .unwrap_or_default();
            format!(
                "{} {} ({}) taken at {:.6}{by} is held",
                if hold.mode == LockMode::Pseudo {
                    "RCU read lock"
                } else {
                    "spinlock"
                },
                v.strings.resolve(class),
                hold.mode.name(),
                seconds(hold.acquire_ts)
            )
        }
        AtomicCause::IrqsOff(first) => format!("irqs disabled{}", since(v, first)),
        AtomicCause::BhOff(first) => format!("softirqs (BH) disabled{}", since(v, first)),
        AtomicCause::PreemptOff {
            excess,
            since: first,
        } => format!(
            "preemption disabled ({excess} level(s) above this trace's baseline){}",
            since(v, first)
        ),
    }
}

/// " at T by f()" for the event that first showed a state.
fn since(v: &LockView, first: Option<EventIdx>) -> String {
    let Some(i) = first else {
        return String::new();
    };
    let ts = seconds(v.store.ts()[i as usize]);
    match v.store.payload(i) {
        Payload::IrqDisable { caller, .. } | Payload::PreemptDisable { caller, .. } => {
            format!(" at {ts:.6} by {}", v.strings.resolve(caller))
        }
        _ => format!(" since {ts:.6} (first seen at {})", describe(v.store, i)),
    }
}

fn cycle_summary(v: &LockView, orders: &[(HoldIdx, ClassId, ClassId)], overlapped: bool) -> String {
    let first = orders
        .first()
        .map(|o| class_name(v, o.1))
        .unwrap_or_default();
    let mut chain: Vec<_> = orders.iter().map(|o| class_name(v, o.1)).collect();
    chain.push(first);
    let orders: Vec<String> = orders
        .iter()
        .map(|&(h, from, to)| {
            let next = v.hold(h);
            format!(
                "{} took {} while holding {} at {:.6} on CPU {}{}",
                holder_label(v, next),
                class_name(v, to),
                class_name(v, from),
                seconds(next.acquire_ts),
                next.cpu,
                caller_name(v, next).map_or(String::new(), |f| format!(" in {f}()")),
            )
        })
        .collect();
    format!(
        "Possible deadlock: lock-order cycle {}. {}. {}",
        chain.join(" -> "),
        orders.join("; "),
        if overlapped {
            "The orders overlapped in time."
        } else {
            "These orders never overlapped in this trace, but nothing prevents them from \
             running concurrently: each context can then wait for a lock the other holds."
        }
    )
}
