//! The desktop app: driven headless through egui_kittest (clicks, keys, typing into the
//! filters), and the real window under Xvfb saving a screenshot.

use corpus_tests::kctx_bin;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use kctx::gui::findings::finding_title;
use kctx::gui::timeline::model::TaskActivity;
use kctx::gui::trace::load;
use kctx::gui::{Input, KctxApp};
use std::process::Command;
use trace_model::FindingKind;

/// A real recording with its planted bugs (the bundled sample's trace.dat twin).
const LOCKDEP_S1: &str = "lab/lockdep-s1_spin_sleep/trace.dat";

pub(crate) fn harness(app: KctxApp) -> Harness<'static, KctxApp> {
    // The accessibility lint flags egui's own unlabelled combo boxes; what these tests check
    // is behaviour.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 960.0))
        .with_accessibility_check(false)
        .build_ui_state(|ui, app: &mut KctxApp| app.show(ui), app);
    h.run_steps(4);
    h
}

/// Sets the event list's filter `field` and lets the app redraw.
fn set_filter(
    h: &mut Harness<'static, KctxApp>,
    field: fn(&mut kctx::gui::event_list::EventFilter) -> &mut String,
    text: &str,
) {
    let s = h.state_mut().session.as_mut().expect("a trace is open");
    *field(&mut s.list.filter) = text.to_owned();
    h.run_steps(2);
}

pub(crate) fn sample_app() -> KctxApp {
    KctxApp::with_trace(load(vec![Input::Sample], None, &|_| {}).expect("the bundled sample loads"))
}

pub(crate) fn session<'a>(h: &'a Harness<'static, KctxApp>) -> &'a kctx::gui::Session {
    h.state().session.as_ref().expect("a trace is open")
}

/// The event list's drawn line "SHOWN of IN_VIEW events in view", read back as numbers.
pub(crate) fn events_in_view_label(h: &Harness<'static, KctxApp>) -> (usize, usize) {
    let node = h.get_by_label_contains(" events in view");
    let text = node
        .accesskit_node()
        .label()
        .or_else(|| node.accesskit_node().value())
        .expect("a label");
    let (shown, rest) = text.split_once(" of ").expect("SHOWN of IN_VIEW");
    let in_view = rest.split_once(' ').expect("IN_VIEW events").0;
    (
        shown.parse().expect("SHOWN"),
        in_view.parse().expect("IN_VIEW"),
    )
}

/// The inspector's heading time, drawn for the cursor at `ts`.
pub(crate) fn assert_inspector_at(h: &Harness<'static, KctxApp>, ts: u64) {
    h.get_by_label(&kctx::gui::timeline::axis::format_ts(ts as f64, 1.0));
}

fn synthetic_app(events: usize) -> KctxApp {
    let trace = load(vec![Input::Synthetic(events)], None, &|_| {}).expect("synthetic trace");
    KctxApp::with_trace(trace)
}

#[test]
fn sample_shows_every_planted_bug_and_the_kernels_own_reports() {
    let app = sample_app();
    let s = app.session.as_ref().unwrap();
    let truth = corpus_tests::truth();
    let planted = truth["scenarios"]["lockdep-s1_spin_sleep"]["bugs"]
        .as_array()
        .unwrap()
        .len();
    let sleeps = s
        .trace
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::SleepInAtomic)
        .count();
    assert_eq!(
        sleeps, planted,
        "one sleep-in-atomic finding per planted bug"
    );
    assert!(
        s.trace.splats.len() >= 2,
        "the console's BUG reports: {}",
        s.trace.splats.len()
    );
    // Findings and splats are both marked on the timeline, the findings painted last (on
    // top: the console's report of a bug sits at the same time as the finding).
    let first_finding = s
        .timeline
        .markers
        .iter()
        .position(|m| !m.label.starts_with("console:"))
        .expect("finding markers");
    assert!(
        s.timeline.markers[first_finding..]
            .iter()
            .all(|m| !m.label.starts_with("console:"))
    );
    assert_eq!(
        s.timeline.markers.len(),
        s.trace.findings.len()
            + s.trace
                .splats
                .iter()
                .filter(|p| p.console_ts.is_some())
                .count()
    );
}

#[test]
fn selecting_a_finding_zooms_to_it_and_the_inspector_shows_the_lock_held() {
    let mut h = harness(sample_app());
    let span = {
        let t = &session(&h).trace.timeline;
        t.end_ns - t.origin_ns
    };
    let (title, call) = {
        let f = session(&h)
            .trace
            .findings
            .iter()
            .find(|f| f.locks.iter().any(|l| l == "lab_s1_lock"))
            .expect("a finding under lab_s1_lock");
        (finding_title(f), f.ts[0])
    };
    h.get_by_label(&title).click();
    h.run_steps(4);
    let s = session(&h);
    assert!(s.selected_finding.is_some());
    assert_eq!(s.timeline.cursor_ns, Some(call));
    let (t0, t1) = s.view_range();
    assert!(
        t0 <= call && call <= t1,
        "the call at {call} is in view [{t0}, {t1}]"
    );
    assert!(
        t1 - t0 < span / 100,
        "zoomed in: {} of {span} ns in view",
        t1 - t0
    );
    assert_eq!(
        s.timeline.highlights.len(),
        2,
        "the atomic interval and the sleeping call"
    );
    // The inspector lists the spinlock as held at the cursor (class, mode, holder).
    h.get_by_label_contains("lab_s1_lock (spin,");
}

