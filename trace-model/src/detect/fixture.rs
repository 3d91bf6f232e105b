//! Hand-built lock tables for the detectors' unit tests: one `lock_acquire` event per hold,
//! pushed in time order, with the irq state in its flags.

use crate::context::locks::{
    ClassId, HoldIdx, HolderContext, LockClass, LockHold, LockId, LockInstance, LockMode,
    LockTable, NameSource,
};
use crate::detect::evidence::LockView;
use crate::flags::FlagBits;
use crate::{
    ContextFlags, EventHeader, EventStore, EventStoreBuilder, ExtendedInterner, Finding, Payload,
};

#[derive(Default)]
pub struct Fixture {
    builder: EventStoreBuilder,
    pub table: LockTable,
    next_addr: u64,
}

impl Fixture {
    /// A new lock class with one instance.
    pub fn lock(&mut self, name: &str) -> LockId {
        let class = ClassId(self.table.classes.len() as u32);
        self.table.classes.push(LockClass {
            name: self.builder.intern(name),
            source: NameSource::Kallsyms,
        });
        self.instance_of(class)
    }

    /// Another instance of an existing lock's class.
    pub fn instance(&mut self, like: LockId) -> LockId {
        self.instance_of(self.table.class_of(like))
    }

    fn instance_of(&mut self, class: ClassId) -> LockId {
        self.next_addr += 0x40;
        self.table.locks.push(LockInstance {
            addr: 0xffff_0000 + self.next_addr,
            class,
        });
        LockId(self.table.locks.len() as u32 - 1)
    }

    /// Acquires `lock` at `ts_us` by task `pid` on `cpu` in `context`, with irqs and
    /// softirqs enabled, holding `held` (outermost first). Returns the hold to adjust.
    pub fn acquire(
        &mut self,
        ts_us: u64,
        (cpu, pid, context): (u32, i32, HolderContext),
        lock: LockId,
        mode: LockMode,
        held: &[HoldIdx],
    ) -> &mut LockHold {
        let ts = ts_us * 1000;
        let comm = self.builder.intern(&format!("task{pid}"));
        let event_type = self.builder.event_type("lock_acquire").expect("one type");
        let irq = context == HolderContext::Hardirq;
        let flags = ContextFlags::new(
            FlagBits {
                irqs_off: irq,
                hardirq: irq,
                softirq: context == HolderContext::Softirq,
                ..FlagBits::default()
            },
            Some(0),
            None,
        );
        let acquire_event = self.builder.len() as u32;
        self.builder.push(
            EventHeader {
                ts,
                cpu,
                pid,
                comm,
                event_type,
                flags,
            },
            &Payload::Empty,
        );
        let start = self.table.held_before.len() as u32;
        self.table.held_before.extend_from_slice(held);
        self.table.holds.push(LockHold {
            lock,
            mode,
            trylock: false,
            read: 0,
            cpu,
            pid,
            context,
            acquire_ts: ts,
            acquire_event,
            contended_ts: None,
            acquired_ts: None,
            release_ts: Some(ts + 1000),
            release_event: None,
            caller: Some(self.builder.intern(&format!("f{}", acquire_event))),
            hardirqs_enabled: Some(!irq),
            softirqs_enabled: Some(context == HolderContext::Task),
            hardirqs_enabled_while_held: None,
            softirqs_enabled_while_held: None,
            validated: true,
            held_before: start..start + held.len() as u32,
        });
        self.table.holds.last_mut().expect("just pushed")
    }

    /// Acquires `locks` one after the other (1 us apart), each while holding the ones
    /// before it.
    pub fn nest(
        &mut self,
        ts_us: u64,
        who: (u32, i32, HolderContext),
        locks: &[LockId],
        mode: LockMode,
    ) {
        let mut held = Vec::new();
        for (k, &lock) in locks.iter().enumerate() {
            self.acquire(ts_us + k as u64, who, lock, mode, &held);
            held.push(self.last());
        }
    }

    /// Index of the last hold.
    pub fn last(&self) -> HoldIdx {
        self.table.holds.len() as HoldIdx - 1
    }

    pub fn finish(self) -> (EventStore, LockTable) {
        (self.builder.finish(), self.table)
    }

    /// The view the detectors read (the fixture's flags never show BH-disabled).
    pub fn view<'a>(
        store: &'a EventStore,
        table: &'a LockTable,
        strings: &'a ExtendedInterner,
    ) -> LockView<'a> {
        LockView {
            store,
            table,
            strings,
            bh_off_visible: false,
        }
    }

    /// Runs a detector on the finished fixture.
    pub fn detect(self, run: impl FnOnce(&LockView) -> Vec<Finding>) -> Vec<Finding> {
        let (store, table) = self.finish();
        run(&Fixture::view(
            &store,
            &table,
            &ExtendedInterner::over(store.strings.clone()),
        ))
    }
}

pub const TASK1: (u32, i32, HolderContext) = (1, 101, HolderContext::Task);
pub const TASK2: (u32, i32, HolderContext) = (2, 102, HolderContext::Task);
pub const SOFTIRQ2: (u32, i32, HolderContext) = (2, 102, HolderContext::Softirq);
pub const HARDIRQ1: (u32, i32, HolderContext) = (1, 101, HolderContext::Hardirq);
