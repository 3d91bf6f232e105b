//! The context model and the sleep-in-atomic detector on the lab recordings
//! of both kernels: the context at each planted bug's call (truth.json `observed` and
//! `atomic_because`), the clean scenario's sleeps, the same answers from every rendering of one
//! recording (trace.txt, trace-latency.txt, trace.dat), and the detector's findings.
//!
//! truth.json is read here, in the tests only: the model and the detector never see it.

use corpus_tests::{corpus, lab_scenarios};
use serde_json::Value;
use std::path::PathBuf;
use trace_model::context::locks::{HoldIdx, HolderContext, LockMode};
use trace_model::context::state::Level;
use trace_model::context::{BuildOptions, ContextModel, Sidecar, SleepCall, SleepKind};
use trace_model::detect::sleep_in_atomic;
use trace_model::{Confidence, EventStore, FindingKind, ImportReport, Payload};

/// A lab recording imported from one rendering, with its model built using the folder's
/// `ctxlab.kallsyms` sidecar.
pub(crate) struct Lab {
    pub(crate) store: EventStore,
    pub(crate) model: ContextModel,
}

fn rendering(folder: &str, names: &[&str]) -> PathBuf {
    names
        .iter()
        .map(|n| corpus(&format!("{folder}/{n}")))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{folder}: none of {names:?}"))
}

pub(crate) fn open(folder: &str, names: &[&str]) -> Lab {
    let path = rendering(folder, names);
    let store = importers::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let text = std::fs::read_to_string(corpus(&format!("{folder}/ctxlab.kallsyms")))
        .expect("ctxlab.kallsyms");
    let mut side = Sidecar::default();
    side.symbols =
        importers::kallsyms::parse(&text, &mut side.strings, &mut ImportReport::default());
    let opts = BuildOptions {
        kallsyms: Some(side),
    };
    let model = ContextModel::build(&store, &opts);
    Lab { store, model }
}

pub(crate) fn open_txt(folder: &str) -> Lab {
    open(folder, &["trace.txt", "trace.txt.gz"])
}

fn ns(secs: f64) -> u64 {
    (secs * 1e9).round() as u64
}

/// The planted bugs of one kind, with their scenario folder.
fn bugs(kind: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (_, s) in lab_scenarios() {
        for b in s["bugs"].as_array().into_iter().flatten() {
            if b["kind"] == kind {
                out.push((s["folder"].as_str().unwrap().to_owned(), b.clone()));
            }
        }
    }
    out
}

impl Lab {
    /// Root sleep calls (not nested in another) from `caller` within [from, to].
    fn calls_from(&self, caller: &str, from: u64, to: u64) -> Vec<&SleepCall> {
        self.model
            .sleep_calls
            .iter()
            .filter(|c| c.root.is_none() && c.ts >= from && c.ts <= to)
            .filter(|c| self.model.str(c.caller) == caller)
            .collect()
    }

    fn spinning_held(&self, held: &[HoldIdx]) -> Vec<String> {
        held.iter()
            .filter(|&&h| self.model.locks.holds[h as usize].mode.is_spinning())
            .map(|&h| self.model.hold_class_name(h).to_owned())
            .collect()
    }

    /// The first event of `func` (function tracer) on `cpu` at `ts`.
    fn function_entry_at(&self, func: &str, cpu: u32, ts: u64) -> bool {
        let r = self.store.cpu_range(cpu as usize, ts, ts + 1);
        self.store.cpu_events(cpu as usize)[r].iter().any(|&i| {
            matches!(self.store.payload(i), Payload::Function { func: f, .. } if self.store.str(f) == func)
        })
    }
}

/// "spin_lock(lab_s1_lock) held" -> lab_s1_lock.
fn planted_spinlock(atomic_because: &str) -> Option<&str> {
    let rest = atomic_because.split("spin_lock(").nth(1)?;
    rest.split(')').next()
}

