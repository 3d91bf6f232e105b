//! Input bytes: a memory-mapped file, or its decompressed contents when it is gzip.

use crate::ImportError;
use flate2::read::MultiGzDecoder;
use memmap2::Mmap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The bytes of one input file, decompressed if needed.
pub enum Source {
    /// The file, mapped.
    Mapped(Mmap),
    /// Decompressed or in-memory contents.
    Owned(Vec<u8>),
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

impl Source {
    /// Opens `path`, decompressing gzip transparently.
    pub fn open(path: &Path) -> Result<Source, ImportError> {
        let io_error = |e: io::Error| ImportError::Io(e).with_path(path);
        let mut file = File::open(path).map_err(io_error)?;
        let kind = file.metadata().map_err(io_error)?.file_type();
        if kind.is_dir() {
            return Err(io_error(io::Error::new(
                io::ErrorKind::IsADirectory,
                "a directory, not a trace file",
            )));
        }
        if !kind.is_file() {
            // A pipe or a device (`kctx stats /dev/stdin`) cannot be mapped: read it whole.
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(io_error)?;
            return Self::from_bytes(bytes).map_err(|e| e.with_path(path));
        }
        // SAFETY: the map is read-only; kctx does not modify input files, and a file
        // truncated by another process while mapped is outside what a viewer can defend
        // against (the same contract as ripgrep's mmap searcher).
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.map_err(io_error)?;
        Self::from_mapped(map).map_err(|e| e.with_path(path))
    }

    fn from_mapped(map: Mmap) -> Result<Source, ImportError> {
        if map.starts_with(&GZIP_MAGIC) {
            return Self::gunzip(&map).map(Source::Owned);
        }
        Ok(Source::Mapped(map))
    }

    /// Wraps bytes already in memory, decompressing gzip transparently.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Source, ImportError> {
        if bytes.starts_with(&GZIP_MAGIC) {
            return Self::gunzip(&bytes).map(Source::Owned);
        }
        Ok(Source::Owned(bytes))
    }

    fn gunzip(compressed: &[u8]) -> Result<Vec<u8>, ImportError> {
        let mut out = Vec::with_capacity(compressed.len().saturating_mul(4));
        MultiGzDecoder::new(compressed)
            .read_to_end(&mut out)
            .map_err(ImportError::Gzip)?;
        Ok(out)
    }

    /// The (decompressed) bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Owned(v) => v,
        }
    }
}
