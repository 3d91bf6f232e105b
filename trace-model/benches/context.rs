//! Time to build the context model per million events: the lockdep s1 lab recording
//! (40 k events: function tracer, lock:*, sched, irq, timers) replicated with shifted
//! timestamps to 4 M events.
//!
//! Run: `KCTX_CORPUS=/work/shared/corpus cargo bench -p trace-model --bench context`.
//!
//! Measured 2026-11-25 on the team's 2-core machine under load (load average 4-6): build
//! 1.36 s for 3.99 M events, 0.34 s per million events (2.9 M events/s); `state_at` 1.6 to
//! 3.6 µs per query.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::PathBuf;
use trace_model::StrId;
use trace_model::context::{BuildOptions, ContextModel};
use trace_model::payload::{Payload, PayloadIn, PayloadView};
use trace_model::store::{EventHeader, EventStore, EventStoreBuilder};

const TARGET_EVENTS: usize = 4_000_000;

fn corpus() -> PathBuf {
    std::env::var_os("KCTX_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

/// A payload read back, as a builder takes it (fields copied into `fields`).
fn to_in<'a>(p: PayloadView<'a>, fields: &'a mut Vec<(StrId, &'a str)>) -> PayloadIn<'a> {
    match p {
        Payload::Fields(f) => {
            fields.extend(f);
            Payload::Fields(fields.as_slice())
        }
        Payload::Empty => Payload::Empty,
        Payload::SchedSwitch {
            prev_comm,
            prev_pid,
            prev_prio,
            prev_state,
            next_comm,
            next_pid,
            next_prio,
        } => Payload::SchedSwitch {
            prev_comm,
            prev_pid,
            prev_prio,
            prev_state,
            next_comm,
            next_pid,
            next_prio,
        },
        Payload::SchedWakeup {
            comm,
            pid,
            prio,
            target_cpu,
        } => Payload::SchedWakeup {
            comm,
            pid,
            prio,
            target_cpu,
        },
        Payload::IrqHandlerEntry { irq, name } => Payload::IrqHandlerEntry { irq, name },
        Payload::IrqHandlerExit { irq, handled } => Payload::IrqHandlerExit { irq, handled },
        Payload::SoftirqEntry { vec } => Payload::SoftirqEntry { vec },
        Payload::SoftirqExit { vec } => Payload::SoftirqExit { vec },
        Payload::IrqDisable { caller, parent } => Payload::IrqDisable { caller, parent },
        Payload::IrqEnable { caller, parent } => Payload::IrqEnable { caller, parent },
        Payload::PreemptDisable { caller, parent } => Payload::PreemptDisable { caller, parent },
        Payload::PreemptEnable { caller, parent } => Payload::PreemptEnable { caller, parent },
        Payload::LockAcquire {
            addr,
            name,
            trylock,
            read,
        } => Payload::LockAcquire {
            addr,
            name,
            trylock,
            read,
        },
        Payload::LockRelease { addr, name } => Payload::LockRelease { addr, name },
        Payload::LockAcquired { addr, name } => Payload::LockAcquired { addr, name },
        Payload::LockContended { addr, name } => Payload::LockContended { addr, name },
        Payload::ContentionBegin { addr, flags } => Payload::ContentionBegin { addr, flags },
        Payload::ContentionEnd { addr, ret } => Payload::ContentionEnd { addr, ret },
        Payload::LockProbe { addr, probed } => Payload::LockProbe { addr, probed },
        Payload::Function { func, parent } => Payload::Function { func, parent },
        Payload::Print { text } => Payload::Print { text },
        Payload::Raw(text) => Payload::Raw(text),
        // The rest does not feed the context model: keep the event, drop the payload.
        _ => Payload::Empty,
    }
}

/// The recording repeated `TARGET_EVENTS / len` times, each copy shifted past the previous.
fn replicated(one: &EventStore) -> EventStore {
    let mut b = EventStoreBuilder::with_capacity(TARGET_EVENTS);
    // Same interning order, so every StrId of `one` means the same string here.
    for i in 0..one.strings.len() as u32 {
        b.intern(one.strings.resolve(StrId(i)));
    }
    let types: Vec<_> = one
        .event_type_names()
        .map(|(_, name)| b.event_type(name).expect("event types"))
        .collect();
    let (first, last) = one.time_span().expect("events");
    let period = last - first + 1_000_000;
    for copy in 0..(TARGET_EVENTS / one.len()).max(1) as u64 {
        for i in 0..one.len() as u32 {
            let e = one.event(i);
            let mut fields = Vec::new();
            let payload = to_in(e.payload, &mut fields);
            let h = EventHeader {
                ts: e.ts + copy * period,
                cpu: e.cpu,
                pid: e.pid,
                comm: one.comm(i),
                event_type: types[e.event_type.0 as usize],
                flags: e.flags,
            };
            b.push(h, &payload);
        }
    }
    b.finish()
}

fn bench(c: &mut Criterion) {
    let path = corpus().join("lab/lockdep-s1_spin_sleep/trace.dat");
    let one = importers::open(&path).unwrap_or_else(|e| panic!("{e} (set KCTX_CORPUS)"));
    let store = replicated(&one);
    let mut g = c.benchmark_group("context");
    g.sample_size(10);
    g.throughput(Throughput::Elements(store.len() as u64));
    g.bench_function(format!("build_{}_events", store.len()), |b| {
        b.iter(|| ContextModel::build(&store, &BuildOptions::default()))
    });
    let model = ContextModel::build(&store, &BuildOptions::default());
    let span = store.time_span().expect("events");
    g.throughput(Throughput::Elements(1));
    g.bench_function("state_at", |b| {
        let mut t = span.0;
        b.iter(|| {
            t = span.0 + (t - span.0 + 7_919_113) % (span.1 - span.0);
            model.state_at(&store, 1, t)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
