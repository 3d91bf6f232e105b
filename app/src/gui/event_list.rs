//! The event list: the events in view (time, CPU, task-pid, flags, event, details),
//! filtered by event name, CPU, task and text, drawn virtually (only visible rows are laid
//! out) and synced with the cursor both ways. The filtered rows are kept between frames: an
//! unchanged view costs two binary searches, a pan filters only the events it brings in.

use super::timeline::axis::format_ts;
use crate::text::details;
use egui::{Color32, RichText, Ui};
use rustc_hash::FxHashMap;
use std::ops::Range;
use trace_model::CommPid;
use trace_model::{EventStore, EventTypeId, StrId};

/// At most this many events in view are filtered: past it the list asks to zoom in.
pub const MAX_SCAN: usize = 200_000;

/// The list's filters. Empty strings match everything; text matches are case-insensitive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Substring of the event name.
    pub event: String,
    pub cpu: Option<usize>,
    /// Substring of the comm, or the exact pid.
    pub task: String,
    /// Substring of the details.
    pub text: String,
}

/// A filter ready to test many events: needles lowercased once, verdicts on event types
/// and comms (a few distinct values among millions of events) remembered.
struct Matcher<'a> {
    filter: &'a EventFilter,
    store: &'a EventStore,
    event: String,
    task: String,
    pid: Option<i32>,
    text: String,
    types: FxHashMap<EventTypeId, bool>,
    comms: FxHashMap<StrId, bool>,
}

impl<'a> Matcher<'a> {
    fn new(filter: &'a EventFilter, store: &'a EventStore) -> Self {
        let lower = |s: &str| s.trim().to_lowercase();
        Matcher {
            filter,
            store,
            event: lower(&filter.event),
            task: lower(&filter.task),
            pid: filter.task.trim().parse().ok(),
            text: lower(&filter.text),
            types: FxHashMap::default(),
            comms: FxHashMap::default(),
        }
    }

    /// True when event `i` passes every filter.
    fn matches(&mut self, i: usize) -> bool {
        let store = self.store;
        if self
            .filter
            .cpu
            .is_some_and(|c| usize::from(store.cpus()[i]) != c)
        {
            return false;
        }
        if !self.event.is_empty() {
            let t = store.event_types()[i];
            let needle = &self.event;
            let hit = *self
                .types
                .entry(t)
                .or_insert_with(|| contains_lower(store.type_name(t), needle));
            if !hit {
                return false;
            }
        }
        if !self.task.is_empty() && self.pid != Some(store.pids()[i]) {
            let needle = &self.task;
            let c = store.comms()[i];
            let hit = *self
                .comms
                .entry(c)
                .or_insert_with(|| contains_lower(store.str(c), needle));
            if !hit {
                return false;
            }
        }
        self.text.is_empty()
            || contains_lower(&details(store, &store.payload(i as u32)), &self.text)
    }

    /// The events of `range` that pass.
    fn select(&mut self, range: Range<usize>) -> impl Iterator<Item = u32> + '_ {
        range.filter(|&i| self.matches(i)).map(|i| i as u32)
    }
}

/// `needle` (already lowercase) in `haystack`, ignoring case.
fn contains_lower(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(needle)
}

/// The list's state: filters and the filtered rows of the last view.
#[derive(Debug, Default)]
pub struct EventListState {
    pub filter: EventFilter,
    rows: Vec<u32>,
    /// Events in view when the rows were computed (before filtering).
    in_view: usize,
    /// The events the rows were filtered from, and with which filter.
    scanned: Option<(Range<usize>, EventFilter)>,
    /// Scroll to the cursor's row at the next frame.
    pub follow_cursor: bool,
    /// A row's height as egui lays it out, measured on the last frame drawn (its font, the
    /// button padding and the style's minimum), without the spacing between rows. The
    /// virtual scrolling and the scroll to the cursor both place rows by it.
    row_height: Option<f32>,
    /// Where the table's visible rows were on screen in the last frame.
    pub shown_rect: Option<egui::Rect>,
    /// Rows laid out in the last frame (the visible ones and one beyond).
    pub drawn_rows: Range<usize>,
}

