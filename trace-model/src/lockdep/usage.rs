//! lock class irq usage as lockdep marks it (`mark_usage`, `mark_held_locks`): per class
//! and irq state, USED_IN when acquired in that irq's context (not by a trylock), ENABLED
//! when acquired or held with it enabled, each for writes and for reads.

use crate::context::locks::{HoldIdx, HolderContext, LockHold, LockMode, LockTable};

/// An interrupt state lockdep tracks usage for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqState {
    Hardirq,
    Softirq,
}

impl IrqState {
    pub const ALL: [IrqState; 2] = [IrqState::Hardirq, IrqState::Softirq];

    pub fn name(self) -> &'static str {
        match self {
            IrqState::Hardirq => "hardirq",
            IrqState::Softirq => "softirq",
        }
    }

    pub fn upper(self) -> &'static str {
        match self {
            IrqState::Hardirq => "HARDIRQ",
            IrqState::Softirq => "SOFTIRQ",
        }
    }

    /// What to record so that the state at every acquire is known.
    pub fn how_to_record(self) -> &'static str {
        match self {
            IrqState::Hardirq => {
                "record the irq-info flags column (or preemptirq:irq_disable/irq_enable) \
                 with the lock events"
            }
            IrqState::Softirq => {
                "record on a kernel >= 5.18 (BH-disabled flag) or trace local_bh_disable / \
                 local_bh_enable and _raw_spin_lock_bh"
            }
        }
    }
}

/// The holds that set one usage bit of one class: the first, the first write, how many.
#[derive(Clone, Copy, Debug, Default)]
pub struct UsageBit {
    pub first: Option<HoldIdx>,
    pub first_write: Option<HoldIdx>,
    pub first_read: Option<HoldIdx>,
    pub count: u64,
    pub last_ts: u64,
}

impl UsageBit {
    fn mark(&mut self, idx: HoldIdx, hold: &LockHold) {
        self.first.get_or_insert(idx);
        if hold.read == 0 {
            self.first_write.get_or_insert(idx);
        } else {
            self.first_read.get_or_insert(idx);
        }
        self.count += 1;
        self.last_ts = self.last_ts.max(hold.acquire_ts);
    }

    pub fn is_set(&self) -> bool {
        self.first.is_some()
    }
}

/// A class's usage for one irq state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub used_in: UsageBit,
    pub enabled: UsageBit,
    /// Task-side holds whose state the trace does not tell.
    pub undecided: UsageBit,
}

/// Was `state` enabled at the acquire of `hold` or while it was held? `None`: unknown.
/// Hardirq and NMI handlers run with both states off, a softirq with softirqs off; with
/// hardirqs off throughout, softirqs cannot run either.
pub fn enabled_at(hold: &LockHold, state: IrqState) -> Option<bool> {
    match (hold.context, state) {
        (HolderContext::Hardirq | HolderContext::Nmi, _)
        | (HolderContext::Softirq, IrqState::Softirq) => return Some(false),
        _ => {}
    }
    let disables_hardirqs = matches!(hold.mode, LockMode::SpinIrq | LockMode::SpinIrqsave);
    let hard = state_while_held(
        hold.hardirqs_enabled,
        hold.hardirqs_enabled_while_held,
        disables_hardirqs,
    );
    match state {
        IrqState::Hardirq => hard,
        IrqState::Softirq if hard == Some(false) => Some(false),
        IrqState::Softirq => state_while_held(
            hold.softirqs_enabled,
            hold.softirqs_enabled_while_held,
            hold.mode == LockMode::SpinBh,
        ),
    }
}

/// Re-enabling while held counts (lockdep's `mark_held_locks`); a primitive that disables
/// the state itself (`_irqsave`, `_bh`) makes the state at its entry irrelevant.
fn state_while_held(
    at: Option<bool>,
    while_held: Option<bool>,
    primitive_disables: bool,
) -> Option<bool> {
    if while_held == Some(true) {
        Some(true)
    } else if primitive_disables {
        Some(false)
    } else {
        at
    }
}

pub fn used_in(hold: &LockHold, state: IrqState) -> bool {
    !hold.trylock
        && match state {
            IrqState::Hardirq => hold.context == HolderContext::Hardirq,
            IrqState::Softirq => hold.context == HolderContext::Softirq,
        }
}

/// Usage of every class, per state.
/// The hold sets ENABLED_X: `state` was enabled at its acquire or while held. An unknown
/// context cannot: it may be the interrupt itself.
pub fn sets_enabled(hold: &LockHold, state: IrqState) -> bool {
    hold.context != HolderContext::Unknown && enabled_at(hold, state) == Some(true)
}

pub fn usage_table(table: &LockTable) -> Vec<[Usage; 2]> {
    let mut usage = vec![[Usage::default(); 2]; table.classes.len()];
    for (i, hold) in table.holds.iter().enumerate() {
        if !hold.validated {
            continue;
        }
        let i = i as HoldIdx;
        let class = table.class_of(hold.lock).0 as usize;
        for (s, state) in IrqState::ALL.into_iter().enumerate() {
            let u = &mut usage[class][s];
            if used_in(hold, state) {
                u.used_in.mark(i, hold);
            }
            if sets_enabled(hold, state) {
                u.enabled.mark(i, hold);
            } else if hold.context == HolderContext::Task && enabled_at(hold, state).is_none() {
                u.undecided.mark(i, hold);
            }
        }
    }
    usage
}
