//! Shared by the lock detectors: naming lock classes and holders, citing holds as evidence,
//! and stable finding ids.

use crate::context::locks::{ClassId, HolderContext, LockHold, LockTable, NameSource};
use crate::{EventStore, Evidence, FindingKind};
use std::borrow::Cow;

/// Nanoseconds to trace seconds.
pub fn seconds(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// The printable name of a lock class. Address-named classes print the instance address
/// (the class's `StrId` may not live in the store's interner).
pub fn class_name<'a>(store: &'a EventStore, table: &LockTable, class: ClassId) -> Cow<'a, str> {
    let c = &table.classes[class.0 as usize];
    match c.source {
        NameSource::Lockdep | NameSource::Kallsyms => Cow::Borrowed(store.str(c.name)),
        NameSource::Address => {
            let addr = table
                .locks
                .iter()
                .find(|l| l.class == class)
                .map_or(0, |l| l.addr);
            Cow::Owned(format!("{addr:#x}"))
        }
    }
}

/// `comm-pid` of a task hold, or the interrupt context (its pid is the interrupted task's).
pub fn holder_label(store: &EventStore, hold: &LockHold) -> String {
    let comm = store.str(store.comms()[hold.acquire_event as usize]);
    match hold.context {
        HolderContext::Task => format!("{comm}-{}", hold.pid),
        HolderContext::Softirq => format!("softirq (in {comm}-{})", hold.pid),
        HolderContext::Hardirq => format!("hardirq (in {comm}-{})", hold.pid),
        HolderContext::Nmi => format!("NMI (in {comm}-{})", hold.pid),
        HolderContext::Unknown => format!("{comm}-{} (context unknown)", hold.pid),
    }
}

/// The function that took the lock, when the trace shows it.
pub fn caller_name<'a>(store: &'a EventStore, hold: &LockHold) -> Option<&'a str> {
    hold.caller.map(|c| store.str(c))
}

/// How a hold was taken, in words: `spin_lock_bh(L) in f()`.
pub fn describe_acquire(store: &EventStore, table: &LockTable, hold: &LockHold) -> String {
    let class = class_name(store, table, table.class_of(hold.lock));
    let addr = table.locks[hold.lock.0 as usize].addr;
    let mode = format!("{:?}", hold.mode).to_lowercase();
    let try_ = if hold.trylock { " trylock" } else { "" };
    let read = match hold.read {
        1 => " read",
        2 => " recursive-read",
        _ => "",
    };
    let mut s = format!("{mode}{try_}{read} acquire of {class} ({addr:#x})");
    if let Some(f) = caller_name(store, hold) {
        s.push_str(&format!(" in {f}()"));
    }
    s
}

/// Cites the acquire of `hold`, with `detail` saying why it matters.
pub fn acquire_evidence(store: &EventStore, hold: &LockHold, detail: String) -> Evidence {
    let ev = store.event(hold.acquire_event);
    Evidence {
        ts: seconds(hold.acquire_ts),
        cpu: hold.cpu,
        task: holder_label(store, hold),
        event: ev.name.to_owned(),
        detail,
    }
}

/// A stable finding id: the kind and the sorted-as-given parts, readable so that allowlist
/// globs can match it and independent of addresses whenever the classes are named.
pub fn finding_id(kind: FindingKind, parts: &[&str]) -> String {
    let kind = match kind {
        FindingKind::SleepInAtomic => "sleep-in-atomic",
        FindingKind::LockOrderCycle => "lock-order-cycle",
        FindingKind::IrqInversion => "irq-inversion",
    };
    format!("{kind}:{}", parts.join(">"))
}

/// Pushes `name` unless already present (small lists: order of first appearance matters).
pub fn push_unique(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_owned());
    }
}
