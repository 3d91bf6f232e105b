//! Text labels on the timeline that never cover each other nor leave the canvas: each goes
//! at the spot asked, else stacked a line above (then below), slid left to stay inside the
//! canvas's right edge; a label with no free spot is left out (its tooltip still says it).

use egui::{Color32, FontId, Painter, Pos2, Rect, Vec2};

/// Longest label drawn; the hover text has the whole of it.
const MAX_CHARS: usize = 48;
/// Lines tried above and below the asked spot.
const LEVELS: i32 = 3;

/// The labels placed this frame.
pub struct LabelPlacer {
    bounds: Rect,
    placed: Vec<Rect>,
}

impl LabelPlacer {
    /// Labels inside `bounds` (the canvas).
    pub fn new(bounds: Rect) -> LabelPlacer {
        LabelPlacer {
            bounds,
            placed: Vec::new(),
        }
    }

    /// Where the labels went.
    pub fn into_placed(self) -> Vec<Rect> {
        self.placed
    }

    /// Draws `text` with its bottom corner (left, or right when `right_aligned`) at `at` or
    /// the nearest free spot; returns where, or None when it found none.
    pub fn place(
        &mut self,
        painter: &Painter,
        at: Pos2,
        right_aligned: bool,
        text: &str,
        font: FontId,
        colour: Color32,
    ) -> Option<Rect> {
        let text = shortened(text);
        let galley = painter.layout_no_wrap(text, font, colour);
        let size = galley.size() + Vec2::new(4.0, 0.0);
        let left = if right_aligned { at.x - size.x } else { at.x };
        let x = left
            .min(self.bounds.right() - size.x)
            .max(self.bounds.left());
        let spot = (0..=LEVELS)
            .flat_map(|k| [-k, k])
            .map(|k| {
                let bottom = at.y + k as f32 * size.y;
                Rect::from_min_size(Pos2::new(x, bottom - size.y), size)
            })
            .find(|r| {
                self.bounds.contains_rect(*r) && !self.placed.iter().any(|p| p.intersects(*r))
            })?;
        painter.rect_filled(spot, 2.0, Color32::from_black_alpha(170));
        painter.galley(spot.min + Vec2::new(2.0, 0.0), galley, colour);
        self.placed.push(spot);
        Some(spot)
    }
}

/// `text` cut to [`MAX_CHARS`] characters with an ellipsis.
fn shortened(text: &str) -> String {
    if text.chars().count() <= MAX_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}
