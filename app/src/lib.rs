//! The `kctx` application: CLI subcommands, the GUI and the report writers both use. Thin: it
//! calls the `analysis` pipeline and the `trace-model` library.

pub mod cli;
pub mod gui;
mod launch;
pub mod report;
pub mod text;
pub mod units;

pub use launch::{Cli, run};
