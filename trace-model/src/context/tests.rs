//! The builder's rules on tiny hand-built stores. [`Trace`] builds such stores for other
//! modules' tests too.

use super::locks::{HolderContext, LockMode, NameSource};
use super::{BuildOptions, ContextModel, Gfp, SleepKind, UnknownReason};
use crate::flags::{ContextFlags, FlagBits};
use crate::payload::{Payload, PayloadIn, TaskState};
use crate::store::{EventHeader, EventStore, EventStoreBuilder};

/// Flags from the column the kernel prints (`d.h1.`).
fn flags(col: &str) -> ContextFlags {
    let c: Vec<char> = col.chars().collect();
    let bits = FlagBits {
        irqs_off: matches!(c[0], 'd' | 'D'),
        bh_off: matches!(c[0], 'b' | 'D'),
        hardirq: matches!(c[2], 'h' | 'H' | 'Z'),
        softirq: matches!(c[2], 's' | 'H'),
        nmi: matches!(c[2], 'z' | 'Z'),
        ..FlagBits::default()
    };
    let depth = c[3].to_digit(16).unwrap_or(0) as u8;
    ContextFlags::new(bits, Some(depth), Some(0))
}

pub(crate) struct Trace {
    pub(crate) b: EventStoreBuilder,
}

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace {
            b: EventStoreBuilder::default(),
        }
    }

    pub(crate) fn ev(
        &mut self,
        ts: u64,
        cpu: u32,
        pid: i32,
        col: &str,
        name: &str,
        p: PayloadIn<'_>,
    ) {
        let h = EventHeader {
            ts,
            cpu,
            pid,
            comm: self.b.intern(&format!("task{pid}")),
            event_type: self.b.event_type(name).unwrap(),
            flags: flags(col),
        };
        self.b.push(h, &p);
    }

    pub(crate) fn func(
        &mut self,
        ts: u64,
        cpu: u32,
        pid: i32,
        col: &str,
        func: &str,
        parent: &str,
    ) {
        let p = Payload::Function {
            func: self.b.intern(func),
            parent: self.b.intern(parent),
        };
        self.ev(ts, cpu, pid, col, "function", p);
    }

    fn probe(&mut self, ts: u64, cpu: u32, pid: i32, col: &str, probed: &str, addr: u64) {
        let p = Payload::LockProbe {
            addr,
            probed: self.b.intern(probed),
        };
        self.ev(ts, cpu, pid, col, "lab_probe", p);
    }

    pub(crate) fn switch(&mut self, ts: u64, cpu: u32, prev: i32, state: &str, next: i32) {
        let p = Payload::SchedSwitch {
            prev_comm: self.b.intern(&format!("task{prev}")),
            prev_pid: prev,
            prev_prio: 120,
            prev_state: TaskState::parse(state),
            next_comm: self.b.intern(&format!("task{next}")),
            next_pid: next,
            next_prio: 120,
        };
        self.ev(ts, cpu, prev, "d..2.", "sched_switch", p);
    }

    pub(crate) fn build(self) -> (EventStore, ContextModel) {
        let store = self.b.finish();
        let model = ContextModel::build(&store, &BuildOptions::default());
        (store, model)
    }
}

const LOCK: u64 = 0xffff_ffff_c023_a724;

