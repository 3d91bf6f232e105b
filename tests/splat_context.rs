//! The context the kernel printed in its splats (preempt count, irqs disabled, lockdep's
//! `HC:SC:HE:SE` tuple, the held locks) against kctx's reconstruction at the same time and CPU,
//! on every lab recording and from both trace.txt and trace.dat.

use crate::context::{Lab, open, open_txt};
use corpus_tests::{corpus, lab_scenarios};
use trace_model::splat::Splat;
use trace_model::splat_context::{ContextFact, SplatContextCheck, check_splat_context};

fn splats(folder: &str) -> Vec<Splat> {
    let bytes = std::fs::read(corpus(&format!("{folder}/console.log"))).expect("console.log");
    importers::console::parse_splats(&bytes)
}

fn checks(lab: &Lab, splats: &[Splat]) -> Vec<(u32, SplatContextCheck)> {
    splats
        .iter()
        .filter_map(|s| {
            let check = check_splat_context(s, &lab.store, &lab.model, true)?;
            Some((s.console_line, check))
        })
        .collect()
}

fn compared_facts(check: &SplatContextCheck) -> &[trace_model::splat_context::FactComparison] {
    match check {
        SplatContextCheck::Compared { facts, .. } => facts,
        SplatContextCheck::NotCompared { reason } => panic!("not compared: {reason:?}"),
    }
}

/// Every splat that prints its context is compared, and every compared fact agrees: the
/// reconstruction is right at each moment the kernel looked.
#[test]
fn every_lab_splat_context_agrees_with_the_reconstruction() {
    let mut compared_splats = 0;
    let mut compared_facts_total = 0;
    let mut lock_lists = 0;
    for (folder, _) in lab_scenarios() {
        let folder = format!("lab/{folder}");
        let splats = splats(&folder);
        for (rendering, lab) in [
            ("trace.txt", open_txt(&folder)),
            ("trace.dat", open(&folder, &["trace.dat"])),
        ] {
            for (line, check) in checks(&lab, &splats) {
                let facts = compared_facts(&check);
                for f in facts {
                    assert!(
                        f.agrees,
                        "{folder} {rendering} console line {line}: {} kernel {} kctx {}",
                        f.fact.name(),
                        f.kernel,
                        f.kctx
                    );
                }
                assert!(facts.iter().any(|f| f.fact == ContextFact::Task));
                compared_splats += 1;
                compared_facts_total += facts.len();
                lock_lists += facts
                    .iter()
                    .filter(|f| f.fact == ContextFact::LocksHeld)
                    .count();
            }
        }
    }
    // lockdep-s1: 5 splats, lockdep-s3 and -s4: 1 each, Debian s1: 1; from two renderings.
    assert_eq!(compared_splats, 16);
    assert!(compared_facts_total >= 80, "{compared_facts_total} facts");
    assert_eq!(lock_lists, 10, "lockdep kernels' held-locks lists");
}

/// The same splat moved before the spinlock was taken, or onto another CPU, disagrees: the
/// comparison looks at the trace, it does not echo the kernel.
#[test]
fn a_splat_moved_off_its_moment_disagrees() {
    let folder = "lab/lockdep-s1_spin_sleep";
    let lab = open_txt(folder);
    let splats = splats(folder);
    // mutex_lock under lab_s1_lock: printed at 65.031676, the lock taken at 65.031539.
    let mut splat = splats
        .into_iter()
        .find(|s| s.console_ts == Some(65.031676))
        .expect("the mutex-under-spinlock splat");
    let fact = |splat: &Splat, fact: ContextFact| {
        let check = check_splat_context(splat, &lab.store, &lab.model, true).expect("printed");
        compared_facts(&check)
            .iter()
            .find(|f| f.fact == fact)
            .cloned()
            .unwrap_or_else(|| panic!("{fact:?} not compared"))
    };
    assert!(fact(&splat, ContextFact::PreemptDepth).agrees);

    splat.console_ts = Some(65.031500);
    let depth = fact(&splat, ContextFact::PreemptDepth);
    assert_eq!((depth.kernel.as_str(), depth.kctx.as_str()), ("1", "0"));
    assert!(!fact(&splat, ContextFact::LocksHeld).agrees);

    splat.console_ts = Some(65.031676);
    splat.cpu = Some(0);
    assert!(!fact(&splat, ContextFact::Task).agrees);

    assert_eq!(
        check_splat_context(&splat, &lab.store, &lab.model, false),
        Some(SplatContextCheck::NotCompared {
            reason: trace_model::splat_context::NotCompared::OtherClock
        })
    );
}
