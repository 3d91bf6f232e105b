//! Turns lanes into pixels: every row becomes lines of one texture, one texel per pixel
//! column, so a frame's work grows with pixels, not events, and the GPU gets one quad per
//! row whatever the zoom.
//!
//! Per lane: two binary searches bound the visible intervals. Few of them: each adds its
//! share of every column it touches (sub-pixel intervals fold into their column, edges get
//! partial coverage). Many: each column reads the lane's [`Summary`] instead. A column's
//! colour is the value covering most of it, its opacity the share of time covered.

use super::lane::Lane;
use super::summary::{Bucket, Summary};
use super::view::TimeView;
use egui::{Color32, ColorImage};

/// Visible intervals per pixel of width above which the summary is read instead.
const DIRECT_PER_PX: usize = 1;

/// Events in view per pixel of width up to which a density row counts them one by one
/// rather than by a binary search per column (some 20 steps each).
const DIRECT_DENSITY_PER_PX: usize = 16;

/// Least opacity of a column with something in it, so single short events stay visible.
const MIN_ALPHA: f32 = 0.35;

/// Texture lines of a density row: its bar heights are quantised to this many steps.
pub const DENSITY_LINES: usize = 8;

/// One frame's pixels: `lines` texture lines of `width` columns, and a reusable column buffer.
pub struct Raster<'a> {
    pub view: TimeView,
    width: usize,
    pixels: Vec<Color32>,
    columns: &'a mut Vec<Bucket>,
}

impl<'a> Raster<'a> {
    /// Transparent pixels for a canvas `width` columns wide and `lines` lines high.
    pub fn new(view: TimeView, width: usize, lines: usize, columns: &'a mut Vec<Bucket>) -> Self {
        let width = width.max(1);
        columns.resize(width, Bucket::default());
        Raster {
            view,
            width,
            pixels: vec![Color32::TRANSPARENT; width * lines.max(1)],
            columns,
        }
    }

    /// Paints `count` lines from `first` in `colour` (a row's background).
    pub fn fill_lines(&mut self, first: usize, count: usize, colour: Color32) {
        self.pixels[first * self.width..(first + count) * self.width].fill(colour);
    }

    /// The texture image.
    pub fn into_image(self) -> ColorImage {
        let lines = self.pixels.len() / self.width;
        ColorImage::new([self.width, lines], self.pixels)
    }

    /// Visible time range as whole ns.
    fn time_range(&self) -> (u64, u64) {
        let t0 = self.view.start_ns.max(0.0) as u64;
        let t1 = self.view.end_ns(self.width as f32).max(0.0).ceil() as u64 + 1;
        (t0, t1)
    }

    /// Fills the columns from a summary; false when zoomed in past it.
    fn summary_columns(&mut self, summary: &Summary) -> bool {
        summary
            .columns(self.view.start_ns, self.view.ns_per_px, self.columns)
            .is_some()
    }

    /// Fills the columns from the intervals `visible` of `lane`: up to a few per column,
    /// so this loop is the frame's hot spot and avoids divisions and bounds checks.
    fn interval_columns(&mut self, lane: &Lane, visible: std::ops::Range<usize>) {
        self.columns.fill(Bucket::default());
        let last = self.width as f64;
        let (origin, ns_per_px) = (self.view.start_ns, self.view.ns_per_px);
        let px_per_ns = 1.0 / ns_per_px;
        let (starts, ends, values) = lane.columns(visible);
        for ((&s, &e), &value) in starts.iter().zip(ends).zip(values) {
            let x0 = (s as f64 - origin) * px_per_ns;
            let x1 = (e as f64 - origin) * px_per_ns;
            if x1 < 0.0 || x0 >= last {
                continue; // Culled by whole ns: just outside the canvas.
            }
            let (x0, x1) = (x0.max(0.0), x1.min(last));
            let first = x0 as usize; // x0 >= 0 and < width: the floor, in range.
            let col_end = (first + 1) as f64;
            if x1 <= col_end {
                // Inside one column: most intervals when zoomed out.
                self.columns[first].add(((x1 - x0) * ns_per_px) as f32, value, 1);
                continue;
            }
            self.columns[first].add(((col_end - x0) * ns_per_px) as f32, value, 1);
            let end = (x1.ceil() as usize).min(self.width);
            for (c, col) in (first + 1..end).zip(&mut self.columns[first + 1..end]) {
                let px = x1.min((c + 1) as f64) - c as f64;
                col.add((px * ns_per_px) as f32, value, 0);
            }
        }
    }

