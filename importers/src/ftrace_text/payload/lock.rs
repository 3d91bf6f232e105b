//! lock:* (lockdep / lock-stat), lock:contention_begin/end, and kprobes carrying `lock=`.

use super::Kind;
use super::text::{hex, int, symbol};
use trace_model::{EventStoreBuilder, Payload, PayloadIn, StrId};

/// `addr [try ][read ]name` for lock_acquire, `addr name` for the others.
pub(super) fn lockdep<'a>(
    kind: Kind,
    p: &'a str,
    b: &mut EventStoreBuilder,
) -> Option<PayloadIn<'a>> {
    let (addr, mut name) = p.trim_ascii_end().split_once(' ')?;
    let addr = hex(addr)?;
    if kind == Kind::LockAcquire {
        let trylock = name.starts_with("try ");
        if trylock {
            name = &name[4..];
        }
        let read = name.starts_with("read ");
        if read {
            name = &name[5..];
        }
        return Some(Payload::LockAcquire {
            addr,
            name: b.intern(name),
            trylock,
            read: u8::from(read),
        });
    }
    let name = b.intern(name);
    Some(match kind {
        Kind::LockRelease => Payload::LockRelease { addr, name },
        Kind::LockContended => Payload::LockContended { addr, name },
        _ => Payload::LockAcquired { addr, name },
    })
}

/// LCB_F_* names of `contention_begin`'s flags.
const LCB_FLAGS: [(&str, u32); 6] = [
    ("SPIN", 1),
    ("READ", 2),
    ("WRITE", 4),
    ("RT", 8),
    ("PERCPU", 16),
    ("MUTEX", 32),
];

/// `addr (flags=SPIN|MUTEX)`.
pub(super) fn contention_begin<'a>(p: &'a str) -> Option<PayloadIn<'a>> {
    let (addr, rest) = p.split_once(' ')?;
    let names = rest.trim().strip_prefix("(flags=")?.strip_suffix(')')?;
    let mut flags = 0;
    for name in names.split('|').filter(|n| !n.is_empty()) {
        flags |= match LCB_FLAGS.iter().find(|(n, _)| *n == name) {
            Some(&(_, bit)) => bit,
            // libtraceevent prints unknown bits in hex
            None => u32::try_from(hex(name)?).ok()?,
        };
    }
    Some(Payload::ContentionBegin {
        addr: hex(addr)?,
        flags,
    })
}

/// `addr (ret=0)`.
pub(super) fn contention_end<'a>(p: &'a str) -> Option<PayloadIn<'a>> {
    let (addr, rest) = p.split_once(' ')?;
    let ret = rest.trim().strip_prefix("(ret=")?.strip_suffix(')')?;
    Some(Payload::ContentionEnd {
        addr: hex(addr)?,
        ret: int(ret)?,
    })
}

/// A kprobe such as `(_raw_spin_lock+0x0/0x30) lock=0xffffffffc023a724`: the lock address and
/// the probed function. trace-cmd report prints the probe point as an address
/// (`(ffffffff81a5a000)`), kept as text.
pub(super) fn probe<'a>(
    pairs: &[(&str, &str)],
    b: &mut EventStoreBuilder,
) -> Option<PayloadIn<'a>> {
    let addr = pairs.iter().find(|(k, _)| *k == "lock")?.1;
    let addr = hex(addr)?;
    let probed = match pairs.first() {
        Some(&("", lead)) => {
            let inner = lead.strip_prefix('(').and_then(|l| l.strip_suffix(')'));
            b.intern(symbol(inner.unwrap_or(lead)))
        }
        _ => StrId::EMPTY,
    };
    Some(Payload::LockProbe { addr, probed })
}
