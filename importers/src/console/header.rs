//! The first line of each splat: which kind it starts.

use trace_model::splat::SplatKind;

/// Lockdep titles, matched after `WARNING: ` / `BUG: ` or inside the pre-4.12 `[ INFO: ... ]` /
/// `[ BUG: ... ]` frame.
const LOCKDEP_TITLES: [(&str, SplatKind); 9] = [
    (
        "possible circular locking dependency detected",
        SplatKind::CircularLockingDependency,
    ),
    (
        "possible recursive locking detected",
        SplatKind::RecursiveLocking,
    ),
    ("inconsistent lock state", SplatKind::InconsistentLockState),
    (
        "possible irq lock inversion dependency detected",
        SplatKind::IrqLockInversion,
    ),
    ("Invalid wait context", SplatKind::InvalidWaitContext),
    ("bad unlock balance detected!", SplatKind::BadUnlockBalance),
    ("held lock freed!", SplatKind::HeldLockFreed),
    (
        "lock held when returning to user space!",
        SplatKind::LockHeldReturningToUser,
    ),
    ("suspicious RCU usage", SplatKind::SuspiciousRcuUsage),
];

const SPINLOCK_REASONS: [(&str, SplatKind); 7] = [
    ("bad magic", SplatKind::SpinlockBadMagic),
    ("recursion", SplatKind::SpinlockRecursion),
    ("cpu recursion", SplatKind::SpinlockCpuRecursion),
    ("wrong owner", SplatKind::SpinlockWrongOwner),
    ("wrong CPU", SplatKind::SpinlockWrongCpu),
    ("already unlocked", SplatKind::SpinlockAlreadyUnlocked),
    ("lockup suspected", SplatKind::SpinlockLockup),
];

/// The kind a splat starting with this (prefix-stripped) line has, if it starts one.
pub fn classify(text: &str) -> Option<SplatKind> {
    let title = strip_title_frame(text);
    if let Some(kind) = lockdep_title(title) {
        return Some(kind);
    }
    // `WARNING: comm/pid still has locks held!` (`[ BUG: ... ]` before 4.12).
    if title.ends_with(" still has locks held!") && !title.starts_with(' ') {
        return Some(SplatKind::StillHasLocksHeld);
    }
    let body = title
        .strip_prefix("BUG: ")
        .or_else(|| title.strip_prefix("Debug: "));
    if let Some(body) = body {
        return bug_kind(body);
    }
    if title.starts_with("INFO: trying to register non-static key") {
        return Some(SplatKind::NonStaticLockKey);
    }
    if title
        .strip_prefix("WARNING: ")
        .is_some_and(|b| b.starts_with("CPU: "))
    {
        return Some(SplatKind::Warning);
    }
    if title.starts_with("kernel BUG at ") {
        return Some(SplatKind::KernelBug);
    }
    let info = title.strip_prefix("rcu: ").unwrap_or(title);
    let info = info.strip_prefix("INFO: ").unwrap_or(info);
    if let Some(kind) = rcu_stall_kind(info) {
        return Some(kind);
    }
    if hung_task_title(title) {
        return Some(SplatKind::HungTask);
    }
    let watchdog = title
        .split_once("watchdog: ")
        .map_or(title, |(_, rest)| rest);
    watchdog
        .starts_with("BUG: soft lockup")
        .then_some(SplatKind::SoftLockup)
}

/// `rcu_sched detected stalls on CPUs/tasks:`, `rcu_preempt detected expedited stalls on
/// CPUs/tasks: { 1-... }`, `rcu_tasks detected stalls on tasks:`, `rcu_sched self-detected
/// stall on CPU` (any flavour: the word starts with `rcu`).
fn rcu_stall_kind(info: &str) -> Option<SplatKind> {
    let (flavour, rest) = info.split_once(' ')?;
    if !flavour.starts_with("rcu") {
        return None;
    }
    if rest.starts_with("self-detected stall") {
        return Some(SplatKind::RcuSelfDetectedStall);
    }
    let rest = rest.strip_prefix("detected ")?;
    let rest = rest.strip_prefix("expedited ").unwrap_or(rest);
    rest.starts_with("stall").then_some(SplatKind::RcuStall)
}

/// `INFO: task comm:pid blocked for more than N seconds.`, `... blocked in I/O wait for more
/// than ...` (6.x), `... can't die for more than ...`. The comm may hold spaces or raw bytes,
/// so the wording is searched from the end.
fn hung_task_title(title: &str) -> bool {
    let Some(rest) = title.strip_prefix("INFO: task ") else {
        return false;
    };
    HUNG_TASK_WORDINGS.iter().any(|w| rest.contains(w)) && rest.contains(" seconds")
}

/// What khungtaskd says after `comm:pid`.
pub const HUNG_TASK_WORDINGS: [&str; 3] = [
    " blocked for more than ",
    " blocked in I/O wait for more than ",
    " can't die for more than ",
];

/// `[ INFO: title ]` / `[ BUG: title ]` (old kernels and the wait-context report) -> `title`.
fn strip_title_frame(text: &str) -> &str {
    let Some(inner) = text.strip_prefix("[ ").and_then(|t| t.strip_suffix(" ]")) else {
        return text;
    };
    let inner = inner
        .strip_prefix("INFO: ")
        .or_else(|| inner.strip_prefix("BUG: "))
        .unwrap_or(inner);
    inner.strip_suffix('.').unwrap_or(inner)
}

