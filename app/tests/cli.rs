//! The `kctx` binary as a user runs it. (Also makes `cargo test --workspace` build the binary,
//! which the corpus tests in `tests/` run through `corpus_tests::kctx_bin()`.)

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn an_unreadable_input_exits_2_and_names_the_file() {
    let missing = "/nonexistent/kctx-test/trace.dat";
    let out = Command::new(env!("CARGO_BIN_EXE_kctx"))
        .args(["stats", missing])
        .output()
        .expect("run kctx");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(missing), "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
}

#[test]
fn a_directory_is_refused_by_name() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(env!("CARGO_BIN_EXE_kctx"))
        .args(["stats", dir])
        .output()
        .expect("run kctx");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(dir) && stderr.contains("a directory"),
        "{stderr}"
    );
}

/// A pipe cannot be mapped: `trace-cmd report | kctx stats /dev/stdin` reads it whole.
#[test]
fn a_trace_piped_on_stdin_is_read() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../samples/lockdep-s1_spin_sleep.trace.txt.gz"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_kctx"))
        .args(["stats", "--format", "json", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run kctx");
    let bytes = std::fs::read(sample).expect("read the sample");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("write the trace");
    let out = child.wait_with_output().expect("wait for kctx");
    assert_eq!(out.status.code(), Some(0));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(stats["events"], 40279, "{stats}");
}

/// `kctx latency --fail-above`: a CI gate on the longest section. The sample's longest
/// irqs-off section lasts 33.4 ms (around a planted `msleep` under a spinlock).
#[test]
fn latency_gates_exit_1_when_exceeded_and_0_when_not() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../samples/lockdep-s1_spin_sleep.trace.txt.gz"
    );
    let gate = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kctx"))
            .arg("latency")
            .args(args)
            .arg(sample)
            .output()
            .expect("run kctx")
    };
    let failed = gate(&["--fail-above", "wakeup=1s", "--fail-above", "irqsoff=1ms"]);
    assert_eq!(failed.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(
        stdout.contains("gate irqsoff <= 1.000 ms: FAILED"),
        "{stdout}"
    );
    assert!(stdout.contains("gate wakeup <= 1.000000 s: ok"), "{stdout}");
    let passed = gate(&["--fail-above", "irqsoff=100ms", "--format", "json"]);
    assert_eq!(passed.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&passed.stdout).expect("JSON");
    assert_eq!(json["gates"][0]["above"], 0);
    assert!(json["worst"].as_array().is_some_and(|w| !w.is_empty()));
    for bad in [["--fail-above", "irqsoff"], ["--fail-above", "irqsoff=100"]] {
        let refused = gate(&bad);
        assert_eq!(refused.status.code(), Some(2), "{bad:?}");
    }
    let missing = Command::new(env!("CARGO_BIN_EXE_kctx"))
        .args([
            "latency",
            "--fail-above",
            "irqsoff=1ms",
            "/nonexistent/trace.dat",
        ])
        .output()
        .expect("run kctx");
    assert_eq!(missing.status.code(), Some(2));
}
