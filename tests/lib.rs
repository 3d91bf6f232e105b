//! Helpers shared by the corpus integration tests.

use std::path::{Path, PathBuf};

/// The shared corpus: `KCTX_CORPUS`, else the first `shared/corpus` beside the project root or
/// one of its ancestors (`../shared/corpus` for a checkout, further up for a git worktree).
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KCTX_CORPUS") {
        return dir.into();
    }
    let tests_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project_root = tests_dir.parent().unwrap_or(tests_dir);
    project_root
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/corpus"))
        .find(|candidate| candidate.is_dir())
        .unwrap_or_else(|| project_root.join("../shared/corpus"))
}

/// A file of the corpus.
pub fn corpus(rel: &str) -> PathBuf {
    corpus_dir().join(rel)
}

/// The parsed `lab/truth.json`.
pub fn truth() -> serde_json::Value {
    let text = std::fs::read_to_string(corpus("lab/truth.json")).expect("read lab/truth.json");
    serde_json::from_str(&text).expect("parse truth.json")
}

/// The lab recording folders named in truth.json, with their truth entry.
pub fn lab_scenarios() -> Vec<(String, serde_json::Value)> {
    let truth = truth();
    let map = truth["scenarios"].as_object().expect("scenarios");
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The `kctx` binary of the same build as this test (`cargo test --workspace` builds it into
/// the profile directory beside `deps/`, where the test executable runs from).
pub fn kctx_bin() -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join(format!("kctx{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not built: run the tests with `cargo test --workspace`",
        bin.display()
    );
    bin
}
