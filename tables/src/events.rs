//! The `events` table: every event with its flags, its payload as text and the typed payload
//! fields the model decodes.

use crate::frame::{Frame, StrColumn, int32, ns};
use crate::input::TraceInput;
use crate::schema::Table;
use polars_core::prelude::DataFrame;
use std::ops::Range;
use trace_model::{EventIdx, Payload, PayloadView};

/// The typed payload fields of one event; `None` where the event has no such field.
#[derive(Default)]
struct PayloadRow<'a> {
    prev_pid: Option<i32>,
    prev_state: Option<String>,
    next_pid: Option<i32>,
    next_comm: Option<&'a str>,
    target_pid: Option<i32>,
    target_comm: Option<&'a str>,
    target_cpu: Option<i32>,
    irq: Option<i32>,
    irq_name: Option<&'a str>,
    softirq_vec: Option<i32>,
    vector: Option<i32>,
    func: Option<&'a str>,
    parent: Option<&'a str>,
    lock_name: Option<&'a str>,
    lock_addr: Option<u64>,
    duration_ns: Option<i64>,
}

impl<'a> PayloadRow<'a> {
    fn of(payload: &PayloadView<'a>, s: impl Fn(trace_model::StrId) -> &'a str) -> Self {
        let mut r = PayloadRow::default();
        match *payload {
            Payload::SchedSwitch {
                prev_pid,
                prev_state,
                next_comm,
                next_pid,
                ..
            } => {
                r.prev_pid = Some(prev_pid);
                r.prev_state = Some(prev_state.letters());
                r.next_pid = Some(next_pid);
                r.next_comm = Some(s(next_comm));
            }
            Payload::SchedWakeup {
                comm,
                pid,
                target_cpu,
                ..
            } => {
                r.target_pid = Some(pid);
                r.target_comm = Some(s(comm));
                r.target_cpu = Some(target_cpu);
            }
            Payload::SchedMigrate {
                comm,
                pid,
                dest_cpu,
                ..
            } => {
                r.target_pid = Some(pid);
                r.target_comm = Some(s(comm));
                r.target_cpu = Some(dest_cpu);
            }
            Payload::IrqHandlerEntry { irq, name } => {
                r.irq = Some(irq);
                r.irq_name = Some(s(name));
            }
            Payload::IrqHandlerExit { irq, .. } => r.irq = Some(irq),
            Payload::SoftirqEntry { vec }
            | Payload::SoftirqExit { vec }
            | Payload::SoftirqRaise { vec } => r.softirq_vec = Some(int32(vec)),
            Payload::IrqVectorEntry { vector } | Payload::IrqVectorExit { vector } => {
                r.vector = Some(vector)
            }
            Payload::IrqDisable { caller, parent }
            | Payload::IrqEnable { caller, parent }
            | Payload::PreemptDisable { caller, parent }
            | Payload::PreemptEnable { caller, parent }
            | Payload::Function {
                func: caller,
                parent,
            } => {
                r.func = Some(s(caller));
                r.parent = Some(s(parent));
            }
            Payload::LockAcquire { addr, name, .. }
            | Payload::LockRelease { addr, name }
            | Payload::LockContended { addr, name }
            | Payload::LockAcquired { addr, name } => {
                r.lock_name = Some(s(name));
                r.lock_addr = Some(addr);
            }
            Payload::ContentionBegin { addr, .. } | Payload::ContentionEnd { addr, .. } => {
                r.lock_addr = Some(addr)
            }
            Payload::LockProbe { addr, probed } => {
                r.func = Some(s(probed));
                r.lock_addr = Some(addr);
            }
            Payload::FuncGraphEntry {
                func,
                leaf_duration_ns,
                ..
            } => {
                r.func = Some(s(func));
                r.duration_ns = leaf_duration_ns.map(ns);
            }
            Payload::FuncGraphExit {
                func, duration_ns, ..
            } => {
                r.func = Some(s(func));
                r.duration_ns = Some(ns(duration_ns));
            }
            Payload::WorkqueueExecuteStart { function, .. }
            | Payload::WorkqueueExecuteEnd { function, .. }
            | Payload::TimerExpireEntry { function, .. }
            | Payload::HrtimerExpireEntry { function, .. } => r.func = Some(s(function)),
            Payload::Empty
            | Payload::TimerExpireExit { .. }
            | Payload::HrtimerExpireExit { .. }
            | Payload::Print { .. }
            | Payload::Fields(_)
            | Payload::Raw(_) => {}
        }
        r
    }
}

/// The payload columns, filled one event at a time.
struct PayloadColumns {
    prev_pid: Vec<Option<i32>>,
    prev_state: StrColumn,
    next_pid: Vec<Option<i32>>,
    next_comm: StrColumn,
    target_pid: Vec<Option<i32>>,
    target_comm: StrColumn,
    target_cpu: Vec<Option<i32>>,
    irq: Vec<Option<i32>>,
    irq_name: StrColumn,
    softirq_vec: Vec<Option<i32>>,
    vector: Vec<Option<i32>>,
    func: StrColumn,
    parent: StrColumn,
    lock_name: StrColumn,
    lock_addr: StrColumn,
    duration_ns: Vec<Option<i64>>,
}