#[test]
fn interrupt_levels_nest_in_their_own_lanes() {
    let mut t = Trace::new();
    t.func(100, 0, 7, ".....", "work", "caller");
    let irq = t.b.intern("virtio0");
    t.ev(
        200,
        0,
        7,
        "d.h1.",
        "irq_handler_entry",
        Payload::IrqHandlerEntry { irq: 11, name: irq },
    );
    t.ev(
        300,
        0,
        7,
        "d.h1.",
        "irq_handler_exit",
        Payload::IrqHandlerExit {
            irq: 11,
            handled: true,
        },
    );
    t.ev(
        400,
        0,
        7,
        "..s1.",
        "softirq_entry",
        Payload::SoftirqEntry { vec: 1 },
    );
    t.ev(450, 0, 7, "d.H1.", "hrtimer_expire_entry", Payload::Empty);
    t.ev(460, 0, 7, "d.H1.", "hrtimer_expire_exit", Payload::Empty);
    t.ev(
        500,
        0,
        7,
        "..s1.",
        "softirq_exit",
        Payload::SoftirqExit { vec: 1 },
    );
    t.func(600, 0, 7, ".....", "work", "caller");
    let (store, model) = t.build();
    let lanes = &model.cpus[0];
    let hard: Vec<_> = lanes
        .hardirq
        .iter()
        .map(|i| (i.start_ns, i.end_ns, i.value.irq))
        .collect();
    assert_eq!(hard, [(200, 300, Some(11)), (450, 460, None)]);
    let soft: Vec<_> = lanes
        .softirq
        .iter()
        .map(|i| (i.start_ns, i.end_ns, i.value.vec))
        .collect();
    assert_eq!(soft, [(400, 500, Some(1))]);
    let s = model.state_at(&store, 0, 455).unwrap();
    assert_eq!(s.stack.len(), 3, "{:?}", s.stack);
    assert_eq!(s.irqs_off, Some(true));
    let s = model.state_at(&store, 0, 550).unwrap();
    assert_eq!(s.stack.len(), 1);
    assert_eq!(s.irqs_off, Some(false));
    assert_eq!(
        lanes
            .irqs_off
            .iter()
            .map(|i| (i.start_ns, i.end_ns))
            .collect::<Vec<_>>(),
        [(200, 400), (450, 500)]
    );
}

#[test]
fn interrupt_holds_are_not_charged_to_the_interrupted_task() {
    let mut t = Trace::new();
    t.func(100, 1, 7, ".....", "work", "caller");
    t.ev(200, 1, 7, "d.h1.", "hrtimer_expire_entry", Payload::Empty);
    t.probe(210, 1, 7, "d.h1.", "_raw_spin_lock", LOCK);
    t.probe(220, 1, 7, "d.h2.", "_raw_spin_unlock", LOCK);
    t.ev(230, 1, 7, "d.h1.", "hrtimer_expire_exit", Payload::Empty);
    t.func(300, 1, 7, ".....", "msleep", "work");
    let (store, model) = t.build();
    let hold = &model.locks.holds[0];
    assert_eq!(hold.context, HolderContext::Hardirq);
    assert_eq!(hold.mode, LockMode::Spin);
    assert_eq!(hold.hardirqs_enabled, Some(false));
    assert_eq!(hold.release_ts, Some(220));
    assert!(model.task_holds_at(7, 1, 215).is_empty());
    let s = model.state_at(&store, 1, 215).unwrap();
    assert_eq!(s.locks.len(), 1);
    assert_eq!(s.locks[0].context, "hardirq");
    let call = &model.sleep_calls[0];
    assert!(
        model.held_at(call).is_empty(),
        "the task held nothing at msleep"
    );
}

#[test]
fn lost_events_make_the_context_unknown_and_end_holds() {
    let mut t = Trace::new();
    t.func(100, 0, 7, ".....", "work", "caller");
    t.probe(110, 0, 7, ".....", "_raw_spin_lock", LOCK);
    t.func(120, 0, 7, "...1.", "other", "work");
    t.b.lost(0, 500, Some(42));
    t.func(500, 0, 7, ".....", "msleep", "work");
    let (store, model) = t.build();
    let unknown: Vec<_> = model.cpus[0]
        .unknown
        .iter()
        .map(|i| (i.start_ns, i.end_ns, *i.value))
        .collect();
    assert_eq!(unknown, [(120, 500, UnknownReason::LostEvents)]);
    assert_eq!(model.hold_spans[0].end_ns, 120);
    assert_eq!(model.locks.holds[0].release_ts, None);
    let s = model.state_at(&store, 0, 300).unwrap();
    assert_eq!(s.unknown, Some(UnknownReason::LostEvents));
    assert!(s.locks.is_empty());
    assert_eq!(s.irqs_off, None);
    assert!(
        model.held_at(&model.sleep_calls[0]).is_empty(),
        "no hold carried across the gap"
    );
}

