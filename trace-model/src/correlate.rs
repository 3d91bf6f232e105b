//! Links the kernel's own splats (console log) to kctx's findings (trace) and reports where
//! they disagree: splats no finding explains ("kernel reported, kctx did not find") and
//! findings no splat confirms ("kctx found what the kernel never reported").
//!
//! Console `[ s.us]` stamps and the trace's `local` / `global` clock are both guest
//! `sched_clock`, so times compare directly; with another trace clock pass
//! [`CorrelateOptions::use_time`] = false and only identities are compared.

use crate::finding::{Finding, FindingKind};
use crate::splat::{Splat, SplatKind};
use serde::Serialize;

/// How close in time a splat must be to a finding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CorrelateOptions {
    /// Compare console and trace times (trace clock `local` / `global`).
    pub use_time: bool,
    /// A splat may precede the finding's first instance by this much (clock skew), seconds.
    pub before_s: f64,
    /// A splat may follow the finding's last instance by this much, seconds. The kernel prints
    /// ~1 ms after the offending call, but a slow serial console (emulated guests) queues later
    /// reports behind earlier ones.
    pub after_s: f64,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            use_time: true,
            before_s: 0.005,
            after_s: 0.5,
        }
    }
}

/// What a link rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedOn {
    Function,
    Lock,
    Task,
}

/// One splat linked to one finding (indexes into the slices given to [`correlate`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    pub splat: usize,
    pub finding: usize,
    pub matched_on: Vec<MatchedOn>,
    /// Splat time minus the nearest instance bound of the finding, seconds (0 inside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_delta_s: Option<f64>,
}

/// The result of [`correlate`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Correlation {
    pub links: Vec<Link>,
    /// Splats of a kind kctx checks that no finding matches.
    pub kernel_only: Vec<usize>,
    /// Findings no splat matches.
    pub kctx_only: Vec<usize>,
}

/// The finding kind that corresponds to a splat kind; `None` for kinds kctx does not check.
pub fn finding_kind(kind: SplatKind) -> Option<FindingKind> {
    use SplatKind::*;
    match kind {
        SleepingFunctionInvalidContext | SchedulingWhileAtomic | InvalidWaitContext => {
            Some(FindingKind::SleepInAtomic)
        }
        CircularLockingDependency | RecursiveLocking => Some(FindingKind::LockOrderCycle),
        InconsistentLockState | IrqSafeToUnsafeLockOrder | IrqLockInversion => {
            Some(FindingKind::IrqInversion)
        }
        _ => None,
    }
}

/// Links every splat to its best-matching finding and lists the disagreements.
pub fn correlate(
    splats: &[Splat],
    findings: &[Finding],
    options: &CorrelateOptions,
) -> Correlation {
    let mut result = Correlation::default();
    let mut confirmed = vec![false; findings.len()];
    for (splat_index, splat) in splats.iter().enumerate() {
        let Some(kind) = finding_kind(splat.kind) else {
            continue;
        };
        let best = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.kind == kind)
            .filter_map(|(i, f)| candidate(splat, f, options).map(|c| (i, c)))
            .max_by(|(_, a), (_, b)| a.rank().total_cmp(&b.rank()));
        match best {
            Some((finding_index, candidate)) => {
                confirmed[finding_index] = true;
                result.links.push(Link {
                    splat: splat_index,
                    finding: finding_index,
                    matched_on: candidate.matched_on,
                    time_delta_s: candidate.time_delta_s,
                });
            }
            None => result.kernel_only.push(splat_index),
        }
    }
    result.kctx_only = (0..findings.len()).filter(|&i| !confirmed[i]).collect();
    result
}

struct Candidate {
    matched_on: Vec<MatchedOn>,
    time_delta_s: Option<f64>,
}

impl Candidate {
    /// Functions weigh most (they name the call site), then locks, then the task; closeness in
    /// time breaks ties.
    fn rank(&self) -> f64 {
        let identity: f64 = self
            .matched_on
            .iter()
            .map(|m| match m {
                MatchedOn::Function => 4.0,
                MatchedOn::Lock => 2.0,
                MatchedOn::Task => 1.0,
            })
            .sum();
        identity - self.time_delta_s.map_or(0.0, f64::abs)
    }
}

