//! Replays every input the fuzzer (`fuzz/`, docs/fuzzing.md) ever crashed, timed out or ran
//! out of memory on, through the same target bodies: a bug found once stays found.
//!
//! `fuzz_regressions/TARGET/NAME` is the input itself; `NAME.patch` describes a large one
//! as the corpus file it was mutated from (`base PATH`, `length N`) and the bytes that
//! differ (`OFFSET BYTE` lines); those need the corpus (`../shared/corpus` or
//! `KCTX_CORPUS`) and are skipped, with a note, without it.

use importers::fuzzing::{Target, run};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    std::env::var_os("KCTX_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

/// The input a `.patch` file describes, or `None` without the corpus.
fn patched(text: &str) -> Option<Vec<u8>> {
    let mut lines = text.lines();
    let base = lines.next()?.strip_prefix("base ").expect("base line");
    let length: usize = lines
        .next()
        .and_then(|l| l.strip_prefix("length "))
        .and_then(|n| n.parse().ok())
        .expect("length line");
    let Ok(mut bytes) = std::fs::read(corpus().join(base)) else {
        eprintln!("skipped: the corpus has no {base}");
        return None;
    };
    bytes.resize(length, 0);
    for line in lines {
        let (at, byte) = line.split_once(' ').expect("OFFSET BYTE");
        bytes[at.parse::<usize>().unwrap()] = byte.parse().unwrap();
    }
    Some(bytes)
}

#[test]
fn every_fuzz_finding_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut replayed = 0;
    for (target, dir) in Target::ALL {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let input = match path.extension() {
                Some(ext) if ext == "patch" => patched(&String::from_utf8(bytes).unwrap()),
                _ => Some(bytes),
            };
            if let Some(input) = input {
                eprintln!("{}", path.display());
                run(target, &input);
                replayed += 1;
            }
        }
    }
    eprintln!("{replayed} fuzz findings replayed");
}