#[test]
fn sched_switch_flags_do_not_judge_and_sleeps_keep_the_callers_state() {
    let mut t = Trace::new();
    // Calibrate: msleep and schedule normally record depth 0.
    for k in 0..10 {
        t.func(10 + k, 2, 9, ".....", "schedule", "worker");
    }
    t.func(100, 2, 7, ".....", "work", "caller");
    t.func(110, 2, 7, ".....", "msleep", "work");
    t.func(120, 2, 7, ".....", "schedule", "schedule_timeout");
    t.switch(130, 2, 7, "D", 0);
    let (_, model) = t.build();
    assert!(
        model.cpus[2].irqs_off.is_empty(),
        "sched_switch's own d..2 is not a sample"
    );
    assert!(model.cpus[2].preempt_off.is_empty());
    let roots: Vec<_> = model
        .sleep_calls
        .iter()
        .filter(|c| c.root.is_none() && c.pid == 7)
        .collect();
    assert_eq!(roots.len(), 1);
    let root = roots[0];
    assert_eq!(model.str(root.func), "msleep");
    assert_eq!(
        root.slept,
        Some(13),
        "the switch (event 13) is msleep's real sleep"
    );
    assert_eq!(root.irqs_off, Some(false));
    assert_eq!(root.excess_depth, Some(0));
}

#[test]
fn spinlock_held_at_a_might_sleep_call_and_kallsyms_names_it() {
    let mut t = Trace::new();
    for k in 0..10 {
        t.func(k, 1, 9, ".....", "msleep", "worker");
    }
    t.func(100, 1, 7, ".....", "buggy", "thread");
    t.probe(110, 1, 7, ".....", "_raw_spin_lock", LOCK);
    t.func(120, 1, 7, "...1.", "msleep", "buggy");
    t.func(121, 1, 7, "...1.", "schedule_timeout", "msleep");
    t.switch(130, 1, 7, "D", 0);
    t.probe(200, 1, 7, "...1.", "_raw_spin_unlock", LOCK);
    let mut store = t.b.finish();
    let sym = crate::symbols::Symbol {
        addr: LOCK,
        name: std::sync::Arc::make_mut(&mut store.strings).intern("my_lock"),
        kind: crate::symbols::SymbolKind::Data,
        module: crate::StrId::EMPTY,
    };
    store.symbols = crate::symbols::SymbolTable::new(vec![sym]);
    let model = ContextModel::build(&store, &BuildOptions::default());
    let class = &model.locks.classes[0];
    assert_eq!(
        (model.str(class.name), class.source),
        ("my_lock", NameSource::Kallsyms)
    );
    let hold = &model.locks.holds[0];
    assert_eq!(hold.caller.map(|c| model.str(c)), Some("buggy"));
    let call = model
        .sleep_calls
        .iter()
        .find(|c| c.pid == 7 && c.root.is_none())
        .unwrap();
    assert_eq!(model.str(call.caller), "buggy");
    assert_eq!(call.excess_depth, Some(1));
    assert_eq!(model.held_at(call), [0]);
    assert!(call.slept.is_some());
    let nested = model
        .sleep_calls
        .iter()
        .filter(|c| c.root.is_some())
        .count();
    assert_eq!(nested, 1, "schedule_timeout is part of msleep");
    assert_eq!(
        call.kind,
        SleepKind::Call(super::primitives::SleepEntry::MaySleep)
    );
    assert_eq!(call.gfp, Gfp::NotAllocation);
}

