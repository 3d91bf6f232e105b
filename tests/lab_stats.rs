//! `kctx stats` event counts per lab recording equal truth.json's, for all three text
//! renderings of the same buffer (tracefs `trace`, the latency format, `trace-cmd report`),
//! with every line accounted for.

use corpus_tests::{corpus, kctx_json, lab_scenarios};
use kctx::cli::stats::Stats;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trace_model::payload::FieldIter;
use trace_model::{EventStore, Payload};

/// The text renderings of one lab folder (plain or gzip'd, whichever the folder holds).
fn text_files(folder: &str) -> Vec<PathBuf> {
    let dir = corpus(folder);
    let pick = |names: &[&str]| {
        names
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{folder}: none of {names:?}"))
    };
    vec![
        pick(&["trace.txt", "trace.txt.gz"]),
        pick(&["trace-latency.txt.gz"]),
        pick(&["report.txt", "report.txt.gz"]),
    ]
}

fn stats(path: &Path) -> Stats {
    let store = importers::open(path).unwrap_or_else(|e| panic!("{e}"));
    Stats::of(path, &store)
}

#[test]
fn every_rendering_of_every_lab_trace_has_truths_event_counts() {
    let scenarios = lab_scenarios();
    assert!(
        scenarios.len() >= 8,
        "truth.json lists {} folders",
        scenarios.len()
    );
    for (name, truth) in scenarios {
        let folder = truth["folder"].as_str().expect("folder");
        let want: BTreeMap<String, u64> = truth["event_counts_by_name"]
            .as_object()
            .expect("event_counts_by_name")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
            .collect();
        let want_total = truth["event_count"].as_u64().expect("event_count");
        for file in text_files(folder) {
            let s = stats(&file);
            let shown = file.display();
            assert_eq!(s.by_name, want, "{name}: {shown}");
            assert_eq!(s.events, want_total, "{name}: {shown}");
            assert_eq!(
                s.unparsed_lines.total, 0,
                "{shown}: {:?}",
                s.unparsed_lines.by_reason
            );
            assert_eq!(s.cpus, 4, "{shown}: the guests had 4 vCPUs");
            assert_eq!(
                s.lost_events.records, 0,
                "{shown}: the recordings had no overruns"
            );
        }
    }
}

#[test]
fn lab_latency_files_state_the_kernel_and_relative_time() {
    for (name, truth) in lab_scenarios() {
        let folder = truth["folder"].as_str().expect("folder");
        let path = corpus(&format!("{folder}/trace-latency.txt.gz"));
        let store = importers::open(&path).unwrap_or_else(|e| panic!("{e}"));
        // uname.txt: `Linux ... <release> ...`; the latency header says `... on <release>`.
        let uname = std::fs::read_to_string(corpus(&format!("{folder}/uname.txt"))).unwrap();
        let release = store.meta.kernel_version.as_deref().expect(&name);
        assert!(uname.contains(release), "{name}: {release} not in {uname}");
        assert!(store.meta.relative_time, "{name}");
    }
}

#[test]
fn the_kctx_binary_prints_the_same_counts_as_json() {
    let (_, truth) = lab_scenarios()
        .into_iter()
        .find(|(k, _)| k == "s5_clean")
        .expect("s5_clean in truth.json");
    let path = corpus("lab/s5_clean/trace.txt");
    let (status, json) = kctx_json(&["stats", "--format", "json"], &path);
    assert!(status.success());
    assert_eq!(json["by_name"], truth["event_counts_by_name"]);
    assert_eq!(json["events"], truth["event_count"]);
    assert_eq!(json["unparsed_lines"]["total"], 0);
}

/// The payload variant each traced event must decode to (anything else fell back).
fn typed_variant(name: &str, payload: &Payload<'_, FieldIter<'_>>) -> bool {
    match name {
        "sched_switch" => matches!(payload, Payload::SchedSwitch { .. }),
        "sched_wakeup" | "sched_waking" | "sched_wakeup_new" => {
            matches!(payload, Payload::SchedWakeup { .. })
        }
        "sched_migrate_task" => matches!(payload, Payload::SchedMigrate { .. }),
        "irq_handler_entry" => matches!(payload, Payload::IrqHandlerEntry { .. }),
        "irq_handler_exit" => matches!(payload, Payload::IrqHandlerExit { .. }),
        "softirq_entry" => matches!(payload, Payload::SoftirqEntry { .. }),
        "softirq_exit" => matches!(payload, Payload::SoftirqExit { .. }),
        "irq_disable" => matches!(payload, Payload::IrqDisable { .. }),
        "irq_enable" => matches!(payload, Payload::IrqEnable { .. }),
        "preempt_disable" => matches!(payload, Payload::PreemptDisable { .. }),
        "lock_acquire" => matches!(payload, Payload::LockAcquire { .. }),
        "lock_release" => matches!(payload, Payload::LockRelease { .. }),
        "lock_contended" => matches!(payload, Payload::LockContended { .. }),
        "lock_acquired" => matches!(payload, Payload::LockAcquired { .. }),
        "contention_begin" => matches!(payload, Payload::ContentionBegin { .. }),
        "contention_end" => matches!(payload, Payload::ContentionEnd { .. }),
        "function" => matches!(payload, Payload::Function { .. }),
        "workqueue_execute_start" => matches!(payload, Payload::WorkqueueExecuteStart { .. }),
        "workqueue_execute_end" => matches!(payload, Payload::WorkqueueExecuteEnd { .. }),
        "timer_expire_entry" => matches!(payload, Payload::TimerExpireEntry { .. }),
        "timer_expire_exit" => matches!(payload, Payload::TimerExpireExit { .. }),
        "hrtimer_expire_entry" => matches!(payload, Payload::HrtimerExpireEntry { .. }),
        "hrtimer_expire_exit" => matches!(payload, Payload::HrtimerExpireExit { .. }),
        "print" => matches!(payload, Payload::Print { .. }),
        // the labkp kprobes: `lab_spin_lock: (_raw_spin_lock+0x0/0x30) lock=0x...`
        n if n.starts_with("lab_") => matches!(payload, Payload::LockProbe { .. }),
        _ => matches!(payload, Payload::Fields(_) | Payload::Raw(_)),
    }
}

