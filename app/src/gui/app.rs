//! The application: menus and toolbar, the panels around the timeline, keyboard replay,
//! background loading, recent files, drag and drop, report export and `--screenshot`.

use super::compare::{CompareAction, compared_timeline_ui};
use super::event_list::{EventListState, event_list_ui};
use super::findings::{
    FindingAction, finding_markers, findings_ui, focus_finding, instance_count, splats_ui,
};
use super::inspector::inspector_ui;
use super::loader::{Loaded, Loader, tell_time};
use super::path_dialog::{Chosen, Native, PathDialog, Purpose, path_dialog_ui, try_native};
use super::replay::{Playback, StepScope, step_event, step_violation};
use super::status_bar::status_bar_ui;
use super::timeline::{TimelineState, timeline_ui};
use super::trace::{Input, LoadedTrace};
use analysis::TraceCache;
use egui::{Key, RichText, Ui};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use trace_model::CommPid;

const RECENT_KEY: &str = "kctx.recent";
const RECENT_MAX: usize = 10;
/// How often the window redraws while a load runs and nothing else happens.
const LOADING_REPAINT: std::time::Duration = std::time::Duration::from_millis(250);

/// One open trace and the state of its views.
pub struct Session {
    pub trace: LoadedTrace,
    pub timeline: TimelineState,
    pub list: EventListState,
    pub selected_finding: Option<usize>,
    /// Which instance of the selected finding is shown.
    pub selected_instance: usize,
    /// Playing forward, at this speed.
    pub playback: Option<Playback>,
    pub speed_ns_per_s: f64,
    pub search: super::search::SearchState,
    pub annotations: super::annotations::Annotations,
    pub query: super::query::QueryPanel,
    /// A second trace compared with this one, drawn under it.
    pub compare: Option<super::compare::Comparison>,
    /// The user stopped the load of this trace's preview (Esc): it stays a preview.
    pub cancelled: bool,
}

impl Session {
    /// A session showing the whole trace.
    pub fn new(trace: LoadedTrace) -> Session {
        let mut timeline = TimelineState::default();
        timeline.markers = finding_markers(&trace.findings, &trace.splats);
        timeline.fit();
        Session {
            trace,
            timeline,
            list: EventListState::default(),
            selected_finding: None,
            selected_instance: 0,
            playback: None,
            speed_ns_per_s: Playback::SPEEDS[2].0,
            search: super::search::SearchState::default(),
            annotations: super::annotations::Annotations::default(),
            query: super::query::QueryPanel::default(),
            compare: None,
            cancelled: false,
        }
    }

    /// Replaces a preview by the whole trace it previews, keeping the view, the cursor, the
    /// notes and the pinned and hidden lanes.
    pub fn complete(&mut self, trace: LoadedTrace) {
        let t = &mut self.timeline;
        t.markers = finding_markers(&trace.findings, &trace.splats);
        let (pinned, hidden) = (
            std::mem::take(&mut t.pinned_tasks),
            std::mem::take(&mut t.hidden_tasks),
        );
        t.set_task_rows(&trace.timeline, pinned, hidden);
        t.model_replaced();
        self.trace = trace;
    }

    /// Selects finding `i` at its first instance.
    pub fn select_finding(&mut self, i: usize) {
        self.select_instance(i, 0);
    }

    /// Selects instance `k` of finding `i`: the timeline zooms to it and the cursor moves
    /// to its call.
    pub fn select_instance(&mut self, i: usize, k: usize) {
        if let Some(f) = self.trace.findings.get(i) {
            let k = k.min(instance_count(f) - 1);
            (self.selected_finding, self.selected_instance) = (Some(i), k);
            focus_finding(&mut self.timeline, f, k);
            self.list.follow_cursor = true;
        }
    }

    /// Steps to the next (previous) instance of a violation after (before) the cursor.
    pub fn step_violation(&mut self, forward: bool) {
        let cursor = self.timeline.cursor_ns;
        if let Some((i, k)) = step_violation(&self.trace.findings, cursor, forward) {
            self.select_instance(i, k);
        }
    }

    fn scope(&self) -> StepScope {
        match (self.timeline.selected_task, self.timeline.selected_cpu) {
            (Some(pid), _) => StepScope::Task(pid),
            (None, Some(cpu)) => StepScope::Cpu(cpu),
            (None, None) => StepScope::All,
        }
    }

