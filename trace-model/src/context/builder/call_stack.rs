//! A context's call stack as the function tracer shows it. Each entry `F <- P` names its
//! caller, so the stack is rebuilt without exit events: where `P` is on the stack, everything
//! above it has returned; where it is not (`P` untraced, inlined, or entered before the trace
//! began), `P` is put on top as an implicit frame, so that later calls from `P` find it and
//! pop what `F` left above it.

use super::Sample;
use crate::StrId;
use crate::context::primitives::SchedulerFn;

/// Deeper than any kernel call chain: a stack that grows past it has lost track (a filtered
/// trace whose entries rarely find their callers) and starts again.
const MAX_DEPTH: usize = 128;

/// The state a context brought into a call.
#[derive(Clone, Copy, Debug)]
pub(super) struct Checkpoint {
    pub sample: Sample,
    /// Holds created from here on were taken after the call (`LockTable::holds` length).
    pub hold_mark: u32,
    /// Who made the call.
    pub caller: StrId,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    func: StrId,
    scheduler: Option<SchedulerFn>,
    /// The lowest depth reached from this frame through callers the trace showed: a frame
    /// is inside a deeper one only through such links.
    chain_base: usize,
    /// The traced entry's state; None for an implicit frame.
    entry: Option<Checkpoint>,
}

/// Where a new entry went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Placement {
    /// The new frame's depth.
    pub depth: usize,
    /// Frames at this depth and above it were popped (returned) or lost.
    pub kept: usize,
    /// The deepest frame the new one is known to be called from, through traced callers.
    pub chain_base: usize,
}

