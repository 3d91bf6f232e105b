//! What an importer could not read. Nothing is dropped silently: every line or byte range
//! that did not become an event is counted here by reason, with its first locations.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where in an input a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// 1-based line number of a text input.
    Line(u64),
    /// Byte offset in a binary input.
    Byte(u64),
    /// The input as a whole: a fact that no one line or byte holds (a count of CPUs ids).
    Input,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            // Decimal, like every size and offset inside the messages it starts.
            Location::Byte(n) => write!(f, "byte {n}"),
            Location::Input => f.write_str("the input"),
        }
    }
}

/// Count and first locations of one kind of problem.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProblemCount {
    pub count: u64,
    /// The first few locations (at most [`ImportReport::EXAMPLES`]).
    pub first: Vec<Location>,
}

impl ProblemCount {
    /// `3  why (first at byte 10, byte 99)`: one line of a report.
    pub fn line(&self, why: &str) -> String {
        let first: Vec<String> = self.first.iter().map(Location::to_string).collect();
        format!("{:>8}  {why} (first at {})", self.count, first.join(", "))
    }
}

/// The per-input account of an import.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ImportReport {
    /// Lines (text) or records (binary) read in all.
    pub units_read: u64,
    /// Lines recognised as not being events: headers, comments, console text around a dump,
    /// HTML around a systrace payload. Counted, not failures.
    pub non_event_lines: u64,
    /// Lines or ranges that should have been events but could not be parsed, by reason.
    pub unparsed: BTreeMap<String, ProblemCount>,
    /// Non-fatal warnings (a damaged section, a clamped value), by kind.
    pub warnings: BTreeMap<String, ProblemCount>,
}

impl ImportReport {
    /// How many example locations are kept per reason.
    pub const EXAMPLES: usize = 5;

    /// Counts one unparsed line or range.
    pub fn unparsed(&mut self, reason: &str, at: Location) {
        Self::add(&mut self.unparsed, reason, at);
    }

    /// Counts one warning.
    pub fn warn(&mut self, kind: &str, at: Location) {
        Self::add(&mut self.warnings, kind, at);
    }

    fn add(map: &mut BTreeMap<String, ProblemCount>, key: &str, at: Location) {
        let entry = match map.get_mut(key) {
            Some(e) => e,
            None => map.entry(key.to_owned()).or_default(),
        };
        entry.count += 1;
        if entry.first.len() < Self::EXAMPLES {
            entry.first.push(at);
        }
    }

    /// One line per kind of warning, with its count and first locations.
    pub fn warning_lines(&self) -> Vec<String> {
        (self.warnings.iter())
            .map(|(kind, p)| p.line(kind).trim_start().to_owned())
            .collect()
    }

    /// Warnings in all.
    pub fn warnings_total(&self) -> u64 {
        self.warnings.values().map(|p| p.count).sum()
    }

    /// Unparsed units in all.
    pub fn unparsed_total(&self) -> u64 {
        self.unparsed.values().map(|p| p.count).sum()
    }

    /// Folds another report (of another part of the same input) into this one.
    pub fn merge(&mut self, other: ImportReport) {
        self.units_read += other.units_read;
        self.non_event_lines += other.non_event_lines;
        for (dst, src) in [
            (&mut self.unparsed, other.unparsed),
            (&mut self.warnings, other.warnings),
        ] {
            for (k, v) in src {
                let e = dst.entry(k).or_default();
                e.count += v.count;
                e.first.extend(v.first);
                e.first.truncate(Self::EXAMPLES);
            }
        }
    }
}
