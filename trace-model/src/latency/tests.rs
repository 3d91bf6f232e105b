//! Sections from tiny hand-built stores: edges, exactness, truncation, figures.

use super::*;
use crate::context::tests::Trace;
use crate::payload::{Payload, PayloadIn};

fn all(t: Trace, kind: LatencyKind) -> Vec<Section> {
    let (store, model) = t.build();
    sections(&store, &model, &[kind])
}

fn edges(s: &Section) -> (u64, u64, u64, u64, Option<Truncation>) {
    (
        s.start_ns,
        s.end_ns,
        s.start_slack_ns,
        s.end_slack_ns,
        s.truncated,
    )
}

fn preemptirq(t: &mut Trace, ts: u64, col: &str, name: &str, caller: &str) {
    let caller = t.b.intern(caller);
    let parent = t.b.intern("");
    let p: PayloadIn<'_> = match name {
        "irq_disable" => Payload::IrqDisable { caller, parent },
        "irq_enable" => Payload::IrqEnable { caller, parent },
        "preempt_disable" => Payload::PreemptDisable { caller, parent },
        _ => Payload::PreemptEnable { caller, parent },
    };
    t.ev(ts, 0, 7, col, name, p);
}

#[test]
fn sampled_irqs_off_runs_from_the_first_event_showing_it_to_the_first_showing_it_over() {
    let mut t = Trace::new();
    t.func(100, 0, 7, ".....", "work", "caller");
    t.func(200, 0, 7, "d....", "_raw_spin_lock_irqsave", "work");
    t.func(300, 0, 7, "d....", "_raw_spin_unlock_irqrestore", "work");
    t.func(450, 0, 7, ".....", "other", "work");
    let (store, model) = t.build();
    let s = sections(&store, &model, &[LatencyKind::IrqsOff]);
    assert_eq!(s.len(), 1);
    assert_eq!(edges(&s[0]), (200, 450, 100, 150, None));
    assert_eq!(s[0].unseen_ns, 150, "from the last event inside to the end");
    assert!(!s[0].exact());
    let d = describe(&store, &model, &s[0]);
    assert_eq!(d.duration_ns, 250);
    assert_eq!((d.pid, d.comm.as_str()), (7, "task7"));
    let opened = d.opened_by.expect("opener");
    assert_eq!(opened.at.as_deref(), Some("_raw_spin_lock_irqsave"));
    let closed = d.closed_by.expect("closer");
    assert_eq!(closed.at.as_deref(), Some("_raw_spin_unlock_irqrestore"));
    assert_eq!(closed.ts_ns, 300);
}

#[test]
fn preemptirq_events_make_both_edges_exact() {
    let mut t = Trace::new();
    t.func(100, 0, 7, ".....", "work", "caller");
    preemptirq(&mut t, 200, "d....", "irq_disable", "lab_fn+0x18/0x46");
    t.func(250, 0, 7, "d....", "inner", "lab_fn");
    // irq_enable is recorded just before the enable, still with irqs off.
    preemptirq(&mut t, 300, "d....", "irq_enable", "lab_fn+0x43/0x46");
    t.func(400, 0, 7, ".....", "other", "work");
    let (store, model) = t.build();
    let s = sections(&store, &model, &[LatencyKind::IrqsOff]);
    assert_eq!(s.len(), 1);
    assert_eq!(edges(&s[0]), (200, 300, 0, 0, None));
    assert!(s[0].exact());
    let d = describe(&store, &model, &s[0]);
    assert_eq!(d.closed_by.unwrap().at.as_deref(), Some("lab_fn+0x43/0x46"));
}

#[test]
fn an_interrupt_taken_at_the_enable_is_a_section_of_its_own() {
    let mut t = Trace::new();
    t.func(100, 0, 7, ".....", "work", "caller");
    preemptirq(&mut t, 200, "d....", "irq_disable", "lab_fn+0x18/0x46");
    preemptirq(&mut t, 300, "d....", "irq_enable", "lab_fn+0x43/0x46");
    t.ev(310, 0, 7, "d.h1.", "hrtimer_expire_entry", Payload::Empty);
    t.ev(350, 0, 7, "d.h1.", "hrtimer_expire_exit", Payload::Empty);
    t.func(400, 0, 7, ".....", "other", "work");
    let got: Vec<_> = all(t, LatencyKind::IrqsOff).iter().map(edges).collect();
    assert_eq!(got, [(200, 300, 0, 0, None), (310, 400, 10, 50, None)]);
}

#[test]
fn lost_events_and_the_ends_of_the_data_truncate_a_section() {
    let mut t = Trace::new();
    // CPU 0: on when its data begins, and cut by lost events.
    t.func(100, 0, 7, "d....", "a", "x");
    t.func(150, 0, 7, ".....", "b", "x");
    t.func(200, 0, 7, "d....", "c", "x");
    t.func(300, 0, 7, "d....", "d", "x");
    t.b.lost(0, 500, Some(3));
    t.func(500, 0, 7, ".....", "e", "x");
    // CPU 1: still off when the data ends.
    t.func(120, 1, 8, ".....", "f", "x");
    t.func(600, 1, 8, "d....", "g", "x");
    t.func(700, 1, 8, "d....", "h", "x");
    let s = all(t, LatencyKind::IrqsOff);
    let got: Vec<_> = s.iter().map(|s| (s.cpu, edges(s))).collect();
    assert_eq!(
        got,
        [
            (0, (100, 150, 0, 50, Some(Truncation::StartOfData))),
            (0, (200, 300, 50, 0, Some(Truncation::LostEvents))),
            (1, (600, 700, 480, 0, Some(Truncation::EndOfData))),
        ]
    );
}