    /// Moves the cursor to the next (previous) event in scope, keeping it in view.
    pub fn step_event(&mut self, forward: bool) {
        let from = self
            .timeline
            .cursor_ns
            .unwrap_or(self.trace.timeline.origin_ns);
        let (store, context) = (&self.trace.store, &self.trace.context);
        if let Some(i) = step_event(store, context, from, self.scope(), forward) {
            self.set_cursor(self.trace.store.ts()[i as usize]);
        }
    }

    /// Moves the cursor, panning the view when it leaves it.
    pub fn set_cursor(&mut self, ts: u64) {
        let t = &mut self.timeline;
        t.cursor_ns = Some(ts);
        let x = t.view.x_from_ts(ts as f64);
        if x < 0.0 || x > f64::from(t.width_px) {
            t.view.center_on(ts as f64, t.width_px);
        }
        self.list.follow_cursor = true;
    }

    /// The visible time range (whole ns).
    pub fn view_range(&self) -> (u64, u64) {
        let v = &self.timeline.view;
        (
            v.start_ns.max(0.0) as u64,
            v.end_ns(self.timeline.width_px).max(0.0).ceil() as u64 + 1,
        )
    }
}

/// `--screenshot OUT.png`: once loaded and drawn, save the window and exit.
struct ScreenshotJob {
    path: PathBuf,
    frames_after_load: u32,
    requested: bool,
    result: Arc<Mutex<Option<anyhow::Result<()>>>>,
}

/// The kctx window.
#[derive(Default)]
pub struct KctxApp {
    pub session: Option<Session>,
    loader: Option<Loader>,
    pub error: Option<String>,
    recent: Vec<PathBuf>,
    screenshot: Option<ScreenshotJob>,
    message: Option<String>,
    show_help: bool,
    /// Where sessions are saved per trace (none: not saved).
    session_dir: Option<PathBuf>,
    /// Try the desktop's file dialog before the built-in one (off in tests).
    native_dialogs: bool,
    /// The built-in Open / Export dialog, while shown.
    pub path_dialog: Option<PathDialog>,
    /// The second trace of a comparison, loading.
    compare_loader: Option<Loader>,
    /// Where imported traces are cached.
    cache: Option<TraceCache>,
}

impl KctxApp {
    /// An app loading `inputs` (the bundled sample when empty).
    pub fn new(inputs: Vec<Input>, ctx: &egui::Context) -> KctxApp {
        KctxApp::default().opening(inputs, ctx)
    }

    /// Starts loading `inputs` (the bundled sample when empty), once the app is configured.
    pub fn opening(mut self, inputs: Vec<Input>, ctx: &egui::Context) -> KctxApp {
        let inputs = if inputs.is_empty() {
            vec![Input::Sample]
        } else {
            inputs
        };
        self.open(inputs, ctx);
        self
    }

    /// Reads and writes imported traces through `cache` (none: import every time).
    pub fn with_cache(mut self, cache: Option<TraceCache>) -> KctxApp {
        self.cache = cache;
        self
    }

    /// An app showing an already loaded trace (tests, benchmarks).
    pub fn with_trace(trace: LoadedTrace) -> KctxApp {
        KctxApp {
            session: Some(Session::new(trace)),
            ..KctxApp::default()
        }
    }

    /// Restores the recent-file list saved by a previous run.
    pub fn with_storage(mut self, storage: Option<&dyn eframe::Storage>) -> KctxApp {
        if let Some(list) = storage.and_then(|s| s.get_string(RECENT_KEY)) {
            self.recent = list.lines().map(PathBuf::from).collect();
        }
        self
    }

    /// Saves each trace's session (view, notes, bookmarks, lanes, filters) under `dir`
    /// and restores it when the trace is opened again.
    pub fn with_session_dir(mut self, dir: Option<PathBuf>) -> KctxApp {
        self.session_dir = dir;
        self
    }

    /// Asks the desktop for file dialogs first (the built-in one stays the fallback).
    pub fn with_native_dialogs(mut self, native: bool) -> KctxApp {
        self.native_dialogs = native;
        self
    }

