//! The culprit of a splat: the function kernel developers name a report by, as in syzbot's
//! titles ("possible deadlock in ext4_truncate", "INFO: task hung in rtnl_lock").
//!
//! Per kind, the culprit comes from the fact that names the call site (a lockdep report's
//! `at:` function, a workqueue's work function) or from the stack: its first frame that is
//! neither the reporting code, a lock wrapper, a wait or sleep primitive, nor a generic helper
//! (string, list, bit, copy, allocation, device-model functions). Stalls and lockups name the
//! frame that dispatched into the looping code (the callee of a syscall entry, work item or
//! timer); hung tasks the function they wait in, beyond the locks and waits. The rules follow
//! syzkaller's report parser (pkg/report/linux.go) so that titles agree with syzbot's.

use crate::splat::{Frame, FrameContext, Splat, SplatFacts, SplatKind};

/// A function-name pattern: `^x` a prefix, `x$` a suffix, `^x$` the whole name, else a part.
type Pattern = &'static str;

fn matches(pattern: Pattern, function: &str) -> bool {
    let (anchored_start, rest) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (anchored_end, core) = match rest.strip_suffix('$') {
        Some(core) => (true, core),
        None => (false, rest),
    };
    match (anchored_start, anchored_end) {
        (true, true) => function == core,
        (true, false) => function.starts_with(core),
        (false, true) => function.ends_with(core),
        (false, false) => function.contains(core),
    }
}

fn any_matches(patterns: &[Pattern], function: &str) -> bool {
    patterns.iter().any(|p| matches(p, function))
}

