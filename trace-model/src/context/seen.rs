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

/// One CPU's events and the places where they leave more than [`UNSEEN_GAP_NS`] between
/// two of them: found in one pass, so that each interval asks only about its own ends and
/// the (few) long gaps inside it, not about every event it covers.
pub struct CpuSeen<'a> {
    ts: &'a [u64],
    events: &'a [EventIdx],
    /// `k` where `events[k]` and `events[k + 1]` are more than the bound apart.
    gaps: Vec<u32>,
}

impl<'a> CpuSeen<'a> {
    /// `events`: the CPU's events in time order.
    pub fn new(store: &'a EventStore, events: &'a [EventIdx]) -> CpuSeen<'a> {
        let ts = store.ts();
        let gaps = events
            .windows(2)
            .enumerate()
            .filter(|(_, w)| ts[w[1] as usize] - ts[w[0] as usize] > UNSEEN_GAP_NS)
            .map(|(k, _)| k as u32)
            .collect();
        CpuSeen { ts, events, gaps }
    }

    fn time(&self, k: usize) -> u64 {
        self.ts[self.events[k] as usize]
    }

    /// Calls `seen(start, end)` for each stretch of `[start, end]` the CPU's events saw:
    /// runs of the interval's ends and the events inside at most [`UNSEEN_GAP_NS`] apart. A
    /// lone end gives a stretch of zero length.
    pub fn stretches(&self, start: u64, end: u64, mut seen: impl FnMut(u64, u64)) {
        let lo = self
            .events
            .partition_point(|&i| self.ts[i as usize] < start);
        let hi = self.events.partition_point(|&i| self.ts[i as usize] <= end);
        if lo == hi {
            if end - start > UNSEEN_GAP_NS {
                seen(start, start);
                seen(end, end);
            } else {
                seen(start, end);
            }
            return;
        }
        let mut from = start;
        if self.time(lo) - start > UNSEEN_GAP_NS {
            seen(start, start);
            from = self.time(lo);
        }
        let first_gap = self.gaps.partition_point(|&k| (k as usize) < lo);
        for &k in self.gaps[first_gap..]
            .iter()
            .take_while(|&&k| (k as usize) + 1 < hi)
        {
            seen(from, self.time(k as usize));
            from = self.time(k as usize + 1);
        }
        let last = self.time(hi - 1);
        if end - last > UNSEEN_GAP_NS {
            seen(from, last);
            seen(end, end);
        } else {
            seen(from, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::tests::Trace;

    fn stretches(seen: &CpuSeen, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut got = Vec::new();
        seen.stretches(start, end, |a, b| got.push((a, b)));
        got
    }

    #[test]
    fn gaps_longer_than_the_bound_split_the_interval() {
        // Irqs-off seen at a tick every 4 ms, then at events 1 us apart.
        let times = [0, 4_000_000, 8_000_000, 8_001_000, 8_002_000, 8_003_000];
        let mut t = Trace::new();
        for ts in times {
            t.func(ts, 0, 7, "d....", "work", "caller");
        }
        let (store, _) = t.build();
        let seen = CpuSeen::new(&store, store.cpu_events(0));
        assert_eq!(
            stretches(&seen, 0, 8_003_000),
            [(0, 0), (4_000_000, 4_000_000), (8_000_000, 8_003_000)]
        );
        // A stretch that begins between events starts at the interval's start.
        assert_eq!(
            stretches(&seen, 7_950_000, 8_002_000),
            [(7_950_000, 8_002_000)]
        );
        // Ends far from any event inside are seen only where they are.
        assert_eq!(
            stretches(&seen, 3_500_000, 4_500_000),
            [
                (3_500_000, 3_500_000),
                (4_000_000, 4_000_000),
                (4_500_000, 4_500_000)
            ]
        );
        assert_eq!(
            stretches(&seen, 5_000_000, 6_000_000),
            [(5_000_000, 5_000_000), (6_000_000, 6_000_000)]
        );
        assert_eq!(
            stretches(&seen, 8_001_500, 8_001_600),
            [(8_001_500, 8_001_600)]
        );
    }
}
