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
