//! File › Export tables: the open trace's tables written as `kctx export` writes them
//! (`DIR/<table>/trace=<id>/part-0.parquet`), on a worker thread.

use super::job::{self, Job};
use super::source::TraceTables;
use crate::gui::path_dialog::{Native, try_native};
use crate::gui::trace::LoadedTrace;
use egui::Ui;

/// The export section's state.
pub struct ExportState {
    /// Show the section open (File › Export tables asked for it).
    pub open: bool,
    /// The dataset directory, typed or chosen.
    pub dir: String,
    pub parquet: bool,
    pub running: Option<Job<String>>,
    /// What the last export did.
    pub message: Option<String>,
}

impl Default for ExportState {
    fn default() -> ExportState {
        let dir = std::env::current_dir()
            .unwrap_or_default()
            .join("kctx-tables");
        ExportState {
            open: false,
            dir: dir.display().to_string(),
            parquet: true,
            running: None,
            message: None,
        }
    }
}

impl ExportState {
    /// Writes every table of `trace` under the directory chosen.
    pub fn start(&mut self, trace: &LoadedTrace, ctx: &egui::Context) {
        let dir = std::path::PathBuf::from(self.dir.trim());
        let format = if self.parquet {
            tables::ExportFormat::Parquet
        } else {
            tables::ExportFormat::Csv
        };
        let source = TraceTables::of(trace);
        let ctx = ctx.clone();
        self.message = None;
        self.running = Some(Job::spawn(
            "export",
            move |progress| {
                let export = tables::Export::new(&dir, format, tables::Table::ALL.to_vec())?;
                let written = export.add(&source.input(), &mut |what| {
                    job::tell(progress, what.trim());
                })?;
                let rows: usize = written.iter().map(|w| w.rows).sum();
                Ok(format!(
                    "{} files, {rows} rows written to {}",
                    written.len(),
                    dir.display()
                ))
            },
            move || ctx.request_repaint(),
        ));
    }

    /// Takes the finished export's outcome.
    pub fn poll(&mut self) {
        if let Some(outcome) = self.running.as_ref().and_then(Job::poll) {
            self.running = None;
            self.message = Some(outcome.unwrap_or_else(|e| format!("export failed: {e:#}")));
        }
    }

    /// Blocks until the export running ends (tests).
    pub fn wait(&mut self) {
        if let Some(job) = self.running.take() {
            self.message = Some(
                job.wait()
                    .unwrap_or_else(|e| format!("export failed: {e:#}")),
            );
        }
    }
}

/// The export section: directory, format, Export.
pub fn export_ui(ui: &mut Ui, state: &mut ExportState, trace: &LoadedTrace) {
    let section = egui::CollapsingHeader::new("Export tables")
        .id_salt("query-export")
        .open(state.open.then_some(true))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label("Directory");
                ui.add(egui::TextEdit::singleline(&mut state.dir).desired_width(360.0));
                if ui.button("Choose…").clicked()
                    && let Native::Chosen(dir) = try_native(|| {
                        rfd::FileDialog::new()
                            .set_title("Export the trace tables to")
                            .pick_folder()
                    })
                {
                    state.dir = dir.display().to_string();
                }
                ui.radio_value(&mut state.parquet, true, "Parquet");
                ui.radio_value(&mut state.parquet, false, "CSV");
                let idle = state.running.is_none();
                if ui.add_enabled(idle, egui::Button::new("Export")).clicked() {
                    state.start(trace, ui.ctx());
                }
            });
            if let Some(job) = &state.running {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(job.progress());
                });
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            } else if let Some(m) = &state.message {
                ui.label(m);
            }
            ui.weak(
                "One file per table: DIR/<table>/trace=<id>/part-0.<ext>, as `kctx export` writes.",
            );
        });
    // Asked open once; the user folds it as they like after.
    if section.header_response.clicked() || section.body_returned.is_some() {
        state.open = false;
    }
}
