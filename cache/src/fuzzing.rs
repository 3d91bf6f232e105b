//! The cache files' fuzz target body, shared by the coverage-guided fuzzer (`fuzz/`, target
//! `cache`) and the test that replays every input it ever crashed on
//! (`cache/tests/fuzz_regressions.rs`).
//!
//! Each input is read as each kind of cache file in turn: a store, a context model and a
//! findings file. It is resealed first ([`column_file::reseal`]): checksums and identity are
//! made to match, so mutations reach what a checksum cannot vouch for, each file's own
//! checks (`EventStore::from_columns`, `ContextModel::from_columns`, the findings' ranges).
//! What they accept is then used as kctx uses it: a store's every event read back, its
//! context model built and every detector run; a model queried, swept and judged against
//! [`model_store`], the store it is read for; findings printed. Only a panic is a bug.

use crate::column_file::{self, ColumnFile};
use crate::{findings_file, model_file, store_file};
use std::path::Path;
use std::sync::OnceLock;
use trace_model::EventStore;
use trace_model::context::{BuildOptions, ContextModel};
use trace_model::synthetic::{SyntheticSpec, generate};

/// Runs one input. Panics only on a bug.
pub fn run(bytes: &[u8]) {
    run_store(bytes);
    run_model(bytes);
    run_findings(bytes);
}

/// The store a model input is read for (and a seed model file is written from).
pub fn model_store() -> &'static EventStore {
    static STORE: OnceLock<EventStore> = OnceLock::new();
    STORE.get_or_init(|| {
        generate(SyntheticSpec {
            events: 3_000,
            ..SyntheticSpec::default()
        })
    })
}

fn resealed(bytes: &[u8], id: column_file::Identity) -> Option<ColumnFile> {
    let mut bytes = bytes.to_vec();
    column_file::reseal(&mut bytes, id);
    ColumnFile::from_bytes(Path::new("fuzz input"), bytes, id).ok()
}

fn run_store(bytes: &[u8]) {
    let Some(file) = resealed(bytes, store_file::identity(0)) else {
        return;
    };
    let Ok(store) = store_file::read(&file) else {
        return;
    };
    for i in 0..store.len() as u32 {
        std::hint::black_box(format!("{:?}", store.event(i)));
    }
    let model = ContextModel::build(&store, &BuildOptions::default());
    std::hint::black_box(trace_model::detect::run_all(&store, &model));
}

fn run_model(bytes: &[u8]) {
    let Some(file) = resealed(bytes, model_file::identity(0)) else {
        return;
    };
    let store = model_store();
    let Ok(model) = model_file::read(&file, store) else {
        return;
    };
    let (first, last) = store.time_span().unwrap_or_default();
    for cpu in 0..model.cpus.len() as u32 {
        for ts in [first, first.midpoint(last), last] {
            std::hint::black_box(model.state_at(store, cpu, ts));
        }
    }
    std::hint::black_box(model.locks_held());
    std::hint::black_box(trace_model::lock_stats::lock_stats(&model));
    std::hint::black_box(trace_model::detect::run_all(store, &model));
}

fn run_findings(bytes: &[u8]) {
    let Some(file) = resealed(bytes, findings_file::identity(0)) else {
        return;
    };
    if let Ok(f) = findings_file::read(&file, model_store().len()) {
        std::hint::black_box(format!("{:?} {:?}", f.findings, f.coverage));
    }
}
