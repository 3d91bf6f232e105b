//! A column file: named arrays of plain values, written once, validated before any value is
//! used.
//!
//! Layout (little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `KCTXCOLS` |
//! | 4 | layout version ([`LAYOUT_VERSION`]) |
//! | 4 | schema version: what the writer's columns mean, chosen by the caller |
//! | 8 | key: the identity of what the file caches, chosen by the caller |
//! | 8 | file length |
//! | 4 | column count |
//! | 4 | CRC-32 of the header's other fields and the column table |
//! | 64 each | column table: name (32 bytes, NUL-padded), offset, length in bytes, element size, CRC-32 of the data |
//! | ... | column data, each starting on a 64-byte boundary |
//!
//! Every number is checked against the file's real length before it is used, and each
//! column's checksum as it is read: a truncated, damaged or foreign file is an error, never a
//! panic or a wrong answer.
//!
//! A column is either read into memory of its own ([`ColumnFile::column`]) or used where
//! the mapped file holds it ([`ColumnFile::shared`]): the big event columns of a store are
//! mapped, so reopening a trace neither copies them nor zeroes fresh pages for them.

use bytemuck::Pod;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use trace_model::column::{SharedBytes, StableBytes};

const MAGIC: &[u8; 8] = b"KCTXCOLS";
/// Bumped whenever the layout above changes.
pub const LAYOUT_VERSION: u32 = 1;
const HEADER_LEN: usize = 40;
const ENTRY_LEN: usize = 64;
const NAME_LEN: usize = 32;
const ALIGN: u64 = 64;
/// A file being written is named `<name>.tmp<pid>` until it is renamed into place.
pub const TEMP_EXTENSION: &str = "tmp";

/// Why a column file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cache file {}: {what}", path.display())]
pub struct ColumnFileError {
    pub path: PathBuf,
    pub what: String,
}

fn error(path: &Path, what: impl Into<String>) -> ColumnFileError {
    ColumnFileError {
        path: path.to_owned(),
        what: what.into(),
    }
}

/// One column to write: its name, element size and bytes.
pub struct Column<'a> {
    name: &'a str,
    elem_size: u32,
    bytes: &'a [u8],
}

impl<'a> Column<'a> {
    /// A column of plain values.
    pub fn of<T: Pod>(name: &'a str, values: &'a [T]) -> Column<'a> {
        assert!(name.len() < NAME_LEN, "column name {name:?} too long");
        Column {
            name,
            elem_size: size_of::<T>() as u32,
            bytes: bytemuck::cast_slice(values),
        }
    }
}

/// What identifies a file's contents: the caller's schema version and key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub schema: u32,
    pub key: u64,
}

fn padding(at: u64) -> u64 {
    at.next_multiple_of(ALIGN) - at
}

/// Writes `columns` to `path` through a temporary file renamed into place, so a reader never
/// sees a half-written file and a failed write leaves nothing behind. No fsync: a file that a
/// crash left incomplete fails its length or checksum test on open and is rebuilt, so waiting
/// for the disk (seconds for a big trace) would buy nothing.
pub fn write(path: &Path, id: Identity, columns: &[Column<'_>]) -> std::io::Result<()> {
    let mut offsets = Vec::with_capacity(columns.len());
    let mut at = (HEADER_LEN + ENTRY_LEN * columns.len()) as u64;
    for c in columns {
        at += padding(at);
        offsets.push(at);
        at += c.bytes.len() as u64;
    }
    let file_len = at;
    let mut table = Vec::with_capacity(ENTRY_LEN * columns.len());
    for (c, &offset) in columns.iter().zip(&offsets) {
        let mut name = [0u8; NAME_LEN];
        name[..c.name.len()].copy_from_slice(c.name.as_bytes());
        table.extend_from_slice(&name);
        table.extend_from_slice(&offset.to_le_bytes());
        table.extend_from_slice(&(c.bytes.len() as u64).to_le_bytes());
        table.extend_from_slice(&c.elem_size.to_le_bytes());
        table.extend_from_slice(&crc32fast::hash(c.bytes).to_le_bytes());
        table.extend_from_slice(&[0u8; ENTRY_LEN - NAME_LEN - 24]);
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&LAYOUT_VERSION.to_le_bytes());
    header.extend_from_slice(&id.schema.to_le_bytes());
    header.extend_from_slice(&id.key.to_le_bytes());
    header.extend_from_slice(&file_len.to_le_bytes());
    header.extend_from_slice(&(columns.len() as u32).to_le_bytes());
    let crc = header_crc(&header, &table);
    header.extend_from_slice(&crc.to_le_bytes());

    let tmp = path.with_extension(format!("{TEMP_EXTENSION}{}", std::process::id()));
    let written = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        out.write_all(&header)?;
        out.write_all(&table)?;
        let mut at = (HEADER_LEN + table.len()) as u64;
        for (c, &offset) in columns.iter().zip(&offsets) {
            out.write_all(&[0u8; ALIGN as usize][..(offset - at) as usize])?;
            out.write_all(c.bytes)?;
            at = offset + c.bytes.len() as u64;
        }
        out.flush()
    })();
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn header_crc(header_fields: &[u8], table: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(header_fields);
    h.update(table);
    h.finalize()
}

