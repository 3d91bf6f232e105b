//! One integration-test binary over the real corpus (ripgrep style): each module covers one
//! area.

mod cache;
mod check;
mod cli_text;
mod console;
mod console_shapes;
mod context;
mod diff;
mod ftrace_text;
mod gui;
mod gui_compare;
mod gui_query;
mod gui_views;
mod lab_stats;
mod latency;
mod lock_stats;
mod lockdep_truth;
mod splat_context;
mod syzkaller;
mod tables;
mod tracedat;
mod wholekernel_locks;
mod wholekernel_sleep;
