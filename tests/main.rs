//! One integration-test binary over the real corpus (ripgrep style): each module covers one
//! area.

mod ftrace_text;
mod console;
mod lab_stats;
mod gui;