/// Frames no report is named after, whatever its kind.
const NEVER_CULPRIT: &[Pattern] = &[
    // Sanitizers and the reporting / unwinding code.
    "__sanitizer",
    "__asan",
    "kasan",
    "__msan",
    "kmsan",
    "kcsan_setup_watchpoint",
    "check_memory_region",
    "check_heap_object",
    "check_object",
    "print_address_description",
    "print_report",
    "print_usage_bug",
    "print_unlock",
    "print_tainted",
    "panic",
    "invalid_op",
    "report_bug",
    "fixup_bug",
    "do_error",
    "_trap$",
    "do_trap",
    "show_stack",
    "dump_stack",
    "walk_stack",
    "dump_backtrace",
    "stack_trace_consume_entry",
    "arch_stack_walk",
    "stack_trace_save",
    "warn_slowpath",
    "warn_alloc",
    "warn_bogus",
    "__warn",
    "imbalance_bug",
    "program_check_exception",
    "program_check_common",
    // Allocators.
    "alloc_page",
    "malloc",
    "zalloc",
    "calloc",
    "krealloc",
    "kmem_cache",
    "allocate_slab",
    "slab_",
    "folio_alloc",
    "folio_unlock",
    "filemap_alloc_folio",
    "__filemap_get_folio",
    "find_or_create_page",
    "do_read_cache_folio",
    "read_cache_page",
    "pagecache_get_page",
    "grab_cache_page_write_begin",
    "^kfree$",
    "^kvfree$",
    "kfree_skb",
    // Debug objects and lockdep itself.
    "debug_object",
    "timer_is_static_object",
    "work_is_static_object",
    "lockdep",
    "lock_acquire",
    "lock_release",
    "lock_class",
    "mark_lock",
    "mark_held_locks",
    "reacquire_held_locks",
    "trace_hardirq",
    "trace_softirq",
    "perf_trace",
    // Lock wrappers.
    "bh_enable",
    "bh_disable",
    "raw_spin_rq",
    "spin_lock",
    "spin_trylock",
    "spin_unlock",
    "read_lock",
    "read_trylock",
    "write_lock",
    "write_trylock",
    "read_unlock",
    "write_unlock",
    "^down$",
    "down_read",
    "down_write",
    "down_trylock",
    "up_read",
    "up_write",
    "^mutex_",
    "^__mutex_",
    "^rt_mutex_",
    "owner_on_cpu",
    "osq_lock",
    "osq_unlock",
    "^lock_page",
    "^unlock_page",
    "lock_timer_base",
    // Wait and sleep primitives.
    "might_sleep",
    "__might_resched",
    "might_fault",
    "^complete$",
    "wait_for_completion",
    "finish_wait",
    "__wake_up",
    "^msleep",
    "^usleep_range",
    "^ssleep$",
    // Atomics, bits, reference counts.
    "atomic_dec",
    "atomic_inc",
    "atomic_read",
    "atomic_set",
    "atomic_add",
    "atomic_sub",
    "atomic_fetch",
    "atomic_try",
    "atomic_xchg",
    "atomic_cmpxchg",
    "atomic64_",
    "set_bit",
    "clear_bit",
    "change_bit",
    "test_bit",
    "^refcount_",
    "^kref_",
    "ref_tracker",
    // String, memory, user-copy and formatting helpers.
    "memcpy",
    "memcmp",
    "memset",
    "memchr",
    "memmove",
    "memdup",
    "strcmp",
    "strncmp",
    "strcpy",
    "strlcpy",
    "strncpy",
    "strscpy",
    "strlen",
    "strstr",
    "strnstr",
    "strnlen",
    "strchr",
    "strdup",
    "strndup",
    "string",
    "pointer",
    "snprintf",
    "kasprintf",
    "kvasprintf",
    "printk",
    "va_format",
    "hex_dump_to_buffer",
    "print_hex_dump",
    "copy_to_user",
    "copy_from_user",
    "copy_to_iter",
    "copy_from_iter",
    "copy_page_to_iter",
    "copy_page_from_iter",
    "copy_folio_to_iter",
    "^copyin$",
    "^copyout$",
    "put_user",
    "get_user",
    "list_add",
    "list_del",
    "list_replace",
    "list_move",
    "list_splice",
    "^rb_",
    "^__rb_",
    "^klist_",
    "xas_start",
    "xas_load",
    "xas_find",
    "_indirect_thunk_",
    "^crc16",
    "^crc32",
    "^crc64",
    "^crc8",
    "^crc7",
    "crc_itu_t",
    "readb$",
    "readw$",
    "readl$",
    "readq$",
    "writeb$",
    "writew$",
    "writel$",
    "writeq$",
    "logic_in",
    "logic_out",
    "__phys_addr",
    "__fortify_report",
    "assertfail",
    // Logging.
    "dev_info",
    "dev_notice",
    "dev_warn",
    "dev_err",
    "dev_alert",
    "dev_crit",
    "dev_emerg",
    // Timers and work items: callers wait in them for someone else.
    "del_timer",
    "__timer_delete_sync",
    "sk_stop_timer_sync",
    "__mod_timer",
    "flush_work",
    "__cancel_work_timer",
    "cancel_work_sync",
    "try_to_grab_pending",
    "flush_workqueue",
    "drain_workqueue",
    "destroy_workqueue",
    "queue_work",
    "insert_work",
    "__queue_delayed_work",
    "queue_delayed_work_on",
    "kthread_stop",
    // Device model and teardown helpers reached from many drivers.
    "kobject_",
    "add_uevent_var",
    "get_device_parent",
    "device_add",
    "device_del",
    "device_unregister",
    "device_destroy",
    "device_release",
    "devres_release_all",
    "device_for_each_child",
    "device_remove_file",
    "^put_device$",
    "sysfs_remove",
    "rollback_registered",
    "unregister_netdev",
    "^iput$",
    "^iput_final$",
    "^ihold$",
    "fast_dput",
    "dput",
    "drop_nlink",
    "mark_buffer_dirty",
    "truncate_inode_pages_range",
    "find_lock_entries",
    "ida_free",
    "cleanup_srcu_struct",
    "rhashtable_lookup",
    "extract_user_to_sg",
    "extract_iter_to_sg",
    "^get_taint$",
    "seqprop_assert",
    // arm64 fault entry.
    "do_kernel_fault",
    "do_translation_fault",
    "do_mem_abort",
    "el1_abort",
    "el1h_64_sync",
];

/// Workqueue functions take locks that stand for work items: a deadlock there belongs to
/// whoever queued the work, not to them.
const WORKQUEUE_LOCKERS: &[Pattern] = &[
    "process_one_work",
    "flush_workqueue",
    "drain_workqueue",
    "destroy_workqueue",
];

