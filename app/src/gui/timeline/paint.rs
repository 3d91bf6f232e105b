//! Turns lanes into rectangles in one [`Mesh`]: work grows with pixels, not events.
//!
//! Per lane: two binary searches bound the visible intervals. Few of them: each is drawn,
//! and runs narrower than a pixel fold into one rect whose opacity is the share of time
//! they cover. Many: each pixel column reads the lane's [`Summary`] (coverage and dominant
//! value), and equal neighbouring columns merge into one rect.

use super::lane::Lane;
use super::summary::{Bucket, Summary};
use super::view::TimeView;
use egui::{Color32, Mesh, Pos2, Rangef, Rect};

/// Visible intervals per pixel of width above which the summary is drawn instead.
const DIRECT_PER_PX: usize = 3;

/// Least opacity of a folded run, so single short events stay visible.
const MIN_ALPHA: f32 = 0.35;

/// What a frame draws into: the canvas rect, the view and reusable buffers.
pub struct Canvas<'a> {
    pub mesh: &'a mut Mesh,
    pub rect: Rect,
    pub view: TimeView,
    pub columns: &'a mut Vec<Bucket>,
}

impl Canvas<'_> {
    fn width(&self) -> f32 {
        self.rect.width()
    }

    /// Screen x of `ts`, clamped just outside the canvas (f64 until clamped: deep zoom).
    fn x(&self, ts: f64) -> f32 {
        let x = self
            .view
            .x_from_ts(ts)
            .clamp(-4.0, f64::from(self.width()) + 4.0);
        self.rect.left() + x as f32
    }

    fn rect(&mut self, x0: f32, x1: f32, y: Rangef, colour: Color32) {
        let r = Rect::from_x_y_ranges(x0..=x1.max(x0 + 1.0), y);
        self.mesh.add_colored_rect(r, colour);
    }

    /// Visible time range as whole ns.
    fn time_range(&self) -> (u64, u64) {
        let t0 = self.view.start_ns.max(0.0) as u64;
        let t1 = self.view.end_ns(self.width()).max(0.0).ceil() as u64 + 1;
        (t0, t1)
    }

    /// Fills `self.columns` from a summary; false when zoomed in past it.
    fn summary_columns(&mut self, summary: &Summary) -> bool {
        let n = self.width().ceil().max(1.0) as usize;
        self.columns.resize(n, Bucket::default());
        summary
            .columns(self.view.start_ns, self.view.ns_per_px, self.columns)
            .is_some()
    }

    /// Draws `lane` in rows `y`, colouring each value with `colour`.
    pub fn lane(&mut self, lane: &Lane, y: Rangef, colour: &dyn Fn(u32) -> Color32) {
        let (t0, t1) = self.time_range();
        let visible = lane.visible(t0, t1);
        let many = visible.len() > DIRECT_PER_PX * self.width() as usize;
        if many && self.summary_columns(lane.summary()) {
            self.summary_rects(y, colour);
        } else {
            self.interval_rects(lane, visible, y, colour);
        }
    }

    fn interval_rects(
        &mut self,
        lane: &Lane,
        visible: std::ops::Range<usize>,
        y: Rangef,
        colour: &dyn Fn(u32) -> Color32,
    ) {
        // A run of sub-pixel intervals: its x span, covered px and the value of its widest.
        let mut fold: Option<(f32, f32, f32, u32, f32)> = None;
        let flush = |c: &mut Self, fold: &mut Option<(f32, f32, f32, u32, f32)>| {
            if let Some((x0, x1, covered, value, _)) = fold.take() {
                let alpha = (covered / (x1 - x0).max(1.0)).clamp(MIN_ALPHA, 1.0);
                c.rect(x0, x1, y, colour(value).gamma_multiply(alpha));
            }
        };
        for i in visible {
            let (s, e, value) = lane.get(i);
            let (x0, x1) = (self.x(s as f64), self.x(e as f64));
            let w = x1 - x0;
            if w >= 1.0 {
                flush(self, &mut fold);
                self.rect(x0, x1, y, colour(value));
                continue;
            }
            match &mut fold {
                Some((_, fx1, covered, fv, widest)) if x0 < *fx1 + 1.0 => {
                    *fx1 = x1.max(*fx1);
                    *covered += w;
                    if w > *widest {
                        (*fv, *widest) = (value, w);
                    }
                }
                _ => {
                    flush(self, &mut fold);
                    fold = Some((x0, x1, w, value, w));
                }
            }
        }
        flush(self, &mut fold);
    }

    fn summary_rects(&mut self, y: Rangef, colour: &dyn Fn(u32) -> Color32) {
        let ns_per_col = self.view.ns_per_px as f32;
        let left = self.rect.left();
        let mut run: Option<(usize, u32, u8)> = None;
        let n = self.columns.len();
        for i in 0..=n {
            // Coverage quantised to 8 steps so equal neighbours merge.
            let here = self.columns.get(i).and_then(|b| {
                let share = (b.covered_ns / ns_per_col).clamp(0.0, 1.0);
                (share > 0.0 || b.count > 0).then(|| (b.dominant, (share * 8.0).ceil() as u8))
            });
            match (run, here) {
                (Some((_, v, q)), Some((hv, hq))) if v == hv && q == hq => {}
                _ => {
                    if let Some((start, v, q)) = run {
                        let alpha = (f32::from(q) / 8.0).max(MIN_ALPHA);
                        let c = colour(v).gamma_multiply(alpha);
                        self.rect(left + start as f32, left + i as f32, y, c);
                    }
                    run = here.map(|(v, q)| (i, v, q));
                }
            }
        }
    }

    /// Draws event density as bars (height: events per column relative to the busiest).
    pub fn density(&mut self, summary: &Summary, ts: &[u64], events: &[u32], y: Rangef) {
        if !self.summary_columns(summary) {
            // Zoomed in past the summary: few events in view, count them directly.
            let (t0, t1) = self.time_range();
            let lo = events.partition_point(|&i| ts[i as usize] < t0);
            let hi = events.partition_point(|&i| ts[i as usize] < t1);
            self.columns.iter_mut().for_each(|c| *c = Bucket::default());
            for &i in &events[lo..hi] {
                let x = self.view.x_from_ts(ts[i as usize] as f64);
                if let Some(c) = self.columns.get_mut(x.max(0.0) as usize) {
                    c.count += 1;
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
        let left = self.rect.left();
        for i in 0..self.columns.len() {
            let n = self.columns[i].count;
            if n == 0 {
                continue;
            }
            // sqrt: a single event still shows next to a burst of thousands.
            let h = (n as f32 / max).sqrt().max(0.2) * y.span();
            let x = left + i as f32;
            let r = Rect::from_min_max(Pos2::new(x, y.max - h), Pos2::new(x + 1.0, y.max));
            self.mesh.add_colored_rect(r, super::super::theme::DENSITY);
        }
    }
}
