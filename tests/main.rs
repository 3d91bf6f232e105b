//! One integration-test binary over the real corpus (ripgrep style): each module covers one
//! area.

mod check;
mod console;
mod context;
mod ftrace_text;
mod gui;
mod lab_stats;
mod latency;
mod lock_stats;
mod splat_context;
mod tracedat;
mod wholekernel_sleep;
