//! The single time-ordered pass that builds a [`ContextModel`]: per-CPU frame stacks and
//! sampled state, lock holds per holder (a task, or one interrupt level of one CPU) and sleep
//! calls with the context at the call.

use super::calibrate::{Baselines, function_of};
use super::lanes::IntervalLane;
use super::locks::{
    ClassId, HoldIdx, HolderContext, LockClass, LockHold, LockId, LockInstance, LockMode,
    NameSource,
};
use super::primitives::{
    Classifier, LockOp, SleepEntry, base_name, gfp_blocks, is_pseudo_lock, lock_op,
    lockdep_validates,
};
use super::{
    BuildOptions, ContextModel, CpuLanes, Gfp, HardirqSpan, HoldSpan, PreemptSpan, Sidecar,
    SleepCall, SleepKind, SoftirqSpan, TaskSpan, UnknownReason,
};
use crate::flags::ContextFlags;
use crate::payload::{Payload, PayloadView};
use crate::store::{EventIdx, EventStore, EventTypeId};
use crate::strings::ExtendedInterner;
use crate::symbols::{SymbolKind, SymbolTable};
use crate::{IrqContext, StrId};
use rustc_hash::FxHashMap;

mod call_stack;
mod frames;
mod lock_tracking;
mod sleep_tracking;

/// Interrupt levels that own holds on a CPU, above the task.
const SOFTIRQ: usize = 0;
const HARDIRQ: usize = 1;
const NMI: usize = 2;

/// The state an event sampled in its context.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    depth: Option<u8>,
    excess: Option<u8>,
    irqs_off: Option<bool>,
    bh_off: Option<bool>,
}

/// The last lock primitive a context entered (function tracer), waiting for its lock event.
#[derive(Clone, Copy, Debug)]
struct Pending {
    op: LockOp,
    parent: StrId,
}

/// What one holder (a task, or one interrupt level of a CPU) holds and is doing.
#[derive(Clone, Debug, Default)]
struct Holder {
    held: Vec<HoldIdx>,
    pending: Option<Pending>,
    /// The innermost function the context is known to be in (function tracer).
    current_fn: StrId,
    /// State at the last event the context's own code emitted (not scheduler internals).
    last_sample: Option<Sample>,
    /// State at the last function-tracer entry outside the scheduler: what a real sleep
    /// without a traced might-sleep call or scheduler entry is judged by. (A lock event just
    /// before `schedule()` is often the release inside `spin_unlock_irq`, still with irqs
    /// off and the lock's preempt level.)
    checkpoint: Option<call_stack::Checkpoint>,
    /// The context's call stack, from the function tracer's (function, caller) pairs.
    stack: call_stack::CallStack,
    /// The outermost might-sleep call in progress.
    sleep_root: Option<u32>,
    /// How far the stack and the events since show `sleep_root` still in progress.
    root_track: sleep_tracking::RootTrack,
    /// The hold the context's last lock event created, for contention events without the
    /// lockdep map address.
    last_hold: Option<HoldIdx>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    Task(i64),
    Slot(usize, usize),
}

#[derive(Clone, Copy, Debug)]
struct OpenFrame<T> {
    start: u64,
    last: u64,
    value: T,
}

#[derive(Clone, Debug, Default)]
struct CpuTrack {
    seen: bool,
    last_ts: u64,
    task: Option<(u64, TaskSpan)>,
    softirq: Option<OpenFrame<SoftirqSpan>>,
    hardirq: Option<OpenFrame<HardirqSpan>>,
    nmi: Option<OpenFrame<()>>,
    slots: [Holder; 3],
    irqs_off: Option<(u64, EventIdx)>,
    bh_off: Option<(u64, EventIdx)>,
    preempt: Option<(u64, PreemptSpan)>,
    unknown: Option<(u64, UnknownReason)>,
    lanes: CpuLanes,
    gaps: Vec<u64>,
    next_gap: usize,
}

/// Where a hold came from: lockdep events report only successful acquisitions, kprobes on
/// the primitive's entry report attempts too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HoldSource {
    Lockdep,
    Probe,
}

/// Builder-only facts per hold.
#[derive(Clone, Copy, Debug)]
struct HoldWork {
    source: HoldSource,
    /// Recorded depths before and at the acquire, to infer an unnamed lock's mode.
    depth_before: Option<u8>,
    depth_at_acquire: Option<u8>,
}

