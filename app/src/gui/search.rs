//! Search (`Ctrl+F`, `Ctrl+G`): one box finds tasks by comm or pid, event types by name,
//! and reads a typed time (`63.8647`, `63.8647s`, `120ms`, `+2ms` from the cursor) to go
//! to. Enter takes the first hit; Enter on an event type again goes to its next event.

use super::trace::LoadedTrace;
use analysis::counted;
use egui::Ui;
use trace_model::EventTypeId;

/// At most this many hits of each kind are listed.
const MAX_HITS: usize = 12;

/// The search box's state.
#[derive(Clone, Debug, Default)]
pub struct SearchState {
    pub open: bool,
    pub query: String,
    /// Give the text field the keyboard at the next frame.
    focus: bool,
}

impl SearchState {
    /// Opens the box with the keyboard in it.
    pub fn show(&mut self) {
        (self.open, self.focus) = (true, true);
    }
}

/// Where a hit goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchHit {
    /// Select the task, scroll to its lane, cursor on its next event.
    Task(i32),
    /// Cursor on the next event of this type after the cursor.
    Event(EventTypeId),
    /// Cursor and view on this trace time (ns).
    Time(u64),
}

/// The hits for `query`, each with its line for the list: the time first, then tasks,
/// then event types. A time outside the trace comes back as an `Err` saying so.
pub fn search_hits(
    trace: &LoadedTrace,
    query: &str,
    cursor_ns: Option<u64>,
) -> (Vec<(SearchHit, String)>, Option<String>) {
    let q = query.trim();
    let mut hits = Vec::new();
    let mut problem = None;
    if q.is_empty() {
        return (hits, problem);
    }
    if let Some(ts) = parse_time(q, cursor_ns.unwrap_or(trace.timeline.origin_ns)) {
        let (t0, t1) = (trace.timeline.origin_ns, trace.timeline.end_ns);
        if (t0..=t1).contains(&ts) {
            hits.push((
                SearchHit::Time(ts),
                format!("go to {:.9} s", ts as f64 / 1e9),
            ));
        } else {
            problem = Some(format!(
                "{:.6} s is outside the trace ({:.6} s .. {:.6} s)",
                ts as f64 / 1e9,
                t0 as f64 / 1e9,
                t1 as f64 / 1e9
            ));
        }
    }
    let needle = q.to_lowercase();
    let pid: Option<i32> = q.parse().ok();
    let tasks =
        trace.timeline.task_rows.iter().filter(|t| {
            pid == Some(t.pid) || trace.store.str(t.comm).to_lowercase().contains(&needle)
        });
    for t in tasks.take(MAX_HITS) {
        let name = super::app::task_name(trace, t.pid);
        hits.push((SearchHit::Task(t.pid), format!("task {name}")));
    }
    // Types a trace.dat declares but never recorded lead nowhere: not offered.
    let mut types: Vec<(EventTypeId, &str)> = trace
        .store
        .event_type_names()
        .filter(|(t, n)| {
            trace.event_counts[usize::from(t.0)] > 0 && n.to_lowercase().contains(&needle)
        })
        .collect();
    types.sort_by_key(|(_, n)| (n.len(), *n));
    for (t, n) in types.into_iter().take(MAX_HITS) {
        let count = trace.event_counts[usize::from(t.0)];
        hits.push((
            SearchHit::Event(t),
            format!(
                "event {n} ({}; the next after the cursor)",
                counted(count, "event")
            ),
        ));
    }
    (hits, problem)
}

/// A time as typed: trace seconds (`63.8647`), a number with a unit (`63.8647s`,
/// `250ms`), or, with a leading `+` / `-`, an offset from `cursor_ns`.
pub fn parse_time(text: &str, cursor_ns: u64) -> Option<u64> {
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (Some(1i128), &text[1..]),
        b'-' => (Some(-1), &text[1..]),
        _ => (None, text),
    };
    let rest = rest.trim();
    let ns = match rest.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => (s * 1e9).round() as u64,
        Ok(_) => return None,
        Err(_) => crate::units::parse_duration(rest).ok()?,
    };
    match sign {
        None => Some(ns),
        Some(sign) => u64::try_from(i128::from(cursor_ns) + sign * i128::from(ns)).ok(),
    }
}

/// The index of the first event of type `t` after `after_ns`, wrapping to the start.
pub fn next_event_of_type(trace: &LoadedTrace, t: EventTypeId, after_ns: u64) -> Option<usize> {
    let store = &trace.store;
    let from = store.ts().partition_point(|&ts| ts <= after_ns);
    let types = store.event_types();
    (from..types.len()).chain(0..from).find(|&i| types[i] == t)
}

/// The search window; returns the hit the user chose this frame.
pub fn search_ui(
    ctx: &egui::Context,
    state: &mut SearchState,
    trace: &LoadedTrace,
    cursor_ns: Option<u64>,
) -> Option<SearchHit> {
    if !state.open {
        return None;
    }
    let mut chosen = None;
    let mut open = true;
    egui::Window::new("Search")
        .open(&mut open)
        .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 40.0))
        .resizable(false)
        .collapsible(false)
        .show(ctx, |ui| {
            chosen = search_body(ui, state, trace, cursor_ns);
        });
    if !open || ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
        state.open = false;
    }
    chosen
}

fn search_body(
    ui: &mut Ui,
    state: &mut SearchState,
    trace: &LoadedTrace,
    cursor_ns: Option<u64>,
) -> Option<SearchHit> {
    let field = ui.add(
        egui::TextEdit::singleline(&mut state.query)
            .hint_text("task, pid, event name, or a time: 63.86, 250ms, +2ms")
            .desired_width(380.0),
    );
    if std::mem::take(&mut state.focus) {
        field.request_focus();
    }
    let (hits, problem) = search_hits(trace, &state.query, cursor_ns);
    let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let mut chosen = entered.then(|| hits.first().map(|(h, _)| *h)).flatten();
    if entered {
        // Enter again goes on (the next event of the same type).
        field.request_focus();
    }
    if let Some(p) = problem {
        ui.colored_label(super::theme::LOST, p);
    }
    if hits.is_empty() && !state.query.trim().is_empty() {
        ui.weak("no task, event type or time matches");
    }
    for (hit, line) in &hits {
        if ui.selectable_label(false, line).clicked() {
            chosen = Some(*hit);
        }
    }
    chosen
}

impl super::Session {
    /// Goes where a search hit points: a time centres the view on it, a task is selected
    /// with its lane scrolled into view, an event type's next event takes the cursor.
    pub fn go_to(&mut self, hit: SearchHit) {
        match hit {
            SearchHit::Time(ts) => {
                self.set_cursor(ts);
                let width = self.timeline.width_px;
                self.timeline.view.center_on(ts as f64, width);
            }
            SearchHit::Task(pid) => {
                self.timeline.selected_task = Some(pid);
                self.timeline.tasks_collapsed = false;
                self.timeline.scroll_to_task = Some(pid);
                let before = self.timeline.cursor_ns;
                self.step_event(true);
                if self.timeline.cursor_ns == before {
                    self.step_event(false);
                }
            }
            SearchHit::Event(t) => {
                let after = self.timeline.cursor_ns.unwrap_or(0);
                if let Some(i) = next_event_of_type(&self.trace, t, after) {
                    let cpu = usize::from(self.trace.store.cpus()[i]);
                    self.timeline.selected_cpu = Some(cpu);
                    self.set_cursor(self.trace.store.ts()[i]);
                }
            }
        }
    }
}
