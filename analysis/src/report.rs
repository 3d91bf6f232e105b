//! The report model: what `kctx check --format json` prints, what every other report format
//! and the GUI's export render.

use crate::ConsoleCheck;
use serde::Serialize;
use std::collections::BTreeMap;
use trace_model::context::Coverage;
use trace_model::{Confidence, Finding};

/// One input as the report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct InputSummary {
    pub path: String,
    pub events: u64,
    /// Why it could not be read.
    pub error: Option<String>,
    /// What the import noticed and worked around, one line per kind.
    pub warnings: Vec<String>,
}

/// A finding and the input it was found in.
#[derive(Clone, Debug, Serialize)]
pub struct ReportedFinding {
    pub input: String,
    #[serde(flatten)]
    pub finding: Finding,
}

/// How many findings one allowlist rule hid.
#[derive(Clone, Debug, Serialize)]
pub struct Suppression {
    pub rule: String,
    pub line: usize,
    pub hidden: u64,
}

/// The whole report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub inputs: Vec<InputSummary>,
    /// What each readable input can tell, by input path.
    pub coverage: BTreeMap<String, Coverage>,
    pub findings: Vec<ReportedFinding>,
    /// Findings the allowlist hid, in all.
    pub suppressed: u64,
    pub suppressed_by: Vec<Suppression>,
    /// Required checks that are impossible: `input: check: reasons`.
    pub impossible: Vec<String>,
    /// The console log's splats linked to the findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<ConsoleCheck>,
    /// 0 no violation; 1 a definite or probable violation; 2 an input could not be read or a
    /// required check is impossible on it.
    pub exit_code: u8,
}

impl Report {
    /// The exit code the report's contents call for.
    pub fn judged_exit_code(&self) -> u8 {
        let unreadable = self.inputs.iter().any(|i| i.error.is_some());
        if unreadable || !self.impossible.is_empty() {
            2
        } else if self.findings.iter().any(|f| is_violation(&f.finding)) {
            1
        } else {
            0
        }
    }
}

/// Definite and probable findings fail the gate; unverifiable ones only inform.
pub fn is_violation(f: &Finding) -> bool {
    f.confidence != Confidence::Unverifiable
}
