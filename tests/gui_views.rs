//! The desktop app's search, notes, bookmarks, sessions, Open fallback and lock-order
//! diagram (issue 20), driven headless through egui_kittest on real corpus traces.

use crate::gui::{corpus_app, harness, session};
use egui_kittest::kittest::Queryable;
use kctx::gui::search::SearchHit;

type H = egui_kittest::Harness<'static, kctx::gui::KctxApp>;

const S1: &str = "lab/lockdep-s1_spin_sleep/trace.dat";

fn type_into_search(h: &mut H, text: &str) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    assert!(session(h).search.open, "Ctrl+F opens the search box");
    session_mut(h).search.query.clear();
    h.run_steps(1);
    // Ctrl+F gave the box the keyboard: typing goes there.
    h.event(egui::Event::Text(text.to_owned()));
    h.run_steps(2);
}

pub(crate) fn session_mut(h: &mut H) -> &mut kctx::gui::Session {
    h.state_mut().session.as_mut().expect("a trace is open")
}

fn press_enter(h: &mut H) {
    h.key_press(egui::Key::Enter);
    h.run_steps(3);
}

/// A typed time moves the cursor there and centres the view on it.
#[test]
fn search_goes_to_a_typed_time() {
    let mut h = harness(corpus_app(S1));
    let (t0, t1) = {
        let t = &session(&h).trace.timeline;
        (t.origin_ns, t.end_ns)
    };
    // Zoom in first, so the view has to move.
    for _ in 0..8 {
        h.key_press(egui::Key::Plus);
    }
    h.run_steps(2);
    let want = t0 + (t1 - t0) / 7;
    let typed = format!("{:.9}", want as f64 / 1e9);
    type_into_search(&mut h, &typed);
    h.get_by_label_contains("go to ");
    press_enter(&mut h);
    let s = session(&h);
    assert_eq!(s.timeline.cursor_ns, Some(want));
    let (v0, v1) = s.view_range();
    assert!(v0 <= want && want <= v1, "the time is in view");
    let mid = (v0 + v1) / 2;
    assert!(
        mid.abs_diff(want) <= (v1 - v0) / 50,
        "centred: view {v0}..{v1}, time {want}"
    );
    // An offset from the cursor, and a time outside the trace said to be outside.
    type_into_search(&mut h, "+1ms");
    press_enter(&mut h);
    assert_eq!(session(&h).timeline.cursor_ns, Some(want + 1_000_000));
    let late = format!("{}", (t1 / 1_000_000_000) + 100);
    type_into_search(&mut h, &late);
    h.get_by_label_contains("is outside the trace");
}

/// A task found by pid is selected, its lane scrolled into view and drawn selected, and
/// the cursor placed on one of its events.
#[test]
fn search_finds_a_task_and_scrolls_to_its_lane() {
    let mut h = harness(corpus_app(S1));
    let (pid, name) = {
        let s = session(&h);
        let last = s.trace.timeline.task_rows.last().expect("task lanes").pid;
        (last, kctx::gui::app::task_name(&s.trace, last))
    };
    assert!(
        session(&h).timeline.task_lane_y(pid).is_none(),
        "the last task's lane starts scrolled away"
    );
    type_into_search(&mut h, &pid.to_string());
    h.get_by_label(&format!("task {name}"));
    press_enter(&mut h);
    let s = session(&h);
    assert_eq!(s.timeline.selected_task, Some(pid));
    let lane = s.timeline.task_lane_y(pid).expect("its lane is drawn now");
    let screen = h.ctx.content_rect();
    assert!(
        lane.min > 0.0 && lane.max < screen.bottom(),
        "lane {lane:?} on screen"
    );
    let cursor = s.timeline.cursor_ns.expect("a cursor on the task's event");
    // The cursor is on one of the task's own events (what `N` steps through for it).
    let scope = kctx::gui::replay::StepScope::Task(pid);
    let (store, context) = (&s.trace.store, &s.trace.context);
    let event = kctx::gui::replay::step_event(store, context, cursor - 1, scope, true)
        .expect("an event of the task");
    assert_eq!(store.ts()[event as usize], cursor);
}

/// An event type found by name: Enter goes to its next event, and again to the one after.
#[test]
fn search_steps_through_an_event_type() {
    let mut h = harness(corpus_app(S1));
    type_into_search(&mut h, "sched_switch");
    let hits = {
        let s = session(&h);
        kctx::gui::search::search_hits(&s.trace, "sched_switch", s.timeline.cursor_ns).0
    };
    let Some(SearchHit::Event(t)) = hits.first().map(|(h, _)| *h) else {
        panic!("sched_switch is an event type of the trace: {hits:?}")
    };
    h.get_by_label("event sched_switch (next after the cursor)");
    let mut last = None;
    for _ in 0..3 {
        press_enter(&mut h);
        let s = session(&h);
        let c = s.timeline.cursor_ns.expect("a cursor");
        let store = &s.trace.store;
        assert!(
            store.range(c, c + 1).any(|i| store.event_types()[i] == t),
            "a sched_switch at the cursor"
        );
        assert!(last.is_none_or(|l| c > l), "each Enter goes further");
        last = Some(c);
    }
    // Escape closes the box.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!session(&h).search.open);
}
