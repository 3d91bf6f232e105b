//! The lock detectors on whole-kernel recordings (nothing planted, the kernel's own checkers
//! silent): every lock-order or irq-inversion finding there is false unless undecided, and
//! an undecided one says what to record. Each class of false positive these recordings
//! showed has a rule behind it: RCU and SRCU maps and NMI acquisitions lockdep never
//! validates, addresses reused by another class, same-name nesting, read locks, and names
//! shared by several lockdep classes (see `lockdep_truth.rs` for the graph itself).

use corpus_tests::{corpus, kctx_json};

fn lock_findings(recording: &str) -> Vec<serde_json::Value> {
    let trace = corpus(&format!("wholekernel/{recording}/trace.dat"));
    let (_, report) = kctx_json(&["check", "--format", "json"], &trace);
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "lock-order-cycle" || f["kind"] == "irq-inversion")
        .cloned()
        .collect()
}

#[test]
fn no_lock_violation_is_claimed_on_a_busy_bug_free_kernel() {
    for recording in ["wk-lockdep-a", "wk-debian-a"] {
        let findings = lock_findings(recording);
        let claimed: Vec<&str> = findings
            .iter()
            .filter(|f| f["confidence"] != "unverifiable")
            .map(|f| f["summary"].as_str().unwrap_or_default())
            .collect();
        assert!(claimed.is_empty(), "{recording}: {claimed:#?}");
        assert!(
            findings.len() <= 5,
            "{recording}: {} undecided",
            findings.len()
        );
        for f in &findings {
            let summary = f["summary"].as_str().unwrap_or_default();
            assert!(summary.contains("To decide"), "{recording}: {summary}");
        }
        println!("{recording}: {} undecided lock findings", findings.len());
    }
}
