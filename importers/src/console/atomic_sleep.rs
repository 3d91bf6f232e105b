//! `__might_resched` ("sleeping function called from invalid context") and `__schedule_bug`
//! ("scheduling while atomic") reports (kernel/sched/core.c).

use super::common::{task_pid, text_after};
use super::lines::LogLine;
use trace_model::splat::{AtomicSleepFacts, PreemptibleFacts, Splat, SplatFacts, SplatKind};

pub fn parse(lines: &[LogLine], splat: &mut Splat) {
    let mut facts = AtomicSleepFacts::default();
    let header = lines.first().map_or("", |l| l.text.as_str());
    if splat.kind == SplatKind::SchedulingWhileAtomic {
        // `BUG: scheduling while atomic: comm/pid/0x00000002`
        if let Some(rest) = header
            .split_once("scheduling while atomic: ")
            .map(|(_, r)| r)
            && let Some((task, count)) = rest.trim().rsplit_once('/')
            && let Some((comm, pid)) = task_pid(task)
        {
            splat.task = Some(comm);
            splat.pid = Some(pid);
            facts.preempt_count = Some(count.to_owned());
        }
    } else {
        // `BUG: sleeping function called from invalid context at fs/buffer.c:1332`
        if let Some((_, location)) = header.split_once(" at ")
            && let Some((file, line)) = location.trim().rsplit_once(':')
        {
            facts.file = Some(file.to_owned());
            facts.line = line.parse().ok();
        }
        for line in lines {
            context_values(&line.text, &mut facts, splat);
        }
    }
    facts.preemption_disabled_at = text_after(lines, "Preemption disabled at:").and_then(symbol);
    splat.facts = SplatFacts::AtomicSleep(facts);
}

/// `in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 5820, name: fsstress`,
/// `preempt_count: 1, expected: 0`, `RCU nest depth: 0, expected: 0`.
fn context_values(text: &str, facts: &mut AtomicSleepFacts, splat: &mut Splat) {
    if text.starts_with("in_atomic(): ") {
        let (values, name) = text.split_once(", name: ").unwrap_or((text, ""));
        for pair in values.split(", ") {
            let Some((key, value)) = pair.split_once(": ") else {
                continue;
            };
            let number = value.trim().parse().ok();
            match key {
                "in_atomic()" => facts.in_atomic = number,
                "irqs_disabled()" => facts.irqs_disabled = number,
                "non_block" => facts.non_block = number,
                "pid" => splat.pid = number.and_then(|n| i32::try_from(n).ok()),
                _ => {}
            }
        }
        if !name.is_empty() {
            splat.task = Some(name.trim().to_owned());
        }
    } else if let Some(rest) = text.strip_prefix("preempt_count: ") {
        let (count, expected) = split_expected(rest);
        facts.preempt_count = Some(count.to_owned());
        facts.preempt_count_expected = expected.map(str::to_owned);
    } else if let Some(rest) = text.strip_prefix("RCU nest depth: ") {
        let (depth, expected) = split_expected(rest);
        facts.rcu_nest_depth = depth.parse().ok();
        facts.rcu_nest_depth_expected = expected.and_then(|e| e.parse().ok());
    }
}

/// `1, expected: 0` -> ("1", Some("0")).
fn split_expected(text: &str) -> (&str, Option<&str>) {
    match text.split_once(", expected: ") {
        Some((value, expected)) => (value.trim(), Some(expected.trim())),
        None => (text.trim(), None),
    }
}

/// `[<ffffffff8709e980>] __dev_queue_xmit+0x1f0/0x2e30` -> `__dev_queue_xmit+0x1f0/0x2e30`.
fn symbol(text: &str) -> Option<String> {
    let rest = match text.strip_prefix("[<") {
        Some(rest) => rest.split_once(">]")?.1,
        None => text,
    };
    rest.split_whitespace().next().map(str::to_owned)
}

/// `BUG: using smp_processor_id() in preemptible [00000000] code: comm/pid` +
/// `caller is ext4_mb_new_blocks+0x1/0x2` (lib/smp_processor_id.c).
pub fn parse_preemptible(lines: &[LogLine], splat: &mut Splat) {
    let header = lines.first().map_or("", |l| l.text.as_str());
    let mut facts = PreemptibleFacts::default();
    if let Some(rest) = header.strip_prefix("BUG: using ")
        && let Some((accessor, rest)) = rest.split_once(" in preemptible [")
        && let Some((count, task)) = rest.split_once("] code: ")
    {
        facts.accessor = Some(accessor.to_owned());
        facts.preempt_count = Some(count.to_owned());
        if let Some((comm, pid)) = task_pid(task) {
            splat.task = Some(comm);
            splat.pid = Some(pid);
        }
    }
    facts.caller = lines
        .iter()
        .take(4)
        .find_map(|l| l.text.strip_prefix("caller is "))
        .and_then(symbol)
        .map(|s| s.split_once('+').map_or(s.as_str(), |(f, _)| f).to_owned());
    splat.facts = SplatFacts::PreemptibleCpuAccess(facts);
}
