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
    /// `/proc/kallsyms` text: symbols naming addresses, a sidecar of a trace.
    Kallsyms,
    /// A kernel console / serial log without trace lines.
    Console,
    /// A QEMU `-d` or trace-backend log.
    Qemu,
}

/// How far into an input detection looks for trace lines: a console log's ftrace dump
/// starts within it, and a huge file of something else is not read whole to say so.
pub const SNIFF_BYTES: usize = 64 << 20;

/// Detects the format of decompressed input bytes: a trace, its kallsyms sidecar, a console
/// log or a QEMU log.
pub fn detect(bytes: &[u8]) -> Format {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if tracedat::is_tracedat(bytes) {
        Format::TraceDat
    } else if kallsyms::looks_like_kallsyms(head) {
        Format::Kallsyms
    } else if qemu::looks_like_qemu(head) {
        Format::Qemu
    } else if ftrace_text::looks_like_ftrace(head) {
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

/// Imports already-read input; the container's warnings (gzip) join the import report.
pub fn import(source: &Source) -> Result<EventStore, ImportError> {
    let bytes = source.bytes();
    let mut store = match detect(bytes) {
        Format::TraceDat => tracedat::import_rereading(bytes, source.reread()),
        Format::FtraceText => ftrace_text::import(bytes),
        Format::Qemu => Err(ImportError::QemuLog),
        Format::Kallsyms | Format::Console => Err(ImportError::NotATrace),
    }?;
    for (what, at) in source.warnings() {
        store.report.warn(what, *at);
    }
    Ok(store)
}