pub(super) struct Builder<'a> {
    store: &'a EventStore,
    baselines: &'a Baselines,
    sidecar: Option<&'a Sidecar>,
    model: ContextModel,
    lock_ids: FxHashMap<u64, LockId>,
    class_ids: FxHashMap<StrId, ClassId>,
    cpus: Vec<CpuTrack>,
    tasks: FxHashMap<i64, Holder>,
    work: Vec<HoldWork>,
    first_ts: u64,
    switch_type: Option<EventTypeId>,
    bh_visible: bool,
    markers_seen: bool,
    /// A might-sleep marker was seen inside an allocation: this trace shows them there.
    markers_in_allocations: bool,
    classes: Classifier,
}

/// A task's key: pid, except that every CPU has its own idle task with pid 0.
fn task_key(pid: i32, cpu: usize) -> i64 {
    if pid == 0 {
        -(cpu as i64) - 1
    } else {
        i64::from(pid)
    }
}

/// Events whose recorded state is that of the code that emitted them, not of a scheduler,
/// timer or wakeup internal that runs with its own locks and irqs off.
fn is_caller_sample(p: &PayloadView<'_>) -> bool {
    matches!(
        p,
        Payload::Function { .. }
            | Payload::FuncGraphEntry { .. }
            | Payload::LockAcquire { .. }
            | Payload::LockRelease { .. }
            | Payload::LockProbe { .. }
            | Payload::Print { .. }
            | Payload::IrqDisable { .. }
            | Payload::IrqEnable { .. }
            | Payload::PreemptDisable { .. }
            | Payload::PreemptEnable { .. }
            | Payload::WorkqueueExecuteStart { .. }
            | Payload::WorkqueueExecuteEnd { .. }
    )
}