/// Two locks inside one static structure are two classes, named by their offsets.
#[test]
fn locks_inside_a_data_symbol_are_named_with_their_offset() {
    let mut t = Trace::new();
    t.probe(100, 1, 7, ".....", "_raw_spin_lock", LOCK);
    t.probe(110, 1, 7, "...1.", "_raw_spin_lock", LOCK + 0x40);
    t.probe(120, 1, 7, "...2.", "_raw_spin_unlock", LOCK + 0x40);
    t.probe(130, 1, 7, "...1.", "_raw_spin_unlock", LOCK);
    let mut store = t.b.finish();
    let sym = crate::symbols::Symbol {
        addr: LOCK,
        name: std::sync::Arc::make_mut(&mut store.strings).intern("my_dev"),
        kind: crate::symbols::SymbolKind::Data,
        module: crate::StrId::EMPTY,
    };
    store.symbols = crate::symbols::SymbolTable::new(vec![sym]);
    let model = ContextModel::build(&store, &BuildOptions::default());
    let names: Vec<&str> = model
        .locks
        .classes
        .iter()
        .map(|c| model.str(c.name))
        .collect();
    assert_eq!(names, ["my_dev", "my_dev+0x40"]);
}

/// mutex_lock() can allocate, and the allocation takes lockdep's fs_reclaim map before the
/// mutex's own lock_acquire: the pseudo-lock must not take the mutex's mode.
#[test]
fn a_pseudo_lock_inside_a_lock_call_leaves_the_mode_to_the_real_lock() {
    let mut t = Trace::new();
    let reclaim = t.b.intern("fs_reclaim");
    let mutex = t.b.intern("my_mutex");
    t.func(100, 0, 7, ".....", "mutex_lock_nested", "f");
    for (ts, addr, name) in [(110, 0x30, reclaim), (130, 0x20, mutex)] {
        t.ev(
            ts,
            0,
            7,
            ".....",
            "lock_acquire",
            Payload::LockAcquire {
                addr,
                name,
                trylock: false,
                read: 0,
            },
        );
        if name == reclaim {
            t.ev(
                120,
                0,
                7,
                ".....",
                "lock_release",
                Payload::LockRelease { addr, name },
            );
        }
    }
    let store = t.b.finish();
    let model = ContextModel::build(&store, &BuildOptions::default());
    let modes: Vec<(&str, LockMode)> = model
        .locks
        .holds
        .iter()
        .map(|h| {
            (
                model.str(model.locks.classes[model.locks.class_of(h.lock).0 as usize].name),
                h.mode,
            )
        })
        .collect();
    assert_eq!(
        modes,
        [
            ("fs_reclaim", LockMode::Pseudo),
            ("my_mutex", LockMode::Mutex)
        ]
    );
}

#[test]
fn lockdep_spinlock_mode_is_inferred_from_the_depth_at_release() {
    let mut t = Trace::new();
    let name = t.b.intern("my_spin");
    let mname = t.b.intern("my_mutex");
    t.func(100, 0, 7, ".....", "f", "g");
    t.ev(
        110,
        0,
        7,
        "...1.",
        "lock_acquire",
        Payload::LockAcquire {
            addr: 0x10,
            name,
            trylock: false,
            read: 0,
        },
    );
    t.ev(
        120,
        0,
        7,
        "...1.",
        "lock_release",
        Payload::LockRelease { addr: 0x10, name },
    );
    t.func(130, 0, 7, ".....", "mutex_lock_nested", "f");
    t.ev(
        140,
        0,
        7,
        "...1.",
        "lock_acquire",
        Payload::LockAcquire {
            addr: 0x20,
            name: mname,
            trylock: false,
            read: 0,
        },
    );
    t.ev(
        150,
        0,
        7,
        ".....",
        "lock_release",
        Payload::LockRelease {
            addr: 0x20,
            name: mname,
        },
    );
    let (_, model) = t.build();
    assert_eq!(model.locks.holds[0].mode, LockMode::Spin);
    assert!(model.hold_spans[0].mode_inferred);
    assert_eq!(model.locks.holds[1].mode, LockMode::Mutex);
    assert_eq!(model.locks.holds[1].caller.map(|c| model.str(c)), Some("f"));
    assert_eq!(model.str(model.locks.classes[0].name), "my_spin");
}

