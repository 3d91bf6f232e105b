//! The desktop app (eframe + egui): a timeline of every CPU's context with the violations
//! on it, a findings panel, a context inspector, an event list and a status bar.
//!
//! A library module so that tests drive it headless (egui_kittest) and benchmarks time its
//! frames without a GPU.

pub mod annotations;
pub mod app;
pub mod compare;
pub mod cycle_diagram;
pub mod event_list;
pub mod export;
pub mod findings;
pub mod inspector;
pub mod loader;
pub mod path_dialog;
pub mod query;
pub mod replay;
pub mod saved_session;
pub mod screenshot;
pub mod search;
pub mod status_bar;
pub mod theme;
pub mod timeline;
pub mod trace;

pub use app::{KctxApp, Session};
pub use trace::{Input, LoadedTrace};

use anyhow::Context as _;
use std::path::PathBuf;

/// How to run the window.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Save the window to this PNG once the trace is drawn, then exit.
    pub screenshot: Option<PathBuf>,
    /// A second trace to compare with the first, drawn under it.
    pub compare: Option<PathBuf>,
    /// Where imported traces are cached (none: import every time).
    pub cache: Option<analysis::TraceCache>,
}

/// Opens the window on `inputs` (the bundled sample when empty).
pub fn run(inputs: Vec<Input>, options: RunOptions) -> anyhow::Result<()> {
    let RunOptions {
        screenshot,
        compare,
        cache,
    } = options;
    let icon = eframe::icon_data::from_png_bytes(include_bytes!("../../../assets/kctx.png"))
        .context("decoding the icon")?;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("kctx")
            .with_inner_size([1600.0, 960.0])
            .with_min_inner_size([900.0, 560.0])
            .with_icon(icon)
            .with_drag_and_drop(true),
        // Screenshots are for documentation and tests: they must not depend on saved state.
        persist_window: screenshot.is_none(),
        ..Default::default()
    };
    let mut outcome = None;
    eframe::run_native(
        "kctx",
        options,
        Box::new(|cc| {
            cc.egui_ctx.set_visuals(egui::Visuals::dark());
            let storage = if screenshot.is_some() {
                None
            } else {
                cc.storage
            };
            let sessions = screenshot
                .is_none()
                .then(saved_session::default_dir)
                .flatten();
            let mut app = KctxApp::default()
                .with_cache(cache)
                .with_storage(storage)
                .with_session_dir(sessions)
                .with_native_dialogs(true)
                .opening(inputs, &cc.egui_ctx);
            if let Some(path) = compare.clone() {
                app.compare(vec![Input::File(path)], &cc.egui_ctx);
            }
            if let Some(path) = screenshot.clone() {
                outcome = Some(app.screenshot_to(path));
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))?;
    match outcome {
        None => Ok(()),
        Some(slot) => slot
            .lock()
            .map_err(|_| anyhow::anyhow!("screenshot lock poisoned"))?
            .take()
            .unwrap_or_else(|| {
                Err(anyhow::anyhow!(
                    "the window closed before the screenshot was taken"
                ))
            }),
    }
}
