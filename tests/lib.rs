//! Helpers shared by the corpus integration tests.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The shared corpus: `KCTX_CORPUS`, else the first `shared/corpus` beside the project root or
/// one of its ancestors (`../shared/corpus` for a checkout, further up for a git worktree).
///
/// Without it the test binary stops at the first test that needs it, with one message saying
/// where the corpus goes: sixty tests panicking on a missing file would say nothing useful.
pub fn corpus_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = configured_corpus_dir();
        if !dir.join("lab/truth.json").is_file() {
            // Written straight to stderr: the test harness captures `eprintln!`, and its
            // capture is lost when the process exits here.
            let _ = writeln!(std::io::stderr(), "{}", missing_corpus_message(&dir));
            std::process::exit(2);
        }
        dir
    })
    .clone()
}

/// Where the corpus should be: `KCTX_CORPUS`, else a `shared/corpus` found above the project.
fn configured_corpus_dir() -> PathBuf {
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

/// What a fresh clone without the corpus is told.
fn missing_corpus_message(dir: &Path) -> String {
    let how = if std::env::var_os("KCTX_CORPUS").is_some() {
        "KCTX_CORPUS names it"
    } else {
        "KCTX_CORPUS is not set; the default is ../shared/corpus beside the project root"
    };
    format!(
        "\nkctx corpus tests: no corpus at {} ({how}).\n\
         These tests read the shared corpus of real kernel traces (lab recordings with planted \
         bugs and their lab/truth.json, public trace.dat and ftrace text files, console logs). \
         Put it at ../shared/corpus or set KCTX_CORPUS=/path/to/corpus, then run \
         `cargo test --workspace --release` again.\n",
        dir.display()
    )
}

/// A file of the corpus.
pub fn corpus(rel: &str) -> PathBuf {
    corpus_dir().join(rel)
}

/// The console logs of `public/console` (file names, sorted).
pub fn public_console_logs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus("public/console"))
        .expect("read public/console")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    names
}

/// A gzip-compressed text file of the corpus, inflated.
pub fn read_gz_text(path: &Path) -> String {
    use std::io::Read as _;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("open"))
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("gunzip {}: {e}", path.display()));
    text
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

/// `kctx` as the tests run it: the cache of imported traces pointed at a directory that is
/// never written, so each test sees its trace imported by this build, never a store that an
/// earlier build cached (`cache.rs` tests the cache itself).
pub fn kctx() -> std::process::Command {
    let mut command = std::process::Command::new(kctx_bin());
    command
        .env(
            "KCTX_CACHE_DIR",
            std::env::temp_dir().join("kctx-tests-no-cache"),
        )
        .env("KCTX_CACHE_MIN_EVENTS", u64::MAX.to_string());
    command
}

/// Runs `kctx ARGS FILE` and parses what it printed as JSON, with its exit status (`check`
/// exits 1 when it finds violations). A run that prints no JSON fails with its stderr.
pub fn kctx_json(args: &[&str], file: &Path) -> (std::process::ExitStatus, serde_json::Value) {
    let out = kctx().args(args).arg(file).output().expect("run kctx");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "kctx {args:?} {}: no JSON ({e}): {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status, json)
}