#[test]
fn context_at_each_planted_sleep_in_atomic_call() {
    let planted = bugs("sleep-in-atomic");
    assert!(planted.len() >= 8, "both kernels' s1 bugs");
    for (folder, bug) in planted {
        let lab = open_txt(&folder);
        let because = bug["atomic_because"].as_str().unwrap();
        for seen in bug["observed"].as_array().unwrap() {
            let func = seen["function"].as_str().unwrap();
            let cpu = seen["cpu"].as_u64().unwrap() as u32;
            let (entry, end) = (
                ns(seen["entry_ts"].as_f64().unwrap()),
                ns(seen["end_ts"].as_f64().unwrap()),
            );
            let what = format!("{folder} {} {func}", bug["id"]);
            assert!(
                lab.function_entry_at(func, cpu, entry),
                "{what}: entry event at {entry}"
            );
            let calls = lab.calls_from(func, entry, end);
            let call = calls
                .first()
                .unwrap_or_else(|| panic!("{what}: no sleep call from it"));
            assert_eq!(call.cpu, cpu, "{what}");
            assert_eq!(call.context, HolderContext::Task, "{what}");
            let state = lab.model.state_at(&lab.store, cpu, call.ts).unwrap();
            assert!(
                matches!(state.stack.as_slice(), [Level::Task { comm, .. }] if comm == bug["task"].as_str().unwrap()),
                "{what}: {:?}",
                state.stack
            );
            match planted_spinlock(because) {
                Some(lock) => {
                    let held = lab.spinning_held(lab.model.held_at(call));
                    assert_eq!(held, [lock], "{what}: spinlock held at the call");
                    assert!(
                        state
                            .locks
                            .iter()
                            .any(|l| l.class == lock && l.mode.starts_with("spin")),
                        "{what}: the cursor shows it: {:?}",
                        state.locks
                    );
                    assert_eq!(call.irqs_off, Some(false), "{what}");
                    assert!(
                        call.excess_depth.unwrap() >= 1,
                        "{what}: preemption disabled"
                    );
                }
                None => {
                    assert!(because.contains("irqs disabled"), "{what}: {because}");
                    assert_eq!(call.irqs_off, Some(true), "{what}: irqs off at the call");
                    assert_eq!(state.irqs_off, Some(true), "{what}: the cursor shows it");
                    assert!(
                        lab.spinning_held(lab.model.held_at(call)).is_empty(),
                        "{what}"
                    );
                }
            }
        }
    }
}

/// The model's locks-held lane of a CPU: at each planted sleep-in-atomic call under a
/// spinlock it names that lock, and everywhere each class it names is held on that CPU by a
/// hold that covers the interval.
#[test]
fn locks_held_lane_names_the_planted_spinlock_and_only_held_classes() {
    let mut checked = 0;
    for (folder, bug) in bugs("sleep-in-atomic") {
        let Some(lock) = planted_spinlock(bug["atomic_because"].as_str().unwrap()) else {
            continue;
        };
        let lab = open_txt(&folder);
        let m = &lab.model;
        let held = m.locks_held();
        let names = |set: u32| -> Vec<&str> {
            held.sets
                .get(set)
                .iter()
                .map(|&c| m.str(m.locks.classes[c.0 as usize].name))
                .collect()
        };
        for seen in bug["observed"].as_array().unwrap() {
            let cpu = seen["cpu"].as_u64().unwrap() as usize;
            let func = seen["function"].as_str().unwrap();
            let (entry, end) = (
                ns(seen["entry_ts"].as_f64().unwrap()),
                ns(seen["end_ts"].as_f64().unwrap()),
            );
            let call = lab.calls_from(func, entry, end)[0];
            let at = held.lanes[cpu].at(call.ts);
            let held = at.map(|iv| names(*iv.value)).unwrap_or_default();
            assert!(held.contains(&lock), "{folder} {func}: lane shows {held:?}");
            checked += 1;
        }
        for (cpu, lane) in held.lanes.iter().enumerate() {
            for iv in lane.iter() {
                for &class in held.sets.get(*iv.value) {
                    let covered = m.locks.holds.iter().zip(&m.hold_spans).any(|(h, s)| {
                        h.cpu as usize == cpu
                            && m.locks.class_of(h.lock) == class
                            && h.acquire_ts <= iv.start_ns
                            && s.end_ns >= iv.end_ns
                    });
                    assert!(covered, "{folder} CPU {cpu} at {}: {class:?}", iv.start_ns);
                }
            }
        }
    }
    assert!(checked >= 4, "the spinlock bugs of both kernels: {checked}");
}