    /// Shows the built-in dialog for `purpose`, in the folder of the last file opened.
    pub fn show_path_dialog(&mut self, purpose: Purpose) {
        let dir = self
            .recent
            .first()
            .and_then(|p| p.parent())
            .filter(|d| d.is_dir())
            .map(Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("/"));
        let name = match purpose {
            Purpose::Open | Purpose::Compare => String::new(),
            Purpose::Export(i) => format!("kctx-report.{}", super::export::FORMATS[i].2),
        };
        self.path_dialog = Some(PathDialog::new(purpose, dir, &name));
    }

    /// File › Open: the desktop's dialog, else the built-in one.
    fn open_dialog(&mut self, ctx: &egui::Context) {
        if !self.native_dialogs {
            return self.show_path_dialog(Purpose::Open);
        }
        let native = || {
            rfd::FileDialog::new()
                .set_title("Open trace files")
                .pick_files()
        };
        match try_native(native) {
            Native::Chosen(files) => self.open(files.into_iter().map(Input::File).collect(), ctx),
            Native::Cancelled => {}
            Native::NotShown => self.show_path_dialog(Purpose::Open),
        }
    }

    /// File › Compare with: the desktop's dialog, else the built-in one.
    fn compare_dialog(&mut self, ctx: &egui::Context) {
        if !self.native_dialogs {
            return self.show_path_dialog(Purpose::Compare);
        }
        let native = || {
            rfd::FileDialog::new()
                .set_title("Compare with a second trace")
                .pick_files()
        };
        match try_native(native) {
            Native::Chosen(files) => {
                self.compare(files.into_iter().map(Input::File).collect(), ctx)
            }
            Native::Cancelled => {}
            Native::NotShown => self.show_path_dialog(Purpose::Compare),
        }
    }

    /// Loads `inputs` in the background as the trace to compare with the open one.
    pub fn compare(&mut self, inputs: Vec<Input>, ctx: &egui::Context) {
        let ctx = ctx.clone();
        self.compare_loader = Some(Loader::spawn(inputs, self.cache.clone(), move || {
            ctx.request_repaint()
        }));
    }

    /// Blocks until the compared trace is loaded (tests).
    pub fn wait_compared(&mut self) {
        if let Some(loader) = self.compare_loader.take() {
            self.finish_compare(loader.wait());
        }
    }

    fn finish_compare(&mut self, result: anyhow::Result<LoadedTrace>) {
        match (result, &mut self.session) {
            (Ok(second), Some(s)) => {
                s.compare = Some(super::compare::Comparison::new(&s.trace, second));
            }
            (Ok(_), None) => {}
            (Err(e), _) => self.error = Some(format!("{e:#}")),
        }
    }

    /// File › Export: the desktop's save dialog, else the built-in one.
    fn export_dialog(&mut self, i: usize) {
        let (format, _, ext) = super::export::FORMATS[i];
        if !self.native_dialogs {
            return self.show_path_dialog(Purpose::Export(i));
        }
        let native = || {
            rfd::FileDialog::new()
                .set_title("Export violation report")
                .set_file_name(format!("kctx-report.{ext}"))
                .save_file()
        };
        match try_native(native) {
            Native::Chosen(path) => self.write_report(format, &path),
            Native::Cancelled => self.message = Some("export cancelled".to_owned()),
            Native::NotShown => self.show_path_dialog(Purpose::Export(i)),
        }
    }

    /// Writes the open trace's report to `path`; the menu bar says what happened.
    fn write_report(&mut self, format: crate::report::ReportFormat, path: &Path) {
        let Some(s) = &self.session else { return };
        let written = super::export::render_report(&s.trace, format)
            .and_then(|text| std::fs::write(path, text).map_err(anyhow::Error::from));
        self.message = Some(match written {
            Ok(()) => format!("report saved to {}", path.display()),
            Err(e) => format!("could not save {}: {e:#}", path.display()),
        });
    }

    /// The built-in dialog, while shown.
    fn path_dialog_step(&mut self, ctx: &egui::Context) {
        let Some(d) = &mut self.path_dialog else {
            return;
        };
        let mut open = true;
        let chosen = path_dialog_ui(ctx, d, &mut open);
        if !open {
            self.path_dialog = None;
        }
        match chosen {
            Some(Chosen::Open(files)) => {
                self.path_dialog = None;
                self.open(files.into_iter().map(Input::File).collect(), ctx);
            }
            Some(Chosen::Compare(files)) => {
                self.path_dialog = None;
                self.compare(files.into_iter().map(Input::File).collect(), ctx);
            }
            Some(Chosen::Export(i, path)) => {
                self.path_dialog = None;
                self.write_report(super::export::FORMATS[i].0, &path);
            }
            None => {}
        }
    }