/// The splat and finding agree on time (when both have one) and on a function, a lock, or
/// (with times compared) the task.
fn candidate(splat: &Splat, finding: &Finding, options: &CorrelateOptions) -> Option<Candidate> {
    let time_delta_s = match (options.use_time, splat.console_ts) {
        (true, Some(ts)) => {
            let delta = time_delta(ts, finding.ts.map(crate::seconds));
            if delta < -options.before_s || delta > options.after_s {
                return None;
            }
            Some(delta)
        }
        _ => None,
    };
    let mut matched_on = Vec::new();
    let splat_functions = splat_functions(splat);
    if finding
        .functions
        .iter()
        .any(|f| splat_functions.contains(&f.as_str()))
    {
        matched_on.push(MatchedOn::Function);
    }
    let splat_locks = splat.lock_names();
    if finding
        .locks
        .iter()
        .any(|l| splat_locks.contains(&l.as_str()))
    {
        matched_on.push(MatchedOn::Lock);
    }
    if same_task(splat, finding) {
        matched_on.push(MatchedOn::Task);
    }
    // The same task alone links only when the times agree too: one task hits many bugs.
    let named = matched_on.iter().any(|m| *m != MatchedOn::Task);
    let enough = named || (!matched_on.is_empty() && time_delta_s.is_some());
    enough.then_some(Candidate {
        matched_on,
        time_delta_s,
    })
}

/// Signed distance of `ts` from the interval `[first, last]` (0 inside).
fn time_delta(ts: f64, [first, last]: [f64; 2]) -> f64 {
    if ts < first {
        ts - first
    } else if ts > last {
        ts - last
    } else {
        0.0
    }
}

/// Functions a splat names: its stack, the chain stacks, held-lock sites.
fn splat_functions(splat: &Splat) -> Vec<&str> {
    let mut names: Vec<&str> = splat.stack.iter().map(|f| f.function.as_str()).collect();
    if let crate::splat::SplatFacts::Lockdep(facts) = &splat.facts {
        for entry in &facts.dependency_chain_printed {
            names.extend(entry.stack.iter().map(|f| f.function.as_str()));
        }
    }
    if let Some(held) = &splat.held_locks {
        names.extend(held.at.iter().map(String::as_str));
    }
    names
}

/// Same pid, or same comm (a finding's task may be printed `comm-pid`).
fn same_task(splat: &Splat, finding: &Finding) -> bool {
    if let (Some(a), Some(b)) = (splat.pid, finding.pid) {
        return a == b;
    }
    let Some(task) = &finding.task else {
        return false;
    };
    let comm = task
        .rsplit_once('-')
        .filter(|(_, pid)| pid.parse::<i32>().is_ok())
        .map_or(task.as_str(), |(c, _)| c);
    splat.task.as_deref() == Some(comm) || splat.comm.as_deref() == Some(comm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Confidence;
    use crate::splat::{Frame, SplatFacts, WarningFacts};

    fn finding(kind: FindingKind, ts: [f64; 2], function: &str) -> Finding {
        Finding {
            id: function.to_owned(),
            kind,
            confidence: Confidence::Definite,
            cpu: None,
            task: None,
            pid: None,
            ts: ts.map(|s| (s * 1e9).round() as u64),
            functions: vec![function.to_owned()],
            locks: Vec::new(),
            why: None,
            summary: String::new(),
            evidence: Vec::new(),
            count: 1,
            instances: Vec::new(),
        }
    }

    fn splat(kind: SplatKind, ts: f64, function: &str) -> Splat {
        let mut s = Splat::new(kind, 1, SplatFacts::Warning(WarningFacts::default()));
        s.console_ts = Some(ts);
        s.stack.push(Frame {
            function: function.to_owned(),
            ..Frame::default()
        });
        s
    }

    #[test]
    fn links_by_function_within_the_window_and_reports_both_ways() {
        let findings = [
            finding(FindingKind::SleepInAtomic, [10.0, 10.0], "f"),
            finding(FindingKind::SleepInAtomic, [20.0, 20.0], "g"),
        ];
        let splats = [
            splat(SplatKind::SchedulingWhileAtomic, 10.001, "f"),
            splat(SplatKind::SchedulingWhileAtomic, 30.0, "h"),
            splat(SplatKind::Warning, 20.0, "g"),
        ];
        let c = correlate(&splats, &findings, &CorrelateOptions::default());
        assert_eq!(c.links.len(), 1);
        assert_eq!((c.links[0].splat, c.links[0].finding), (0, 0));
        assert_eq!(c.links[0].matched_on, vec![MatchedOn::Function]);
        assert_eq!(c.kernel_only, vec![1]);
        assert_eq!(c.kctx_only, vec![1]);
    }

    #[test]
    fn kind_must_agree_and_time_must_fit() {
        let findings = [finding(FindingKind::LockOrderCycle, [10.0, 10.0], "f")];
        let splats = [splat(SplatKind::SchedulingWhileAtomic, 10.0, "f"), {
            splat(SplatKind::CircularLockingDependency, 12.0, "f")
        }];
        let c = correlate(&splats, &findings, &CorrelateOptions::default());
        assert!(c.links.is_empty());
        assert_eq!(c.kernel_only, vec![0, 1]);
        let untimed = CorrelateOptions {
            use_time: false,
            ..CorrelateOptions::default()
        };
        assert_eq!(correlate(&splats, &findings, &untimed).links.len(), 1);
    }
}
