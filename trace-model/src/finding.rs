//! Findings: what the detectors report, each with its evidence. Times are trace ns and
//! evidence names its event; the JSON of `kctx check` serialises these directly, times in
//! trace seconds (the [`as_seconds`] adapter), as it always has. Read back (the cache), the
//! times and evidence indices are not in that JSON: [`Finding::exact_fields`] carries them.

use crate::EventIdx;
use serde::{Deserialize, Serialize, Serializer};

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
    /// The event's index in the store.
    #[serde(skip)]
    pub index: EventIdx,
    /// Trace ns (seconds in JSON).
    #[serde(serialize_with = "as_seconds", skip_deserializing)]
    pub ts: u64,
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
    /// Trace ns of the call that slept.
    #[serde(serialize_with = "as_seconds", skip_deserializing)]
    pub ts: u64,
    /// Trace ns: from what made the context atomic to the sleep's end (its first and last
    /// evidence events).
    #[serde(serialize_with = "pair_as_seconds", skip_deserializing)]
    pub span: [u64; 2],
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
    /// First and last time (trace ns) of the instances.
    #[serde(serialize_with = "pair_as_seconds", skip_deserializing)]
    pub ts: [u64; 2],
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
    /// irq inversions).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub instances: Vec<FindingInstance>,
}

impl Finding {
    /// Every time (ns) and evidence index of the finding, in one fixed order: what the JSON
    /// gives only as rounded seconds or not at all, carried beside it in the cache.
    pub fn exact_fields(&mut self) -> impl Iterator<Item = ExactField<'_>> {
        let ts = self.ts.iter_mut().map(ExactField::Time);
        let evidence = self
            .evidence
            .iter_mut()
            .flat_map(|e| [ExactField::Event(&mut e.index), ExactField::Time(&mut e.ts)]);
        let instances = self.instances.iter_mut().flat_map(|i| {
            let [a, b] = &mut i.span;
            [&mut i.ts, a, b].map(ExactField::Time)
        });
        ts.chain(evidence).chain(instances)
    }

    /// Adds another finding of the same id (the one merge rule of every detector): the
    /// counts add up, the time span widens, the instances join in time order and the locks
    /// join; the surest of the two explains the result (confidence, summary, evidence,
    /// where), the first on a tie.
    pub fn absorb(&mut self, other: Finding) {
        let count = self.count + other.count;
        let ts = [self.ts[0].min(other.ts[0]), self.ts[1].max(other.ts[1])];
        let mut instances = std::mem::take(&mut self.instances);
        instances.extend(other.instances.iter().cloned());
        instances.sort_by_key(|i| i.ts);
        let mut locks = std::mem::take(&mut self.locks);
        for l in &other.locks {
            if !locks.contains(l) {
                locks.push(l.clone());
            }
        }
        if other.confidence < self.confidence {
            *self = other;
        }
        self.count = count;
        self.ts = ts;
        self.instances = instances;
        self.locks = locks;
    }
}

/// A field [`Finding::exact_fields`] yields.
pub enum ExactField<'a> {
    /// Trace ns.
    Time(&'a mut u64),
    /// An evidence event's index in the store.
    Event(&'a mut EventIdx),
}

/// Serialises trace ns as trace seconds: the unit of kctx's JSON.
pub fn as_seconds<S: Serializer>(ns: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(crate::seconds(*ns))
}

/// [`as_seconds`] for a `[first, last]` pair.
pub fn pair_as_seconds<S: Serializer>(ns: &[u64; 2], s: S) -> Result<S::Ok, S::Error> {
    [crate::seconds(ns[0]), crate::seconds(ns[1])].serialize(s)
}
