//! A query's result as a table: a header, then only the rows in view laid out (a result can
//! hold millions of rows). Clicking a row selects it; a row with a time says where it is.

use egui::{Align, Layout, RichText, Sense, Ui};
use tables::{Cell, QueryResult};

/// Columns are sized from the header and this many first rows (then fixed, so scrolling
/// never makes them jump).
const ROWS_MEASURED: usize = 500;
/// Width bounds of a column, in characters.
const MIN_CHARS: usize = 4;
const MAX_CHARS: usize = 48;

/// Where a result row points in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jump {
    pub ts_ns: u64,
    pub cpu: Option<usize>,
}

/// A result being shown.
pub struct Shown {
    pub result: QueryResult,
    pub names: Vec<String>,
    /// Column widths in characters.
    chars: Vec<usize>,
    /// The column a row's time is read from, and its CPU's.
    time_col: Option<usize>,
    cpu_col: Option<usize>,
    pub selected: Option<usize>,
    /// How long the query took (s).
    pub seconds: f64,
}

impl Shown {
    pub fn new(result: QueryResult, seconds: f64) -> Shown {
        let names = result.column_names();
        let chars = names
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let widest = (0..result.height().min(ROWS_MEASURED))
                    .map(|r| result.cell(r, c).text().chars().count())
                    .max()
                    .unwrap_or(0);
                widest.max(name.chars().count()).clamp(MIN_CHARS, MAX_CHARS)
            })
            .collect();
        let time_col = tables::schema::TIME_COLUMNS
            .iter()
            .find_map(|t| result.column_index(t));
        let cpu_col = result.column_index("cpu");
        Shown {
            result,
            names,
            chars,
            time_col,
            cpu_col,
            selected: None,
            seconds,
        }
    }

    /// Where row `row` points: its time column's value (and its CPU), if it has one.
    pub fn jump(&self, row: usize) -> Option<Jump> {
        let ts_ns = match self.result.cell(row, self.time_col?) {
            Cell::Int(t) => u64::try_from(t).ok()?,
            _ => return None,
        };
        let cpu = self.cpu_col.and_then(|c| match self.result.cell(row, c) {
            Cell::Int(cpu) => usize::try_from(cpu).ok(),
            _ => None,
        });
        Some(Jump { ts_ns, cpu })
    }

    /// The name of the column a row's time comes from.
    pub fn time_column(&self) -> Option<&str> {
        self.time_col.map(|c| self.names[c].as_str())
    }
}

/// The result table; returns the row clicked.
pub fn results_ui(ui: &mut Ui, shown: &mut Shown) -> Option<usize> {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let char_w = ui.ctx().fonts_mut(|f| f.glyph_width(&font, '0'));
    let row_h = ui.text_style_height(&egui::TextStyle::Monospace) + 4.0;
    let spacing = 12.0;
    let widths: Vec<f32> = shown
        .chars
        .iter()
        .map(|&n| n as f32 * char_w + spacing)
        .collect();
    let total_w: f32 = widths.iter().sum();
    let mut clicked = None;
    egui::ScrollArea::horizontal()
        .id_salt("query-results-h")
        .show(ui, |ui| {
            ui.set_min_width(total_w);
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = 0.0;
                for (name, &w) in shown.names.iter().zip(&widths) {
                    header_ui(ui, w, row_h, name);
                }
            });
            ui.separator();
            egui::ScrollArea::vertical()
                .id_salt("query-results-v")
                .auto_shrink([false, false])
                .show_rows(ui, row_h, shown.result.height(), |ui, rows| {
                    for r in rows {
                        let (rect, response) =
                            ui.allocate_exact_size(egui::vec2(total_w, row_h), Sense::click());
                        // Screen readers (and the UI tests) find a row by its number.
                        response.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::Role::Button,
                                true,
                                format!("result row {r}"),
                            )
                        });
                        if shown.selected == Some(r) {
                            ui.painter()
                                .rect_filled(rect, 0.0, ui.visuals().selection.bg_fill);
                        } else if response.hovered() {
                            ui.painter().rect_filled(
                                rect,
                                0.0,
                                ui.visuals().widgets.hovered.bg_fill,
                            );
                        }
                        let painter = ui.painter();
                        let color = ui.visuals().text_color();
                        let mut x = rect.left();
                        for (c, &w) in widths.iter().enumerate() {
                            let cell = shown.result.cell(r, c);
                            let cell_rect = egui::Rect::from_min_size(
                                egui::pos2(x, rect.top()),
                                egui::vec2(w - spacing / 2.0, row_h),
                            );
                            // Numbers to the right, text to the left, cut at the column's edge.
                            let (pos, align) = match cell {
                                Cell::Int(_) | Cell::Float(_) => {
                                    (cell_rect.right_center(), egui::Align2::RIGHT_CENTER)
                                }
                                _ => (cell_rect.left_center(), egui::Align2::LEFT_CENTER),
                            };
                            painter.with_clip_rect(cell_rect).text(
                                pos,
                                align,
                                cell.text().replace('\n', " "),
                                font.clone(),
                                color,
                            );
                            x += w;
                        }
                        if response.clicked() {
                            shown.selected = Some(r);
                            clicked = Some(r);
                        }
                    }
                });
        });
    clicked
}

/// A header cell of `width`.
fn header_ui(ui: &mut Ui, width: f32, height: f32, name: &str) {
    ui.allocate_ui_with_layout(
        egui::vec2(width, height),
        Layout::left_to_right(Align::Center),
        |ui| {
            ui.set_width(width);
            ui.add(egui::Label::new(RichText::new(name).monospace().strong()).truncate());
        },
    );
}