#[test]
fn failed_kprobe_trylock_is_dropped_on_back_off() {
    let mut t = Trace::new();
    t.probe(100, 0, 7, ".....", "_raw_spin_lock", 0x10);
    t.probe(110, 0, 7, "...1.", "_raw_spin_trylock", 0x20);
    t.probe(120, 0, 7, "...1.", "_raw_spin_unlock", 0x10);
    t.func(130, 0, 7, ".....", "msleep", "f");
    let (_, model) = t.build();
    assert_eq!(model.build_stats.failed_trylocks, 1);
    assert!(model.held_at(&model.sleep_calls[0]).is_empty());
}

#[test]
fn task_timeline_running_runnable_sleeping_and_wakeups() {
    let mut t = Trace::new();
    t.func(100, 0, 7, ".....", "work", "caller");
    t.switch(200, 0, 7, "R+", 8);
    t.switch(300, 0, 8, "S", 7);
    let wakee = t.b.intern("task8");
    for (ts, name) in [(400, "sched_waking"), (410, "sched_wakeup")] {
        let p = Payload::SchedWakeup {
            comm: wakee,
            pid: 8,
            prio: 120,
            target_cpu: 1,
        };
        t.ev(ts, 0, 7, "d..4.", name, p);
    }
    let migrated = Payload::SchedMigrate {
        comm: wakee,
        pid: 8,
        prio: 120,
        orig_cpu: 0,
        dest_cpu: 1,
    };
    t.ev(405, 0, 7, "d..4.", "sched_migrate_task", migrated);
    t.switch(500, 1, 0, "R", 8);
    let (_, model) = t.build();
    let lane = model.tasks.lane(8).unwrap();
    let runs: Vec<_> = lane
        .iter()
        .map(|i| (i.start_ns, i.end_ns, *i.value))
        .collect();
    use super::tasks::TaskRun;
    assert_eq!(
        runs,
        [
            (200, 300, TaskRun::Running { cpu: 0 }),
            (300, 410, TaskRun::Sleeping(TaskState::parse("S"))),
            (410, 500, TaskRun::Runnable),
            (500, 500, TaskRun::Running { cpu: 1 }),
        ]
    );
    let seven = model.tasks.lane(7).unwrap();
    assert_eq!(
        seven.at(250).map(|i| *i.value),
        Some(TaskRun::Runnable),
        "R+ is preempted, not asleep"
    );
    assert_eq!(
        model.tasks.wakeups.len(),
        1,
        "one wakeup, from sched_waking"
    );
    assert_eq!(
        (
            model.tasks.wakeups[0].waker_pid,
            model.tasks.wakeups[0].wakee_pid
        ),
        (7, 8)
    );
    assert_eq!(model.tasks.migrations[0].to_cpu, 1);
    assert!(model.tasks.lane(0).is_none(), "idle tasks are left out");
}

