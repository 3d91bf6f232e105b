//! ftrace text in all its dialects (issue 3).

use crate::ImportError;
use trace_model::EventStore;

/// True when the bytes hold ftrace event lines.
pub fn looks_like_ftrace(_bytes: &[u8]) -> bool {
    false
}

/// Imports ftrace text.
pub fn import(_bytes: &[u8]) -> Result<EventStore, ImportError> {
    Err(ImportError::NotATrace)
}
