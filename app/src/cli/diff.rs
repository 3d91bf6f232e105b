//! `kctx diff OLD NEW`: which findings a change brought (new), removed (fixed) or kept
//! (unchanged), matched by the findings' stable ids; exit status 1 when a new violation
//! appears.

use super::TextOrJson;
use super::output;
use analysis::TraceCache;
use analysis::diff::{FindingDiff, render_text};
use clap::Args;
use std::path::{Path, PathBuf};
use trace_model::Finding;

/// `kctx diff` arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: TextOrJson,
    /// kallsyms-format symbols naming OLD's lock addresses (module addresses differ per boot).
    #[arg(long, value_name = "FILE")]
    pub old_kallsyms: Option<PathBuf>,
    /// kallsyms-format symbols naming NEW's lock addresses.
    #[arg(long, value_name = "FILE")]
    pub new_kallsyms: Option<PathBuf>,
    /// The reference trace.
    pub old: PathBuf,
    /// The trace to compare with it.
    pub new: PathBuf,
}

/// The findings of the trace at `path`, every detector's (none hidden).
pub fn findings_of(
    path: &Path,
    kallsyms: Option<&Path>,
    cache: Option<&TraceCache>,
) -> anyhow::Result<Vec<Finding>> {
    use analysis::{Inputs, NamedSource, Options, TraceInput, analyze};
    let inputs = Inputs {
        traces: vec![TraceInput::path(path)],
        kallsyms: kallsyms
            .map(NamedSource::open)
            .into_iter()
            .collect::<anyhow::Result<_>>()?,
        options: Options {
            cache: cache.cloned(),
            ..Options::default()
        },
        ..Inputs::default()
    };
    let analysis = analyze(inputs, &|_| {})?;
    super::tell_cache("diff", &analysis.cache);
    if let Some(e) = analysis.report.inputs.iter().find_map(|i| i.error.as_ref()) {
        anyhow::bail!("{e}");
    }
    Ok(analysis.findings)
}

/// `kctx diff [--format text|json] OLD NEW`
pub fn run(args: &DiffArgs, cache: Option<&TraceCache>) -> anyhow::Result<u8> {
    let old = findings_of(&args.old, args.old_kallsyms.as_deref(), cache)?;
    let new = findings_of(&args.new, args.new_kallsyms.as_deref(), cache)?;
    let (old_name, new_name) = (args.old.display(), args.new.display());
    let d = FindingDiff::of(&old_name.to_string(), &old, &new_name.to_string(), &new);
    match args.format {
        TextOrJson::Text => output::emit(&render_text(&d))?,
        TextOrJson::Json => output::emit_line(&serde_json::to_string_pretty(&d)?)?,
    }
    Ok(d.exit_code)
}
