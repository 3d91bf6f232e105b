//! Exporting the violation report from the app: the report the analysis gave, through the
//! writers of `kctx check`, so a report saved here reads exactly like the CI gate's.

use super::trace::LoadedTrace;
use crate::report::{ReportFormat, render};

/// The formats offered, with their file extension.
pub const FORMATS: [(ReportFormat, &str, &str); 3] = [
    (ReportFormat::Markdown, "Markdown", "md"),
    (ReportFormat::Html, "HTML", "html"),
    (ReportFormat::Json, "JSON", "json"),
];

/// Renders the report of `trace` in `format`.
pub fn render_report(trace: &LoadedTrace, format: ReportFormat) -> anyhow::Result<String> {
    render(&trace.report, format)
}