    /// Saves the open trace's session (on closing, on opening another trace, and
    /// periodically with the window's state).
    pub fn save_session(&mut self) {
        if let (Some(dir), Some(s)) = (&self.session_dir, &self.session)
            && let Err(e) = super::saved_session::save(dir, s)
        {
            self.message = Some(format!("session not saved: {e:#}"));
        }
    }

    /// Saves the window to `path` once the trace is loaded and drawn, then closes it.
    /// The returned slot holds the outcome once done.
    pub fn screenshot_to(&mut self, path: PathBuf) -> Arc<Mutex<Option<anyhow::Result<()>>>> {
        let result = Arc::new(Mutex::new(None));
        self.screenshot = Some(ScreenshotJob {
            path,
            frames_after_load: 0,
            requested: false,
            result: Arc::clone(&result),
        });
        result
    }

    /// Starts loading `inputs` in the background.
    pub fn open(&mut self, inputs: Vec<Input>, ctx: &egui::Context) {
        for input in &inputs {
            if let Input::File(p) = input {
                self.recent.retain(|r| r != p);
                self.recent.insert(0, p.clone());
            }
        }
        self.recent.truncate(RECENT_MAX);
        let ctx = ctx.clone();
        self.loader = Some(Loader::spawn(inputs, self.cache.clone(), move || {
            ctx.request_repaint()
        }));
        self.error = None;
    }

    /// Blocks until the load in progress ends (tests).
    pub fn wait_loaded(&mut self) {
        if let Some(loader) = self.loader.take() {
            self.finish_load(loader.wait());
        }
    }

    fn finish_load(&mut self, result: anyhow::Result<LoadedTrace>) {
        match result {
            Ok(trace)
                if trace.complete
                    && let Some(s) = self
                        .session
                        .as_mut()
                        .filter(|s| !s.trace.complete && s.trace.inputs == trace.inputs) =>
            {
                s.complete(trace);
            }
            Ok(trace) => {
                self.save_session();
                let mut session = Session::new(trace);
                if let Some(dir) = &self.session_dir {
                    match super::saved_session::load(dir, &session.trace.inputs) {
                        Ok(Some(saved)) => super::saved_session::restore(&mut session, saved),
                        Ok(None) => {}
                        Err(e) => self.message = Some(format!("session not restored: {e:#}")),
                    }
                }
                self.session = Some(session);
            }
            Err(e) => self.error = Some(format!("{e:#}")),
        }
    }

    /// Takes what a load delivered: a preview opens a session showing its timeline, the
    /// whole trace completes that session (or opens its own).
    pub fn deliver(&mut self, loaded: Loaded) {
        match loaded {
            Loaded::Preview(preview) => self.finish_load(Ok(preview)),
            Loaded::Done(result) => self.finish_load(result),
        }
    }

    /// A load is under way.
    pub fn is_loading(&self) -> bool {
        self.loader.is_some()
    }

    fn poll_loader(&mut self) {
        if let Some(loader) = &self.loader
            && let Some(loaded) = loader.poll()
        {
            let what = match loaded {
                Loaded::Preview(_) => "timeline shown",
                Loaded::Done(_) => "complete",
            };
            tell_time(&format!("{what} after"), loader.started);
            if matches!(loaded, Loaded::Done(_)) {
                self.loader = None;
            }
            self.deliver(loaded);
        }
        // The comparison waits for the trace it is compared with.
        if self.session.is_none() {
            return;
        }
        if let Some(Loaded::Done(result)) = self.compare_loader.as_ref().and_then(Loader::poll) {
            self.compare_loader = None;
            self.finish_compare(result);
        }
    }

