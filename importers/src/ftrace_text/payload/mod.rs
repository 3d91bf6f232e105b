//! Payload parsers: the text after `event_name: ` becomes a typed [`Payload`] for the events
//! the context model needs, and key/value fields or raw text for every other event.
//!
//! Each parser accepts both the tracefs print format and `trace-cmd report`'s (hex with `0x`,
//! its sched plugin forms). A typed parser that does not recognise the text returns `None`;
//! the caller then keeps the event with generic fields and counts a warning.

mod fields;
mod irq;
mod lock;
mod misc;
mod sched;
mod text;

use trace_model::{EventStoreBuilder, Payload, PayloadIn, StrId};

/// How to read the payload of one event name; decided once per distinct name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    SchedSwitch,
    SchedWakeup,
    SchedMigrate,
    IrqHandlerEntry,
    IrqHandlerExit,
    SoftirqEntry,
    SoftirqExit,
    SoftirqRaise,
    /// An unknown `*_entry` / `*_exit` event: x86 `irq_vectors` if the payload is `vector=N`.
    MaybeIrqVector {
        exit: bool,
    },
    IrqDisable,
    IrqEnable,
    PreemptDisable,
    PreemptEnable,
    LockAcquire,
    LockRelease,
    LockContended,
    LockAcquired,
    ContentionBegin,
    ContentionEnd,
    Function,
    WorkqueueExecuteStart,
    WorkqueueExecuteEnd,
    TimerExpireEntry,
    TimerExpireExit,
    HrtimerExpireEntry,
    HrtimerExpireExit,
    /// `print` / `bprint` / `bputs`; `ip_prefix`: the text starts with `caller: `.
    Print {
        ip_prefix: bool,
    },
    Generic,
}

/// The event name to store (trace-cmd report's naming) and the payload kind of a printed name.
pub(super) fn classify(printed_name: &str) -> (&str, Kind) {
    let kind = match printed_name {
        // tracefs prints a trace_marker write as `tracing_mark_write: msg`; trace-cmd calls
        // the event `print`.
        "tracing_mark_write" => return ("print", Kind::Print { ip_prefix: false }),
        "print" | "bprint" | "bputs" => Kind::Print { ip_prefix: true },
        "sched_switch" => Kind::SchedSwitch,
        "sched_wakeup" | "sched_wakeup_new" | "sched_waking" => Kind::SchedWakeup,
        "sched_migrate_task" => Kind::SchedMigrate,
        "irq_handler_entry" => Kind::IrqHandlerEntry,
        "irq_handler_exit" => Kind::IrqHandlerExit,
        "softirq_entry" => Kind::SoftirqEntry,
        "softirq_exit" => Kind::SoftirqExit,
        "softirq_raise" => Kind::SoftirqRaise,
        "irq_disable" => Kind::IrqDisable,
        "irq_enable" => Kind::IrqEnable,
        "preempt_disable" => Kind::PreemptDisable,
        "preempt_enable" => Kind::PreemptEnable,
        "lock_acquire" => Kind::LockAcquire,
        "lock_release" => Kind::LockRelease,
        "lock_contended" => Kind::LockContended,
        "lock_acquired" => Kind::LockAcquired,
        "contention_begin" => Kind::ContentionBegin,
        "contention_end" => Kind::ContentionEnd,
        "function" => Kind::Function,
        "workqueue_execute_start" => Kind::WorkqueueExecuteStart,
        "workqueue_execute_end" => Kind::WorkqueueExecuteEnd,
        "timer_expire_entry" => Kind::TimerExpireEntry,
        "timer_expire_exit" => Kind::TimerExpireExit,
        "hrtimer_expire_entry" => Kind::HrtimerExpireEntry,
        "hrtimer_expire_exit" => Kind::HrtimerExpireExit,
        n if n.ends_with("_entry") => Kind::MaybeIrqVector { exit: false },
        n if n.ends_with("_exit") => Kind::MaybeIrqVector { exit: true },
        _ => Kind::Generic,
    };
    (printed_name, kind)
}

