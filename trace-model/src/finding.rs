//! Findings: what the detectors report, each with its evidence. The JSON of `kctx check`
//! serialises these directly.

use serde::{Deserialize, Serialize};

/// The kind of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    SleepInAtomic,
    LockOrderCycle,
    IrqInversion,
}

impl FindingKind {
    /// The name used in ids, JSON and reports.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::SleepInAtomic => "sleep-in-atomic",
            FindingKind::LockOrderCycle => "lock-order-cycle",
            FindingKind::IrqInversion => "irq-inversion",
        }
    }
}

/// How sure the finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// The trace proves it.
    Definite,
    /// Very likely, from sampled state.
    Probable,
    /// The trace cannot decide; the summary says what to record to decide.
    Unverifiable,
}

impl Confidence {
    /// The name used in JSON and reports.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Definite => "definite",
            Confidence::Probable => "probable",
            Confidence::Unverifiable => "unverifiable",
        }
    }
}

/// One event cited as evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Trace seconds.
    pub ts: f64,
    pub cpu: u32,
    /// `comm-pid` of the task, or the interrupt context.
    pub task: String,
    pub event: String,
    pub detail: String,
}

/// One occurrence of a finding: where it happened and its own atomic span.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingInstance {
    pub cpu: u32,
    pub pid: i32,
    /// Trace seconds of the call that slept.
    pub ts: f64,
    /// Trace seconds: from what made the context atomic to the sleep's end (its first and
    /// last evidence events).
    pub span: [f64; 2],
}

/// One violation, deduplicated by kind and call site / lock classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: kind + call site / classes, so allowlists survive re-recording.
    pub id: String,
    pub kind: FindingKind,
    pub confidence: Confidence,
    pub cpu: Option<u32>,
    pub task: Option<String>,
    pub pid: Option<i32>,
    /// First and last time (trace seconds) of the instances.
    pub ts: [f64; 2],
    /// Functions on the path: the caller that took the lock or slept.
    pub functions: Vec<String>,
    /// Lock classes involved.
    pub locks: Vec<String>,
    /// One-paragraph explanation naming the cause and the call.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    /// Instances merged into this finding.
    pub count: u64,
    /// Each instance, in time order, where the detector keeps them (sleep-in-atomic); empty
    /// for kinds whose evidence is the first witnesses of each order (lock-order cycles,
    /// irq inversions), and absent from older JSON.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<FindingInstance>,
}
