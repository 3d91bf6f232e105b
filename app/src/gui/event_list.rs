//! The event list: every event in view (time, CPU, task-pid, flags, event, details), at any
//! zoom, filtered by event name, CPU, task and text, drawn virtually (only visible rows are
//! laid out) and synced with the cursor both ways. Unfiltered (or by CPU only) the rows are
//! the store's own index; other filters are applied incrementally, a few milliseconds a
//! frame, and the filtered rows are kept between frames: a pan filters only the events it
//! brings in.

use super::timeline::axis::format_ts;
use crate::text::details;
use egui::{Color32, RichText, Ui};
use rustc_hash::FxHashMap;
use std::ops::Range;
use std::time::{Duration, Instant};
use trace_model::CommPid;
use trace_model::{EventStore, EventTypeId, StrId};

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
            let c = store.comm(i as u32);
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

/// How long one frame may spend filtering before it draws what it has: the rest is filtered
/// over the next frames, so a filter over tens of millions of events never freezes the window.
const SCAN_BUDGET: Duration = Duration::from_millis(6);
/// Events filtered between two looks at the clock.
const SCAN_STEP: usize = 16 * 1024;

/// Which events the rows are. Without a filter, or with only a CPU one, row `r` is found from
/// the store's own index in O(1): no copy, whatever the number of events in view.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rows {
    /// Row `r` is event `range.start + r`.
    View(Range<usize>),
    /// Row `r` is the CPU's event `store.cpu_events(cpu)[range.start + r]`.
    Cpu { cpu: usize, range: Range<usize> },
    /// The events of `scanned` (part of the view) that passed the filters, in time order.
    Filtered {
        rows: Vec<u32>,
        scanned: Range<usize>,
    },
}

impl Default for Rows {
    fn default() -> Self {
        Rows::View(0..0)
    }
}

/// The list's state: filters and the rows of the last view.
#[derive(Debug, Default)]
pub struct EventListState {
    pub filter: EventFilter,
    rows: Rows,
    /// The events in view (before filtering), and the filter the rows were made with.
    view: Range<usize>,
    made_with: EventFilter,
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
    /// The first row shown.
    pub top_row: usize,
    /// Wheel movement not yet a whole row.
    wheel_px: f32,
}

impl EventListState {
    /// Brings the rows up to date with the view `[t0, t1)` and the filters, filtering for at
    /// most [`SCAN_BUDGET`]; returns false while events in view are still to be filtered (call
    /// again next frame). Same filters and an overlapping view (a pan, a zoom): the rows
    /// still in view are kept and only the events brought in are filtered.
    pub fn refresh(&mut self, store: &EventStore, t0: u64, t1: u64) -> bool {
        self.refresh_within(store, t0, t1, SCAN_BUDGET)
    }

    /// [`Self::refresh`] until every event in view is filtered.
    pub fn refresh_all(&mut self, store: &EventStore, t0: u64, t1: u64) {
        while !self.refresh_within(store, t0, t1, Duration::MAX) {}
    }

    fn refresh_within(&mut self, store: &EventStore, t0: u64, t1: u64, budget: Duration) -> bool {
        let view = store.range(t0, t1);
        let f = &self.filter;
        if f.event.trim().is_empty() && f.task.trim().is_empty() && f.text.trim().is_empty() {
            self.rows = match f.cpu {
                None => Rows::View(view.clone()),
                Some(cpu) => Rows::Cpu {
                    cpu,
                    range: store.cpu_range(cpu, t0, t1),
                },
            };
            self.view = view;
            return true;
        }
        let (mut rows, mut scanned) = match std::mem::take(&mut self.rows) {
            Rows::Filtered { rows, scanned } if self.made_with == self.filter => (rows, scanned),
            _ => (Vec::new(), view.start..view.start),
        };
        // Keep what is still in view.
        let keep = scanned.start.max(view.start)..scanned.end.min(view.end);
        if keep.is_empty() {
            rows.clear();
            scanned = view.start..view.start;
        } else {
            let a = rows.partition_point(|&i| (i as usize) < keep.start);
            let b = rows.partition_point(|&i| (i as usize) < keep.end);
            rows.truncate(b);
            rows.drain(..a);
            scanned = keep;
        }
        let mut matcher = Matcher::new(&self.filter, store);
        let started = Instant::now();
        // Events brought in on the left first (they go before the kept rows), then the right.
        while scanned.start > view.start || scanned.end < view.end {
            if scanned.start > view.start {
                let from = scanned.start.saturating_sub(SCAN_STEP).max(view.start);
                let before: Vec<u32> = matcher.select(from..scanned.start).collect();
                rows.splice(0..0, before);
                scanned.start = from;
            } else {
                let to = (scanned.end + SCAN_STEP).min(view.end);
                rows.extend(matcher.select(scanned.end..to));
                scanned.end = to;
            }
            if started.elapsed() > budget {
                break;
            }
        }
        let complete = scanned == view;
        self.rows = Rows::Filtered { rows, scanned };
        self.made_with = self.filter.clone();
        self.view = view;
        complete
    }

