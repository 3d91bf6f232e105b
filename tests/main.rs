//! One integration-test binary over the real corpus (ripgrep style): each module covers one
//! area.

mod ftrace_text;
mod lab_stats;
mod gui;
