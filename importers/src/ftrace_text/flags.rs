//! The flags column (`d.h2.`), decoded by position: the same letter means different things in
//! different columns (`b` is BH-off in the first, lazy resched in the second).

use rustc_hash::FxHashMap;
use trace_model::{ContextFlags, FlagBits};

/// What the header said about the columns, when the file has one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum FlagLayout {
    /// No header seen: 5 characters mean depth + migrate-disable (>= 5.15, the common case).
    #[default]
    Unknown,
    /// Header without a migrate-disable column (<= 5.14): a 5th character is a second depth
    /// digit (depth >= 16 prints as two hex digits).
    NoMigrateColumn,
    /// Header with a migrate-disable column.
    MigrateColumn,
}

/// [`decode`] with a memo: a trace prints a few dozen distinct flags columns, and looking one
/// up costs a fraction of decoding it (this runs once per event line).
#[derive(Debug, Default)]
pub(super) struct FlagDecoder {
    layout: FlagLayout,
    memo: FxHashMap<u64, ContextFlags>,
}

impl FlagDecoder {
    /// Follows the layout the header stated; the memo holds one layout's decodings.
    pub fn set_layout(&mut self, layout: FlagLayout) {
        if layout != self.layout {
            self.layout = layout;
            self.memo.clear();
        }
    }

    pub fn decode(&mut self, col: &[u8]) -> Option<ContextFlags> {
        let key = memo_key(col)?;
        if let Some(&flags) = self.memo.get(&key) {
            return Some(flags);
        }
        // Only valid columns are kept, so prose in console logs cannot grow the memo.
        let flags = decode(col, self.layout)?;
        self.memo.insert(key, flags);
        Some(flags)
    }
}

/// The column's length and bytes packed in a u64; `None` past 7 bytes (never a flags column).
fn memo_key(col: &[u8]) -> Option<u64> {
    (col.len() <= 7).then(|| {
        col.iter()
            .fold(col.len() as u64, |key, &c| key << 8 | u64::from(c))
    })
}

/// Decodes a flags field of 4 to 7 characters; `None` if it is not one.
pub(super) fn decode(col: &[u8], layout: FlagLayout) -> Option<ContextFlags> {
    let (irq, resched, lazy, ctx, rest) = match *col {
        // PREEMPT_RT patches (< 6.12): need-resched-lazy has its own column.
        [irq, resched, lazy, ctx, ref rest @ ..] if col.len() >= 6 => {
            (irq, resched, Some(lazy), ctx, rest)
        }
        [irq, resched, ctx, ref rest @ ..] => (irq, resched, None, ctx, rest),
        _ => return None,
    };
    let mut bits = FlagBits::default();
    match irq {
        b'd' => bits.irqs_off = true,
        b'D' => (bits.irqs_off, bits.bh_off) = (true, true),
        b'b' => bits.bh_off = true,
        b'X' => bits.irqs_nosupport = true,
        b'.' => {}
        _ => return None,
    }
    decode_resched(resched, &mut bits)?;
    match lazy {
        Some(b'.') | None => {}
        Some(c) if c.is_ascii_alphabetic() => bits.need_resched_lazy = true,
        Some(_) => return None,
    }
    match ctx {
        b'Z' => (bits.nmi, bits.hardirq) = (true, true),
        b'z' => bits.nmi = true,
        b'H' => (bits.hardirq, bits.softirq) = (true, true),
        b'h' => bits.hardirq = true,
        b's' => bits.softirq = true,
        b'.' => {}
        _ => return None,
    }
    let (depth, migrate) = match *rest {
        [d] => (depth_digit(d)?, None),
        [hi, lo] if layout == FlagLayout::NoMigrateColumn && lo != b'.' => {
            (depth_digit(hi)? << 4 | depth_digit(lo)?, None)
        }
        [d, m] => (depth_digit(d)?, Some(depth_digit(m)?)),
        // RT: depth, lazy depth (not modelled), migrate-disable.
        [d, _lazy_depth, m] if lazy.is_some() => (depth_digit(d)?, Some(depth_digit(m)?)),
        _ => return None,
    };
    Some(ContextFlags::new(bits, Some(depth), migrate))
}

/// Second column: TIF_NEED_RESCHED, PREEMPT_NEED_RESCHED and (>= 6.13) NEED_RESCHED_LAZY.
fn decode_resched(c: u8, bits: &mut FlagBits) -> Option<()> {
    let (need, preempt, lazy) = match c {
        b'N' => (true, true, false),
        b'n' => (true, false, false),
        b'p' => (false, true, false),
        b'B' => (true, true, true),
        b'L' => (false, true, true),
        b'b' => (true, false, true),
        b'l' => (false, false, true),
        b'.' => (false, false, false),
        _ => return None,
    };
    bits.need_resched = need;
    bits.preempt_resched = preempt;
    bits.need_resched_lazy |= lazy;
    Some(())
}

