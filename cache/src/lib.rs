//! kctx's cache of imported traces (their stores, context models and findings): raw column files with a versioned header, validated
//! before use (no serializer: the columns are written and read back as they are), kept
//! in a size-capped directory and keyed by the trace file's identity.

pub mod column_file;
mod directory;
pub mod findings_file;
pub mod fuzzing;
mod identity;
pub mod model_file;
pub mod store_file;

/// The bundled sample (a real recording with planted bugs): the crate's tests need no corpus.
#[cfg(test)]
fn sample_trace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/lockdep-s1_spin_sleep.trace.txt.gz")
}

pub use directory::{CheckEntry, Derived, Entry, Lookup, TraceCache};
pub use identity::trace_key;