    /// Number of rows.
    pub fn row_count(&self) -> usize {
        match &self.rows {
            Rows::View(range) | Rows::Cpu { range, .. } => range.len(),
            Rows::Filtered { rows, .. } => rows.len(),
        }
    }

    /// The event of row `r` (`r < row_count()`).
    pub fn row(&self, store: &EventStore, r: usize) -> u32 {
        match &self.rows {
            Rows::View(range) => (range.start + r) as u32,
            Rows::Cpu { cpu, range } => store.cpu_events(*cpu)[range.start + r],
            Rows::Filtered { rows, .. } => rows[r],
        }
    }

    /// Events in view, before filtering.
    pub fn in_view(&self) -> usize {
        self.view.len()
    }

    /// Events in view not filtered yet (the list fills in over the next frames).
    pub fn unfiltered(&self) -> usize {
        match &self.rows {
            Rows::Filtered { scanned, .. } => self.view.len() - scanned.len(),
            _ => 0,
        }
    }

    /// A row's measured height (without spacing); None before the list was drawn.
    pub fn row_height(&self) -> Option<f32> {
        self.row_height
    }

    /// The first row whose event is not `before` the time.
    fn partition(&self, store: &EventStore, before: impl Fn(u64) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.row_count());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(store.ts()[self.row(store, mid) as usize]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The rows the cursor is on: the events at its time, else the last event before it
    /// (the one whose state the cursor shows). Empty when no row is at or before it.
    pub fn cursor_rows(&self, store: &EventStore, cursor_ns: u64) -> Range<usize> {
        let first = self.partition(store, |ts| ts < cursor_ns);
        let end = self.partition(store, |ts| ts <= cursor_ns);
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
    let shown = state.row_count();
    let in_view = state.in_view();
    let pending = state.unfiltered();
    if pending > 0 {
        ui.weak(format!(
            "{shown} of {in_view} events in view so far: filtering, {:.0} % done",
            100.0 * (in_view - pending) as f64 / in_view as f64
        ));
        ui.ctx().request_repaint();
    } else {
        ui.weak(format!("{shown} of {in_view} events in view"));
    }
    // Until a row was measured: egui's minimum widget height, which a one-line label fills.
    let row_h = state
        .row_height
        .unwrap_or_else(|| ui.spacing().interact_size.y);
    let pitch = row_h + ui.spacing().item_spacing.y;
    let cursor_rows = cursor_ns.map_or(0..0, |c| state.cursor_rows(store, c));
    let follow = std::mem::take(&mut state.follow_cursor);
    let (rect, _) = ui.allocate_exact_size(ui.available_size(), egui::Sense::hover());
    let bar_width = ui.spacing().scroll.bar_width + 4.0;
    let rows_rect = rect.with_max_x(rect.max.x - bar_width);
    let bar_rect = rect.with_min_x(rows_rect.max.x);
    let spacing = ui.spacing().item_spacing.y;
    let visible = (((rows_rect.height() + spacing) / pitch).floor() as usize).max(1);
    let last_top = shown.saturating_sub(visible);
    if follow && !cursor_rows.is_empty() {
        // The cursor's first row, three rows below the top.
        state.top_row = cursor_rows.start.saturating_sub(3);
    }
    if ui.rect_contains_pointer(rect) {
        state.wheel_px -= ui.input(|i| i.smooth_scroll_delta.y);
        let rows = (state.wheel_px / pitch).trunc();
        state.wheel_px -= rows * pitch;
        state.top_row = state.top_row.saturating_add_signed(rows as isize);
    }
    state.top_row = state.top_row.min(last_top);
    scrollbar_ui(ui, bar_rect, &mut state.top_row, last_top, visible);

    let mut clicked = None;
    let mut measured = None;
    let drawn = state.top_row..(state.top_row + visible + 1).min(shown);
    let mut rows_ui = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rows_rect)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    rows_ui.set_clip_rect(rows_rect.intersect(ui.clip_rect()));
    // One line per event: long details are cut, never wrapped into the next row.
    rows_ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
    for r in drawn.clone() {
        let i = state.row(store, r);
        let at_cursor = cursor_rows.contains(&r);
        let mut rich = RichText::new(row_text(store, i)).monospace().size(11.5);
        if at_cursor {
            rich = rich.color(Color32::WHITE);
        }
        let response = rows_ui.selectable_label(at_cursor, rich);
        measured.get_or_insert(response.rect.height());
        if response.clicked() {
            clicked = Some(i);
        }
    }
    state.drawn_rows = drawn;
    state.shown_rect = Some(rows_rect);
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

/// A vertical scrollbar over row numbers: its thumb shows the visible rows' share and place,
/// a click or drag moves the top row there. Row numbers, not pixels, so that tens of millions
/// of rows scroll exactly (a pixel offset in f32 cannot address rows past ~800 k).
fn scrollbar_ui(
    ui: &mut Ui,
    bar: egui::Rect,
    top_row: &mut usize,
    last_top: usize,
    visible: usize,
) {
    let response = ui.interact(
        bar,
        ui.scope_id().with("event list bar"),
        egui::Sense::click_and_drag(),
    );
    let track = bar.shrink2(egui::vec2(2.0, 0.0));
    let rows = (last_top + visible) as f64;
    let thumb_h = (track.height() as f64 * visible as f64 / rows)
        .clamp(16.0_f64.min(track.height() as f64), track.height() as f64) as f32;
    let travel = track.height() - thumb_h;
    if let Some(pos) = response.interact_pointer_pos()
        && travel > 0.0
    {
        let at = ((pos.y - track.top() - thumb_h / 2.0) / travel).clamp(0.0, 1.0);
        *top_row = (f64::from(at) * last_top as f64).round() as usize;
    }
    let at = if last_top == 0 {
        0.0
    } else {
        *top_row as f64 / last_top as f64
    } as f32;
    let thumb = egui::Rect::from_min_size(
        egui::pos2(track.left(), track.top() + at * travel),
        egui::vec2(track.width(), thumb_h),
    );
    let visuals = ui.style().interact(&response);
    let painter = ui.painter();
    painter.rect_filled(track, 3.0, ui.visuals().extreme_bg_color);
    if last_top > 0 {
        painter.rect_filled(thumb, 3.0, visuals.bg_fill);
    }
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

    /// A synthetic trace of `events` events on 4 CPUs.
    fn synthetic(events: usize) -> EventStore {
        generate(SyntheticSpec {
            events,
            cpus: 4,
            ..SyntheticSpec::default()
        })
    }

    fn rows(st: &EventListState, s: &EventStore) -> Vec<u32> {
        (0..st.row_count()).map(|r| st.row(s, r)).collect()
    }

    #[test]
    fn filters_narrow_and_combine() {
        let s = synthetic(5_000);
        let (t0, t1) = s.time_span().unwrap();
        let mut st = EventListState::default();
        st.refresh_all(&s, t0, t1 + 1);
        assert_eq!(rows(&st, &s).len(), 5_000);
        st.filter.event = "SCHED_SWITCH".into();
        st.refresh_all(&s, t0, t1 + 1);
        let switches = rows(&st, &s).len();
        assert!(switches > 100 && switches < 5_000);
        st.filter.cpu = Some(2);
        st.refresh_all(&s, t0, t1 + 1);
        assert!(rows(&st, &s).len() < switches);
        assert!(rows(&st, &s).iter().all(|&i| s.cpus()[i as usize] == 2));
        st.filter.text = "next_comm=gcc".into();
        st.refresh_all(&s, t0, t1 + 1);
        assert!(
            rows(&st, &s)
                .iter()
                .all(|&i| details(&s, &s.payload(i)).contains("next_comm=gcc"))
        );
    }

    #[test]
    fn panning_keeps_rows_equal_to_a_fresh_filter() {
        let s = synthetic(20_000);
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
            panned.refresh_all(&s, t0 + a, t0 + b);
            let mut fresh = EventListState {
                filter: panned.filter.clone(),
                ..EventListState::default()
            };
            fresh.refresh_all(&s, t0 + a, t0 + b);
            assert!(fresh.row_count() > 0);
            assert_eq!(rows(&panned, &s), rows(&fresh, &s), "view [{a}, {b})");
        }
    }

    #[test]
    fn every_event_in_view_is_a_row_without_a_copy() {
        let s = synthetic(300_000);
        let (t0, t1) = s.time_span().unwrap();
        let mut st = EventListState::default();
        assert!(st.refresh(&s, t0, t1 + 1));
        assert_eq!(st.row_count(), 300_000);
        assert_eq!(st.row(&s, 299_999), 299_999);
        st.filter.cpu = Some(3);
        assert!(st.refresh(&s, t0, t1 + 1));
        assert_eq!(rows(&st, &s), s.cpu_events(3));
        let mid = s.ts()[150_000];
        let at = st.cursor_rows(&s, mid);
        assert!(at.len() == 1 && s.ts()[st.row(&s, at.start) as usize] <= mid);
    }

    #[test]
    fn a_filter_over_many_events_fills_in_over_frames_to_the_same_rows() {
        let s = synthetic(200_000);
        let (t0, t1) = s.time_span().unwrap();
        let mut frames = EventListState::default();
        frames.filter.text = "prev_state".into();
        let mut calls = 1;
        while !frames.refresh_within(&s, t0, t1 + 1, Duration::ZERO) {
            assert!(frames.unfiltered() > 0);
            calls += 1;
        }
        assert!(calls > 5, "one step a call: {calls}");
        assert_eq!(frames.unfiltered(), 0);
        let mut whole = EventListState {
            filter: frames.filter.clone(),
            ..EventListState::default()
        };
        whole.refresh_all(&s, t0, t1 + 1);
        assert!(whole.row_count() > 1000);
        assert_eq!(rows(&frames, &s), rows(&whole, &s));
    }
}
