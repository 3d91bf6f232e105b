//! `sleep_calls`: every call of a might-sleep function and every real sleep, with the context
//! at the call.

use crate::frame::{Frame, int32, ns};
use crate::input::TraceInput;
use crate::schema::Table;
use polars_core::prelude::DataFrame;
use trace_model::context::primitives::SleepEntry;
use trace_model::context::{Gfp, SleepKind};
use trace_model::{EventIdx, StrId};

fn kind_name(kind: SleepKind) -> &'static str {
    match kind {
        SleepKind::Call(SleepEntry::MaySleep) => "may-sleep",
        SleepKind::Call(SleepEntry::Allocation) => "allocation",
        SleepKind::Call(SleepEntry::Marker) => "marker",
        SleepKind::RealSleep => "real-sleep",
    }
}

fn gfp_name(gfp: Gfp) -> &'static str {
    match gfp {
        Gfp::NotAllocation => "not-allocation",
        Gfp::Unknown => "unknown",
        Gfp::Blocking => "blocking",
        Gfp::NonBlocking => "non-blocking",
    }
}

pub fn sleep_calls(input: &TraceInput) -> DataFrame {
    let (store, model) = (input.store, input.model);
    let calls = &model.sleep_calls;
    let at = |e: Option<EventIdx>| e.map(|i| ns(store.ts()[i as usize]));
    let named = |s: StrId| (s != StrId::EMPTY).then(|| model.str(s));
    let mut f = Frame::new(Table::SleepCalls, calls.len());
    f.i64("ts_ns", calls.iter().map(|c| ns(c.ts)).collect());
    f.i32("cpu", calls.iter().map(|c| int32(c.cpu)).collect());
    f.i32("pid", calls.iter().map(|c| c.pid).collect());
    f.str("comm", calls.iter().map(|c| store.str(store.comm(c.event))));
    f.str("kind", calls.iter().map(|c| kind_name(c.kind)));
    f.str("function", calls.iter().map(|c| model.str(c.func)));
    f.opt_str("caller", calls.iter().map(|c| named(c.caller)));
    f.str("context", calls.iter().map(|c| c.context.name()));
    f.opt_i32(
        "preempt_depth",
        calls.iter().map(|c| c.depth.map(i32::from)).collect(),
    );
    f.opt_i32(
        "excess_depth",
        calls
            .iter()
            .map(|c| c.excess_depth.map(i32::from))
            .collect(),
    );
    f.opt_bool("irqs_off", calls.iter().map(|c| c.irqs_off).collect());
    f.opt_bool("bh_off", calls.iter().map(|c| c.bh_off).collect());
    f.str(
        "held_locks",
        calls.iter().map(|c| {
            let held: Vec<&str> = model
                .held_at(c)
                .iter()
                .map(|&h| model.hold_class_name(h))
                .collect();
            held.join(", ")
        }),
    );
    f.str("gfp", calls.iter().map(|c| gfp_name(c.gfp)));
    f.bool("nested", calls.iter().map(|c| c.root.is_some()).collect());
    f.opt_i64("slept_ns", calls.iter().map(|c| at(c.slept)).collect());
    f.opt_i64(
        "schedule_bug_ns",
        calls.iter().map(|c| at(c.schedule_bug)).collect(),
    );
    f.finish()
}
