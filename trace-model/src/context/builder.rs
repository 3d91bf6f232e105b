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
};
use super::{
    BuildOptions, ContextModel, CpuLanes, Gfp, HardirqSpan, HoldSpan, PreemptSpan, Sidecar,
    SleepCall, SleepKind, SoftirqSpan, TaskSpan, UnknownReason,
};
use crate::flags::ContextFlags;
use crate::payload::{Payload, PayloadView};
use crate::store::{EventIdx, EventStore, EventTypeId};
use crate::symbols::{SymbolKind, SymbolTable};
use crate::{IrqContext, StrId};
use rustc_hash::FxHashMap;

/// How far into a data object a lock address may point and still be named after it (a lock
/// embedded in a static structure; lockdep's map sits a few words into the lock).
const MAX_SYMBOL_OFFSET: u64 = 0x200;

/// lockdep's contention_begin flags (include/trace/events/lock.h).
const LCB_F_SPIN: u32 = 1;
const LCB_F_READ: u32 = 2;
const LCB_F_WRITE: u32 = 4;
const LCB_F_RT: u32 = 8;
const LCB_F_PERCPU: u32 = 16;
const LCB_F_MUTEX: u32 = 32;

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
    /// State at the last function-tracer entry: what a real sleep without a traced
    /// might-sleep call is judged by. (A lock event just before `schedule()` is often the
    /// release inside `spin_unlock_irq`, still with irqs off and the lock's preempt level.)
    last_call_sample: Option<Sample>,
    /// The outermost might-sleep call in progress.
    sleep_root: Option<u32>,
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

