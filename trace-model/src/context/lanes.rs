//! Columnar interval lanes: non-overlapping `[start, end)` intervals sorted by start, each with
//! a value. Both starts and ends are sorted, so "what covers t" and "what overlaps [a, b)" are
//! binary searches.

use std::ops::Range;

/// Non-overlapping intervals in time order, one column per field.
#[derive(Clone, Debug)]
pub struct IntervalLane<T> {
    start: Vec<u64>,
    end: Vec<u64>,
    value: Vec<T>,
}

impl<T> Default for IntervalLane<T> {
    fn default() -> Self {
        IntervalLane {
            start: Vec::new(),
            end: Vec::new(),
            value: Vec::new(),
        }
    }
}

/// One interval read back from a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval<'a, T> {
    pub start_ns: u64,
    pub end_ns: u64,
    pub value: &'a T,
}

impl<T> IntervalLane<T> {
    /// Appends an interval. Intervals must come in time order; one that starts before the
    /// previous end is clipped to it (the lanes are built by a single time-ordered pass, so
    /// this only absorbs equal timestamps).
    pub fn push(&mut self, start_ns: u64, end_ns: u64, value: T) {
        let start_ns = self.end.last().map_or(start_ns, |&e| start_ns.max(e));
        let end_ns = end_ns.max(start_ns);
        self.start.push(start_ns);
        self.end.push(end_ns);
        self.value.push(value);
    }

    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// True when the lane is empty.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// Interval `i`.
    pub fn get(&self, i: usize) -> Interval<'_, T> {
        Interval {
            start_ns: self.start[i],
            end_ns: self.end[i],
            value: &self.value[i],
        }
    }

    /// The interval covering `ts` (start <= ts < end), if any. A zero-length interval
    /// covers its own start.
    pub fn at(&self, ts: u64) -> Option<Interval<'_, T>> {
        let i = self.start.partition_point(|&s| s <= ts).checked_sub(1)?;
        let covers = self.end[i] > ts || self.start[i] == self.end[i] && self.start[i] == ts;
        covers.then(|| self.get(i))
    }

    /// Indices of the intervals overlapping `[start_ns, end_ns)`.
    pub fn overlapping(&self, start_ns: u64, end_ns: u64) -> Range<usize> {
        let first = self.end.partition_point(|&e| e <= start_ns);
        let last = self.start.partition_point(|&s| s < end_ns);
        first..last.max(first)
    }

    /// All intervals in time order.
    pub fn iter(&self) -> impl Iterator<Item = Interval<'_, T>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Total covered time.
    pub fn total_ns(&self) -> u64 {
        self.start.iter().zip(&self.end).map(|(s, e)| e - s).sum()
    }

    /// The lane as its columns: starts, ends, values.
    pub fn parts(&self) -> (&[u64], &[u64], &[T]) {
        (&self.start, &self.end, &self.value)
    }

    /// A lane from another's [`Self::parts`], checked: as many starts, ends and values, each
    /// interval ending at or after its start and starting at or after the previous end.
    pub fn from_parts(start: Vec<u64>, end: Vec<u64>, value: Vec<T>) -> Result<Self, String> {
        if start.len() != end.len() || start.len() != value.len() {
            return Err(format!(
                "{} starts, {} ends and {} values",
                start.len(),
                end.len(),
                value.len()
            ));
        }
        let ordered = start.iter().zip(&end).all(|(s, e)| s <= e)
            && end.iter().zip(start.iter().skip(1)).all(|(e, s)| e <= s);
        if !ordered {
            return Err("intervals out of order or overlapping".into());
        }
        Ok(IntervalLane { start, end, value })
    }

    /// Resident bytes.
    pub fn heap_bytes(&self) -> usize {
        self.start.capacity() * 16 + self.value.capacity() * std::mem::size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stabbing_and_overlap_queries() {
        let mut lane = IntervalLane::default();
        lane.push(10, 20, 'a');
        lane.push(20, 30, 'b');
        lane.push(40, 40, 'c');
        lane.push(50, 60, 'd');
        assert_eq!(lane.at(9), None);
        assert_eq!(lane.at(10).map(|i| *i.value), Some('a'));
        assert_eq!(lane.at(20).map(|i| *i.value), Some('b'));
        assert_eq!(lane.at(35), None);
        assert_eq!(lane.at(40).map(|i| *i.value), Some('c'));
        assert_eq!(lane.at(60), None);
        assert_eq!(lane.overlapping(15, 45), 0..3);
        assert_eq!(lane.overlapping(60, 70), 4..4);
        assert_eq!(lane.total_ns(), 30);
    }

    #[test]
    fn out_of_order_start_is_clipped() {
        let mut lane = IntervalLane::default();
        lane.push(10, 20, 1);
        lane.push(15, 25, 2);
        assert_eq!(lane.get(1).start_ns, 20);
    }
}
