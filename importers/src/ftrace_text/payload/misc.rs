//! Function entries, workqueue execution, timer / hrtimer expiry, print / trace_printk.

use super::Kind;
use super::text::{hex, symbol, value};
use crate::ftrace_text::scan::split_str;
use trace_model::{EventStoreBuilder, Payload, PayloadIn, StrId};

/// `func <-parent` (tracefs), `func <-- parent` (trace-cmd's plugin) or just `func`.
pub(super) fn function<'a>(p: &'a str, b: &mut EventStoreBuilder) -> Option<PayloadIn<'a>> {
    let p = p.trim_ascii_end();
    let (func, parent) = match split_str(p, " <-") {
        Some((func, parent)) => (func, parent.trim_start_matches('-').trim_ascii_start()),
        None => (p, ""),
    };
    if func.is_empty() || func.contains(' ') {
        return None;
    }
    Some(Payload::Function {
        func: b.intern(func),
        parent: if parent.is_empty() {
            StrId::EMPTY
        } else {
            b.intern(parent)
        },
    })
}

/// `work struct ffff...: function free_work` (the end event of older kernels lacks the
/// function).
pub(super) fn workqueue<'a>(
    kind: Kind,
    p: &'a str,
    b: &mut EventStoreBuilder,
) -> Option<PayloadIn<'a>> {
    let rest = p.strip_prefix("work struct ")?;
    let (work, function) = match split_str(rest, ": function ") {
        Some((work, function)) => (work, b.intern(symbol(function.trim_end()))),
        None => (rest.trim_end(), StrId::EMPTY),
    };
    let work = hex(work)?;
    Some(if kind == Kind::WorkqueueExecuteStart {
        Payload::WorkqueueExecuteStart { work, function }
    } else {
        Payload::WorkqueueExecuteEnd { work, function }
    })
}

/// `timer=... function=f now=...`, `hrtimer=... function=f now=...` and their exits.
pub(super) fn timer<'a>(
    kind: Kind,
    p: &'a str,
    b: &mut EventStoreBuilder,
) -> Option<PayloadIn<'a>> {
    let mut function = || value(p, "function").map(|f| b.intern(symbol(f)));
    Some(match kind {
        Kind::TimerExpireEntry => Payload::TimerExpireEntry {
            timer: hex(value(p, "timer")?)?,
            function: function()?,
        },
        Kind::TimerExpireExit => Payload::TimerExpireExit {
            timer: hex(value(p, "timer")?)?,
        },
        Kind::HrtimerExpireEntry => Payload::HrtimerExpireEntry {
            hrtimer: hex(value(p, "hrtimer")?)?,
            function: function()?,
        },
        _ => Payload::HrtimerExpireExit {
            hrtimer: hex(value(p, "hrtimer")?)?,
        },
    })
}

/// The message of print / bprint / bputs. trace-cmd report (and tracefs for bprint) put the
/// caller first (`tracing_mark_write: msg`, `0xffff00000819ff24s: msg`); it is dropped.
pub(super) fn print(p: &str, ip_prefix: bool) -> PayloadIn<'_> {
    let mut text = p.trim_end();
    if ip_prefix
        && let Some((caller, msg)) = text.split_once(": ")
        && !caller.contains(' ')
    {
        text = msg;
    }
    Payload::Print { text }
}
