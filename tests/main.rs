//! One integration-test binary over the real corpus (ripgrep style): each module covers one
//! area.

mod lab_stats;
mod tracedat;
