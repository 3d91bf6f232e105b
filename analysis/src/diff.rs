//! Two traces' findings compared: which a change brought (new), removed (fixed) or kept
//! (unchanged), matched by the findings' stable ids. `kctx diff OLD NEW` prints it and the
//! GUI's comparison view lists it.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use trace_model::Finding;

/// A finding present on both sides, with what changed about it.
#[derive(Clone, Debug, Serialize)]
pub struct Unchanged {
    pub id: String,
    pub old_confidence: trace_model::Confidence,
    pub new_confidence: trace_model::Confidence,
    pub old_count: u64,
    pub new_count: u64,
}

/// The comparison: what `--format json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct FindingDiff {
    pub old: String,
    pub new: String,
    /// In NEW only.
    pub new_findings: Vec<Finding>,
    /// In OLD only.
    pub fixed: Vec<Finding>,
    pub unchanged: Vec<Unchanged>,
    pub exit_code: u8,
}

impl FindingDiff {
    /// Matches `old` and `new` findings by id. An id found twice on one side (the same
    /// rule reported for two inputs of a report) pairs with its twin in order.
    pub fn of(old_name: &str, old: &[Finding], new_name: &str, new: &[Finding]) -> FindingDiff {
        let mut old_by_id: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in old.iter().rev() {
            old_by_id.entry(&f.id).or_default().push(f);
        }
        let (mut new_findings, mut unchanged) = (Vec::new(), Vec::new());
        for f in new {
            match old_by_id.get_mut(f.id.as_str()).and_then(Vec::pop) {
                Some(o) => unchanged.push(Unchanged {
                    id: f.id.clone(),
                    old_confidence: o.confidence,
                    new_confidence: f.confidence,
                    old_count: o.count,
                    new_count: f.count,
                }),
                None => new_findings.push(f.clone()),
            }
        }
        let mut fixed: Vec<Finding> = old_by_id
            .into_values()
            .flat_map(|left| left.into_iter().rev().cloned())
            .collect();
        fixed.sort_by(|a, b| a.id.cmp(&b.id));
        // A finding that was only undecided and is now a violation fails the gate too.
        let escalated = unchanged.iter().any(|u| {
            u.old_confidence == trace_model::Confidence::Unverifiable
                && u.new_confidence != trace_model::Confidence::Unverifiable
        });
        let exit_code = u8::from(escalated || new_findings.iter().any(crate::report::is_violation));
        FindingDiff {
            old: old_name.to_owned(),
            new: new_name.to_owned(),
            new_findings,
            fixed,
            unchanged,
            exit_code,
        }
    }
}

/// One line per finding: id, confidence, count, first time, where.
fn finding_line(w: &mut String, mark: char, f: &Finding) {
    let _ = write!(
        w,
        "  {mark} {} [{}] x{} at {:.6}",
        f.id,
        f.confidence.name(),
        f.count,
        trace_model::seconds(f.ts[0])
    );
    if let (Some(task), Some(pid)) = (&f.task, f.pid) {
        let _ = write!(w, " {}", trace_model::CommPid(task, pid));
    }
    if let Some(cpu) = f.cpu {
        let _ = write!(w, " CPU {cpu}");
    }
    let _ = writeln!(w);
}

fn heading(w: &mut String, what: &str, n: usize) {
    let _ = writeln!(w, "{what}:{}", if n == 0 { " none" } else { "" });
}

/// The human-readable form.
pub fn render_text(d: &FindingDiff) -> String {
    let mut w = String::new();
    let _ = writeln!(
        w,
        "kctx diff: {} new, {} fixed, {} unchanged; exit status {}",
        d.new_findings.len(),
        d.fixed.len(),
        d.unchanged.len(),
        d.exit_code
    );
    let _ = writeln!(w, "  old {}\n  new {}", d.old, d.new);
    heading(&mut w, "new (in NEW only)", d.new_findings.len());
    for f in &d.new_findings {
        finding_line(&mut w, '+', f);
    }
    heading(&mut w, "fixed (in OLD only)", d.fixed.len());
    for f in &d.fixed {
        finding_line(&mut w, '-', f);
    }
    heading(&mut w, "unchanged", d.unchanged.len());
    for u in &d.unchanged {
        let _ = write!(w, "  = {} [{}", u.id, u.old_confidence.name());
        if u.new_confidence != u.old_confidence {
            let _ = write!(w, " -> {}", u.new_confidence.name());
        }
        let _ = writeln!(w, "] x{} -> x{}", u.old_count, u.new_count);
    }
    w
}
