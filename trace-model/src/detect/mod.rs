//! Detectors (issue 6): sleep-in-atomic, lock-order cycles, irq inversion. Each reads the
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

/// One finding per id: instances add up, the time span widens, the surest confidence and
/// the first instance's evidence stay.
fn merge_same_id(findings: Vec<Finding>) -> Vec<Finding> {
    let mut index: FxHashMap<String, usize> = FxHashMap::default();
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for mut f in findings {
        match index.get(&f.id) {
            Some(&i) => {
                let kept = &mut out[i];
                kept.count += f.count;
                kept.ts = [kept.ts[0].min(f.ts[0]), kept.ts[1].max(f.ts[1])];
                let mut instances = std::mem::take(&mut kept.instances);
                instances.append(&mut f.instances);
                instances.sort_by_key(|i| i.ts);
                if f.confidence < kept.confidence {
                    let count = kept.count;
                    let ts = kept.ts;
                    *kept = Finding { count, ts, ..f };
                }
                kept.instances = instances;
            }
            None => {
                index.insert(f.id.clone(), out.len());
                out.push(f);
            }
        }
    }
    out
}
