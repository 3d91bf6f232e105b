//! The cache files' fuzz target body, shared by the coverage-guided fuzzer (`fuzz/`, target
//! `cache`) and the test that replays every input it ever crashed on
//! (`cache/tests/fuzz_regressions.rs`).
//!
//! The input is resealed first ([`column_file::reseal`]): checksums and identity are made to
//! match, so mutations reach what a checksum cannot vouch for, the store's own checks
//! (`EventStore::from_columns`). A store they accept is then used as kctx uses one: every
//! event read back, the context model built and every detector run. Only a panic is a bug.

use crate::column_file::{self, ColumnFile};
use crate::store_file;
use std::path::Path;
use trace_model::context::{BuildOptions, ContextModel};

/// Runs one input. Panics only on a bug.
pub fn run(bytes: &[u8]) {
    let id = store_file::identity(0);
    let mut bytes = bytes.to_vec();
    column_file::reseal(&mut bytes, id);
    let Ok(file) = ColumnFile::from_bytes(Path::new("fuzz input"), bytes, id) else {
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
