//! Kernel functions that matter to the context model, recognised by name: lock primitives
//! (function-tracer entries and kprobe targets) and might-sleep entry points (formats.md 4.5).
//! Names only: no address of any particular kernel.

use super::locks::LockMode;
use crate::StrId;
use crate::strings::Interner;

/// What a lock primitive does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOp {
    Acquire { mode: LockMode, trylock: bool },
    Release,
}

/// The function name without a `+0x12/0x40` offset, a `.constprop.0` / `.isra.0` clone suffix
/// or a ` [module]` tag.
pub fn base_name(name: &str) -> &str {
    let name = name.split([' ', '+']).next().unwrap_or(name);
    name.split('.').next().unwrap_or(name)
}

/// Classifies a lock primitive (`_raw_spin_lock_irqsave`, `mutex_lock_nested`, `up_write`...).
/// Also accepts names that merely contain the primitive (a kprobe event called
/// `my_spin_lock_bh`), so a trace whose probes are named after what they probe still works.
pub fn lock_op(name: &str) -> Option<LockOp> {
    let n = base_name(name);
    let acquire = |mode, trylock| Some(LockOp::Acquire { mode, trylock });
    // Releases first: `spin_unlock` also contains `spin_` and `lock`.
    const RELEASES: [&str; 8] = [
        "spin_unlock",
        "read_unlock",
        "write_unlock",
        "mutex_unlock",
        "up_read",
        "up_write",
        "rt_mutex_unlock",
        "percpu_up_",
    ];
    if RELEASES.iter().any(|r| n.contains(r)) || n == "up" {
        return Some(LockOp::Release);
    }
    if n.contains("spin_trylock") {
        return acquire(spin_mode(n), true);
    }
    if n.contains("spin_lock") {
        return acquire(spin_mode(n), false);
    }
    if n.contains("read_trylock") {
        return acquire(LockMode::RwlockRead, true);
    }
    if n.contains("write_trylock") {
        return acquire(LockMode::RwlockWrite, true);
    }
    if n.contains("raw_read_lock") || n.ends_with("_read_lock_irqsave") {
        return acquire(LockMode::RwlockRead, false);
    }
    if n.contains("raw_write_lock") || n.ends_with("_write_lock_irqsave") {
        return acquire(LockMode::RwlockWrite, false);
    }
    if n.contains("mutex_trylock") {
        return acquire(LockMode::Mutex, true);
    }
    if n.contains("mutex_lock") {
        return acquire(LockMode::Mutex, false);
    }
    if n.contains("down_read_trylock") {
        return acquire(LockMode::RwsemRead, true);
    }
    if n.contains("down_write_trylock") {
        return acquire(LockMode::RwsemWrite, true);
    }
    if n.contains("down_read") {
        return acquire(LockMode::RwsemRead, false);
    }
    if n.contains("down_write") {
        return acquire(LockMode::RwsemWrite, false);
    }
    if n == "down_trylock" {
        return acquire(LockMode::Mutex, true);
    }
    if matches!(
        n,
        "down" | "down_interruptible" | "down_killable" | "down_timeout"
    ) {
        return acquire(LockMode::Mutex, false);
    }
    None
}

fn spin_mode(n: &str) -> LockMode {
    if n.contains("irqsave") {
        LockMode::SpinIrqsave
    } else if n.ends_with("_irq") {
        LockMode::SpinIrq
    } else if n.ends_with("_bh") {
        LockMode::SpinBh
    } else if n.starts_with("raw_spin") || n.starts_with("do_raw_spin") {
        LockMode::RawSpin
    } else {
        LockMode::Spin
    }
}