/// One lock-relevant event, comparable across renderings.
#[derive(Debug, PartialEq)]
enum LockEvent {
    Acquire(u64, String, bool, u8),
    Release(u64, String),
    Begin(u64, u32),
    Probe(u64),
    Preempt(String),
}

fn lock_events(store: &EventStore) -> Vec<(u64, LockEvent)> {
    (0..store.len() as u32)
        .filter_map(|i| {
            let e = store.event(i);
            let ev = match e.payload {
                Payload::LockAcquire {
                    addr,
                    name,
                    trylock,
                    read,
                } => LockEvent::Acquire(addr, store.str(name).to_owned(), trylock, read),
                Payload::LockRelease { addr, name } => {
                    LockEvent::Release(addr, store.str(name).to_owned())
                }
                Payload::ContentionBegin { addr, flags } => LockEvent::Begin(addr, flags),
                Payload::LockProbe { addr, .. } => LockEvent::Probe(addr),
                Payload::PreemptDisable { caller, .. } | Payload::IrqDisable { caller, .. } => {
                    LockEvent::Preempt(store.str(caller).to_owned())
                }
                _ => return None,
            };
            Some((e.ts, ev))
        })
        .collect()
}

#[test]
fn lab_events_decode_to_typed_payloads_alike_in_every_rendering() {
    for (name, truth) in lab_scenarios() {
        let folder = truth["folder"].as_str().expect("folder");
        let [tracefs, _latency, report] = text_files(folder)
            .iter()
            .map(|p| importers::open(p).unwrap_or_else(|e| panic!("{e}")))
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        for store in [&tracefs, &report] {
            assert!(
                store.report.warnings.is_empty(),
                "{name}: {:?}",
                store.report.warnings
            );
            for i in 0..store.len() as u32 {
                let e = store.event(i);
                assert!(typed_variant(e.name, &e.payload), "{name}: {e:?}");
            }
        }
        // trace.txt and report.txt print lock events differently (`ffff...` / `0xffff...`,
        // `caller=f+0x22/0x26 [ctxlab]` / `caller=f+0x22`): the decoded values agree.
        let (a, b) = (lock_events(&tracefs), lock_events(&report));
        assert!(!a.is_empty(), "{name}: lock events");
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn lockdep_trylock_and_contention_flags_are_decoded() {
    let store = importers::open(&corpus("lab/lockdep-s5_clean/trace.txt.gz")).unwrap();
    let events = lock_events(&store);
    // `lock_acquire: ffffffffa00031b8 try lab_clean_spin_a` (zcat | grep -c 'try lab_')
    let trylocks = events
        .iter()
        .filter(|(_, e)| matches!(e, LockEvent::Acquire(_, n, true, 0) if n == "lab_clean_spin_a"))
        .count();
    assert!(trylocks > 0);
    // `contention_begin: ffff888003d53628 (flags=SPIN|MUTEX)` = LCB_F_SPIN | LCB_F_MUTEX
    assert!(
        events
            .iter()
            .any(|(_, e)| matches!(e, LockEvent::Begin(_, 0x21)))
    );
    // the debian s1 kprobes: `lab_spin_lock: (_raw_spin_lock+0x0/0x30) lock=0xffffffffc023a724`
    let store = importers::open(&corpus("lab/s1_spin_sleep/trace.txt")).unwrap();
    let probe = (0..store.len() as u32)
        .map(|i| store.event(i))
        .find(|e| e.name == "lab_spin_lock")
        .expect("lab_spin_lock");
    match probe.payload {
        Payload::LockProbe { addr, probed } => {
            assert_eq!(addr, 0xffff_ffff_c023_a724);
            assert_eq!(store.str(probed), "_raw_spin_lock");
        }
        ref p => panic!("{p:?}"),
    }
}
