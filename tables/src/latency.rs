//! `latency_sections`: every irqs-off, preempt-off, BH-off, interrupt and wakeup section.

use crate::frame::{Frame, int32, ns};
use crate::input::TraceInput;
use crate::schema::Table;
use polars_core::prelude::DataFrame;
use trace_model::latency::{LatencyKind, Truncation, describe, sections};

fn truncation_name(t: Truncation) -> &'static str {
    match t {
        Truncation::StartOfData => "start-of-data",
        Truncation::LostEvents => "lost-events",
        Truncation::EndOfData => "end-of-data",
    }
}

pub fn latency_sections(input: &TraceInput) -> DataFrame {
    let (store, model) = (input.store, input.model);
    let found: Vec<_> = sections(store, model, &LatencyKind::ALL)
        .iter()
        .map(|s| describe(store, model, s))
        .collect();
    let mut f = Frame::new(Table::LatencySections, found.len());
    f.str("kind", found.iter().map(|s| s.kind.name()));
    f.i32("cpu", found.iter().map(|s| int32(s.cpu)).collect());
    f.i32("pid", found.iter().map(|s| s.pid).collect());
    f.str("comm", found.iter().map(|s| s.comm.as_str()));
    f.i64("start_ns", found.iter().map(|s| ns(s.start_ns)).collect());
    f.i64("end_ns", found.iter().map(|s| ns(s.end_ns)).collect());
    f.i64(
        "duration_ns",
        found.iter().map(|s| ns(s.duration_ns)).collect(),
    );
    f.bool("exact", found.iter().map(|s| s.exact).collect());
    f.i64(
        "start_slack_ns",
        found.iter().map(|s| ns(s.start_slack_ns)).collect(),
    );
    f.i64(
        "end_slack_ns",
        found.iter().map(|s| ns(s.end_slack_ns)).collect(),
    );
    f.i64("unseen_ns", found.iter().map(|s| ns(s.unseen_ns)).collect());
    f.opt_str(
        "truncated",
        found.iter().map(|s| s.truncated.map(truncation_name)),
    );
    f.opt_str("source", found.iter().map(|s| s.source.as_deref()));
    let site = |s: &Option<trace_model::latency::Site>| s.as_ref().map(|s| s.event.clone());
    let at = |s: &Option<trace_model::latency::Site>| s.as_ref().and_then(|s| s.at.clone());
    f.opt_str("opened_by", found.iter().map(|s| site(&s.opened_by)));
    f.opt_str("opened_at", found.iter().map(|s| at(&s.opened_by)));
    f.opt_str("closed_by", found.iter().map(|s| site(&s.closed_by)));
    f.opt_str("closed_at", found.iter().map(|s| at(&s.closed_by)));
    f.finish()
}
