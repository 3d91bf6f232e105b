//! Kernel splats: the kernel's own verdicts (lockdep, might_sleep, scheduling while atomic,
//! spinlock debug, RCU stalls, hung tasks, WARNING / BUG) as records.
//!
//! Splats are few (a handful per log), so each is an ordinary struct. The JSON field names
//! are those of `corpus/public/console/expected.json`, so `kctx splats --format json` compares
//! with it field by field.

use serde::Serialize;

/// What the kernel reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SplatKind {
    CircularLockingDependency,
    RecursiveLocking,
    InconsistentLockState,
    IrqSafeToUnsafeLockOrder,
    IrqLockInversion,
    InvalidWaitContext,
    BadUnlockBalance,
    HeldLockFreed,
    LockHeldReturningToUser,
    WorkqueueLeakedLock,
    SuspiciousRcuUsage,
    SleepingFunctionInvalidContext,
    SchedulingWhileAtomic,
    SpinlockBadMagic,
    SpinlockRecursion,
    SpinlockCpuRecursion,
    SpinlockWrongOwner,
    SpinlockWrongCpu,
    SpinlockAlreadyUnlocked,
    SpinlockLockup,
    /// `BUG: rwlock <reason> on CPU#N, comm/pid, %p` (CONFIG_DEBUG_SPINLOCK rwlocks).
    RwlockBug,
    RcuStall,
    RcuSelfDetectedStall,
    HungTask,
    SoftLockup,
    /// `WARNING: CPU: N PID: P at file:line func` not covered by a specific kind.
    Warning,
    /// `kernel BUG at file:line!`.
    KernelBug,
    /// `BUG: using smp_processor_id() in preemptible [%08x] code: comm/pid`: a per-CPU access
    /// (CONFIG_DEBUG_PREEMPT) from code that can migrate.
    PreemptibleCpuAccess,
    /// `WARNING: comm/pid still has locks held!`: a task froze or exited holding locks.
    StillHasLocksHeld,
    /// `INFO: trying to register non-static key.`: a lock used without lockdep init.
    NonStaticLockKey,
    /// `BUG: workqueue lockup - pool cpus=N ... stuck for Ns!`.
    WorkqueueLockup,
    /// lockdep ran out of a table (`BUG: MAX_LOCKDEP_KEYS too low!`) or a bad subclass: it
    /// turns itself off, so later lock bugs go unreported.
    LockdepLimit,
}

impl SplatKind {
    /// The snake_case name used in JSON and text output.
    pub fn name(self) -> &'static str {
        use SplatKind::*;
        match self {
            CircularLockingDependency => "circular_locking_dependency",
            RecursiveLocking => "recursive_locking",
            InconsistentLockState => "inconsistent_lock_state",
            IrqSafeToUnsafeLockOrder => "irq_safe_to_unsafe_lock_order",
            IrqLockInversion => "irq_lock_inversion",
            InvalidWaitContext => "invalid_wait_context",
            BadUnlockBalance => "bad_unlock_balance",
            HeldLockFreed => "held_lock_freed",
            LockHeldReturningToUser => "lock_held_returning_to_user",
            WorkqueueLeakedLock => "workqueue_leaked_lock",
            SuspiciousRcuUsage => "suspicious_rcu_usage",
            SleepingFunctionInvalidContext => "sleeping_function_invalid_context",
            SchedulingWhileAtomic => "scheduling_while_atomic",
            SpinlockBadMagic => "spinlock_bad_magic",
            SpinlockRecursion => "spinlock_recursion",
            SpinlockCpuRecursion => "spinlock_cpu_recursion",
            SpinlockWrongOwner => "spinlock_wrong_owner",
            SpinlockWrongCpu => "spinlock_wrong_cpu",
            SpinlockAlreadyUnlocked => "spinlock_already_unlocked",
            SpinlockLockup => "spinlock_lockup",
            RwlockBug => "rwlock_bug",
            RcuStall => "rcu_stall",
            RcuSelfDetectedStall => "rcu_self_detected_stall",
            HungTask => "hung_task",
            SoftLockup => "soft_lockup",
            Warning => "warning",
            KernelBug => "kernel_bug",
            PreemptibleCpuAccess => "preemptible_cpu_access",
            StillHasLocksHeld => "still_has_locks_held",
            NonStaticLockKey => "non_static_lock_key",
            WorkqueueLockup => "workqueue_lockup",
            LockdepLimit => "lockdep_limit",
        }
    }

    /// True for the lockdep report kinds (they carry held locks and lock names).
    pub fn is_lockdep(self) -> bool {
        use SplatKind::*;
        matches!(
            self,
            CircularLockingDependency
                | RecursiveLocking
                | InconsistentLockState
                | IrqSafeToUnsafeLockOrder
                | IrqLockInversion
                | InvalidWaitContext
                | BadUnlockBalance
                | HeldLockFreed
                | LockHeldReturningToUser
                | StillHasLocksHeld
                | NonStaticLockKey
                | LockdepLimit
        )
    }
}

