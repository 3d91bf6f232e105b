//! One trace's context model and findings: read back from the cache beside its store when
//! kept there, else built. What was built is written to the cache on a second thread, after
//! the store it belongs to, while the rest of the work goes on.

use crate::import::{CacheEvent, ImportedTrace};
use crate::pipeline::Stage;
use std::ops::ControlFlow;
use std::sync::mpsc::channel;
use std::sync::{Arc, OnceLock};
use trace_cache::{Derived, TraceCache};
use trace_model::context::{BuildOptions, ContextModel};
use trace_model::{EventStore, Finding};

const MODEL: &str = "context model";
const FINDINGS: &str = "findings";

/// What the writer thread is told is ready to keep.
enum Ready {
    Model,
    Findings,
}

/// The context model of `imported` and, with `detect`, every detector's findings; what the
/// cache did is added to `imported.cache`. `building` is told the store when its model must
/// be built (not read from the cache); its `Break` stops there: none.
pub(crate) fn model_and_findings(
    imported: &mut ImportedTrace,
    cache: Option<&TraceCache>,
    build: &BuildOptions,
    detect: bool,
    progress: &dyn Fn(Stage),
    building: &dyn Fn(&Arc<EventStore>) -> ControlFlow<()>,
) -> Option<(ContextModel, Vec<Finding>)> {
    let store = &imported.store;
    let Some((cache, key)) = cache.zip(imported.key) else {
        building(store).is_continue().then_some(())?;
        progress(Stage::RebuildingContext);
        let model = ContextModel::build(store, build);
        progress(Stage::Checking);
        let findings = detect.then(|| trace_model::detect::run_all(store, &model));
        return Some((model, findings.unwrap_or_default()));
    };
    // A sidecar names what the trace alone does not: such a model is neither read nor kept.
    let derived = build.kallsyms.is_none();
    // Only a store read from the cache can have a model beside it.
    let lookup = derived && !imported.to_cache;
    let to_cache = imported.to_cache;
    let model = OnceLock::new();
    let findings = OnceLock::new();
    let mut told = Vec::new();
    let (tx, rx) = channel();
    let mut cancelled = false;
    let (stored, written) = std::thread::scope(|s| {
        let writer = s.spawn(|| {
            let stored = to_cache.then(|| cache.keep(store, key));
            let store_kept = stored.as_ref().is_none_or(|w| matches!(w, Ok(Some(_))));
            let mut written = Vec::new();
            for ready in rx {
                if store_kept && derived {
                    written.extend(keep(cache, key, store, ready, &model, &findings));
                }
            }
            (stored, written)
        });
        // Dropped at the end of this thread's work (or its panic): the writer then ends.
        let tx = tx;
        progress(Stage::RebuildingContext);
        match lookup.then(|| cache.model(key, store)) {
            Some(Derived::Hit(m)) => {
                told.push(CacheEvent::DerivedHit(MODEL));
                let _ = model.set(m);
            }
            other => {
                if let Some(Derived::Rejected(why)) = other {
                    told.push(CacheEvent::DerivedRejected(MODEL, why.to_string()));
                }
                cancelled = building(store).is_break();
                if !cancelled {
                    let _ = model.set(ContextModel::build(store, build));
                    let _ = tx.send(Ready::Model);
                }
            }
        }
        progress(Stage::Checking);
        if detect && !cancelled {
            match lookup.then(|| cache.findings(key, store.len())) {
                Some(Derived::Hit(f)) => {
                    told.push(CacheEvent::DerivedHit(FINDINGS));
                    let _ = findings.set(f.findings);
                }
                other => {
                    if let Some(Derived::Rejected(why)) = other {
                        told.push(CacheEvent::DerivedRejected(FINDINGS, why.to_string()));
                    }
                    let m = model.get().expect("set above");
                    let _ = findings.set(trace_model::detect::run_all(store, m));
                    let _ = tx.send(Ready::Findings);
                }
            }
        }
        drop(tx);
        writer.join().unwrap_or_else(|_| {
            let failed = CacheEvent::NotWritten("the cache writer failed".to_owned());
            (None, vec![failed])
        })
    });
    if let Some(stored) = stored {
        imported.store_written(cache, stored);
    }
    imported.cache.extend(told);
    imported.cache.extend(written);
    Some((
        model.into_inner()?,
        findings.into_inner().unwrap_or_default(),
    ))
}

/// Writes what is `ready` beside the store; what to tell (nothing when the store is not
/// cached).
fn keep(
    cache: &TraceCache,
    key: u64,
    store: &EventStore,
    ready: Ready,
    model: &OnceLock<ContextModel>,
    findings: &OnceLock<Vec<Finding>>,
) -> Option<CacheEvent> {
    let model = model.get().expect("set before it is ready");
    let (what, written) = match ready {
        Ready::Model => (MODEL, cache.keep_model(model, store, key)),
        Ready::Findings => {
            let findings = findings.get().expect("set before they are ready");
            let coverage = &model.coverage;
            (
                FINDINGS,
                cache.keep_findings(findings, coverage, store.len(), key),
            )
        }
    };
    match written {
        Ok(Some(bytes)) => Some(CacheEvent::DerivedWritten(what, bytes)),
        Ok(None) => None,
        Err(e) => Some(CacheEvent::NotWritten(format!(
            "{what}: {}: {e}",
            cache.dir.display()
        ))),
    }
}
