//! Mip levels of a lane: per time bucket, how much of it is covered, by which value mostly,
//! and how many items start there. Level `k` buckets are `2^k` finest buckets wide, so a
//! zoomed-out frame reads a few buckets per pixel column instead of millions of intervals.

/// The aggregate of one bucket (or of one pixel column).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bucket {
    /// Nanoseconds of the bucket covered by intervals.
    pub covered_ns: f32,
    /// The value covering most of the bucket.
    pub dominant: u32,
    dominant_ns: f32,
    /// Items starting in the bucket.
    pub count: u32,
}

impl Bucket {
    /// Adds `other` (a neighbouring bucket) into `self`.
    pub fn merge(&mut self, other: &Bucket) {
        self.covered_ns += other.covered_ns;
        self.count += other.count;
        if other.dominant_ns > self.dominant_ns {
            self.dominant = other.dominant;
            self.dominant_ns = other.dominant_ns;
        }
    }

    /// Adds `ns` of `value`, and `starts` items starting here.
    pub fn add(&mut self, ns: f32, value: u32, starts: u32) {
        self.covered_ns += ns;
        self.count += starts;
        if ns >= self.dominant_ns {
            self.dominant = value;
            self.dominant_ns = ns;
        }
    }
}

/// The pyramid: `levels[0]` is the finest.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    origin_ns: u64,
    /// Finest bucket width is `1 << shift` ns.
    shift: u32,
    levels: Vec<Vec<Bucket>>,
}

/// Finest buckets per summarised item: a quarter keeps the pyramid at half the size of the
/// lane while a finest bucket still holds only a few items on average.
const ITEMS_PER_BUCKET: u64 = 4;

impl Summary {
    /// Summarises `items` (`start, end, value`, sorted by start) over `[origin, end_ns]`, in
    /// about `item_count / 4` finest buckets, at most `max_buckets` (up to twice as many
    /// after rounding the bucket width to a power of two).
    pub fn build(
        origin_ns: u64,
        end_ns: u64,
        item_count: usize,
        max_buckets: u64,
        items: impl Iterator<Item = (u64, u64, u32)>,
    ) -> Summary {
        let (shift, mut finest) = Self::finest(origin_ns, end_ns, item_count, max_buckets);
        let n = finest.len();
        let width = 1u64 << shift;
        for (start, end, value) in items {
            let (s, e) = (start.max(origin_ns) - origin_ns, end.max(start) - origin_ns);
            let (first, last) = ((s >> shift) as usize, ((e >> shift) as usize).min(n - 1));
            for (b, bucket) in finest[first..=last].iter_mut().enumerate() {
                let lo = ((first + b) as u64) << shift;
                let ns = e.min(lo + width) - s.max(lo);
                bucket.add(ns as f32, value, u32::from(b == 0));
            }
        }
        Self::pyramid(origin_ns, shift, finest)
    }

    /// Counts `times` (sorted, within `[origin, end_ns]`) per bucket: the summary of
    /// points, which cover nothing and start one item each.
    pub fn of_points(
        origin_ns: u64,
        end_ns: u64,
        point_count: usize,
        max_buckets: u64,
        times: impl Iterator<Item = u64>,
    ) -> Summary {
        let (shift, mut finest) = Self::finest(origin_ns, end_ns, point_count, max_buckets);
        let last = finest.len() - 1;
        for t in times {
            let b = ((t.saturating_sub(origin_ns) >> shift) as usize).min(last);
            finest[b].count += 1;
        }
        Self::pyramid(origin_ns, shift, finest)
    }

    /// The finest level's bucket width (as a shift) and its empty buckets.
    fn finest(
        origin_ns: u64,
        end_ns: u64,
        item_count: usize,
        max_buckets: u64,
    ) -> (u32, Vec<Bucket>) {
        let span = end_ns.saturating_sub(origin_ns).max(1);
        let target = (item_count as u64 / ITEMS_PER_BUCKET).clamp(1, max_buckets.max(1));
        let shift = (span / target).max(1).ilog2();
        let n = (span >> shift) as usize + 1;
        (shift, vec![Bucket::default(); n])
    }