/// Why a payload fell back to generic fields, for the import report's warnings.
pub(super) const TYPED_FALLBACK: &str = "payload not in the expected form, kept as fields";
/// libtraceevent could not read the event; its fields are kept as printed.
pub(super) const FAILED_TO_PARSE: &str = "event printed as [FAILED TO PARSE]";

/// Reusable buffers of the payload parsers (no allocation per line once warmed up).
#[derive(Debug, Default)]
pub(super) struct PayloadParser<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    fields: Vec<(StrId, &'a str)>,
}

impl<'a> PayloadParser<'a> {
    /// The typed payload of `kind`, or `None` when the text is not in its known forms.
    pub fn typed(
        &mut self,
        kind: Kind,
        payload: &'a str,
        b: &mut EventStoreBuilder,
    ) -> Option<PayloadIn<'a>> {
        match kind {
            Kind::SchedSwitch => sched::switch(payload, b),
            Kind::SchedWakeup => sched::wakeup(payload, b),
            Kind::SchedMigrate => sched::migrate(payload, b),
            Kind::IrqHandlerEntry => irq::handler_entry(payload, b),
            Kind::IrqHandlerExit => irq::handler_exit(payload),
            Kind::SoftirqEntry => {
                irq::softirq_vec(payload).map(|vec| Payload::SoftirqEntry { vec })
            }
            Kind::SoftirqExit => irq::softirq_vec(payload).map(|vec| Payload::SoftirqExit { vec }),
            Kind::SoftirqRaise => {
                irq::softirq_vec(payload).map(|vec| Payload::SoftirqRaise { vec })
            }
            Kind::MaybeIrqVector { exit } => irq::vector(payload, exit),
            Kind::IrqDisable | Kind::IrqEnable | Kind::PreemptDisable | Kind::PreemptEnable => {
                irq::preemptirq(kind, payload, b)
            }
            Kind::LockAcquire | Kind::LockRelease | Kind::LockContended | Kind::LockAcquired => {
                lock::lockdep(kind, payload, b)
            }
            Kind::ContentionBegin => lock::contention_begin(payload),
            Kind::ContentionEnd => lock::contention_end(payload),
            Kind::Function => misc::function(payload, b),
            Kind::WorkqueueExecuteStart | Kind::WorkqueueExecuteEnd => {
                misc::workqueue(kind, payload, b)
            }
            Kind::TimerExpireEntry
            | Kind::TimerExpireExit
            | Kind::HrtimerExpireEntry
            | Kind::HrtimerExpireExit => misc::timer(kind, payload, b),
            Kind::Print { ip_prefix } => Some(misc::print(payload, ip_prefix)),
            Kind::Generic => None,
        }
    }

    /// Any payload as generic data: a kprobe carrying `lock=` becomes a
    /// [`Payload::LockProbe`], `key=value` text [`Payload::Fields`], anything else
    /// [`Payload::Raw`].
    pub fn generic(&mut self, payload: &'a str, b: &mut EventStoreBuilder) -> PayloadIn<'_> {
        if payload.trim().is_empty() {
            return Payload::Empty;
        }
        if !fields::split(payload, &mut self.pairs) {
            return Payload::Raw(payload.trim_end());
        }
        if let Some(probe) = lock::probe(&self.pairs, b) {
            return probe;
        }
        self.fields.clear();
        for &(key, value) in &self.pairs {
            self.fields.push((b.intern(key), value));
        }
        Payload::Fields(&self.fields)
    }
}

/// Strips libtraceevent's `[FAILED TO PARSE] ` marker.
pub(super) fn strip_failed_to_parse(payload: &str) -> Option<&str> {
    payload
        .strip_prefix("[FAILED TO PARSE]")
        .map(str::trim_start)
}

#[cfg(test)]
mod tests;
