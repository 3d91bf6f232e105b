//! The Query panel: SQL over the open trace's tables (docs/tables.md), the same tables and
//! SQL as `kctx query`, with the table list and columns beside the editor. A statement runs
//! on a worker thread, so the window keeps drawing; the result lays out only the rows in view,
//! and a row with a time (and a CPU) moves the timeline cursor there. File › Export tables
//! writes the dataset `kctx export` writes, also off the UI thread.

mod export;
mod job;
mod results;
mod source;

pub use export::ExportState;
pub use job::Job;
pub use results::{Jump, Shown};
pub use source::TraceTables;

use super::trace::LoadedTrace;
use egui::{Key, Modifiers, RichText, Ui};
use std::time::Instant;

/// The statement the editor opens with.
const FIRST_SQL: &str = "SELECT event, count(*) AS n FROM events GROUP BY event ORDER BY n DESC";

/// The panel's state, kept per open trace.
pub struct QueryPanel {
    pub open: bool,
    pub sql: String,
    /// The statement running, if any.
    pub running: Option<Job<Shown>>,
    pub shown: Option<Shown>,
    pub error: Option<String>,
    pub export: ExportState,
}

impl Default for QueryPanel {
    fn default() -> QueryPanel {
        QueryPanel {
            open: false,
            sql: FIRST_SQL.to_owned(),
            running: None,
            shown: None,
            error: None,
            export: ExportState::default(),
        }
    }
}

impl QueryPanel {
    /// Starts the editor's statement on a worker thread (a statement still running is
    /// abandoned: its result is dropped when it comes).
    pub fn run(&mut self, trace: &LoadedTrace, ctx: &egui::Context) {
        let sql = self.sql.clone();
        let source = TraceTables::of(trace);
        let ctx = ctx.clone();
        self.error = None;
        self.running = Some(Job::spawn(
            "query",
            move |progress| {
                job::tell(progress, "building the tables");
                let mut query = tables::Query::new(&sql)?;
                query.add(&source.input())?;
                job::tell(progress, "running the statement");
                let started = Instant::now();
                let result = query.run()?;
                Ok(Shown::new(result, started.elapsed().as_secs_f64()))
            },
            move || ctx.request_repaint(),
        ));
    }

    /// Takes the finished statement's outcome.
    fn poll(&mut self) {
        let Some(outcome) = self.running.as_ref().and_then(Job::poll) else {
            return;
        };
        self.running = None;
        match outcome {
            Ok(shown) => self.shown = Some(shown),
            Err(e) => self.error = Some(format!("{e:#}")),
        }
    }

    /// Blocks until the statement running ends (tests).
    pub fn wait(&mut self) {
        if let Some(job) = self.running.take() {
            match job.wait() {
                Ok(shown) => self.shown = Some(shown),
                Err(e) => self.error = Some(format!("{e:#}")),
            }
        }
    }
}

/// The Query window, while open; returns where a clicked result row points.
pub fn query_ui(ctx: &egui::Context, panel: &mut QueryPanel, trace: &LoadedTrace) -> Option<Jump> {
    panel.poll();
    panel.export.poll();
    if !panel.open {
        return None;
    }
    let mut open = true;
    let mut jump = None;
    egui::Window::new("Query")
        .open(&mut open)
        .default_size([900.0, 520.0])
        .resizable(true)
        .show(ctx, |ui| {
            egui::Panel::left("query-tables")
                .default_size(210.0)
                .resizable(true)
                .show(ui, |ui| tables_ui(ui, &mut panel.sql));
            editor_ui(ui, panel, trace);
            export::export_ui(ui, &mut panel.export, trace);
            ui.separator();
            if let Some(shown) = &mut panel.shown
                && let Some(row) = results::results_ui(ui, shown)
            {
                jump = shown.jump(row);
            }
        });
    panel.open = open;
    jump
}

/// The tables and their columns; clicking a table puts a statement over it in the editor.
fn tables_ui(ui: &mut Ui, sql: &mut String) {
    ui.strong("Tables");
    egui::ScrollArea::vertical()
        .id_salt("query-table-list")
        .show(ui, |ui| {
            for table in tables::Table::ALL {
                let def = table.def();
                let header = egui::CollapsingHeader::new(RichText::new(def.name).monospace())
                    .id_salt(def.name)
                    .show(ui, |ui| {
                        if ui.small_button("SELECT *").on_hover_text(def.doc).clicked() {
                            *sql = format!("SELECT * FROM {} LIMIT 1000", def.name);
                        }
                        for c in def.columns {
                            ui.label(
                                RichText::new(format!("{} {}", c.name, c.ty.name())).monospace(),
                            )
                            .on_hover_text(c.doc);
                        }
                    });
                header.header_response.on_hover_text(def.doc);
            }
            ui.weak("Every table also has a `trace` column. Times are ns of the trace clock.");
        });
}

/// The SQL editor, Run (Ctrl+Enter) and the statement's state.
fn editor_ui(ui: &mut Ui, panel: &mut QueryPanel, trace: &LoadedTrace) {
    let editor = ui.add(
        egui::TextEdit::multiline(&mut panel.sql)
            .code_editor()
            .desired_rows(4)
            .desired_width(f32::INFINITY)
            .hint_text("SELECT ... FROM events ..."),
    );
    let ctrl_enter =
        editor.has_focus() && ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Enter));
    ui.horizontal(|ui| {
        let run = ui
            .add_enabled(panel.running.is_none(), egui::Button::new("Run"))
            .on_hover_text("Ctrl+Enter");
        if run.clicked() || ctrl_enter {
            panel.run(trace, ui.ctx());
        }
        if let Some(job) = &panel.running {
            ui.spinner();
            ui.label(format!(
                "{} ({:.1} s)",
                job.progress(),
                job.started.elapsed().as_secs_f64()
            ));
            // The elapsed time ticks while the worker runs.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        } else if let Some(shown) = &panel.shown {
            let n = shown.result.height();
            ui.label(format!(
                "{} in {:.3} s",
                analysis::counted(n as u64, "row"),
                shown.seconds
            ));
            match shown.time_column() {
                Some(col) => ui.weak(format!("click a row: cursor to its {col}")),
                None => ui.weak("no time column: rows do not move the cursor"),
            };
        }
    });
    if let Some(e) = &panel.error {
        egui::ScrollArea::vertical()
            .id_salt("query-error")
            .max_height(140.0)
            .show(ui, |ui| {
                ui.colored_label(super::theme::LOST, e);
            });
    }
}