/// The execution context a stack frame was printed under (`<IRQ>`, `<NMI>`, ... markers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameContext {
    #[default]
    Task,
    Irq,
    Softirq,
    Nmi,
    /// Other exception stacks (`<#DB>`, `<#DF>`, `<EOI>`...).
    Exception,
}

impl FrameContext {
    fn is_task(&self) -> bool {
        *self == FrameContext::Task
    }
}

/// One stack-trace frame.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub function: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `file:line` from a symbolizer (syzbot, decode_stacktrace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Printed with `[inline]`: no frame of its own.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inline: bool,
    /// Printed with a leading `? `: a stale return address the unwinder could not vouch for.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreliable: bool,
    #[serde(skip_serializing_if = "FrameContext::is_task")]
    pub context: FrameContext,
}

/// One `-> #N (lock){usage}:` entry of a printed dependency chain, with its stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainEntry {
    pub n: u32,
    pub lock: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<Frame>,
}

/// One lock-usage event of lockdep's history and the stack that recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageStack {
    /// `HARDIRQ-irq-safe`, `IN-SOFTIRQ-W`, ... as printed.
    pub usage: String,
    /// The lock it happened to, when the report names it just before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    pub stack: Vec<Frame>,
}

/// The held-locks list (`N locks held by comm/pid:` + ` #i: ... (name){....}, at: sym`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeldLocks {
    #[serde(rename = "locks_held_count")]
    pub count: u32,
    #[serde(rename = "locks_held_by", skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Lock class names in `#i` order (symbolizer repeats of one `#i` merged).
    #[serde(rename = "locks_held")]
    pub names: Vec<String>,
    /// The `at:` function of each held lock, same order as `names`.
    #[serde(rename = "locks_held_at")]
    pub at: Vec<String>,
}

/// Facts of lockdep reports; each kind fills the fields it prints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LockdepFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquiring_lock: Option<String>,
    /// The `at:` function of the lock being acquired (kept when the report is cut short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquiring_lock_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_lock_at: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependency_chain_printed: Vec<ChainEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_exists_of: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub existing_dependency_edges: Vec<[String; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_dependency_edge: Option<[String; 2]>,
    /// Starts and ends at the held lock.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lock_order_cycle: Vec<String>,
    /// `HC0[0]:SC1[1]:HE1:SE0`: hardirq ctx [count], softirq ctx [count], irqs / softirqs enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irq_context: Option<String>,
    /// `inconsistent {A} -> {B} usage`: the two usage states, braces included.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<String>,
    /// The one lock of inconsistent-state / wait-context / unlock-balance reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    /// Where `lock` was taken, released or freed (its `at:` function).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_at: Option<String>,
    /// The usage history printed with the report: `... which became HARDIRQ-irq-safe at:` and
    /// `{IN-SOFTIRQ-W} state was registered at:` blocks, each with its stack.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub usage_history: Vec<UsageStack>,
    /// `which would create a new lock dependency: (A) -> (B)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_dependency: Option<[String; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irq_safe_lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irq_unsafe_lock: Option<String>,
    /// Invalid wait context: the task's `context-{o:i}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// Facts of `__might_resched` / `__schedule_bug` reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AtomicSleepFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_atomic: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irqs_disabled: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_block: Option<i64>,
    /// As printed (hex without `0x` for might_sleep, `0x%08x` for scheduling while atomic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preempt_count: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preempt_count_expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcu_nest_depth: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcu_nest_depth_expected: Option<i64>,
    /// `Preemption disabled at:` symbol (`0x0` when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preemption_disabled_at: Option<String>,
}

/// Facts of CONFIG_DEBUG_SPINLOCK reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SpinlockFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_cpu: Option<i64>,
}