fn depth_digit(c: u8) -> Option<u8> {
    match c {
        b'.' => Some(0),
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::IrqContext;

    fn flags(s: &str) -> ContextFlags {
        decode(s.as_bytes(), FlagLayout::Unknown).expect(s)
    }

    #[test]
    fn four_columns_have_no_migrate_disable() {
        let f = flags("dNs4");
        assert_eq!(f.irqs_off(), Some(true));
        assert_eq!(f.need_resched(), Some(true));
        assert_eq!(f.preempt_resched(), Some(true));
        assert_eq!(f.irq_context(), Some(IrqContext::Softirq));
        assert_eq!(f.preempt_depth(), Some(4));
        assert_eq!(f.migrate_disable(), None);
    }

    #[test]
    fn five_columns_carry_migrate_disable() {
        let f = flags("d.h2.");
        assert_eq!(f.irq_context(), Some(IrqContext::Hardirq));
        assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(2), Some(0)));
        let f = flags("...12");
        assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(1), Some(2)));
    }

    #[test]
    fn two_digit_depth_before_5_15() {
        let f = decode(b"d..1f", FlagLayout::NoMigrateColumn).unwrap();
        assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(0x1f), None));
        // A dot in the 5th column is still a migrate-disable column.
        let f = decode(b"d..1.", FlagLayout::NoMigrateColumn).unwrap();
        assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(1), Some(0)));
    }

    #[test]
    fn b_means_bh_off_first_and_lazy_second() {
        let f = flags("bb.1.");
        assert_eq!(f.bh_off(), Some(true));
        assert_eq!(f.irqs_off(), Some(false));
        assert_eq!(f.need_resched(), Some(true));
        assert_eq!(f.need_resched_lazy(), Some(true));
        assert_eq!(f.preempt_resched(), Some(false));
        let f = flags("DL..."); // irqs and BH off; PREEMPT_NEED_RESCHED + lazy
        assert_eq!((f.irqs_off(), f.bh_off()), (Some(true), Some(true)));
        assert_eq!(
            (f.preempt_resched(), f.need_resched_lazy()),
            (Some(true), Some(true))
        );
        assert_eq!(flags("Xp.1").irqs_nosupport(), Some(true));
    }

    #[test]
    fn nmi_letters() {
        assert_eq!(flags("d.Z1.").irq_context(), Some(IrqContext::NmiInHardirq));
        assert_eq!(flags("d.z1.").irq_context(), Some(IrqContext::Nmi));
        assert_eq!(
            flags("d.H1.").irq_context(),
            Some(IrqContext::HardirqInSoftirq)
        );
    }

    #[test]
    fn preempt_rt_six_and_seven_columns() {
        // irqs-off, need-resched, need-resched-lazy, hardirq/softirq, depth, migrate
        let f = flags("dnLh21");
        assert_eq!(f.irqs_off(), Some(true));
        assert_eq!(f.need_resched(), Some(true));
        assert_eq!(f.need_resched_lazy(), Some(true));
        assert_eq!(f.irq_context(), Some(IrqContext::Hardirq));
        assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(2), Some(1)));
        // ... plus the preempt-lazy-depth column before migrate-disable
        let f = flags("d..s1.2");
        assert_eq!(f.need_resched_lazy(), Some(false));
        assert_eq!(f.irq_context(), Some(IrqContext::Softirq));
        assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(1), Some(2)));
    }

    #[test]
    fn memo_follows_the_layout() {
        let mut d = FlagDecoder::default();
        assert_eq!(d.decode(b"d..1g"), None);
        assert_eq!(d.decode(b"d..12"), Some(flags("d..12")));
        assert_eq!(d.decode(b"d..12"), Some(flags("d..12")));
        d.set_layout(FlagLayout::NoMigrateColumn);
        let f = d.decode(b"d..12").unwrap();
        assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(0x12), None));
        assert_eq!(d.decode(b"d..1.2345"), None);
    }

    #[test]
    fn rejects_what_is_not_a_flags_field() {
        for bad in ["", "d.", "12.5", "a..1", "d..g", "d..1.2345"] {
            assert_eq!(decode(bad.as_bytes(), FlagLayout::Unknown), None, "{bad}");
        }
    }
}