/// What calling a might-sleep entry point means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SleepEntry {
    /// Always may sleep (mutex_lock, msleep, schedule, copy_from_user...).
    MaySleep,
    /// An allocation: may sleep only with a blocking GFP.
    Allocation,
    /// `__might_sleep` / `__might_resched` / `__might_fault`: the kernel's own marker,
    /// called only where sleeping is possible (with CONFIG_DEBUG_ATOMIC_SLEEP); on
    /// voluntary-preemption kernels `might_sleep()` calls `__cond_resched` (through the
    /// `might_resched` static call) instead.
    Marker,
}

/// Classifies a might-sleep entry point (formats.md 4.5).
pub fn sleep_entry(name: &str) -> Option<SleepEntry> {
    let n = base_name(name);
    if matches!(
        n,
        "__might_sleep" | "__might_resched" | "__might_fault" | "__cond_resched" | "might_resched"
    ) {
        return Some(SleepEntry::Marker);
    }
    if n == "vmalloc" || n == "vzalloc" {
        return Some(SleepEntry::MaySleep);
    }
    const ALLOC: [&str; 14] = [
        "kmalloc",
        "__kmalloc",
        "kmalloc_trace",
        "kmalloc_node_trace",
        "__kmalloc_node",
        "kzalloc",
        "kmem_cache_alloc",
        "kmem_cache_alloc_lru",
        "kmem_cache_alloc_node",
        "kmem_cache_zalloc",
        "alloc_pages",
        "__alloc_pages",
        "__get_free_pages",
        "get_zeroed_page",
    ];
    if ALLOC.contains(&n) {
        return Some(SleepEntry::Allocation);
    }
    if let Some(LockOp::Acquire { mode, trylock }) = lock_op(n) {
        return (mode.is_sleeping() && !trylock).then_some(SleepEntry::MaySleep);
    }
    const SLEEPS: [&str; 30] = [
        "msleep",
        "msleep_interruptible",
        "usleep_range",
        "usleep_range_state",
        "ssleep",
        "schedule",
        "io_schedule",
        "io_schedule_timeout",
        "wait_on_bit",
        "flush_work",
        "flush_workqueue",
        "__flush_workqueue",
        "drain_workqueue",
        "cancel_work_sync",
        "cancel_delayed_work_sync",
        "synchronize_rcu",
        "synchronize_srcu",
        "rcu_barrier",
        "kthread_stop",
        "copy_from_user",
        "copy_to_user",
        "_copy_from_user",
        "_copy_to_user",
        "strncpy_from_user",
        "lock_sock_nested",
        "request_firmware",
        "filp_open",
        "free_irq",
        "rt_mutex_lock",
        "synchronize_rcu_expedited",
    ];
    if SLEEPS.contains(&n)
        || n.starts_with("schedule_timeout")
        || n.starts_with("wait_for_completion")
        || n.starts_with("wait_on_bit_")
    {
        return Some(SleepEntry::MaySleep);
    }
    None
}

/// A scheduler function: sleeping goes through it, and what happens inside it (irqs off,
/// preemption off, the runqueue lock) is the scheduler's own state, never the caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedulerFn {
    /// Entered with the state its caller brought in (`schedule`, `schedule_timeout`...):
    /// its entry is what a sleep is judged by.
    Entry,
    /// Runs with preemption (or irqs) already disabled by the scheduler or by the sleeping
    /// primitive (`__schedule`, `schedule_preempt_disabled`, `preempt_schedule*`, the
    /// context switch): its entry shows no caller's state.
    Internal,
}

/// Classifies a scheduler function by name.
pub fn scheduler_fn(name: &str) -> Option<SchedulerFn> {
    let n = base_name(name);
    const ENTRIES: [&str; 4] = ["schedule", "io_schedule", "schedule_idle", "do_task_dead"];
    const INTERNAL: [&str; 10] = [
        "__schedule",
        "schedule_preempt_disabled",
        "schedule_rtlock",
        "context_switch",
        "finish_task_switch",
        "schedule_tail",
        "__switch_to",
        "__switch_to_asm",
        "__traceiter_sched_switch",
        "rt_mutex_schedule",
    ];
    if ENTRIES.contains(&n)
        || n.starts_with("schedule_timeout")
        || n.starts_with("io_schedule_timeout")
        || n.starts_with("schedule_hrtimeout")
    {
        Some(SchedulerFn::Entry)
    } else if INTERNAL.contains(&n) || n.starts_with("preempt_schedule") {
        Some(SchedulerFn::Internal)
    } else {
        None
    }
}

