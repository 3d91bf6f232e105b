//! trace-cmd trace.dat v6 and v7 (issue 4).

use crate::ImportError;
use trace_model::EventStore;

const MAGIC: &[u8] = b"\x17\x08\x44tracing";

/// True when the bytes start with the trace.dat magic.
pub fn is_tracedat(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Imports a trace.dat file.
pub fn import(_bytes: &[u8]) -> Result<EventStore, ImportError> {
    Err(ImportError::NotATrace)
}
