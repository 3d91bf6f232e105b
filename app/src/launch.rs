//! The command line: a subcommand runs headless (`cli`), none opens the window (`gui`).

use crate::cli::Command;
use crate::gui::{Input, RunOptions};
use clap::Parser;
use std::path::PathBuf;

/// kctx: a visual debugger for Linux kernel context traces.
///
/// Without a subcommand, opens the window on FILEs (a trace plus kallsyms / console logs),
/// or on the bundled sample when none is given (`sample` also names it).
#[derive(Debug, Parser)]
#[command(name = "kctx", version, about, subcommand_precedence_over_arg = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Files to open in the window.
    pub files: Vec<PathBuf>,
    /// Save the window to this PNG once the trace is drawn, then exit.
    #[arg(long, value_name = "OUT.png")]
    pub screenshot: Option<PathBuf>,
    /// Compare the opened trace with this one, drawn under it (File › Compare with…).
    #[arg(long, value_name = "FILE")]
    pub compare: Option<PathBuf>,
    /// Open a synthetic trace of N events instead of files (scale testing).
    #[arg(long, value_name = "N")]
    pub synthetic: Option<usize>,
    /// Import every trace afresh: neither read nor write the cache of imported traces
    /// (`kctx cache` says where it is).
    #[arg(long, global = true)]
    pub no_cache: bool,
}

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let cache = if cli.no_cache {
        None
    } else {
        analysis::TraceCache::from_env()
    };
    if let Some(command) = cli.command {
        return crate::cli::run(command, cache.as_ref());
    }
    let inputs = match cli.synthetic {
        Some(n) => vec![Input::Synthetic(n)],
        None => cli.files.into_iter().map(gui_input).collect(),
    };
    crate::gui::run(
        inputs,
        RunOptions {
            screenshot: cli.screenshot,
            compare: cli.compare,
            cache,
        },
    )?;
    Ok(0)
}

/// A file argument; the word `sample` (when no such file exists) names the bundled sample.
fn gui_input(path: PathBuf) -> Input {
    if path.as_os_str() == "sample" && !path.exists() {
        Input::Sample
    } else {
        Input::File(path)
    }
}
