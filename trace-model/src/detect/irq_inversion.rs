//! Detector: irq_inversion (being written; see issue 6).