    /// Draws the whole window into `ui`.
    pub fn show(&mut self, ui: &mut Ui) {
        self.poll_loader();
        self.dropped_files(ui.ctx());
        self.screenshot_step(ui.ctx());
        self.path_dialog_step(ui.ctx());
        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        if let Some(s) = &mut self.session {
            egui::Panel::bottom("status").show(ui, |ui| {
                status_bar_ui(ui, &s.trace, &s.timeline);
            });
        }
        self.cancel_on_escape(ui);
        if let Some(loader) = &self.loader {
            egui::Panel::bottom("progress").show(ui, |ui| {
                let (stage, fraction) = loader.progress();
                let names: Vec<String> = loader.inputs.iter().map(Input::name).collect();
                ui.label(format!("Loading {} (Esc cancels)", names.join(" + ")));
                let elapsed = loader.started.elapsed().as_secs_f64();
                let text = format!("{stage} · {elapsed:.1} s");
                ui.add(egui::ProgressBar::new(fraction).text(text));
            });
            // A clock, not an animation: each repaint of a big timeline costs a core that the
            // load needs, and the worker wakes the window at each stage anyway.
            ui.ctx().request_repaint_after(LOADING_REPAINT);
        }
        let Some(session) = &mut self.session else {
            egui::CentralPanel::default().show(ui, |ui| self.empty_ui(ui));
            return;
        };
        session_ui(ui, session);
        if let Some(e) = &self.error {
            egui::Window::new("Could not open")
                .show(ui.ctx(), |ui| ui.colored_label(super::theme::LOST, e));
        }
        if self.show_help {
            egui::Window::new("Keys")
                .open(&mut self.show_help)
                .show(ui.ctx(), help_ui);
        }
    }

    /// Esc while loading stops the load; a preview shown so far stays, marked unchecked.
    fn cancel_on_escape(&mut self, ui: &mut Ui) {
        if self.loader.is_none()
            || !ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, Key::Escape))
        {
            return;
        }
        if let Some(loader) = self.loader.take() {
            loader.cancel();
        }
        if let Some(s) = self.session.as_mut().filter(|s| !s.trace.complete) {
            s.cancelled = true;
        }
        self.message = Some("loading cancelled".to_owned());
    }

    fn empty_ui(&mut self, ui: &mut Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space(80.0);
            ui.heading("kctx");
            if let Some(e) = &self.error {
                ui.colored_label(super::theme::LOST, e);
            }
            // No spinner: it would redraw the window at the display's rate while the load
            // needs the cores; the progress bar below tells the stage and the time.
            if self.loader.is_some() {
                ui.label("Loading…");
            } else {
                ui.label("Open a trace (File › Open, or drop files here).");
            }
        });
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<Input> = ctx.input(|i| {
            let paths = i.raw.dropped_files.iter().map(|f| f.path().to_path_buf());
            paths
                .filter(|p| !p.as_os_str().is_empty())
                .map(Input::File)
                .collect()
        });
        if !dropped.is_empty() {
            self.open(dropped, ctx);
        }
    }

    fn menu_ui(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui
                    .button("Open…  (trace + kallsyms + console log)")
                    .clicked()
                {
                    self.open_dialog(ui.ctx());
                    ui.close();
                }
                if ui
                    .button("Open a path…")
                    .on_hover_text("kctx's own dialog: a path field and a folder listing")
                    .clicked()
                {
                    self.show_path_dialog(Purpose::Open);
                    ui.close();
                }
                if ui.button("Open bundled sample").clicked() {
                    self.open(vec![Input::Sample], ui.ctx());
                    ui.close();
                }
                ui.menu_button("Open recent", |ui| {
                    if self.recent.is_empty() {
                        ui.weak("none yet");
                    }
                    for p in self.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            self.open(vec![Input::File(p)], ui.ctx());
                            ui.close();
                        }
                    }
                });
                if self.session.is_some()
                    && ui
                        .button("Compare with…  (a second trace, shown below)")
                        .clicked()
                {
                    self.compare_dialog(ui.ctx());
                    ui.close();
                }
                if let Some(s) = &mut self.session
                    && ui.button("Export tables…  (Parquet / CSV)").clicked()
                {
                    (s.query.open, s.query.export.open) = (true, true);
                    ui.close();
                }
                if self.session.is_some() {
                    ui.menu_button("Export violation report", |ui| {
                        for (i, (_, name, _)) in super::export::FORMATS.iter().enumerate() {
                            if ui.button(format!("{name}…")).clicked() {
                                self.export_dialog(i);
                                ui.close();
                            }
                        }
                    });
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            if let Some(s) = &mut self.session {
                ui.menu_button("View", |ui| {
                    if ui.button("Fit whole trace  (F)").clicked() {
                        s.timeline.fit();
                        ui.close();
                    }
                    if ui.button("Clear markers").clicked() {
                        (s.timeline.marker_a, s.timeline.marker_b) = (None, None);
                        ui.close();
                    }
                });
            }
            if let Some(s) = &mut self.session
                && ui
                    .button("Search")
                    .on_hover_text("tasks, events, go to time  Ctrl+F / Ctrl+G")
                    .clicked()
            {
                s.search.show();
            }
            if let Some(s) = &mut self.session
                && ui
                    .button("Query")
                    .on_hover_text("SQL over this trace's tables")
                    .clicked()
            {
                s.query.open = true;
            }
            if ui.button("Keys").clicked() {
                self.show_help = true;
            }
            if let Some(s) = &mut self.session {
                ui.separator();
                replay_toolbar_ui(ui, s);
                ui.separator();
                ui.label(RichText::new(s.trace.title()).weak());
            }
            if let Some(m) = &self.message {
                ui.label(m);
            }
        });
    }

    fn screenshot_step(&mut self, ctx: &egui::Context) {
        let Some(job) = &mut self.screenshot else {
            return;
        };
        let loading = self.loader.is_some() || self.compare_loader.is_some();
        if (self.session.is_none() || loading) && self.error.is_none() {
            return;
        }
        job.frames_after_load += 1;
        // The picture shows the first violation, zoomed in, as a user selecting it sees it.
        if job.frames_after_load == 2
            && let Some(s) = self
                .session
                .as_mut()
                .filter(|s| !s.trace.findings.is_empty())
        {
            s.select_finding(0);
        }
        // Comparing: the first new finding, shown in the trace below.
        if job.frames_after_load == 2
            && let Some(s) = &mut self.session
            && let Some(c) = &mut s.compare
            && let Some(i) = c
                .diff
                .new_findings
                .first()
                .and_then(|f| c.trace.findings.iter().position(|g| g.id == f.id))
        {
            c.select_second(&mut s.timeline, i);
        }
        // A few frames let the layout settle (panel sizes, the fit at the canvas width).
        if job.frames_after_load < 5 {
            ctx.request_repaint();
            return;
        }
        if job.requested {
            return;
        }
        job.requested = true;
        let (path, slot, ctx2) = (job.path.clone(), Arc::clone(&job.result), ctx.clone());
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(
            egui::ScreenshotCallback::new(move |image| {
                let saved = super::screenshot::save_png(&image, &path);
                *slot.lock().expect("screenshot slot") = Some(saved);
                ctx2.send_viewport_cmd(egui::ViewportCommand::Close);
            }),
        ));
        ctx.request_repaint();
    }
}

