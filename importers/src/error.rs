//! Import errors. Each names where in the input it happened; [`ImportError::with_path`] adds
//! the file once, at the top.

use std::path::{Path, PathBuf};
use trace_model::Location;

/// Why an input could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The message names the file and carries the inner error's text; it is not a `source`
    /// so that error chains do not print the inner text twice.
    #[error("{}: {error}", path.display())]
    WithPath {
        path: PathBuf,
        error: Box<ImportError>,
    },
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("gzip stream damaged: {0}")]
    Gzip(std::io::Error),
    #[error(
        "no trace events found (not ftrace text or trace.dat); a console log is read by \
         `kctx splats` or `kctx check TRACE --console LOG`"
    )]
    NotATrace,
    #[error("a QEMU log, not a trace: `kctx splats` reads it")]
    QemuLog,
    #[error("{at}: {what}")]
    Malformed { at: Location, what: String },
    #[error("more than 65535 distinct event names")]
    TooManyEventTypes(#[from] trace_model::store::TooManyEventTypes),
}

impl ImportError {
    /// Names the file this error came from.
    pub fn with_path(self, path: &Path) -> ImportError {
        match self {
            e @ ImportError::WithPath { .. } => e,
            e => ImportError::WithPath {
                path: path.to_owned(),
                error: Box::new(e),
            },
        }
    }

    /// A malformed-input error at a location.
    pub fn malformed(at: Location, what: impl Into<String>) -> ImportError {
        ImportError::Malformed {
            at,
            what: what.into(),
        }
    }
}
