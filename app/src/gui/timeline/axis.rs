//! The time axis: tick spacing on a 1-2-5 scale and time labels with units.

use super::view::TimeView;
use super::{GUTTER_PX, TimelineState};
use egui::{Align2, FontId, Pos2, Rect, Stroke, Ui, Vec2};

/// Minimum distance between labelled ticks, in points.
const MIN_TICK_PX: f64 = 90.0;

/// The tick step (ns) for a view: the smallest 1/2/5 x 10^k step at least
/// [`MIN_TICK_PX`] wide.
pub fn tick_step_ns(ns_per_px: f64) -> f64 {
    let min = ns_per_px * MIN_TICK_PX;
    let mut step = 10f64.powf(min.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if step * m >= min {
            step *= m;
            break;
        }
    }
    step
}

/// Ticks in view: (ts ns, x) pairs.
pub fn ticks(view: &TimeView, width_px: f32) -> impl Iterator<Item = (f64, f64)> + '_ {
    let step = tick_step_ns(view.ns_per_px);
    let first = (view.start_ns / step).ceil() as i64;
    let last = (view.end_ns(width_px) / step).floor() as i64;
    (first..=last).map(move |k| {
        let ts = k as f64 * step;
        (ts, view.x_from_ts(ts))
    })
}

/// An absolute timestamp as the trace prints it (seconds), with as many decimals as the
/// tick step needs: `64.4189 s`, `64.418946 s`, `64.418946123 s`.
pub fn format_ts(ts_ns: f64, step_ns: f64) -> String {
    let decimals = (9.0 - step_ns.max(1.0).log10().floor()).clamp(0.0, 9.0) as usize;
    format!("{:.*} s", decimals, ts_ns / 1e9)
}

/// A span for the axis's corner: as [`crate::units::format_duration`], but seconds with three
/// decimals (`292.450 s`) so that it fits the gutter.
pub fn format_span(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else {
        crate::units::format_duration(ns)
    }
}

/// The axis above the canvas: ticks, their times, and the span in view in the gutter.
pub(super) fn axis_ui(ui: &Ui, state: &TimelineState, rect: Rect) {
    let painter = ui.painter_at(rect.expand2(Vec2::new(GUTTER_PX, 0.0)));
    painter.rect_filled(rect, 0.0, ui.visuals().extreme_bg_color);
    let step = tick_step_ns(state.view.ns_per_px);
    let text = ui.visuals().text_color();
    for (ts, x) in ticks(&state.view, rect.width()) {
        let x = rect.left() + x as f32;
        painter.line_segment(
            [
                Pos2::new(x, rect.bottom() - 6.0),
                Pos2::new(x, rect.bottom()),
            ],
            Stroke::new(1.0, text),
        );
        painter.text(
            Pos2::new(x + 3.0, rect.top() + 3.0),
            Align2::LEFT_TOP,
            format_ts(ts, step),
            FontId::monospace(11.0),
            text,
        );
    }
    // Two short lines fit the gutter whatever the span ("292.450 s" over "in view").
    let span = format_span(state.view.ns_per_px * f64::from(rect.width()));
    painter.text(
        Pos2::new(rect.left() - 6.0, rect.center().y),
        Align2::RIGHT_CENTER,
        format!("{span}\nin view"),
        FontId::proportional(10.0),
        ui.visuals().weak_text_color(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_1_2_5_and_labels_carry_units() {
        assert_eq!(tick_step_ns(1.0), 100.0);
        assert_eq!(tick_step_ns(2.0), 200.0);
        assert_eq!(tick_step_ns(30.0), 5000.0);
        assert_eq!(format_ts(64_418_946_000.0, 1000.0), "64.418946 s");
        assert_eq!(format_ts(64_418_946_000.0, 1e7), "64.42 s");
    }

    #[test]
    fn ticks_fall_inside_the_view() {
        let v = TimeView {
            start_ns: 1_000_000.0,
            ns_per_px: 10.0,
        };
        let t: Vec<_> = ticks(&v, 1000.0).collect();
        assert!(!t.is_empty());
        assert!(t.iter().all(|&(_, x)| (0.0..=1000.0).contains(&x)));
    }
}
