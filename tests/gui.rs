//! The desktop app: driven headless through egui_kittest (clicks, keys, typing into the
//! filters), and the real window under Xvfb saving a screenshot.

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kctx::gui::trace::load;
use kctx::gui::{Input, KctxApp};
use std::path::PathBuf;
use std::process::Command;

fn harness(app: KctxApp) -> Harness<'static, KctxApp> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 960.0))
        .build_ui_state(|ui, app: &mut KctxApp| app.show(ui), app);
    h.run_steps(4);
    h
}

fn synthetic_app(events: usize) -> KctxApp {
    let trace = load(vec![Input::Synthetic(events)], &|_| {}).expect("synthetic trace");
    KctxApp::with_trace(trace)
}

#[test]
fn keys_zoom_and_fit_the_timeline() {
    let mut h = harness(synthetic_app(20_000));
    let fitted = h.state().session.as_ref().unwrap().timeline.view;
    h.key_press(egui::Key::Plus);
    h.run_steps(2);
    let zoomed = h.state().session.as_ref().unwrap().timeline.view;
    assert!(zoomed.ns_per_px < fitted.ns_per_px / 1.5, "{zoomed:?} vs {fitted:?}");
    h.key_press(egui::Key::F);
    h.run_steps(2);
    let refit = h.state().session.as_ref().unwrap().timeline.view;
    assert!((refit.ns_per_px - fitted.ns_per_px).abs() < 1e-6 * fitted.ns_per_px);
}

#[test]
fn typing_filters_narrows_the_event_list() {
    let mut h = harness(synthetic_app(20_000));
    let all = h.state().session.as_ref().unwrap().list.rows().len();
    assert!(all > 10_000, "the fitted view lists every event ({all})");
    h.get_by_role_and_label(Role::TextInput, "event").type_text("irq_handler_entry");
    h.run_steps(3);
    let s = h.state().session.as_ref().unwrap();
    let irqs = s.list.rows().len();
    assert!(irqs > 0 && irqs < all / 5, "{irqs} of {all}");
    let store = &s.trace.store;
    assert!(s.list.rows().iter().all(|&i| store.event(i).name == "irq_handler_entry"));
    h.get_by_role_and_label(Role::TextInput, "text").type_text("name=eth0");
    h.run_steps(3);
    let eth = h.state().session.as_ref().unwrap().list.rows().len();
    assert!(eth > 0 && eth < irqs, "{eth} of {irqs}");
}

#[test]
fn click_places_the_cursor_and_n_steps_on_that_cpu() {
    let mut h = harness(synthetic_app(20_000));
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
    h.key_press(egui::Key::N);
    h.run_steps(2);
    let s = h.state().session.as_ref().unwrap();
    let next = s.timeline.cursor_ns.unwrap();
    assert!(next > cursor);
    let store = &s.trace.store;
    let i = store.range(next, next + 1).start;
    let on_cpu = (i..store.len()).take_while(|&i| store.ts()[i] == next).any(|i| usize::from(store.cpus()[i]) == cpu);
    assert!(on_cpu, "N stepped to an event of CPU {cpu}");
}

/// When `KCTX_XVFB_CHILD` names a PNG, this test opens the real window (X11, OpenGL) on the
/// bundled sample and saves it there; otherwise it does nothing. The smoke test below runs
/// it under `xvfb-run` in a child process.
#[test]
fn xvfb_child_window() {
    let Some(out) = std::env::var_os("KCTX_XVFB_CHILD") else {
        return;
    };
    let inputs = match std::env::var("KCTX_XVFB_INPUT") {
        Ok(n) => vec![Input::Synthetic(n.parse().expect("event count"))],
        Err(_) => vec![Input::Sample],
    };
    let options = kctx::gui::RunOptions {
        screenshot: Some(PathBuf::from(out)),
        any_thread: true,
    };
    kctx::gui::run(inputs, options).expect("window ran and saved its screenshot");
}

#[test]
fn real_window_under_xvfb_saves_a_non_blank_screenshot() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        eprintln!("SKIPPED: xvfb-run is not installed (apt-get install xvfb xauth libgl1-mesa-dri)");
        return;
    }
    let out = std::env::temp_dir().join(format!("kctx-smoke-{}.png", std::process::id()));
    let status = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1600x960x24"])
        .arg(std::env::current_exe().expect("test binary"))
        .args(["--exact", "gui::xvfb_child_window", "--nocapture", "--test-threads=1"])
        .env("KCTX_XVFB_CHILD", &out)
        .env("KCTX_XVFB_INPUT", "50000")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .status()
        .expect("run xvfb-run");
    assert!(status.success(), "the window under Xvfb failed: {status}");
    let image = image::open(&out).expect("screenshot written").to_rgba8();
    assert!(image.width() >= 800 && image.height() >= 500, "{}x{}", image.width(), image.height());
    assert!(!kctx::gui::screenshot::is_blank(&image), "screenshot is one colour");
    // The timeline draws many colours (tasks, contexts), not just a themed background.
    let mut colours: Vec<[u8; 4]> = image.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "only {} colours", colours.len());
    let _ = std::fs::remove_file(&out);
}
