//! Detector: sleep_in_atomic (being written; see issue 6).
