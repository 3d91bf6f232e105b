//! Exporting the violation report from the app, in the formats of `kctx check` and through
//! its writers, so a report saved here reads exactly like the CI gate's.

use super::trace::LoadedTrace;
use crate::cli::check::{
    InputSummary, Report, ReportFormat, ReportedFinding, is_violation, render,
};
use std::collections::BTreeMap;

/// The formats offered, with their file extension.
pub const FORMATS: [(ReportFormat, &str, &str); 3] = [
    (ReportFormat::Markdown, "Markdown", "md"),
    (ReportFormat::Html, "HTML", "html"),
    (ReportFormat::Json, "JSON", "json"),
];

/// The `kctx check` report of a loaded trace (no allowlist).
pub fn report(trace: &LoadedTrace) -> Report {
    let name = trace.title();
    let findings: Vec<ReportedFinding> = trace
        .findings
        .iter()
        .map(|f| ReportedFinding {
            input: name.clone(),
            finding: f.clone(),
        })
        .collect();
    let exit_code = u8::from(findings.iter().any(|f| is_violation(&f.finding)));
    Report {
        inputs: vec![InputSummary {
            path: name.clone(),
            events: trace.store.len() as u64,
            error: None,
            warnings: trace.store.report.warning_lines(),
        }],
        coverage: BTreeMap::from([(name, trace.context.coverage.clone())]),
        findings,
        suppressed: 0,
        suppressed_by: Vec::new(),
        impossible: Vec::new(),
        console: None,
        exit_code,
    }
}

/// Renders the report of `trace` in `format`.
pub fn render_report(trace: &LoadedTrace, format: ReportFormat) -> anyhow::Result<String> {
    render(&report(trace), format)
}