impl EventListState {
    /// Brings the rows up to date with the view `[t0, t1)` and the filters. Same events
    /// and filters: nothing to do. Same filters and an overlapping range (a pan, a zoom):
    /// the rows still in view are kept and only the events brought in are filtered.
    pub fn refresh(&mut self, store: &EventStore, t0: u64, t1: u64) {
        let range = store.range(t0, t1);
        self.in_view = range.len();
        let want = range.start..range.end.min(range.start + MAX_SCAN);
        let keep = match &self.scanned {
            Some((had, filter)) if *filter == self.filter => {
                if *had == want {
                    return;
                }
                let keep = want.start.max(had.start)..want.end.min(had.end);
                (!keep.is_empty()).then_some(keep)
            }
            _ => None,
        };
        let mut matcher = Matcher::new(&self.filter, store);
        self.rows = match keep {
            Some(keep) => {
                let rows = &self.rows;
                let a = rows.partition_point(|&i| (i as usize) < keep.start);
                let b = rows.partition_point(|&i| (i as usize) < keep.end);
                let mut out: Vec<u32> = matcher.select(want.start..keep.start).collect();
                out.extend_from_slice(&rows[a..b]);
                out.extend(matcher.select(keep.end..want.end));
                out
            }
            None => matcher.select(want.clone()).collect(),
        };
        self.scanned = Some((want, self.filter.clone()));
    }

    /// The filtered events, in time order.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// A row's measured height (without spacing); None before the list was drawn.
    pub fn row_height(&self) -> Option<f32> {
        self.row_height
    }

    /// The rows the cursor is on: the events at its time, else the last event before it
    /// (the one whose state the cursor shows). Empty when no row is at or before it.
    pub fn cursor_rows(&self, store: &EventStore, cursor_ns: u64) -> Range<usize> {
        let ts = |r: &u32| store.ts()[*r as usize];
        let first = self.rows.partition_point(|r| ts(r) < cursor_ns);
        let end = self.rows.partition_point(|r| ts(r) <= cursor_ns);
        if first < end {
            first..end
        } else {
            first.saturating_sub(1)..first
        }
    }
}

/// One row's text: time, CPU, comm-pid, flags, event, details.
pub fn row_text(store: &EventStore, i: u32) -> String {
    let e = store.event(i);
    format!(
        "{:>18} {:>3} {:>22} {:<7} {:<22} {}",
        format_ts(e.ts as f64, 1000.0),
        e.cpu,
        CommPid(e.comm, e.pid).to_string(),
        e.flags.to_column().unwrap_or_default(),
        e.name,
        details(store, &e.payload)
    )
}

/// Draws the filters and the table; returns the event the user clicked.
pub fn event_list_ui(
    ui: &mut Ui,
    state: &mut EventListState,
    store: &EventStore,
    cursor_ns: Option<u64>,
) -> Option<u32> {
    filters_ui(ui, &mut state.filter, store.cpu_count());
    let shown = state.rows.len();
    let note = if state.in_view > MAX_SCAN {
        format!(
            "{shown} shown of the first {MAX_SCAN} of {} events in view: zoom in to see all",
            state.in_view
        )
    } else {
        format!("{shown} of {} events in view", state.in_view)
    };
    ui.weak(note);
    // Until a row was measured: egui's minimum widget height, which a one-line label fills.
    let row_h = state
        .row_height
        .unwrap_or_else(|| ui.spacing().interact_size.y);
    let pitch = row_h + ui.spacing().item_spacing.y;
    let cursor_rows = cursor_ns.map_or(0..0, |c| state.cursor_rows(store, c));
    let mut area = egui::ScrollArea::vertical()
        .id_salt("event list")
        .auto_shrink([false, false]);
    let follow = std::mem::take(&mut state.follow_cursor);
    if follow && !cursor_rows.is_empty() {
        // The cursor's first row, three rows below the top.
        let offset = (cursor_rows.start as f32 - 3.0) * pitch;
        area = area.vertical_scroll_offset(offset.max(0.0));
    }
    let mut clicked = None;
    let mut measured = None;
    let output = area.show_rows(ui, row_h, shown, |ui, range| {
        // One line per event: long details are cut, never wrapped into the next row.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
        for r in range.clone() {
            let i = state.rows[r];
            let at_cursor = cursor_rows.contains(&r);
            let mut rich = RichText::new(row_text(store, i)).monospace().size(11.5);
            if at_cursor {
                rich = rich.color(Color32::WHITE);
            }
            let response = ui.selectable_label(at_cursor, rich);
            measured.get_or_insert(response.rect.height());
            if response.clicked() {
                clicked = Some(i);
            }
        }
        range
    });
    state.drawn_rows = output.inner;
    state.shown_rect = Some(output.inner_rect);
    if let Some(h) = measured
        && state.row_height != Some(h)
    {
        // Rows were placed by a wrong height this frame: draw again with the real one.
        state.row_height = Some(h);
        state.follow_cursor |= follow;
        ui.ctx().request_repaint();
    }
    clicked
}

