//! Where a CPU's sampled state was actually seen. The flags column shows irqs-off, BH-off,
//! preempt depth and hardirq only at the events a CPU recorded; between two of them the
//! state may have changed and changed back unseen. A CPU traced at every function call
//! records events microseconds apart, and state drawn across such spacing is what it saw;
//! a CPU that traced only its ticks records one event every few milliseconds, and state
//! drawn across those gaps would be a guess shown as a fact.

use crate::{EventIdx, EventStore};

/// The longest stretch without an event on the CPU across which sampled state counts as
/// seen. Longer than a function-traced CPU's event spacing, shorter than a tick period and
/// than the irqs-off sections kernels warn about.
pub const UNSEEN_GAP_NS: u64 = 100_000;

/// Calls `seen(start, end)` for each stretch of `[start, end]` the CPU's events (`events`:
/// its events in time order) saw: runs of events at most [`UNSEEN_GAP_NS`] apart, from the
/// interval's start to its end. A lone event gives a stretch of zero length.
pub fn seen_stretches(
    store: &EventStore,
    events: &[EventIdx],
    start: u64,
    end: u64,
    mut seen: impl FnMut(u64, u64),
) {
    let ts = store.ts();
    let first = events.partition_point(|&i| ts[i as usize] < start);
    let inside = events[first..]
        .iter()
        .map(|&i| ts[i as usize])
        .take_while(|&t| t <= end);
    let mut run = (start, start);
    for t in inside.chain([end]) {
        if t - run.1 > UNSEEN_GAP_NS {
            seen(run.0, run.1);
            run.0 = t;
        }
        run.1 = t;
    }
    seen(run.0, run.1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::tests::Trace;

    #[test]
    fn gaps_longer_than_the_bound_split_the_interval() {
        // Irqs-off seen at a tick every 4 ms, then at events 1 us apart.
        let times = [0, 4_000_000, 8_000_000, 8_001_000, 8_002_000, 8_003_000];
        let mut t = Trace::new();
        for ts in times {
            t.func(ts, 0, 7, "d....", "work", "caller");
        }
        let (store, _) = t.build();
        let mut got = Vec::new();
        seen_stretches(&store, store.cpu_events(0), 0, 8_003_000, |a, b| {
            got.push((a, b))
        });
        assert_eq!(
            got,
            [(0, 0), (4_000_000, 4_000_000), (8_000_000, 8_003_000)]
        );
        // A stretch that begins between events starts at the interval's start.
        got.clear();
        seen_stretches(&store, store.cpu_events(0), 7_950_000, 8_002_000, |a, b| {
            got.push((a, b))
        });
        assert_eq!(got, [(7_950_000, 8_002_000)]);
    }
}