#[test]
fn softirq_lock_of_the_irq_inversion_bug_belongs_to_the_softirq() {
    let planted = bugs("irq-inversion");
    assert_eq!(planted.len(), 2, "s4 on both kernels");
    for (folder, bug) in planted {
        let lab = open_txt(&folder);
        let lock = bug["locks"][0].as_str().unwrap();
        let observed = bug["observed"].as_array().unwrap();
        for seen in observed {
            let func = seen["function"].as_str().unwrap();
            let cpu = seen["cpu"].as_u64().unwrap() as u32;
            let (entry, end) = (
                ns(seen["entry_ts"].as_f64().unwrap()),
                ns(seen["end_ts"].as_f64().unwrap()),
            );
            let what = format!("{folder} {func}");
            let hold = lab
                .model
                .locks
                .holds
                .iter()
                .enumerate()
                .find(|(i, h)| {
                    h.acquire_ts >= entry
                        && h.acquire_ts <= end
                        && lab.model.hold_class_name(*i as HoldIdx) == lock
                })
                .map(|(_, h)| h)
                .unwrap_or_else(|| panic!("{what}: no hold of {lock}"));
            assert_eq!(hold.cpu, cpu, "{what}");
            assert_eq!(hold.caller.map(|c| lab.model.str(c)), Some(func), "{what}");
            let state = lab
                .model
                .state_at(&lab.store, cpu, hold.acquire_ts)
                .unwrap();
            if seen["task"]
                .as_str()
                .is_some_and(|t| t.starts_with("lab_s4"))
                || func.contains("process")
            {
                assert_eq!(hold.context, HolderContext::Task, "{what}");
                assert_eq!(
                    hold.softirqs_enabled,
                    Some(true),
                    "{what}: plain spin_lock, BH on"
                );
                assert_eq!(state.stack.len(), 1, "{what}: {:?}", state.stack);
            } else {
                assert_eq!(hold.context, HolderContext::Softirq, "{what}");
                assert_eq!(hold.softirqs_enabled, Some(false), "{what}");
                assert!(
                    state.stack.iter().any(|l| matches!(
                        l,
                        Level::Softirq {
                            name: Some("TIMER"),
                            ..
                        }
                    )),
                    "{what}: serving the TIMER softirq: {:?}",
                    state.stack
                );
                assert!(
                    state
                        .locks
                        .iter()
                        .any(|l| l.class == lock && l.context == "softirq"),
                    "{what}"
                );
                assert!(
                    lab.model
                        .task_holds_at(hold.pid, cpu, hold.acquire_ts)
                        .is_empty(),
                    "{what}: not charged to the interrupted task {}",
                    hold.pid
                );
            }
        }
    }
}

#[test]
fn clean_scenario_sleeps_hold_no_spinlock_with_irqs_on() {
    for folder in ["lab/s5_clean", "lab/lockdep-s5_clean"] {
        let lab = open_txt(folder);
        let sleeps: Vec<&SleepCall> = lab
            .model
            .sleep_calls
            .iter()
            .filter(|c| c.context == HolderContext::Task && c.pid != 0)
            .filter(|c| c.root.is_none())
            .collect();
        assert!(sleeps.len() > 50, "{folder}: {} sleeps", sleeps.len());
        let mut mutex_sleeps = 0;
        for c in &sleeps {
            let what = format!("{folder} {} at {}", lab.model.str(c.func), c.ts);
            let held = lab.model.held_at(c);
            assert!(
                lab.spinning_held(held).is_empty(),
                "{what}: {:?}",
                lab.spinning_held(held)
            );
            assert_ne!(c.irqs_off, Some(true), "{what}");
            let sleeping_lock =
                |&h: &HoldIdx| lab.model.locks.holds[h as usize].mode == LockMode::Mutex;
            if c.kind == SleepKind::Call(trace_model::context::primitives::SleepEntry::MaySleep)
                && held.iter().any(sleeping_lock)
            {
                mutex_sleeps += 1;
            }
        }
        assert!(
            mutex_sleeps > 0,
            "{folder}: the trap 'sleeping while holding only mutexes' is seen"
        );
    }
}

/// One lab_s1 call's context, comparable across renderings.
#[derive(Debug, PartialEq)]
struct CallContext {
    caller: String,
    func: String,
    /// µs after the `begin scenario` marker.
    after_marker_us: i64,
    spinning: Vec<String>,
    irqs_off: Option<bool>,
}

/// The contexts of the sleep calls from the s1 scenario's functions.
fn s1_call_contexts(lab: &Lab) -> Vec<CallContext> {
    let marker = (0..lab.store.len() as u32)
        .find(|&i| matches!(lab.store.payload(i), Payload::Print { text } if text.contains("begin scenario")))
        .map(|i| lab.store.ts()[i as usize])
        .expect("begin marker");
    lab.model
        .sleep_calls
        .iter()
        .filter(|c| c.root.is_none() && c.pid != 0)
        .filter(|c| lab.model.str(c.caller).starts_with("lab_s1"))
        .map(|c| CallContext {
            caller: lab.model.str(c.caller).to_owned(),
            func: lab.model.str(c.func).to_owned(),
            after_marker_us: (c.ts as i64 - marker as i64) / 1000,
            spinning: lab.spinning_held(lab.model.held_at(c)),
            irqs_off: c.irqs_off,
        })
        .collect()
}