#[test]
fn interrupt_frames_are_exact_between_entry_and_exit_and_named_by_source() {
    let mut t = Trace::new();
    t.func(100, 0, 7, ".....", "work", "caller");
    let name = t.b.intern("virtio0");
    t.ev(
        200,
        0,
        7,
        "d.h1.",
        "irq_handler_entry",
        Payload::IrqHandlerEntry { irq: 11, name },
    );
    let exit = Payload::IrqHandlerExit {
        irq: 11,
        handled: true,
    };
    t.ev(260, 0, 7, "d.h1.", "irq_handler_exit", exit);
    t.ev(
        400,
        0,
        7,
        "..s1.",
        "softirq_entry",
        Payload::SoftirqEntry { vec: 1 },
    );
    t.func(450, 0, 7, "..s1.", "timer_fn", "call_timer_fn");
    // The softirq ends without its exit traced: the next task-context event bounds it.
    t.func(600, 0, 7, ".....", "more", "work");
    let (store, model) = t.build();
    let s = sections(
        &store,
        &model,
        &[LatencyKind::Hardirq, LatencyKind::Softirq],
    );
    let got: Vec<_> = s.iter().map(|s| (s.kind, edges(s))).collect();
    assert_eq!(
        got,
        [
            (LatencyKind::Hardirq, (200, 260, 0, 0, None)),
            (LatencyKind::Softirq, (400, 450, 0, 150, None)),
        ]
    );
    let summary = summarize(&model, &s);
    assert_eq!(summary[0].sources[0].source, "11 virtio0");
    assert_eq!(summary[1].sources[0].source, "TIMER");
    assert_eq!(
        describe(&store, &model, &s[1]).source.as_deref(),
        Some("TIMER")
    );
}

#[test]
fn preempt_off_is_one_section_however_the_depth_changes_inside() {
    let mut t = Trace::new();
    // Calibrate: functions normally record depth 0.
    for k in 0..10 {
        t.func(10 + k, 0, 7, ".....", "work", "caller");
    }
    t.func(100, 0, 7, "...1.", "_raw_spin_lock", "work");
    t.func(150, 0, 7, "...2.", "_raw_spin_lock", "work");
    t.func(200, 0, 7, "...1.", "_raw_spin_unlock", "work");
    t.func(300, 0, 7, ".....", "after", "work");
    let s = all(t, LatencyKind::PreemptOff);
    let got: Vec<_> = s.iter().map(edges).collect();
    assert_eq!(got, [(100, 300, 81, 100, None)]);
}

fn wakeup(t: &mut Trace, ts: u64, cpu: u32, waker: i32, name: &str, wakee: i32) {
    let comm = t.b.intern(&format!("task{wakee}"));
    let p = Payload::SchedWakeup {
        comm,
        pid: wakee,
        prio: 120,
        target_cpu: 0,
    };
    t.ev(ts, cpu, waker, "d..2.", name, p);
}

#[test]
fn wakeup_latency_runs_from_the_waking_to_the_switch_in() {
    let mut t = Trace::new();
    t.switch(100, 0, 7, "S", 0);
    wakeup(&mut t, 200, 1, 9, "sched_waking", 7);
    wakeup(&mut t, 210, 1, 9, "sched_wakeup", 7);
    t.switch(400, 0, 0, "R", 7);
    // Preempted, then back: not a wakeup.
    t.switch(500, 0, 7, "R+", 9);
    t.switch(600, 0, 9, "S", 7);
    // Woken, never switched in before the end.
    t.switch(700, 0, 7, "S", 0);
    wakeup(&mut t, 800, 1, 9, "sched_waking", 7);
    wakeup(&mut t, 810, 1, 9, "sched_wakeup", 7);
    t.func(900, 1, 9, ".....", "end", "x");
    let (store, model) = t.build();
    let s = sections(&store, &model, &[LatencyKind::Wakeup]);
    let got: Vec<_> = s.iter().map(|s| (s.pid, s.cpu, edges(s))).collect();
    assert_eq!(
        got,
        [
            (7, 0, (200, 400, 0, 0, None)),
            (7, 1, (800, 900, 0, 0, Some(Truncation::EndOfData))),
        ]
    );
    let d = describe(&store, &model, &s[0]);
    assert_eq!(
        d.opened_by.unwrap().at.as_deref(),
        Some("task7-7 by task9-9")
    );
    assert_eq!(d.closed_by.unwrap().event, "sched_switch");
    assert!(d.exact);
}

#[test]
fn figures_and_the_worst_instances() {
    let mut t = Trace::new();
    let mut ts = 0;
    for len in [10, 40, 20, 30] {
        t.func(ts, 0, 7, ".....", "on", "x");
        t.func(ts + 5, 0, 7, "d....", "off", "x");
        t.func(ts + 5 + len, 0, 7, ".....", "on", "x");
        ts += 100;
    }
    let (store, model) = t.build();
    let s = sections(&store, &model, &LatencyKind::ALL);
    let summary = summarize(&model, &s);
    assert_eq!(summary.len(), 1);
    let irqs = &summary[0];
    assert_eq!(irqs.kind, LatencyKind::IrqsOff);
    assert_eq!((irqs.count, irqs.total_ns, irqs.max_ns), (4, 100, 40));
    assert_eq!((irqs.p50_ns, irqs.p99_ns), (20, 40));
    let top: Vec<u64> = worst(&s, 2).iter().map(Section::duration_ns).collect();
    assert_eq!(top, [40, 30]);
    assert_eq!(worst(&s, 10).len(), 4);
}
