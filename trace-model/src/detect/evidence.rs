//! Shared by the lock detectors: naming lock classes and holders, citing holds as evidence,
//! and stable finding ids.

use crate::CommPid;
use crate::context::ContextModel;
use crate::context::locks::{ClassId, HolderContext, LockHold, LockTable, NameSource};
use crate::{Confidence, EventStore, Evidence, ExtendedInterner, Finding, FindingKind};
use rustc_hash::FxHashMap;
use std::borrow::Cow;

/// What the lock detectors read: the events, the lock table and the strings that resolve
/// its names (the model's interner: the store's strings plus names the model made).
#[derive(Clone, Copy)]
pub struct LockView<'a> {
    pub store: &'a EventStore,
    pub table: &'a LockTable,
    pub strings: &'a ExtendedInterner,
    /// The flags column shows BH-disabled (kernels >= 5.18): softirq state read from an
    /// event's flags is then recorded, not inferred.
    pub bh_off_visible: bool,
}

impl<'a> LockView<'a> {
    /// The lock detectors' view of a trace and its context model.
    pub fn of(store: &'a EventStore, model: &'a ContextModel) -> LockView<'a> {
        LockView {
            store,
            table: &model.locks,
            strings: &model.strings,
            bh_off_visible: model.coverage.bh_off_visible,
        }
    }

    /// The hold at `i`.
    pub fn hold(&self, i: u32) -> &LockHold {
        &self.table.holds[i as usize]
    }

    /// The comm of the task that was current at a hold's acquire.
    pub fn comm(&self, hold: &LockHold) -> &str {
        self.store.str(self.store.comm(hold.acquire_event))
    }
}

/// The printable name of a lock class. Address-named classes print the instance address
/// (the class's `StrId` may not live in the store's interner).
pub fn class_name<'a>(v: &LockView<'a>, class: ClassId) -> Cow<'a, str> {
    let c = &v.table.classes[class.0 as usize];
    match c.source {
        NameSource::Lockdep | NameSource::Kallsyms => Cow::Borrowed(v.strings.resolve(c.name)),
        NameSource::Address => {
            let addr = v
                .table
                .locks
                .iter()
                .find(|l| l.class == class)
                .map_or(0, |l| l.addr);
            Cow::Owned(format!("{addr:#x}"))
        }
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

/// The function that took the lock, when the trace shows it.
pub fn caller_name<'a>(v: &LockView<'a>, hold: &LockHold) -> Option<&'a str> {
    hold.caller.map(|c| v.strings.resolve(c))
}

/// How a hold was taken, in words: `spin_lock_bh(L) in f()`.
pub fn describe_acquire(v: &LockView, hold: &LockHold) -> String {
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
        s.push_str(&format!(" in {f}()"));
    }
    s
}

/// Cites the acquire of `hold`, with `detail` saying why it matters.
pub fn acquire_evidence(v: &LockView, hold: &LockHold, detail: String) -> Evidence {
    let event_type = v.store.event_types()[hold.acquire_event as usize];
    Evidence {
        index: hold.acquire_event,
        ts: hold.acquire_ts,
        cpu: hold.cpu,
        task: holder_label(v, hold),
        event: v.store.type_name(event_type).to_owned(),
        detail,
    }
}

/// A stable finding id: the kind and the sorted-as-given parts, readable so that allowlist
/// globs can match it and independent of addresses whenever the classes are named.
pub fn finding_id(kind: FindingKind, parts: &[&str]) -> String {
    format!("{}:{}", kind.name(), parts.join(">"))
}

/// Pushes `name` unless already present (small lists: order of first appearance matters).
pub fn push_unique(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_owned());
    }
}

/// A lock finding whose chain no lock instance ties together at `class` (see
/// [`crate::lockdep::first_untied_class`]): lockdep may hold two classes there, so the trace
/// cannot decide it.
pub fn mark_untied(f: &mut Finding, class: &str) {
    f.confidence = Confidence::Unverifiable;
    f.summary.push_str(&format!(
        " Undecided: at {class} it joins different lock instances, and \
         lock:* events carry lockdep's class name but not its key (#N) or subclass, so they \
         may be two lockdep classes that share the name. To decide, read the kernel's \
         /proc/lockdep (classes with their #N keys) or run the scenario on a lockdep kernel \
         and read its console."
    ));
}

/// Untied findings once per class where they come apart: the first stands for the others,
/// which its summary counts and names.
pub fn group_untied(findings: Vec<(Finding, Option<String>)>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut by_class: FxHashMap<String, (usize, Vec<String>)> = FxHashMap::default();
    for (f, untied) in findings {
        let Some(class) = untied else {
            out.push(f);
            continue;
        };
        match by_class.get_mut(&class) {
            Some((_, others)) => others.push(f.id),
            None => {
                by_class.insert(class, (out.len(), Vec::new()));
                out.push(f);
            }
        }
    }
    for (at, others) in by_class.into_values() {
        if !others.is_empty() {
            let f = &mut out[at];
            f.summary.push_str(&format!(
                " {} more finding(s) come apart at the same name: {}.",
                others.len(),
                others.join(", ")
            ));
        }
    }
    out
}
