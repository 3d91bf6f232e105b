//! The fuzz targets' bodies, one per importer, shared by the coverage-guided fuzzer
//! (`fuzz/`) and the test that replays every input it ever crashed on
//! (`importers/tests/fuzz_regressions.rs`): a crash found once is replayed by `cargo test`.
//!
//! Each body runs the input as `kctx` would (import, then the context model and the
//! detectors over what was imported) and only asks that nothing panics: errors are answers.

use crate::{ImportError, Source};
use trace_model::context::{BuildOptions, ContextModel};

/// One fuzz target per importer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    TraceDat,
    FtraceText,
    Console,
    Qemu,
    /// The gzip layer under every importer (`Source`), then format detection.
    Gzip,
}

impl Target {
    /// Every target, with the directory name its seeds and reproducers use.
    pub const ALL: [(Target, &'static str); 5] = [
        (Target::TraceDat, "tracedat"),
        (Target::FtraceText, "ftrace_text"),
        (Target::Console, "console"),
        (Target::Qemu, "qemu"),
        (Target::Gzip, "gzip"),
    ];
}

/// Runs one input through a target. Panics only on a bug.
pub fn run(target: Target, bytes: &[u8]) {
    match target {
        Target::TraceDat => model(crate::tracedat::import(bytes)),
        Target::FtraceText => model(crate::ftrace_text::import(bytes)),
        Target::Console => drop(crate::console::parse_splats(bytes)),
        Target::Qemu => drop(crate::qemu::parse(bytes)),
        Target::Gzip => {
            if let Ok(source) = Source::from_bytes(bytes.to_vec()) {
                model(crate::import(&source));
            }
        }
    }
}

fn model(imported: Result<trace_model::EventStore, ImportError>) {
    if let Ok(store) = imported {
        let model = ContextModel::build(&store, &BuildOptions::default());
        drop(trace_model::detect::run_all(&store, &model));
    }
}
