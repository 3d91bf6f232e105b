//! `kctx cache [list|clear]`: where imported traces are cached, what is there, and emptying it.

use super::output;
use analysis::TraceCache;
use clap::Subcommand;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, Default, Subcommand)]
pub enum CacheAction {
    /// The cache directory, its policy and every entry (the default).
    #[default]
    List,
    /// Removes every cached trace.
    Clear,
}

/// `kctx cache [list|clear]`
pub fn run(action: CacheAction, cache: Option<&TraceCache>) -> anyhow::Result<u8> {
    let Some(cache) = cache else {
        anyhow::bail!(
            "no cache: --no-cache was given, or no directory can be named (set KCTX_CACHE_DIR, \
             XDG_CACHE_HOME or HOME)"
        );
    };
    let dir = cache.dir.display();
    match action {
        CacheAction::List => {
            let entries = cache.entries()?;
            let total: u64 = entries.iter().map(|e| e.bytes).sum();
            let mut w = String::new();
            let _ = writeln!(
                w,
                "{dir}: {}, {}, cap {} (KCTX_CACHE_MAX_MB); traces of at least {} events \
                 are cached (KCTX_CACHE_MIN_EVENTS)",
                analysis::counted(entries.len() as u64, "imported trace"),
                megabytes(total),
                megabytes(cache.max_bytes),
                cache.min_events
            );
            for e in entries.iter().rev() {
                let _ = writeln!(w, "  {}  {}", megabytes(e.bytes), e.path.display());
            }
            output::emit(&w)?;
        }
        CacheAction::Clear => {
            let (files, bytes) = cache.clear()?;
            output::emit_line(&format!(
                "{dir}: removed {} ({})",
                analysis::counted(files as u64, "file"),
                megabytes(bytes)
            ))?;
        }
    }
    Ok(0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
