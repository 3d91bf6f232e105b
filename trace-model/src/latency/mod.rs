//! Latency sections from a [`ContextModel`]: every irqs-off, preempt-off and BH-off section,
//! every hardirq, softirq and NMI, and every wakeup (woken -> switched in), each with where it
//! began and ended. The kernel's irqsoff / preemptoff / wakeup tracers keep only the single
//! worst section, live; a trace has them all.
//!
//! Edges are as exact as the trace makes them: an explicit event (`preemptirq:irq_disable`,
//! `softirq_entry`, `sched_waking`...) is an exact edge; otherwise the flags sampled the state
//! only at event times, and each edge says how far the real one may be (the gap to the
//! neighbouring event). A section that touches unknown context (the start of the data, lost
//! events, the end of the data) is marked truncated: its duration is the part the trace saw,
//! a lower bound, never extrapolated over the gap.

mod cpu;
mod report;
#[cfg(test)]
mod tests;
mod wakeup;

use crate::StrId;
use crate::context::{ContextModel, UnknownReason};
use crate::store::{EventIdx, EventStore};
use serde::Serialize;

pub use report::{Instance, KindSummary, Site, SourceSummary, describe, summarize, worst};

/// What kind of section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LatencyKind {
    IrqsOff,
    PreemptOff,
    BhOff,
    Hardirq,
    Softirq,
    Nmi,
    Wakeup,
}

impl LatencyKind {
    pub const ALL: [LatencyKind; 7] = [
        LatencyKind::IrqsOff,
        LatencyKind::PreemptOff,
        LatencyKind::BhOff,
        LatencyKind::Hardirq,
        LatencyKind::Softirq,
        LatencyKind::Nmi,
        LatencyKind::Wakeup,
    ];

    /// The name the CLI and the JSON use (`irqsoff`, like the kernel's tracer).
    pub fn name(self) -> &'static str {
        match self {
            LatencyKind::IrqsOff => "irqsoff",
            LatencyKind::PreemptOff => "preemptoff",
            LatencyKind::BhOff => "bhoff",
            LatencyKind::Hardirq => "hardirq",
            LatencyKind::Softirq => "softirq",
            LatencyKind::Nmi => "nmi",
            LatencyKind::Wakeup => "wakeup",
        }
    }
}

/// Why the trace saw only part of a section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Truncation {
    /// It was already on when the CPU's data began.
    StartOfData,
    /// Lost events cut it.
    LostEvents,
    /// It was still on when the data ended.
    EndOfData,
}

impl From<UnknownReason> for Truncation {
    fn from(why: UnknownReason) -> Truncation {
        match why {
            UnknownReason::StartOfData => Truncation::StartOfData,
            UnknownReason::LostEvents => Truncation::LostEvents,
        }
    }
}

/// Which interrupt a hardirq or softirq section served, when the trace names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    None,
    Softirq(u32),
    Hardirq { irq: Option<i32>, name: StrId },
}

/// One section, as indices and ids: resolve it with [`describe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    pub kind: LatencyKind,
    pub start_ns: u64,
    pub end_ns: u64,
    pub cpu: u32,
    /// The task on the CPU when it began (for a wakeup: the woken task).
    pub pid: i32,
    pub comm: StrId,
    pub source: Source,
    /// The first event that showed it (the disabling event, the entry, the waking).
    pub opened_by: Option<EventIdx>,
    /// The last event that showed it (the enabling event, the exit, the switch in).
    pub closed_by: Option<EventIdx>,
    /// How much earlier the real start may be (0: an explicit event opened it).
    pub start_slack_ns: u64,
    /// How far the real end may be from `end_ns` (0: an explicit event closed it).
    pub end_slack_ns: u64,
    /// The longest stretch inside with no event on the CPU: what the flags could not see.
    /// Sections sampled on a CPU that traced little (an idle CPU's ticks) are mostly unseen.
    pub unseen_ns: u64,
    pub truncated: Option<Truncation>,
}

impl Section {
    pub fn duration_ns(&self) -> u64 {
        self.end_ns - self.start_ns
    }

    /// Both edges are explicit events and the trace saw the whole section.
    pub fn exact(&self) -> bool {
        self.start_slack_ns == 0 && self.end_slack_ns == 0 && self.truncated.is_none()
    }
}

/// Every section of the given kinds, per kind in CPU and time order (wakeups in pid order).
pub fn sections(store: &EventStore, model: &ContextModel, kinds: &[LatencyKind]) -> Vec<Section> {
    let mut out = Vec::new();
    for &kind in kinds {
        if kind == LatencyKind::Wakeup {
            wakeup::sections(store, model, &mut out);
        } else {
            for cpu in 0..model.cpus.len() {
                cpu::sections(&cpu::CpuView::new(store, model, cpu), kind, &mut out);
            }
        }
    }
    out
}

/// The times of the lost-event gaps (of one CPU, or of all), sorted.
fn gap_times(store: &EventStore, cpu: Option<usize>) -> Vec<u64> {
    let mut gaps: Vec<u64> = store
        .meta
        .lost
        .iter()
        .filter(|g| cpu.is_none_or(|c| g.cpu as usize == c))
        .map(|g| g.ts)
        .collect();
    gaps.sort_unstable();
    gaps
}

/// A gap in `sorted` after `after`, up to and including `upto`?
fn gap_between(sorted: &[u64], after: u64, upto: u64) -> bool {
    let first = sorted.partition_point(|&g| g <= after);
    sorted.get(first).is_some_and(|&g| g <= upto)
}
