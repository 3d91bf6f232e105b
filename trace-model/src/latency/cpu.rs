//! Sections of one CPU's lanes: sampled state (irqs-off, BH-off, preempt-off) and interrupt
//! frames (hardirq, softirq, NMI).

use super::{LatencyKind, Section, Source, Truncation, gap_between, gap_times};
use crate::StrId;
use crate::context::calibrate::function_of;
use crate::context::lanes::IntervalLane;
use crate::context::{ContextModel, CpuLanes};
use crate::payload::{Payload, PayloadView};
use crate::store::{EventIdx, EventStore};

/// The sections of `kind` (not a wakeup) on one CPU.
pub(super) fn sections(view: &CpuView<'_>, kind: LatencyKind, out: &mut Vec<Section>) {
    let lanes = view.lanes;
    match kind {
        LatencyKind::IrqsOff => sampled_sections(view, kind, &lanes.irqs_off, out),
        LatencyKind::BhOff => sampled_sections(view, kind, &lanes.bh_off, out),
        LatencyKind::PreemptOff => preempt_sections(view, out),
        LatencyKind::Hardirq => {
            frame_sections(view, kind, &lanes.hardirq, out, |h| Source::Hardirq {
                irq: h.irq,
                name: h.name,
            })
        }
        LatencyKind::Softirq => frame_sections(view, kind, &lanes.softirq, out, |s| {
            s.vec.map_or(Source::None, Source::Softirq)
        }),
        LatencyKind::Nmi => frame_sections(view, kind, &lanes.nmi, out, |_| Source::None),
        LatencyKind::Wakeup => {}
    }
}

/// One CPU's events and lanes, for finding a section's edges by binary search.
pub(super) struct CpuView<'a> {
    store: &'a EventStore,
    model: &'a ContextModel,
    lanes: &'a CpuLanes,
    cpu: usize,
    events: &'a [EventIdx],
    gaps: Vec<u64>,
}

impl<'a> CpuView<'a> {
    pub(super) fn new(store: &'a EventStore, model: &'a ContextModel, cpu: usize) -> CpuView<'a> {
        CpuView {
            store,
            model,
            lanes: &model.cpus[cpu],
            cpu,
            events: store.cpu_events(cpu),
            gaps: gap_times(store, Some(cpu)),
        }
    }

    fn ts(&self, i: EventIdx) -> u64 {
        self.store.ts()[i as usize]
    }

    /// The CPU's events with `start <= ts < end`.
    fn between(&self, start: u64, end: u64) -> &'a [EventIdx] {
        &self.events[self.store.cpu_range(self.cpu, start, end)]
    }

    fn last_before(&self, ts: u64) -> Option<EventIdx> {
        self.between(0, ts).last().copied()
    }

    fn first_after(&self, ts: u64) -> Option<EventIdx> {
        self.between(ts.saturating_add(1), u64::MAX)
            .first()
            .copied()
    }

    /// Lost events on this CPU after `after`, up to and including `upto`.
    fn lost_between(&self, after: u64, upto: u64) -> bool {
        gap_between(&self.gaps, after, upto)
    }

    /// The section opened at `start` without an explicit event: how much earlier it may have
    /// begun, or why the trace cannot tell.
    fn sampled_start(&self, start: u64) -> (u64, Option<Truncation>) {
        let unknown_before = start
            .checked_sub(1)
            .and_then(|t| self.lanes.unknown.at(t))
            .filter(|u| u.end_ns == start);
        match (unknown_before, self.last_before(start)) {
            (Some(u), _) => (0, Some((*u.value).into())),
            (None, None) => (0, Some(Truncation::StartOfData)),
            (None, Some(prev)) => (start - self.ts(prev), None),
        }
    }

    /// The longest stretch of `[start, end]` between the events `inside` it.
    fn unseen(&self, inside: &[EventIdx], start: u64, end: u64) -> u64 {
        let mut longest = 0;
        let mut last = start;
        for t in inside.iter().map(|&i| self.ts(i)).chain([end]) {
            longest = longest.max(t.saturating_sub(last));
            last = last.max(t);
        }
        longest
    }

    fn payload(&self, i: EventIdx) -> PayloadView<'a> {
        self.store.payload(i)
    }

    fn task_of(&self, i: EventIdx) -> (i32, StrId) {
        (self.store.pids()[i as usize], self.store.comm(i))
    }
}

