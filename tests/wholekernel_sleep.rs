//! Sleep-in-atomic on the whole-kernel recordings. Nothing was planted
//! there and the kernel's own checkers reported nothing, so a definite or probable finding is
//! false. One test per class of false positive these recordings showed, on the recordings
//! themselves (read in place): `wk-debian-a` has the function tracer on every function of a
//! stock kernel, `wk-lockdep-a` every lock event of a lockdep kernel and the function tracer
//! filtered to a few entry points.

use corpus_tests::{corpus, kctx_json};
use serde_json::Value;
use std::sync::OnceLock;
use trace_model::context::locks::HolderContext;
use trace_model::context::primitives::SleepEntry;
use trace_model::context::{BuildOptions, ContextModel, Gfp, SleepCall, SleepKind};
use trace_model::payload::TaskState;
use trace_model::{EventStore, Payload};

const DEBIAN: &str = "wholekernel/wk-debian-a/trace.dat";
const LOCKDEP: &str = "wholekernel/wk-lockdep-a/trace.dat";

struct Recording {
    store: EventStore,
    model: ContextModel,
}

fn load(rel: &str) -> Recording {
    let store = importers::open(&corpus(rel)).unwrap_or_else(|e| panic!("{e}"));
    let model = ContextModel::build(&store, &BuildOptions::default());
    Recording { store, model }
}

fn debian() -> &'static Recording {
    static R: OnceLock<Recording> = OnceLock::new();
    R.get_or_init(|| load(DEBIAN))
}

fn lockdep() -> &'static Recording {
    static R: OnceLock<Recording> = OnceLock::new();
    R.get_or_init(|| load(LOCKDEP))
}

fn is_allocation(c: &SleepCall) -> bool {
    c.kind == SleepKind::Call(SleepEntry::Allocation)
}

/// Calls that start a root (what the detector judges).
fn roots(r: &Recording) -> impl Iterator<Item = (usize, &SleepCall)> {
    r.model
        .sleep_calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.root.is_none())
}

#[test]
fn kctx_check_finds_no_definite_or_probable_sleep_in_atomic_on_whole_kernel_recordings() {
    for rel in [DEBIAN, LOCKDEP] {
        let (_, report) = kctx_json(&["check", "--format", "json"], &corpus(rel));
        let sleeps: Vec<&Value> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["kind"] == "sleep-in-atomic")
            .collect();
        let undecided = sleeps
            .iter()
            .filter(|f| f["confidence"] == "unverifiable")
            .count();
        println!(
            "{rel}: {} sleep-in-atomic findings, {undecided} unverifiable",
            sleeps.len()
        );
        for f in &sleeps {
            assert_eq!(f["confidence"], "unverifiable", "{rel}: {}", f["summary"]);
            let summary = f["summary"].as_str().unwrap_or_default();
            assert!(summary.contains("record"), "{rel}: {summary}");
        }
        assert!(undecided <= 5, "{rel}: {undecided} unverifiable findings");
    }
}

/// Before every `sched_switch` the full function trace shows the scheduler's own irqs-off
/// section (`rcu_note_context_switch <- __schedule` with irqs off, the runqueue lock): a
/// sleep is judged by the state its caller brought into `schedule()`, never by that.
#[test]
fn the_schedulers_own_irqs_off_section_never_judges_a_sleep() {
    let r = debian();
    let sleeps: Vec<&SleepCall> = roots(r)
        .map(|(_, c)| c)
        .filter(|c| c.slept.is_some() && c.pid != 0)
        .collect();
    let irqs_off: Vec<&SleepCall> = sleeps
        .iter()
        .copied()
        .filter(|c| c.irqs_off == Some(true))
        .collect();
    println!(
        "{DEBIAN}: {} sleeps, {} judged with irqs off",
        sleeps.len(),
        irqs_off.len()
    );
    assert!(sleeps.len() > 1000, "{} sleeps", sleeps.len());
    assert!(
        irqs_off.is_empty(),
        "{:#?}",
        &irqs_off[..irqs_off.len().min(3)]
    );
}

/// `do_task_dead()` calls `__schedule` directly: the exiting task's last switch (`X` / `Z`)
/// is not a sleep.
#[test]
fn a_dead_tasks_last_switch_is_no_sleep() {
    let r = debian();
    let dead: Vec<u32> = (0..r.store.len() as u32)
        .filter(|&i| match r.store.payload(i) {
            Payload::SchedSwitch { prev_state, .. } => {
                prev_state.0 & (TaskState::DEAD | TaskState::ZOMBIE) != 0
            }
            _ => false,
        })
        .collect();
    assert!(!dead.is_empty(), "no exit in {DEBIAN}");
    let judged: Vec<&SleepCall> = r
        .model
        .sleep_calls
        .iter()
        .filter(|c| c.slept.is_some_and(|s| dead.contains(&s)))
        .collect();
    assert!(judged.is_empty(), "{judged:#?}");
}

/// The filtered trace shows no function exits: a GFP_ATOMIC allocation with irqs off
/// (virtio's indirect descriptors) must not be made blocking by a `__might_sleep` that comes
/// after it returned; a marker right after an allocation's entry, before anything else of its
/// context, does prove it blocking.
#[test]
fn a_marker_after_an_allocation_returned_does_not_make_it_blocking() {
    let r = lockdep();
    let allocations: Vec<&SleepCall> = roots(r)
        .map(|(_, c)| c)
        .filter(|c| is_allocation(c))
        .collect();
    let atomic: Vec<&&SleepCall> = allocations
        .iter()
        .filter(|c| c.irqs_off == Some(true))
        .collect();
    let blocking = allocations
        .iter()
        .filter(|c| c.gfp == Gfp::Blocking)
        .count();
    println!(
        "{LOCKDEP}: {} allocations, {} with irqs off, {blocking} proven blocking",
        allocations.len(),
        atomic.len()
    );
    assert!(!atomic.is_empty());
    assert!(blocking > 0);
    for c in atomic {
        assert_ne!(c.gfp, Gfp::Blocking, "{c:?}");
    }
}

/// A voluntary-preemption kernel's `might_sleep()` is `__cond_resched`: inside an allocation
/// it proves the allocation blocking, and where the trace shows it inside allocations its
/// absence proves the opposite (the network stack's GFP_ATOMIC allocations in softirq).
#[test]
fn cond_resched_inside_an_allocation_decides_its_gfp() {
    let r = debian();
    let allocations: Vec<&SleepCall> = roots(r)
        .map(|(_, c)| c)
        .filter(|c| is_allocation(c))
        .collect();
    let blocking = allocations
        .iter()
        .filter(|c| c.gfp == Gfp::Blocking)
        .count();
    let in_softirq: Vec<&&SleepCall> = allocations
        .iter()
        .filter(|c| c.context == HolderContext::Softirq)
        .collect();
    println!(
        "{DEBIAN}: {} allocations, {blocking} blocking, {} in softirq",
        allocations.len(),
        in_softirq.len()
    );
    assert!(blocking > 0);
    assert!(!in_softirq.is_empty());
    for c in in_softirq {
        assert_eq!(c.gfp, Gfp::NonBlocking, "{c:?}");
    }
}
