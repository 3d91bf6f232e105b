//! lockdep reports (kernel/locking/lockdep.c): circular and recursive dependencies,
//! inconsistent state, irq-safe -> irq-unsafe order, irq inversion, wait context, unlock
//! balance, freed held locks, suspicious RCU usage.

use super::common::{
    find_line, frames_after, lock_name, lock_site, next_text, task_pid, text_after,
};
use super::lines::LogLine;
use trace_model::splat::{
    ChainEntry, LockdepFacts, Splat, SplatFacts, SplatKind, SuspiciousRcuFacts, UsageStack,
};

/// Phrases that follow `comm/pid` on a report's task line.
const TASK_PHRASES: [&str; 7] = [
    " is trying to acquire",
    " is trying to lock:",
    " is trying to release lock",
    " [HC",
    " just changed the state",
    " is freeing memory",
    " is leaving the kernel",
];

/// Fills the lockdep facts of `splat` from its lines.
pub fn parse(lines: &[LogLine], splat: &mut Splat) {
    if splat.kind == SplatKind::SuspiciousRcuUsage {
        splat.facts = SplatFacts::SuspiciousRcu(suspicious_rcu(lines));
        return;
    }
    let mut facts = LockdepFacts::default();
    if let Some((comm, pid, rest)) = lines.iter().find_map(|l| task_line(&l.text)) {
        splat.task = Some(comm);
        splat.pid = Some(pid);
        facts.irq_context = rest
            .strip_prefix(" [")
            .and_then(|r| r.split_once("] "))
            .map(|(ctx, _)| ctx.to_owned());
    }
    let lock_after = |phrase: &str| {
        text_after(lines, phrase)
            .and_then(lock_name)
            .map(str::to_owned)
    };
    let site_after = |phrase: &str| text_after(lines, phrase).and_then(lock_site);
    match splat.kind {
        SplatKind::CircularLockingDependency | SplatKind::RecursiveLocking => {
            facts.acquiring_lock = lock_after("is trying to acquire lock:");
            facts.acquiring_lock_at = site_after("is trying to acquire lock:");
            facts.held_lock = lock_after("but task is already holding lock:");
            facts.held_lock_at = site_after("but task is already holding lock:");
            facts.dependency_chain_printed = dependency_chain(lines);
            facts.chain_exists_of = text_after(lines, "Chain exists of:").map(str::to_owned);
            derive_cycle(splat.kind, &mut facts);
        }
        SplatKind::InconsistentLockState => {
            facts.usage = inconsistent_usage(lines);
            facts.lock = lock_after("] takes:");
            facts.lock_at = site_after("] takes:");
        }
        SplatKind::IrqSafeToUnsafeLockOrder => {
            facts.acquiring_lock = lock_after("is trying to acquire:");
            facts.acquiring_lock_at = site_after("is trying to acquire:");
            facts.held_lock = lock_after("and this task is already holding:");
            facts.held_lock_at = site_after("and this task is already holding:");
            facts.new_dependency = text_after(lines, "which would create a new lock dependency:")
                .and_then(dependency_pair);
            facts.irq_safe_lock = lock_after("-irq-safe lock:");
            facts.irq_unsafe_lock = lock_after("-irq-unsafe lock:");
        }
        SplatKind::IrqLockInversion => {
            facts.lock = lock_after("just changed the state of lock:");
            facts.lock_at = site_after("just changed the state of lock:");
            facts.irq_unsafe_lock = lock_after("-unsafe lock in the past:");
            facts.irq_safe_lock = lock_after("-safe lock in the past:");
        }
        SplatKind::InvalidWaitContext => {
            facts.lock = lock_after("is trying to lock:");
            facts.lock_at = site_after("is trying to lock:");
            facts.context = lines
                .iter()
                .find_map(|l| l.text.strip_prefix("context-{")?.strip_suffix('}'))
                .map(str::to_owned);
        }
        SplatKind::BadUnlockBalance => {
            let at = find_line(lines, 0, |t| t.contains(" is trying to release lock ("));
            facts.lock = at.and_then(|i| lock_name_plain(&lines[i].text));
            // `... at:` then `[<addr>] func+0x10/0x80` on the next line.
            facts.lock_at = at
                .and_then(|i| next_text(lines, i))
                .and_then(super::frames::parse_frame)
                .map(|f| f.function);
        }
        SplatKind::HeldLockFreed => {
            facts.lock = lock_after("with a lock still held there!");
            facts.lock_at = site_after("with a lock still held there!");
        }
        SplatKind::StillHasLocksHeld => {
            // `WARNING: comm/pid still has locks held!`
            let header = lines.first().map_or("", |l| l.text.as_str());
            let task = header
                .split_once(" still has locks held!")
                .and_then(|(head, _)| head.rsplit_once(": "))
                .and_then(|(_, task)| task_pid(task));
            if let Some((comm, pid)) = task {
                splat.task = Some(comm);
                splat.pid = Some(pid);
            }
        }
        _ => {}
    }
    facts.usage_history = usage_history(lines);
    splat.facts = SplatFacts::Lockdep(Box::new(facts));
}

