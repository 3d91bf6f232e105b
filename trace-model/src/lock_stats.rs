//! Per lock class statistics from the hold table: how often each class was taken, waited for
//! and held, in which modes and contexts, and where its longest hold and longest wait were.
//! The offline counterpart of the kernel's `/proc/lock_stat`, which needs CONFIG_LOCK_STAT,
//! counts live and cannot say which instance was the worst.

use crate::context::ContextModel;
use crate::context::locks::{LockHold, NameSource};
use serde::Serialize;

/// One hold or wait, located.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub duration_ns: u64,
    /// When it began (the acquire call, or the start of the wait).
    pub ts_ns: u64,
    pub cpu: u32,
    pub pid: i32,
    pub context: &'static str,
    /// The function that took the lock, when the trace shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

/// What one lock class did over the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockClassStats {
    pub class: String,
    /// Where the name came from: `lockdep`, `kallsyms` or `address`.
    pub named_by: &'static str,
    /// Distinct lock instances (addresses) of the class.
    pub instances: u32,
    pub acquisitions: u64,
    /// Acquisitions that had to wait.
    pub contended: u64,
    /// Holds the trace never saw released (still held at its end, or lost in a gap): their
    /// time is not counted.
    pub unreleased: u64,
    pub held_total_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_hold: Option<Instance>,
    pub wait_total_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_wait: Option<Instance>,
    /// Modes it was taken in (`spin_irqsave`, `mutex`...), in first-seen order.
    pub modes: Vec<&'static str>,
    /// Contexts that took it (`task`, `softirq`, `hardirq`...), in first-seen order.
    pub contexts: Vec<&'static str>,
}

/// Statistics of every lock class with at least one hold, most total held time first.
pub fn lock_stats(model: &ContextModel) -> Vec<LockClassStats> {
    let table = &model.locks;
    let mut stats: Vec<Option<LockClassStats>> = vec![None; table.classes.len()];
    for lock in &table.locks {
        let class = &table.classes[lock.class.0 as usize];
        let entry = stats[lock.class.0 as usize].get_or_insert_with(|| LockClassStats {
            class: model.str(class.name).to_owned(),
            named_by: name_source(class.source),
            instances: 0,
            acquisitions: 0,
            contended: 0,
            unreleased: 0,
            held_total_ns: 0,
            longest_hold: None,
            wait_total_ns: 0,
            longest_wait: None,
            modes: Vec::new(),
            contexts: Vec::new(),
        });
        entry.instances += 1;
    }
    for hold in &table.holds {
        let Some(entry) = stats[table.class_of(hold.lock).0 as usize].as_mut() else {
            continue;
        };
        entry.add(model, hold);
    }
    let mut stats: Vec<LockClassStats> = stats
        .into_iter()
        .flatten()
        .filter(|s| s.acquisitions > 0)
        .collect();
    stats.sort_by(|a, b| {
        b.held_total_ns
            .cmp(&a.held_total_ns)
            .then(b.acquisitions.cmp(&a.acquisitions))
            .then_with(|| a.class.cmp(&b.class))
    });
    stats
}

impl LockClassStats {
    fn add(&mut self, model: &ContextModel, hold: &LockHold) {
        self.acquisitions += 1;
        push_new(&mut self.modes, hold.mode.name());
        push_new(&mut self.contexts, hold.context.name());
        let instance = |start: u64, end: u64| Instance {
            duration_ns: end.saturating_sub(start),
            ts_ns: start,
            cpu: hold.cpu,
            pid: hold.pid,
            context: hold.context.name(),
            caller: hold.caller.map(|c| model.str(c).to_owned()),
        };
        if let (Some(begin), Some(end)) = (hold.contended_ts, hold.acquired_ts) {
            self.contended += 1;
            let wait = instance(begin, end);
            self.wait_total_ns += wait.duration_ns;
            keep_longest(&mut self.longest_wait, wait);
        }
        match hold.release_ts {
            Some(release) => {
                // Held from when it was obtained, not from when the wait began.
                let held = instance(hold.acquired_ts.unwrap_or(hold.acquire_ts), release);
                self.held_total_ns += held.duration_ns;
                keep_longest(&mut self.longest_hold, held);
            }
            None => self.unreleased += 1,
        }
    }
}

fn push_new(list: &mut Vec<&'static str>, name: &'static str) {
    if !list.contains(&name) {
        list.push(name);
    }
}

/// Keeps the longer of the two; the earlier on a tie, so the result does not depend on
/// the order holds are visited in.
fn keep_longest(slot: &mut Option<Instance>, candidate: Instance) {
    let longer = slot.as_ref().is_none_or(|best| {
        (candidate.duration_ns, std::cmp::Reverse(candidate.ts_ns))
            > (best.duration_ns, std::cmp::Reverse(best.ts_ns))
    });
    if longer {
        *slot = Some(candidate);
    }
}

fn name_source(source: NameSource) -> &'static str {
    match source {
        NameSource::Lockdep => "lockdep",
        NameSource::Kallsyms => "kallsyms",
        NameSource::Address => "address",
    }
}
