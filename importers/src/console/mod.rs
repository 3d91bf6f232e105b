//! Kernel console, dmesg and serial logs: splats as records (issue 7, formats.md §3).
//!
//! Lines go through [`prefix`] (printk time, caller id, syslog / kmsg / journal / harness
//! prefixes, mail quoting) and [`lines`] (soft-wrap joining); [`segment`] cuts the log into
//! splats at their first lines ([`header`]); one module per splat family fills the facts.

mod atomic_sleep;
mod common;
pub mod frames;
pub mod header;
mod hung_task;
pub mod lines;
mod lockdep;
pub mod prefix;
mod rcu_stall;
mod segment;
mod spinlock;
mod warning;

use trace_model::splat::Splat;

/// All splats of a console log, in file order. Never fails: any bytes are a console log.
pub fn parse_splats(bytes: &[u8]) -> Vec<Splat> {
    segment::splats(&lines::logical_lines(bytes))
}