impl eframe::App for KctxApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let list: Vec<String> = self
            .recent
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        storage.set_string(RECENT_KEY, list.join("\n"));
        self.save_session();
    }
}

/// Panels around the timeline, and the keys that drive replay.
fn session_ui(ui: &mut Ui, s: &mut Session) {
    // Ctrl+F / Ctrl+G are taken before the timeline sees `F` (fit) or `G`.
    if ui.input_mut(|i| {
        i.consume_key(egui::Modifiers::COMMAND, Key::F)
            | i.consume_key(egui::Modifiers::COMMAND, Key::G)
    }) {
        s.search.show();
    }
    let cursor = s.timeline.cursor_ns;
    if let Some(hit) = super::search::search_ui(ui.ctx(), &mut s.search, &s.trace, cursor) {
        s.go_to(hit);
    }
    if let Some(jump) = super::query::query_ui(ui.ctx(), &mut s.query, &s.trace) {
        s.timeline.selected_cpu = jump.cpu.or(s.timeline.selected_cpu);
        s.set_cursor(jump.ts_ns);
    }
    replay_keys(ui, s);
    super::annotations::annotation_keys(ui, s);
    advance_playback(ui, s);
    let note = if s.trace.complete {
        "No violations found: this trace shows no sleep in atomic context, lock-order cycle or irq inversion."
    } else if s.cancelled {
        "Not checked: loading was cancelled (Esc) before the context model was built."
    } else {
        "Checking: the findings appear once the context model is built."
    };
    egui::Panel::left("findings")
        .default_size(300.0)
        .resizable(true)
        .show(ui, |ui| {
            fixed_width(ui);
            let selected = s.selected_finding.map(|i| (i, s.selected_instance));
            match findings_ui(ui, &s.trace.findings, selected, Some(note)) {
                Some(FindingAction::Select((i, k))) => s.select_instance(i, k),
                Some(FindingAction::Evidence { event }) => {
                    let e = s.trace.store.event(event);
                    s.timeline.selected_cpu = Some(e.cpu as usize);
                    s.set_cursor(e.ts);
                }
                None => {}
            }
            if let Some(ts) = splats_ui(ui, &s.trace.splats) {
                s.set_cursor(ts);
            }
            for n in &s.trace.notes {
                ui.weak(n);
            }
            if let Some(c) = &s.compare {
                ui.separator();
                match super::compare::compare_findings_ui(ui, c, &s.trace) {
                    Some(CompareAction::SelectFirst(i)) => s.select_finding(i),
                    Some(CompareAction::SelectSecond(i)) => {
                        if let Some(c) = &mut s.compare {
                            c.select_second(&mut s.timeline, i);
                        }
                    }
                    None => {}
                }
            }
            ui.separator();
            super::annotations::annotations_ui(ui, s);
        });
    egui::Panel::right("inspector")
        .default_size(270.0)
        .resizable(true)
        .show(ui, |ui| {
            fixed_width(ui);
            inspector_ui(ui, &s.trace, &s.timeline);
        });
    egui::Panel::bottom("events")
        .default_size(230.0)
        .resizable(true)
        .show(ui, |ui| {
            // A finding selected or a fit asked for this frame: list the new view's events
            // (the scroll to the cursor is computed on them).
            s.timeline.apply_pending(&s.trace.timeline);
            let (t0, t1) = s.view_range();
            if !s.list.refresh(&s.trace.store, t0, t1) {
                ui.ctx().request_repaint();
            }
            if let Some(i) = event_list_ui(ui, &mut s.list, &s.trace.store, s.timeline.cursor_ns) {
                let cpu = usize::from(s.trace.store.cpus()[i as usize]);
                s.timeline.selected_cpu = Some(cpu);
                s.timeline.selected_task = None;
                s.set_cursor(s.trace.store.ts()[i as usize]);
                s.list.follow_cursor = false;
            }
        });
    egui::CentralPanel::default().show(ui, |ui| {
        if let Some(c) = &mut s.compare {
            let half = ui.available_height() / 2.0;
            let closed = egui::Panel::bottom("compared trace")
                .resizable(true)
                .default_size(half)
                .show(ui, |ui| {
                    compared_timeline_ui(ui, c, &s.trace, &mut s.timeline)
                })
                .inner;
            if closed {
                s.compare = None;
            }
        }
        let r = timeline_ui(ui, &mut s.timeline, &s.trace);
        if r.clicked.is_some() {
            s.list.follow_cursor = true;
        }
    });
}

