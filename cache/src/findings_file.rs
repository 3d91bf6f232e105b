//! A trace's findings (every detector's, before any allowlist) and its coverage as a column
//! file beside its store entry, with its own schema version: what `kctx check` reports,
//! readable without the store's events. The findings are JSON; their times and evidence
//! indices, which the JSON rounds or leaves out, are exact columns beside it
//! (`Finding::exact_fields`), each index checked against the store's event count. Not kept:
//! the detectors' facts the text was explained from (`Finding::why`, each evidence's
//! `shows`), which no output reads once the summary and evidence text are written.

use crate::column_file::{Column, ColumnFile, ColumnFileError, Identity};
use crate::model_file::{check_stamp, store_stamp};
use std::path::Path;
use trace_model::Finding;
use trace_model::context::Coverage;
use trace_model::finding::ExactField;

/// What the findings file's columns mean: bumped whenever `Finding` or a detector changes,
/// so findings an older kctx found are found again.
pub const FINDINGS_SCHEMA: u32 = 1;

/// What a findings file for the trace `key` must say it is.
pub fn identity(key: u64) -> Identity {
    Identity {
        schema: FINDINGS_SCHEMA,
        key,
    }
}

/// A trace's findings and coverage, read back.
pub struct CachedFindings {
    pub findings: Vec<Finding>,
    pub coverage: Coverage,
}

/// Writes the findings and coverage of a store of `events` events.
pub fn save(
    findings: &[Finding],
    coverage: &Coverage,
    events: usize,
    path: &Path,
    key: u64,
) -> std::io::Result<()> {
    let json = serde_json::to_vec(&(findings, coverage)).map_err(std::io::Error::other)?;
    let (mut times, mut indices) = (Vec::new(), Vec::new());
    for f in findings {
        for field in f.clone().exact_fields() {
            match field {
                ExactField::Time(t) => times.push(*t),
                ExactField::Event(i) => indices.push(*i),
            }
        }
    }
    let stamp = store_stamp(events);
    let columns = [
        Column::of("store", &stamp),
        Column::of("json", &json),
        Column::of("times", &times),
        Column::of("events", &indices),
    ];
    crate::column_file::write(path, identity(key), &columns)
}

/// The findings cached at `path` for the trace `key`, checked against a store of `events`
/// events.
pub fn load(path: &Path, key: u64, events: usize) -> Result<CachedFindings, ColumnFileError> {
    read(&ColumnFile::open(path, identity(key))?, events)
}

/// The findings in a column file opened and checked already.
pub fn read(f: &ColumnFile, events: usize) -> Result<CachedFindings, ColumnFileError> {
    let wrong = |what: &str| ColumnFileError {
        path: f.path().to_owned(),
        what: what.to_owned(),
    };
    check_stamp(f, events)?;
    let (mut findings, coverage): (Vec<Finding>, Coverage) =
        serde_json::from_slice(&f.column::<u8>("json")?)
            .map_err(|e| wrong(&format!("findings: {e}")))?;
    let times = f.column::<u64>("times")?;
    let indices = f.column::<u32>("events")?;
    let (mut times, mut indices) = (times.into_iter(), indices.into_iter());
    for finding in &mut findings {
        for field in finding.exact_fields() {
            match field {
                ExactField::Time(t) => *t = times.next().ok_or_else(|| wrong("times cut short"))?,
                ExactField::Event(i) => {
                    *i = (indices.next())
                        .filter(|&i| (i as usize) < events)
                        .ok_or_else(|| wrong("an evidence event out of range or missing"))?;
                }
            }
        }
    }
    if times.next().is_some() || indices.next().is_some() {
        return Err(wrong(
            "more times or evidence events than the findings have",
        ));
    }
    Ok(CachedFindings { findings, coverage })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::context::{BuildOptions, ContextModel};

    /// The findings as every output sees them: without the facts they were explained from.
    pub(crate) fn explained(findings: &[Finding]) -> Vec<Finding> {
        let mut findings = findings.to_vec();
        for f in &mut findings {
            f.why = None;
            f.evidence
                .iter_mut()
                .for_each(|e| e.shows = Default::default());
        }
        findings
    }

    #[test]
    fn findings_read_back_to_the_nanosecond_and_evidence_is_checked_against_the_store() {
        let store = importers::open(&crate::sample_trace()).unwrap();
        let model = ContextModel::build(&store, &BuildOptions::default());
        let findings = trace_model::detect::run_all(&store, &model);
        assert!(findings.iter().any(|f| !f.instances.is_empty()));
        let dir = std::env::temp_dir().join(format!("kctx-findings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.findings");
        save(&findings, &model.coverage, store.len(), &path, 7).unwrap();
        let back = load(&path, 7, store.len()).unwrap();
        assert_eq!(back.findings, explained(&findings));
        assert_eq!(back.coverage, model.coverage);
        // For a store of another length: refused.
        let e = load(&path, 7, store.len() - 1).err().unwrap().to_string();
        assert!(e.contains("another store"), "{e}");
        // An evidence event past the store's end: refused.
        let mut bad = findings.clone();
        bad[0].evidence[0].index = store.len() as u32;
        save(&bad, &model.coverage, store.len(), &path, 7).unwrap();
        let e = load(&path, 7, store.len()).err().unwrap().to_string();
        assert!(e.contains("out of range"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
