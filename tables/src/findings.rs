//! `findings` and `evidence`. The only file that reads [`Finding`]'s fields, so a change of
//! their types is one edit here.

use crate::frame::{Frame, int32, int64, ns};
use crate::schema::Table;
use polars_core::prelude::DataFrame;
use trace_model::Finding;

pub fn findings(found: &[Finding]) -> DataFrame {
    let mut f = Frame::new(Table::Findings, found.len());
    f.str("id", found.iter().map(|x| x.id.as_str()));
    f.str("kind", found.iter().map(|x| x.kind.name()));
    f.str("confidence", found.iter().map(|x| x.confidence.name()));
    f.opt_i32("cpu", found.iter().map(|x| x.cpu.map(int32)).collect());
    f.opt_i32("pid", found.iter().map(|x| x.pid).collect());
    f.opt_str("task", found.iter().map(|x| x.task.as_deref()));
    f.i64("first_ns", found.iter().map(|x| ns(x.ts[0])).collect());
    f.i64("last_ns", found.iter().map(|x| ns(x.ts[1])).collect());
    f.i64("count", found.iter().map(|x| int64(x.count)).collect());
    f.str("functions", found.iter().map(|x| x.functions.join(", ")));
    f.str("locks", found.iter().map(|x| x.locks.join(", ")));
    f.str("summary", found.iter().map(|x| x.summary.as_str()));
    f.finish()
}

pub fn evidence(found: &[Finding]) -> DataFrame {
    let rows: Vec<_> = found
        .iter()
        .flat_map(|x| x.evidence.iter().enumerate().map(move |(i, e)| (x, i, e)))
        .collect();
    let mut f = Frame::new(Table::Evidence, rows.len());
    f.str("finding_id", rows.iter().map(|(x, _, _)| x.id.as_str()));
    f.i32(
        "seq",
        rows.iter().map(|&(_, i, _)| int32(i as u32)).collect(),
    );
    f.i64("ts_ns", rows.iter().map(|(_, _, e)| ns(e.ts)).collect());
    f.i32("cpu", rows.iter().map(|(_, _, e)| int32(e.cpu)).collect());
    f.str("task", rows.iter().map(|(_, _, e)| e.task.as_str()));
    f.str("event", rows.iter().map(|(_, _, e)| e.event.as_str()));
    f.str("detail", rows.iter().map(|(_, _, e)| e.detail.as_str()));
    f.finish()
}
