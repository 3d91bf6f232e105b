//! Might-sleep calls, real sleeps and allocations, with the context at each call.
//!
//! A call of a might-sleep entry point starts a *root* call; what follows while it is in
//! progress (the `schedule` inside `msleep`, the marker inside an allocation) is nested in it
//! and only tells whether it could block. A root is in progress while the call stack places
//! the context's function entries inside it, or, where the stack cannot tell (a filtered
//! trace whose callers are untraced), until any other event of the context (its *window*).
//! Sleeps are judged by the state the caller brought in, never by the scheduler's own.

use super::call_stack::{Checkpoint, Placement};
use super::*;
use crate::payload::{FieldIter, TaskState};

/// Where a root call started by a function entry stands.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RootTrack {
    /// The root call and its frame's depth.
    frame: Option<(u32, usize)>,
    /// No other event of the context since the root's entry.
    window: bool,
    /// The context's last function entry was placed inside the root.
    inside: bool,
}

/// How a function entry relates to the root call in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    NoRoot,
    /// The stack places the entry inside the root.
    Inside,
    /// The root's frame returned: the root is over.
    Outside,
    /// The stack cannot tell; `window` says whether nothing else happened since the root.
    Unknown {
        window: bool,
    },
    /// The root did not come from a function entry (a lock kprobe).
    Untracked,
}