fn lockdep_title(title: &str) -> Option<SplatKind> {
    let body = title
        .strip_prefix("WARNING: ")
        .or_else(|| title.strip_prefix("BUG: "))
        .unwrap_or(title);
    if irq_order_title(body) {
        return Some(SplatKind::IrqSafeToUnsafeLockOrder);
    }
    LOCKDEP_TITLES
        .iter()
        .find(|(t, _)| body == *t)
        .map(|&(_, kind)| kind)
}

/// `HARDIRQ-safe -> HARDIRQ-unsafe lock order detected` (or SOFTIRQ; `-irq-` in old kernels).
fn irq_order_title(body: &str) -> bool {
    (body.starts_with("HARDIRQ-") || body.starts_with("SOFTIRQ-"))
        && body.contains("-safe -> ")
        && body.ends_with("lock order detected")
}

fn bug_kind(body: &str) -> Option<SplatKind> {
    if body.starts_with("sleeping function called from invalid context") {
        return Some(SplatKind::SleepingFunctionInvalidContext);
    }
    if body.starts_with("scheduling while atomic: ") {
        return Some(SplatKind::SchedulingWhileAtomic);
    }
    if body.starts_with("workqueue leaked ") {
        return Some(SplatKind::WorkqueueLeakedLock);
    }
    if body.starts_with("soft lockup") {
        return Some(SplatKind::SoftLockup);
    }
    if body.starts_with("using ") && body.contains("() in preemptible ") {
        return Some(SplatKind::PreemptibleCpuAccess);
    }
    if body.starts_with("workqueue lockup") {
        return Some(SplatKind::WorkqueueLockup);
    }
    // lockdep's tables (`MAX_LOCKDEP_KEYS too low!`, `MAX_STACK_TRACE_ENTRIES too low!`).
    if (body.starts_with("MAX_") && body.ends_with(" too low!"))
        || body.starts_with("looking up invalid subclass")
    {
        return Some(SplatKind::LockdepLimit);
    }
    if body.starts_with("rwlock ") && body.contains(" on CPU#") {
        return Some(SplatKind::RwlockBug);
    }
    let reason = body.strip_prefix("spinlock ")?;
    // Longest reasons first: "cpu recursion" before "recursion".
    SPINLOCK_REASONS
        .iter()
        .filter(|(r, _)| reason.starts_with(r))
        .max_by_key(|(r, _)| r.len())
        .map(|&(_, kind)| kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_old_and_new() {
        let k = classify("WARNING: possible circular locking dependency detected");
        assert_eq!(k, Some(SplatKind::CircularLockingDependency));
        let k = classify("[ INFO: possible circular locking dependency detected ]");
        assert_eq!(k, Some(SplatKind::CircularLockingDependency));
        assert_eq!(
            classify("[ BUG: Invalid wait context ]"),
            Some(SplatKind::InvalidWaitContext)
        );
        assert_eq!(
            classify("WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected"),
            Some(SplatKind::IrqSafeToUnsafeLockOrder)
        );
        assert_eq!(
            classify("BUG: spinlock cpu recursion on CPU#0, a/1"),
            Some(SplatKind::SpinlockCpuRecursion)
        );
        assert_eq!(
            classify("rcu: INFO: rcu_sched detected stalls on CPUs/tasks:"),
            Some(SplatKind::RcuStall)
        );
        assert_eq!(
            classify("INFO: rcu_sched self-detected stall on CPU"),
            Some(SplatKind::RcuSelfDetectedStall)
        );
        assert_eq!(
            classify("WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2"),
            Some(SplatKind::Warning)
        );
        assert_eq!(classify("INFO: lockdep is turned off."), None);
        for (title, kind) in [
            (
                "rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-.... } 2 jiffies s: 3 root: 0x2/.",
                SplatKind::RcuStall,
            ),
            (
                "INFO: rcu_tasks detected stalls on tasks:",
                SplatKind::RcuStall,
            ),
            (
                "INFO: task udevd:5612 blocked in I/O wait for more than 143 seconds.",
                SplatKind::HungTask,
            ),
            (
                "INFO: task syz-executor.4:21128 can't die for more than 143 seconds.",
                SplatKind::HungTask,
            ),
            (
                "BUG: using smp_processor_id() in preemptible [00000000] code: syz/6792",
                SplatKind::PreemptibleCpuAccess,
            ),
            (
                "WARNING: syz-fuzzer/4398 still has locks held!",
                SplatKind::StillHasLocksHeld,
            ),
            (
                "[ BUG: syz-executor/31761 still has locks held! ]",
                SplatKind::StillHasLocksHeld,
            ),
            ("BUG: MAX_LOCKDEP_KEYS too low!", SplatKind::LockdepLimit),
            (
                "BUG: rwlock wrong owner on CPU#1, a/2, ffff",
                SplatKind::RwlockBug,
            ),
            (
                "BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 32s!",
                SplatKind::WorkqueueLockup,
            ),
        ] {
            assert_eq!(classify(title), Some(kind), "{title}");
        }
        assert_eq!(
            classify("rcu: INFO: rcu_sched detected expedited nothing"),
            None
        );
        assert_eq!(
            classify("TITLE: BUG: spinlock recursion in wake_up_new_task"),
            None
        );
        assert_eq!(classify("EXT4-fs (sda4): INFO: recovery required"), None);
    }
}
