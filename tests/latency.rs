//! `kctx latency` on the lab recordings: irqs-off sections and wakeup latencies checked
//! against scans of the raw events, the planted irqs-off section of s1d found exactly, the
//! same answers from trace.txt and trace.dat, and a section cut by lost events flagged.

use crate::context::{Lab, open, open_txt};
use corpus_tests::{corpus, lab_scenarios};
use std::collections::HashMap;
use trace_model::context::{BuildOptions, ContextModel};
use trace_model::latency::{LatencyKind, Section, Truncation, describe, sections, summarize};
use trace_model::{EventStore, Payload};

fn lab_folders() -> Vec<String> {
    lab_scenarios()
        .into_iter()
        .map(|(name, _)| format!("lab/{name}"))
        .collect()
}

fn of_kind(lab: &Lab, kind: LatencyKind) -> Vec<Section> {
    sections(&lab.store, &lab.model, &[kind])
}

/// Irqs-off sections straight from the flags, per CPU: from the first event recorded with
/// irqs off to the first recorded with them on (sched_switch's own flags say nothing about
/// the code), or to an explicit `irq_enable` (recorded just before the enable); a section
/// still open at the CPU's last event ends there.
fn irqs_off_from_flags(store: &EventStore) -> Vec<(u32, u64, u64)> {
    let switch = store.event_type_id("sched_switch");
    let mut out = Vec::new();
    for cpu in 0..store.cpu_count() {
        let mut open: Option<u64> = None;
        let mut last_off = 0;
        for &i in store.cpu_events(cpu) {
            let (ts, flags) = (store.ts()[i as usize], store.flags()[i as usize]);
            if Some(store.event_types()[i as usize]) == switch || !flags.recorded() {
                continue;
            }
            let off = flags.irqs_off() == Some(true);
            let enable = matches!(store.payload(i), Payload::IrqEnable { .. });
            if off {
                last_off = ts;
                open.get_or_insert(ts);
            }
            if let Some(start) = open
                && (!off || enable)
            {
                out.push((cpu as u32, start, ts));
                open = None;
            }
        }
        if let Some(start) = open {
            out.push((cpu as u32, start, last_off));
        }
    }
    out
}

#[test]
fn irqs_off_sections_equal_a_scan_of_the_raw_flags() {
    let mut compared = 0;
    for folder in lab_folders() {
        let lab = open_txt(&folder);
        let got: Vec<(u32, u64, u64)> = of_kind(&lab, LatencyKind::IrqsOff)
            .iter()
            .map(|s| (s.cpu, s.start_ns, s.end_ns))
            .collect();
        let want = irqs_off_from_flags(&lab.store);
        assert!(want.len() > 100, "{folder}: {} sections", want.len());
        assert_eq!(got, want, "{folder}");
        compared += got.len();
    }
    assert!(compared > 1000, "{compared}");
}

/// s1d: `mutex_lock` inside `local_irq_save()`. The debug kernel traced the module's own
/// irq_disable / irq_enable, so that section is the one exact irqs-off section, named by both
/// callers. (Sections the flags sampled are longer, around s1a's sleep under a spinlock.)
#[test]
fn the_planted_irqs_off_section_is_exact_and_named() {
    let lab = open_txt("lab/lockdep-s1_spin_sleep");
    let exact: Vec<Section> = of_kind(&lab, LatencyKind::IrqsOff)
        .into_iter()
        .filter(Section::exact)
        .collect();
    assert_eq!(exact.len(), 1, "{exact:?}");
    let longest = describe(&lab.store, &lab.model, &exact[0]);
    assert_eq!(longest.cpu, 1);
    assert_eq!(longest.comm, "lab_s1");
    assert_eq!(
        (longest.start_ns, longest.end_ns),
        (67_302_273_000, 67_308_689_000)
    );
    let opened = longest.opened_by.expect("opened by irq_disable");
    assert_eq!(opened.event, "irq_disable");
    assert!(
        opened
            .at
            .is_some_and(|at| at.starts_with("lab_s1d_mutex_with_irqs_disabled")),
    );
    assert_eq!(longest.closed_by.expect("closed").event, "irq_enable");
}

