//! One trace's store: read back from the cache when the cache has it, else imported (and
//! written to the cache, beside the caller's next work, when it is worth keeping).

use crate::TraceSource;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    /// What was built from the store (`what`: the context model, the findings) was read
    /// back from the cache.
    DerivedHit(&'static str),
    /// What was built from the store was written beside it: bytes written.
    DerivedWritten(&'static str, u64),
    /// What was kept of it failed its checks: removed, and built again (why).
    DerivedRejected(&'static str, String),
}

impl CacheEvent {
    /// Whether the user should hear of it even when all went well otherwise.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            CacheEvent::Rejected(_) | CacheEvent::NotWritten(_) | CacheEvent::DerivedRejected(..)
        )
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
            CacheEvent::DerivedHit(what) => write!(f, "{what} read from the cache"),
            CacheEvent::DerivedWritten(what, bytes) => {
                write!(f, "{what} cached ({:.1} MB)", *bytes as f64 / 1e6)
            }
            CacheEvent::DerivedRejected(what, why) => {
                write!(f, "cached {what} not used ({why}): built again")
            }
        }
    }
}

/// A trace's store, and the cache entry still to write for it.
pub struct ImportedTrace {
    /// Shared: a window shows it while its context model is built.
    pub store: Arc<EventStore>,
    /// What the cache did so far.
    pub cache: Vec<CacheEvent>,
    /// The trace's cache key, when the cache holds its store or is to.
    pub key: Option<u64>,
    /// The store is to be written to the cache under `key`.
    pub to_cache: bool,
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
            Ok(Lookup::Hit { store, key }) => {
                return Ok(ImportedTrace {
                    store: Arc::new(*store),
                    cache: vec![CacheEvent::Hit],
                    key: Some(key),
                    to_cache: false,
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
        store: Arc::new(store),
        cache: events,
        key: to_cache,
        to_cache: to_cache.is_some(),
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
        let (Some(cache), Some(key), true) = (cache, self.key, self.to_cache) else {
            return work(&self.store);
        };
        self.to_cache = false;
        let store = &self.store;
        let (result, written) = std::thread::scope(|s| {
            let writer = s.spawn(|| cache.keep(store, key));
            let result = work(store);
            (result, writer.join())
        });
        let written =
            written.unwrap_or_else(|_| Err(std::io::Error::other("the cache writer failed")));
        self.store_written(cache, written);
        result
    }

    /// What the cache did when writing the store: `written` is the writer's outcome.
    pub(crate) fn store_written(
        &mut self,
        cache: &TraceCache,
        written: std::io::Result<Option<u64>>,
    ) {
        self.cache.push(match written {
            Ok(Some(bytes)) => CacheEvent::Written(bytes),
            Ok(None) => CacheEvent::NotWritten(format!(
                "larger than the cache's cap of {} MB (KCTX_CACHE_MAX_MB)",
                cache.max_bytes >> 20
            )),
            Err(e) => CacheEvent::NotWritten(format!("{}: {e}", cache.dir.display())),
        });
    }
}
