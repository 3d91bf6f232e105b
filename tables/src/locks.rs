//! `lock_holds` (every acquisition until its release) and `lock_deps` (lockdep's class
//! dependencies).

use crate::events::hex;
use crate::frame::{Frame, int32, int64, ns};
use crate::input::TraceInput;
use crate::schema::Table;
use polars_core::prelude::DataFrame;
use trace_model::context::ContextModel;
use trace_model::detect::evidence::{LockView, caller_name};
use trace_model::lockdep::DependencyGraph;

/// Each class's name as `kctx locks` prints it, by class index.
fn class_names(model: &ContextModel) -> Vec<&str> {
    let classes = &model.locks.classes;
    classes.iter().map(|c| model.str(c.name)).collect()
}

pub fn lock_holds(input: &TraceInput) -> DataFrame {
    let view = LockView::of(input.store, input.model);
    let names = class_names(input.model);
    let table = view.table;
    let holds = &table.holds;
    let spans = &input.model.hold_spans;
    let n = holds.len();
    let mut f = Frame::new(Table::LockHolds, n);
    f.str(
        "class",
        holds
            .iter()
            .map(|h| names[table.class_of(h.lock).0 as usize]),
    );
    f.str(
        "instance",
        holds
            .iter()
            .map(|h| hex(table.locks[h.lock.0 as usize].addr)),
    );
    f.i32("pid", holds.iter().map(|h| h.pid).collect());
    f.str("comm", holds.iter().map(|h| view.comm(h)));
    f.i32("cpu", holds.iter().map(|h| int32(h.cpu)).collect());
    f.str("context", holds.iter().map(|h| h.context.name()));
    f.str("mode", holds.iter().map(|h| h.mode.name()));
    f.bool(
        "mode_inferred",
        (0..n)
            .map(|i| spans.get(i).is_some_and(|s| s.mode_inferred))
            .collect(),
    );
    f.bool("trylock", holds.iter().map(|h| h.trylock).collect());
    f.i32("read", holds.iter().map(|h| i32::from(h.read)).collect());
    f.i64(
        "acquire_ns",
        holds.iter().map(|h| ns(h.acquire_ts)).collect(),
    );
    f.opt_i64(
        "acquired_ns",
        holds.iter().map(|h| h.acquired_ts.map(ns)).collect(),
    );
    f.opt_i64(
        "release_ns",
        holds.iter().map(|h| h.release_ts.map(ns)).collect(),
    );
    f.i64(
        "end_ns",
        holds
            .iter()
            .enumerate()
            .map(|(i, h)| ns(spans.get(i).map_or(h.acquire_ts, |s| s.end_ns)))
            .collect(),
    );
    f.opt_i64(
        "wait_ns",
        holds
            .iter()
            .map(|h| match (h.contended_ts, h.acquired_ts) {
                (Some(begin), Some(end)) => Some(ns(end.saturating_sub(begin))),
                _ => None,
            })
            .collect(),
    );
    // As `kctx locks` counts it: held from when it was obtained, not from when the wait began.
    f.opt_i64(
        "hold_ns",
        holds
            .iter()
            .map(|h| {
                let from = h.acquired_ts.unwrap_or(h.acquire_ts);
                h.release_ts.map(|r| ns(r.saturating_sub(from)))
            })
            .collect(),
    );
    f.opt_str("function", holds.iter().map(|h| caller_name(&view, h)));
    f.opt_bool(
        "hardirqs_enabled",
        holds.iter().map(|h| h.hardirqs_enabled).collect(),
    );
    f.opt_bool(
        "softirqs_enabled",
        holds.iter().map(|h| h.softirqs_enabled).collect(),
    );
    f.i32(
        "held_before",
        holds
            .iter()
            .map(|h| int32(h.held_before.len() as u32))
            .collect(),
    );
    f.finish()
}

pub fn lock_deps(input: &TraceInput) -> DataFrame {
    let view = LockView::of(input.store, input.model);
    let names = class_names(input.model);
    let graph = DependencyGraph::build(view.table);
    let edges = &graph.edges;
    let witness = |e: &trace_model::lockdep::Edge| view.hold(e.witness.1);
    let mut f = Frame::new(Table::LockDeps, edges.len());
    f.str("from_class", edges.iter().map(|e| names[e.from.0 as usize]));
    f.str("to_class", edges.iter().map(|e| names[e.to.0 as usize]));
    f.i64("count", edges.iter().map(|e| int64(e.count)).collect());
    f.i32(
        "distance",
        edges.iter().map(|e| int32(e.distance)).collect(),
    );
    f.i64("first_ns", edges.iter().map(|e| ns(e.first_ts)).collect());
    f.i64("last_ns", edges.iter().map(|e| ns(e.last_ts)).collect());
    f.i32("cpu", edges.iter().map(|e| int32(witness(e).cpu)).collect());
    f.i32("pid", edges.iter().map(|e| witness(e).pid).collect());
    f.opt_str(
        "function",
        edges.iter().map(|e| caller_name(&view, witness(e))),
    );
    f.finish()
}