/// Wakeups straight from the scheduler events: from a task's last `sched_waking` (or the
/// `sched_wakeup_new` of a new task) to the `sched_switch` that put it on a CPU. The waking
/// may come while the task is still leaving its CPU to sleep (ttwu racing `schedule()`); a
/// task that left preempted (`R`) was not woken.
fn wakeups_from_events(store: &EventStore) -> Vec<(i32, u64, u64)> {
    let waking = store.event_type_id("sched_waking");
    let new_task = store.event_type_id("sched_wakeup_new");
    let mut woken: HashMap<i32, u64> = HashMap::new();
    let mut out = Vec::new();
    for i in 0..store.len() as u32 {
        let ts = store.ts()[i as usize];
        let event_type = Some(store.event_types()[i as usize]);
        match store.payload(i) {
            Payload::SchedWakeup { pid, .. } if event_type == waking => {
                woken.insert(pid, ts);
            }
            Payload::SchedWakeup { pid, .. } if event_type == new_task => {
                woken.entry(pid).or_insert(ts);
            }
            Payload::SchedSwitch {
                prev_pid,
                prev_state,
                next_pid,
                ..
            } => {
                if prev_state.is_runnable() {
                    woken.remove(&prev_pid);
                }
                if let Some(start) = woken.remove(&next_pid)
                    && next_pid != 0
                {
                    out.push((next_pid, start, ts));
                }
            }
            _ => {}
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn wakeup_latencies_equal_a_scan_of_the_scheduler_events() {
    for folder in lab_folders() {
        let lab = open_txt(&folder);
        let all = of_kind(&lab, LatencyKind::Wakeup);
        let mut got: Vec<(i32, u64, u64)> = all
            .iter()
            .filter(|s| s.truncated.is_none())
            .map(|s| (s.pid, s.start_ns, s.end_ns))
            .collect();
        got.sort_unstable();
        let want = wakeups_from_events(&lab.store);
        assert!(want.len() > 20, "{folder}: {} wakeups", want.len());
        let only_got: Vec<_> = got.iter().filter(|w| !want.contains(w)).collect();
        let only_want: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
        assert!(
            only_got.is_empty() && only_want.is_empty(),
            "{folder}: only kctx {only_got:?}, only the scan {only_want:?}"
        );
        assert!(
            all.iter()
                .all(|s| s.closed_by.is_some() || s.truncated.is_some())
        );
    }
}

/// trace.txt prints microseconds, trace.dat keeps nanoseconds: the same sections, durations
/// within the rounding.
#[test]
fn trace_txt_and_trace_dat_give_the_same_sections() {
    for folder in lab_folders() {
        let text = open_txt(&folder);
        let dat = open(&folder, &["trace.dat"]);
        let from_text = summarize(
            &text.model,
            &sections(&text.store, &text.model, &LatencyKind::ALL),
        );
        let from_dat = summarize(
            &dat.model,
            &sections(&dat.store, &dat.model, &LatencyKind::ALL),
        );
        let kinds = |s: &[trace_model::latency::KindSummary]| {
            s.iter()
                .map(|k| (k.kind, k.count, k.exact, k.truncated))
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&from_text), kinds(&from_dat), "{folder}");
        for (t, d) in from_text.iter().zip(&from_dat) {
            assert!(
                t.max_ns.abs_diff(d.max_ns) <= 1_000,
                "{folder} {:?}: {t:?} {d:?}",
                t.kind
            );
        }
    }
}

/// Lost events inside s1d's irqs-off section: the two parts the trace still shows are both
/// truncated, and no section spans the gap.
#[test]
fn a_section_cut_by_lost_events_is_flagged() {
    let mut text = corpus_tests::read_gz_text(&corpus("lab/lockdep-s1_spin_sleep/trace.txt.gz"));
    let at = text
        .find("    67.308585: lock_acquire")
        .and_then(|i| text[..i].rfind('\n'))
        .expect("s1d's mutex acquire");
    text.insert_str(at + 1, "CPU:1 [LOST 100 EVENTS]\n");
    let store = importers::ftrace_text::import(text.as_bytes()).expect("import");
    assert_eq!(store.meta.lost.len(), 1);
    let model = ContextModel::build(&store, &BuildOptions::default());
    let cut: Vec<(u64, u64, Option<Truncation>)> =
        sections(&store, &model, &[LatencyKind::IrqsOff])
            .iter()
            .filter(|s| s.cpu == 1 && s.start_ns >= 67_302_273_000 && s.end_ns <= 67_308_689_000)
            .map(|s| (s.start_ns, s.end_ns, s.truncated))
            .collect();
    assert_eq!(
        cut,
        [
            (67_302_273_000, 67_302_301_000, Some(Truncation::LostEvents)),
            (67_308_585_000, 67_308_689_000, Some(Truncation::LostEvents)),
        ]
    );
    let gap = store.meta.lost[0].ts;
    for s in sections(&store, &model, &LatencyKind::ALL) {
        if s.cpu == 1 && s.kind != LatencyKind::Wakeup {
            assert!(
                !(s.start_ns < gap && s.end_ns >= gap),
                "{s:?} spans the gap"
            );
        }
    }
}
