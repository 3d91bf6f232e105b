//! The cache directory: where imported stores are kept, when one is written, how big the
//! directory may grow and which entries go first when it is full.
//!
//! Policy:
//! - the directory is `$KCTX_CACHE_DIR`, else `$XDG_CACHE_HOME/kctx`, else `~/.cache/kctx`;
//! - a store is cached only when it has at least `min_events` events (default 1,000,000,
//!   `$KCTX_CACHE_MIN_EVENTS`): smaller traces import in well under a second, faster than
//!   the disk round trip is worth;
//! - the directory is kept under `max_bytes` (default 8 GiB, `$KCTX_CACHE_MAX_MB`) by removing
//!   the least recently used entries after each write; a store bigger than the cap is not
//!   written at all;
//! - an entry that cannot be used (truncated, damaged, written by another version, another
//!   file's) is removed and rebuilt, and the caller is told why;
//! - an entry is the store file and, beside it under the same key, the context model and the
//!   findings built from it (each its own file and schema, written after the store); they
//!   are used, counted, evicted and removed together, and never without their store.

use crate::column_file::ColumnFileError;
use crate::findings_file::{self, CachedFindings};
use crate::identity::trace_key;
use crate::model_file;
use crate::store_file::{self, StoreSummary};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use trace_model::context::{ContextModel, Coverage};
use trace_model::{EventStore, Finding};

const STORE_EXTENSION: &str = "store";
const MODEL_EXTENSION: &str = "model";
const FINDINGS_EXTENSION: &str = "findings";
/// Every file of an entry, the store first.
const EXTENSIONS: [&str; 3] = [STORE_EXTENSION, MODEL_EXTENSION, FINDINGS_EXTENSION];
const DEFAULT_MIN_EVENTS: usize = 1_000_000;
const DEFAULT_MAX_MB: u64 = 8 << 10;

/// A cache directory and its policy.
#[derive(Clone, Debug)]
pub struct TraceCache {
    pub dir: PathBuf,
    /// Stores with fewer events are not written.
    pub min_events: usize,
    /// The directory's size cap.
    pub max_bytes: u64,
}

/// What the cache had for a trace file.
pub enum Lookup {
    /// The store, read back and checked, and the trace's key.
    Hit { store: Box<EventStore>, key: u64 },
    /// Nothing yet: import, then [`TraceCache::keep`] under `key`.
    Miss { key: u64 },
    /// An entry that could not be used: removed; import and keep again.
    Rejected { key: u64, why: ColumnFileError },
}

/// What an entry held of something built from its store (the model, the findings).
pub enum Derived<T> {
    /// Read back and checked against the store.
    Hit(T),
    /// Not written yet.
    Miss,
    /// A file that could not be used: removed; build it again and keep it.
    Rejected(ColumnFileError),
}

/// The findings of a cached trace and what `kctx check` reports of its store, read without
/// the store's events.
pub struct CheckEntry {
    pub store: StoreSummary,
    pub findings: CachedFindings,
}

/// One cached trace, for `kctx cache list`.
#[derive(Debug)]
pub struct Entry {
    /// The store file; the model and findings, if any, sit beside it.
    pub path: PathBuf,
    /// All of the entry's files.
    pub bytes: u64,
    pub last_used: SystemTime,
}