impl Placement {
    /// Is the frame at `depth` (still on the stack) a known caller of the new frame?
    pub fn is_inside(self, depth: usize) -> bool {
        depth < self.kept && self.chain_base <= depth && depth < self.depth
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct CallStack {
    frames: Vec<Frame>,
    /// Depth of the outermost scheduler frame: while there is one, the context is inside
    /// the scheduler and its state is the scheduler's.
    scheduler_base: Option<usize>,
}

impl CallStack {
    /// The frame at `depth` runs inside a scheduler function (one below it).
    pub fn in_scheduler_below(&self, depth: usize) -> bool {
        self.scheduler_base.is_some_and(|b| b < depth)
    }

    /// Places the entry of `func`, called by `parent`. `from_top`: the caller is whatever
    /// runs now, whatever `parent` says (a function tracer callback).
    pub fn enter(
        &mut self,
        func: StrId,
        scheduler: Option<SchedulerFn>,
        parent: (StrId, Option<SchedulerFn>),
        from_top: bool,
        entry: Checkpoint,
    ) -> Placement {
        let (parent, parent_scheduler) = parent;
        let found = if from_top {
            self.frames.len().checked_sub(1)
        } else if parent == StrId::EMPTY {
            None
        } else {
            self.frames.iter().rposition(|f| f.func == parent)
        };
        let caller = match found {
            Some(k) => {
                self.truncate(k + 1);
                k
            }
            None => {
                if self.frames.len() + 2 > MAX_DEPTH {
                    self.truncate(0);
                }
                let depth = self.frames.len();
                self.push(Frame {
                    func: parent,
                    scheduler: parent_scheduler,
                    chain_base: depth,
                    entry: None,
                });
                depth
            }
        };
        let kept = if found.is_some() { caller + 1 } else { caller };
        let chain_base = self.frames[caller].chain_base;
        let depth = self.frames.len();
        self.push(Frame {
            func,
            scheduler,
            chain_base,
            entry: Some(entry),
        });
        Placement {
            depth,
            kept,
            chain_base,
        }
    }

    /// Is the frame at `depth` a known caller of the scheduler the context is in? The
    /// scheduler runs until the switch, so whatever runs inside it (its untraced internals
    /// included) is inside that frame too.
    pub fn scheduler_inside(&self, depth: usize) -> bool {
        self.scheduler_base
            .is_some_and(|b| self.frames[b].chain_base <= depth && depth <= b)
    }

    /// The entry of the innermost scheduler function entered with its caller's state
    /// (`schedule`, `schedule_timeout`): what a sleep that reached the scheduler brought in.
    pub fn scheduler_entry(&self) -> Option<Checkpoint> {
        let base = self.scheduler_base?;
        self.frames[base..]
            .iter()
            .rev()
            .find(|f| f.scheduler == Some(SchedulerFn::Entry))
            .and_then(|f| f.entry)
    }

    fn push(&mut self, frame: Frame) {
        if frame.scheduler.is_some() && self.scheduler_base.is_none() {
            self.scheduler_base = Some(self.frames.len());
        }
        self.frames.push(frame);
    }

    fn truncate(&mut self, len: usize) {
        self.frames.truncate(len);
        if self.scheduler_base.is_some_and(|b| b >= len) {
            self.scheduler_base = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> StrId {
        StrId(n)
    }

    fn entry() -> Checkpoint {
        Checkpoint {
            sample: Sample::default(),
            hold_mark: 0,
            caller: StrId::EMPTY,
        }
    }

    #[test]
    fn callers_pop_what_returned() {
        let mut s = CallStack::default();
        // a <- x (x untraced: implicit), b <- a, c <- b, d <- a: b and c returned.
        let a = s.enter(id(1), None, (id(9), None), false, entry());
        assert_eq!((a.depth, a.kept), (1, 0));
        let b = s.enter(id(2), None, (id(1), None), false, entry());
        assert!(b.is_inside(a.depth));
        let c = s.enter(id(3), None, (id(2), None), false, entry());
        assert!(c.is_inside(b.depth) && c.is_inside(a.depth));
        let d = s.enter(id(4), None, (id(1), None), false, entry());
        assert_eq!(d.kept, 2);
        assert!(d.is_inside(a.depth) && !d.is_inside(b.depth));
    }

    #[test]
    fn an_unknown_caller_is_not_inside() {
        let mut s = CallStack::default();
        let a = s.enter(id(1), None, (id(9), None), false, entry());
        // y is not on the stack: e sits on top of a, but nothing says a called it.
        let e = s.enter(id(5), None, (id(8), None), false, entry());
        assert!(!e.is_inside(a.depth));
        let f = s.enter(id(6), None, (id(5), None), false, entry());
        assert!(f.is_inside(e.depth) && !f.is_inside(a.depth));
    }

    #[test]
    fn the_scheduler_is_left_when_its_caller_calls_again() {
        let mut s = CallStack::default();
        let sched = s.enter(
            id(1),
            Some(SchedulerFn::Entry),
            (id(9), None),
            false,
            entry(),
        );
        assert!(!s.in_scheduler_below(sched.depth));
        assert!(s.scheduler_entry().is_some());
        let inner = s.enter(
            id(2),
            None,
            (id(3), Some(SchedulerFn::Internal)),
            false,
            entry(),
        );
        assert!(s.in_scheduler_below(inner.depth));
        // Another call from the loop that called schedule: schedule returned.
        let next = s.enter(id(4), None, (id(9), None), false, entry());
        assert!(!s.in_scheduler_below(next.depth));
        assert!(s.scheduler_entry().is_none());
    }

    #[test]
    fn the_scheduler_is_inside_the_call_that_entered_it() {
        let mut s = CallStack::default();
        let msleep = s.enter(id(1), None, (id(9), None), false, entry());
        s.enter(
            id(2),
            Some(SchedulerFn::Entry),
            (id(1), None),
            false,
            entry(),
        );
        // __schedule is untraced: its callee is pushed above an implicit frame.
        let inner = s.enter(
            id(3),
            None,
            (id(4), Some(SchedulerFn::Internal)),
            false,
            entry(),
        );
        assert!(!inner.is_inside(msleep.depth));
        assert!(s.in_scheduler_below(inner.depth));
        assert!(s.scheduler_inside(msleep.depth));
    }
}
