//! Detectors: sleep-in-atomic, lock-order cycles, irq inversion. Each reads the
//! event store and the context model and returns [`crate::Finding`]s; [`run_all`] runs them
//! all and merges findings that share an id.

pub mod evidence;
#[cfg(test)]
mod fixture;
pub mod irq_inversion;
pub mod lock_order;
pub mod sleep_in_atomic;

use crate::context::ContextModel;
use crate::{EventStore, Finding};
use rustc_hash::FxHashMap;

/// Runs every detector; findings come out most certain first, then by time.
pub fn run_all(store: &EventStore, model: &ContextModel) -> Vec<Finding> {
    let view = evidence::LockView::of(store, model);
    let graph = crate::lockdep::DependencyGraph::build(view.table);
    let mut findings = sleep_in_atomic::detect(store, model);
    findings.extend(lock_order::detect_in(&view, &graph));
    findings.extend(irq_inversion::detect(&view, &graph));
    let mut findings = merge_same_id(findings);
    findings.sort_by(|a, b| {
        a.confidence
            .cmp(&b.confidence)
            .then(a.ts[0].cmp(&b.ts[0]))
            .then_with(|| a.id.cmp(&b.id))
    });
    findings
}

/// One finding per id, by [`Finding::absorb`].
fn merge_same_id(findings: Vec<Finding>) -> Vec<Finding> {
    let mut index: FxHashMap<String, usize> = FxHashMap::default();
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        match index.get(&f.id) {
            Some(&i) => out[i].absorb(f),
            None => {
                index.insert(f.id.clone(), out.len());
                out.push(f);
            }
        }
    }
    out
}
