//! The payload parsers on lines taken from the lab traces (tracefs and `trace-cmd report`
//! forms of the same events) and the public corpus.

use super::*;
use trace_model::TaskState;

/// Parses `payload` as event `name` would be; strings resolved for comparison.
fn parse(name: &str, payload: &str) -> (Option<String>, EventStoreBuilder) {
    let mut b = EventStoreBuilder::default();
    let (_, kind) = classify(name);
    let typed = PayloadParser::default().typed(kind, payload, &mut b);
    let shown = typed.map(|p| format!("{p:?}"));
    (shown, b)
}

fn str_id(b: &EventStoreBuilder, s: &str) -> StrId {
    b.strings()
        .lookup(s)
        .unwrap_or_else(|| panic!("{s} not interned"))
}

#[test]
fn sched_switch_tracefs_and_plugin_forms_agree() {
    let tracefs = "prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=init next_pid=1 next_prio=120";
    let plugin = "swapper/1:0 [120] R ==> init:1 [120]";
    let (a, _) = parse("sched_switch", tracefs);
    let (b, _) = parse("sched_switch", plugin);
    assert!(a.is_some());
    assert_eq!(a, b);
    let (p, bld) = parse(
        "sched_switch",
        "trace-cmd:170 [120] Z ==> swapper/0:0 [120]",
    );
    let want = PayloadIn::SchedSwitch {
        prev_comm: str_id(&bld, "trace-cmd"),
        prev_pid: 170,
        prev_prio: 120,
        prev_state: TaskState(TaskState::ZOMBIE),
        next_comm: str_id(&bld, "swapper/0"),
        next_pid: 0,
        next_prio: 120,
    };
    assert_eq!(p, Some(format!("{want:?}")));
    // comm with a space, and the preempted marker
    let (p, bld) = parse(
        "sched_switch",
        "prev_comm=Binder 1 prev_pid=7 prev_prio=120 prev_state=R+ ==> next_comm=a next_pid=2 next_prio=98",
    );
    assert!(
        p.unwrap()
            .contains(&format!("prev_comm: {:?}", str_id(&bld, "Binder 1")))
    );
}

#[test]
fn wakeup_forms() {
    let (a, _) = parse("sched_wakeup", "comm=init pid=1 prio=120 target_cpu=001");
    let (b, _) = parse("sched_wakeup", "init:1 [120] CPU:001");
    let (c, _) = parse("sched_wakeup", "init:1 [120] success=1 CPU:001");
    let (d, _) = parse(
        "sched_wakeup",
        "comm=init pid=1 prio=120 success=1 target_cpu=001 state=W",
    );
    assert!(a.is_some());
    assert!([&b, &c, &d].iter().all(|x| **x == a));
}

#[test]
fn lock_events_in_both_address_forms() {
    let (a, _) = parse("lock_acquire", "ffffffffa00031b8 try lab_clean_spin_a");
    let (b, _) = parse("lock_acquire", "0xffffffffa00031b8 try lab_clean_spin_a");
    assert_eq!(a, b);
    assert!(a.unwrap().contains("trylock: true, read: 0"));
    let (r, _) = parse("lock_acquire", "ffff88800ab0 read &mm->mmap_lock");
    assert!(r.unwrap().contains("trylock: false, read: 1"));
    let (c, _) = parse("contention_begin", "0xffff888003fe3628 (flags=SPIN|MUTEX)");
    assert_eq!(
        c,
        Some(format!(
            "{:?}",
            PayloadIn::ContentionBegin {
                addr: 0xffff_8880_03fe_3628,
                flags: 0x21
            }
        ))
    );
    let (e, _) = parse("contention_end", "ffff888003fe3628 (ret=-4)");
    assert!(e.unwrap().contains("ret: -4"));
}

