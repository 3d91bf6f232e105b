//! What the tables are built from: a loaded trace (its store, context model and findings) or
//! a console log's splats, each with its stable id.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use trace_model::context::ContextModel;
use trace_model::splat::Splat;
use trace_model::{EventStore, Finding, PayloadView};

/// Renders an event's payload as the kernel prints it (the app's event-list text).
pub type DetailsFn = dyn Fn(&EventStore, &PayloadView<'_>) -> String + Sync;

/// A trace, loaded and analysed.
pub struct TraceInput<'a> {
    pub id: String,
    pub path: String,
    pub store: &'a EventStore,
    pub model: &'a ContextModel,
    /// What the detectors found; `None` when the caller skipped them because no table it
    /// asked for needs them (see [`crate::Table::needs_findings`]).
    pub findings: Option<&'a [Finding]>,
    pub details: &'a DetailsFn,
}

/// A console / serial log: only the `splats` table (and its `traces` row).
pub struct ConsoleInput<'a> {
    pub id: String,
    pub path: String,
    pub splats: &'a [Splat],
}

/// One input of a query or an export.
pub enum Input<'a> {
    Trace(TraceInput<'a>),
    Console(ConsoleInput<'a>),
}

impl Input<'_> {
    pub fn id(&self) -> &str {
        match self {
            Input::Trace(t) => &t.id,
            Input::Console(c) => &c.id,
        }
    }
    pub fn path(&self) -> &str {
        match self {
            Input::Trace(t) => &t.path,
            Input::Console(c) => &c.path,
        }
    }
}

/// Bytes hashed at each end of a file: enough to tell recordings apart (their headers,
/// first and last pages differ) while staying instant on gigabyte files.
const ID_SPAN: u64 = 1 << 16;

/// The trace id: `t` and 16 hex digits of a hash of the file's size and its first and last
/// 64 KiB. The same file gives the same id wherever it lies and whatever it is called, so
/// exports of it land in the same partition; the `t` keeps engines that infer partition types
/// (DuckDB, Spark) from reading an all-digit id as a number.
pub fn trace_id(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut hash = Fnv::default();
    hash.write(&size.to_le_bytes());
    let mut buf = Vec::with_capacity(ID_SPAN as usize);
    (&mut file).take(ID_SPAN).read_to_end(&mut buf)?;
    hash.write(&buf);
    if size > ID_SPAN {
        buf.clear();
        file.seek(SeekFrom::Start(size.saturating_sub(ID_SPAN).max(ID_SPAN)))?;
        file.take(ID_SPAN).read_to_end(&mut buf)?;
        hash.write(&buf);
    }
    Ok(format!("t{:016x}", hash.0))
}

/// The id of an input that is no file (a bundled sample, a synthetic trace): the same hash of
/// its name, so ids keep one shape.
pub fn name_id(name: &str) -> String {
    let mut hash = Fnv::default();
    hash.write(name.as_bytes());
    format!("t{:016x}", hash.0)
}

/// FNV-1a, 64-bit: stable across Rust releases, unlike `DefaultHasher`.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_follows_content_not_name() {
        let dir = std::env::temp_dir().join(format!("kctx-tables-id-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let a = dir.join("a");
        let b = dir.join("b");
        std::fs::write(&a, &big).unwrap();
        std::fs::write(&b, &big).unwrap();
        assert_eq!(trace_id(&a).unwrap(), trace_id(&b).unwrap());
        let mut tail_changed = big.clone();
        *tail_changed.last_mut().unwrap() ^= 1;
        std::fs::write(&b, &tail_changed).unwrap();
        assert_ne!(trace_id(&a).unwrap(), trace_id(&b).unwrap());
        std::fs::write(&b, b"short").unwrap();
        let id = trace_id(&b).unwrap();
        assert!(id.starts_with('t') && id.len() == 17, "{id}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
