//! What is reported about sections: per-kind figures, the worst instances, and one section
//! resolved to names.

use super::{LatencyKind, Section, Source, Truncation};
use crate::CommPid;
use crate::context::ContextModel;
use crate::context::state::softirq_name;
use crate::payload::Payload;
use crate::store::{EventIdx, EventStore};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// One kind's figures over a set of sections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KindSummary {
    pub kind: LatencyKind,
    pub count: u64,
    /// Sections with both edges explicit events, seen whole.
    pub exact: u64,
    /// Sections the trace saw only part of: their durations are lower bounds.
    pub truncated: u64,
    pub total_ns: u64,
    pub max_ns: u64,
    /// Nearest-rank percentiles of the durations.
    pub p50_ns: u64,
    pub p99_ns: u64,
    /// Hardirq lines and softirq vectors, most total time first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceSummary>,
}

/// One interrupt source's figures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceSummary {
    pub source: String,
    pub count: u64,
    pub total_ns: u64,
    pub max_ns: u64,
}

/// The figures of every kind that has sections, in [`LatencyKind::ALL`] order.
pub fn summarize(model: &ContextModel, sections: &[Section]) -> Vec<KindSummary> {
    LatencyKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let of_kind = || sections.iter().filter(move |s| s.kind == kind);
            let mut durations: Vec<u64> = of_kind().map(Section::duration_ns).collect();
            if durations.is_empty() {
                return None;
            }
            durations.sort_unstable();
            Some(KindSummary {
                kind,
                count: durations.len() as u64,
                exact: of_kind().filter(|s| s.exact()).count() as u64,
                truncated: of_kind().filter(|s| s.truncated.is_some()).count() as u64,
                total_ns: durations.iter().sum(),
                max_ns: durations.last().copied().unwrap_or(0),
                p50_ns: percentile(&durations, 50),
                p99_ns: percentile(&durations, 99),
                sources: source_summaries(model, of_kind()),
            })
        })
        .collect()
}

/// Nearest rank: the smallest value with at least `p`% of the values at or below it.
fn percentile(sorted: &[u64], p: usize) -> u64 {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn source_summaries<'a>(
    model: &ContextModel,
    sections: impl Iterator<Item = &'a Section>,
) -> Vec<SourceSummary> {
    let mut by_source: FxHashMap<Source, SourceSummary> = FxHashMap::default();
    for s in sections {
        let Some(name) = source_name(model, s) else {
            continue;
        };
        let entry = by_source.entry(s.source).or_insert_with(|| SourceSummary {
            source: name,
            count: 0,
            total_ns: 0,
            max_ns: 0,
        });
        entry.count += 1;
        entry.total_ns += s.duration_ns();
        entry.max_ns = entry.max_ns.max(s.duration_ns());
    }
    let mut out: Vec<SourceSummary> = by_source.into_values().collect();
    out.sort_by(|a, b| {
        b.total_ns
            .cmp(&a.total_ns)
            .then_with(|| a.source.cmp(&b.source))
    });
    out
}

/// The interrupt a hardirq or softirq section served: `TIMER`, `11 virtio0`,
/// `local_timer`, or `unnamed` when only the flags showed it.
fn source_name(model: &ContextModel, s: &Section) -> Option<String> {
    match (s.kind, s.source) {
        (_, Source::Softirq(vec)) => {
            Some(softirq_name(vec).map_or_else(|| format!("vector {vec}"), str::to_owned))
        }
        (_, Source::Hardirq { irq, name }) => {
            let name = model.str(name);
            Some(match irq {
                Some(irq) if name.is_empty() => irq.to_string(),
                Some(irq) => format!("{irq} {name}"),
                None if name.is_empty() => "unnamed".to_owned(),
                None => name.to_owned(),
            })
        }
        (LatencyKind::Hardirq | LatencyKind::Softirq, Source::None) => Some("unnamed".to_owned()),
        _ => None,
    }
}

/// The `n` longest sections, longest first (the earlier on a tie).
pub fn worst(sections: &[Section], n: usize) -> Vec<Section> {
    let order = |a: &Section, b: &Section| {
        b.duration_ns()
            .cmp(&a.duration_ns())
            .then(a.start_ns.cmp(&b.start_ns))
            .then(a.cpu.cmp(&b.cpu))
    };
    let mut out = sections.to_vec();
    if n < out.len() {
        out.select_nth_unstable_by(n, order);
        out.truncate(n);
    }
    out.sort_by(order);
    out
}

/// An event at a section's edge: its name, time and what it names (the function, the lock,
/// the woken task and its waker, the task switched from).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Site {
    pub event: String,
    pub ts_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// One section with its names resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub kind: LatencyKind,
    pub duration_ns: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub cpu: u32,
    pub pid: i32,
    pub comm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<Site>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<Site>,
    pub exact: bool,
    pub start_slack_ns: u64,
    pub end_slack_ns: u64,
    pub unseen_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncation>,
}

/// `section` with its events and names resolved.
pub fn describe(store: &EventStore, model: &ContextModel, section: &Section) -> Instance {
    Instance {
        kind: section.kind,
        duration_ns: section.duration_ns(),
        start_ns: section.start_ns,
        end_ns: section.end_ns,
        cpu: section.cpu,
        pid: section.pid,
        comm: model.str(section.comm).to_owned(),
        source: source_name(model, section),
        opened_by: section.opened_by.map(|i| site(store, model, i)),
        closed_by: section.closed_by.map(|i| site(store, model, i)),
        exact: section.exact(),
        start_slack_ns: section.start_slack_ns,
        end_slack_ns: section.end_slack_ns,
        unseen_ns: section.unseen_ns,
        truncated: section.truncated,
    }
}

fn site(store: &EventStore, model: &ContextModel, i: EventIdx) -> Site {
    let task = |comm, pid| CommPid(model.str(comm), pid).to_string();
    let at = match store.payload(i) {
        Payload::Function { func, .. }
        | Payload::FuncGraphEntry { func, .. }
        | Payload::FuncGraphExit { func, .. } => Some(model.str(func).to_owned()),
        Payload::IrqDisable { caller, .. }
        | Payload::IrqEnable { caller, .. }
        | Payload::PreemptDisable { caller, .. }
        | Payload::PreemptEnable { caller, .. } => Some(model.str(caller).to_owned()),
        Payload::LockAcquire { name, .. }
        | Payload::LockRelease { name, .. }
        | Payload::LockContended { name, .. }
        | Payload::LockAcquired { name, .. }
        | Payload::IrqHandlerEntry { name, .. } => Some(model.str(name).to_owned()),
        Payload::LockProbe { probed, .. } => Some(model.str(probed).to_owned()),
        Payload::WorkqueueExecuteStart { function, .. }
        | Payload::WorkqueueExecuteEnd { function, .. }
        | Payload::TimerExpireEntry { function, .. }
        | Payload::HrtimerExpireEntry { function, .. } => Some(model.str(function).to_owned()),
        Payload::SoftirqEntry { vec } | Payload::SoftirqExit { vec } => {
            softirq_name(vec).map(str::to_owned)
        }
        Payload::SchedSwitch {
            prev_comm,
            prev_pid,
            ..
        } => Some(task(prev_comm, prev_pid)),
        Payload::SchedWakeup { comm, pid, .. } => Some(format!(
            "{} by {}",
            task(comm, pid),
            task(store.comm(i), store.pids()[i as usize])
        )),
        _ => None,
    }
    .filter(|s| !s.is_empty());
    Site {
        event: store.type_name(store.event_types()[i as usize]).to_owned(),
        ts_ns: store.ts()[i as usize],
        at,
    }
}
