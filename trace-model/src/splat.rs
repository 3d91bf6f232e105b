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
    RcuStall,
    RcuSelfDetectedStall,
    HungTask,
    SoftLockup,
    /// `WARNING: CPU: N PID: P at file:line func` not covered by a specific kind.
    Warning,
    /// `kernel BUG at file:line!`.
    KernelBug,
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
            RcuStall => "rcu_stall",
            RcuSelfDetectedStall => "rcu_self_detected_stall",
            HungTask => "hung_task",
            SoftLockup => "soft_lockup",
            Warning => "warning",
            KernelBug => "kernel_bug",
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_lock: Option<String>,
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
    Lockdep(LockdepFacts),
    AtomicSleep(AtomicSleepFacts),
    Spinlock(SpinlockFacts),
    RcuStall(RcuStallFacts),
    SuspiciousRcu(SuspiciousRcuFacts),
    HungTask {
        blocked_seconds: u64,
    },
    WorkqueueLeak {
        /// `preempt=0x%08x lock=%d->%d RCU=%d->%d workfn=%ps`, as printed.
        #[serde(skip_serializing_if = "Option::is_none")]
        preempt_lock_rcu: Option<String>,
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
            facts,
            held_locks: None,
            panic: false,
            stack: Vec::new(),
        }
    }

    /// The frame the report is about: the first reliable frame that is neither the reporting
    /// machinery (dump_stack, lockdep, might_sleep, the scheduler) nor a lock / sleep primitive.
    pub fn culprit_frame(&self) -> Option<&Frame> {
        self.stack
            .iter()
            .find(|f| !f.unreliable && !is_report_or_primitive(&f.function))
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

/// Function-name prefixes of the code that prints reports and of the lock / sleep primitives a
/// culprit calls.
const REPORT_OR_PRIMITIVE: &[&str] = &[
    "dump_stack",
    "__dump_stack",
    "show_stack",
    "unwind_backtrace",
    "dump_backtrace",
    "print_",
    "__might_resched",
    "___might_sleep",
    "__might_sleep",
    "__schedule_bug",
    "__schedule",
    "schedule",
    "lockdep_",
    "__lock_acquire",
    "lock_acquire",
    "lock_release",
    "mark_lock",
    "mark_usage",
    "check_",
    "validate_chain",
    "valid_state",
    "__warn",
    "report_bug",
    "handle_bug",
    "exc_invalid_op",
    "asm_exc_invalid_op",
    "panic",
    "spin_dump",
    "spin_bug",
    "do_raw_spin_",
    "_raw_",
    "__mutex_lock",
    "mutex_lock",
    "down",
    "msleep",
    "usleep",
    "__kmalloc",
    "kmalloc",
    "nmi_",
    "debug_check_no_locks_freed",
    "slab_",
    "kmem_cache_",
    "__kmem_cache_",
    "fs_reclaim_",
    "might_alloc",
];

fn is_report_or_primitive(function: &str) -> bool {
    REPORT_OR_PRIMITIVE.iter().any(|p| function.starts_with(p))
}
