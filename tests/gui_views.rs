//! The desktop app's search, notes, bookmarks, sessions, Open fallback and lock-order
//! diagram, driven headless through egui_kittest on real corpus traces.

use crate::gui::{corpus_app, harness, session};
use egui_kittest::kittest::{NodeT, Queryable};
use kctx::gui::search::SearchHit;

type H = egui_kittest::Harness<'static, kctx::gui::KctxApp>;

const S1: &str = "lab/lockdep-s1_spin_sleep/trace.dat";

/// lockdep-s3's window with its AB-BA lock-order cycle selected in the findings panel.
fn abba_cycle_selected() -> (H, trace_model::Finding) {
    let mut h = harness(corpus_app("lab/lockdep-s3_abba_mutex/trace.dat"));
    let f = session(&h)
        .trace
        .findings
        .iter()
        .find(|f| f.kind == trace_model::FindingKind::LockOrderCycle)
        .expect("the AB-BA cycle")
        .clone();
    h.get_by_label(&kctx::gui::findings::finding_title(&f))
        .click();
    h.run_steps(4);
    (h, f)
}

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

/// An event type found by name, with its count: Enter goes to its next event, and again to
/// the one after. A type the trace.dat declares but never recorded is not offered.
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
    {
        let s = session(&h);
        let declared_only = s.trace.store.event_type_id("sys_enter_nanosleep");
        assert!(declared_only.is_some_and(|t| s.trace.event_counts[usize::from(t.0)] == 0));
        let offered = kctx::gui::search::search_hits(&s.trace, "nanosleep", None).0;
        assert!(offered.is_empty(), "{offered:?}");
    }
    // lab s1's trace.dat records 807 switches (kctx stats).
    h.get_by_label("event sched_switch (807 events; the next after the cursor)");
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

