//! Detectors (issue 6): sleep-in-atomic, lock-order cycles, irq inversion. Each reads the
//! event store and the context model and returns deduplicated [`crate::Finding`]s.

pub mod irq_inversion;
pub mod lock_order;
pub mod sleep_in_atomic;
