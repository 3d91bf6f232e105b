//! The `kctx` application: CLI subcommands and the GUI. Thin: it calls the `importers` and
//! `trace-model` libraries.

pub mod cli;
pub mod gui;
pub mod text;
pub mod units;