/// A side panel keeps the width the user gave it: a long line (a lock name, a finding's
/// title) is cut, not allowed to widen the panel, so the timeline does not jump while
/// stepping. Paragraphs wrap explicitly.
fn fixed_width(ui: &mut Ui) {
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
}

fn replay_toolbar_ui(ui: &mut Ui, s: &mut Session) {
    if ui
        .button("|< violation")
        .on_hover_text("previous violation  [")
        .clicked()
    {
        s.step_violation(false);
    }
    if ui
        .button("< event")
        .on_hover_text("previous event  P")
        .clicked()
    {
        s.step_event(false);
    }
    let playing = s.playback.is_some();
    if ui
        .button(if playing { "pause" } else { "play" })
        .on_hover_text("play / pause  Space")
        .clicked()
    {
        toggle_play(s);
    }
    if ui
        .button("event >")
        .on_hover_text("next event  N")
        .clicked()
    {
        s.step_event(true);
    }
    if ui
        .button("violation >|")
        .on_hover_text("next violation  ]")
        .clicked()
    {
        s.step_violation(true);
    }
    let label = Playback::SPEEDS
        .iter()
        .find(|(v, _)| *v == s.speed_ns_per_s)
        .map_or("?", |(_, l)| l);
    egui::ComboBox::from_id_salt("speed")
        .selected_text(label)
        .width(80.0)
        .show_ui(ui, |ui| {
            for (v, l) in Playback::SPEEDS {
                ui.selectable_value(&mut s.speed_ns_per_s, v, l);
            }
        });
    if let Some(p) = &mut s.playback {
        p.speed_ns_per_s = s.speed_ns_per_s;
    }
    let scope = match (s.timeline.selected_task, s.timeline.selected_cpu) {
        (Some(pid), _) => format!("steps: task {}", task_name(&s.trace, pid)),
        (None, Some(cpu)) => format!("steps: CPU {cpu}"),
        (None, None) => "steps: all CPUs".to_owned(),
    };
    ui.weak(scope);
}