/// Is `i` an event that shows the sampled state of `kind` over?
fn shows_over(view: &CpuView<'_>, kind: LatencyKind, i: EventIdx) -> bool {
    let store = view.store;
    let flags = store.flags()[i as usize];
    match kind {
        LatencyKind::IrqsOff => flags.irqs_off() == Some(false),
        LatencyKind::BhOff => flags.bh_off() == Some(false),
        LatencyKind::PreemptOff => {
            let func = function_of(&store.payload(i));
            view.model.baselines.excess(store, i, func) == Some(0)
        }
        _ => false,
    }
}

/// The events that switch the sampled state of `kind` explicitly.
fn explicit_edge(kind: LatencyKind, p: &PayloadView<'_>) -> Option<bool> {
    match (kind, p) {
        (LatencyKind::IrqsOff, Payload::IrqDisable { .. })
        | (LatencyKind::PreemptOff, Payload::PreemptDisable { .. }) => Some(true),
        (LatencyKind::IrqsOff, Payload::IrqEnable { .. })
        | (LatencyKind::PreemptOff, Payload::PreemptEnable { .. }) => Some(false),
        _ => None,
    }
}

/// A section of a lane sampled from the flags: from the first event showing it (`inside`
/// starts there, at `start`) to the first showing it over (at `end`). An explicit enable
/// event (recorded just before the enable, still showing the state) ends it exactly.
fn sampled_section(
    view: &CpuView<'_>,
    kind: LatencyKind,
    inside: &[EventIdx],
    start: u64,
    end: u64,
) -> Section {
    let opened_by = inside.first().copied();
    let last = inside.last().copied();
    let opened_explicitly =
        opened_by.is_some_and(|i| explicit_edge(kind, &view.payload(i)) == Some(true));
    let (start_slack_ns, mut truncated) = if opened_explicitly {
        (0, None)
    } else {
        view.sampled_start(start)
    };
    let closed_explicitly =
        last.is_some_and(|i| explicit_edge(kind, &view.payload(i)) == Some(false));
    let at_end = view.between(end, end.saturating_add(1));
    let (end_ns, end_slack_ns, closed_by) = match last {
        Some(l) if closed_explicitly => (view.ts(l), 0, last),
        Some(l) if at_end.iter().any(|&i| shows_over(view, kind, i)) => {
            (end, end - view.ts(l), last)
        }
        _ => {
            // Cut by a gap or the end of the data: it ends at its last event, the one at `end`.
            truncated = truncated.or(Some(end_truncation(view, end)));
            (end, 0, at_end.last().copied().or(last))
        }
    };
    let (pid, comm) = opened_by.map_or((0, StrId::EMPTY), |i| view.task_of(i));
    Section {
        kind,
        start_ns: start,
        end_ns,
        cpu: view.cpu as u32,
        pid,
        comm,
        source: Source::None,
        opened_by,
        closed_by,
        start_slack_ns,
        end_slack_ns,
        unseen_ns: view.unseen(inside, start, end_ns),
        truncated,
    }
}

/// Why a section still on at `end` stopped being seen: lost events right after, or the end of
/// the CPU's data.
fn end_truncation(view: &CpuView<'_>, end: u64) -> Truncation {
    match view.first_after(end) {
        None => Truncation::EndOfData,
        Some(_) => Truncation::LostEvents,
    }
}

fn sampled_sections(
    view: &CpuView<'_>,
    kind: LatencyKind,
    lane: &IntervalLane<EventIdx>,
    out: &mut Vec<Section>,
) {
    for s in lane.iter() {
        split_at_enables(view, kind, s.start_ns, s.end_ns, out);
    }
}