#[test]
fn next_and_previous_violation_step_through_the_findings_in_time() {
    let mut h = harness(sample_app());
    let mut starts: Vec<u64> = session(&h).trace.findings.iter().map(|f| f.ts[0]).collect();
    starts.sort_unstable();
    assert!(starts.len() >= 2);
    for &want in &starts {
        h.key_press(egui::Key::CloseBracket);
        h.run_steps(2);
        assert_eq!(session(&h).timeline.cursor_ns, Some(want));
        // Drawn: the inspector at that time, and the finding's title selected in the list.
        assert_inspector_at(&h, want);
        let s = session(&h);
        let f = &s.trace.findings[s.selected_finding.expect("a finding selected")];
        assert_eq!(f.ts[0], want);
        let title = finding_title(f);
        assert_eq!(
            h.get_by_label(&title).accesskit_node().toggled(),
            Some(egui::accesskit::Toggled::True)
        );
    }
    h.key_press(egui::Key::OpenBracket);
    h.run_steps(2);
    assert_eq!(
        session(&h).timeline.cursor_ns,
        Some(starts[starts.len() - 2])
    );
    // The toolbar buttons do the same.
    h.get_by_label("violation >|").click();
    h.run_steps(2);
    assert_eq!(
        session(&h).timeline.cursor_ns,
        Some(starts[starts.len() - 1])
    );
}

#[test]
fn exported_markdown_report_names_each_finding() {
    let app = sample_app();
    let trace = &app.session.as_ref().unwrap().trace;
    let md =
        kctx::gui::export::render_report(trace, kctx::cli::check::ReportFormat::Markdown).unwrap();
    for f in &trace.findings {
        assert!(
            md.contains(f.functions.last().unwrap()),
            "report names {}",
            f.id
        );
    }
    let json =
        kctx::gui::export::render_report(trace, kctx::cli::check::ReportFormat::Json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["findings"].as_array().unwrap().len(),
        trace.findings.len()
    );
    assert_eq!(v["exit_code"], 1);
}

#[test]
fn keys_zoom_and_fit_the_timeline() {
    let mut h = harness(corpus_app(LOCKDEP_S1));
    let fitted = h.state().session.as_ref().unwrap().timeline.view;
    let all = session(&h).trace.store.len();
    assert_eq!(
        events_in_view_label(&h),
        (all, all),
        "the fit shows every event"
    );
    h.key_press(egui::Key::Plus);
    h.run_steps(2);
    let zoomed = h.state().session.as_ref().unwrap().timeline.view;
    assert!(
        zoomed.ns_per_px < fitted.ns_per_px / 1.5,
        "{zoomed:?} vs {fitted:?}"
    );
    // Drawn: the event list follows the view, and says how many events it holds.
    let (t0, t1) = session(&h).view_range();
    let in_view = session(&h).trace.store.range(t0, t1).len();
    assert!(in_view < all * 2 / 3, "{in_view} of {all}");
    assert_eq!(events_in_view_label(&h), (in_view, in_view));
    h.key_press(egui::Key::F);
    h.run_steps(2);
    let refit = h.state().session.as_ref().unwrap().timeline.view;
    assert!(
        (refit.ns_per_px - fitted.ns_per_px).abs() < 0.05 * fitted.ns_per_px,
        "{refit:?} vs {fitted:?}"
    );
    assert_eq!(events_in_view_label(&h), (all, all));
}

#[test]
fn filters_narrow_the_event_list() {
    let mut h = harness(corpus_app(LOCKDEP_S1));
    let all = h.state().session.as_ref().unwrap().list.row_count();
    assert_eq!(
        all,
        session(&h).trace.store.len(),
        "the fitted view lists every event"
    );
    set_filter(&mut h, |f| &mut f.event, "softirq_entry");
    let s = h.state().session.as_ref().unwrap();
    let softirqs = s.list.row_count();
    assert!(softirqs > 0 && softirqs < all / 5, "{softirqs} of {all}");
    // The list says how many rows the filters left.
    h.get_by_label(&format!("{softirqs} of {all} events in view"));
    let store = &s.trace.store;
    assert!(
        (0..softirqs)
            .map(|r| s.list.row(store, r))
            .all(|i| store.event(i).name == "softirq_entry")
    );
    set_filter(&mut h, |f| &mut f.text, "action=RCU");
    let s = session(&h);
    let rcu = s.list.row_count();
    assert!(rcu > 0 && rcu < softirqs, "{rcu} of {softirqs}");
    let store = &s.trace.store;
    assert!(
        (0..rcu)
            .map(|r| kctx::gui::event_list::row_text(store, s.list.row(store, r)))
            .all(|text| text.contains("action=RCU"))
    );
}

