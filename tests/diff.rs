//! `kctx diff OLD NEW` on real lab recordings: a clean run against one with planted bugs,
//! and the same lab case recorded on the lockdep kernel and on the stock Debian kernel.

use corpus_tests::{corpus, kctx, kctx_json};
use std::collections::BTreeSet;

fn ids(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .expect("a list of findings")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_owned())
        .collect()
}

fn path(rel: &str) -> String {
    corpus(rel).display().to_string()
}

/// The ids `kctx check` reports for a trace.
fn check_ids(rel: &str) -> BTreeSet<String> {
    let (_, report) = kctx_json(&["check", "--format", "json"], &corpus(rel));
    ids(&report["findings"])
}

#[test]
fn planted_bugs_are_new_against_the_clean_run_and_fixed_the_other_way() {
    let (clean, buggy) = (
        "lab/lockdep-s5_clean/trace.dat",
        "lab/lockdep-s1_spin_sleep/trace.dat",
    );
    let planted = check_ids(buggy);
    assert!(!planted.is_empty());
    assert!(check_ids(clean).is_empty(), "s5_clean has no finding");
    let (status, d) = kctx_json(&["diff", "--format", "json", &path(clean)], &corpus(buggy));
    assert_eq!(status.code(), Some(1), "new violations fail the gate");
    assert_eq!(d["exit_code"], 1);
    assert_eq!(ids(&d["new_findings"]), planted);
    assert!(ids(&d["fixed"]).is_empty());
    // Each planted bug's function is in a new finding's id.
    let truth = corpus_tests::truth();
    for bug in truth["scenarios"]["lockdep-s1_spin_sleep"]["bugs"]
        .as_array()
        .unwrap()
    {
        let function = bug["functions"][0].as_str().unwrap();
        assert!(
            planted.iter().any(|id| id.contains(function)),
            "{function} in {planted:?}"
        );
    }
    let (status, d) = kctx_json(&["diff", "--format", "json", &path(buggy)], &corpus(clean));
    assert_eq!(status.code(), Some(0), "only fixed findings: success");
    assert_eq!(ids(&d["fixed"]), planted);
    assert!(ids(&d["new_findings"]).is_empty());
}

#[test]
fn the_same_lab_case_on_two_kernels_keeps_its_lock_order_cycle() {
    let (lockdep, debian) = ("lab/lockdep-s3_abba_mutex", "lab/s3_abba_mutex");
    let old_syms = path(&format!("{lockdep}/ctxlab.kallsyms"));
    let new_syms = path(&format!("{debian}/ctxlab.kallsyms"));
    let (status, d) = kctx_json(
        &[
            "diff",
            "--format",
            "json",
            "--old-kallsyms",
            &old_syms,
            "--new-kallsyms",
            &new_syms,
            &path(&format!("{lockdep}/trace.dat")),
        ],
        &corpus(&format!("{debian}/trace.dat")),
    );
    assert_eq!(status.code(), Some(0), "{d}");
    let unchanged: Vec<&str> = d["unchanged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(unchanged.len(), 1, "the AB-BA cycle on both kernels: {d}");
    assert!(unchanged[0].starts_with("lock-order-cycle:"));
    assert!(unchanged[0].contains("lab_mutex_a") && unchanged[0].contains("lab_mutex_b"));
    assert_eq!(
        check_ids(&format!("{debian}/trace.dat")),
        unchanged.iter().map(|s| (*s).to_owned()).collect()
    );
}

#[test]
fn text_marks_each_side_and_an_unreadable_input_is_named() {
    let buggy = corpus("lab/lockdep-s1_spin_sleep/trace.dat");
    let clean = corpus("lab/lockdep-s5_clean/trace.dat");
    let planted = check_ids("lab/lockdep-s1_spin_sleep/trace.dat");
    let out = kctx().arg("diff").arg(&buggy).arg(&clean).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!(
            "kctx diff: 0 new, {} fixed, 0 unchanged",
            planted.len()
        )),
        "{text}"
    );
    for id in &planted {
        assert!(text.contains(&format!("  - {id} [")), "{text}");
    }
    assert!(text.contains("new (in NEW only): none"));
    let dir = std::env::temp_dir().join(format!("kctx-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bogus = dir.join("bogus.trace");
    std::fs::write(&bogus, "not a trace\n").unwrap();
    let out = kctx().arg("diff").arg(&bogus).arg(&clean).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus.trace"));
    std::fs::remove_dir_all(&dir).unwrap();
}