    /// Draws `lane` into texture line `line`, colouring each value with `colour`.
    pub fn lane(&mut self, line: usize, lane: &Lane, colour: &dyn Fn(u32) -> Color32) {
        self.lane_lines(lane, &[(line, colour)]);
    }

    /// Draws `lane` into several texture lines, each with its own colours (transparent:
    /// not drawn there), reading the lane once.
    pub fn lane_lines(&mut self, lane: &Lane, lines: &[(usize, &dyn Fn(u32) -> Color32)]) {
        let (t0, t1) = self.time_range();
        let visible = lane.visible(t0, t1);
        if visible.is_empty() {
            return;
        }
        let many = visible.len() > DIRECT_PER_PX * self.width;
        if !(many && self.summary_columns(lane.summary())) {
            self.interval_columns(lane, visible);
        }
        let cols_per_ns = (1.0 / self.view.ns_per_px) as f32;
        for &(line, colour) in lines {
            let out = &mut self.pixels[line * self.width..(line + 1) * self.width];
            // Neighbouring columns mostly share a value: remember its colour.
            let mut last: Option<(u32, Color32)> = None;
            for (px, col) in out.iter_mut().zip(self.columns.iter()) {
                let share = (col.covered_ns * cols_per_ns).clamp(0.0, 1.0);
                if share <= 0.0 && col.count == 0 {
                    continue;
                }
                let base = match last {
                    Some((v, c)) if v == col.dominant => c,
                    _ => {
                        let c = colour(col.dominant);
                        last = Some((col.dominant, c));
                        c
                    }
                };
                *px = over(*px, base, share.max(MIN_ALPHA));
            }
        }
    }

    /// Draws event density as bars over [`DENSITY_LINES`] lines from `first_line` (height:
    /// events per column relative to the busiest).
    pub fn density(
        &mut self,
        first_line: usize,
        summary: &Summary,
        ts: &[u64],
        events: &[u32],
        colour: Color32,
    ) {
        if !self.summary_columns(summary) {
            // Zoomed in past the summary. Few events in view: each adds one to its column.
            // Many: each column's are those before its end and not before the previous
            // column's, a binary search per column whatever their number.
            let (t0, t1) = self.time_range();
            let lo = events.partition_point(|&i| ts[i as usize] < t0);
            let hi = lo + events[lo..].partition_point(|&i| ts[i as usize] < t1);
            self.columns.fill(Bucket::default());
            if hi - lo <= DIRECT_DENSITY_PER_PX * self.width {
                for &i in &events[lo..hi] {
                    let x = self.view.x_from_ts(ts[i as usize] as f64);
                    if let Some(c) = self.columns.get_mut(x.max(0.0) as usize) {
                        c.count += 1;
                    }
                }
            } else {
                let mut from = lo;
                for (c, col) in self.columns.iter_mut().enumerate() {
                    let col_end = self.view.ts_from_x((c + 1) as f64);
                    let in_column = &events[from..hi];
                    let n = in_column.partition_point(|&i| (ts[i as usize] as f64) < col_end);
                    col.count = n as u32;
                    from += n;
                }
            }
        }
        let max = self
            .columns
            .iter()
            .map(|c| c.count)
            .max()
            .unwrap_or(0)
            .max(1) as f32;
        for (x, col) in self.columns.iter().enumerate() {
            if col.count == 0 {
                continue;
            }
            // sqrt: a single event still shows next to a burst of thousands.
            let h = (col.count as f32 / max).sqrt().max(0.2) * DENSITY_LINES as f32;
            let h = (h.round() as usize).clamp(1, DENSITY_LINES);
            for line in first_line + DENSITY_LINES - h..first_line + DENSITY_LINES {
                self.pixels[line * self.width + x] = colour;
            }
        }
    }
}

/// `colour` at opacity `alpha` (0..=1) over `below`, in gamma space like
/// [`Color32::blend`] and [`Color32::gamma_multiply`], in integers: a frame does this for
/// every column of every row.
fn over(below: Color32, colour: Color32, alpha: f32) -> Color32 {
    let alpha = (alpha * 256.0) as u32;
    let scale = |x: u8| (u32::from(x) * alpha + 128) >> 8;
    let [r, g, b, a] = colour.to_array().map(scale);
    let keep = 255 - a.min(255);
    let under = |x: u8| (u32::from(x) * keep + 127) / 255;
    let [br, bg, bb, ba] = below.to_array();
    let add = |top: u32, x: u8| (top + under(x)).min(255) as u8;
    Color32::from_rgba_premultiplied(add(r, br), add(g, bg), add(b, bb), add(a, ba))
}