fn contention_mode(flags: u32) -> LockMode {
    let (spin, read, write) = (
        flags & LCB_F_SPIN != 0,
        flags & LCB_F_READ != 0,
        flags & LCB_F_WRITE != 0,
    );
    if flags & (LCB_F_MUTEX | LCB_F_RT) != 0 {
        LockMode::Mutex
    } else if spin && read {
        LockMode::RwlockRead
    } else if spin && write {
        LockMode::RwlockWrite
    } else if read || flags & LCB_F_PERCPU != 0 {
        LockMode::RwsemRead
    } else if write {
        LockMode::RwsemWrite
    } else if spin {
        LockMode::Spin
    } else {
        LockMode::Unknown
    }
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
                .kernel_version
                .as_deref()
                .is_some_and(|v| kernel_at_least(v, 5, 18));
        let model = ContextModel {
            strings: store.strings.clone(),
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
            self.follow_task(cpu, ts, pid, store.comms()[u]);
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
        self.payload(&at, &payload);
        if flags.recorded() && is_caller_sample(&payload) {
            let h = self.holder(owner);
            h.last_sample = Some(sample);
            if matches!(
                payload,
                Payload::Function { .. } | Payload::FuncGraphEntry { .. }
            ) {
                h.last_call_sample = Some(sample);
            }
        }
    }

    /// Gaps, the start of a CPU's data and unknown ranges.
    fn enter_cpu(&mut self, cpu: usize, ts: u64, flags: ContextFlags, is_switch: bool) {
        let c = &mut self.cpus[cpu];
        let mut gap = false;
        while c.next_gap < c.gaps.len() && c.gaps[c.next_gap] <= ts {
            gap |= c.seen;
            c.next_gap += 1;
        }
        if !c.seen {
            c.seen = true;
            c.unknown = Some((self.first_ts, UnknownReason::StartOfData));
        } else if gap {
            let at = c.last_ts;
            self.lose_state(cpu, at);
            self.cpus[cpu].unknown = Some((at, UnknownReason::LostEvents));
        }
        let c = &mut self.cpus[cpu];
        if (flags.recorded() || is_switch)
            && let Some((start, why)) = c.unknown.take()
            && ts > start
        {
            c.lanes.unknown.push(start, ts, why);
        }
        c.last_ts = ts;
    }

    /// Lost events on `cpu` after `at`: nothing carried across the gap. Frames, sampled
    /// intervals and the running task end at the last event before it; holds of the CPU's
    /// interrupt levels and of the task that was running stop being known.
    fn lose_state(&mut self, cpu: usize, at: u64) {
        self.close_frames(cpu, [true; 3]);
        let c = &mut self.cpus[cpu];
        if let Some((start, span)) = c.task.take() {
            c.lanes.tasks.push(start, at, span);
        }
        close_sampled(c, at);
        let mut lost: Vec<HoldIdx> = Vec::new();
        for slot in &mut c.slots {
            lost.append(&mut slot.held);
            *slot = Holder::default();
        }
        let running = c.lanes.tasks.iter().last().map(|t| t.value.pid);
        if let Some(pid) = running {
            let h = self.holder(Owner::Task(task_key(pid, cpu)));
            lost.append(&mut h.held);
            *h = Holder::default();
        }
        for h in lost {
            self.model.hold_spans[h as usize].end_ns = at;
        }
    }

    fn open_explicit_frames(&mut self, cpu: usize, ts: u64, i: EventIdx, p: &PayloadView<'_>) {
        let c = &mut self.cpus[cpu];
        match *p {
            Payload::SoftirqEntry { vec } => {
                if let Some(f) = c.softirq.as_mut().filter(|f| f.value.vec.is_none()) {
                    f.value.vec = Some(vec);
                } else {
                    self.close_frames(cpu, [true, false, false]);
                    self.cpus[cpu].softirq = Some(OpenFrame {
                        start: ts,
                        last: ts,
                        value: SoftirqSpan { vec: Some(vec) },
                    });
                }
            }
            Payload::IrqHandlerEntry { irq, name } => {
                self.label_hardirq(cpu, ts, Some(irq), name);
            }
            Payload::IrqVectorEntry { .. } => {
                let name = self.store.type_name(self.store.event_types()[i as usize]);
                let name = name.strip_suffix("_entry").unwrap_or(name);
                let id = self.model.strings.intern(name);
                self.label_hardirq(cpu, ts, None, id);
            }
            _ => {}
        }
    }

    fn label_hardirq(&mut self, cpu: usize, ts: u64, irq: Option<i32>, name: StrId) {
        let c = &mut self.cpus[cpu];
        match c.hardirq.as_mut() {
            Some(f) if f.value.irq.is_none() && f.value.name == StrId::EMPTY => {
                f.value = HardirqSpan { irq, name };
            }
            Some(_) => {}
            None => {
                c.hardirq = Some(OpenFrame {
                    start: ts,
                    last: ts,
                    value: HardirqSpan { irq, name },
                })
            }
        }
    }

    /// Exits: softirq_exit ends its vector; a handler exit ends the hardirq only when the
    /// trace has no flags to tell when the interrupt really returned.
    fn close_explicit_frames(
        &mut self,
        cpu: usize,
        ts: u64,
        flags: ContextFlags,
        p: &PayloadView<'_>,
    ) {
        let c = &mut self.cpus[cpu];
        match p {
            Payload::SoftirqExit { .. } => {
                if let Some(f) = c.softirq.as_mut() {
                    f.last = ts;
                }
                self.close_frames(cpu, [true, false, false]);
            }
            Payload::IrqHandlerExit { .. } | Payload::IrqVectorExit { .. } if !flags.recorded() => {
                if let Some(f) = c.hardirq.as_mut() {
                    f.last = ts;
                }
                self.close_frames(cpu, [false, true, false]);
            }
            _ => {}
        }
    }

    /// The flags name the interrupt levels the CPU is in: open the missing ones (inferred)
    /// and close the ones that ended.
    fn reconcile_frames(&mut self, cpu: usize, ts: u64, flags: ContextFlags) {
        let Some(ctx) = flags.irq_context() else {
            return;
        };
        let (soft, hard) = match ctx {
            IrqContext::Task => (false, false),
            IrqContext::Softirq => (true, false),
            IrqContext::Hardirq => (false, true),
            IrqContext::HardirqInSoftirq => (true, true),
            IrqContext::Nmi | IrqContext::NmiInHardirq => {
                let c = &mut self.cpus[cpu];
                if c.nmi.is_none() {
                    c.nmi = Some(OpenFrame {
                        start: ts,
                        last: ts,
                        value: (),
                    });
                }
                return;
            }
        };
        let c = &self.cpus[cpu];
        let close = [
            !soft && c.softirq.is_some(),
            !hard && c.hardirq.is_some(),
            c.nmi.is_some(),
        ];
        self.close_frames(cpu, close);
        let c = &mut self.cpus[cpu];
        if soft && c.softirq.is_none() {
            c.softirq = Some(OpenFrame {
                start: ts,
                last: ts,
                value: SoftirqSpan { vec: None },
            });
        }
        if hard && c.hardirq.is_none() {
            c.hardirq = Some(OpenFrame {
                start: ts,
                last: ts,
                value: HardirqSpan {
                    irq: None,
                    name: StrId::EMPTY,
                },
            });
        }
    }

    /// Closes the chosen levels (softirq, hardirq, NMI) at the last event seen in each; holds
    /// still open there stop being known at that point.
    fn close_frames(&mut self, cpu: usize, which: [bool; 3]) {
        let c = &mut self.cpus[cpu];
        let mut ends = [None; 3];
        if which[SOFTIRQ]
            && let Some(f) = c.softirq.take()
        {
            c.lanes.softirq.push(f.start, f.last, f.value);
            ends[SOFTIRQ] = Some(f.last);
        }
        if which[HARDIRQ]
            && let Some(f) = c.hardirq.take()
        {
            c.lanes.hardirq.push(f.start, f.last, f.value);
            ends[HARDIRQ] = Some(f.last);
        }
        if which[NMI]
            && let Some(f) = c.nmi.take()
        {
            c.lanes.nmi.push(f.start, f.last, ());
            ends[NMI] = Some(f.last);
        }
        for (slot, end) in ends.into_iter().enumerate() {
            let Some(end) = end else { continue };
            let holder = std::mem::take(&mut self.cpus[cpu].slots[slot]);
            for h in holder.held {
                self.model.hold_spans[h as usize].end_ns = end;
                self.model.build_stats.unreleased_at_irq_exit += 1;
            }
        }
    }

    fn top_frame(&self, cpu: usize) -> HolderContext {
        let c = &self.cpus[cpu];
        if c.nmi.is_some() {
            HolderContext::Nmi
        } else if c.hardirq.is_some() {
            HolderContext::Hardirq
        } else if c.softirq.is_some() {
            HolderContext::Softirq
        } else {
            HolderContext::Task
        }
    }

    fn touch_frame(&mut self, cpu: usize, context: HolderContext, ts: u64) {
        let c = &mut self.cpus[cpu];
        let last = match context {
            HolderContext::Nmi => c.nmi.as_mut().map(|f| &mut f.last),
            HolderContext::Hardirq => c.hardirq.as_mut().map(|f| &mut f.last),
            HolderContext::Softirq => c.softirq.as_mut().map(|f| &mut f.last),
            _ => None,
        };
        if let Some(last) = last {
            *last = ts;
        }
    }

    /// `common_pid` always names the CPU's current task (also inside interrupts).
    fn follow_task(&mut self, cpu: usize, ts: u64, pid: i32, comm: StrId) {
        let c = &mut self.cpus[cpu];
        if c.task.is_some_and(|(_, t)| t.pid == pid) {
            return;
        }
        if let Some((start, span)) = c.task.take() {
            c.lanes.tasks.push(start, ts, span);
        }
        c.task = Some((ts, TaskSpan { pid, comm }));
    }

    fn sample_lanes(
        &mut self,
        cpu: usize,
        ts: u64,
        i: EventIdx,
        flags: ContextFlags,
        sample: Sample,
    ) {
        let c = &mut self.cpus[cpu];
        toggle(
            &mut c.irqs_off,
            &mut c.lanes.irqs_off,
            sample.irqs_off,
            ts,
            i,
        );
        toggle(&mut c.bh_off, &mut c.lanes.bh_off, sample.bh_off, ts, i);
        let Some(excess) = sample.excess else { return };
        let depth = flags.preempt_depth().unwrap_or(0);
        if c.preempt.is_some_and(|(_, p)| p.excess == excess) {
            return;
        }
        if let Some((start, span)) = c.preempt.take() {
            c.lanes.preempt_off.push(start, ts, span);
        }
        if excess > 0 {
            c.preempt = Some((
                ts,
                PreemptSpan {
                    excess,
                    depth,
                    first: i,
                },
            ));
        }
    }

    /// lockdep's "enabled while held": irqs (BH) seen on in the holder's own context.
    fn sample_holds(&mut self, owner: Owner, sample: Sample) {
        let held = std::mem::take(&mut self.holder(owner).held);
        for &h in &held {
            let hold = &mut self.model.locks.holds[h as usize];
            if sample.irqs_off == Some(false) {
                hold.hardirqs_enabled_while_held = Some(true);
            }
            // Serving a softirq keeps softirqs off whatever the BH count says.
            let in_task = matches!(owner, Owner::Task(_));
            if in_task && sample.bh_off == Some(false) && sample.irqs_off == Some(false) {
                hold.softirqs_enabled_while_held = Some(true);
            }
        }
        self.holder(owner).held = held;
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
                    self.real_sleep(at, task_key(prev_pid, at.cpu), prev_comm);
                }
            }
            Payload::Function { func, parent } => self.function_entry(at, func, parent),
            Payload::FuncGraphEntry { func, .. } => self.function_entry(at, func, StrId::EMPTY),
            Payload::LockAcquire {
                addr,
                name,
                trylock,
                read,
            } => self.lockdep_acquire(at, addr, name, trylock, read),
            Payload::LockRelease { addr, .. } => self.release(at, addr),
            Payload::LockContended { addr, .. } => {
                if let Some(h) = self.find_held(at.owner, addr) {
                    self.model.locks.holds[h as usize].contended_ts = Some(at.ts);
                }
            }
            Payload::LockAcquired { addr, .. } => {
                if let Some(h) = self.find_held(at.owner, addr) {
                    self.model.locks.holds[h as usize].acquired_ts = Some(at.ts);
                }
            }
            Payload::ContentionBegin { addr, flags } => {
                if let Some(h) = self.contended_hold(at.owner, addr) {
                    let hold = &mut self.model.locks.holds[h as usize];
                    hold.contended_ts.get_or_insert(at.ts);
                    if hold.mode == LockMode::Unknown {
                        hold.mode = contention_mode(flags);
                    }
                }
            }
            Payload::ContentionEnd { addr, .. } => {
                if let Some(h) = self.contended_hold(at.owner, addr) {
                    let hold = &mut self.model.locks.holds[h as usize];
                    if hold.contended_ts.is_some() {
                        hold.acquired_ts.get_or_insert(at.ts);
                    }
                }
            }
            Payload::LockProbe { addr, probed } => self.lock_probe(at, addr, probed),
            Payload::Fields(ref fields) => self.allocation_event(at, fields.clone()),
            _ => {}
        }
    }

    fn function_entry(&mut self, at: &At, func: StrId, parent: StrId) {
        let strings = &self.store.strings;
        let class = self.classes.get(strings, func);
        let parent_is_primitive = self.classes.get(strings, parent).is_primitive();
        let (entry, op) = (class.sleep, class.lock);
        if entry == Some(SleepEntry::Marker) {
            self.markers_seen = true;
        }
        if let Some(entry) = entry {
            let root = self.holder(at.owner).sleep_root;
            let nested = root.is_some() && (entry == SleepEntry::Marker || parent_is_primitive);
            let call = self.sleep_call(at, SleepKind::Call(entry), func, parent);
            match root.filter(|_| nested) {
                Some(r) => {
                    self.model.sleep_calls[call as usize].root = Some(r);
                    let root = &mut self.model.sleep_calls[r as usize];
                    if entry == SleepEntry::Marker && root.gfp == Gfp::Unknown {
                        root.gfp = Gfp::Blocking;
                    }
                }
                None => self.holder(at.owner).sleep_root = Some(call),
            }
        } else if class.schedule_bug {
            // The kernel's own "scheduling while atomic" (kernel/sched/core.c).
            if let Some(r) = self.holder(at.owner).sleep_root {
                self.model.sleep_calls[r as usize].schedule_bug = Some(at.i);
            }
        } else if op.is_none() {
            self.holder(at.owner).sleep_root = None;
        }
        let h = self.holder(at.owner);
        match op {
            Some(op) => {
                h.pending = Some(Pending { op, parent });
            }
            None if entry.is_none() => h.pending = None,
            None => {}
        }
        if entry.is_some() || op.is_some() {
            if !parent_is_primitive && parent != StrId::EMPTY {
                h.current_fn = parent;
            }
        } else {
            h.current_fn = func;
        }
    }

    fn sleep_call(&mut self, at: &At, kind: SleepKind, func: StrId, caller: StrId) -> u32 {
        let held = self.holder(at.owner).held.clone();
        let start = self.model.held_at_call.len() as u32;
        self.model.held_at_call.extend(held);
        let end = self.model.held_at_call.len() as u32;
        let call = SleepCall {
            event: at.i,
            ts: at.ts,
            cpu: at.cpu as u32,
            pid: at.pid,
            kind,
            func,
            caller,
            context: at.context,
            excess_depth: at.sample.excess,
            depth: at.flags.preempt_depth(),
            irqs_off: at.sample.irqs_off,
            bh_off: at.sample.bh_off,
            held: start..end,
            gfp: if kind == SleepKind::Call(SleepEntry::Allocation) {
                Gfp::Unknown
            } else {
                Gfp::NotAllocation
            },
            root: None,
            slept: None,
            schedule_bug: None,
        };
        self.model.sleep_calls.push(call);
        (self.model.sleep_calls.len() - 1) as u32
    }

    /// `sched_switch` left `prev` sleeping: attach the sleep to the call in progress, or
    /// record it with the state of the task's last own event.
    fn real_sleep(&mut self, at: &At, prev: i64, prev_comm: StrId) {
        let owner = Owner::Task(prev);
        let h = self.holder(owner);
        let root = h.sleep_root.take();
        h.pending = None;
        let last = h.last_call_sample.unwrap_or_default();
        match root {
            Some(r) => self.model.sleep_calls[r as usize].slept = Some(at.i),
            None => {
                let at = At {
                    owner,
                    context: HolderContext::Task,
                    sample: last,
                    ..*at
                };
                let call = self.sleep_call(&at, SleepKind::RealSleep, prev_comm, StrId::EMPTY);
                let caller = self.holder(owner).current_fn;
                let c = &mut self.model.sleep_calls[call as usize];
                c.depth = None;
                c.slept = Some(at.i);
                c.caller = caller;
            }
        }
    }

    fn lockdep_acquire(&mut self, at: &At, addr: u64, name: StrId, trylock: bool, read: u8) {
        let n = self.store.str(name);
        // A pseudo-lock taken inside a lock primitive (fs_reclaim under mutex_lock's
        // allocation) must leave the primitive's pending call to the real lock.
        let pseudo = is_pseudo_lock(n) || read == 2 && n.starts_with("rcu");
        let pending = if pseudo {
            None
        } else {
            self.holder(at.owner).pending.take()
        };
        let named = match pending.map(|p| p.op) {
            Some(LockOp::Acquire { mode, .. }) => Some(mode),
            _ => None,
        };
        let mode = named.or_else(|| {
            if pseudo {
                return Some(LockMode::Pseudo);
            }
            let before = at.before?;
            if at.sample.irqs_off == Some(true) && before.irqs_off == Some(false) {
                Some(LockMode::SpinIrqsave)
            } else if at.sample.bh_off == Some(true) && before.bh_off == Some(false) {
                Some(LockMode::SpinBh)
            } else {
                None
            }
        });
        if self.store.str(name) == "fs_reclaim"
            && let Some(r) = self.holder(at.owner).sleep_root
            && self.model.sleep_calls[r as usize].gfp == Gfp::Unknown
        {
            // fs_reclaim_acquire() runs only for allocations that may enter direct reclaim.
            self.model.sleep_calls[r as usize].gfp = Gfp::Blocking;
        }
        let caller = pending.map_or(self.holder(at.owner).current_fn, |p| p.parent);
        self.acquire(
            at,
            addr,
            Some(name),
            mode.unwrap_or(LockMode::Unknown),
            trylock,
            read,
            caller,
            HoldSource::Lockdep,
        );
    }

    fn lock_probe(&mut self, at: &At, addr: u64, probed: StrId) {
        let event_name = self
            .store
            .type_name(self.store.event_types()[at.i as usize]);
        let op = self
            .classes
            .get(&self.store.strings, probed)
            .lock
            .or_else(|| lock_op(event_name));
        let Some(op) = op else { return };
        let pending = self.holder(at.owner).pending.take();
        let traced_too = pending.is_some_and(|p| p.op == op);
        match op {
            LockOp::Release => self.release(at, addr),
            LockOp::Acquire { mode, trylock } => {
                let caller = pending
                    .filter(|_| traced_too)
                    .map_or(self.holder(at.owner).current_fn, |p| p.parent);
                if mode.is_sleeping() && !trylock && !traced_too {
                    let func = if probed == StrId::EMPTY {
                        self.model.strings.intern(event_name)
                    } else {
                        self.model.strings.intern(base_name(self.store.str(probed)))
                    };
                    let call =
                        self.sleep_call(at, SleepKind::Call(SleepEntry::MaySleep), func, caller);
                    let h = self.holder(at.owner);
                    if h.sleep_root.is_none() {
                        h.sleep_root = Some(call);
                    }
                }
                let read = u8::from(matches!(mode, LockMode::RwlockRead | LockMode::RwsemRead));
                self.acquire(
                    at,
                    addr,
                    None,
                    mode,
                    trylock,
                    read,
                    caller,
                    HoldSource::Probe,
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn acquire(
        &mut self,
        at: &At,
        addr: u64,
        lockdep_name: Option<StrId>,
        mode: LockMode,
        trylock: bool,
        read: u8,
        caller: StrId,
        source: HoldSource,
    ) {
        // Acquiring a lock this context already holds through a trylock: that trylock failed.
        let stale = self.held_of(at.owner).iter().copied().find(|&h| {
            let hold = &self.model.locks.holds[h as usize];
            hold.trylock
                && self.work[h as usize].source == HoldSource::Probe
                && self.model.locks.locks[hold.lock.0 as usize].addr == addr
        });
        if let Some(h) = stale {
            self.drop_failed_trylock(at.owner, h);
        }
        let lock = self.lock_id(addr, lockdep_name);
        let held_before = self.holder(at.owner).held.clone();
        let hb_start = self.model.locks.held_before.len() as u32;
        self.model.locks.held_before.extend(&held_before);
        let hb_end = self.model.locks.held_before.len() as u32;
        let in_irq = matches!(at.context, HolderContext::Hardirq | HolderContext::Nmi);
        let irqs_off_after = matches!(mode, LockMode::SpinIrq | LockMode::SpinIrqsave)
            && source == HoldSource::Probe;
        let hardirqs_enabled = if in_irq || irqs_off_after {
            Some(false)
        } else {
            at.sample.irqs_off.map(|off| !off)
        };
        let softirqs_enabled = if at.context != HolderContext::Task || mode == LockMode::SpinBh {
            Some(false)
        } else if hardirqs_enabled == Some(false) {
            None
        } else {
            at.sample.bh_off.map(|off| !off)
        };
        let hold = LockHold {
            lock,
            mode,
            trylock,
            read,
            cpu: at.cpu as u32,
            pid: at.pid,
            context: at.context,
            acquire_ts: at.ts,
            acquire_event: at.i,
            contended_ts: None,
            acquired_ts: None,
            release_ts: None,
            release_event: None,
            caller: (caller != StrId::EMPTY).then_some(caller),
            hardirqs_enabled,
            softirqs_enabled,
            hardirqs_enabled_while_held: hardirqs_enabled,
            softirqs_enabled_while_held: softirqs_enabled,
            held_before: hb_start..hb_end,
        };
        let idx = self.model.locks.holds.len() as HoldIdx;
        self.model.locks.holds.push(hold);
        self.model.hold_spans.push(HoldSpan {
            end_ns: u64::MAX,
            mode_inferred: false,
        });
        self.work.push(HoldWork {
            source,
            depth_before: at.before.and_then(|b| b.depth),
            depth_at_acquire: at.sample.depth,
        });
        let h = self.holder(at.owner);
        h.held.push(idx);
        h.last_hold = Some(idx);
    }

    fn drop_failed_trylock(&mut self, owner: Owner, h: HoldIdx) {
        let holder = self.holder(owner);
        holder.held.retain(|&x| x != h);
        let acquired = self.model.locks.holds[h as usize].acquire_ts;
        self.model.hold_spans[h as usize].end_ns = acquired;
        self.model.build_stats.failed_trylocks += 1;
    }

    fn held_of(&self, owner: Owner) -> &[HoldIdx] {
        match owner {
            Owner::Task(k) => self.tasks.get(&k).map_or(&[], |h| h.held.as_slice()),
            Owner::Slot(cpu, slot) => &self.cpus[cpu].slots[slot].held,
        }
    }

    fn find_held(&self, owner: Owner, addr: u64) -> Option<HoldIdx> {
        let locks = &self.model.locks;
        self.held_of(owner)
            .iter()
            .rev()
            .copied()
            .find(|&h| locks.locks[locks.holds[h as usize].lock.0 as usize].addr == addr)
    }

    /// contention_begin / end name the lock object, which lockdep's map address does not
    /// equal: match by address, else the hold the context's last lock event created, if it
    /// has not been obtained yet.
    fn contended_hold(&mut self, owner: Owner, addr: u64) -> Option<HoldIdx> {
        if let Some(h) = self.find_held(owner, addr) {
            return Some(h);
        }
        let holder = self.holder(owner);
        let last = holder.last_hold?;
        let open = holder.held.last() == Some(&last);
        let hold = &self.model.locks.holds[last as usize];
        (open
            && hold.acquired_ts.is_none()
            && self.work[last as usize].source == HoldSource::Lockdep)
            .then_some(last)
    }

    fn release(&mut self, at: &At, addr: u64) {
        let mut found = self.find_held(at.owner, addr).map(|h| (at.owner, h));
        if found.is_none() {
            // Released by another level of this CPU (or the task under it).
            let cpu = at.cpu;
            let others = [
                Owner::Task(task_key(at.pid, cpu)),
                Owner::Slot(cpu, SOFTIRQ),
                Owner::Slot(cpu, HARDIRQ),
                Owner::Slot(cpu, NMI),
            ];
            found = others
                .into_iter()
                .find_map(|o| self.find_held(o, addr).map(|h| (o, h)));
        }
        let Some((owner, h)) = found else {
            self.model.build_stats.unmatched_releases += 1;
            return;
        };
        let holder = self.holder(owner);
        let pos = holder.held.iter().position(|&x| x == h).unwrap_or(0);
        let above: Vec<HoldIdx> = holder.held.drain(pos..).collect();
        // Trylocks above the released lock that are still open failed: the back-off path
        // unlocks what it held without unlocking them.
        for &x in &above[1..] {
            let is_failed_trylock = self.model.locks.holds[x as usize].trylock
                && self.work[x as usize].source == HoldSource::Probe;
            if is_failed_trylock {
                let acquired = self.model.locks.holds[x as usize].acquire_ts;
                self.model.hold_spans[x as usize].end_ns = acquired;
                self.model.build_stats.failed_trylocks += 1;
            } else {
                self.holder(owner).held.push(x);
            }
        }
        let hold = &mut self.model.locks.holds[h as usize];
        hold.release_ts = Some(at.ts);
        hold.release_event = Some(at.i);
        self.model.hold_spans[h as usize].end_ns = at.ts;
        let work = self.work[h as usize];
        if hold.mode == LockMode::Unknown
            && let (Some(acquired), Some(now)) = (work.depth_at_acquire, at.sample.depth)
            && now >= acquired
            && work.depth_before.map_or(acquired > 0, |was| acquired > was)
        {
            // The acquire raised the depth and it is still raised at the unlock: a spinning
            // lock. (A mutex's own preempt_disable ends when mutex_lock returns; an rwsem
            // never raises it.) lock:* events all record the depth the same way, so they
            // are compared with each other, not with a calibrated baseline.
            hold.mode = LockMode::Spin;
            self.model.hold_spans[h as usize].mode_inferred = true;
        }
    }

    /// kmem:kmalloc / kmem_cache_alloc / mm_page_alloc with `gfp_flags=`.
    fn allocation_event(&mut self, at: &At, fields: crate::payload::FieldIter<'_>) {
        let mut gfp = None;
        let mut call_site = None;
        for (key, value) in fields {
            match self.store.str(key) {
                "gfp_flags" => gfp = Some(value),
                "call_site" => call_site = Some(value),
                _ => {}
            }
        }
        let Some(gfp) = gfp else { return };
        let blocks = if gfp_blocks(gfp) {
            Gfp::Blocking
        } else {
            Gfp::NonBlocking
        };
        let root = self.holder(at.owner).sleep_root;
        match root {
            Some(r) if self.model.sleep_calls[r as usize].gfp == Gfp::Unknown => {
                self.model.sleep_calls[r as usize].gfp = blocks;
            }
            Some(_) => {}
            None if blocks == Gfp::Blocking => {
                let name = self
                    .store
                    .type_name(self.store.event_types()[at.i as usize]);
                let func = self.model.strings.intern(name);
                let caller = match call_site {
                    Some(site) => self.model.strings.intern(base_name(site)),
                    None => self.holder(at.owner).current_fn,
                };
                let call =
                    self.sleep_call(at, SleepKind::Call(SleepEntry::Allocation), func, caller);
                self.model.sleep_calls[call as usize].gfp = Gfp::Blocking;
            }
            None => {}
        }
    }

    fn lock_id(&mut self, addr: u64, lockdep_name: Option<StrId>) -> LockId {
        if let Some(&id) = self.lock_ids.get(&addr) {
            return id;
        }
        let (name, source) = match lockdep_name.filter(|&n| n != StrId::EMPTY) {
            Some(n) => (n, NameSource::Lockdep),
            None => match self.symbol_name(addr) {
                Some(n) => (n, NameSource::Kallsyms),
                None => (
                    self.model.strings.intern(&format!("{addr:#x}")),
                    NameSource::Address,
                ),
            },
        };
        let class = *self.class_ids.entry(name).or_insert_with(|| {
            self.model.locks.classes.push(LockClass { name, source });
            ClassId(self.model.locks.classes.len() as u32 - 1)
        });
        self.model.locks.locks.push(LockInstance { addr, class });
        let id = LockId(self.model.locks.locks.len() as u32 - 1);
        self.lock_ids.insert(addr, id);
        id
    }

    /// The data symbol at (or just below) `addr`: the trace's kallsyms, then the sidecar.
    /// The data symbol at `addr`, `symbol+0xoff` inside one: two locks in one struct stay
    /// two classes.
    fn symbol_name(&mut self, addr: u64) -> Option<StrId> {
        let (name, offset) = match data_symbol(&self.store.symbols, addr) {
            Some((id, offset)) => (self.store.str(id), offset),
            None => {
                let side = self.sidecar?;
                let (id, offset) = data_symbol(&side.symbols, addr)?;
                (side.strings.resolve(id), offset)
            }
        };
        let name = if offset == 0 {
            name.to_owned()
        } else {
            format!("{name}+{offset:#x}")
        };
        Some(self.model.strings.intern(&name))
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
            close_sampled(c, end);
            if let Some((start, why)) = c.unknown.take() {
                c.lanes.unknown.push(start, end, why);
            }
        }
        for span in &mut self.model.hold_spans {
            if span.end_ns == u64::MAX {
                span.end_ns = last_ts;
            }
        }
        if self.markers_seen {
            // With might_sleep markers traced, a blocking allocation would have been
            // followed by one.
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

fn toggle(
    open: &mut Option<(u64, EventIdx)>,
    lane: &mut IntervalLane<EventIdx>,
    now: Option<bool>,
    ts: u64,
    i: EventIdx,
) {
    match (now, open.is_some()) {
        (Some(true), false) => *open = Some((ts, i)),
        (Some(false), true) => {
            if let Some((start, first)) = open.take() {
                lane.push(start, ts, first);
            }
        }
        _ => {}
    }
}

fn close_sampled(c: &mut CpuTrack, at: u64) {
    if let Some((start, first)) = c.irqs_off.take() {
        c.lanes.irqs_off.push(start, at, first);
    }
    if let Some((start, first)) = c.bh_off.take() {
        c.lanes.bh_off.push(start, at, first);
    }
    if let Some((start, span)) = c.preempt.take() {
        c.lanes.preempt_off.push(start, at, span);
    }
}

fn data_symbol(table: &SymbolTable, addr: u64) -> Option<(StrId, u64)> {
    let (sym, offset) = table.containing(addr)?;
    (sym.kind == SymbolKind::Data && offset <= MAX_SYMBOL_OFFSET).then_some((sym.name, offset))
}

/// `6.1.0-56-amd64` >= major.minor?
pub(super) fn kernel_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let v = |p: Option<&str>| p.and_then(|s| s.parse::<u32>().ok());
    match (v(parts.next()), v(parts.next())) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}
