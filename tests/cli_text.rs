//! What a first-time user reads. Counts take the singular for one, a time
//! outside the trace is warned about, a trace given to `kctx splats` is named as a trace, the
//! worst lock instances name their task, and a checkout without the corpus is told once where
//! it goes.

use corpus_tests::corpus;
use std::process::{Command, Output};

fn kctx(args: &[&str]) -> Output {
    corpus_tests::kctx().args(args).output().expect("run kctx")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// lockdep-s3_abba_mutex has one finding (an AB-BA cycle seen twice).
#[test]
fn one_finding_is_singular_and_a_count_of_times_too() {
    let dat = corpus("lab/lockdep-s3_abba_mutex/trace.dat");
    let out = kctx(&["check", dat.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("kctx check: 1 finding ("),
        "{}",
        stdout.lines().next().unwrap_or_default()
    );
    let out = kctx(&["check", "--format", "markdown", dat.to_str().unwrap()]);
    let md = text(&out.stdout);
    assert!(md.contains(", seen 2 times between"), "{md}");
    // s1's findings are each seen once.
    let s1 = corpus("lab/lockdep-s1_spin_sleep/trace.dat");
    let out = kctx(&["check", "--format", "html", s1.to_str().unwrap()]);
    let html = text(&out.stdout);
    assert!(html.contains("Seen 1 time between"), "{html}");
    assert!(!html.contains("Seen 1 times"));
}

#[test]
fn context_outside_the_trace_warns() {
    let dat = corpus("lab/lockdep-s1_spin_sleep/trace.dat");
    let dat = dat.to_str().unwrap();
    let after = kctx(&["context", dat, "--at", "5000", "--cpu", "1"]);
    assert_eq!(after.status.code(), Some(0));
    let stderr = text(&after.stderr);
    assert!(
        stderr.contains("warning: --at 5000.000000 is after the trace's last event"),
        "{stderr}"
    );
    let before = kctx(&["context", dat, "--at", "1", "--cpu", "1"]);
    assert!(
        text(&before.stderr).contains("is before the trace's first event"),
        "{}",
        text(&before.stderr)
    );
    // Inside the trace: no warning. The first planted bug's call is at 63.86 s.
    let inside = kctx(&["context", dat, "--at", "63.9", "--cpu", "1"]);
    assert_eq!(text(&inside.stderr), "");
}

#[test]
fn splats_of_a_trace_dat_say_it_is_a_trace() {
    let dat = corpus("lab/lockdep-s1_spin_sleep/trace.dat");
    let out = kctx(&["splats", dat.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("is a trace (trace-cmd trace.dat), not a console log"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("0 splats"));
}

#[test]
fn worst_lock_instances_name_the_task() {
    let dat = corpus("lab/lockdep-s1_spin_sleep/trace.dat");
    let out = kctx(&["locks", dat.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    let worst: Vec<&str> = stdout
        .lines()
        .skip_while(|l| l.trim() != "longest:")
        .skip(1)
        .filter(|l| l.contains(" hold ") || l.contains(" wait "))
        .collect();
    assert!(!worst.is_empty(), "{stdout}");
    for line in &worst {
        assert!(!line.contains("by pid"), "a comm for every task: {line}");
    }
    // The planted spinlock is held longest by the lab module's task.
    let s1 = worst
        .iter()
        .find(|l| l.trim_start().starts_with("lab_s1_lock "))
        .expect("lab_s1_lock's longest hold");
    assert!(s1.contains(" by lab_s1-"), "{s1}");
}

/// The test binary itself, run where no corpus is: it stops at once with one message naming
/// the path and `KCTX_CORPUS`, instead of one panic per test.
#[test]
fn without_the_corpus_the_tests_stop_once_naming_where_it_goes() {
    let missing = std::env::temp_dir().join("kctx-no-corpus-here");
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["lab_stats", "--test-threads", "4"])
        .env("KCTX_CORPUS", &missing)
        .output()
        .expect("run the corpus tests");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    assert_eq!(stderr.matches("no corpus at").count(), 1, "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(stderr.contains("KCTX_CORPUS"), "{stderr}");
    assert!(!stdout.contains("panicked") && !stderr.contains("panicked"));
}

/// A reader that stops early (`kctx ... | head`) ends the output quietly: exit status as
/// usual, no panic. `kctx latency --format json` on the lockdep whole-kernel recording prints
/// far more than a pipe holds, so the writes after the reader left meet a closed pipe.
#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    use std::io::Read;
    let dat = corpus("wholekernel/wk-lockdep-a/trace.dat");
    for args in [
        &["latency", "--format", "json"][..],
        &["locks", "--deps"][..],
    ] {
        let mut child = corpus_tests::kctx()
            .args(args)
            .arg(&dat)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run kctx");
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The pipe's read end is closed here, before kctx wrote the rest.
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
    }
}

/// Issue 20, point 5: `coverage` says sched_switch only where the trace has one. trappy's
/// trace.dat declares the event's format but holds none of it.
#[test]
fn coverage_claims_sched_switch_only_with_such_an_event() {
    for (rel, has_switches) in [
        ("public/tracedat/trappy_trace.dat", false),
        ("public/tracedat/elainecole_rpi_4.14_sched_switch.dat", true),
    ] {
        let (_, stats) = corpus_tests::kctx_json(&["stats", "--format", "json"], &corpus(rel));
        let switches = stats["by_name"]["sched_switch"].as_u64().unwrap_or(0);
        assert_eq!(
            switches > 0,
            has_switches,
            "{rel}: {switches} sched_switch events"
        );
        let (_, cov) = corpus_tests::kctx_json(&["coverage", "--format", "json"], &corpus(rel));
        assert_eq!(
            cov["sched_switch"].as_bool(),
            Some(switches > 0),
            "{rel}: {switches} sched_switch events"
        );
    }
}