impl PayloadColumns {
    fn with_capacity(n: usize) -> Self {
        let s = || StrColumn::with_capacity(n);
        let v = || Vec::with_capacity(n);
        PayloadColumns {
            prev_pid: v(),
            prev_state: s(),
            next_pid: v(),
            next_comm: s(),
            target_pid: v(),
            target_comm: s(),
            target_cpu: v(),
            irq: v(),
            irq_name: s(),
            softirq_vec: v(),
            vector: v(),
            func: s(),
            parent: s(),
            lock_name: s(),
            lock_addr: s(),
            duration_ns: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, r: PayloadRow) {
        self.prev_pid.push(r.prev_pid);
        self.prev_state.push(r.prev_state.as_deref());
        self.next_pid.push(r.next_pid);
        self.next_comm.push(r.next_comm);
        self.target_pid.push(r.target_pid);
        self.target_comm.push(r.target_comm);
        self.target_cpu.push(r.target_cpu);
        self.irq.push(r.irq);
        self.irq_name.push(r.irq_name);
        self.softirq_vec.push(r.softirq_vec);
        self.vector.push(r.vector);
        self.func.push(r.func);
        self.parent.push(r.parent);
        self.lock_name.push(r.lock_name);
        self.lock_addr.push(r.lock_addr.map(hex).as_deref());
        self.duration_ns.push(r.duration_ns);
    }

    fn write(self, f: &mut Frame) {
        f.opt_i32("prev_pid", self.prev_pid);
        f.str_column("prev_state", self.prev_state);
        f.opt_i32("next_pid", self.next_pid);
        f.str_column("next_comm", self.next_comm);
        f.opt_i32("target_pid", self.target_pid);
        f.str_column("target_comm", self.target_comm);
        f.opt_i32("target_cpu", self.target_cpu);
        f.opt_i32("irq", self.irq);
        f.str_column("irq_name", self.irq_name);
        f.opt_i32("softirq_vec", self.softirq_vec);
        f.opt_i32("vector", self.vector);
        f.str_column("func", self.func);
        f.str_column("parent", self.parent);
        f.str_column("lock_name", self.lock_name);
        f.str_column("lock_addr", self.lock_addr);
        f.opt_i64("duration_ns", self.duration_ns);
    }
}

/// Events `range` of the trace: one slice of the table.
pub fn build(input: &TraceInput, range: Range<usize>) -> DataFrame {
    let store = input.store;
    let n = range.len();
    let all_flags = store.flags();
    let flags: Vec<_> = range.clone().map(|i| all_flags.get(i)).collect();
    let mut payloads = PayloadColumns::with_capacity(n);
    let mut details = StrColumn::with_capacity(n);
    for i in range.clone() {
        let payload = store.payload(i as EventIdx);
        payloads.push(PayloadRow::of(&payload, |id| store.str(id)));
        details.push(Some((input.details)(store, &payload).as_str()));
    }
    let mut f = Frame::new(Table::Events, n);
    f.i64(
        "ts_ns",
        store.ts()[range.clone()].iter().map(|&t| ns(t)).collect(),
    );
    f.i32(
        "cpu",
        store.cpus()[range.clone()]
            .iter()
            .map(|&c| i32::from(c))
            .collect(),
    );
    f.i32("pid", store.pids()[range.clone()].to_vec());
    f.str(
        "comm",
        range.clone().map(|i| store.str(store.comm(i as EventIdx))),
    );
    f.str(
        "event",
        store.event_types()[range]
            .iter()
            .map(|&t| store.type_name(t)),
    );
    f.opt_bool("irqs_off", flags.iter().map(|fl| fl.irqs_off()).collect());
    f.opt_bool("bh_off", flags.iter().map(|fl| fl.bh_off()).collect());
    f.opt_bool("hardirq", flags.iter().map(|fl| fl.hardirq()).collect());
    f.opt_bool("softirq", flags.iter().map(|fl| fl.softirq()).collect());
    f.opt_bool("nmi", flags.iter().map(|fl| fl.nmi()).collect());
    f.opt_i32(
        "preempt_depth",
        flags
            .iter()
            .map(|fl| fl.preempt_depth().map(i32::from))
            .collect(),
    );
    f.opt_i32(
        "migrate_disable",
        flags
            .iter()
            .map(|fl| fl.migrate_disable().map(i32::from))
            .collect(),
    );
    f.opt_bool(
        "need_resched",
        flags.iter().map(|fl| fl.need_resched()).collect(),
    );
    f.str_column("details", details);
    payloads.write(&mut f);
    f.finish()
}

/// The whole table as slices of at most `rows` events, built one at a time: the export
/// writes each as a row group, the query stacks them, and neither holds every event's
/// intermediate columns at once.
pub fn slices<'a>(input: &'a TraceInput<'a>, rows: usize) -> impl Iterator<Item = DataFrame> + 'a {
    let n = input.store.len();
    (0..n.div_ceil(rows).max(1)).map(move |i| build(input, i * rows..n.min((i + 1) * rows)))
}

/// An address as the tables write it: `0x` and lower-case hex, so it joins across tables.
pub fn hex(addr: u64) -> String {
    format!("{addr:#x}")
}
