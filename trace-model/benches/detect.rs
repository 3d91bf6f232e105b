//! Detector throughput: `run_all` over a synthetic trace of one million lock acquisitions
//! (one `lock_acquire` event each) on 4 CPUs: nests of 1-3 locks taken in a global order,
//! out of 32 classes shared with softirqs (every 16th nest runs in softirq context; the
//! task side takes them with `spin_lock_bh` outermost) or 480 task-only classes; one in 64
//! nests holds a trylock; planted reversed nests and plain `spin_lock`s of shared classes
//! give every lock detector findings.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use trace_model::context::ContextModel;
use trace_model::context::locks::{
    ClassId, HolderContext, LockClass, LockHold, LockId, LockInstance, LockMode, LockTable,
    NameSource,
};
use trace_model::flags::FlagBits;
use trace_model::{
    ContextFlags, EventHeader, EventStore, EventStoreBuilder, ExtendedInterner, Payload,
};

const HOLDS: usize = 1_000_000;
const CLASSES: u32 = 512;
/// Classes 0..BH_SHARED are also taken in softirq context.
const BH_SHARED: u32 = 32;

/// xorshift: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

fn synthetic() -> (EventStore, ContextModel) {
    let mut b = EventStoreBuilder::with_capacity(HOLDS);
    let mut table = LockTable::default();
    for c in 0..CLASSES {
        table.classes.push(LockClass {
            name: b.intern(&format!("lock_{c}")),
            source: NameSource::Lockdep,
        });
        table.locks.push(LockInstance {
            addr: 0xffff_8000_0000_0000 + u64::from(c) * 64,
            class: ClassId(c),
        });
    }
    let event_type = b.event_type("lock_acquire").expect("one type");
    let comms: Vec<_> = (0..4).map(|c| b.intern(&format!("worker/{c}"))).collect();
    let callers: Vec<_> = (0..64).map(|f| b.intern(&format!("func_{f}"))).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ts = 1_000_000u64;
    let mut nest = 0u64;
    while table.holds.len() < HOLDS {
        nest += 1;
        let cpu = (nest % 4) as u32;
        let softirq = nest.is_multiple_of(16);
        let context = if softirq {
            HolderContext::Softirq
        } else {
            HolderContext::Task
        };
        // Ascending classes: a consistent global order, no cycle.
        let depth = 1 + rng.below(3);
        let shared = softirq || nest.is_multiple_of(8);
        let mut classes: Vec<u32> = (0..depth)
            .map(|_| match shared {
                true => rng.below(BH_SHARED),
                false => BH_SHARED + rng.below(CLASSES - BH_SHARED),
            })
            .collect();
        classes.sort_unstable();
        classes.dedup();
        // Planted bugs: reversed order now and then, and a shared lock taken plainly.
        if nest.is_multiple_of(100_003) && classes.len() >= 2 {
            classes.reverse();
        }
        let plain_in_task = nest.is_multiple_of(50_021);
        // Under an outer spin_lock_bh, softirqs stay off for the inner locks.
        let softirqs_on = !softirq && (!shared || plain_in_task);
        let first = table.holds.len() as u32;
        for (k, &c) in classes.iter().enumerate() {
            ts += 250;
            let flags = ContextFlags::new(
                FlagBits {
                    softirq,
                    bh_off: !softirqs_on,
                    ..FlagBits::default()
                },
                Some(k as u8 + 1),
                None,
            );
            let acquire_event = b.len() as u32;
            b.push(
                EventHeader {
                    ts,
                    cpu,
                    pid: 100 + cpu as i32,
                    comm: comms[cpu as usize],
                    event_type,
                    flags,
                },
                &Payload::Empty,
            );
            let start = table.held_before.len() as u32;
            table.held_before.extend(first..first + k as u32);
            let bh_outermost = shared && !softirq && !plain_in_task && k == 0;
            let mode = if bh_outermost {
                LockMode::SpinBh
            } else {
                LockMode::Spin
            };
            table.holds.push(LockHold {
                lock: LockId(c),
                mode,
                trylock: k > 0 && nest.is_multiple_of(64),
                read: 0,
                cpu,
                pid: 100 + cpu as i32,
                context,
                acquire_ts: ts,
                acquire_event,
                contended_ts: None,
                acquired_ts: None,
                release_ts: Some(ts + 10_000),
                release_event: None,
                caller: Some(callers[rng.below(64) as usize]),
                hardirqs_enabled: Some(true),
                softirqs_enabled: Some(softirqs_on),
                hardirqs_enabled_while_held: Some(false),
                softirqs_enabled_while_held: Some(false),
                validated: true,
                held_before: start..start + k as u32,
            });
        }
    }
    let store = b.finish();
    let mut model = ContextModel::default();
    model.strings = ExtendedInterner::over(store.strings.clone());
    model.locks = table;
    (store, model)
}

fn bench_run_all(c: &mut Criterion) {
    let (store, model) = synthetic();
    let findings = trace_model::detect::run_all(&store, &model);
    assert!(!findings.is_empty(), "the planted bugs are found");
    let mut group = c.benchmark_group("detect");
    group.sample_size(10);
    group.throughput(Throughput::Elements(store.len() as u64));
    group.bench_function("run_all_1M_lock_acquisitions", |b| {
        b.iter(|| trace_model::detect::run_all(black_box(&store), black_box(&model)))
    });
    group.finish();
}

criterion_group!(benches, bench_run_all);
criterion_main!(benches);
