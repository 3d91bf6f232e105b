//! Input bytes: a memory-mapped file, or its decompressed contents when it is gzip.
//!
//! gzip is inflated in bounded memory: the first [`IN_MEMORY`] bytes into a vector, the rest
//! into an unlinked temporary file that is then mapped, so a large trace costs page cache,
//! not heap. Inflating stops with an error past [`MAX_RATIO`] times the compressed size
//! (no real trace compresses that well; a gzip bomb does). A member cut short or damaged
//! keeps what inflated before, and trailing bytes after the last member are ignored, each
//! with a warning naming the compressed byte offset.

use crate::ImportError;
use memmap2::Mmap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use trace_model::report::Location;

/// The bytes of one input file, decompressed if needed, and what reading them noticed.
pub struct Source {
    data: Data,
    /// Warnings about the container (gzip), for the import report.
    warnings: Vec<(String, Location)>,
}

enum Data {
    /// The file (or the inflated data spilled to a temporary file), mapped.
    Mapped(Mmap),
    /// Decompressed or in-memory contents.
    Owned(Vec<u8>),
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Inflated bytes kept in memory before the rest goes to a temporary file.
pub const IN_MEMORY: usize = 64 << 20;

/// At most this many times the compressed size is inflated (past [`MIN_LIMIT`]).
pub const MAX_RATIO: u64 = 100;

/// Inflating up to this much is always allowed, whatever the ratio.
pub const MIN_LIMIT: u64 = 256 << 20;

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
        if map.starts_with(&GZIP_MAGIC) {
            return Self::gunzip(&map).map_err(|e| e.with_path(path));
        }
        Ok(Source {
            data: Data::Mapped(map),
            warnings: Vec::new(),
        })
    }

    /// Wraps bytes already in memory, decompressing gzip transparently.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Source, ImportError> {
        if bytes.starts_with(&GZIP_MAGIC) {
            return Self::gunzip(&bytes);
        }
        Ok(Source {
            data: Data::Owned(bytes),
            warnings: Vec::new(),
        })
    }

    /// Inflates every gzip member in turn.
    fn gunzip(compressed: &[u8]) -> Result<Source, ImportError> {
        let limit = (compressed.len() as u64)
            .saturating_mul(MAX_RATIO)
            .max(MIN_LIMIT);
        let mut out = Inflated::default();
        let mut warnings = Vec::new();
        let mut rest = compressed;
        loop {
            let member_at = compressed.len() - rest.len();
            let result = out.inflate_member(&mut rest, limit);
            let at = (compressed.len() - rest.len()) as u64;
            match result {
                Ok(()) => {}
                Err(Stop::Limit) => {
                    return Err(ImportError::Gzip(io::Error::other(format!(
                        "inflates to more than {limit} bytes ({MAX_RATIO} times its size) by \
                         compressed byte {at}: not a trace (a gzip bomb?)"
                    ))));
                }
                Err(Stop::Write(e)) => return Err(ImportError::Io(e)),
                // Nothing inflated: not a trace worth a warning.
                Err(Stop::Damaged(e)) if out.len() == 0 => {
                    return Err(ImportError::Gzip(io::Error::other(format!(
                        "at compressed byte {at}: {e}"
                    ))));
                }
                Err(Stop::Damaged(e)) => {
                    let what = format!(
                        "gzip data cut short or damaged ({e}) in the member at compressed byte \
                         {member_at}: the {} bytes inflated before are kept",
                        out.len()
                    );
                    warnings.push((what, Location::Byte(at)));
                    break;
                }
            }
            if rest.is_empty() {
                break;
            }
            if !rest.starts_with(&GZIP_MAGIC) {
                let what = format!(
                    "{} bytes after the gzip data that are not gzip: ignored",
                    rest.len()
                );
                warnings.push((what, Location::Byte(at)));
                break;
            }
        }
        Ok(Source {
            data: out.finish().map_err(ImportError::Io)?,
            warnings,
        })
    }

    /// The (decompressed) bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Mapped(m) => m,
            Data::Owned(v) => v,
        }
    }

    /// What reading the container noticed (a cut gzip member, trailing bytes).
    pub fn warnings(&self) -> &[(String, Location)] {
        &self.warnings
    }

    /// The means to give read parts of the bytes back, when they are a file mapping.
    pub fn reread(&self) -> Option<Reread<'_>> {
        match &self.data {
            Data::Mapped(map) => Some(Reread { map }),
            Data::Owned(_) => None,
        }
    }
}

/// Mapped input whose pages an importer done with them may drop from the process: a
/// 185 MB compressed trace stays resident to the end of its import otherwise, a fifth of
/// the store it decodes to. Pages of a file mapping touched again are read again from
/// the file (the page cache), so dropping never changes what the bytes hold.
#[derive(Clone, Copy)]
pub struct Reread<'m> {
    map: &'m Mmap,
}