fn filters_ui(ui: &mut Ui, f: &mut EventFilter, cpus: usize) {
    ui.horizontal(|ui| {
        let label = ui.label("event").id;
        ui.add(
            egui::TextEdit::singleline(&mut f.event)
                .desired_width(110.0)
                .hint_text("sched_switch"),
        )
        .labelled_by(label);
        ui.label("CPU");
        egui::ComboBox::from_id_salt("cpu filter")
            .selected_text(f.cpu.map_or("all".to_owned(), |c| c.to_string()))
            .width(50.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut f.cpu, None, "all");
                for c in 0..cpus {
                    ui.selectable_value(&mut f.cpu, Some(c), c.to_string());
                }
            });
        let label = ui.label("task").id;
        ui.add(
            egui::TextEdit::singleline(&mut f.task)
                .desired_width(100.0)
                .hint_text("comm or pid"),
        )
        .labelled_by(label);
        let label = ui.label("text").id;
        ui.add(
            egui::TextEdit::singleline(&mut f.text)
                .desired_width(160.0)
                .hint_text("search details"),
        )
        .labelled_by(label);
        if ui.button("clear").clicked() {
            *f = EventFilter::default();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::synthetic::{SyntheticSpec, generate};

    #[test]
    fn filters_narrow_and_combine() {
        let s = generate(SyntheticSpec {
            events: 5_000,
            cpus: 4,
            ..SyntheticSpec::default()
        });
        let (t0, t1) = s.time_span().unwrap();
        let mut st = EventListState::default();
        st.refresh(&s, t0, t1 + 1);
        assert_eq!(st.rows().len(), 5_000);
        st.filter.event = "SCHED_SWITCH".into();
        st.refresh(&s, t0, t1 + 1);
        let switches = st.rows().len();
        assert!(switches > 100 && switches < 5_000);
        st.filter.cpu = Some(2);
        st.refresh(&s, t0, t1 + 1);
        assert!(st.rows().len() < switches);
        assert!(st.rows().iter().all(|&i| s.cpus()[i as usize] == 2));
        st.filter.text = "next_comm=gcc".into();
        st.refresh(&s, t0, t1 + 1);
        assert!(
            st.rows()
                .iter()
                .all(|&i| details(&s, &s.payload(i)).contains("next_comm=gcc"))
        );
    }

    #[test]
    fn panning_keeps_rows_equal_to_a_fresh_filter() {
        let s = generate(SyntheticSpec {
            events: 20_000,
            cpus: 4,
            ..SyntheticSpec::default()
        });
        let (t0, t1) = s.time_span().unwrap();
        let w = (t1 - t0) / 5;
        let mut panned = EventListState::default();
        panned.filter.event = "sched".into();
        panned.filter.task = "gcc".into();
        // Right, further right, back left past the start, zoom out, zoom in.
        for (a, b) in [
            (0, w),
            (w / 3, w + w / 3),
            (w, 2 * w),
            (w / 2, w + w / 2),
            (0, 3 * w),
            (w, w + w / 4),
        ] {
            panned.refresh(&s, t0 + a, t0 + b);
            let mut fresh = EventListState {
                filter: panned.filter.clone(),
                ..EventListState::default()
            };
            fresh.refresh(&s, t0 + a, t0 + b);
            assert!(!fresh.rows().is_empty());
            assert_eq!(panned.rows(), fresh.rows(), "view [{a}, {b})");
        }
    }
}
