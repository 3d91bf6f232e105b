//! Replays every input the cache fuzz target (`fuzz/`, docs/fuzzing.md) ever crashed on,
//! through the same body, and runs the body over a real store file and damaged copies of it.

use std::path::Path;
use trace_cache::{fuzzing, store_file};
use trace_model::synthetic::{SyntheticSpec, generate};

#[test]
fn every_kept_reproducer_runs_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions/cache");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("the reproducer directory") {
        let path = entry.unwrap().path();
        if path.is_file() && path.extension().is_none() {
            fuzzing::run(&std::fs::read(&path).unwrap());
            replayed += 1;
        }
    }
    eprintln!("{replayed} cache reproducers replayed");
}

#[test]
fn a_store_file_and_its_damaged_copies_run_through_the_target() {
    let store = generate(SyntheticSpec {
        events: 3_000,
        ..SyntheticSpec::default()
    });
    let dir = std::env::temp_dir().join(format!("kctx-cache-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.store");
    store_file::save(&store, &path, 0).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // Intact, it is read back whole (the body would return early otherwise).
    let file = trace_cache::column_file::ColumnFile::from_bytes(
        Path::new("s.store"),
        bytes.clone(),
        store_file::identity(0),
    )
    .unwrap();
    assert_eq!(store_file::read(&file).unwrap().len(), store.len());
    fuzzing::run(&bytes);
    // Every 97th byte changed, one at a time, and every 4 KiB cut: resealed, each is either
    // refused by the store's checks or used without a panic.
    for at in (0..bytes.len()).step_by(97) {
        let mut damaged = bytes.clone();
        damaged[at] = damaged[at].wrapping_add(0x5b);
        fuzzing::run(&damaged);
    }
    for len in (0..bytes.len()).step_by(4096) {
        fuzzing::run(&bytes[..len]);
    }
}

/// A model file and a findings file written for the target's own store, and damaged copies
/// of each: every one is refused or used without a panic.
#[test]
fn model_and_findings_files_and_their_damaged_copies_run_through_the_target() {
    use trace_cache::{findings_file, model_file};
    use trace_model::context::{BuildOptions, ContextModel};
    let store = fuzzing::model_store();
    let model = ContextModel::build(store, &BuildOptions::default());
    let findings = trace_model::detect::run_all(store, &model);
    let dir = std::env::temp_dir().join(format!("kctx-cache-fuzz-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (model_path, findings_path) = (dir.join("s.model"), dir.join("s.findings"));
    model_file::save(&model, store, &model_path, 0).unwrap();
    findings_file::save(&findings, &model.coverage, store.len(), &findings_path, 0).unwrap();
    let files = [
        std::fs::read(&model_path).unwrap(),
        std::fs::read(&findings_path).unwrap(),
    ];
    // Intact, each is read back whole.
    let back = model_file::load(&model_path, 0, store).unwrap();
    assert_eq!(back.sleep_calls, model.sleep_calls);
    let back = findings_file::load(&findings_path, 0, store.len()).unwrap();
    assert_eq!(back.findings.len(), findings.len());
    for (back, f) in back.findings.iter().zip(&findings) {
        assert_eq!(
            (&back.id, back.ts, &back.summary),
            (&f.id, f.ts, &f.summary)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    for bytes in files {
        fuzzing::run(&bytes);
        for at in (0..bytes.len()).step_by(251) {
            let mut damaged = bytes.clone();
            damaged[at] = damaged[at].wrapping_add(0x5b);
            fuzzing::run(&damaged);
        }
        for len in (0..bytes.len()).step_by(8192) {
            fuzzing::run(&bytes[..len]);
        }
    }
}
