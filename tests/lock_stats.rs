//! `kctx locks`: per-class lock statistics on the lockdep lab recordings, checked against
//! sums made directly from the raw `lock:*` events, and the same from trace.txt and trace.dat.

use crate::context::{open, open_txt};
use corpus_tests::{corpus, kctx_json, lab_scenarios};
use std::collections::HashMap;
use trace_model::Payload;
use trace_model::lock_stats::{LockClassStats, lock_stats};

fn lockdep_labs() -> Vec<String> {
    lab_scenarios()
        .into_iter()
        .map(|(name, _)| format!("lab/{name}"))
        .filter(|folder| folder.contains("lockdep-"))
        .collect()
}

/// Per class name: (acquisitions, total held ns) summed straight from the events: a hold
/// runs from when the lock was obtained (`lock_acquired` or `contention_end` after the
/// `lock_acquire`, else the `lock_acquire` itself) to `lock_release` of the same address by
/// the same task.
fn sums_from_events(store: &trace_model::EventStore) -> HashMap<String, (u64, u64)> {
    let mut open: HashMap<(i32, u64), (String, u64)> = HashMap::new();
    let mut sums: HashMap<String, (u64, u64)> = HashMap::new();
    for i in 0..store.len() as u32 {
        let pid = store.pids()[i as usize];
        let ts = store.ts()[i as usize];
        match store.payload(i) {
            Payload::LockAcquire { addr, name, .. } => {
                let name = store.str(name).to_owned();
                sums.entry(name.clone()).or_default().0 += 1;
                open.insert((pid, addr), (name, ts));
            }
            Payload::ContentionEnd { addr, .. } | Payload::LockAcquired { addr, .. } => {
                if let Some((_, start)) = open.get_mut(&(pid, addr)) {
                    *start = ts;
                }
            }
            Payload::LockRelease { addr, .. } => {
                if let Some((name, start)) = open.remove(&(pid, addr)) {
                    sums.entry(name).or_default().1 += ts - start;
                }
            }
            _ => {}
        }
    }
    sums
}

fn class<'a>(stats: &'a [LockClassStats], name: &str) -> &'a LockClassStats {
    stats
        .iter()
        .find(|s| s.class == name)
        .unwrap_or_else(|| panic!("no class {name}"))
}

#[test]
fn lock_stats_match_the_raw_lock_events() {
    let mut classes_checked = 0;
    for folder in lockdep_labs() {
        let lab = open_txt(&folder);
        let stats = lock_stats(&lab.model);
        let sums = sums_from_events(&lab.store);
        assert!(!stats.is_empty(), "{folder}: no lock classes");
        for (name, (acquisitions, held_ns)) in &sums {
            let s = class(&stats, name);
            assert_eq!(
                s.acquisitions, *acquisitions,
                "{folder} {name} acquisitions"
            );
            if s.unreleased == 0 {
                assert_eq!(s.held_total_ns, *held_ns, "{folder} {name} held time");
            }
            classes_checked += 1;
        }
        // Sorted by total held time.
        assert!(
            stats
                .windows(2)
                .all(|w| w[0].held_total_ns >= w[1].held_total_ns)
        );
    }
    assert!(classes_checked >= 8, "{classes_checked} classes");
}

/// The ABBA recording: both mutexes were contended; the longest hold of each is in the
/// function that took it first, and trace.dat agrees with trace.txt on every count.
#[test]
fn abba_mutexes_show_their_waits_and_agree_across_renderings() {
    let folder = "lab/lockdep-s3_abba_mutex";
    let from_text = lock_stats(&open_txt(folder).model);
    let from_dat = lock_stats(&open(folder, &["trace.dat"]).model);
    for name in ["lab_mutex_a", "lab_mutex_b"] {
        let s = class(&from_text, name);
        assert_eq!(s.modes, ["mutex"], "{name}");
        assert!(s.contended > 0 && s.wait_total_ns > 0, "{name}: {s:?}");
        let longest = s.longest_hold.as_ref().expect("a released hold");
        assert!(
            longest
                .caller
                .as_deref()
                .is_some_and(|c| c.starts_with("lab_s3_take_")),
            "{name}: {longest:?}"
        );
    }
    let counts = |stats: &[LockClassStats]| {
        let mut v: Vec<(String, u64, u64)> = stats
            .iter()
            .map(|s| (s.class.clone(), s.acquisitions, s.contended))
            .collect();
        v.sort();
        v
    };
    assert_eq!(counts(&from_text), counts(&from_dat));
}

#[test]
fn kctx_locks_prints_json_sorted_as_asked() {
    let trace = corpus("lab/lockdep-s3_abba_mutex/trace.txt.gz");
    let args = ["locks", "--format", "json", "--sort", "count", "--top", "2"];
    let (status, json) = kctx_json(&args, &trace);
    assert!(status.success());
    let classes = json["classes"].as_array().expect("classes");
    assert_eq!(classes.len(), 2);
    assert_eq!(classes[0]["class"], "fs_reclaim");
    assert!(classes[0]["acquisitions"].as_u64() >= classes[1]["acquisitions"].as_u64());
    assert_eq!(json["lock_source"], "lockdep");
}
