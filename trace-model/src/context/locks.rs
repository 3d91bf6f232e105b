//! Lock identities and lock holds: each acquisition of a lock by a task or an interrupt
//! context, with what that context held at the time and its irq / BH state.
//!
//! The context builder fills a [`LockTable`]; the lock-order and irq-inversion detectors read
//! it. Holds are stored in a flat vector, each with a range into one shared `held_before`
//! arena, so no hold owns a heap object.

use crate::StrId;
use crate::store::EventIdx;
use std::ops::Range;

/// Index of a lock instance in [`LockTable::locks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LockId(pub u32);

/// Index of a lock class in [`LockTable::classes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(pub u32);

/// Index of a hold in [`LockTable::holds`].
pub type HoldIdx = u32;

/// Where a lock's name came from, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameSource {
    /// The lockdep class name of `lock:*` events.
    Lockdep,
    /// The trace's kallsyms (or a `--kallsyms` sidecar) names the address.
    Kallsyms,
    /// Nothing names it: the name is the hex address.
    Address,
}

/// One lock instance (an address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockInstance {
    pub addr: u64,
    pub class: ClassId,
}

/// A lock class: lockdep's class name when recorded, else the kallsyms symbol of the
/// address, else the address itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockClass {
    pub name: StrId,
    pub source: NameSource,
}

/// The kind of lock and how it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockMode {
    /// `spin_lock` (spinlock_t; atomic on non-RT kernels).
    Spin,
    /// `spin_lock_irq`: also disables irqs.
    SpinIrq,
    /// `spin_lock_irqsave`.
    SpinIrqsave,
    /// `spin_lock_bh`: also disables softirqs.
    SpinBh,
    /// `raw_spin_lock*`.
    RawSpin,
    /// rwlock_t read / write.
    RwlockRead,
    RwlockWrite,
    /// Sleeping locks.
    Mutex,
    RwsemRead,
    RwsemWrite,
    /// A pseudo-lock of lockdep (`rcu_read_lock`, `(wq_completion)...`, `fs_reclaim`).
    Pseudo,
    /// The trace does not tell (a `lock_acquire` of a lock whose type is unknown).
    Unknown,
}

impl LockMode {
    /// Holding it makes the context atomic (on a non-RT kernel).
    pub fn is_spinning(self) -> bool {
        matches!(
            self,
            LockMode::Spin
                | LockMode::SpinIrq
                | LockMode::SpinIrqsave
                | LockMode::SpinBh
                | LockMode::RawSpin
                | LockMode::RwlockRead
                | LockMode::RwlockWrite
        )
    }

    /// A lock whose acquisition may sleep.
    pub fn is_sleeping(self) -> bool {
        matches!(
            self,
            LockMode::Mutex | LockMode::RwsemRead | LockMode::RwsemWrite
        )
    }
}

/// The execution context a hold belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HolderContext {
    Task,
    Softirq,
    Hardirq,
    Nmi,
    /// Context unknown (start of a CPU's data, after lost events).
    Unknown,
}

/// One acquisition of a lock, until its release.
#[derive(Clone, Debug, PartialEq)]
pub struct LockHold {
    pub lock: LockId,
    pub mode: LockMode,
    pub trylock: bool,
    /// lockdep read level: 0 write/exclusive, 1 read, 2 recursive read. A trace's
    /// `lock_acquire` says only whether it was a read (1): recursive or not is not recorded.
    pub read: u8,
    /// lockdep validates this acquisition (its `check` argument): false for the classes it
    /// never validates (RCU's read-side maps, SRCU read locks, the no-validate device mutex)
    /// and in NMI context, where lockdep tracks nothing. Such holds make no dependency and
    /// set no irq usage.
    pub validated: bool,
    pub cpu: u32,
    /// The task (`common_pid`); for interrupt holds, the interrupted task's pid.
    pub pid: i32,
    pub context: HolderContext,
    /// The acquire call (lock_acquire, the kprobe, or the function entry).
    pub acquire_ts: u64,
    pub acquire_event: EventIdx,
    /// When it had to wait: contention began / the lock was finally obtained.
    pub contended_ts: Option<u64>,
    pub acquired_ts: Option<u64>,
    /// None: still held at the end of the data (or lost in a gap).
    pub release_ts: Option<u64>,
    pub release_event: Option<EventIdx>,
    /// The function that took the lock, when the trace shows it (function tracer parent,
    /// preemptirq caller).
    pub caller: Option<StrId>,
    /// Hardirqs / softirqs enabled at the acquire (None: unknown).
    pub hardirqs_enabled: Option<bool>,
    pub softirqs_enabled: Option<bool>,
    /// Hardirqs / softirqs were (re-)enabled at some point while held.
    pub hardirqs_enabled_while_held: Option<bool>,
    pub softirqs_enabled_while_held: Option<bool>,
    /// Holds of the same context still held when this one was acquired, outermost first:
    /// a range into [`LockTable::held_before`].
    pub held_before: Range<u32>,
}

/// All locks and holds of a trace.
#[derive(Clone, Debug, Default)]
pub struct LockTable {
    pub locks: Vec<LockInstance>,
    pub classes: Vec<LockClass>,
    /// Holds in acquire order.
    pub holds: Vec<LockHold>,
    /// Arena of [`HoldIdx`] lists, see [`LockHold::held_before`].
    pub held_before: Vec<HoldIdx>,
}

impl LockTable {
    /// The holds still held when `hold` was acquired, outermost first.
    pub fn held_before(&self, hold: &LockHold) -> &[HoldIdx] {
        &self.held_before[hold.held_before.start as usize..hold.held_before.end as usize]
    }

    /// The class of a lock instance.
    pub fn class_of(&self, lock: LockId) -> ClassId {
        self.locks[lock.0 as usize].class
    }
}

impl LockMode {
    /// The mode as kctx prints it (`spin_irqsave`, `mutex`, `rwsem_read`).
    pub fn name(self) -> &'static str {
        match self {
            LockMode::Spin => "spin",
            LockMode::SpinIrq => "spin_irq",
            LockMode::SpinIrqsave => "spin_irqsave",
            LockMode::SpinBh => "spin_bh",
            LockMode::RawSpin => "raw_spin",
            LockMode::RwlockRead => "rwlock_read",
            LockMode::RwlockWrite => "rwlock_write",
            LockMode::Mutex => "mutex",
            LockMode::RwsemRead => "rwsem_read",
            LockMode::RwsemWrite => "rwsem_write",
            LockMode::Pseudo => "pseudo",
            LockMode::Unknown => "unknown",
        }
    }
}

impl HolderContext {
    /// The context as kctx prints it.
    pub fn name(self) -> &'static str {
        match self {
            HolderContext::Task => "task",
            HolderContext::Softirq => "softirq",
            HolderContext::Hardirq => "hardirq",
            HolderContext::Nmi => "nmi",
            HolderContext::Unknown => "unknown",
        }
    }
}