impl<'a> Builder<'a> {
    pub(super) fn new(
        store: &'a EventStore,
        opts: &'a BuildOptions,
        baselines: &'a Baselines,
    ) -> Builder<'a> {
        let mut cpus = vec![CpuTrack::default(); store.cpu_count()];
        for gap in &store.meta.lost {
            if let Some(c) = cpus.get_mut(gap.cpu as usize) {
                c.gaps.push(gap.ts);
            }
        }
        let bh_visible = store.flags().iter().any(|f| f.bh_off() == Some(true))
            || store
                .meta
                .kernel_release()
                .is_some_and(|k| k.at_least(5, 18));
        let model = ContextModel {
            strings: ExtendedInterner::over(store.strings.clone()),
            ..ContextModel::default()
        };
        Builder {
            store,
            baselines,
            sidecar: opts.kallsyms.as_ref(),
            model,
            lock_ids: FxHashMap::default(),
            class_ids: FxHashMap::default(),
            cpus,
            tasks: FxHashMap::default(),
            work: Vec::new(),
            first_ts: store.time_span().map_or(0, |s| s.0),
            switch_type: store.event_type_id("sched_switch"),
            bh_visible,
            markers_seen: false,
            markers_in_allocations: false,
            classes: Classifier::default(),
        }
    }

    pub(super) fn run(mut self) -> ContextModel {
        for i in 0..self.store.len() as EventIdx {
            self.event(i);
        }
        self.finish()
    }

    fn holder(&mut self, owner: Owner) -> &mut Holder {
        match owner {
            Owner::Task(key) => self.tasks.entry(key).or_default(),
            Owner::Slot(cpu, slot) => &mut self.cpus[cpu].slots[slot],
        }
    }

    fn event(&mut self, i: EventIdx) {
        let store = self.store;
        let u = i as usize;
        let ts = store.ts()[u];
        let cpu = usize::from(store.cpus()[u]);
        let pid = store.pids()[u];
        let flags = store.flags()[u];
        let is_switch = Some(store.event_types()[u]) == self.switch_type;
        let payload = store.payload(i);

        self.enter_cpu(cpu, ts, flags, is_switch);
        self.open_explicit_frames(cpu, ts, i, &payload);
        if !is_switch {
            self.reconcile_frames(cpu, ts, flags);
        }
        self.close_explicit_frames(cpu, ts, flags, &payload);
        let context = self.top_frame(cpu);
        self.touch_frame(cpu, context, ts);
        if !is_switch {
            self.follow_task(cpu, ts, pid, i);
        }
        let owner = match context {
            HolderContext::Softirq => Owner::Slot(cpu, SOFTIRQ),
            HolderContext::Hardirq => Owner::Slot(cpu, HARDIRQ),
            HolderContext::Nmi => Owner::Slot(cpu, NMI),
            _ => Owner::Task(task_key(pid, cpu)),
        };
        let sample = Sample {
            depth: flags.preempt_depth(),
            excess: self.baselines.excess(store, i, function_of(&payload)),
            irqs_off: flags.irqs_off(),
            bh_off: flags.bh_off().filter(|_| self.bh_visible),
        };
        let before = self.holder(owner).last_sample;
        if flags.recorded() && !is_switch {
            self.sample_lanes(cpu, ts, i, flags, sample);
            self.sample_holds(owner, sample);
        }
        let at = At {
            i,
            ts,
            cpu,
            pid,
            owner,
            context,
            flags,
            sample,
            before,
        };
        if !is_switch
            && !matches!(
                payload,
                Payload::Function { .. } | Payload::FuncGraphEntry { .. }
            )
        {
            self.other_event(&at, &payload);
        }
        self.payload(&at, &payload);
        if flags.recorded() && is_caller_sample(&payload) {
            self.holder(owner).last_sample = Some(sample);
        }
    }

    fn payload(&mut self, at: &At, p: &PayloadView<'_>) {
        match *p {
            Payload::SchedSwitch {
                prev_pid,
                prev_state,
                next_pid,
                next_comm,
                prev_comm,
                ..
            } => {
                let c = &mut self.cpus[at.cpu];
                if let Some((start, span)) = c.task.take() {
                    c.lanes.tasks.push(start, at.ts, span);
                }
                c.task = Some((
                    at.ts,
                    TaskSpan {
                        pid: next_pid,
                        comm: next_comm,
                    },
                ));
                if prev_state.is_sleep() {
                    self.real_sleep(at, task_key(prev_pid, at.cpu), prev_comm, prev_state);
                }
            }
            Payload::Function { func, parent } => self.function_entry(at, func, parent),
            Payload::FuncGraphEntry { func, .. } => self.function_entry(at, func, StrId::EMPTY),
            Payload::LockAcquire { .. }
            | Payload::LockRelease { .. }
            | Payload::LockContended { .. }
            | Payload::LockAcquired { .. }
            | Payload::ContentionBegin { .. }
            | Payload::ContentionEnd { .. }
            | Payload::LockProbe { .. } => self.lock_event(at, p),
            Payload::Fields(ref fields) => self.allocation_event(at, fields.clone()),
            _ => {}
        }
    }

    fn finish(mut self) -> ContextModel {
        let last_ts = self.store.time_span().map_or(0, |s| s.1);
        for cpu in 0..self.cpus.len() {
            self.close_frames(cpu, [true; 3]);
            let c = &mut self.cpus[cpu];
            let end = c.last_ts;
            if let Some((start, span)) = c.task.take() {
                c.lanes.tasks.push(start, end, span);
            }
            frames::close_sampled(c, end);
            if let Some((start, why)) = c.unknown.take() {
                c.lanes.unknown.push(start, end, why);
            }
        }
        for span in &mut self.model.hold_spans {
            if span.end_ns == u64::MAX {
                span.end_ns = last_ts;
            }
        }
        if self.markers_in_allocations {
            // This trace shows the might_sleep marker inside blocking allocations: one
            // without it did not block.
            for call in &mut self.model.sleep_calls {
                if call.gfp == Gfp::Unknown && call.root.is_none() {
                    call.gfp = Gfp::NonBlocking;
                }
            }
        }
        self.model.build_stats.might_sleep_markers = self.markers_seen;
        self.model.build_stats.bh_visible = self.bh_visible;
        self.model.cpus = self.cpus.into_iter().map(|c| c.lanes).collect();
        self.model
    }
}

/// Where and in what state one event happened.
#[derive(Clone, Copy, Debug)]
struct At {
    i: EventIdx,
    ts: u64,
    cpu: usize,
    pid: i32,
    owner: Owner,
    context: HolderContext,
    flags: ContextFlags,
    sample: Sample,
    /// The context's state at its previous own event.
    before: Option<Sample>,
}
