//! kctx's cache of imported traces: raw column files with a versioned header, validated
//! before use (no serializer: the columns are written and read back as they are), kept
//! in a size-capped directory and keyed by the trace file's identity.

pub mod column_file;
mod directory;
pub mod fuzzing;
mod identity;
pub mod store_file;

pub use directory::{Entry, Lookup, TraceCache};
pub use identity::trace_key;
