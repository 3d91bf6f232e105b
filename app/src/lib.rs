//! The `kctx` application: CLI subcommands (and, later, the GUI). Thin: it calls the
//! `importers` and `trace-model` libraries.

pub mod cli;