/// Every event of a million-event view is a row: the wheel moves the list by whole rows and
/// the scrollbar reaches the last event (row numbers, not f32 pixel offsets, place them).
#[test]
fn the_event_list_scrolls_through_a_million_events() {
    let mut h = harness(synthetic_app(1_000_000));
    let s = session(&h);
    let events = s.trace.store.len();
    assert_eq!(
        s.list.row_count(),
        events,
        "the fitted view lists every event"
    );
    h.get_by_label(&format!("{events} of {events} events in view"));
    let list = s.list.shown_rect.expect("the list was drawn");
    let pitch = s.list.row_height().expect("measured") + 3.0;
    let top = s.list.top_row;
    h.hover_at(list.center());
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, -10.0 * pitch),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(12);
    let s = session(&h);
    assert_eq!(s.list.top_row, top + 10, "ten rows down");
    // The bottom of the scrollbar, right of the rows: the last event is drawn.
    click_at(&mut h, egui::pos2(list.right() + 6.0, list.bottom() - 1.0));
    h.run_steps(2);
    let s = session(&h);
    assert!(
        s.list.drawn_rows.contains(&(events - 1)),
        "{:?}",
        s.list.drawn_rows
    );
    let last = kctx::gui::event_list::row_text(&s.trace.store, (events - 1) as u32);
    let rect = h.get_by_label(&last).rect();
    assert!(
        rect.bottom() <= list.bottom() + 0.5,
        "{rect:?} inside {list:?}"
    );
}