#[test]
fn renderings_of_one_recording_give_the_same_answers() {
    for folder in ["lab/lockdep-s1_spin_sleep", "lab/s1_spin_sleep"] {
        let txt = s1_call_contexts(&open_txt(folder));
        let atomic = txt
            .iter()
            .filter(|c| !c.spinning.is_empty() || c.irqs_off == Some(true))
            .count();
        assert_eq!(atomic, 4, "{folder}: the four planted calls: {txt:?}");
        for other in [
            &["trace-latency.txt.gz", "trace-latency.txt"][..],
            &["trace.dat"],
        ] {
            let contexts = s1_call_contexts(&open(folder, other));
            assert_eq!(
                txt.len(),
                contexts.len(),
                "{folder}: trace.txt vs {other:?}"
            );
            for (a, mut b) in txt.iter().zip(contexts) {
                // Renderings round ns to µs differently (1 µs apart at most).
                let drift = (a.after_marker_us - b.after_marker_us).abs();
                assert!(drift <= 1, "{folder}: {a:?} vs {b:?}");
                b.after_marker_us = a.after_marker_us;
                assert_eq!(*a, b, "{folder}: trace.txt vs {other:?}");
            }
        }
    }
}

#[test]
fn detector_reports_every_planted_sleep_in_atomic_bug() {
    for (folder, bug) in bugs("sleep-in-atomic") {
        for lab in [open_txt(&folder), open(&folder, &["trace.dat"])] {
            let findings = sleep_in_atomic::detect(&lab.store, &lab.model);
            let window = bug["time_window"].as_array().unwrap();
            let (from, to) = (
                window[0].as_f64().unwrap() - 0.005,
                window[1].as_f64().unwrap() + 0.005,
            );
            let names: Vec<&str> = ["functions", "locks"]
                .iter()
                .flat_map(|k| {
                    bug[k]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                })
                .collect();
            let hit = findings.iter().find(|f| {
                f.kind == FindingKind::SleepInAtomic
                    && trace_model::seconds(f.ts[0]) <= to
                    && trace_model::seconds(f.ts[1]) >= from
                    && f.functions
                        .iter()
                        .chain(&f.locks)
                        .any(|n| names.contains(&n.as_str()))
            });
            let f = hit.unwrap_or_else(|| {
                panic!(
                    "{folder} {}: not reported; findings: {findings:#?}",
                    bug["id"]
                )
            });
            assert!(
                f.summary.contains(bug["functions"][0].as_str().unwrap()),
                "{}",
                f.summary
            );
            if bug["sleep_call"].as_str().unwrap().starts_with("kmalloc")
                && !folder.contains("lockdep")
            {
                // The Debian trace has neither kmem events nor __might_sleep: GFP undecidable.
                assert_eq!(f.confidence, Confidence::Unverifiable, "{}", f.summary);
                assert!(f.summary.contains("kmem:kmalloc"), "{}", f.summary);
            } else {
                assert_eq!(
                    f.confidence,
                    Confidence::Definite,
                    "{folder} {}: {}",
                    bug["id"],
                    f.summary
                );
            }
            if bug["really_sleeps"] == true {
                assert!(f.summary.contains("really slept"), "{}", f.summary);
            }
        }
    }
}

#[test]
fn detector_reports_nothing_definite_or_probable_without_planted_sleep_bugs() {
    for folder in [
        "lab/s5_clean",
        "lab/lockdep-s5_clean",
        "lab/s3_abba_mutex",
        "lab/lockdep-s3_abba_mutex",
        "lab/s4_softirq_inversion",
        "lab/lockdep-s4_softirq_inversion",
    ] {
        for lab in [open_txt(folder), open(folder, &["trace.dat"])] {
            let findings = sleep_in_atomic::detect(&lab.store, &lab.model);
            let wrong: Vec<_> = findings
                .iter()
                .filter(|f| f.confidence != Confidence::Unverifiable)
                .collect();
            assert!(wrong.is_empty(), "{folder}: {wrong:#?}");
        }
    }
}
