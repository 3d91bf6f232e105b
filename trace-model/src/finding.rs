//! Findings: what the detectors report, each with its evidence. Times are trace ns and
//! evidence names its event; the JSON of `kctx check` serialises these directly, times in
//! trace seconds (the [`as_seconds`] adapter), as it always has. Read back (the cache), the
//! times and evidence indices are not in that JSON: [`Finding::exact_fields`] carries them.
//!
//! Detectors fill in the facts: [`Why`] (the cause kind with the holds, classes and events
//! it rests on) and each evidence event's [`Shows`]; [`crate::explain`] turns them into the
//! summary and evidence text that every output prints.

use crate::context::locks::{ClassId, HoldIdx};
use crate::lockdep::IrqState;
use crate::{EventIdx, StrId};
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
    /// What the event shows (the facts `task` and `detail` are explained from).
    #[serde(skip)]
    pub shows: Shows,
    /// Trace ns (seconds in JSON).
    #[serde(serialize_with = "as_seconds", skip_deserializing)]
    pub ts: u64,
    pub cpu: u32,
    /// `comm-pid` of the task, or the interrupt context.
    pub task: String,
    pub event: String,
    pub detail: String,
}

/// What an evidence event shows (the default: the event itself, what findings read back from
/// the cache say: their text is explained already).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Shows {
    /// The event itself (a sleeping call, what made the context atomic, the sleep).
    #[default]
    Event,
    /// The hold's acquire: a lock that is held.
    Holds(HoldIdx),
    /// The hold's acquire while holding `from`: the order `from -> to`, seen `count` times,
    /// the last at `last_ts`.
    Order {
        hold: HoldIdx,
        from: ClassId,
        to: ClassId,
        count: u64,
        last_ts: u64,
    },
    /// The hold's acquire of a lock instance it already holds.
    Again(HoldIdx),
    /// The hold's acquire while holding a lock of class `held`.
    WhileHolding { hold: HoldIdx, held: ClassId },
    /// The hold set a usage bit: used in `state` context, or taken with `state` enabled.
    Usage {
        hold: HoldIdx,
        state: IrqState,
        used_in: bool,
    },
    /// The hold's acquire in task context with the `state` state unknown.
    UnknownState { hold: HoldIdx, state: IrqState },
}

impl Shows {
    /// The hold whose acquire the event is, for all but [`Shows::Event`].
    pub fn hold(self) -> Option<HoldIdx> {
        match self {
            Shows::Event => None,
            Shows::Holds(h) | Shows::Again(h) => Some(h),
            Shows::Order { hold, .. }
            | Shows::WhileHolding { hold, .. }
            | Shows::Usage { hold, .. }
            | Shows::UnknownState { hold, .. } => Some(hold),
        }
    }
}

/// Why a detector reported a finding: the cause kind and the ids it rests on, plus what
/// grouping and undecidedness added.
#[derive(Clone, Debug, PartialEq)]
pub struct Why {
    pub cause: Cause,
    /// The class where no lock instance ties the chain together (the finding is undecided).
    pub untied_at: Option<ClassId>,
    /// Ids of the undecided findings that come apart at the same class and this one stands for.
    pub same_name: Vec<String>,
}

impl From<Cause> for Why {
    fn from(cause: Cause) -> Why {
        Why {
            cause,
            untied_at: None,
            same_name: Vec::new(),
        }
    }
}

/// The cause kind of a finding.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// A call that may sleep (or a real sleep) while the context was atomic.
    SleepInAtomic(SleepWhy),
    /// A lock-order cycle: each order's witness acquisition (the hold that took `to` while
    /// holding `from`), and whether two of the orders overlapped in time.
    LockOrderCycle {
        orders: Vec<(HoldIdx, ClassId, ClassId)>,
        overlapped: bool,
    },
    /// The same lock instance taken again while held.
    Recursion { outer: HoldIdx, inner: HoldIdx },
    /// One class used in an irq state and taken with it enabled.
    InconsistentUsage {
        state: IrqState,
        class: ClassId,
        used: HoldIdx,
        enabled: HoldIdx,
    },
    /// Used in an irq state; task-side holds (`times` of them) with that state unknown.
    UndecidedUsage {
        state: IrqState,
        class: ClassId,
        used: HoldIdx,
        unknown: HoldIdx,
        times: u64,
    },
    /// A path from an irq-safe class to an irq-unsafe one: `chain` from the safe class to the
    /// unsafe one, the holds that set each end's usage, and how many further unsafe classes
    /// are reachable (`more`, of which `named` are named).
    SafeToUnsafe {
        state: IrqState,
        chain: Vec<ClassId>,
        used: HoldIdx,
        enabled: HoldIdx,
        more: usize,
        named: Vec<ClassId>,
    },
}

/// The call of a sleep-in-atomic finding and the reasons its context was atomic.
#[derive(Clone, Debug, PartialEq)]
pub struct SleepWhy {
    /// The might-sleep function (`None`: the task really slept, seen at `sched_switch`).
    pub func: Option<StrId>,
    pub caller: StrId,
    pub ts: u64,
    pub causes: Vec<AtomicCause>,
    /// The `sched_switch` where the task really slept.
    pub slept: Option<EventIdx>,
    /// The kernel's own `__schedule_bug` report.
    pub schedule_bug: Option<EventIdx>,
    /// An allocation whose GFP flags the trace does not show.
    pub gfp_unknown: bool,
}

/// One reason a context was atomic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AtomicCause {
    /// Serving a softirq (its vector, when known).
    Softirq(Option<u32>),
    /// In a hardirq handler (its name, when known).
    Hardirq(Option<StrId>),
    Nmi,
    /// A spinning lock or the RCU read lock is held.
    LockHeld(HoldIdx),
    /// Irqs disabled, since this event when known.
    IrqsOff(Option<EventIdx>),
    /// Softirqs (BH) disabled, since this event when known.
    BhOff(Option<EventIdx>),
    /// Preemption disabled this many levels above the trace's baseline, since this event.
    PreemptOff {
        excess: u8,
        since: Option<EventIdx>,
    },
}

impl AtomicCause {
    /// Whether the trace proves it (a preempt depth above the calibrated baseline is only
    /// probable).
    pub fn definite(self) -> bool {
        !matches!(self, AtomicCause::PreemptOff { .. })
    }

    /// The event that shows it, when there is one.
    pub fn evidence(self, holds: &[crate::context::locks::LockHold]) -> Option<EventIdx> {
        match self {
            AtomicCause::LockHeld(h) => Some(holds[h as usize].acquire_event),
            AtomicCause::IrqsOff(since)
            | AtomicCause::BhOff(since)
            | AtomicCause::PreemptOff { since, .. } => since,
            AtomicCause::Softirq(_) | AtomicCause::Hardirq(_) | AtomicCause::Nmi => None,
        }
    }
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
    /// Why the detector reported it (`None` for a finding not made by a detector).
    #[serde(skip)]
    pub why: Option<Why>,
    /// One-paragraph explanation naming the cause and the call ([`crate::explain`]).
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
