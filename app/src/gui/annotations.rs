//! The user's own marks on a trace: notes at a time (`M` at the cursor, text editable) and
//! named bookmarks of a view (`B`), listed in the findings panel, each a click away.

use super::Session;
use super::timeline::notes::Note;
use egui::{Key, Ui};
use serde::{Deserialize, Serialize};

/// A named view: the range shown and the cursor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bookmark {
    pub name: String,
    pub start_ns: u64,
    pub end_ns: u64,
    pub cursor_ns: Option<u64>,
}

/// Bookmarks, and which note's text has the keyboard.
#[derive(Clone, Debug, Default)]
pub struct Annotations {
    pub bookmarks: Vec<Bookmark>,
    /// The note just added: its text field takes the keyboard.
    pub editing_note: Option<usize>,
    /// Same for a bookmark's name.
    pub editing_bookmark: Option<usize>,
}

impl Session {
    /// Adds an empty note at the cursor (else the middle of the view) on the selected CPU,
    /// and gives its text field the keyboard.
    pub fn add_note(&mut self) {
        let (t0, t1) = self.view_range();
        let ts = self.timeline.cursor_ns.unwrap_or(t0 + (t1 - t0) / 2);
        let note = Note {
            ts_ns: ts,
            cpu: self.timeline.selected_cpu,
            text: String::new(),
        };
        let notes = &mut self.timeline.notes;
        let at = notes.partition_point(|n| n.ts_ns <= ts);
        notes.insert(at, note);
        self.annotations.editing_note = Some(at);
    }

    /// Bookmarks the view, named after its start; the name field takes the keyboard.
    pub fn add_bookmark(&mut self) {
        let (t0, t1) = self.view_range();
        let marks = &mut self.annotations.bookmarks;
        marks.push(Bookmark {
            name: format!("view at {:.6} s", t0 as f64 / 1e9),
            start_ns: t0,
            end_ns: t1,
            cursor_ns: self.timeline.cursor_ns,
        });
        self.annotations.editing_bookmark = Some(marks.len() - 1);
    }

    /// Shows a bookmark's view and cursor.
    pub fn go_to_bookmark(&mut self, i: usize) {
        if let Some(b) = self.annotations.bookmarks.get(i) {
            // Exactly the view bookmarked (no margin added, as for a finding).
            let width = f64::from(self.timeline.width_px.max(1.0));
            self.timeline.view = super::timeline::view::TimeView {
                start_ns: b.start_ns as f64,
                ns_per_px: (b.end_ns - b.start_ns) as f64 / width,
            };
            self.timeline.cursor_ns = b.cursor_ns;
            self.list.follow_cursor = true;
        }
    }
}

/// `M` adds a note at the cursor, `B` bookmarks the view (not while typing).
pub fn annotation_keys(ui: &Ui, s: &mut Session) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let plain = |k: Key| ui.input(|i| i.modifiers.is_none() && i.key_pressed(k));
    if plain(Key::M) {
        s.add_note();
    }
    if plain(Key::B) {
        s.add_bookmark();
    }
}

/// The notes and bookmarks section of the findings panel.
pub fn annotations_ui(ui: &mut Ui, s: &mut Session) {
    let n = s.timeline.notes.len() + s.annotations.bookmarks.len();
    egui::CollapsingHeader::new(format!("Notes and bookmarks ({n})"))
        .id_salt("notes and bookmarks")
        .default_open(true)
        .show(ui, |ui| {
            if n == 0 {
                ui.weak("M: a note at the cursor · B: bookmark the view");
            }
            notes_ui(ui, s);
            bookmarks_ui(ui, s);
            hidden_lanes_ui(ui, s);
        });
}

/// The hidden task lanes, each with a button to show it again.
fn hidden_lanes_ui(ui: &mut Ui, s: &mut Session) {
    let mut show = None;
    for &pid in &s.timeline.hidden_tasks {
        ui.horizontal(|ui| {
            if ui.small_button("show").clicked() {
                show = Some(pid);
            }
            ui.weak(format!(
                "hidden lane {}",
                super::app::task_name(&s.trace, pid)
            ));
        });
    }
    if let Some(pid) = show {
        let t = &mut s.timeline;
        let hidden = t
            .hidden_tasks
            .iter()
            .copied()
            .filter(|&p| p != pid)
            .collect();
        t.set_task_rows(&s.trace.timeline, t.pinned_tasks.clone(), hidden);
    }
}

fn notes_ui(ui: &mut Ui, s: &mut Session) {
    let mut go = None;
    let mut delete = None;
    let editing = s.annotations.editing_note.take();
    for (i, note) in s.timeline.notes.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let at = format!("{:.6} s", note.ts_ns as f64 / 1e9);
            if ui.link(at).on_hover_text("go to the note").clicked() {
                go = Some((note.ts_ns, note.cpu));
            }
            if ui
                .small_button("x")
                .on_hover_text("delete the note")
                .clicked()
            {
                delete = Some(i);
            }
        });
        let field = ui.add(
            egui::TextEdit::multiline(&mut note.text)
                .hint_text("note")
                .desired_rows(1)
                .desired_width(f32::INFINITY),
        );
        if editing == Some(i) {
            field.request_focus();
        }
    }
    if let Some(i) = delete {
        s.timeline.notes.remove(i);
    }
    if let Some((ts, cpu)) = go {
        s.timeline.selected_cpu = cpu.or(s.timeline.selected_cpu);
        s.set_cursor(ts);
    }
}

fn bookmarks_ui(ui: &mut Ui, s: &mut Session) {
    let mut go = None;
    let mut delete = None;
    let editing = s.annotations.editing_bookmark.take();
    for (i, b) in s.annotations.bookmarks.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            if ui.button("go").on_hover_text("show this view").clicked() {
                go = Some(i);
            }
            if ui
                .small_button("x")
                .on_hover_text("delete the bookmark")
                .clicked()
            {
                delete = Some(i);
            }
            let field =
                ui.add(egui::TextEdit::singleline(&mut b.name).desired_width(f32::INFINITY));
            if editing == Some(i) {
                field.request_focus();
            }
        });
    }
    if let Some(i) = delete {
        s.annotations.bookmarks.remove(i);
    }
    if let Some(i) = go {
        s.go_to_bookmark(i);
    }
}
