//! Per-CPU interrupt frames, the running task and the sampled irqs-off / BH-off /
//! preempt-off lanes.

use super::*;

impl Builder<'_> {
    /// Gaps, the start of a CPU's data and unknown ranges.
    pub(super) fn enter_cpu(&mut self, cpu: usize, ts: u64, flags: ContextFlags, is_switch: bool) {
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
    pub(super) fn lose_state(&mut self, cpu: usize, at: u64) {
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

    pub(super) fn open_explicit_frames(
        &mut self,
        cpu: usize,
        ts: u64,
        i: EventIdx,
        p: &PayloadView<'_>,
    ) {
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

    pub(super) fn label_hardirq(&mut self, cpu: usize, ts: u64, irq: Option<i32>, name: StrId) {
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
    pub(super) fn close_explicit_frames(
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
    pub(super) fn reconcile_frames(&mut self, cpu: usize, ts: u64, flags: ContextFlags) {
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
    pub(super) fn close_frames(&mut self, cpu: usize, which: [bool; 3]) {
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

    pub(super) fn top_frame(&self, cpu: usize) -> HolderContext {
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

    pub(super) fn touch_frame(&mut self, cpu: usize, context: HolderContext, ts: u64) {
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

    /// `common_pid` always names the CPU's current task (also inside interrupts): event
    /// `i` of another pid starts a task span (its comm is looked up only then).
    pub(super) fn follow_task(&mut self, cpu: usize, ts: u64, pid: i32, i: EventIdx) {
        let store = self.store;
        let c = &mut self.cpus[cpu];
        if c.task.is_some_and(|(_, t)| t.pid == pid) {
            return;
        }
        let comm = store.comm(i);
        if let Some((start, span)) = c.task.take() {
            c.lanes.tasks.push(start, ts, span);
        }
        c.task = Some((ts, TaskSpan { pid, comm }));
    }

    pub(super) fn sample_lanes(
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
}

pub(super) fn toggle(
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

pub(super) fn close_sampled(c: &mut CpuTrack, at: u64) {
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