/// The function tracer's own dispatcher (`arch_ftrace_ops_list_func`, `ftrace_regs_caller`):
/// what it calls (a kprobe's handler) runs from the entry of whatever function was traced,
/// so the named parent is no caller in the call tree.
pub fn is_tracer_dispatch(name: &str) -> bool {
    let n = base_name(name);
    n.starts_with("arch_ftrace_ops")
        || n.starts_with("ftrace_ops_")
        || n.ends_with("ftrace_caller")
        || n.ends_with("ftrace_regs_caller")
}

/// lockdep pseudo-locks: maps that are not locks of any lock type (formats.md 4.6).
pub fn is_pseudo_lock(name: &str) -> bool {
    name.starts_with("rcu_read_lock")
        || name == "fs_reclaim"
        || name.starts_with("(wq_completion)")
        || name.starts_with("(work_completion)")
        || name.starts_with("sb_writers")
        || name.ends_with("_map")
        || name == "console_owner"
        || name == "mmu_notifier_invalidate_range_start"
}

/// Whether lockdep validates an acquisition of the class `name` (lock_acquire's `check`
/// argument). RCU's read-side maps (`rcu_read_lock`, `_bh`, `_sched`, `rcu_callback`) and
/// SRCU read locks are taken through `rcu_lock_acquire()` with check=0, and every device's
/// `&dev->mutex` is in lockdep's no-validate class (`device_initialize()`).
pub fn lockdep_validates(name: &str, read: bool) -> bool {
    let rcu_map = name.starts_with("rcu_read_lock") || name == "rcu_callback";
    // An SRCU domain's map is named after its srcu_struct: `tracepoint_srcu`, `&kvm->srcu`.
    let last_field = name.rsplit(['.', '>', '&']).next().unwrap_or(name);
    let srcu_read = read && last_field.ends_with("srcu");
    !(rcu_map || srcu_read || name == "&dev->mutex")
}

/// A `gfp_flags=` value allows blocking (includes `__GFP_DIRECT_RECLAIM`).
pub fn gfp_blocks(gfp: &str) -> bool {
    const BLOCKING: [&str; 7] = [
        "GFP_KERNEL",
        "GFP_NOFS",
        "GFP_NOIO",
        "GFP_USER",
        "GFP_HIGHUSER",
        "__GFP_DIRECT_RECLAIM",
        "GFP_KERNEL_ACCOUNT",
    ];
    gfp.split('|')
        .map(str::trim)
        .any(|f| BLOCKING.iter().any(|b| f.starts_with(b)))
}

/// What a function name is to the context model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FnClass {
    pub lock: Option<LockOp>,
    pub sleep: Option<SleepEntry>,
    /// `__schedule_bug`: the kernel's own "scheduling while atomic".
    pub schedule_bug: bool,
    pub scheduler: Option<SchedulerFn>,
    /// The function tracer's dispatcher ([`is_tracer_dispatch`]).
    pub tracer_dispatch: bool,
}

impl FnClass {
    /// A lock or sleep primitive (its caller is the interesting function).
    pub fn is_primitive(self) -> bool {
        self.lock.is_some() || self.sleep.is_some()
    }
}

/// Classifies interned function names once each: traces repeat a few thousand names
/// millions of times.
#[derive(Clone, Debug, Default)]
pub struct Classifier {
    cache: Vec<Option<FnClass>>,
}

