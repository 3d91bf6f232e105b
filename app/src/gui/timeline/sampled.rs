//! Exact versus sampled context. An interval opened by a `preemptirq` toggle or an
//! `irq_handler_entry` is exact; one only the events' flags column showed (a CPU that traced
//! only its ticks, a trace of `bprint` events all flagged `d`) is sampled: the state was seen
//! at those events, and its real start and end lie somewhere between them. Sampled values
//! carry a bit that draws them faint and makes their tooltip say so, and they are drawn only
//! where the CPU's events saw them (`trace_model::context::seen`): nothing across a stretch
//! with no event.

use trace_model::payload::Payload;
use trace_model::{EventIdx, EventStore};

/// Set on a lane value that only the flags showed.
pub const SAMPLED: u32 = 1 << 31;

/// The value without the sampled bit.
pub fn plain(v: u32) -> u32 {
    v & !SAMPLED
}

pub fn is_sampled(v: u32) -> bool {
    v & SAMPLED != 0
}

/// `value`, marked sampled unless `exact`.
pub fn mark(value: u32, exact: bool) -> u32 {
    if exact { value } else { value | SAMPLED }
}

/// The interval opened at event `first` is exact for irqs-off: a `preemptirq:irq_disable`.
pub fn irqs_off_exact(store: &EventStore, first: EventIdx) -> bool {
    matches!(store.payload(first), Payload::IrqDisable { .. })
}

/// The interval opened at event `first` is exact for preempt-off: a
/// `preemptirq:preempt_disable`.
pub fn preempt_off_exact(store: &EventStore, first: EventIdx) -> bool {
    matches!(store.payload(first), Payload::PreemptDisable { .. })
}

/// What a tooltip says of a value's source.
pub fn source_text(v: u32) -> &'static str {
    if is_sampled(v) {
        "sampled: only the events' flags showed it; it began and ended somewhere between \
         the events around its ends, and is not drawn across stretches without events"
    } else {
        "exact: from the trace's own toggle or entry events"
    }
}