/// `comm-pid` of a task, as its lane names it.
pub fn task_name(trace: &LoadedTrace, pid: i32) -> String {
    match trace
        .timeline
        .task_row(pid)
        .map(|t| trace.store.str(t.comm))
    {
        Some(comm) if !comm.is_empty() => CommPid(comm, pid).to_string(),
        _ => format!("pid {pid}"),
    }
}

fn toggle_play(s: &mut Session) {
    s.playback = match s.playback {
        Some(_) => None,
        None => Some(Playback {
            speed_ns_per_s: s.speed_ns_per_s,
        }),
    };
    if s.timeline.cursor_ns.is_none() {
        s.timeline.cursor_ns = Some(s.trace.timeline.origin_ns);
    }
}

fn advance_playback(ui: &Ui, s: &mut Session) {
    let Some(p) = s.playback else { return };
    let dt = f64::from(ui.input(|i| i.stable_dt)).min(0.1);
    let next = p.advance(
        s.timeline.cursor_ns.unwrap_or(s.trace.timeline.origin_ns),
        dt,
    );
    if next >= s.trace.timeline.end_ns {
        s.playback = None;
    }
    s.set_cursor(next.min(s.trace.timeline.end_ns));
    ui.ctx().request_repaint();
}

/// N/P step events, ]/[ step violations, Space plays, 1/2 set markers A/B at the cursor,
/// Escape clears the selection.
fn replay_keys(ui: &Ui, s: &mut Session) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let pressed = |k: Key| ui.input(|i| i.key_pressed(k));
    if pressed(Key::N) {
        s.step_event(true);
    }
    if pressed(Key::P) {
        s.step_event(false);
    }
    if pressed(Key::CloseBracket) {
        s.step_violation(true);
    }
    if pressed(Key::OpenBracket) {
        s.step_violation(false);
    }
    if pressed(Key::Space) {
        toggle_play(s);
    }
    if pressed(Key::Num1) {
        s.timeline.marker_a = s.timeline.cursor_ns;
    }
    if pressed(Key::Num2) {
        s.timeline.marker_b = s.timeline.cursor_ns;
    }
    if pressed(Key::Escape) {
        s.selected_finding = None;
        s.timeline.highlights.clear();
        s.timeline.marked_tasks.clear();
        s.timeline.selected_task = None;
    }
}

fn help_ui(ui: &mut Ui) {
    egui::Grid::new("keys").show(ui, |ui| {
        for (k, what) in [
            ("wheel, + / -, W / S", "zoom"),
            ("wheel over the labels", "scroll the rows"),
            ("drag, Left / Right, A / D", "pan"),
            ("right-drag or shift-drag", "zoom to a range"),
            ("F, Home, double-click", "fit the whole trace"),
            ("click a CPU row", "place the cursor, select the CPU"),
            ("click a task lane", "place the cursor, select the task"),
            ("click the Tasks header", "fold / unfold the task lanes"),
            ("N / P", "next / previous event (selected task, else CPU)"),
            ("] / [", "next / previous instance of a violation"),
            ("Space", "play / pause"),
            ("1 / 2", "marker A / B at the cursor"),
            ("right-click", "markers, fit"),
            ("Escape", "clear the selected finding and task"),
            ("Ctrl+F, Ctrl+G", "search tasks, events; go to a time"),
            ("M", "a note at the cursor"),
            ("B", "bookmark the view"),
            ("right-click a task lane", "pin it to the top, hide it"),
        ] {
            ui.strong(k);
            ui.label(what);
            ui.end_row();
        }
    });
}
