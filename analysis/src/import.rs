//! One trace's store: read back from the cache when the cache has it, else imported (and
//! written to the cache, beside the caller's next work, when it is worth keeping).

use crate::TraceSource;
use std::fmt;
use std::path::{Path, PathBuf};
use trace_cache::{Lookup, TraceCache};
use trace_model::EventStore;

/// What the cache did for one trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheEvent {
    /// The store was read back from the cache.
    Hit,
    /// Imported and written to the cache: bytes written.
    Written(u64),
    /// An entry that failed its checks (truncated, damaged, another version): removed, and
    /// the trace imported again.
    Rejected(String),
    /// Imported, but not written: why.
    NotWritten(String),
}

impl CacheEvent {
    /// Whether the user should hear of it even when all went well otherwise.
    pub fn is_problem(&self) -> bool {
        matches!(self, CacheEvent::Rejected(_) | CacheEvent::NotWritten(_))
    }
}

impl fmt::Display for CacheEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheEvent::Hit => write!(f, "read from the cache"),
            CacheEvent::Written(bytes) => {
                write!(f, "cached ({:.1} MB)", *bytes as f64 / 1e6)
            }
            CacheEvent::Rejected(why) => {
                write!(f, "cache entry not used ({why}): imported again")
            }
            CacheEvent::NotWritten(why) => write!(f, "not cached: {why}"),
        }
    }
}

/// A trace's store, and the cache entry still to write for it.
pub struct ImportedTrace {
    pub store: EventStore,
    /// What the cache did so far.
    pub cache: Vec<CacheEvent>,
    to_cache: Option<u64>,
}

/// Reads one trace: from `cache` when it holds the file's current contents, else by import.
/// The error names the trace.
pub fn import_trace(
    name: &str,
    source: TraceSource,
    cache: Option<&TraceCache>,
) -> Result<ImportedTrace, String> {
    let file = match &source {
        TraceSource::Path(path) => Some(path.clone()),
        TraceSource::Read { file, .. } => file.clone(),
        TraceSource::Store(_) => None,
    };
    let mut events = Vec::new();
    let mut to_cache = None;
    if let (Some(cache), Some(file)) = (cache, &file) {
        match cache.lookup(file) {
            Ok(Lookup::Hit(store)) => {
                return Ok(ImportedTrace {
                    store: *store,
                    cache: vec![CacheEvent::Hit],
                    to_cache: None,
                });
            }
            Ok(Lookup::Miss { key }) => to_cache = Some(key),
            Ok(Lookup::Rejected { key, why }) => {
                events.push(CacheEvent::Rejected(why.what));
                to_cache = Some(key);
            }
            // Unreadable: the importer says so, naming the file.
            Err(_) => {}
        }
    }
    let store = import(name, source, file.as_deref())?;
    if cache.is_some_and(|c| !c.wants(&store)) {
        to_cache = None;
    }
    Ok(ImportedTrace {
        store,
        cache: events,
        to_cache,
    })
}

fn import(name: &str, source: TraceSource, file: Option<&Path>) -> Result<EventStore, String> {
    match source {
        TraceSource::Path(path) => importers::open(&path),
        TraceSource::Read { source, .. } => {
            let shown = file.map_or_else(|| PathBuf::from(name), Path::to_owned);
            importers::import(&source).map_err(|e| e.with_path(&shown))
        }
        TraceSource::Store(store) => Ok(*store),
    }
    .map_err(|e| e.to_string())
}

impl ImportedTrace {
    /// Runs `work` on the store while, on another thread, the store is written to `cache` if
    /// it is to be kept: a big store's write then costs no wall time on a machine with a
    /// second core.
    pub fn while_caching<R>(
        &mut self,
        cache: Option<&TraceCache>,
        work: impl FnOnce(&EventStore) -> R,
    ) -> R {
        let (Some(cache), Some(key)) = (cache, self.to_cache.take()) else {
            return work(&self.store);
        };
        let store = &self.store;
        let (result, written) = std::thread::scope(|s| {
            let writer = s.spawn(|| cache.keep(store, key));
            let result = work(store);
            (result, writer.join())
        });
        self.cache.push(match written {
            Ok(Ok(Some(bytes))) => CacheEvent::Written(bytes),
            Ok(Ok(None)) => CacheEvent::NotWritten(format!(
                "larger than the cache's cap of {} MB (KCTX_CACHE_MAX_MB)",
                cache.max_bytes >> 20
            )),
            Ok(Err(e)) => CacheEvent::NotWritten(format!("{}: {e}", cache.dir.display())),
            Err(_) => CacheEvent::NotWritten("the cache writer failed".to_owned()),
        });
        result
    }
}