/// Functions that dispatch into the code a stall or lockup loops in: the culprit of a stall
/// is the frame just above the first of them (the syscall, work item, timer... that looped).
const DISPATCHERS: &[Pattern] = &[
    "process_one_work",
    "do_syscall_",
    "do_fast_syscall_",
    "sysenter_dispatch",
    "tracesys_phase2",
    "el0_svc_handler",
    "invoke_syscall",
    "ret_fast_syscall",
    "netif_receive_skb",
    "do_softirq",
    "call_timer_fn",
    "_run_timers",
    "run_timer_softirq",
    "hrtimer_run",
    "run_ksoftirqd",
    "smpboot_thread_fn",
    "^kthread$",
    "start_secondary",
    "cpu_startup_entry",
    "ret_from_fork",
    "vfs_write",
    "vfs_read",
    "vfs_iter_read",
    "vfs_iter_write",
    "do_iter_read",
    "do_iter_write",
    "call_read_iter",
    "call_write_iter",
    "new_sync_read",
    "new_sync_write",
    "vfs_ioctl",
    "ksys_ioctl",
    "compat_ioctl",
    "blkdev_driver_ioctl",
    "blkdev_ioctl",
    "do_iter_readv_writev",
    "^call_mmap",
    "mmap_region",
    "do_mmap",
    "do_dentry_open",
    "vfs_open",
    "^sock_sendmsg",
    "^sock_recvmsg",
    "^sock_release",
    "^__sock_release",
    "^setsockopt$",
    "kernel_setsockopt",
    "sock_common_setsockopt",
    "^listen$",
    "kernel_listen",
    "sk_common_release",
    "^sock_mmap",
    "^accept$",
    "kernel_accept",
    "^sock_do_ioctl",
    "^sock_ioctl",
    "^compat_sock_ioctl",
    "^nfnetlink_rcv_msg",
    "^rtnetlink_rcv_msg",
    "^netlink_dump",
    "^socketpair",
    "^connect",
    "^ioctl",
    "^sys_socketpair",
    "^sys_connect",
    "^sys_ioctl",
    "__do_fault",
    "do_page_fault",
    "^page_fault$",
    "__fput",
    "task_work_run",
    "exit_to_usermode",
    "smp_call_function",
    "tasklet_action",
    "tasklet_hi_action",
];

/// Hung tasks wait in these; beyond them is the code that waited.
const HANG_WAITS: &[Pattern] = &[
    "sched",
    "_lock",
    "_slowlock",
    "down",
    "rwsem",
    "completion",
    "kthread",
    "wait",
    "synchronize",
    "context_switch",
    "__switch_to",
    "cancel_delayed_work",
    "rcu_barrier",
];

/// A hung task waiting in one of these names the wait itself: hangs all over the kernel on
/// `synchronize_*` share one root (RCU), and `rtnl_lock` is one well-known bucket.
const HANG_BUCKETS: &[(Pattern, &str)] = &[
    ("rtnl_lock", "rtnl_lock"),
    ("synchronize_rcu", "synchronize_rcu"),
    ("synchronize_srcu", "synchronize_rcu"),
    ("synchronize_net", "synchronize_rcu"),
    ("synchronize_sched", "synchronize_rcu"),
];

/// Frames that enter an interrupt: the frames printed after them are the interrupted code.
const INTERRUPT_ENTRIES: &[Pattern] = &[
    "apic_timer_interrupt",
    "el1h_64_irq$",
    "el1_irq$",
    "__irq_svc$",
];

/// True for a frame that enters an interrupt (the timer interrupt of a stall report).
pub fn is_interrupt_entry(function: &str) -> bool {
    any_matches(INTERRUPT_ENTRIES, function)
}

