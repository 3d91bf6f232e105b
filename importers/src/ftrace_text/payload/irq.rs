//! irq_handler_entry/exit, softirq_entry/exit/raise, x86 irq_vectors, preemptirq:*.

use super::Kind;
use super::text::{int, symbol, uint, value};
use trace_model::{EventStoreBuilder, Payload, PayloadIn};

/// `irq=4 name=ttyS0` (2.6.3x: `handler=`).
pub(super) fn handler_entry<'a>(p: &'a str, b: &mut EventStoreBuilder) -> Option<PayloadIn<'a>> {
    let irq = int(value(p, "irq")?)?;
    let name = p
        .split_once(" name=")
        .or_else(|| p.split_once(" handler="))?
        .1;
    Some(Payload::IrqHandlerEntry {
        irq,
        name: b.intern(name.trim_end()),
    })
}

/// `irq=4 ret=handled` (2.6.3x: `return=`).
pub(super) fn handler_exit<'a>(p: &'a str) -> Option<PayloadIn<'a>> {
    let ret = value(p, "ret").or_else(|| value(p, "return"))?;
    Some(Payload::IrqHandlerExit {
        irq: int(value(p, "irq")?)?,
        handled: ret == "handled",
    })
}

/// `vec=1 [action=TIMER]`.
pub(super) fn softirq_vec(p: &str) -> Option<u32> {
    uint(value(p, "vec")?)
}

/// `vector=236` of `irq_vectors:local_timer_entry` and friends.
pub(super) fn vector<'a>(p: &'a str, exit: bool) -> Option<PayloadIn<'a>> {
    let vector = int(p.trim_end().strip_prefix("vector=")?)?;
    Some(if exit {
        Payload::IrqVectorExit { vector }
    } else {
        Payload::IrqVectorEntry { vector }
    })
}

/// `caller=fn+0x18/0x46 [mod] parent=0x0` (tracefs) or `caller=fn+0x18 parent=0x0` (report).
pub(super) fn preemptirq<'a>(
    kind: Kind,
    p: &'a str,
    b: &mut EventStoreBuilder,
) -> Option<PayloadIn<'a>> {
    let caller = b.intern(symbol(value(p, "caller")?));
    let parent = b.intern(symbol(value(p, "parent")?));
    Some(match kind {
        Kind::IrqDisable => Payload::IrqDisable { caller, parent },
        Kind::IrqEnable => Payload::IrqEnable { caller, parent },
        Kind::PreemptDisable => Payload::PreemptDisable { caller, parent },
        _ => Payload::PreemptEnable { caller, parent },
    })
}