/// A harness whose app keeps sessions in `dir`, with `trace` opened as a user opens it.
fn opened_with_sessions(dir: &std::path::Path, trace: &std::path::Path) -> H {
    let app = kctx::gui::KctxApp::default().with_session_dir(Some(dir.to_path_buf()));
    let mut h = harness(app);
    let ctx = h.ctx.clone();
    let input = kctx::gui::Input::File(trace.to_path_buf());
    h.state_mut().open(vec![input], &ctx);
    h.state_mut().wait_loaded();
    h.run_steps(4);
    h
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kctx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Right-clicks task `pid`'s lane (scrolled into view first) and picks `item` of its menu.
fn lane_menu(h: &mut H, pid: i32, item: &str) {
    session_mut(h).timeline.scroll_to_task = Some(pid);
    h.run_steps(3);
    let y = session(h).timeline.task_lane_y(pid).expect("lane drawn");
    let x = session(h).timeline.screen_x(session(h).view_range().0) + 200.0;
    let at = egui::pos2(x, y.center());
    h.hover_at(at);
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos: at,
            button: egui::PointerButton::Secondary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.run_steps(2);
    h.get_by_label(item).click();
    h.run_steps(3);
}

/// The y of the first task lane drawn.
fn first_lane_pid(h: &H) -> i32 {
    let s = session(h);
    s.trace
        .timeline
        .task_rows
        .iter()
        .filter_map(|t| s.timeline.task_lane_y(t.pid).map(|y| (y.min, t.pid)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("a task lane drawn")
        .1
}

/// `M` adds a note at the cursor whose text is typed straight away, `B` bookmarks the view;
/// a task lane is pinned to the top and another hidden from its menu. Closing and opening
/// the same trace brings all of it back, with the view and the event-list filter; the same
/// path with another modification time opens afresh.
#[test]
fn notes_bookmarks_and_lanes_are_saved_per_trace_and_restored() {
    let dir = scratch_dir("sessions");
    let trace = dir.join("trace.dat");
    std::fs::copy(corpus_tests::corpus(S1), &trace).unwrap();
    let mut h = opened_with_sessions(&dir, &trace);
    h.key_press(egui::Key::CloseBracket);
    h.run_steps(3);
    let cursor = session(&h)
        .timeline
        .cursor_ns
        .expect("cursor on the first violation");
    h.key_press(egui::Key::M);
    h.run_steps(2);
    h.event(egui::Event::Text("wakeup looks early".to_owned()));
    h.run_steps(2);
    let note = session(&h).timeline.notes[0].clone();
    assert_eq!(
        (note.ts_ns, note.text.as_str()),
        (cursor, "wakeup looks early")
    );
    // Drawn: a flag on the canvas whose tooltip is the note.
    let flag = session(&h).timeline.note_flags[0];
    assert!(flag.width() > 10.0, "the note's flag is drawn: {flag:?}");
    h.hover_at(flag.center());
    h.run_steps(2);
    let tip = session(&h).timeline.hover_text.clone().unwrap_or_default();
    assert!(tip.contains("wakeup looks early"), "{tip}");
    h.get_by_label(&format!("{:.6} s", cursor as f64 / 1e9));
    // Escape leaves the text field; B bookmarks the view.
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.key_press(egui::Key::B);
    h.run_steps(2);
    let bookmark = session(&h).annotations.bookmarks[0].clone();
    assert_eq!(
        (bookmark.start_ns, bookmark.end_ns),
        session(&h).view_range()
    );
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    // Pin the third lane, hide the second.
    let pids: Vec<i32> = session(&h).trace.timeline.task_rows[..3]
        .iter()
        .map(|t| t.pid)
        .collect();
    lane_menu(&mut h, pids[2], "Pin this task's lane to the top");
    assert_eq!(
        first_lane_pid(&h),
        pids[2],
        "the pinned lane is drawn first"
    );
    lane_menu(&mut h, pids[1], "Hide this task's lane");
    assert!(session(&h).timeline.task_lane_y(pids[1]).is_none());
    let hidden_name = kctx::gui::app::task_name(&session(&h).trace, pids[1]);
    h.get_by_label(&format!("hidden lane {hidden_name}"));
    session_mut(&mut h).list.filter.event = "sched".to_owned();
    h.run_steps(2);
    let view = session(&h).timeline.view;
    h.state_mut().save_session();
    drop(h);

    let h = opened_with_sessions(&dir, &trace);
    let s = session(&h);
    assert_eq!(s.timeline.notes, vec![note.clone()]);
    assert_eq!(s.annotations.bookmarks, vec![bookmark.clone()]);
    assert_eq!(s.timeline.pinned_tasks, vec![pids[2]]);
    assert_eq!(s.timeline.hidden_tasks, vec![pids[1]]);
    assert_eq!(s.list.filter.event, "sched");
    assert_eq!(s.timeline.cursor_ns, Some(cursor));
    // The view's left edge and zoom (its right edge follows the window's width).
    assert_eq!(s.timeline.view, view);
    assert!(s.timeline.note_flags[0].width() > 10.0, "the note is drawn");
    assert_eq!(first_lane_pid(&h), pids[2]);
    assert!(s.timeline.task_lane_y(pids[1]).is_none());
    drop(h);

    // Same path, other modification time: another recording, a new session.
    let f = std::fs::File::options().write(true).open(&trace).unwrap();
    f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1))
        .unwrap();
    drop(f);
    let h = opened_with_sessions(&dir, &trace);
    assert!(session(&h).timeline.notes.is_empty());
    assert!(session(&h).annotations.bookmarks.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A bookmark's "go" shows its view again after a fit.
#[test]
fn a_bookmark_brings_its_view_back() {
    let mut h = harness(corpus_app(S1));
    for _ in 0..6 {
        h.key_press(egui::Key::Plus);
    }
    h.run_steps(2);
    h.key_press(egui::Key::B);
    h.run_steps(2);
    h.key_press(egui::Key::Escape);
    h.run_steps(1);
    let marked = session(&h).view_range();
    let marked_list = crate::gui::events_in_view_label(&h);
    h.key_press(egui::Key::F);
    h.run_steps(3);
    assert_ne!(session(&h).view_range(), marked, "fitted");
    assert_ne!(crate::gui::events_in_view_label(&h), marked_list);
    h.get_by_label("go").click();
    h.run_steps(3);
    let (v0, v1) = session(&h).view_range();
    let slack = (marked.1 - marked.0) / 100;
    assert!(v0.abs_diff(marked.0) <= slack && v1.abs_diff(marked.1) <= slack);
    // Drawn: the event list holds the bookmarked view's events again.
    let in_view = session(&h).trace.store.range(v0, v1).len();
    assert_eq!(crate::gui::events_in_view_label(&h), (in_view, in_view));
}

/// Without a desktop file dialog, File › Open shows kctx's own: a folder typed into its path
/// field is listed, a click enters a folder and picks a file, Open loads it; the file is
/// then under File › Open recent. File › Export writes the report through the same dialog.
#[test]
fn open_and_export_work_without_a_desktop_dialog() {
    let mut h = harness(kctx::gui::KctxApp::default());
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Open…  (trace + kallsyms + console log)")
        .click();
    h.run_steps(4);
    assert!(
        h.state().path_dialog.is_some(),
        "the built-in dialog opened"
    );
    let lab = corpus_tests::corpus("lab");
    // The dialog's path field has the keyboard once clicked.
    h.get_by_role(egui::accesskit::Role::TextInput).click();
    h.run_steps(1);
    h.event(egui::Event::Text(lab.display().to_string()));
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert_eq!(h.state().path_dialog.as_ref().unwrap().dir, lab);
    h.get_by_label("lockdep-s3_abba_mutex/").click();
    h.run_steps(2);
    h.get_by_label("trace.dat").click();
    h.run_steps(1);
    h.get_by_label("Open").click();
    h.run_steps(1);
    assert!(
        h.state().path_dialog.is_none(),
        "the dialog closed: {:?}",
        h.state().path_dialog
    );
    h.state_mut().wait_loaded();
    h.run_steps(3);
    let trace = lab.join("lockdep-s3_abba_mutex/trace.dat");
    assert_eq!(
        session(&h).trace.inputs,
        vec![kctx::gui::Input::File(trace.clone())]
    );
    assert!(!session(&h).trace.findings.is_empty(), "its AB-BA cycle");
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Open recent").hover();
    h.run_steps(2);
    assert!(
        h.get_all_by_label(&trace.display().to_string())
            .any(|n| n.accesskit_node().role() == egui::accesskit::Role::Button),
        "a button for the file under Open recent"
    );

    // Export through the built-in dialog, into a folder that exists.
    let out_dir = scratch_dir("export");
    let out = out_dir.join("report.md");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export violation report").hover();
    h.run_steps(2);
    h.get_by_label("Markdown…").click();
    h.run_steps(4);
    let d = h
        .state_mut()
        .path_dialog
        .as_mut()
        .expect("the export dialog");
    assert!(d.path.ends_with("kctx-report.md"), "{}", d.path);
    d.path = out.display().to_string();
    h.run_steps(1);
    h.get_by_label("Save").hover();
    h.run_steps(2);
    h.get_by_label("Save").click();
    h.run_steps(2);
    assert!(
        h.state().path_dialog.is_none(),
        "{:?}",
        h.state().path_dialog
    );
    let md = std::fs::read_to_string(&out).expect("the report was written");
    for f in &session(&h).trace.findings {
        assert!(md.contains(&f.id), "the report names {}", f.id);
    }
    h.get_by_label(&format!("report saved to {}", out.display()));
    std::fs::remove_dir_all(&out_dir).unwrap();
}

/// A file as the window system hands a drop to egui.
#[derive(Debug)]
struct DroppedPath(std::path::PathBuf);

impl egui::DroppedFile for DroppedPath {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// A file dropped on the window opens.
#[test]
fn a_dropped_file_opens() {
    let mut h = harness(corpus_app(S1));
    let dropped = corpus_tests::corpus("lab/lockdep-s5_clean/trace.dat");
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(DroppedPath(dropped.clone())));
    h.run_steps(1);
    h.state_mut().wait_loaded();
    h.run_steps(2);
    assert_eq!(
        session(&h).trace.inputs,
        vec![kctx::gui::Input::File(dropped.clone())]
    );
    assert!(session(&h).trace.findings.is_empty(), "s5_clean is clean");
    // Drawn: the toolbar names the dropped file, the findings panel says it is clean, and
    // the event list holds its events.
    h.get_by_label(&dropped.display().to_string());
    h.get_by_label_contains("No violations found");
    let events = session(&h).trace.store.len();
    assert_eq!(crate::gui::events_in_view_label(&h), (events, events));
}

/// Issue 20, point 4: the AB-BA cycle of lockdep-s3 drawn as a diagram whose orders name
/// their witness (task, CPU, time, function); clicking an order places the cursor on its
/// acquisition; both tasks of the cycle are marked in the task lanes.
#[test]
fn a_lock_order_cycle_is_drawn_with_its_witnesses_and_both_tasks_marked() {
    use kctx::gui::cycle_diagram::{cycle_edges, edge_line, evidence_pid};
    let (mut h, f) = abba_cycle_selected();
    let edges = cycle_edges(&f);
    assert_eq!(edges.len(), 2, "two orders: {edges:?}");
    // The cursor is on the first witness, and its CPU is the one selected.
    let first = &edges[0].witness;
    let t = &session(&h).timeline;
    assert_eq!(t.cursor_ns, Some(first.ts));
    assert_eq!(t.selected_cpu, Some(first.cpu as usize));
    assert_eq!(
        (edges[0].from.as_str(), edges[0].to.as_str()),
        ("lab_mutex_a", "lab_mutex_b")
    );
    assert_eq!(
        (edges[1].from.as_str(), edges[1].to.as_str()),
        ("lab_mutex_b", "lab_mutex_a")
    );
    for (k, e) in edges.iter().enumerate() {
        let line = edge_line(k + 1, e);
        assert!(line.contains(" in lab_s3_take_"), "{line}");
        assert!(h.get_all_by_label(&line).count() >= 1, "{line} shown");
    }
    let pids: Vec<i32> = edges
        .iter()
        .filter_map(|e| evidence_pid(&e.witness))
        .collect();
    assert_eq!(pids.len(), 2);
    assert_ne!(
        pids[0], pids[1],
        "two tasks take the locks in opposite orders"
    );
    assert_eq!(session(&h).timeline.marked_tasks, pids);
    // Both lanes are drawn once scrolled to.
    for &pid in &pids {
        session_mut(&mut h).timeline.scroll_to_task = Some(pid);
        h.run_steps(3);
        assert!(session(&h).timeline.task_lane_y(pid).is_some());
    }
    // Clicking the second order goes to its acquisition, on its CPU.
    let line = edge_line(2, &edges[1]);
    let button = h
        .get_all_by_label(&line)
        .find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button)
        .expect("the order's line is a button");
    button.click();
    h.run_steps(3);
    let w = &edges[1].witness;
    let s = session(&h);
    assert_eq!(s.timeline.cursor_ns, Some(w.ts));
    assert_eq!(s.timeline.selected_cpu, Some(w.cpu as usize));
}

/// Zooms to `[a, b]`, hovers the middle of CPU `cpu`'s irqs-off lane there and returns the
/// tooltip.
fn hover_irqs_off_middle(h: &mut H, cpu: usize, a: u64, b: u64) -> Option<String> {
    use kctx::gui::timeline::model::LaneKind;
    session_mut(h).timeline.pending_range = Some((a, b));
    h.run_steps(3);
    let t = &session(h).timeline;
    let y = t
        .lane_y(cpu, LaneKind::IrqsOff)
        .expect("the irqs-off lane drawn");
    h.hover_at(egui::pos2(t.screen_x(a + (b - a) / 2), y.center()));
    h.run_steps(2);
    session(h).timeline.hover_text.clone()
}

/// Issue 20, point 5: irqs-off that only the events' flags showed is drawn faint and its
/// tooltip says it was sampled; irqs-off opened by a `preemptirq:irq_disable` is exact.
#[test]
fn sampled_context_is_drawn_apart_from_exact_context() {
    use kctx::gui::timeline::model::LaneKind;
    use kctx::gui::timeline::sampled;
    let mut h = harness(corpus_app(S1));
    // Per kind, the first irqs-off interval of each CPU: (cpu, start, end, value).
    let mut found: Vec<(usize, u64, u64, u32)> = Vec::new();
    {
        let s = session(&h);
        for (cpu, lanes) in s.trace.timeline.cpus.iter().enumerate() {
            let lane = lanes.lane(LaneKind::IrqsOff);
            for i in 0..lane.len() {
                let (a, b, v) = lane.get(i);
                if b - a > 2_000
                    && !found
                        .iter()
                        .any(|f| sampled::is_sampled(f.3) == sampled::is_sampled(v))
                {
                    found.push((cpu, a, b, v));
                }
            }
        }
        // Whatever opened an exact interval is a preemptirq toggle, as the store says.
        for &(cpu, a, _, v) in &found {
            let ctx = &s.trace.context.cpus[cpu].irqs_off;
            let first = ctx
                .iter()
                .find(|iv| iv.start_ns <= a && a <= iv.end_ns)
                .expect("the interval")
                .value;
            let name = s
                .trace
                .store
                .type_name(s.trace.store.event_types()[*first as usize]);
            assert_eq!(
                !sampled::is_sampled(v),
                name == "irq_disable",
                "opened by {name}"
            );
        }
    }
    assert_eq!(
        found.len(),
        2,
        "both sampled and exact irqs-off in lockdep-s1: {found:?}"
    );
    for (cpu, a, b, v) in found {
        let tip = hover_irqs_off_middle(&mut h, cpu, a, b).expect("a tooltip");
        let word = if sampled::is_sampled(v) {
            "sampled:"
        } else {
            "exact:"
        };
        assert!(tip.starts_with("irqs-off") && tip.contains(word), "{tip}");
    }
    // The sampled colour is fainter than the exact one.
    let model = &session(&h).trace.timeline;
    let exact = kctx::gui::theme::lane_value(LaneKind::IrqsOff, 1, model);
    let guess = kctx::gui::theme::lane_value(LaneKind::IrqsOff, sampled::mark(1, false), model);
    assert!(guess.a() < exact.a(), "{guess:?} vs {exact:?}");
}

/// Sampled context is drawn only where the CPU's events saw it: no drawn stretch of a
/// sampled value spans more than the bound without an event, and hovering the middle of such
/// a gap inside a context interval shows no tooltip for that lane.
#[test]
fn sampled_context_is_not_drawn_across_stretches_without_events() {
    use kctx::gui::timeline::model::LaneKind;
    use kctx::gui::timeline::sampled;
    use trace_model::context::seen::UNSEEN_GAP_NS;
    let mut h = harness(corpus_app(S1));
    let mut gap: Option<(usize, u64, u64)> = None;
    let mut sampled_pieces = 0;
    {
        let s = session(&h);
        let ts = s.trace.store.ts();
        for (cpu, lanes) in s.trace.timeline.cpus.iter().enumerate() {
            let times: Vec<u64> = s
                .trace
                .store
                .cpu_events(cpu)
                .iter()
                .map(|&i| ts[i as usize])
                .collect();
            let lane = lanes.lane(LaneKind::IrqsOff);
            for i in 0..lane.len() {
                let (a, b, v) = lane.get(i);
                if !sampled::is_sampled(v) {
                    continue;
                }
                sampled_pieces += 1;
                let inside: Vec<u64> = std::iter::once(a)
                    .chain(times.iter().copied().filter(|&t| a <= t && t <= b))
                    .chain([b])
                    .collect();
                let widest = inside.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
                assert!(
                    widest <= UNSEEN_GAP_NS,
                    "cpu {cpu} [{a}, {b}] spans {widest} ns unseen"
                );
            }
            // A gap the lane leaves inside one of the context model's sampled intervals.
            for iv in s.trace.context.cpus[cpu].irqs_off.iter() {
                if gap.is_some() || sampled::irqs_off_exact(&s.trace.store, *iv.value) {
                    continue;
                }
                let inside: Vec<u64> = times
                    .iter()
                    .copied()
                    .filter(|&t| iv.start_ns <= t && t <= iv.end_ns)
                    .collect();
                gap = inside
                    .windows(2)
                    .find(|w| w[1] - w[0] > 4 * UNSEEN_GAP_NS)
                    .map(|w| (cpu, w[0], w[1]));
            }
        }
    }
    assert!(sampled_pieces > 0, "lockdep-s1 has sampled irqs-off");
    let (cpu, a, b) = gap.expect("a sampled irqs-off interval with a long stretch without events");
    let tip = hover_irqs_off_middle(&mut h, cpu, a, b).unwrap_or_default();
    assert!(
        !tip.starts_with("irqs-off"),
        "nothing drawn in the gap, yet: {tip}"
    );
}

/// Clicking an arrow of the lock-order cycle's diagram (not its line below) puts the cursor
/// on that order's witness acquisition, on its CPU; hovering the arrow names the witness.
#[test]
fn clicking_a_cycle_arrow_jumps_to_its_witness() {
    use kctx::gui::cycle_diagram::{arrow_label, cycle_edges, edge_line};
    let (mut h, f) = abba_cycle_selected();
    let edges = cycle_edges(&f);
    assert_eq!(edges.len(), 2);
    for (k, e) in edges.iter().enumerate().rev() {
        // Drawn: the arrow has its place in the findings panel, left of the timeline.
        let bounds = h
            .get_by_label(&arrow_label(k + 1))
            .accesskit_node()
            .raw_bounds()
            .expect("the arrow is laid out");
        assert!(bounds.width() > 20.0, "{bounds:?}");
        let centre = egui::pos2(
            ((bounds.x0 + bounds.x1) / 2.0) as f32,
            ((bounds.y0 + bounds.y1) / 2.0) as f32,
        );
        let line = edge_line(k + 1, e);
        let shown = h.get_all_by_label(&line).count();
        h.hover_at(centre);
        // Tooltips wait until the pointer rests (about half a second of frames).
        h.run_steps(60);
        assert!(
            h.get_all_by_label(&line).count() > shown,
            "hovering arrow {} shows {line}",
            k + 1
        );
        crate::gui::click_at(&mut h, centre);
        h.run_steps(3);
        let t = &session(&h).timeline;
        assert_eq!(t.cursor_ns, Some(e.witness.ts), "arrow {}", k + 1);
        assert_eq!(t.selected_cpu, Some(e.witness.cpu as usize));
    }
}
