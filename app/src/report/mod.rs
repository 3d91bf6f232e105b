//! The report of an analysis in each format `kctx check` writes and the GUI exports: one set
//! of writers, so a report saved from the window reads exactly like the CI gate's.

pub mod console;
mod html;
mod markdown;
mod sarif;
mod text;

use analysis::Report;
use clap::ValueEnum;

/// Report formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
    Sarif,
    Markdown,
    Html,
}

/// Renders the report in `format`.
pub fn render(report: &Report, format: ReportFormat) -> anyhow::Result<String> {
    Ok(match format {
        ReportFormat::Text => text::render(report),
        ReportFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        ReportFormat::Sarif => serde_json::to_string_pretty(&sarif::render(report))? + "\n",
        ReportFormat::Markdown => markdown::render(report),
        ReportFormat::Html => html::render(report),
    })
}
