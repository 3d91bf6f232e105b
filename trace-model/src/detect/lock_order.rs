//! Detector: lock_order (being written; see issue 6).