/// The culprit of `splat` by its kind's rule; `None` when the report names no function.
pub fn culprit(splat: &Splat) -> Option<String> {
    use SplatKind::*;
    let stack = &splat.stack;
    let lockdep = match &splat.facts {
        SplatFacts::Lockdep(f) => Some(f),
        _ => None,
    };
    let site = |pick: fn(&crate::splat::LockdepFacts) -> &Option<String>| {
        lockdep.and_then(|f| pick(f).as_deref())
    };
    let held_at = || {
        splat
            .held_locks
            .as_ref()
            .and_then(|h| h.at.first())
            .map(String::as_str)
    };
    let function = match splat.kind {
        CircularLockingDependency => {
            let sites = [site(|f| &f.acquiring_lock_at), site(|f| &f.held_lock_at)];
            first_site(&sites, WORKQUEUE_LOCKERS).or_else(|| first_frame(stack, WORKQUEUE_LOCKERS))
        }
        RecursiveLocking => {
            first_site(&[site(|f| &f.acquiring_lock_at)], &[]).or_else(|| first_frame(stack, &[]))
        }
        IrqLockInversion | BadUnlockBalance | HeldLockFreed => {
            first_site(&[site(|f| &f.lock_at)], &[]).or_else(|| first_frame(stack, &[]))
        }
        // The stack that made the lock irq-safe; a report cut short before it (and pre-4.12
        // reports) leaves the acquisition site.
        IrqSafeToUnsafeLockOrder => lockdep
            .and_then(|f| f.usage_history.first())
            .and_then(|u| first_frame(&u.stack, &[]))
            .or_else(|| first_site(&[site(|f| &f.acquiring_lock_at)], &[]))
            .or_else(|| first_frame(stack, &[])),
        InconsistentLockState => {
            first_frame(stack, &[]).or_else(|| first_site(&[site(|f| &f.lock_at)], &[]))
        }
        InvalidWaitContext => first_frame(stack, &["lock_sock", "release_sock"]),
        LockHeldReturningToUser | StillHasLocksHeld => {
            first_site(&[held_at()], &[]).or_else(|| first_frame(stack, &[]))
        }
        WorkqueueLeakedLock => match &splat.facts {
            SplatFacts::WorkqueueLeak { work_function, .. } => work_function.as_deref(),
            _ => None,
        },
        HungTask => match &splat.facts {
            SplatFacts::HungTask { cant_die: true, .. } => first_frame(stack, &["schedule"]),
            _ => return hang_culprit(stack),
        },
        RcuStall | RcuSelfDetectedStall | SoftLockup => {
            stall_culprit(interrupted(stack), &["rcu", "apic_timer_interrupt"])
        }
        SleepingFunctionInvalidContext => first_frame(stack, &[]),
        SchedulingWhileAtomic => first_frame(stack, &["schedule"]),
        SpinlockBadMagic
        | SpinlockRecursion
        | SpinlockCpuRecursion
        | SpinlockWrongOwner
        | SpinlockWrongCpu
        | SpinlockAlreadyUnlocked
        | SpinlockLockup
        | RwlockBug => first_frame(stack, &["spin_", "_lock", "_unlock"]),
        PreemptibleCpuAccess => {
            first_frame(stack, &["preempt", "debug_", "processor_id", "this_cpu"])
        }
        SuspiciousRcuUsage => first_frame(stack, &["rcu", "kmem", "slab"]),
        NonStaticLockKey => first_frame(stack, &["stack", "lock", "IRQ"]),
        Warning => match &splat.facts {
            // lockdep's own WARNINGs are named after the code that used the lock.
            SplatFacts::Warning(w) if w.file.as_deref() == Some("kernel/locking/lockdep.c") => {
                first_frame(stack, &["lock_sock", "release_sock"])
            }
            SplatFacts::Warning(w) => w.function.as_deref(),
            _ => None,
        },
        KernelBug => first_frame(stack, &[]),
        WorkqueueLockup | LockdepLimit => None,
    };
    function.map(|f| without_suffix(f).to_owned())
}

/// `sched_show_task.cold.84` -> `sched_show_task` (compiler clones name the same function).
fn without_suffix(function: &str) -> &str {
    function.split('.').next().unwrap_or(function)
}

fn ignored(function: &str, extra: &[Pattern]) -> bool {
    any_matches(NEVER_CULPRIT, function) || any_matches(extra, function)
}

fn first_site<'a>(sites: &[Option<&'a str>], extra: &[Pattern]) -> Option<&'a str> {
    sites
        .iter()
        .flatten()
        .copied()
        .find(|f| !ignored(without_suffix(f), extra))
}

/// Frames a culprit may be: printed with an address or offset of their own (symbolizers print
/// inlined callees without one) and vouched for by the unwinder.
fn candidates(stack: &[Frame]) -> impl Iterator<Item = &Frame> {
    stack.iter().filter(|f| !f.unreliable && !f.inline)
}

fn first_frame<'a>(stack: &'a [Frame], extra: &[Pattern]) -> Option<&'a str> {
    candidates(stack)
        .map(|f| f.function.as_str())
        .find(|f| !ignored(without_suffix(f), extra))
}