/// The flags cannot tell an interrupt taken right at an explicit enable from the section
/// before it (both show irqs off): the enable ends one section, and the next event showing
/// the state begins another.
fn split_at_enables(
    view: &CpuView<'_>,
    kind: LatencyKind,
    start: u64,
    end: u64,
    out: &mut Vec<Section>,
) {
    let inside = view.between(start, end);
    let (mut from, mut from_ts) = (0, start);
    for (k, &i) in inside.iter().enumerate() {
        if k + 1 < inside.len() && explicit_edge(kind, &view.payload(i)) == Some(false) {
            out.push(sampled_section(view, kind, &inside[from..=k], from_ts, end));
            from = k + 1;
            from_ts = view.ts(inside[from]);
        }
    }
    out.push(sampled_section(view, kind, &inside[from..], from_ts, end));
}

/// Preempt-off: the lane splits a section where the depth changes; a section is a run of
/// adjacent intervals.
fn preempt_sections(view: &CpuView<'_>, out: &mut Vec<Section>) {
    let mut run: Option<(u64, u64)> = None;
    for s in view.lanes.preempt_off.iter() {
        run = match run {
            Some((start, end)) if end == s.start_ns => Some((start, s.end_ns)),
            Some((start, end)) => {
                split_at_enables(view, LatencyKind::PreemptOff, start, end, out);
                Some((s.start_ns, s.end_ns))
            }
            None => Some((s.start_ns, s.end_ns)),
        };
    }
    if let Some((start, end)) = run {
        split_at_enables(view, LatencyKind::PreemptOff, start, end, out);
    }
}

fn is_entry(kind: LatencyKind, p: &PayloadView<'_>) -> bool {
    match kind {
        LatencyKind::Hardirq => matches!(
            p,
            Payload::IrqHandlerEntry { .. } | Payload::IrqVectorEntry { .. }
        ),
        LatencyKind::Softirq => matches!(p, Payload::SoftirqEntry { .. }),
        _ => false,
    }
}

fn is_exit(kind: LatencyKind, p: &PayloadView<'_>) -> bool {
    match kind {
        LatencyKind::Hardirq => matches!(
            p,
            Payload::IrqHandlerExit { .. } | Payload::IrqVectorExit { .. }
        ),
        LatencyKind::Softirq => matches!(p, Payload::SoftirqExit { .. }),
        _ => false,
    }
}

/// Interrupt frames run from the first to the last event seen in them (`[start, end]`); the
/// real exit lies before the CPU's next event.
fn frame_sections<T>(
    view: &CpuView<'_>,
    kind: LatencyKind,
    lane: &IntervalLane<T>,
    out: &mut Vec<Section>,
    source: impl Fn(&T) -> Source,
) {
    for f in lane.iter() {
        let inside = view.between(f.start_ns, f.end_ns.saturating_add(1));
        let (opened_by, closed_by) = (inside.first().copied(), inside.last().copied());
        let entered = opened_by.is_some_and(|i| is_entry(kind, &view.payload(i)));
        let exited = closed_by.is_some_and(|i| is_exit(kind, &view.payload(i)));
        let (start_slack_ns, mut truncated) = if entered {
            (0, None)
        } else {
            view.sampled_start(f.start_ns)
        };
        let end_slack_ns = if exited {
            0
        } else {
            match view.first_after(f.end_ns) {
                Some(next) if !view.lost_between(f.end_ns, view.ts(next)) => {
                    view.ts(next) - f.end_ns
                }
                _ => {
                    truncated = truncated.or(Some(end_truncation(view, f.end_ns)));
                    0
                }
            }
        };
        let (pid, comm) = opened_by.map_or((0, StrId::EMPTY), |i| view.task_of(i));
        out.push(Section {
            kind,
            start_ns: f.start_ns,
            end_ns: f.end_ns,
            cpu: view.cpu as u32,
            pid,
            comm,
            source: source(f.value),
            opened_by,
            closed_by,
            start_slack_ns,
            end_slack_ns,
            unseen_ns: view.unseen(inside, f.start_ns, f.end_ns),
            truncated,
        });
    }
}