    /// The coarser levels over `finest`, each merging pairs of the one below.
    fn pyramid(origin_ns: u64, shift: u32, finest: Vec<Bucket>) -> Summary {
        let mut levels = vec![finest];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let next = levels
                .last()
                .expect("checked")
                .chunks(2)
                .map(|pair| {
                    let mut b = pair[0];
                    if let Some(right) = pair.get(1) {
                        b.merge(right);
                    }
                    b
                })
                .collect();
            levels.push(next);
        }
        Summary {
            origin_ns,
            shift,
            levels,
        }
    }

    /// Width of a finest bucket in ns.
    pub fn finest_ns(&self) -> f64 {
        (1u64 << self.shift) as f64
    }

    /// Fills `out[i]` with the aggregate of column `i` (`[x0 + i*ns_per_col, ...)`), reading
    /// the coarsest level whose buckets are no wider than a column. `None` when even the
    /// finest buckets are wider than a column (zoomed in past the summary).
    pub fn columns(&self, x0_ns: f64, ns_per_col: f64, out: &mut [Bucket]) -> Option<()> {
        let finest = self.finest_ns();
        if ns_per_col < finest || self.levels.is_empty() {
            return None;
        }
        let level = ((ns_per_col / finest).log2().floor() as usize).min(self.levels.len() - 1);
        let buckets = &self.levels[level];
        let width = finest * (1u64 << level) as f64;
        let rel0 = x0_ns - self.origin_ns as f64;
        // Bucket width is a power of two: multiplying by its inverse is exact.
        let per_bucket = 1.0 / width;
        for (i, col) in out.iter_mut().enumerate() {
            let a = rel0 + i as f64 * ns_per_col;
            let (lo, hi) = (
                (a * per_bucket).floor(),
                ((a + ns_per_col) * per_bucket).floor(),
            );
            *col = Bucket::default();
            if hi < 0.0 {
                continue;
            }
            let lo = lo.max(0.0) as usize;
            let hi = (hi as usize).min(buckets.len());
            for b in buckets.get(lo..hi).unwrap_or_default() {
                col.merge(b);
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_sum_coverage_and_pick_the_dominant_value() {
        // Value 7 covers [0, 600), value 9 covers [600, 700): over 1000 ns.
        let items = [(0, 600, 7), (600, 700, 9)];
        let s = Summary::build(0, 1000, 400, 1 << 22, items.into_iter());
        let mut out = [Bucket::default(); 1];
        s.columns(0.0, 1024.0, &mut out).unwrap();
        assert!((out[0].covered_ns - 700.0).abs() < 1.0, "{:?}", out[0]);
        assert_eq!(out[0].dominant, 7);
        assert_eq!(out[0].count, 2);
        // Zoomed in past the finest level there is no summary to read.
        assert!(s.columns(0.0, s.finest_ns() / 2.0, &mut out).is_none());
    }

    #[test]
    fn points_count_as_zero_length_items_do() {
        let mut times: Vec<u64> = (0..5000u64).map(|k| k * k % 99_991 + 10).collect();
        times.sort_unstable();
        let items = times.iter().map(|&t| (t, t, 0));
        let as_items = Summary::build(0, 100_000, times.len(), 1 << 8, items);
        let as_points = Summary::of_points(0, 100_000, times.len(), 1 << 8, times.into_iter());
        let (mut a, mut b) = ([Bucket::default(); 64], [Bucket::default(); 64]);
        for ns_per_col in [400.0, 1600.0, 6400.0] {
            as_items.columns(0.0, ns_per_col, &mut a).unwrap();
            as_points.columns(0.0, ns_per_col, &mut b).unwrap();
            let counts = |c: &[Bucket]| c.iter().map(|b| b.count).collect::<Vec<_>>();
            assert_eq!(counts(&a), counts(&b));
            assert!(b.iter().map(|b| b.count).sum::<u32>() > 0);
        }
    }
}