/// `comm/pid <phrase>...` -> (comm, pid, text from the phrase on).
fn task_line(text: &str) -> Option<(String, i32, &str)> {
    let at = TASK_PHRASES.iter().filter_map(|p| text.find(p)).min()?;
    let (comm, pid) = task_pid(&text[..at])?;
    Some((comm, pid, &text[at..]))
}

/// Lockdep's usage history: `... which became HARDIRQ-irq-safe at:`, `{IN-SOFTIRQ-W} state
/// was registered at:` and the `IN-HARDIRQ-W at:` entries of a `-> (lock){....} {` block,
/// each followed by the stack that recorded the usage.
fn usage_history(lines: &[LogLine]) -> Vec<UsageStack> {
    let mut history = Vec::new();
    let mut last_lock: Option<&str> = None;
    for (i, line) in lines.iter().enumerate() {
        let text = line.text.as_str();
        let Some(head) = text.strip_suffix(" at:") else {
            if let Some(name) = lock_name(text) {
                last_lock = Some(name);
            }
            continue;
        };
        let usage = if let Some(rest) = head.strip_prefix("... which became ") {
            rest
        } else if let Some(rest) = head.strip_suffix(" state was registered") {
            rest.trim_start_matches('{').trim_end_matches('}')
        } else if is_usage_name(head) {
            head
        } else {
            continue;
        };
        history.push(UsageStack {
            usage: usage.to_owned(),
            lock: last_lock.map(str::to_owned),
            stack: frames_after(lines, i),
        });
    }
    history
}

/// `IN-HARDIRQ-W`, `SOFTIRQ-ON-R`, `INITIAL USE`, `INITIAL READ USE`, `IN-NMI`.
fn is_usage_name(text: &str) -> bool {
    text.starts_with("INITIAL ")
        || ((text.starts_with("IN-") || text.contains("IRQ-ON-"))
            && text.bytes().all(|b| b.is_ascii_uppercase() || b == b'-'))
}

/// `is trying to release lock (name) at:` has no usage braces.
fn lock_name_plain(text: &str) -> Option<String> {
    let (_, rest) = text.split_once(" lock (")?;
    let (name, _) = rest.rsplit_once(") at")?;
    Some(name.to_owned())
}

/// ` (A){..}-{2:2} -> (B){..}-{2:2}`.
fn dependency_pair(text: &str) -> Option<[String; 2]> {
    let (from, to) = text.split_once(" -> ")?;
    Some([lock_name(from)?.to_owned(), lock_name(to)?.to_owned()])
}