#[test]
fn click_places_the_cursor_and_n_steps_on_that_cpu() {
    let mut h = harness(corpus_app(LOCKDEP_S1));
    // The first CPU's task row is at the top of the timeline, right of the gutter.
    let target = egui::pos2(900.0, 80.0);
    h.hover_at(target);
    h.event(egui::Event::PointerButton {
        pos: target,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.event(egui::Event::PointerButton {
        pos: target,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(2);
    let s = h.state().session.as_ref().unwrap();
    let cursor = s.timeline.cursor_ns.expect("a click places the cursor");
    let cpu = s.timeline.selected_cpu.expect("a click selects the CPU");
    assert_inspector_at(&h, cursor);
    h.key_press(egui::Key::N);
    h.run_steps(2);
    let s = h.state().session.as_ref().unwrap();
    let next = s.timeline.cursor_ns.unwrap();
    assert!(next > cursor);
    assert_inspector_at(&h, next);
    let store = &s.trace.store;
    let i = store.range(next, next + 1).start;
    let on_cpu = (i..store.len())
        .take_while(|&i| store.ts()[i] == next)
        .any(|i| usize::from(store.cpus()[i]) == cpu);
    assert!(on_cpu, "N stepped to an event of CPU {cpu}");
}

/// Clicks the primary button at `at`.
pub(crate) fn click_at(h: &mut Harness<'static, KctxApp>, at: egui::Pos2) {
    h.hover_at(at);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.run_steps(2);
}

/// Trace seconds as printed in the sample (µs resolution) to ns.
fn sample_ns(seconds: &str) -> u64 {
    let (s, us) = seconds.split_once('.').expect("s.us");
    s.parse::<u64>().unwrap() * 1_000_000_000 + us.parse::<u64>().unwrap() * 1_000
}

/// In the sample, `lab_s1-175` (the task of the planted bugs) leaves CPU 1 in state D at
/// 65.054181 (`sched_switch ... prev_state=D`), is woken at 66.181951 (`sched_wakeup`) and
/// switched in at 66.182198. Its lane, listed first as a finding names it, shows the sleep;
/// clicking it selects the task; N and P then step through that task's events only.
#[test]
fn task_lane_shows_the_sleep_and_steps_follow_the_selected_task() {
    let mut h = harness(sample_app());
    let (slept, woken, switched_in) = (
        sample_ns("65.054181"),
        sample_ns("66.181951"),
        sample_ns("66.182198"),
    );
    {
        let s = h.state_mut().session.as_mut().unwrap();
        assert_eq!(
            s.trace.timeline.task_rows[0].pid, 175,
            "the task findings name comes first"
        );
        s.timeline.pending_range = Some((slept - 50_000_000, switched_in + 50_000_000));
    }
    h.run_steps(3);
    let during = slept + (woken - slept) / 2;
    let at = {
        let t = &session(&h).timeline;
        let y = t.task_lane_y(175).expect("lab_s1's lane is drawn");
        egui::pos2(t.screen_x(during), y.center())
    };
    click_at(&mut h, at);
    let s = session(&h);
    assert_eq!(
        s.timeline.selected_task,
        Some(175),
        "the click selects the task"
    );
    let cursor = s.timeline.cursor_ns.expect("the click places the cursor");
    assert!(slept < cursor && cursor < woken, "{cursor} in the sleep");
    // The lane's pixels come from this value: blocked, uninterruptible.
    let row = s.trace.timeline.task_row(175).unwrap();
    let (_, _, v) = row.lane.get(row.lane.at(cursor).expect("an interval"));
    assert_eq!(TaskActivity::from_value(v), TaskActivity::DiskSleep);
    // The inspector says so, and the toolbar says what N / P step through.
    h.get_by_label_contains("sleeping (D)");
    h.get_by_label("steps: task lab_s1-175");
    // N: the wake-up, then the switch in; P: back to the wake-up. CPU 1 has events in
    // between (other tasks'), which a CPU step would visit.
    assert!(
        !s.trace.store.cpu_range(1, cursor + 1, woken).is_empty(),
        "CPU 1 has other events before the wake-up"
    );
    for (key, want) in [
        (egui::Key::N, woken),
        (egui::Key::N, switched_in),
        (egui::Key::P, woken),
    ] {
        h.key_press(key);
        h.run_steps(2);
        assert_eq!(session(&h).timeline.cursor_ns, Some(want), "{key:?}");
    }
    // Clicking a CPU row goes back to stepping that CPU.
    let y = 80.0;
    let x = session(&h).timeline.screen_x(during);
    click_at(&mut h, egui::pos2(x, y));
    assert_eq!(session(&h).timeline.selected_task, None);
}

/// The wheel zooms over the canvas, and over the labels it scrolls the rows down to the
/// task lanes.
#[test]
fn the_wheel_over_the_labels_scrolls_to_the_task_lanes() {
    let mut h = harness(sample_app());
    let lane_y = |h: &Harness<'static, KctxApp>| {
        session(h)
            .timeline
            .task_lane_y(175)
            .expect("drawn")
            .center()
    };
    let before = lane_y(&h);
    let view = session(&h).timeline.view;
    // Half a gutter left of the canvas's first pixel: over the lane labels.
    let t = &session(&h).timeline;
    let labels_x = t.screen_x(t.view.start_ns as u64) - kctx::gui::timeline::GUTTER_PX / 2.0;
    h.hover_at(egui::pos2(labels_x, 300.0));
    h.event(egui::Event::MouseWheel {
        unit: egui::MouseWheelUnit::Point,
        delta: egui::vec2(0.0, -120.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Wheel,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(8);
    let after = lane_y(&h);
    assert!(
        after < before - 50.0,
        "the lane moved up: {before} -> {after}"
    );
    assert_eq!(session(&h).timeline.view, view, "no zoom over the labels");
}

/// The real binary, as a user runs it: `kctx sample --screenshot OUT.png` opens the X11 /
/// OpenGL window under Xvfb (Mesa's software GL), renders the loaded sample, saves it, exits.
#[test]
fn real_window_under_xvfb_saves_a_non_blank_screenshot() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        eprintln!("SKIPPED: xvfb-run is not installed (scripts/install-deps installs it)");
        return;
    }
    let out = std::env::temp_dir().join(format!("kctx-smoke-{}.png", std::process::id()));
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1600x960x24"])
        .arg(kctx_bin())
        .arg("sample")
        .arg("--screenshot")
        .arg(&out)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .status()
        .expect("run xvfb-run");
    assert!(status.success(), "the window under Xvfb failed: {status}");
    let image = image::open(&out).expect("screenshot written").to_rgba8();
    assert!(
        image.width() >= 800 && image.height() >= 500,
        "{}x{}",
        image.width(),
        image.height()
    );
    assert!(
        !kctx::gui::screenshot::is_blank(&image),
        "screenshot is one colour"
    );
    // The timeline draws many colours (tasks, contexts), not just a themed background.
    let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "only {} colours", colours.len());
    let _ = std::fs::remove_file(&out);
}

/// The sample with its first finding selected by a click on its title.
fn sample_with_first_finding_selected() -> Harness<'static, KctxApp> {
    let mut h = harness(sample_app());
    let title = finding_title(&session(&h).trace.findings[0]);
    h.get_by_label(&title).click();
    h.run_steps(4);
    h
}

/// The event list row of the cursor is highlighted and scrolled into view: the rows are
/// placed by their real height, and after selecting a finding the scroll is computed on the
/// list of the new view. Returns the highlighted rows.
fn assert_cursor_row_shown(h: &Harness<'static, KctxApp>) -> std::ops::Range<usize> {
    let s = session(h);
    let cursor = s.timeline.cursor_ns.expect("a cursor");
    let rows = s.list.cursor_rows(&s.trace.store, cursor);
    assert!(!rows.is_empty(), "a row at or before the cursor");
    assert!(
        s.list.drawn_rows.contains(&rows.start),
        "row {} drawn in {:?}",
        rows.start,
        s.list.drawn_rows
    );
    let shown = s.list.shown_rect.expect("the list was drawn");
    let pitch = s.list.row_height().expect("measured") + 3.0;
    for r in rows.clone() {
        let text = kctx::gui::event_list::row_text(&s.trace.store, s.list.row(&s.trace.store, r));
        let node = h.get_by_label(&text);
        assert_eq!(
            node.accesskit_node().toggled(),
            Some(egui::accesskit::Toggled::True),
            "row {r} is highlighted"
        );
        let rect = node.rect();
        assert!(
            shown.top() - 0.5 <= rect.top() && rect.bottom() <= shown.bottom() + 0.5,
            "row {r} at {rect:?} inside the list {shown:?}"
        );
        // Scrolled so that the cursor's first row is the fourth visible, or as near as the
        // list's end allows: the rows were placed with their real height and spacing.
        if r == rows.start {
            let visible = ((shown.height() + 3.0) / pitch).floor() as usize;
            let top = (r.saturating_sub(3)).min(s.list.row_count().saturating_sub(visible));
            let want = (r - top) as f32 * pitch;
            let got = rect.top() - shown.top();
            assert!(
                (got - want).abs() < 1.0,
                "the cursor's row is {got} px down the list, not {want} (rows {pitch} px apart)"
            );
        }
    }
    rows
}

/// Issue 20, point 1: selecting a finding scrolls the event list to the call, highlighted;
/// clicking the timeline between events highlights the event before the cursor.
#[test]
fn the_event_list_shows_and_highlights_the_cursors_row() {
    let mut h = sample_with_first_finding_selected();
    let rows = assert_cursor_row_shown(&h);
    let s = session(&h);
    let call = s.timeline.cursor_ns.unwrap();
    let first = s.list.row(&s.trace.store, rows.start);
    assert_eq!(s.trace.store.ts()[first as usize], call, "the call's event");
    // The list is the zoomed view's (the offset was not computed on the whole trace's).
    let (t0, t1) = s.view_range();
    let store = &s.trace.store;
    assert_eq!(s.list.row_count(), store.range(t0, t1).len());
    // A click on CPU 1's row 40 px right of the call: between events.
    let x = s.timeline.screen_x(call) + 40.0;
    click_at(&mut h, egui::pos2(x, 80.0));
    h.run_steps(2);
    let s = session(&h);
    let cursor = s.timeline.cursor_ns.unwrap();
    assert!(cursor > call);
    let rows = assert_cursor_row_shown(&h);
    let s = session(&h);
    let before = s.list.row(&s.trace.store, rows.start);
    let ts = s.trace.store.ts()[before as usize];
    assert!(
        ts <= cursor,
        "the highlighted event is not after the cursor"
    );
    if rows.end < s.list.row_count() {
        let next = s.list.row(&s.trace.store, rows.end);
        assert!(s.trace.store.ts()[next as usize] > cursor);
    }
}

pub(crate) fn corpus_app(rel: &str) -> KctxApp {
    let path = corpus_tests::corpus(rel);
    KctxApp::with_trace(
        load(vec![Input::File(path)], None, &|_| {}).expect("the corpus trace loads"),
    )
}

/// Issue 20, point 2, on the Debian-kernel s5_clean recording: its one finding groups three
/// allocations in atomic context whose GFP flags the trace lacks. Every instance is listed,
/// `]` / `[` step through them one by one, each shows its own atomic span, and the finding
/// says "unverifiable" in a colour of its own.
#[test]
fn grouped_findings_list_and_step_through_every_instance() {
    let mut h = harness(corpus_app("lab/s5_clean/trace.dat"));
    let f = session(&h).trace.findings[0].clone();
    assert_eq!(f.confidence, trace_model::Confidence::Unverifiable);
    assert!(f.count >= 3, "a group: ×{}", f.count);
    assert_eq!(f.instances.len() as u64, f.count, "every instance kept");
    let span = {
        let t = &session(&h).trace.timeline;
        t.end_ns - t.origin_ns
    };
    // Undecided findings sit apart, in a group that starts closed.
    let group = format!("Undecided: {} (1)", kctx::gui::findings::kind_name(f.kind));
    h.get_by_label(&group).click();
    h.run_steps(2);
    h.get_by_label(&finding_title(&f)).click();
    h.run_steps(4);
    // The confidence in words beside the title, and its colour everywhere.
    h.get_by_label("unverifiable");
    let colour = kctx::gui::theme::UNVERIFIABLE;
    assert_ne!(colour, kctx::gui::theme::VIOLATION);
    let check_instance = |h: &Harness<'static, KctxApp>, k: usize| {
        let s = session(h);
        let inst = &f.instances[k];
        assert_eq!(s.selected_instance, k);
        let call = inst.ts;
        assert_eq!(s.timeline.cursor_ns, Some(call), "instance {k}'s call");
        let atomic = &s.timeline.highlights[0];
        assert_eq!(atomic.label, "atomic context");
        assert_eq!(atomic.cpu, Some(inst.cpu));
        assert_eq!(atomic.colour, colour);
        assert_eq!(atomic.start_ns, inst.span[0]);
        assert!(atomic.end_ns - atomic.start_ns < span / 100, "its own span");
        let (t0, t1) = s.view_range();
        assert!(
            t0 <= call && call <= t1 && t1 - t0 < span / 100,
            "zoomed on it"
        );
        assert!(
            s.timeline
                .markers
                .iter()
                .any(|m| m.ts_ns == call && m.colour == colour),
            "a marker at instance {k}"
        );
    };
    check_instance(&h, 0);
    // The group is expanded: one line per instance, the shown one selected.
    for k in 0..f.instances.len() {
        let label = kctx::gui::findings::instance_label(&f, k);
        let node = h.get_by_label(&label);
        let toggled = node.accesskit_node().toggled();
        assert_eq!(toggled == Some(egui::accesskit::Toggled::True), k == 0);
    }
    for k in 1..f.instances.len() {
        h.key_press(egui::Key::CloseBracket);
        h.run_steps(3);
        check_instance(&h, k);
    }
    h.key_press(egui::Key::OpenBracket);
    h.run_steps(3);
    check_instance(&h, f.instances.len() - 2);
    // A click on an instance's line selects it.
    h.get_by_label(&kctx::gui::findings::instance_label(&f, 0))
        .click();
    h.run_steps(3);
    check_instance(&h, 0);
}

/// The sample's findings are definite: labelled so, in the violation red.
#[test]
fn definite_findings_are_labelled_and_red() {
    let h = sample_with_first_finding_selected();
    let f = &session(&h).trace.findings[0];
    assert_eq!(f.confidence, trace_model::Confidence::Definite);
    assert!(
        !h.get_all_by_label("definite")
            .collect::<Vec<_>>()
            .is_empty()
    );
    let s = session(&h);
    assert_eq!(s.timeline.highlights[0].colour, kctx::gui::theme::VIOLATION);
}

/// Issue 20, points 7 and 9: an evidence line is a button placing the cursor on its event
/// (and selecting its CPU); stepping through the findings keeps the panels' widths, so the
/// timeline does not jump.
#[test]
fn evidence_lines_place_the_cursor_and_the_timeline_keeps_its_width() {
    let mut h = harness(sample_app());
    let width = session(&h).timeline.width_px;
    let n = session(&h).trace.findings.len();
    for _ in 0..n {
        h.key_press(egui::Key::CloseBracket);
        h.run_steps(3);
        assert_eq!(
            session(&h).timeline.width_px,
            width,
            "the canvas keeps its width"
        );
    }
    let f = session(&h).trace.findings[session(&h).selected_finding.unwrap()].clone();
    let e = f.evidence.first().expect("evidence").clone();
    let line = format!(
        "1. {:.6} CPU {} {} {}: {}",
        trace_model::seconds(e.ts),
        e.cpu,
        e.task,
        e.event,
        e.detail
    );
    // Move away first, so that the click is what brings the cursor back.
    h.key_press(egui::Key::N);
    h.run_steps(2);
    h.get_by_label(&line).click();
    h.run_steps(3);
    let s = session(&h);
    assert_eq!(s.timeline.cursor_ns, Some(e.ts));
    assert_eq!(s.timeline.selected_cpu, Some(e.cpu as usize));
    assert_eq!(s.timeline.width_px, width);
}

/// Presses the primary button at `from`, drags to `to` and releases.
pub(crate) fn drag(h: &mut Harness<'static, KctxApp>, from: egui::Pos2, to: egui::Pos2) {
    h.hover_at(from);
    h.event(egui::Event::PointerButton {
        pos: from,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(1);
    for k in 1..=8 {
        h.hover_at(from + (to - from) * (k as f32 / 8.0));
        h.run_steps(1);
    }
    h.event(egui::Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(2);
}

/// Issue 20, points 3 and 9, on the lockdep AB-BA recording: the first view is a fit of the
/// trace; the cycle's four witness labels all find a spot, none over another, all inside
/// the canvas; scrolled away, they are not piled at the edge; panning stops at the trace's
/// ends.
#[test]
fn labels_never_collide_and_the_view_stays_on_the_trace() {
    let mut h = harness(corpus_app("lab/lockdep-s3_abba_mutex/trace.dat"));
    let (origin, end) = {
        let t = &session(&h).trace.timeline;
        (t.origin_ns, t.end_ns)
    };
    let shown = |h: &Harness<'static, KctxApp>| {
        let t = &session(h).timeline;
        t.view.ns_per_px * f64::from(t.width_px)
    };
    let span = (end - origin) as f64;
    assert!(
        (shown(&h) / span - 1.02).abs() < 0.005,
        "the first view is a fit: {} of {span} ns",
        shown(&h)
    );
    let fitted = session(&h).timeline.view;
    // Dragging the fitted view right or left does not leave the trace.
    let y = 80.0;
    drag(&mut h, egui::pos2(700.0, y), egui::pos2(1100.0, y));
    assert_eq!(session(&h).timeline.view, fitted, "panned past the start");
    h.key_press(egui::Key::Plus);
    h.key_press(egui::Key::Plus);
    h.run_steps(2);
    for _ in 0..3 {
        drag(&mut h, egui::pos2(1100.0, y), egui::pos2(500.0, y));
    }
    let v = session(&h).timeline.view;
    let width = session(&h).timeline.width_px;
    assert!(
        (v.end_ns(width) - fitted.end_ns(width)).abs() < 1.0,
        "stops at the end: {} vs {}",
        v.end_ns(width),
        fitted.end_ns(width)
    );
    // The cycle: one highlight per witness, each labelled.
    let title = finding_title(&session(&h).trace.findings[0]);
    h.get_by_label(&title).click();
    h.run_steps(4);
    let s = session(&h);
    let n = s.timeline.highlights.len();
    assert!(n >= 4, "{n} witnesses");
    let labels = &s.timeline.label_rects;
    assert_eq!(labels.len(), n, "every witness labelled");
    let left = s.timeline.screen_x(s.timeline.view.start_ns.ceil() as u64) - 1.0;
    let right = left + s.timeline.width_px + 2.0;
    for (k, a) in labels.iter().enumerate() {
        assert!(
            a.left() >= left && a.right() <= right,
            "{a:?} in [{left}, {right}]"
        );
        for b in &labels[k + 1..] {
            assert!(!a.intersects(*b), "{a:?} over {b:?}");
        }
    }
    // Zoomed in far right of the witnesses: no label left at the edge.
    let last = s
        .timeline
        .highlights
        .iter()
        .map(|w| w.end_ns)
        .max()
        .unwrap();
    let s = h.state_mut().session.as_mut().unwrap();
    s.timeline.pending_range = Some((last + (end - last) / 2, end));
    h.run_steps(3);
    assert!(session(&h).timeline.label_rects.is_empty());
}

/// Issue 20, point 8: inputs that hold no trace are named with what they were read as.
#[test]
fn inputs_without_a_trace_are_named_in_the_error() {
    let info = corpus_tests::corpus("lab/s1_spin_sleep/run-info.txt");
    let syms = corpus_tests::corpus("lab/s1_spin_sleep/ctxlab.kallsyms");
    let ctx = egui::Context::default();
    let mut app = KctxApp::default();
    app.open(
        vec![Input::File(info.clone()), Input::File(syms.clone())],
        &ctx,
    );
    app.wait_loaded();
    let h = harness(app);
    let error = h.state().error.clone().expect("an error");
    assert!(
        error.contains(&format!("{}: no trace events found", info.display())),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "{}: kallsyms symbols, not a trace",
            syms.display()
        )),
        "{error}"
    );
    h.get_by_label_contains(&info.display().to_string());
}

/// Issue 20, point 7: tooltips say what is under the pointer (a finding's marker, its
/// atomic span, a task's interval), and a right-drag shows the range it will zoom to.
#[test]
fn tooltips_name_what_is_hovered_and_a_range_drag_shows_its_band() {
    let mut h = sample_with_first_finding_selected();
    let (atomic, cpu, call) = {
        let s = session(&h);
        let a = s.timeline.highlights[0].clone();
        (
            a,
            s.trace.findings[0].cpu.unwrap() as usize,
            s.timeline.cursor_ns.unwrap(),
        )
    };
    let block = session(&h).timeline.cpu_block_y(cpu).expect("drawn");
    // The marker's tip, at the top of the finding's CPU.
    let t = &session(&h).timeline;
    h.hover_at(egui::pos2(t.screen_x(call), block.min + 3.0));
    h.run_steps(2);
    let tip = session(&h).timeline.hover_text.clone().expect("a tooltip");
    assert!(
        tip.starts_with("Sleep in atomic context (definite) at"),
        "{tip}"
    );
    // Inside the atomic span, below the marker.
    let t = &session(&h).timeline;
    let mid = atomic.start_ns + (atomic.end_ns - atomic.start_ns) / 2;
    h.hover_at(egui::pos2(t.screen_x(mid), block.center()));
    h.run_steps(2);
    let tip = session(&h).timeline.hover_text.clone().expect("a tooltip");
    assert!(tip.starts_with("atomic context\n"), "{tip}");
    // The finding's task lane: its state and the interval's length.
    let t = &session(&h).timeline;
    let lane = t.task_lane_y(175).expect("lab_s1's lane");
    h.hover_at(egui::pos2(t.screen_x(call), lane.center()));
    h.run_steps(2);
    let tip = session(&h).timeline.hover_text.clone().expect("a tooltip");
    assert!(tip.starts_with("running (task colour)\n"), "{tip}");
    assert!(tip.contains(" from ") && tip.contains(" to "), "{tip}");
    // A right-drag: the band follows the pointer, the release zooms to it.
    let (x0, x1, y) = (700.0, 1000.0, block.center());
    let range = {
        let t = &session(&h).timeline;
        let at = |x: f32| {
            t.view
                .ts_from_x(f64::from(x - t.screen_x(t.view.start_ns as u64)))
        };
        (at(x0), at(x1))
    };
    h.hover_at(egui::pos2(x0, y));
    h.event(egui::Event::PointerButton {
        pos: egui::pos2(x0, y),
        button: egui::PointerButton::Secondary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(1);
    for k in 1..=6 {
        h.hover_at(egui::pos2(x0 + (x1 - x0) * k as f32 / 6.0, y));
        h.run_steps(1);
    }
    assert_eq!(session(&h).timeline.selection_band, Some((x0, x1)));
    h.event(egui::Event::PointerButton {
        pos: egui::pos2(x1, y),
        button: egui::PointerButton::Secondary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run_steps(2);
    let t = &session(&h).timeline;
    assert_eq!(t.selection_band, None);
    let (start, end) = (t.view.start_ns, t.view.end_ns(t.width_px));
    let tol = (range.1 - range.0) * 0.05;
    assert!(
        (start - range.0).abs() < tol && (end - range.1).abs() < tol,
        "zoomed to the band: [{start}, {end}] vs {range:?}"
    );
}

/// On a recording dated by its DATE option (times near 1.7e9 s, where an f64 of seconds
/// resolves only ~240 ns), selecting each finding puts the cursor on one of its evidence
/// events, and each evidence line puts it exactly on that event, on its CPU.
#[test]
fn findings_place_the_cursor_exactly_on_their_evidence_in_a_dated_recording() {
    const DATE: u16 = 1;
    let original =
        std::fs::read(corpus_tests::corpus("lab/lockdep-s1_spin_sleep/trace.dat")).expect("read");
    // trace-cmd writes DATE as text: µs since the epoch (2024-12-03 10:00:00.123456 UTC).
    let dated = crate::tracedat::with_appended_option(&original, DATE, b"1733220000123456\0");
    let path = std::env::temp_dir().join(format!("kctx-dated-{}.dat", std::process::id()));
    std::fs::write(&path, dated).expect("write the dated copy");
    let trace = load(vec![Input::File(path.clone())], None, &|_| {}).expect("the dated copy loads");
    let _ = std::fs::remove_file(&path);
    assert!(
        trace.store.ts()[0] > 1_733_220_000 * 1_000_000_000,
        "the DATE applies"
    );
    let findings = trace.findings.clone();
    assert!(!findings.is_empty(), "the planted bugs are found");
    let mut h = harness(KctxApp::with_trace(trace));
    let mut inexact_in_seconds = 0;
    for f in &findings {
        h.get_by_label(&finding_title(f)).click();
        h.run_steps(4);
        let s = session(&h);
        let evidence_ts: Vec<u64> = f
            .evidence
            .iter()
            .map(|e| s.trace.store.ts()[e.index as usize])
            .collect();
        let cursor = s.timeline.cursor_ns.expect("a cursor");
        assert!(evidence_ts.contains(&cursor), "{}: cursor {cursor}", f.id);
        for (n, e) in f.evidence.iter().enumerate() {
            let through_seconds = (trace_model::seconds(e.ts) * 1e9).round() as u64;
            inexact_in_seconds += usize::from(through_seconds != e.ts);
            // Move away first, so that the click is what brings the cursor back.
            h.key_press(egui::Key::N);
            h.run_steps(2);
            h.get_by_label(&kctx::gui::findings::evidence_label(n, e))
                .click();
            h.run_steps(3);
            let s = session(&h);
            let event = s.trace.store.event(e.index);
            assert_eq!((event.ts, event.cpu), (e.ts, e.cpu), "{}: {n}", f.id);
            assert_eq!(s.timeline.cursor_ns, Some(event.ts), "{}: {n}", f.id);
            assert_eq!(s.timeline.selected_cpu, Some(event.cpu as usize));
        }
    }
    assert!(
        inexact_in_seconds > 0,
        "at these times seconds lose ns: a round trip through them would be caught"
    );
}

/// Issue 22: a trace opens in stages. The loader first delivers a preview drawn from the
/// events alone (CPU lanes from the flags and `sched_switch`, one lane per task, no findings
/// yet, the findings panel saying they are being checked), then the whole trace, sharing the
/// same store; the window completes the session in place, keeping its view.
#[test]
fn a_trace_opens_with_its_timeline_first_then_its_context_and_findings() {
    use kctx::gui::loader::{Loaded, Loader};
    use kctx::gui::timeline::model::LaneKind;
    let path = corpus_tests::corpus("lab/lockdep-s1_spin_sleep/trace.dat");
    let loader = Loader::spawn(vec![Input::File(path)], None, || {});
    let mut delivered = Vec::new();
    while !matches!(delivered.last(), Some(Loaded::Done(_))) {
        match loader.poll() {
            Some(loaded) => delivered.push(loaded),
            None => std::thread::sleep(std::time::Duration::from_millis(5)),
        }
    }
    let [Loaded::Preview(preview), Loaded::Done(Ok(full))] = <[Loaded; 2]>::try_from(delivered)
        .unwrap_or_else(|_| panic!("a preview, then the whole trace"))
    else {
        panic!("a preview, then the whole trace");
    };
    assert!(!preview.complete && full.complete);
    assert!(std::sync::Arc::ptr_eq(&preview.store, &full.store));
    assert!(preview.findings.is_empty() && !full.findings.is_empty());
    // The same CPU and task lanes, the same running task wherever both show one.
    assert_eq!(preview.timeline.cpus.len(), full.timeline.cpus.len());
    let pids = |t: &kctx::gui::trace::LoadedTrace| {
        let mut p: Vec<i32> = t.timeline.task_rows.iter().map(|r| r.pid).collect();
        p.sort_unstable();
        p
    };
    assert_eq!(pids(&preview), pids(&full));
    let tasks_at = |t: &kctx::gui::trace::LoadedTrace, ts: u64| -> Vec<Option<i32>> {
        (t.context.cpus.iter())
            .map(|c| c.tasks.at(ts).map(|i| i.value.pid))
            .collect()
    };
    let (first, last) = full.store.time_span().unwrap();
    let mut agree = 0;
    for k in 1..50 {
        let ts = first + (last - first) * k / 50;
        for (a, b) in tasks_at(&preview, ts).into_iter().zip(tasks_at(&full, ts)) {
            if let (Some(a), Some(b)) = (a, b) {
                assert_eq!(a, b, "at {ts}");
                agree += 1;
            }
        }
    }
    assert!(agree > 50, "{agree}");

    let mut h = harness(KctxApp::with_trace(preview));
    h.get_by_label_contains("Checking: the findings appear");
    assert!(session(&h).timeline.lane_y(0, LaneKind::Task).is_some());
    assert!(session(&h).timeline.lane_y(0, LaneKind::IrqsOff).is_some());
    // The user zooms while the model is built; the whole trace keeps that view.
    h.key_press(egui::Key::Plus);
    h.run_steps(2);
    let view = session(&h).timeline.view;
    let title = finding_title(&full.findings[0]);
    h.state_mut().deliver(Loaded::Done(Ok(full)));
    h.run_steps(3);
    let s = session(&h);
    assert!(s.trace.complete && !s.timeline.markers.is_empty());
    assert_eq!(s.timeline.view, view);
    h.get_by_label(&title);
    assert!(h.query_by_label_contains("Checking:").is_none());
}

/// Issue 22: Esc while a trace loads stops the load at once; what was shown stays, said to be
/// unchecked, and nothing replaces it later.
#[test]
fn escape_cancels_a_load_in_progress() {
    let mut h = harness(KctxApp::default());
    let ctx = h.ctx.clone();
    h.state_mut().open(vec![Input::Synthetic(3_000_000)], &ctx);
    h.run_steps(2);
    assert!(h.state().is_loading());
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!h.state().is_loading());
    h.get_by_label("loading cancelled");
    std::thread::sleep(std::time::Duration::from_millis(300));
    h.run_steps(2);
    if let Some(s) = &h.state().session {
        assert!(!s.trace.complete && s.cancelled);
        h.get_by_label_contains("Not checked: loading was cancelled");
    }
}
