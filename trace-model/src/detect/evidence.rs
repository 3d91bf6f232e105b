//! Shared by the lock detectors: naming lock classes, citing holds as evidence, stable
//! finding ids, undecided findings marked and grouped.

use crate::context::ContextModel;
use crate::context::locks::{ClassId, LockHold, LockTable, NameSource};
use crate::finding::Shows;
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

/// The function that took the lock, when the trace shows it.
pub fn caller_name<'a>(v: &LockView<'a>, hold: &LockHold) -> Option<&'a str> {
    hold.caller.map(|c| v.strings.resolve(c))
}

/// Cites the acquire of the hold `shows` is about (its task and detail are
/// [`crate::explain`]ed later).
pub fn acquire_evidence(v: &LockView, shows: Shows) -> Evidence {
    let hold = v.hold(shows.hold().expect("a lock's evidence is a hold"));
    let event_type = v.store.event_types()[hold.acquire_event as usize];
    Evidence {
        index: hold.acquire_event,
        shows,
        ts: hold.acquire_ts,
        cpu: hold.cpu,
        task: String::new(),
        event: v.store.type_name(event_type).to_owned(),
        detail: String::new(),
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
pub fn mark_untied(f: &mut Finding, class: ClassId) {
    f.confidence = Confidence::Unverifiable;
    if let Some(why) = &mut f.why {
        why.untied_at = Some(class);
    }
}

/// Untied findings once per class name where they come apart: the first stands for the
/// others, which its explanation counts and names.
pub fn group_untied(findings: Vec<(Finding, Option<String>)>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut by_class: FxHashMap<String, usize> = FxHashMap::default();
    for (f, untied) in findings {
        let Some(class) = untied else {
            out.push(f);
            continue;
        };
        match by_class.get(&class) {
            Some(&at) => {
                if let Some(why) = &mut out[at].why {
                    why.same_name.push(f.id);
                }
            }
            None => {
                by_class.insert(class, out.len());
                out.push(f);
            }
        }
    }
    out
}
