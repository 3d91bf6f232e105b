//! Command-line subcommands.

pub mod check;
pub mod console_check;
pub mod context;
pub mod coverage;
pub mod splats;
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
    /// Detect sleep-in-atomic, lock-order cycles and irq inversions: the headless CI gate.
    Check(check::CheckArgs),
    /// Counts: events in all, by name and CPU, time span, lost events, unparsed lines.
    Stats {
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Context stack, preempt depth, irq / BH state and locks held on each CPU at one time.
    Context {
        file: PathBuf,
        /// Trace time in seconds, as the trace prints it.
        #[arg(long)]
        at: f64,
        /// Only this CPU.
        #[arg(long)]
        cpu: Option<u32>,
        /// kallsyms text (`address type name [module]`) naming lock addresses.
        #[arg(long)]
        kallsyms: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
    },
    /// What the trace can and cannot tell, and which checks it supports.
    Coverage {
        file: PathBuf,
        #[arg(long)]
        kallsyms: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
    },
    /// The kernel's own reports (lockdep, might_sleep, RCU stalls...) in a console / serial
    /// log, or the interrupt counts by vector of a QEMU `-d int` log.
    Splats {
        #[arg(long, value_enum, default_value_t)]
        format: TextOrJson,
        file: PathBuf,
    },
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Some(Command::Check(args)) => check::run(&args),
        Some(Command::Stats { format, files }) => stats::run(&files, format),
        Some(Command::Context {
            file,
            at,
            cpu,
            kallsyms,
            format,
        }) => context::run(&file, at, cpu, kallsyms.as_deref(), format),
        Some(Command::Coverage {
            file,
            kallsyms,
            format,
        }) => coverage::run(&file, kallsyms.as_deref(), format),
        Some(Command::Splats { format, file }) => splats::run(&file, format),
        None => {
            anyhow::bail!("no subcommand given; try `kctx --help`")
        }
    }
}