/// A full function trace shows the scheduler's internals with irqs off before every switch,
/// some from untraced callers (`update_load_avg` is inlined): the sleep is judged by what the
/// caller brought into `schedule()`.
#[test]
fn a_full_function_trace_judges_a_sleep_by_its_schedule_entry() {
    let mut t = Trace::new();
    t.func(100, 1, 7, ".....", "inet_csk_accept", "inet_accept");
    t.func(110, 1, 7, ".....", "schedule", "inet_csk_accept");
    t.func(120, 1, 7, "d..1.", "rcu_note_context_switch", "__schedule");
    t.func(
        130,
        1,
        7,
        "d..2.",
        "__update_load_avg_se",
        "update_load_avg",
    );
    t.func(
        140,
        1,
        7,
        "d..3.",
        "kprobe_ftrace_handler",
        "arch_ftrace_ops_list_func",
    );
    t.func(150, 1, 7, "d..3.", "__traceiter_sched_switch", "__schedule");
    t.switch(160, 1, 7, "S", 0);
    // The exiting task's last switch is not a sleep.
    t.func(200, 1, 8, "d..1.", "rcu_note_context_switch", "__schedule");
    t.switch(210, 1, 8, "X", 0);
    let (_, model) = t.build();
    let sleeps: Vec<_> = model
        .sleep_calls
        .iter()
        .filter(|c| c.root.is_none() && c.slept.is_some())
        .collect();
    assert_eq!(sleeps.len(), 1, "{sleeps:#?}");
    assert_eq!(sleeps[0].pid, 7);
    assert_eq!(sleeps[0].irqs_off, Some(false));
    assert_eq!(sleeps[0].excess_depth, Some(0));
}

/// A filtered trace shows no exits: a marker proves an allocation blocking only right after
/// its entry (might_alloc()), never once anything else of the context happened.
#[test]
fn a_marker_is_an_allocations_evidence_only_while_it_runs() {
    let mut t = Trace::new();
    t.func(100, 1, 7, "d..1.", "__kmalloc", "virtqueue_add");
    let p = Payload::IrqEnable {
        caller: t.b.intern("_raw_spin_unlock_irqrestore"),
        parent: t.b.intern(""),
    };
    t.ev(110, 1, 7, ".....", "irq_enable", p);
    t.func(120, 1, 7, ".....", "__might_sleep", "folio_lock");
    t.func(200, 1, 7, ".....", "__kmalloc", "load_elf_phdrs");
    t.func(210, 1, 7, ".....", "__might_sleep", "slab_pre_alloc_hook");
    let (_, model) = t.build();
    let gfp: Vec<_> = model
        .sleep_calls
        .iter()
        .filter(|c| c.root.is_none() && c.gfp != Gfp::NotAllocation)
        .map(|c| (model.str(c.caller), c.gfp))
        .collect();
    assert_eq!(
        gfp,
        [
            ("virtqueue_add", Gfp::NonBlocking),
            ("load_elf_phdrs", Gfp::Blocking)
        ]
    );
}

/// Only the state the caller brought in counts: a nested call's own irqs-off state (inside
/// the primitive) is no finding when the root call was made in a sleepable context.
#[test]
fn a_nested_call_is_judged_by_its_roots_state() {
    let mut t = Trace::new();
    for k in 0..10 {
        t.func(10 + k, 1, 9, ".....", "mutex_lock", "worker");
    }
    t.func(100, 1, 7, ".....", "mutex_lock", "driver_fn");
    t.func(110, 1, 7, "d..1.", "__might_sleep", "__mutex_lock");
    let (store, model) = t.build();
    let nested = model
        .sleep_calls
        .iter()
        .filter(|c| c.root.is_some())
        .count();
    assert_eq!(nested, 1);
    assert!(crate::detect::sleep_in_atomic::detect(&store, &model).is_empty());
}

#[test]
fn unknown_time_summed_over_cpus_saturates_instead_of_overflowing() {
    // A damaged trace's times span nearly all of u64 (a fuzzer's finding): each CPU's
    // unknown stretch fits, their sum does not.
    let mut t = Trace::new();
    for cpu in 0..2 {
        t.func(10, cpu, 7, ".....", "work", "caller");
        t.b.lost(cpu, 20, None);
        t.func(u64::MAX - 5, cpu, 7, ".....", "work", "caller");
    }
    let (_, model) = t.build();
    assert!(model.cpus[0].unknown.total_ns() > u64::MAX / 2);
    assert_eq!(model.coverage.unknown_ns, u64::MAX);
}
