//! A lane: sorted, non-overlapping intervals with a value each (a task, an irq number, a
//! preempt depth, a lock name), plus their [`Summary`] for zoomed-out frames.

use super::summary::Summary;
use std::ops::Range;

/// The most finest buckets a lane's summary has: zoomed in past them, a frame reads the
/// lane's intervals, at most a few per pixel column.
const MAX_BUCKETS: u64 = 1 << 22;

/// Sorted intervals of one timeline row.
#[derive(Clone, Debug, Default)]
pub struct Lane {
    starts: Vec<u64>,
    ends: Vec<u64>,
    values: Vec<u32>,
    summary: Summary,
}

impl Lane {
    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when the lane has no interval.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Interval `i` as (start, end, value).
    pub fn get(&self, i: usize) -> (u64, u64, u32) {
        (self.starts[i], self.ends[i], self.values[i])
    }

    /// Starts, ends and values of the intervals in `range`, as slices (tight loops).
    pub fn columns(&self, range: Range<usize>) -> (&[u64], &[u64], &[u32]) {
        (
            &self.starts[range.clone()],
            &self.ends[range.clone()],
            &self.values[range],
        )
    }

    /// The intervals overlapping `[t0, t1)`: two binary searches.
    pub fn visible(&self, t0: u64, t1: u64) -> Range<usize> {
        self.ends.partition_point(|&e| e <= t0)..self.starts.partition_point(|&s| s < t1)
    }

    /// The interval containing `ts`, if any.
    pub fn at(&self, ts: u64) -> Option<usize> {
        let i = self.starts.partition_point(|&s| s <= ts).checked_sub(1)?;
        (self.ends[i] > ts || self.starts[i] == ts).then_some(i)
    }

    /// The zoomed-out summary.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}

/// Collects a lane's intervals in time order.
#[derive(Debug, Default)]
pub struct LaneBuilder {
    lane: Lane,
    open: Option<(u64, u32)>,
}

impl LaneBuilder {
    /// Adds `[start, end)` with `value`. Intervals must come in start order; an overlap
    /// with the previous interval is clipped so the lane stays non-overlapping.
    pub fn push(&mut self, start: u64, end: u64, value: u32) {
        let l = &mut self.lane;
        let start = l.ends.last().map_or(start, |&e| start.max(e));
        if end < start {
            return;
        }
        l.starts.push(start);
        l.ends.push(end);
        l.values.push(value);
    }

    /// Starts a state with `value` at `ts`, closing the open one (if its value differs).
    /// `None` ends the open state.
    pub fn set(&mut self, ts: u64, value: Option<u32>) {
        match (self.open, value) {
            (Some((_, open)), Some(v)) if open == v => {}
            (open, v) => {
                if let Some((start, open_value)) = open {
                    self.push(start, ts, open_value);
                }
                self.open = v.map(|v| (ts, v));
            }
        }
    }

    /// Closes the open state at `end_ns` and summarises the lane over `[origin, end]`.
    pub fn finish(mut self, origin_ns: u64, end_ns: u64) -> Lane {
        self.set(end_ns, None);
        let l = &self.lane;
        let items = (0..l.len()).map(|i| (l.starts[i], l.ends[i], l.values[i]));
        let summary = Summary::build(origin_ns, end_ns, l.len(), MAX_BUCKETS, items);
        Lane {
            summary,
            ..self.lane
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_merges_equal_states_and_visible_culls() {
        let mut b = LaneBuilder::default();
        b.set(10, Some(1));
        b.set(20, Some(1));
        b.set(30, Some(2));
        b.set(40, None);
        b.set(50, Some(3));
        let lane = b.finish(0, 60);
        assert_eq!(lane.len(), 3);
        assert_eq!(lane.get(0), (10, 30, 1));
        assert_eq!(lane.get(2), (50, 60, 3));
        assert_eq!(lane.visible(0, 10), 0..0);
        assert_eq!(lane.visible(35, 55), 1..3);
        assert_eq!(lane.at(45), None);
        assert_eq!(lane.at(31), Some(1));
    }
}
