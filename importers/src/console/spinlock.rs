//! CONFIG_DEBUG_SPINLOCK reports (kernel/locking/spinlock_debug.c):
//! `BUG: spinlock <reason> on CPU#N, comm/pid` + ` lock: X, .magic: M, .owner: O, .owner_cpu: C`.

use super::common::task_pid;
use super::lines::LogLine;
use trace_model::splat::{SpinlockFacts, Splat, SplatFacts};

pub fn parse(lines: &[LogLine], splat: &mut Splat) {
    let header = lines.first().map_or("", |l| l.text.as_str());
    if let Some((_, rest)) = header.split_once(" on CPU#")
        && let Some((cpu, task)) = rest.split_once(", ")
    {
        splat.cpu = cpu.trim().parse().ok();
        // rwlock reports append `, %p`.
        let task = task.split(", ").next().unwrap_or(task);
        if let Some((comm, pid)) = task_pid(task) {
            splat.task = Some(comm);
            splat.pid = Some(pid);
        }
    }
    let mut facts = SpinlockFacts::default();
    if let Some(dump) = lines.iter().find_map(|l| l.text.strip_prefix("lock: ")) {
        for (index, field) in dump.split(", .").enumerate() {
            let (key, value) = if index == 0 {
                ("lock", field)
            } else {
                field.split_once(": ").unwrap_or((field, ""))
            };
            let value = value.trim();
            match key {
                "lock" => facts.lock = Some(value.to_owned()),
                "magic" => facts.magic = Some(value.to_owned()),
                "owner" => facts.owner = Some(value.to_owned()),
                "owner_cpu" => facts.owner_cpu = value.parse().ok(),
                _ => {}
            }
        }
    }
    splat.facts = SplatFacts::Spinlock(facts);
}