/// `inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.`
fn inconsistent_usage(lines: &[LogLine]) -> Vec<String> {
    let Some(text) = lines
        .iter()
        .find_map(|l| l.text.strip_prefix("inconsistent {"))
    else {
        return Vec::new();
    };
    let Some((from, rest)) = text.split_once("} -> {") else {
        return Vec::new();
    };
    let Some((to, _)) = rest.split_once('}') else {
        return Vec::new();
    };
    vec![format!("{{{from}}}"), format!("{{{to}}}")]
}

/// The `-> #N (lock){usage}:` entries, in printed order, each with its stack.
fn dependency_chain(lines: &[LogLine]) -> Vec<ChainEntry> {
    let mut chain = Vec::new();
    let mut from = 0;
    while let Some(at) = find_line(lines, from, |t| t.starts_with("-> #")) {
        let text = &lines[at].text["-> #".len()..];
        let n = text.split_once(' ').and_then(|(n, _)| n.parse().ok());
        if let (Some(n), Some(lock)) = (n, lock_name(text)) {
            chain.push(ChainEntry {
                n,
                lock: lock.to_owned(),
                stack: frames_after(lines, at),
            });
        }
        from = at + 1;
    }
    chain
}

/// Edges, new edge and cycle from the held / acquiring locks and the printed chain.
///
/// The chain prints #N (the held lock) down to #0 (the lock being acquired); each entry was
/// taken while holding the next lower one, so #0 -> #1 -> ... -> #N are existing edges and
/// held -> acquiring closes the cycle. Only a complete chain (#0..#N all printed) gives edges.
fn derive_cycle(kind: SplatKind, facts: &mut LockdepFacts) {
    let (Some(held), Some(acquiring)) = (facts.held_lock.clone(), facts.acquiring_lock.clone())
    else {
        return;
    };
    if kind == SplatKind::RecursiveLocking {
        facts.lock_order_cycle = vec![held, acquiring];
        return;
    }
    facts.new_dependency_edge = Some([held.clone(), acquiring.clone()]);
    let mut ascending: Vec<&ChainEntry> = facts.dependency_chain_printed.iter().collect();
    ascending.sort_by_key(|e| e.n);
    let complete = ascending.iter().enumerate().all(|(i, e)| e.n as usize == i)
        && ascending.len() >= 2
        && ascending.first().is_some_and(|e| e.lock == acquiring)
        && ascending.last().is_some_and(|e| e.lock == held);
    if !complete {
        return;
    }
    facts.existing_dependency_edges = ascending
        .windows(2)
        .map(|w| [w[0].lock.clone(), w[1].lock.clone()])
        .collect();
    facts.lock_order_cycle = std::iter::once(held)
        .chain(ascending.iter().map(|e| e.lock.clone()))
        .collect();
}

/// `./include/linux/rcupdate.h:302 Illegal context switch ...!` and
/// `rcu_scheduler_active = 2, debug_locks = 1`.
fn suspicious_rcu(lines: &[LogLine]) -> SuspiciousRcuFacts {
    let mut facts = SuspiciousRcuFacts::default();
    let rule = find_line(lines, 1, |t| t.starts_with("---"));
    if let Some(text) = rule.and_then(|r| next_text(lines, r))
        && let Some((location, message)) = text.split_once(' ')
        && let Some((file, line)) = location.rsplit_once(':')
        && let Ok(line) = line.parse()
    {
        facts.file = Some(file.to_owned());
        facts.line = Some(line);
        facts.message = Some(message.trim().to_owned());
    }
    if let Some(text) = lines
        .iter()
        .find_map(|l| l.text.strip_prefix("rcu_scheduler_active = "))
    {
        let (active, rest) = text.split_once(',').unwrap_or((text, ""));
        facts.rcu_scheduler_active = active.trim().parse().ok();
        facts.debug_locks = rest
            .trim()
            .strip_prefix("debug_locks = ")
            .and_then(|d| d.trim().parse().ok());
    }
    facts
}