impl Builder<'_> {
    pub(super) fn function_entry(&mut self, at: &At, func: StrId, parent: StrId) {
        let strings = &self.store.strings;
        let class = self.classes.get(strings, func);
        let parent_class = self.classes.get(strings, parent);
        let parent_is_primitive = parent_class.is_primitive();
        let (entry, op) = (class.sleep, class.lock);
        let checkpoint = Checkpoint {
            sample: at.sample,
            hold_mark: self.model.locks.holds.len() as u32,
            caller: parent,
        };
        let h = self.holder(at.owner);
        let placed = h.stack.enter(
            func,
            class.scheduler,
            (parent, parent_class.scheduler),
            parent_class.tracer_dispatch,
            checkpoint,
        );
        if at.flags.recorded() && !h.stack.in_scheduler_below(placed.depth) {
            h.checkpoint = Some(checkpoint);
        }
        let relation = h.relation(placed);
        if relation == Relation::Outside {
            h.sleep_root = None;
        }
        h.root_track.inside = relation == Relation::Inside;
        h.root_track.window = false;
        if let Some(entry) = entry {
            self.sleep_entry(
                at,
                entry,
                func,
                parent,
                placed,
                relation,
                parent_is_primitive,
            );
        } else if class.schedule_bug {
            // The kernel's own "scheduling while atomic" (kernel/sched/core.c).
            if let Some(r) = self.holder(at.owner).sleep_root {
                self.model.sleep_calls[r as usize].schedule_bug = Some(at.i);
            }
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

    /// A call of a might-sleep entry point: nested in the root in progress, or a new root.
    #[allow(clippy::too_many_arguments)]
    fn sleep_entry(
        &mut self,
        at: &At,
        entry: SleepEntry,
        func: StrId,
        parent: StrId,
        placed: Placement,
        relation: Relation,
        parent_is_primitive: bool,
    ) {
        let marker = entry == SleepEntry::Marker;
        if marker {
            self.markers_seen = true;
        }
        // Only a marker inside the root proves it could block; a marker right after the
        // root's entry (might_alloc() in an untraced slab hook) is inside it too.
        let evidence = match relation {
            Relation::Inside => true,
            Relation::Unknown { window } => window && marker,
            _ => false,
        };
        let nested = match relation {
            Relation::Inside => true,
            Relation::Unknown { .. } => evidence || parent_is_primitive,
            Relation::Untracked => marker || parent_is_primitive,
            Relation::NoRoot | Relation::Outside => false,
        };
        let call = self.sleep_call(at, SleepKind::Call(entry), func, parent);
        let h = self.holder(at.owner);
        match h.sleep_root.filter(|_| nested) {
            Some(r) => {
                self.model.sleep_calls[call as usize].root = Some(r);
                let root = &mut self.model.sleep_calls[r as usize];
                if marker && evidence && root.kind == SleepKind::Call(SleepEntry::Allocation) {
                    self.markers_in_allocations = true;
                    if root.gfp == Gfp::Unknown {
                        root.gfp = Gfp::Blocking;
                    }
                }
            }
            None => {
                h.sleep_root = Some(call);
                h.root_track = RootTrack {
                    frame: Some((call, placed.depth)),
                    window: true,
                    inside: false,
                };
            }
        }
    }

    /// Any event of a context other than a function entry or a context switch: it closes
    /// the root's window, unless it is what an allocation does at once (lockdep's
    /// `fs_reclaim` map in might_alloc(), the kmem event with the GFP flags).
    pub(super) fn other_event(&mut self, at: &At, p: &PayloadView<'_>) {
        let h = self.holder(at.owner);
        let Some(root) = h.sleep_root else { return };
        if h.root_track.frame.is_none_or(|(call, _)| call != root) {
            return;
        }
        if h.root_track.window && !self.is_allocation_step(p) {
            self.holder(at.owner).root_track.window = false;
        }
        let h = self.holder(at.owner);
        if !h.root_track.window && !h.root_track.inside {
            h.sleep_root = None;
        }
    }

    fn is_allocation_step(&self, p: &PayloadView<'_>) -> bool {
        match p {
            Payload::LockAcquire { name, .. } | Payload::LockRelease { name, .. } => {
                self.store.str(*name) == "fs_reclaim"
            }
            Payload::Fields(fields) => gfp_of(self.store, fields.clone()).is_some(),
            _ => false,
        }
    }

    pub(super) fn sleep_call(
        &mut self,
        at: &At,
        kind: SleepKind,
        func: StrId,
        caller: StrId,
    ) -> u32 {
        self.sleep_call_holding(at, kind, func, caller, u32::MAX)
    }

    /// A call with the context's holds created before `hold_mark`.
    fn sleep_call_holding(
        &mut self,
        at: &At,
        kind: SleepKind,
        func: StrId,
        caller: StrId,
        hold_mark: u32,
    ) -> u32 {
        let start = self.model.held_at_call.len() as u32;
        let held = match at.owner {
            Owner::Task(key) => self.tasks.get(&key).map_or(&[][..], |h| &h.held[..]),
            Owner::Slot(cpu, slot) => &self.cpus[cpu].slots[slot].held[..],
        };
        self.model
            .held_at_call
            .extend(held.iter().copied().filter(|&h| h < hold_mark));
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
    /// record it with the state the task brought into the scheduler.
    pub(super) fn real_sleep(&mut self, at: &At, prev: i64, prev_comm: StrId, state: TaskState) {
        let owner = Owner::Task(prev);
        let h = self.holder(owner);
        let root = h.sleep_root.take();
        h.pending = None;
        // A task's last switch after exit (do_task_dead) is not a sleep.
        if state.0 & (TaskState::DEAD | TaskState::ZOMBIE) != 0 {
            return;
        }
        if let Some(r) = root {
            self.model.sleep_calls[r as usize].slept = Some(at.i);
            return;
        }
        let from = h.stack.scheduler_entry().or(h.checkpoint);
        let caller = match from {
            Some(c) if c.caller != StrId::EMPTY => c.caller,
            _ => h.current_fn,
        };
        let at = At {
            owner,
            context: HolderContext::Task,
            sample: from.map(|c| c.sample).unwrap_or_default(),
            ..*at
        };
        // Only the locks the caller held: what the scheduler took after its entry is its own.
        let mark = from.map_or(u32::MAX, |c| c.hold_mark);
        let call = self.sleep_call_holding(&at, SleepKind::RealSleep, prev_comm, caller, mark);
        let c = &mut self.model.sleep_calls[call as usize];
        c.depth = None;
        c.slept = Some(at.i);
    }

    /// kmem:kmalloc / kmem_cache_alloc / mm_page_alloc with `gfp_flags=`.
    pub(super) fn allocation_event(&mut self, at: &At, fields: FieldIter<'_>) {
        let Some((gfp, call_site)) = gfp_of(self.store, fields) else {
            return;
        };
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

impl Holder {
    fn relation(&self, placed: Placement) -> Relation {
        let Some(root) = self.sleep_root else {
            return Relation::NoRoot;
        };
        let track = self.root_track;
        match track.frame {
            Some((call, depth)) if call == root => {
                if depth >= placed.kept {
                    Relation::Outside
                } else if placed.is_inside(depth)
                    || self.stack.in_scheduler_below(placed.depth)
                        && self.stack.scheduler_inside(depth)
                {
                    Relation::Inside
                } else {
                    Relation::Unknown {
                        window: track.window,
                    }
                }
            }
            _ => Relation::Untracked,
        }
    }
}

/// The `gfp_flags` (and `call_site`) of a kmem allocation event.
fn gfp_of<'s>(store: &'s EventStore, fields: FieldIter<'s>) -> Option<(&'s str, Option<&'s str>)> {
    let mut gfp = None;
    let mut call_site = None;
    for (key, value) in fields {
        match store.str(key) {
            "gfp_flags" => gfp = Some(value),
            "call_site" => call_site = Some(value),
            _ => {}
        }
    }
    gfp.map(|g| (g, call_site))
}
