//! The `kctx` binary as a user runs it. (Also makes `cargo test --workspace` build the binary,
//! which the corpus tests in `tests/` run through `corpus_tests::kctx_bin()`.)

use std::process::Command;

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