#[test]
fn kprobe_with_lock_argument_in_both_forms() {
    let mut b = EventStoreBuilder::default();
    let mut parser = PayloadParser::default();
    let p = format!(
        "{:?}",
        parser.generic("(_raw_spin_lock+0x0/0x30) lock=0xffffffffc023a724", &mut b)
    );
    let probed = str_id(&b, "_raw_spin_lock");
    assert_eq!(
        p,
        format!(
            "{:?}",
            PayloadIn::LockProbe {
                addr: 0xffff_ffff_c023_a724,
                probed
            }
        )
    );
    let p = format!(
        "{:?}",
        parser.generic("(ffffffff81a5a000) lock=0xffffffffc023a724", &mut b)
    );
    assert!(p.contains(&format!("{:?}", str_id(&b, "ffffffff81a5a000"))));
}

#[test]
fn preemptirq_callers_lose_offsets_in_both_forms() {
    let (a, b) = parse(
        "preempt_disable",
        "caller=lab_restore_preempt_count+0x22/0x26 [ctxlab] parent=lab_restore_preempt_count+0x22/0x26 [ctxlab]",
    );
    assert!(
        a.unwrap()
            .contains(&format!("{:?}", str_id(&b, "lab_restore_preempt_count")))
    );
    let (c, d) = parse(
        "irq_disable",
        "caller=lab_s1d_mutex_with_irqs_disabled+0x18 parent=0x0",
    );
    let c = c.unwrap();
    assert!(c.contains(&format!(
        "caller: {:?}",
        str_id(&d, "lab_s1d_mutex_with_irqs_disabled")
    )));
    assert!(c.contains(&format!("parent: {:?}", str_id(&d, "0x0"))));
}

#[test]
fn softirq_irq_vector_workqueue_and_timers() {
    assert_eq!(
        parse("softirq_entry", "vec=1 [action=TIMER]").0.as_deref(),
        Some("SoftirqEntry { vec: 1 }")
    );
    assert_eq!(
        parse("local_timer_entry", "vector=236").0.as_deref(),
        Some("IrqVectorEntry { vector: 236 }")
    );
    assert_eq!(
        parse("reschedule_exit", "vector=253").0.as_deref(),
        Some("IrqVectorExit { vector: 253 }")
    );
    assert_eq!(
        parse("sched_stat_entry", "comm=x").0,
        None,
        "not a vector event"
    );
    let (a, _) = parse(
        "workqueue_execute_start",
        "work struct ff1100003e9ae3c8: function free_work",
    );
    let (b, _) = parse(
        "workqueue_execute_start",
        "work struct 0xff1100003e9ae3c8: function free_work",
    );
    assert_eq!(a, b);
    let (t, bld) = parse(
        "hrtimer_expire_entry",
        "hrtimer=0xff1100003e9a35c0 now=64377712065 function=tick_sched_timer/0x0",
    );
    assert!(
        t.unwrap()
            .contains(&format!("{:?}", str_id(&bld, "tick_sched_timer")))
    );
    let (x, _) = parse("irq_handler_exit", "irq=4 ret=unhandled");
    assert_eq!(
        x.as_deref(),
        Some("IrqHandlerExit { irq: 4, handled: false }")
    );
}

#[test]
fn print_and_function_forms() {
    assert_eq!(classify("tracing_mark_write").0, "print");
    let (a, _) = parse("tracing_mark_write", "lab: begin scenario=s1");
    let (b, _) = parse("print", "tracing_mark_write: lab: begin scenario=s1");
    assert_eq!(a, b);
    let (c, _) = parse(
        "bputs",
        "0xffff0000080feeb8s: equals_event: my_field=foo=bar",
    );
    assert_eq!(
        c.as_deref(),
        Some("Print { text: \"equals_event: my_field=foo=bar\" }")
    );
    let (f, bld) = parse("function", "mutex_unlock <-- rb_simple_write");
    let want = PayloadIn::Function {
        func: str_id(&bld, "mutex_unlock"),
        parent: str_id(&bld, "rb_simple_write"),
    };
    assert_eq!(f, Some(format!("{want:?}")));
    let (g, _) = parse("function", "mutex_unlock");
    assert!(g.unwrap().contains("parent: StrId(0)"));
}