/// Rewrites what [`ColumnFile::open`] checks before the contents (identity, length, every
/// in-bounds column's checksum, the header's checksum) so that `bytes` pass those checks
/// whatever they hold: the fuzzer's mutations then reach the store's own checks instead of
/// dying at a checksum. Bytes too short for a header are left alone.
pub fn reseal(bytes: &mut [u8], id: Identity) {
    if bytes.len() < HEADER_LEN {
        return;
    }
    bytes[8..12].copy_from_slice(&LAYOUT_VERSION.to_le_bytes());
    bytes[12..16].copy_from_slice(&id.schema.to_le_bytes());
    bytes[16..24].copy_from_slice(&id.key.to_le_bytes());
    let len = bytes.len() as u64;
    bytes[24..32].copy_from_slice(&len.to_le_bytes());
    let count = le_u32(bytes, 32) as usize;
    let Some(table_end) = count
        .checked_mul(ENTRY_LEN)
        .and_then(|t| t.checked_add(HEADER_LEN))
        .filter(|&end| end <= bytes.len())
    else {
        return;
    };
    for i in 0..count {
        let e = HEADER_LEN + i * ENTRY_LEN;
        let (offset, clen) = (le_u64(bytes, e + NAME_LEN), le_u64(bytes, e + NAME_LEN + 8));
        if let Some(end) = offset.checked_add(clen).filter(|&end| end <= len) {
            let crc = crc32fast::hash(&bytes[offset as usize..end as usize]);
            bytes[e + NAME_LEN + 20..e + NAME_LEN + 24].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let crc = header_crc(&bytes[..36], &bytes[HEADER_LEN..table_end]);
    bytes[36..40].copy_from_slice(&crc.to_le_bytes());
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[derive(Debug)]
struct Entry {
    name: String,
    offset: u64,
    len: usize,
    elem_size: usize,
    crc: u32,
    /// The column's bytes in the file were found to match `crc` (they cannot change).
    checked: AtomicBool,
}

impl Entry {
    /// Where the column's bytes lie in the file (checked against its length on opening).
    fn range(&self) -> std::ops::Range<usize> {
        self.offset as usize..self.offset as usize + self.len
    }
}

/// A column file whose header and column table passed their checks; each column's data is
/// checked against its checksum as it is read or viewed.
pub struct ColumnFile {
    path: PathBuf,
    /// The file's bytes: mapped, or the bytes given to [`Self::from_bytes`].
    data: SharedBytes,
    /// The file, when mapped: [`Self::column`] reads through it, so that copying a column
    /// out does not also leave its pages mapped in the process.
    file: Option<File>,
    columns: Vec<Entry>,
}

impl std::fmt::Debug for ColumnFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnFile")
            .field("path", &self.path)
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

/// A cache file mapped read-only.
struct MappedFile(memmap2::Mmap);

// SAFETY: the mapping's address and length are fixed while it lives. Its contents stay as
// they are because kctx never writes a cache file in place: files are written under a
// temporary name and renamed, and removed ones stay mapped until unmapped. Another program
// rewriting a file in the cache directory in place is outside what the cache supports.
#[allow(unsafe_code)]
unsafe impl StableBytes for MappedFile {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl ColumnFile {
    /// Opens `path` and checks its header and column table: magic, versions, `id`, length,
    /// every column inside the file, the header's checksum.
    pub fn open(path: &Path, id: Identity) -> Result<ColumnFile, ColumnFileError> {
        let file = File::open(path).map_err(|e| error(path, e.to_string()))?;
        let len = file
            .metadata()
            .map_err(|e| error(path, e.to_string()))?
            .len();
        if len < HEADER_LEN as u64 {
            return Err(error(path, "not a kctx column file"));
        }
        // SAFETY: see `MappedFile`: nothing writes the file while it is mapped.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| error(path, e.to_string()))?;
        ColumnFile::checked(path, Arc::new(MappedFile(map)), Some(file), id)
    }

    /// Checks `bytes` as [`Self::open`] checks a file; `name` names them in errors.
    pub fn from_bytes(name: &Path, bytes: Vec<u8>, id: Identity) -> Result<Self, ColumnFileError> {
        ColumnFile::checked(name, Arc::new(bytes), None, id)
    }

    fn checked(
        path: &Path,
        data: SharedBytes,
        file: Option<File>,
        id: Identity,
    ) -> Result<Self, ColumnFileError> {
        let columns = read_table(data.bytes(), id).map_err(|what| error(path, what))?;
        Ok(ColumnFile {
            path: path.to_owned(),
            data,
            file,
            columns,
        })
    }

    /// The name errors give the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The columns' names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// How many values the column `name` holds, from the checked column table (its data
    /// not read).
    pub fn count(&self, name: &str) -> Option<usize> {
        let c = self.columns.iter().find(|c| c.name == name)?;
        Some(c.len / c.elem_size)
    }

    /// The column `name` as values of `T` of its own, read and checked against its checksum.
    pub fn column<T: Pod>(&self, name: &str) -> Result<Vec<T>, ColumnFileError> {
        let c = self.entry::<T>(name)?;
        // The table's lengths were checked against the file's: this is no bigger than it.
        let mut values = vec![T::zeroed(); c.len / c.elem_size];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut values);
        match &self.file {
            Some(file) => std::os::unix::fs::FileExt::read_exact_at(file, bytes, c.offset)
                .map_err(|e| error(&self.path, format!("column {name:?}: {e}")))?,
            None => bytes.copy_from_slice(&self.data.bytes()[c.range()]),
        }
        self.check_crc(c, bytes)?;
        Ok(values)
    }

    /// The column `name` as values of `T` used where the file holds them (mapped), after
    /// checking them against its checksum.
    pub fn shared<T: Pod>(
        &self,
        name: &str,
    ) -> Result<trace_model::column::Column<T>, ColumnFileError> {
        let c = self.entry::<T>(name)?;
        self.check_crc(c, &self.data.bytes()[c.range()])?;
        // The range was checked against the file and is whole values of `T`.
        trace_model::column::Column::shared(Arc::clone(&self.data), c.range())
            .ok_or_else(|| error(&self.path, format!("column {name:?} is out of bounds")))
    }

    /// The table entry of column `name`, which must hold values of `T`.
    fn entry<T: Pod>(&self, name: &str) -> Result<&Entry, ColumnFileError> {
        let c = self
            .columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| error(&self.path, format!("no column {name:?}")))?;
        if c.elem_size != size_of::<T>() {
            return Err(error(
                &self.path,
                format!(
                    "column {name:?} holds {}-byte values, not {}",
                    c.elem_size,
                    size_of::<T>()
                ),
            ));
        }
        Ok(c)
    }

    /// Checks every column against its checksum, on the machine's cores: a store's columns
    /// are hundreds of megabytes, and reading them checks them one after another.
    pub fn check_all(&self) -> Result<(), ColumnFileError> {
        let bytes = self.data.bytes();
        let results = trace_model::parallel::map(self.columns.len(), |i| {
            let c = &self.columns[i];
            self.check_crc(c, &bytes[c.range()])
        });
        results.into_iter().collect()
    }

    fn check_crc(&self, c: &Entry, bytes: &[u8]) -> Result<(), ColumnFileError> {
        if c.checked.load(Ordering::Relaxed) {
            return Ok(());
        }
        if crc32fast::hash(bytes) != c.crc {
            return Err(error(
                &self.path,
                format!(
                    "column {:?} (bytes {}..{}) fails its checksum: damaged",
                    c.name,
                    c.offset,
                    c.offset + c.len as u64
                ),
            ));
        }
        c.checked.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// Reads and checks the header and the column table.
fn read_table(data: &[u8], id: Identity) -> Result<Vec<Entry>, String> {
    let file_len = data.len() as u64;
    let Some(b) = data.get(..HEADER_LEN) else {
        return Err("not a kctx column file".into());
    };
    if &b[..8] != MAGIC {
        return Err("not a kctx column file".into());
    }
    let layout = le_u32(b, 8);
    if layout != LAYOUT_VERSION {
        return Err(format!(
            "layout version {layout}, this kctx reads {LAYOUT_VERSION}"
        ));
    }
    let schema = le_u32(b, 12);
    if schema != id.schema {
        return Err(format!(
            "schema version {schema}, this kctx writes {}",
            id.schema
        ));
    }
    if le_u64(b, 16) != id.key {
        return Err("written for another trace".into());
    }
    let stated_len = le_u64(b, 24);
    if stated_len != file_len {
        return Err(format!(
            "{file_len} bytes long, its header says {stated_len}: truncated or appended to"
        ));
    }
    let count = le_u32(b, 32) as usize;
    let table_len = count
        .checked_mul(ENTRY_LEN)
        .filter(|&t| (HEADER_LEN + t) as u64 <= file_len)
        .ok_or_else(|| format!("at byte 32: {count} columns do not fit in the file"))?;
    let table = &data[HEADER_LEN..HEADER_LEN + table_len];
    if header_crc(&b[..36], table) != le_u32(b, 36) {
        return Err("header checksum mismatch: the header or column table is damaged".into());
    }
    let mut columns = Vec::with_capacity(count);
    for (i, e) in table.chunks_exact(ENTRY_LEN).enumerate() {
        let at = HEADER_LEN + i * ENTRY_LEN;
        let name_len = e[..NAME_LEN]
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(NAME_LEN);
        let name = String::from_utf8_lossy(&e[..name_len]).into_owned();
        let (offset, len) = (le_u64(e, NAME_LEN), le_u64(e, NAME_LEN + 8));
        let elem_size = le_u32(e, NAME_LEN + 16) as usize;
        let end = offset.checked_add(len).filter(|&end| end <= file_len);
        if end.is_none() || offset % ALIGN != 0 || elem_size == 0 || len % elem_size as u64 != 0 {
            return Err(format!("at byte {at}: column {name:?} is out of bounds"));
        }
        let len = usize::try_from(len).map_err(|_| format!("column {name:?} too big"))?;
        columns.push(Entry {
            name,
            offset,
            len,
            elem_size,
            crc: le_u32(e, NAME_LEN + 20),
            checked: AtomicBool::new(false),
        });
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Identity = Identity {
        schema: 7,
        key: 0x1234_5678_9abc_def0,
    };

    fn sample(dir: &Path) -> PathBuf {
        let path = dir.join("sample.cols");
        let ts: Vec<u64> = (0..1000).map(|i| i * 1_000 + 7).collect();
        let cpu: Vec<u16> = (0..1000).map(|i| (i % 4) as u16).collect();
        let empty: Vec<u32> = Vec::new();
        write(
            &path,
            ID,
            &[
                Column::of("ts", &ts),
                Column::of("cpu", &cpu),
                Column::of("none", &empty),
            ],
        )
        .unwrap();
        path
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kctx-colfile-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn columns_read_back_as_written() {
        let dir = temp_dir("roundtrip");
        let f = ColumnFile::open(&sample(&dir), ID).unwrap();
        let ts: Vec<u64> = f.column("ts").unwrap();
        assert_eq!(ts.len(), 1000);
        assert_eq!(ts[999], 999_007);
        let cpu: Vec<u16> = f.column("cpu").unwrap();
        assert_eq!(&cpu[..5], &[0, 1, 2, 3, 0]);
        assert!(f.column::<u32>("none").unwrap().is_empty());
        assert!(
            f.column::<u32>("ts")
                .unwrap_err()
                .to_string()
                .contains("8-byte values")
        );
        assert!(f.column::<u8>("missing").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_truncation_and_every_flipped_byte_is_refused() {
        let dir = temp_dir("damage");
        let path = sample(&dir);
        let good = std::fs::read(&path).unwrap();
        let damaged = dir.join("damaged.cols");
        // Opened and every column read, as a store is.
        let read_all = |path: &Path| -> Result<(), ColumnFileError> {
            let f = ColumnFile::open(path, ID)?;
            f.column::<u64>("ts")?;
            f.column::<u16>("cpu")?;
            f.column::<u32>("none")?;
            Ok(())
        };
        for cut in (0..good.len()).step_by(97).chain([good.len() - 1]) {
            std::fs::write(&damaged, &good[..cut]).unwrap();
            assert!(
                ColumnFile::open(&damaged, ID).is_err(),
                "cut at {cut} accepted"
            );
        }
        // Every byte of the header and table, and a sample of the data (padding between
        // columns carries no meaning and is not checked).
        let data_start = HEADER_LEN + 3 * ENTRY_LEN;
        let ts_bytes = data_start.next_multiple_of(64)..data_start.next_multiple_of(64) + 8000;
        for at in (0..data_start).chain(ts_bytes.step_by(13)) {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            std::fs::write(&damaged, &bad).unwrap();
            assert!(read_all(&damaged).is_err(), "flip at {at} accepted");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn another_version_or_key_is_refused() {
        let dir = temp_dir("identity");
        let path = sample(&dir);
        let other_schema = Identity { schema: 8, ..ID };
        let e = ColumnFile::open(&path, other_schema)
            .unwrap_err()
            .to_string();
        assert!(e.contains("schema version 7"), "{e}");
        let other_key = Identity { key: 1, ..ID };
        assert!(ColumnFile::open(&path, other_key).is_err());
        let mut old = std::fs::read(&path).unwrap();
        old[8] = 0;
        std::fs::write(&path, &old).unwrap();
        let e = ColumnFile::open(&path, ID).unwrap_err().to_string();
        assert!(e.contains("layout version 0"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = temp_dir("unwritable");
        let path = dir.join("no/such/dir/x.cols");
        assert!(write(&path, ID, &[Column::of("ts", &[1u64])]).is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