#[cfg(test)]
mod tests {
    use super::super::lane::LaneBuilder;
    use super::*;

    fn red(_: u32) -> Color32 {
        Color32::RED
    }

    #[test]
    fn intervals_cover_their_columns_and_short_ones_still_show() {
        // 10 ns per column, 10 columns: [15, 45) covers columns 1..=4, half of 1 and 4;
        // [71, 72) is a tenth of column 7.
        let mut b = LaneBuilder::default();
        b.push(15, 45, 1);
        b.push(71, 72, 2);
        let lane = b.finish(0, 100);
        let view = TimeView {
            start_ns: 0.0,
            ns_per_px: 10.0,
        };
        let mut columns = Vec::new();
        let mut r = Raster::new(view, 10, 1, &mut columns);
        r.lane(0, &lane, &red);
        let px = r.into_image().pixels;
        let near = |a: Color32, b: Color32| {
            let (a, b) = (a.to_array(), b.to_array());
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1),
                "{a:?} vs {b:?}"
            );
        };
        near(px[0], Color32::TRANSPARENT);
        near(px[1], Color32::RED.gamma_multiply(0.5));
        near(px[2], Color32::RED);
        near(px[4], Color32::RED.gamma_multiply(0.5));
        near(px[5], Color32::TRANSPARENT);
        near(px[7], Color32::RED.gamma_multiply(MIN_ALPHA));
    }

    /// A density row of 10 columns of `ns_per_px` from 0 over events at `ts`: each column's
    /// count, and the row's pixels.
    fn density_row(ts: &[u64], summary: &Summary, ns_per_px: f64) -> (Vec<u32>, ColorImage) {
        let events: Vec<u32> = (0..ts.len() as u32).collect();
        let view = TimeView {
            start_ns: 0.0,
            ns_per_px,
        };
        let mut columns = Vec::new();
        let mut r = Raster::new(view, 10, DENSITY_LINES, &mut columns);
        r.density(0, summary, ts, &events, Color32::RED);
        let bars = r.into_image();
        (columns.iter().map(|c| c.count).collect(), bars)
    }

    #[test]
    fn density_counts_each_columns_events_when_zoomed_past_its_summary() {
        // 10 ns per column over [0, 100): events at 5 | 15 16 17 | 95, and one after.
        let ts = [5, 15, 16, 17, 95, 200];
        let items = ts.iter().map(|&t| (t, t, 0));
        let summary = Summary::build(0, 200, ts.len(), 1, items);
        let (counts, bars) = density_row(&ts, &summary, 10.0);
        assert_eq!(counts, [1, 3, 0, 0, 0, 0, 0, 0, 0, 1]);
        // The busiest column's bar fills the row; an empty column stays empty.
        assert_eq!(bars.pixels[1], Color32::RED);
        assert!(
            bars.pixels
                .iter()
                .skip(2)
                .step_by(10)
                .all(|&p| p == Color32::TRANSPARENT)
        );
    }

    #[test]
    fn many_events_in_view_are_counted_by_a_binary_search_per_column() {
        let many: Vec<u64> = (0..1000)
            .map(|k| k * k % 997)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert!(many.len() > DIRECT_DENSITY_PER_PX * 10);
        let summary = Summary::of_points(0, 1000, many.len(), 1, many.iter().copied());
        let mut direct = [0u32; 10];
        for &t in &many {
            direct[(t / 100) as usize] += 1;
        }
        assert_eq!(density_row(&many, &summary, 100.0).0, direct);
    }

    #[test]
    fn over_blends_like_egui() {
        let below = Color32::from_rgb(30, 33, 39);
        for colour in [
            Color32::RED,
            Color32::from_rgb(90, 200, 120),
            Color32::WHITE,
        ] {
            for alpha in [0.35, 0.5, 0.8, 1.0] {
                let ours = over(below, colour, alpha).to_array();
                let egui = below.blend(colour.gamma_multiply(alpha)).to_array();
                assert!(
                    ours.iter().zip(&egui).all(|(a, b)| a.abs_diff(*b) <= 2),
                    "{ours:?} vs {egui:?}"
                );
            }
        }
    }
}
