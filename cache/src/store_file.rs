//! An imported trace's [`EventStore`] as one column file: every store array a column, the
//! metadata and import report a JSON column beside them.

use crate::column_file::{Column, ColumnFile, ColumnFileError, Identity};
use std::path::Path;
use trace_model::meta::TraceMeta;
use trace_model::store::StoreColumns;
use trace_model::{EventStore, ImportReport};

/// What the store's columns mean: bumped whenever `EventStore`'s arrays, the payload
/// encoding or the metadata change, so an older cache is rebuilt instead of misread.
pub const STORE_SCHEMA: u32 = 3;

/// Writes `store` to `path`, for the trace identified by `key`.
pub fn save(store: &EventStore, path: &Path, key: u64) -> std::io::Result<()> {
    let symbols = store.symbol_columns();
    let c = store.columns(&symbols);
    let meta = serde_json::to_vec(&(c.meta, c.report)).map_err(std::io::Error::other)?;
    let columns = [
        Column::of("ts", &c.ts),
        Column::of("cpu", &c.cpu),
        Column::of("event_type", &c.event_type),
        Column::of("pid", &c.pid),
        Column::of("comm_pids", &c.comm_pids),
        Column::of("comm_from", &c.comm_from),
        Column::of("comm_ids", &c.comm_ids),
        Column::of("flag_codes", &c.flag_codes),
        Column::of("flag_table", &c.flag_table),
        Column::of("payload", &c.payload),
        Column::of("by_cpu", &c.by_cpu),
        Column::of("cpu_starts", &c.cpu_starts),
        Column::of("cpu_ids", &c.cpu_ids),
        Column::of("event_names", &c.event_names),
        Column::of("string_text", &c.string_text),
        Column::of("string_bounds", &c.string_bounds),
        Column::of("payload_words", &c.payload_words),
        Column::of("payload_text", &c.payload_text),
        Column::of("symbol_addrs", &c.symbol_addrs),
        Column::of("symbol_names", &c.symbol_names),
        Column::of("symbol_kinds", &c.symbol_kinds),
        Column::of("symbol_modules", &c.symbol_modules),
        Column::of("meta", &meta),
    ];
    crate::column_file::write(path, identity(key), &columns)
}

/// What a store file for the trace `key` must say it is.
pub fn identity(key: u64) -> Identity {
    Identity {
        schema: STORE_SCHEMA,
        key,
    }
}

/// The store cached at `path` for the trace `key`, after checking the file whole (see
/// [`ColumnFile::open`]) and the arrays together (`EventStore::from_columns`).
pub fn load(path: &Path, key: u64) -> Result<EventStore, ColumnFileError> {
    read(&ColumnFile::open(path, identity(key))?)
}

/// What a store file says of its store without reading its events: how many there are, the
/// trace's metadata and import report (what `kctx check` prints from the cached findings).
pub struct StoreSummary {
    pub events: usize,
    pub meta: TraceMeta,
    pub report: ImportReport,
}

/// The summary of the store cached at `path` for the trace `key`: its header and metadata
/// checked, its event columns not read.
pub fn summary(path: &Path, key: u64) -> Result<StoreSummary, ColumnFileError> {
    let f = ColumnFile::open(path, identity(key))?;
    let (meta, report) = read_meta(&f)?;
    let events = f.count("ts").ok_or_else(|| ColumnFileError {
        path: f.path().to_owned(),
        what: "no column \"ts\"".into(),
    })?;
    Ok(StoreSummary {
        events,
        meta,
        report,
    })
}

fn read_meta(f: &ColumnFile) -> Result<(TraceMeta, ImportReport), ColumnFileError> {
    serde_json::from_slice(&f.column::<u8>("meta")?).map_err(|e| ColumnFileError {
        path: f.path().to_owned(),
        what: format!("metadata: {e}"),
    })
}

