//! Might-sleep calls, real sleeps and allocations, with the context at each call.

use super::*;

impl Builder<'_> {
    pub(super) fn function_entry(&mut self, at: &At, func: StrId, parent: StrId) {
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

    pub(super) fn sleep_call(
        &mut self,
        at: &At,
        kind: SleepKind,
        func: StrId,
        caller: StrId,
    ) -> u32 {
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
    pub(super) fn real_sleep(&mut self, at: &At, prev: i64, prev_comm: StrId) {
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

    /// kmem:kmalloc / kmem_cache_alloc / mm_page_alloc with `gfp_flags=`.
    pub(super) fn allocation_event(&mut self, at: &At, fields: crate::payload::FieldIter<'_>) {
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
}
