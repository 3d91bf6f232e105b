//! The visible time window and the mapping between nanoseconds and screen x.

/// Which nanoseconds the timeline shows: `start_ns` at the canvas's left edge, `ns_per_px`
/// per point. f64 keeps sub-ns precision at deep zoom on traces with 10^11 ns timestamps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeView {
    pub start_ns: f64,
    pub ns_per_px: f64,
}

/// Deepest zoom: 1 ns over 20 points.
const MIN_NS_PER_PX: f64 = 0.05;

impl Default for TimeView {
    fn default() -> Self {
        TimeView {
            start_ns: 0.0,
            ns_per_px: 1000.0,
        }
    }
}

impl TimeView {
    /// A view showing `[t0, t1]` across `width_px`.
    pub fn fit(t0: u64, t1: u64, width_px: f32) -> TimeView {
        let span = (t1.saturating_sub(t0)).max(1) as f64;
        // A small margin so the first and last events are not on the edge.
        let ns_per_px = span * 1.02 / f64::from(width_px.max(1.0));
        TimeView {
            start_ns: t0 as f64 - span * 0.01,
            ns_per_px: ns_per_px.max(MIN_NS_PER_PX),
        }
    }

    /// Screen x (relative to the canvas's left edge) of `ts`.
    pub fn x_from_ts(&self, ts: f64) -> f64 {
        (ts - self.start_ns) / self.ns_per_px
    }

    /// Time at screen x (relative to the canvas's left edge).
    pub fn ts_from_x(&self, x: f64) -> f64 {
        self.start_ns + x * self.ns_per_px
    }

    /// The end of the view for a canvas `width_px` wide.
    pub fn end_ns(&self, width_px: f32) -> f64 {
        self.ts_from_x(f64::from(width_px))
    }

    /// Zooms by `factor` (> 1 zooms in) keeping the time under `anchor_x` in place.
    pub fn zoom(&mut self, factor: f64, anchor_x: f64) {
        let anchor_ts = self.ts_from_x(anchor_x);
        self.ns_per_px = (self.ns_per_px / factor).max(MIN_NS_PER_PX);
        self.start_ns = anchor_ts - anchor_x * self.ns_per_px;
    }

    /// Moves the view by `dx` points (positive: later times come into view).
    pub fn pan_px(&mut self, dx: f64) {
        self.start_ns += dx * self.ns_per_px;
    }

    /// Centres `ts` in a canvas `width_px` wide, keeping the zoom.
    pub fn center_on(&mut self, ts: f64, width_px: f32) {
        self.start_ns = ts - f64::from(width_px) / 2.0 * self.ns_per_px;
    }

    /// Keeps the view on the trace `[t0, t1]` shown in `width_px`: no further out than the
    /// fit, and no further past either end than the fit's margin.
    pub fn clamp_to(&mut self, t0: u64, t1: u64, width_px: f32) {
        let fit = TimeView::fit(t0, t1, width_px);
        self.ns_per_px = self.ns_per_px.min(fit.ns_per_px);
        let margin = t0 as f64 - fit.start_ns;
        let shown = self.ns_per_px * f64::from(width_px);
        let (lo, hi) = (fit.start_ns, t1 as f64 + margin - shown);
        self.start_ns = self.start_ns.min(hi).max(lo);
    }

    /// Shows `[t0, t1]` with a margin on each side.
    pub fn show_range(&mut self, t0: u64, t1: u64, width_px: f32) {
        *self = TimeView::fit(t0, t1, width_px * 0.8);
        self.start_ns -= f64::from(width_px) * 0.1 * self.ns_per_px;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_anchor_and_fit_shows_everything() {
        let mut v = TimeView::fit(1_000, 101_000, 1000.0);
        assert!(v.x_from_ts(1_000.0) > 0.0 && v.x_from_ts(101_000.0) < 1000.0);
        let before = v.ts_from_x(250.0);
        v.zoom(4.0, 250.0);
        assert!((v.ts_from_x(250.0) - before).abs() < 1e-6);
        assert!((v.ns_per_px - 102.0 / 4.0).abs() < 1e-9);
        v.pan_px(10.0);
        assert!((v.ts_from_x(240.0) - before).abs() < 1e-6);
    }

    #[test]
    fn clamping_keeps_the_view_on_the_trace() {
        let fit = TimeView::fit(1_000, 101_000, 1000.0);
        let mut v = fit;
        v.zoom(0.25, 500.0);
        v.clamp_to(1_000, 101_000, 1000.0);
        assert_eq!(v, fit, "no further out than the fit");
        v.zoom(10.0, 500.0);
        v.pan_px(-1e6);
        v.clamp_to(1_000, 101_000, 1000.0);
        assert!((v.start_ns - fit.start_ns).abs() < 1e-6, "left end: {v:?}");
        v.pan_px(1e6);
        v.clamp_to(1_000, 101_000, 1000.0);
        assert!(
            (v.end_ns(1000.0) - fit.end_ns(1000.0)).abs() < 1e-6,
            "right end"
        );
    }
}
