//! The per-event execution context that ftrace records with every event: the flags column of
//! the text formats (`d.h2.`) or `common_flags` / `common_preempt_count` of trace.dat.
//!
//! Packed into 4 bytes. "Not recorded" (a trace without the irq-info column, or a field the
//! kernel did not have) is kept distinct from zero: [`ContextFlags::recorded`] is false and
//! the depth accessors return `None`.

use serde::Serialize;

/// Which interrupt context the CPU was serving when the event was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IrqContext {
    /// Task (process) context: flags column `.`.
    Task,
    /// Serving a softirq: `s`.
    Softirq,
    /// Hardirq: `h`.
    Hardirq,
    /// Hardirq that interrupted a softirq: `H`.
    HardirqInSoftirq,
    /// NMI: `z`.
    Nmi,
    /// NMI inside a hardirq: `Z`.
    NmiInHardirq,
}

/// Packed per-event context flags. Layout (bit numbers):
///
/// | bits  | meaning                                            |
/// |-------|----------------------------------------------------|
/// | 0-7   | preempt depth, `0xff` = not recorded               |
/// | 8-15  | migrate-disable depth, `0xff` = not recorded       |
/// | 16    | flags recorded at all                              |
/// | 17    | irqs off                                           |
/// | 18    | BH disabled (kernels >= 5.18 record it)            |
/// | 19    | arch cannot report irq state (`X`)                 |
/// | 20    | TIF_NEED_RESCHED                                   |
/// | 21    | PREEMPT_NEED_RESCHED                               |
/// | 22    | NEED_RESCHED_LAZY                                  |
/// | 23    | hardirq                                            |
/// | 24    | serving softirq                                    |
/// | 25    | NMI                                                |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct ContextFlags(pub u32);

const NOT_RECORDED: u32 = 0xff;
const RECORDED: u32 = 1 << 16;
const IRQS_OFF: u32 = 1 << 17;
const BH_OFF: u32 = 1 << 18;
const IRQS_NOSUPPORT: u32 = 1 << 19;
const NEED_RESCHED: u32 = 1 << 20;
const PREEMPT_RESCHED: u32 = 1 << 21;
const NEED_RESCHED_LAZY: u32 = 1 << 22;
const HARDIRQ: u32 = 1 << 23;
const SOFTIRQ: u32 = 1 << 24;
const NMI: u32 = 1 << 25;

impl Default for ContextFlags {
    fn default() -> Self {
        Self::NOT_RECORDED
    }
}

/// Builder-style setters used by importers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagBits {
    pub irqs_off: bool,
    pub bh_off: bool,
    pub irqs_nosupport: bool,
    pub need_resched: bool,
    pub preempt_resched: bool,
    pub need_resched_lazy: bool,
    pub hardirq: bool,
    pub softirq: bool,
    pub nmi: bool,
}

impl ContextFlags {
    /// Nothing recorded (no irq-info column).
    pub const NOT_RECORDED: ContextFlags = ContextFlags(NOT_RECORDED | (NOT_RECORDED << 8));

    /// Flags as recorded; `preempt_depth` / `migrate_disable` are `None` when the trace
    /// did not carry them.
    pub fn new(bits: FlagBits, preempt_depth: Option<u8>, migrate_disable: Option<u8>) -> Self {
        let mut v = RECORDED;
        v |= u32::from(preempt_depth.map_or(NOT_RECORDED as u8, |d| d.min(0xfe)));
        v |= u32::from(migrate_disable.map_or(NOT_RECORDED as u8, |d| d.min(0xfe))) << 8;
        for (set, bit) in [
            (bits.irqs_off, IRQS_OFF),
            (bits.bh_off, BH_OFF),
            (bits.irqs_nosupport, IRQS_NOSUPPORT),
            (bits.need_resched, NEED_RESCHED),
            (bits.preempt_resched, PREEMPT_RESCHED),
            (bits.need_resched_lazy, NEED_RESCHED_LAZY),
            (bits.hardirq, HARDIRQ),
            (bits.softirq, SOFTIRQ),
            (bits.nmi, NMI),
        ] {
            if set {
                v |= bit;
            }
        }
        ContextFlags(v)
    }

    /// Were flags recorded for this event?
    pub fn recorded(self) -> bool {
        self.0 & RECORDED != 0
    }

    fn bit(self, bit: u32) -> Option<bool> {
        self.recorded().then_some(self.0 & bit != 0)
    }