/// Facts of RCU CPU stall warnings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RcuStallFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcu_flavor: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stalled_cpus: Vec<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_by_cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t_jiffies: Option<u64>,
    /// `comm/pid` of the task dumped for the stalled CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stalled_task: Option<String>,
}

/// Facts of `WARNING: suspicious RCU usage`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SuspiciousRcuFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcu_scheduler_active: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_locks: Option<i64>,
}

/// Facts of `BUG: using smp_processor_id() in preemptible [%08x] code: comm/pid` +
/// `caller is F+off/size`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PreemptibleFacts {
    /// `smp_processor_id()`, `__this_cpu_read()`, ... as printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessor: Option<String>,
    /// preempt_count() as printed (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preempt_count: Option<String>,
    /// The function that made the access (`caller is`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

/// Facts of `WARNING: CPU: N PID: P at file:line func` and `kernel BUG at file:line!`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WarningFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// The facts a splat's kind carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum SplatFacts {
    Lockdep(Box<LockdepFacts>),
    AtomicSleep(AtomicSleepFacts),
    Spinlock(SpinlockFacts),
    RcuStall(RcuStallFacts),
    SuspiciousRcu(SuspiciousRcuFacts),
    HungTask {
        blocked_seconds: u64,
        /// `blocked in I/O wait for more than` (6.x): the task sleeps in `io_schedule`.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        io_wait: bool,
        /// `can't die for more than`: blocked with a fatal signal pending.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        cant_die: bool,
    },
    WorkqueueLeak {
        /// `preempt=0x%08x lock=%d->%d RCU=%d->%d workfn=%ps`, as printed.
        #[serde(skip_serializing_if = "Option::is_none")]
        preempt_lock_rcu: Option<String>,
        /// The work function that leaked (`workfn=` or `last function:`).
        #[serde(skip_serializing_if = "Option::is_none")]
        work_function: Option<String>,
    },
    PreemptibleCpuAccess(PreemptibleFacts),
    WorkqueueLockup {
        /// `pool cpus=0 node=0 flags=0x0 nice=0`, as printed.
        #[serde(skip_serializing_if = "Option::is_none")]
        pool: Option<String>,
        stuck_seconds: u64,
    },
    SoftLockup {
        stuck_seconds: u64,
    },
    Warning(WarningFacts),
}

/// One kernel splat.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Splat {
    pub kind: SplatKind,
    /// 1-based line of the splat's first line in the input.
    pub console_line: u32,
    /// Console `[ s.us]` stamp (guest `local_clock` seconds), when printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_ts: Option<f64>,
    /// Kernel release from the ident or `CPU:` line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Task the report is about (`comm` of `comm/pid` in the report body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// From the `CPU: N PID: P Comm: C` stack-dump line (or `on CPU#N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    /// CPU of a `[    C1]` printk caller id when no `CPU:` line was printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_from_printk_caller_id: Option<u32>,
    /// The function the report is named after (syzbot's "in F"), see [`crate::culprit`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culprit: Option<String>,
    #[serde(flatten)]
    pub facts: SplatFacts,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub held_locks: Option<HeldLocks>,
    /// `Kernel panic - not syncing` followed the report.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub panic: bool,
    /// The main stack trace (`Call Trace:`), outermost context markers applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stack: Vec<Frame>,
}

impl Splat {
    /// A record of `kind` at `console_line` with nothing else known yet.
    pub fn new(kind: SplatKind, console_line: u32, facts: SplatFacts) -> Self {
        Splat {
            kind,
            console_line,
            console_ts: None,
            kernel: None,
            task: None,
            pid: None,
            cpu: None,
            comm: None,
            cpu_from_printk_caller_id: None,
            culprit: None,
            facts,
            held_locks: None,
            panic: false,
            stack: Vec::new(),
        }
    }

    /// Lock class names the report names: its own lock facts, then the held locks.
    pub fn lock_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        if let SplatFacts::Lockdep(f) = &self.facts {
            let singles = [
                &f.acquiring_lock,
                &f.held_lock,
                &f.lock,
                &f.irq_safe_lock,
                &f.irq_unsafe_lock,
            ];
            names.extend(singles.into_iter().flatten().map(String::as_str));
            names.extend(f.lock_order_cycle.iter().map(String::as_str));
        }
        if let Some(held) = &self.held_locks {
            names.extend(held.names.iter().map(String::as_str));
        }
        names.sort_unstable();
        names.dedup();
        names
    }
}
