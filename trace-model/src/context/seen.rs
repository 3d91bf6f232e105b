//! Where a CPU's sampled state was actually seen. The flags column shows irqs-off, BH-off,
//! preempt depth and hardirq only at the events a CPU recorded; between two of them the
//! state may have changed and changed back unseen. A CPU traced at every function call
//! records events microseconds apart, and state drawn across such spacing is what it saw;
//! a CPU that traced only its ticks records one event every few milliseconds, and state
//! drawn across those gaps would be a guess shown as a fact.

/// The longest stretch without an event on the CPU across which sampled state counts as
/// seen. Longer than a function-traced CPU's event spacing, shorter than a tick period and
/// than the irqs-off sections kernels warn about.
pub const UNSEEN_GAP_NS: u64 = 100_000;

/// Where one CPU's events leave more than [`UNSEEN_GAP_NS`] between two of them (and before
/// its first event and after its last): found in one pass, so that each interval asks only
/// this short list about the stretches it covers, never the CPU's events.
pub struct CpuSeen {
    /// `(before, after)`: times of two consecutive events more than the bound apart, in time
    /// order; the first pair starts at 0 and the last ends at `u64::MAX` (no event there).
    gaps: Vec<(u64, u64)>,
}

/// Finds a CPU's gaps from its event times, given one at a time in time order (a caller
/// walking the times for something else as well).
#[derive(Default)]
pub struct GapFinder {
    gaps: Vec<(u64, u64)>,
    before: u64,
}

impl GapFinder {
    /// The CPU's next event time.
    pub fn push(&mut self, t: u64) {
        if self.gaps.is_empty() || t - self.before > UNSEEN_GAP_NS {
            self.gaps.push((self.before, t));
        }
        self.before = t;
    }

    pub fn finish(mut self) -> CpuSeen {
        self.gaps.push((self.before, u64::MAX));
        CpuSeen { gaps: self.gaps }
    }
}

impl CpuSeen {
    /// Calls `seen(start, end)` for each stretch of `[start, end]` the CPU's events saw:
    /// runs of the interval's ends and the events inside at most [`UNSEEN_GAP_NS`] apart. A
    /// lone end gives a stretch of zero length.
    pub fn stretches(&self, start: u64, end: u64, mut seen: impl FnMut(u64, u64)) {
        // A gap cuts the interval where the part of it inside the interval is longer than
        // the bound: then each side of it was seen only up to its edge.
        let first = self.gaps.partition_point(|&(_, after)| after <= start);
        let mut from = start;
        for &(before, after) in &self.gaps[first..] {
            if before >= end {
                break;
            }
            let (a, b) = (before.max(start), after.min(end));
            if b - a > UNSEEN_GAP_NS {
                seen(from, a);
                from = b;
            }
        }
        seen(from, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventStore;
    use crate::context::tests::Trace;

    /// CPU 0's gaps.
    fn seen_on_cpu0(store: &EventStore) -> CpuSeen {
        let mut finder = GapFinder::default();
        for &i in store.cpu_events(0) {
            finder.push(store.ts()[i as usize]);
        }
        finder.finish()
    }

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
        let seen = seen_on_cpu0(&store);
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

    /// The definition: the interval's ends and the events inside, split wherever two
    /// neighbours are more than the bound apart.
    fn by_definition(times: &[u64], start: u64, end: u64) -> Vec<(u64, u64)> {
        let inside = times.iter().copied().filter(|&t| start <= t && t <= end);
        let points: Vec<u64> = std::iter::once(start).chain(inside).chain([end]).collect();
        let mut got = vec![(start, start)];
        for w in points.windows(2) {
            if w[1] - w[0] > UNSEEN_GAP_NS {
                got.push((w[1], w[1]));
            } else {
                got.last_mut().expect("one at least").1 = w[1];
            }
        }
        got
    }

    #[test]
    fn stretches_match_their_definition_at_every_kind_of_end() {
        // Bursts of events 20 us apart separated by pauses of 0.05 to 3 ms, from a simple
        // generator (no randomness crate): intervals start and end on events, in gaps, on
        // gap edges and outside the events.
        let mut times = Vec::new();
        let (mut t, mut x) = (1_000_000u64, 12345u64);
        for _ in 0..400 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t += if x >> 61 == 0 {
                50_000 + (x >> 40) % 3_000_000
            } else {
                20_000
            };
            times.push(t);
        }
        let mut trace = Trace::new();
        for &ts in &times {
            trace.func(ts, 0, 7, "d....", "work", "caller");
        }
        let (store, _) = trace.build();
        let seen = seen_on_cpu0(&store);
        let last = *times.last().expect("events");
        let mut ends: Vec<u64> = times.iter().flat_map(|&t| [t, t + 1, t - 1]).collect();
        ends.extend([0, 5, last + 10, last + 500_000]);
        ends.extend((0..300u64).map(|k| k * (last / 250)));
        ends.sort_unstable();
        for (k, &start) in ends.iter().enumerate() {
            for &end in ends[k..].iter().step_by(37) {
                assert_eq!(
                    stretches(&seen, start, end),
                    by_definition(&times, start, end),
                    "[{start}, {end}]"
                );
            }
        }
    }
}
