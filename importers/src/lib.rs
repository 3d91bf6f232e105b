//! kctx's importers: each input format turns bytes into a [`trace_model::EventStore`].
//!
//! The format is detected from the content, never from the file name; gzip is read
//! transparently. [`open`] is the one entry point the app uses.

pub mod console;
pub mod error;
pub mod ftrace_text;
pub mod fuzzing;
pub mod kallsyms;
pub mod qemu;
pub mod source;
pub mod tracedat;

pub use error::ImportError;
pub use source::Source;

use std::path::Path;
use trace_model::EventStore;

/// The input formats kctx reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// trace-cmd `trace.dat` (v6, v7).
    TraceDat,
    /// ftrace text in any dialect (also a console log holding an ftrace dump).
    FtraceText,
    /// A kernel console / serial log without trace lines.
    Console,
    /// A QEMU `-d` or trace-backend log.
    Qemu,
}

/// Detects the format of decompressed input bytes.
pub fn detect(bytes: &[u8]) -> Format {
    if tracedat::is_tracedat(bytes) {
        Format::TraceDat
    } else if qemu::looks_like_qemu(bytes) {
        Format::Qemu
    } else if ftrace_text::looks_like_ftrace(bytes) {
        Format::FtraceText
    } else {
        Format::Console
    }
}

/// Reads a trace file of any supported format into an event store.
pub fn open(path: &Path) -> Result<EventStore, ImportError> {
    let source = Source::open(path)?;
    import(&source).map_err(|e| e.with_path(path))
}

/// Imports already-read input.
pub fn import(source: &Source) -> Result<EventStore, ImportError> {
    let bytes = source.bytes();
    match detect(bytes) {
        Format::TraceDat => tracedat::import(bytes),
        Format::FtraceText => ftrace_text::import(bytes),
        Format::Qemu => Err(ImportError::QemuLog),
        Format::Console => Err(ImportError::NotATrace),
    }
}