impl TraceCache {
    /// The user's cache directory with the default policy, adjusted by the environment; `None`
    /// when no directory can be named (no `$HOME`).
    pub fn from_env() -> Option<TraceCache> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        let dir = var("KCTX_CACHE_DIR").map(PathBuf::from).or_else(|| {
            var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .map(|base| base.join("kctx"))
        })?;
        let number = |name| var(name)?.to_str()?.parse::<u64>().ok();
        Some(TraceCache {
            dir,
            min_events: number("KCTX_CACHE_MIN_EVENTS").map_or(DEFAULT_MIN_EVENTS, |n| n as usize),
            max_bytes: number("KCTX_CACHE_MAX_MB").unwrap_or(DEFAULT_MAX_MB) << 20,
        })
    }

    fn entry_path(&self, key: u64) -> PathBuf {
        self.file(key, STORE_EXTENSION)
    }

    fn file(&self, key: u64, extension: &str) -> PathBuf {
        self.dir.join(format!("{key:016x}.{extension}"))
    }

    /// Removes every file of the entry `store` (a store file's path) names.
    fn remove_entry(store: &Path) {
        for extension in EXTENSIONS {
            let _ = std::fs::remove_file(store.with_extension(extension));
        }
    }

    /// Looks `trace` up. An unreadable trace file is the importer's to report: the error is
    /// returned as it is.
    pub fn lookup(&self, trace: &Path) -> std::io::Result<Lookup> {
        let key = trace_key(trace)?;
        let path = self.entry_path(key);
        if !path.exists() {
            return Ok(Lookup::Miss { key });
        }
        Ok(match store_file::load(&path, key) {
            Ok(store) => {
                mark_used(&path);
                Lookup::Hit {
                    store: Box::new(store),
                    key,
                }
            }
            Err(why) => {
                Self::remove_entry(&path);
                Lookup::Rejected { key, why }
            }
        })
    }

    /// The context model kept for the trace `key`, checked against its `store`.
    pub fn model(&self, key: u64, store: &EventStore) -> Derived<ContextModel> {
        self.derived(self.file(key, MODEL_EXTENSION), |path| {
            model_file::load(path, key, store)
        })
    }

    /// The findings and coverage kept for the trace `key`, checked against a store of
    /// `events` events.
    pub fn findings(&self, key: u64, events: usize) -> Derived<CachedFindings> {
        self.derived(self.file(key, FINDINGS_EXTENSION), |path| {
            findings_file::load(path, key, events)
        })
    }

    fn derived<T>(
        &self,
        path: PathBuf,
        load: impl FnOnce(&Path) -> Result<T, ColumnFileError>,
    ) -> Derived<T> {
        if !path.exists() {
            return Derived::Miss;
        }
        match load(&path) {
            Ok(value) => Derived::Hit(value),
            Err(why) => {
                let _ = std::fs::remove_file(&path);
                Derived::Rejected(why)
            }
        }
    }

    /// What `kctx check` needs of a cached trace without reading its events: the store's
    /// summary and the findings. `Ok(None)` when the entry lacks either (the caller then
    /// reads the store and runs the detectors); a findings file that fails its checks is
    /// removed and reported.
    pub fn check_entry(&self, trace: &Path) -> std::io::Result<Derived<CheckEntry>> {
        let key = trace_key(trace)?;
        let path = self.entry_path(key);
        if !path.exists() || !self.file(key, FINDINGS_EXTENSION).exists() {
            return Ok(Derived::Miss);
        }
        // A store that fails even its header is the full lookup's to reject and report.
        let Ok(store) = store_file::summary(&path, key) else {
            return Ok(Derived::Miss);
        };
        Ok(match self.findings(key, store.events) {
            Derived::Hit(findings) => {
                mark_used(&path);
                Derived::Hit(CheckEntry { store, findings })
            }
            Derived::Miss => Derived::Miss,
            Derived::Rejected(why) => Derived::Rejected(why),
        })
    }

    /// Writes `model`, built from `store`, beside the trace `key`'s store, and trims the
    /// directory to its cap. Returns the bytes written; nothing when the store is not cached
    /// (a model is never kept without its store).
    pub fn keep_model(
        &self,
        model: &ContextModel,
        store: &EventStore,
        key: u64,
    ) -> std::io::Result<Option<u64>> {
        self.keep_beside(key, MODEL_EXTENSION, |path| {
            model_file::save(model, store, path, key)
        })
    }

    /// Writes the findings and coverage of a store of `events` events beside the trace
    /// `key`'s store, as [`Self::keep_model`] does.
    pub fn keep_findings(
        &self,
        findings: &[Finding],
        coverage: &Coverage,
        events: usize,
        key: u64,
    ) -> std::io::Result<Option<u64>> {
        self.keep_beside(key, FINDINGS_EXTENSION, |path| {
            findings_file::save(findings, coverage, events, path, key)
        })
    }

    fn keep_beside(
        &self,
        key: u64,
        extension: &str,
        save: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> std::io::Result<Option<u64>> {
        let store = self.entry_path(key);
        if !store.exists() {
            return Ok(None);
        }
        let path = self.file(key, extension);
        save(&path)?;
        let bytes = std::fs::metadata(&path)?.len();
        self.trim(&store)?;
        Ok(Some(bytes))
    }

    /// Whether `store` is big enough to be worth caching.
    pub fn wants(&self, store: &EventStore) -> bool {
        store.len() >= self.min_events
    }

    /// Writes `store` under `key` and trims the directory to its cap. Returns the bytes
    /// written, or `None` when the store alone would exceed the cap.
    pub fn keep(&self, store: &EventStore, key: u64) -> std::io::Result<Option<u64>> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.entry_path(key);
        // What an older store left beside it belongs to that store.
        Self::remove_entry(&path);
        store_file::save(store, &path, key)?;
        let bytes = std::fs::metadata(&path)?.len();
        if bytes > self.max_bytes {
            std::fs::remove_file(&path)?;
            return Ok(None);
        }
        self.trim(&path)?;
        Ok(Some(bytes))
    }

    /// Removes the least recently used entries, never `keep`, until the directory fits.
    fn trim(&self, keep: &Path) -> std::io::Result<()> {
        // Oldest use first, as `entries` lists them.
        let entries = self.entries()?;
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        for e in entries {
            if total <= self.max_bytes {
                break;
            }
            if e.path != keep {
                Self::remove_entry(&e.path);
                total -= e.bytes;
            }
        }
        Ok(())
    }

    /// The cached traces, oldest use first (a store's last use is its entry's).
    pub fn entries(&self) -> std::io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for path in self.files()? {
            if path.extension().is_some_and(|e| e == STORE_EXTENSION) {
                let meta = std::fs::metadata(&path)?;
                let beside: u64 = (EXTENSIONS[1..].iter())
                    .filter_map(|e| std::fs::metadata(path.with_extension(e)).ok())
                    .map(|m| m.len())
                    .sum();
                entries.push(Entry {
                    path,
                    bytes: meta.len() + beside,
                    last_used: meta.modified()?,
                });
            }
        }
        entries.sort_by_key(|e| e.last_used);
        Ok(entries)
    }

    /// Removes every cached store (and temporary files a killed writer left); returns how
    /// many files and bytes went.
    pub fn clear(&self) -> std::io::Result<(usize, u64)> {
        let (mut files, mut bytes) = (0, 0);
        for path in self.files()? {
            let ours = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                EXTENSIONS.contains(&e) || e.starts_with(crate::column_file::TEMP_EXTENSION)
            });
            if ours {
                bytes += std::fs::metadata(&path)?.len();
                std::fs::remove_file(&path)?;
                files += 1;
            }
        }
        Ok((files, bytes))
    }

    /// Every file in the directory; none when it does not exist yet.
    fn files(&self) -> std::io::Result<Vec<PathBuf>> {
        match std::fs::read_dir(&self.dir) {
            Ok(listing) => listing.map(|item| Ok(item?.path())).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// Marks the entry whose store is at `path` as used, for the least-recently-used eviction.
fn mark_used(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::synthetic::{SyntheticSpec, generate};

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kctx-cache-dir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn cache_in(dir: &Path, max_bytes: u64) -> TraceCache {
        TraceCache {
            dir: dir.join("cache"),
            min_events: 0,
            max_bytes,
        }
    }

    fn trace_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn store(events: usize) -> EventStore {
        generate(SyntheticSpec {
            events,
            ..SyntheticSpec::default()
        })
    }

    #[test]
    fn a_kept_store_is_found_again_and_a_damaged_entry_is_removed() {
        let dir = scratch("hit");
        let cache = cache_in(&dir, u64::MAX);
        let trace = trace_file(&dir, "a.txt", "trace a");
        let Lookup::Miss { key } = cache.lookup(&trace).unwrap() else {
            panic!("an empty cache has nothing");
        };
        let original = store(5_000);
        assert!(cache.keep(&original, key).unwrap().is_some());
        let Lookup::Hit { store: back, .. } = cache.lookup(&trace).unwrap() else {
            panic!("kept, so found");
        };
        assert_eq!(back.ts(), original.ts());
        assert_eq!(back.pids(), original.pids());

        // A byte flipped in the entry: rejected with a reason, removed, then missing.
        let entry = &cache.entries().unwrap()[0].path;
        let mut bytes = std::fs::read(entry).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x40;
        std::fs::write(entry, bytes).unwrap();
        let Lookup::Rejected { why, .. } = cache.lookup(&trace).unwrap() else {
            panic!("a damaged entry is not served");
        };
        assert!(why.to_string().contains("cache file"), "{why}");
        assert!(matches!(cache.lookup(&trace).unwrap(), Lookup::Miss { .. }));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_directory_keeps_to_its_cap_by_dropping_the_least_recently_used() {
        let dir = scratch("cap");
        let unbounded = cache_in(&dir, u64::MAX);
        let traces: Vec<PathBuf> = (0..3)
            .map(|i| trace_file(&dir, &format!("{i}.txt"), &format!("trace {i}")))
            .collect();
        let key = |t: &Path| trace_key(t).unwrap();
        let one = unbounded
            .keep(&store(5_000), key(&traces[0]))
            .unwrap()
            .unwrap();
        // Room for two entries of this size, not three.
        let cache = cache_in(&dir, one * 2 + one / 2);
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.keep(&store(5_000), key(&traces[1])).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Using the first makes the second the least recently used.
        assert!(matches!(
            cache.lookup(&traces[0]).unwrap(),
            Lookup::Hit { .. }
        ));
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.keep(&store(5_000), key(&traces[2])).unwrap();
        assert_eq!(cache.entries().unwrap().len(), 2);
        assert!(matches!(
            cache.lookup(&traces[1]).unwrap(),
            Lookup::Miss { .. }
        ));
        assert!(matches!(
            cache.lookup(&traces[0]).unwrap(),
            Lookup::Hit { .. }
        ));
        // A store bigger than the whole cap is not written.
        let tiny = cache_in(&dir, one / 2);
        assert_eq!(tiny.keep(&store(5_000), key(&traces[1])).unwrap(), None);
        assert_eq!(cache.clear().unwrap().0, 2);
        assert!(cache.entries().unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