impl Reread<'_> {
    /// Drops from the process's memory the mapped pages of `done` (a part of the mapped
    /// bytes; anything else is ignored) that lie in whole [`RELEASE_BLOCK`]s before its
    /// end. Only whole blocks behind the reader: the kernel maps a fault's neighbours with
    /// it (fault-around, large folios) within such a block, so a page dropped just behind
    /// the reader would be mapped again by its next fault and stay. Returns how far into
    /// `done` the dropped blocks reach (0 when none): the caller's next `done` starts there.
    pub fn release_behind(&self, done: &[u8]) -> usize {
        let map_start = self.map.as_ptr() as usize;
        let from = done.as_ptr() as usize;
        let start = from.next_multiple_of(RELEASE_BLOCK);
        let end = (from + done.len()) / RELEASE_BLOCK * RELEASE_BLOCK;
        if end <= start || start < map_start || end > map_start + self.map.len() {
            return 0;
        }
        // SAFETY: the range lies in a read-only mapping of a file (the input, or inflated
        // gzip spilled to a file) that nothing writes through: MADV_DONTNEED only unmaps
        // its pages, and the next access maps the same file bytes again. A refusal leaves
        // the pages resident, which is harmless.
        #[allow(unsafe_code)]
        let _ = unsafe {
            self.map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                start - map_start,
                end - start,
            )
        };
        end - from
    }
}

/// The span of input pages dropped at once: a PMD (2 MiB on x86-64 and arm64 with 4 KiB
/// pages), the most the kernel maps around one fault.
const RELEASE_BLOCK: usize = 2 << 20;

/// Why inflating stopped early.
enum Stop {
    Limit,
    Damaged(io::Error),
    Write(io::Error),
}

/// Inflated bytes: in memory, then in an unlinked temporary file.
#[derive(Default)]
struct Inflated {
    memory: Vec<u8>,
    spilled: Option<(File, u64)>,
}

impl Inflated {
    fn len(&self) -> u64 {
        self.memory.len() as u64 + self.spilled.as_ref().map_or(0, |s| s.1)
    }

    /// Inflates one member from `input`, leaving `input` after it (or where it failed).
    fn inflate_member(&mut self, input: &mut &[u8], limit: u64) -> Result<(), Stop> {
        let mut member = flate2::bufread::GzDecoder::new(input);
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = match member.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Stop::Damaged(e)),
            };
            if self.len() + n as u64 > limit {
                return Err(Stop::Limit);
            }
            self.write(&buf[..n]).map_err(Stop::Write)?;
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.spilled.is_none() && self.memory.len() + bytes.len() <= IN_MEMORY {
            self.memory.extend_from_slice(bytes);
            return Ok(());
        }
        let (file, len) = match &mut self.spilled {
            Some(s) => s,
            None => {
                let mut file = temporary_file()?;
                file.write_all(&self.memory)?;
                let len = self.memory.len() as u64;
                self.memory = Vec::new();
                self.spilled.insert((file, len))
            }
        };
        file.write_all(bytes)?;
        *len += bytes.len() as u64;
        Ok(())
    }

    fn finish(self) -> io::Result<Data> {
        match self.spilled {
            None => Ok(Data::Owned(self.memory)),
            Some((file, _)) => {
                // SAFETY: the file is kctx's own, unlinked: no other process can change it.
                #[allow(unsafe_code)]
                let map = unsafe { Mmap::map(&file) }?;
                Ok(Data::Mapped(map))
            }
        }
    }
}

/// A new file in the temporary directory, already unlinked: it goes when kctx does.
fn temporary_file() -> io::Result<File> {
    let dir = std::env::temp_dir();
    for attempt in 0..100u32 {
        let path = dir.join(format!("kctx-inflated-{}-{attempt}", std::process::id()));
        match File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free temporary file name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn members_are_joined_and_trailing_zeros_are_a_warning() {
        let mut bytes = gzip(b"hello ");
        bytes.extend(gzip(b"world"));
        let whole = bytes.len();
        bytes.extend([0u8; 300]);
        let s = Source::from_bytes(bytes).unwrap();
        assert_eq!(s.bytes(), b"hello world");
        assert_eq!(s.warnings().len(), 1);
        assert_eq!(s.warnings()[0].1, Location::Byte(whole as u64));
        assert!(
            s.warnings()[0]
                .0
                .starts_with("300 bytes after the gzip data")
        );
    }

    #[test]
    fn a_cut_member_keeps_what_inflated_and_names_the_offset() {
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let bytes = gzip(&text);
        let cut = &bytes[..bytes.len() / 2];
        let s = Source::from_bytes(cut.to_vec()).unwrap();
        assert!(!s.bytes().is_empty() && text.starts_with(s.bytes()));
        let (what, at) = &s.warnings()[0];
        assert!(what.contains("cut short or damaged"), "{what}");
        assert!(matches!(at, Location::Byte(n) if *n <= cut.len() as u64));
        // Cut inside the header: nothing inflated, an error with the offset.
        let e = Source::from_bytes(bytes[..5].to_vec()).err().unwrap();
        assert!(e.to_string().contains("compressed byte"), "{e}");
    }

    #[test]
    fn a_bomb_stops_at_the_ratio_limit_with_an_error() {
        // 400 MiB of zeros compress to ~400 KiB: over the 256 MiB floor and 100x.
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..400 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        let err = Source::from_bytes(bomb)
            .err()
            .expect("an error")
            .to_string();
        assert!(err.contains("gzip bomb"), "{err}");
    }
}