/// The store in a column file opened and checked already. Its event columns and payload
/// words stay where the file holds them (see [`ColumnFile::shared`]); the rest is read.
pub fn read(f: &ColumnFile) -> Result<EventStore, ColumnFileError> {
    let wrong = |what: String| ColumnFileError {
        path: f.path().to_owned(),
        what,
    };
    f.check_all()?;
    let (meta, report) = read_meta(f)?;
    let c = StoreColumns {
        ts: f.shared("ts")?.into(),
        cpu: f.shared("cpu")?.into(),
        event_type: f.shared("event_type")?.into(),
        pid: f.shared("pid")?.into(),
        comm_pids: f.column("comm_pids")?.into(),
        comm_from: f.column("comm_from")?.into(),
        comm_ids: f.column("comm_ids")?.into(),
        flag_codes: f.shared("flag_codes")?.into(),
        flag_table: f.column("flag_table")?.into(),
        payload: f.shared("payload")?.into(),
        by_cpu: f.shared("by_cpu")?.into(),
        cpu_starts: f.column("cpu_starts")?.into(),
        cpu_ids: f.column("cpu_ids")?.into(),
        event_names: f.column("event_names")?.into(),
        string_text: f.column("string_text")?.into(),
        string_bounds: f.column("string_bounds")?.into(),
        payload_words: f.shared("payload_words")?.into(),
        payload_text: f.column("payload_text")?.into(),
        symbol_addrs: f.column("symbol_addrs")?.into(),
        symbol_names: f.column("symbol_names")?.into(),
        symbol_kinds: f.column("symbol_kinds")?.into(),
        symbol_modules: f.column("symbol_modules")?.into(),
        meta: &meta,
        report: &report,
    };
    EventStore::from_columns(c).map_err(wrong)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_same(a: &EventStore, b: &EventStore) {
        let (sa, sb) = (a.symbol_columns(), b.symbol_columns());
        let (ca, cb) = (a.columns(&sa), b.columns(&sb));
        assert_eq!(&*ca.ts, &*cb.ts);
        assert_eq!(&*ca.cpu, &*cb.cpu);
        assert_eq!(&*ca.event_type, &*cb.event_type);
        assert_eq!(&*ca.pid, &*cb.pid);
        assert_eq!(ca.comm_ids, cb.comm_ids);
        assert_eq!(ca.comm_from, cb.comm_from);
        assert_eq!(&*ca.flag_codes, &*cb.flag_codes);
        assert_eq!(ca.flag_table, cb.flag_table);
        assert_eq!(&*ca.payload, &*cb.payload);
        assert_eq!(&*ca.by_cpu, &*cb.by_cpu);
        assert_eq!(ca.cpu_starts, cb.cpu_starts);
        assert_eq!(ca.string_bounds, cb.string_bounds);
        assert_eq!(&*ca.payload_words, &*cb.payload_words);
        assert_eq!(ca.symbol_addrs, cb.symbol_addrs);
        let json = |s: &EventStore| serde_json::to_string(&(&s.meta, &s.report)).unwrap();
        assert_eq!(json(a), json(b));
        // Every event reads back the same, strings and payloads resolved; interned strings
        // are found again by their text.
        for i in 0..a.len() as u32 {
            assert_eq!(format!("{:?}", a.event(i)), format!("{:?}", b.event(i)));
        }
        for (id, name) in a.event_type_names() {
            assert_eq!(b.event_type_id(name), Some(id));
        }
    }

    #[test]
    fn a_real_trace_reads_back_event_for_event() {
        let store = importers::open(&crate::sample_trace()).expect("the sample imports");
        assert!(store.len() > 10_000);
        let dir = std::env::temp_dir().join(format!("kctx-store-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("s1.store");
        save(&store, &file, 42).unwrap();
        let read = load(&file, 42).unwrap();
        assert_same(&store, &read);
        // The event columns (21 bytes an event) and the payload words are the file's pages,
        // not copies.
        let words = store.columns(&store.symbol_columns()).payload_words.len();
        assert_eq!(store.shared_bytes(), 0);
        assert_eq!(read.shared_bytes(), store.len() * (21 + 4) + words * 4);
        // Another trace's key, or a byte flipped in the events: refused.
        assert!(load(&file, 43).is_err());
        let mut bytes = std::fs::read(&file).unwrap();
        let at = bytes.len() / 3;
        bytes[at] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        assert!(load(&file, 42).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