/// The frames of the code an interrupt stopped: after the first interrupt-entry frame (the
/// timer interrupt that found the stall; softirq work it ran may follow on the irq stack)
/// and the entry wrappers right after it, else after the last interrupt-context frame
/// (`<IRQ>` ... `</IRQ>`); the whole stack if neither was printed.
fn interrupted(stack: &[Frame]) -> &[Frame] {
    let is_entry = |f: &Frame| any_matches(INTERRUPT_ENTRIES, &f.function);
    let mut entry = stack.iter().position(is_entry);
    while let Some(at) = entry {
        match stack.iter().skip(at + 1).take(3).position(is_entry) {
            Some(next) => entry = Some(at + 1 + next),
            None => break,
        }
    }
    let entry = entry.or_else(|| stack.iter().rposition(|f| f.context != FrameContext::Task));
    match entry {
        Some(at) if at + 1 < stack.len() => &stack[at + 1..],
        _ => stack,
    }
}

/// The frame above the first dispatcher (or the dispatcher itself for `smp_call_function`).
fn stall_culprit<'a>(stack: &'a [Frame], extra: &[Pattern]) -> Option<&'a str> {
    let mut previous = None;
    for frame in candidates(stack) {
        let function = without_suffix(&frame.function);
        if ignored(function, extra) {
            continue;
        }
        if any_matches(DISPATCHERS, function) {
            if function.contains("smp_call_function") {
                return Some("smp_call_function");
            }
            return previous.or(Some(frame.function.as_str()));
        }
        previous = Some(frame.function.as_str());
    }
    None
}

/// The wait bucket a hung task is in, else the first frame beyond locks and waits.
fn hang_culprit(stack: &[Frame]) -> Option<String> {
    let frames: Vec<&str> = candidates(stack)
        .map(|f| without_suffix(&f.function))
        .filter(|f| !ignored(f, &[]))
        .collect();
    for function in &frames {
        if let Some((_, bucket)) = HANG_BUCKETS.iter().find(|(p, _)| matches(p, function)) {
            return Some((*bucket).to_owned());
        }
    }
    frames
        .into_iter()
        .find(|f| !any_matches(HANG_WAITS, f))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(names: &[&str]) -> Vec<Frame> {
        names
            .iter()
            .map(|n| Frame {
                function: (*n).to_owned(),
                offset: Some(1),
                ..Frame::default()
            })
            .collect()
    }

    #[test]
    fn patterns() {
        assert!(matches("^mutex_", "mutex_lock_nested"));
        assert!(!matches("^mutex_", "ww_mutex_lock"));
        assert!(matches("readl$", "ioreadl"));
        assert!(matches("^down$", "down"));
        assert!(!matches("^down$", "down_read"));
        assert!(matches("spin_lock", "_raw_spin_lock_irqsave"));
    }

    #[test]
    fn hung_task_buckets_and_waits() {
        let stack = frames(&[
            "__schedule",
            "schedule",
            "schedule_preempt_disabled",
            "__mutex_lock",
            "mutex_lock_nested",
            "rtnl_lock",
            "register_netdevice_notifier",
        ]);
        assert_eq!(hang_culprit(&stack).as_deref(), Some("rtnl_lock"));
        let stack = frames(&[
            "__switch_to",
            "__schedule",
            "io_schedule",
            "folio_wait_bit_common",
            "do_read_cache_folio",
            "read_cache_folio",
        ]);
        assert_eq!(hang_culprit(&stack).as_deref(), Some("read_cache_folio"));
    }

    #[test]
    fn stall_takes_the_frame_above_the_dispatcher() {
        let stack = frames(&[
            "fuse_abort_conn",
            "fuse_put_super",
            "cleanup_mnt",
            "__cleanup_mnt",
            "task_work_run",
            "exit_to_usermode_loop",
        ]);
        assert_eq!(stall_culprit(&stack, &["rcu"]), Some("__cleanup_mnt"));
        let mut with_irq = frames(&["rcu_sched_clock_irq", "update_process_times"]);
        for f in &mut with_irq {
            f.context = FrameContext::Irq;
        }
        with_irq.extend(stack);
        assert_eq!(interrupted(&with_irq)[0].function, "fuse_abort_conn");
    }
}
