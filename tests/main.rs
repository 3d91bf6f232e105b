//! One integration-test binary over the real corpus (ripgrep style): each module covers one
//! area.

mod console;
mod ftrace_text;
mod gui;
mod lab_stats;
