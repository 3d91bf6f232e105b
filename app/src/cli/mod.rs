//! Command-line subcommands.

pub mod check;
pub mod stats;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// kctx: a visual debugger for Linux kernel context traces.
#[derive(Debug, Parser)]
#[command(name = "kctx", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output formats shared by the reporting subcommands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Counts: events in all, by name and CPU, time span, lost events, unparsed lines.
    /// Detect sleep-in-atomic, lock-order cycles and irq inversions: the headless CI gate.
    Check(check::CheckArgs),
    Stats {
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Stats { format, files }) => stats::run(&files, format),
        None => {
            anyhow::bail!("no subcommand given; try `kctx --help`")
        }
    }
}
