//! Notes pinned to a time (`M` adds one at the cursor): a dashed line across the rows and a
//! flag with the note's first words at the top of the canvas, hovered for the whole text.

use super::TimelineState;
use crate::gui::theme;
use egui::{FontId, Painter, Pos2, Rect, Stroke, Vec2};
use serde::{Deserialize, Serialize};

/// A note at a trace time, on a CPU when one was selected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub ts_ns: u64,
    pub cpu: Option<usize>,
    pub text: String,
}

/// Characters of a note shown on its flag.
const FLAG_CHARS: usize = 24;

/// A note's flag text: its first line, cut.
pub fn flag_text(note: &Note) -> String {
    let first = note.text.lines().next().unwrap_or_default();
    let mut s: String = first.chars().take(FLAG_CHARS).collect();
    if s.is_empty() {
        s.push_str("note");
    } else if first.chars().count() > FLAG_CHARS || note.text.lines().nth(1).is_some() {
        s.push('…');
    }
    s
}

/// Draws each note in view; returns each flag's rect (for hovering), in `state.notes` order.
pub(super) fn paint_notes(painter: &Painter, state: &TimelineState, canvas: Rect) -> Vec<Rect> {
    let mut flags = Vec::with_capacity(state.notes.len());
    for note in &state.notes {
        let x = canvas.left() + state.view.x_from_ts(note.ts_ns as f64) as f32;
        if x < canvas.left() - 1.0 || x > canvas.right() + 1.0 {
            flags.push(Rect::NOTHING);
            continue;
        }
        painter.add(egui::Shape::dashed_line(
            &[Pos2::new(x, canvas.top()), Pos2::new(x, canvas.bottom())],
            Stroke::new(1.0, theme::NOTE),
            4.0,
            3.0,
        ));
        let galley = painter.layout_no_wrap(
            flag_text(note),
            FontId::proportional(11.0),
            egui::Color32::BLACK,
        );
        let size = galley.size() + Vec2::new(8.0, 2.0);
        let left = (x + 1.0).min(canvas.right() - size.x);
        let flag = Rect::from_min_size(Pos2::new(left, canvas.top() + 14.0), size);
        painter.rect_filled(flag, 2.0, theme::NOTE);
        painter.galley(
            flag.left_top() + Vec2::new(4.0, 1.0),
            galley,
            egui::Color32::BLACK,
        );
        flags.push(flag);
    }
    flags
}

/// The tooltip of the note whose flag is under `p` (the last drawn on top).
pub(super) fn hover_note(state: &TimelineState, p: Pos2) -> Option<String> {
    let i = state.note_flags.iter().rposition(|r| r.contains(p))?;
    let note = state.notes.get(i)?;
    let at = format!("note at {:.9} s", note.ts_ns as f64 / 1e9);
    let cpu = note.cpu.map(|c| format!(" on CPU {c}")).unwrap_or_default();
    Some(format!("{at}{cpu}\n{}", note.text))
}