impl Classifier {
    /// The class of the interned name `id`.
    pub fn get(&mut self, strings: &Interner, id: StrId) -> FnClass {
        let i = id.0 as usize;
        if i >= self.cache.len() {
            self.cache.resize(strings.len().max(i + 1), None);
        }
        *self.cache[i].get_or_insert_with(|| {
            let name = strings.resolve(id);
            FnClass {
                lock: lock_op(name),
                sleep: sleep_entry(name),
                schedule_bug: base_name(name) == "__schedule_bug",
                scheduler: scheduler_fn(name),
                tracer_dispatch: is_tracer_dispatch(name),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_primitives() {
        let acq = |mode, trylock| Some(LockOp::Acquire { mode, trylock });
        assert_eq!(
            lock_op("_raw_spin_lock_irqsave"),
            acq(LockMode::SpinIrqsave, false)
        );
        assert_eq!(
            lock_op("_raw_spin_lock+0x0/0x30"),
            acq(LockMode::Spin, false)
        );
        assert_eq!(lock_op("_raw_spin_lock_bh"), acq(LockMode::SpinBh, false));
        assert_eq!(lock_op("_raw_spin_trylock"), acq(LockMode::Spin, true));
        assert_eq!(lock_op("raw_spin_lock"), acq(LockMode::RawSpin, false));
        assert_eq!(lock_op("mutex_lock_nested"), acq(LockMode::Mutex, false));
        assert_eq!(
            lock_op("down_read_killable"),
            acq(LockMode::RwsemRead, false)
        );
        assert_eq!(
            lock_op("_raw_spin_unlock_irqrestore"),
            Some(LockOp::Release)
        );
        assert_eq!(lock_op("mutex_unlock"), Some(LockOp::Release));
        assert_eq!(lock_op("up_write"), Some(LockOp::Release));
        assert_eq!(lock_op("msleep"), None);
    }

    #[test]
    fn sleep_entries() {
        assert_eq!(sleep_entry("mutex_lock"), Some(SleepEntry::MaySleep));
        assert_eq!(sleep_entry("mutex_trylock"), None);
        assert_eq!(sleep_entry("_raw_spin_lock"), None);
        assert_eq!(
            sleep_entry("schedule_timeout_uninterruptible"),
            Some(SleepEntry::MaySleep)
        );
        assert_eq!(sleep_entry("kmalloc_trace"), Some(SleepEntry::Allocation));
        assert_eq!(sleep_entry("__might_sleep"), Some(SleepEntry::Marker));
        assert_eq!(sleep_entry("__cond_resched"), Some(SleepEntry::Marker));
        assert_eq!(sleep_entry("slab_pre_alloc_hook.constprop.0"), None);
    }

    #[test]
    fn scheduler_functions() {
        assert_eq!(scheduler_fn("schedule"), Some(SchedulerFn::Entry));
        assert_eq!(
            scheduler_fn("schedule_timeout_uninterruptible"),
            Some(SchedulerFn::Entry)
        );
        assert_eq!(scheduler_fn("__schedule"), Some(SchedulerFn::Internal));
        assert_eq!(
            scheduler_fn("finish_task_switch.isra.0"),
            Some(SchedulerFn::Internal)
        );
        assert_eq!(
            scheduler_fn("preempt_schedule_irq"),
            Some(SchedulerFn::Internal)
        );
        assert_eq!(scheduler_fn("schedule_work"), None);
        assert!(is_tracer_dispatch("arch_ftrace_ops_list_func"));
        assert!(!is_tracer_dispatch("ftrace_graph_func_unrelated_name_x"));
        assert_eq!(scheduler_fn("mutex_lock"), None);
    }

    #[test]
    fn gfp() {
        assert!(gfp_blocks("GFP_KERNEL|__GFP_ZERO"));
        assert!(!gfp_blocks("GFP_ATOMIC|__GFP_NOWARN"));
        assert!(!gfp_blocks("GFP_NOWAIT"));
    }
}
