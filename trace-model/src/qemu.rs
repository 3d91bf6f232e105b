//! QEMU log records: x86 `-d int` interrupt records (no timestamps: kept in the order QEMU
//! serviced them) and trace-event `log` backend lines (host wall-clock timestamps).

use serde::Serialize;

/// One `-d int` record: `%6d: v=%02x e=%04x i=%d cpl=%d IP=%04x:%016lx pc=%016lx ...`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QemuInterrupt {
    /// 1-based line of the record.
    pub line: u32,
    /// QEMU's running counter (`%6d:`).
    pub seq: u64,
    pub vector: u8,
    pub error_code: u32,
    /// `i=1`: a software `int`.
    pub software: bool,
    pub cpl: u8,
    pub pc: u64,
    /// Faulting address, printed for page faults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cr2: Option<u64>,
    /// `RFL=` of the register dump that follows the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rflags: Option<u32>,
}

impl QemuInterrupt {
    /// Guest IF (RFLAGS bit 9) at the time of the interrupt, when the dump was printed.
    pub fn irqs_enabled(&self) -> Option<bool> {
        self.rflags.map(|f| f & 0x200 != 0)
    }
}

/// One trace-event `log` backend line: `pid@sec.usec:event args`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QemuTraceEvent {
    pub line: u32,
    pub host_tid: u32,
    /// Host wall-clock seconds (gettimeofday).
    pub ts: f64,
    pub name: String,
    pub args: String,
}

/// Everything read from a QEMU log.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QemuLog {
    pub interrupts: Vec<QemuInterrupt>,
    pub trace_events: Vec<QemuTraceEvent>,
    /// `check_exception old: 0x.. new 0x..` lines (exception delivery, escalation).
    pub check_exceptions: u64,
    /// Lines that are neither records nor their register dumps.
    pub other_lines: u64,
}

/// Interrupts of one vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct VectorCount {
    pub vector: u8,
    pub name: &'static str,
    pub count: u64,
}

impl QemuLog {
    /// Interrupt counts by vector, most frequent first (ties by vector).
    pub fn counts_by_vector(&self) -> Vec<VectorCount> {
        let mut counts = [0u64; 256];
        for interrupt in &self.interrupts {
            counts[usize::from(interrupt.vector)] += 1;
        }
        let mut out: Vec<VectorCount> = (0..=255u8)
            .filter(|&v| counts[usize::from(v)] > 0)
            .map(|vector| VectorCount {
                vector,
                name: vector_name(vector),
                count: counts[usize::from(vector)],
            })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then(a.vector.cmp(&b.vector)));
        out
    }
}

/// What a vector means on an x86_64 Linux guest (arch/x86/include/asm/irq_vectors.h).
pub fn vector_name(vector: u8) -> &'static str {
    match vector {
        0x00 => "divide error",
        0x01 => "debug",
        0x02 => "NMI",
        0x03 => "breakpoint",
        0x06 => "invalid opcode",
        0x08 => "double fault",
        0x0d => "general protection",
        0x0e => "page fault",
        0x12 => "machine check",
        0x80 => "int 0x80",
        0xec => "LOCAL_TIMER",
        0xf2..=0xf4 => "posted interrupt",
        0xf6 => "IRQ_WORK",
        0xf7 => "X86_PLATFORM_IPI",
        0xf8 => "REBOOT",
        0xf9 => "THRESHOLD_APIC",
        0xfa => "THERMAL_APIC",
        0xfb => "CALL_FUNCTION_SINGLE",
        0xfc => "CALL_FUNCTION",
        0xfd => "RESCHEDULE",
        0xfe => "ERROR_APIC",
        0xff => "SPURIOUS_APIC",
        0x20..=0xeb => "device",
        _ => "exception",
    }
}