    /// Interrupts disabled.
    pub fn irqs_off(self) -> Option<bool> {
        self.bit(IRQS_OFF)
    }
    /// Bottom halves disabled (only kernels >= 5.18 record this).
    pub fn bh_off(self) -> Option<bool> {
        self.bit(BH_OFF)
    }
    /// The architecture could not report the irq state.
    pub fn irqs_nosupport(self) -> Option<bool> {
        self.bit(IRQS_NOSUPPORT)
    }
    /// TIF_NEED_RESCHED set.
    pub fn need_resched(self) -> Option<bool> {
        self.bit(NEED_RESCHED)
    }
    /// PREEMPT_NEED_RESCHED set.
    pub fn preempt_resched(self) -> Option<bool> {
        self.bit(PREEMPT_RESCHED)
    }
    /// NEED_RESCHED_LAZY set.
    pub fn need_resched_lazy(self) -> Option<bool> {
        self.bit(NEED_RESCHED_LAZY)
    }
    /// Hardirq bit.
    pub fn hardirq(self) -> Option<bool> {
        self.bit(HARDIRQ)
    }
    /// Serving-softirq bit.
    pub fn softirq(self) -> Option<bool> {
        self.bit(SOFTIRQ)
    }
    /// NMI bit.
    pub fn nmi(self) -> Option<bool> {
        self.bit(NMI)
    }

    /// The interrupt context these flags show, if recorded.
    pub fn irq_context(self) -> Option<IrqContext> {
        if !self.recorded() {
            return None;
        }
        let (h, s, n) = (
            self.0 & HARDIRQ != 0,
            self.0 & SOFTIRQ != 0,
            self.0 & NMI != 0,
        );
        Some(match (n, h, s) {
            (true, true, _) => IrqContext::NmiInHardirq,
            (true, false, _) => IrqContext::Nmi,
            (false, true, true) => IrqContext::HardirqInSoftirq,
            (false, true, false) => IrqContext::Hardirq,
            (false, false, true) => IrqContext::Softirq,
            (false, false, false) => IrqContext::Task,
        })
    }

    /// Preempt depth, if recorded.
    pub fn preempt_depth(self) -> Option<u8> {
        let d = (self.0 & 0xff) as u8;
        (d != NOT_RECORDED as u8).then_some(d)
    }

    /// Migrate-disable depth, if recorded.
    pub fn migrate_disable(self) -> Option<u8> {
        let d = ((self.0 >> 8) & 0xff) as u8;
        (d != NOT_RECORDED as u8).then_some(d)
    }

    /// The flags column as the kernel prints it (`d.h2.`), or `None` if not recorded.
    pub fn to_column(self) -> Option<String> {
        if !self.recorded() {
            return None;
        }
        let irq = match (self.0 & IRQS_OFF != 0, self.0 & BH_OFF != 0) {
            (true, true) => 'D',
            (true, false) => 'd',
            (false, true) => 'b',
            (false, false) if self.0 & IRQS_NOSUPPORT != 0 => 'X',
            _ => '.',
        };
        let lazy = self.0 & NEED_RESCHED_LAZY != 0;
        let resched = match (
            self.0 & NEED_RESCHED != 0,
            self.0 & PREEMPT_RESCHED != 0,
            lazy,
        ) {
            (true, true, true) => 'B',
            (true, true, false) => 'N',
            (true, false, true) => 'b',
            (true, false, false) => 'n',
            (false, true, true) => 'L',
            (false, true, false) => 'p',
            (false, false, true) => 'l',
            (false, false, false) => '.',
        };
        let ctx = match self.irq_context() {
            Some(IrqContext::NmiInHardirq) => 'Z',
            Some(IrqContext::Nmi) => 'z',
            Some(IrqContext::HardirqInSoftirq) => 'H',
            Some(IrqContext::Hardirq) => 'h',
            Some(IrqContext::Softirq) => 's',
            _ => '.',
        };
        let mut s = String::with_capacity(6);
        s.push(irq);
        s.push(resched);
        s.push(ctx);
        match self.preempt_depth() {
            Some(0) => s.push('.'),
            Some(d) => s.push_str(&format!("{d:x}")),
            None => {}
        }
        match self.migrate_disable() {
            Some(0) => s.push('.'),
            Some(d) => s.push_str(&format!("{d:x}")),
            None => {}
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_recorded_is_distinct_from_zero() {
        let none = ContextFlags::NOT_RECORDED;
        let zero = ContextFlags::new(FlagBits::default(), Some(0), Some(0));
        assert_ne!(none, zero);
        assert_eq!(none.irqs_off(), None);
        assert_eq!(zero.irqs_off(), Some(false));
        assert_eq!(none.preempt_depth(), None);
        assert_eq!(zero.preempt_depth(), Some(0));
    }

    #[test]
    fn column_round_trip_shapes() {
        let f = ContextFlags::new(
            FlagBits {
                irqs_off: true,
                hardirq: true,
                need_resched: true,
                preempt_resched: true,
                ..Default::default()
            },
            Some(2),
            Some(0),
        );
        assert_eq!(f.to_column().as_deref(), Some("dNh2."));
        assert_eq!(f.irq_context(), Some(IrqContext::Hardirq));
        let four = ContextFlags::new(FlagBits::default(), Some(0x1f), None);
        assert_eq!(four.to_column().as_deref(), Some("...1f"));
    }
}
