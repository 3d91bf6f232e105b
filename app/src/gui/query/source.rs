//! What the Query panel and File › Export tables build the tables from: the open trace's store
//! and context model (shared, not copied, with the worker thread) and its findings.

use super::super::trace::LoadedTrace;
use std::path::Path;
use std::sync::Arc;
use trace_model::context::ContextModel;
use trace_model::{EventStore, Finding};

/// The open trace, as a worker thread can hold it.
pub struct TraceTables {
    id: String,
    path: String,
    store: Arc<EventStore>,
    context: Arc<ContextModel>,
    findings: Vec<Finding>,
}

impl TraceTables {
    /// The trace shown. Its id is the one `kctx export` gives the same file, so an export from
    /// the window and one from the command line land in the same partition.
    pub fn of(trace: &LoadedTrace) -> TraceTables {
        let path = trace
            .report
            .inputs
            .iter()
            .find(|i| i.error.is_none())
            .map_or_else(|| trace.title(), |i| i.path.clone());
        let id = tables::trace_id(Path::new(&path)).unwrap_or_else(|_| tables::name_id(&path));
        TraceTables {
            id,
            path,
            store: Arc::clone(&trace.store),
            context: Arc::clone(&trace.context),
            findings: trace.findings.clone(),
        }
    }

    /// The tables' view of it.
    pub fn input(&self) -> tables::Input<'_> {
        tables::Input::Trace(tables::TraceInput {
            id: self.id.clone(),
            path: self.path.clone(),
            store: &self.store,
            model: &self.context,
            findings: Some(self.findings.as_slice()),
            details: &crate::text::details,
        })
    }
}
