//! Reads the inputs of `kctx query` and `kctx export` one at a time: a trace goes through
//! `analysis::analyze` as `kctx check` takes it, a console log gives its splats. Only one input
//! is held at a time, so many traces fit in memory.

use analysis::logs::{LogContent, read_log};
use analysis::{Inputs, NamedSource, Options, TraceCache, TraceInput, TraceSource, analyze};
use std::path::{Path, PathBuf};

/// Loads each of `paths` in turn and hands it to `each`. Findings are computed only when
/// `with_findings` (the detectors are the costliest pass after the import). Traces are read
/// from and written to `cache` when given, as every subcommand does.
pub fn for_each(
    paths: &[PathBuf],
    kallsyms: Option<&Path>,
    with_findings: bool,
    cache: Option<&TraceCache>,
    each: &mut dyn FnMut(&tables::Input) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for path in paths {
        let named = NamedSource::open(path)?;
        let id = tables::trace_id(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        match importers::detect(named.source.bytes()) {
            importers::Format::TraceDat | importers::Format::FtraceText => {
                let inputs = trace_inputs(named, kallsyms, with_findings, cache)?;
                let mut analysis = analyze(inputs, &|_| {})?;
                super::tell_cache("", &analysis.cache);
                let trace = analysis.take_first_trace()?;
                each(&tables::Input::Trace(tables::TraceInput {
                    id,
                    path: trace.name.clone(),
                    store: &trace.store,
                    model: &trace.context,
                    findings: with_findings.then_some(trace.findings.as_slice()),
                    details: &crate::text::details,
                }))?;
            }
            importers::Format::Console | importers::Format::Qemu => match read_log(&named)? {
                LogContent::Console { splats } => {
                    each(&tables::Input::Console(tables::ConsoleInput {
                        id,
                        path: named.name,
                        splats: &splats,
                    }))?
                }
                LogContent::Qemu { .. } => anyhow::bail!(
                    "{}: a QEMU log; the tables cover traces and console logs (`kctx splats` \
                     reads QEMU logs)",
                    named.name
                ),
            },
            importers::Format::Kallsyms => anyhow::bail!(
                "{}: kallsyms symbols, not a trace (give it with --kallsyms)",
                named.name
            ),
        }
    }
    Ok(())
}

/// One trace's analysis inputs, its store and context model kept for the tables.
fn trace_inputs(
    trace: NamedSource,
    kallsyms: Option<&Path>,
    with_findings: bool,
    cache: Option<&TraceCache>,
) -> anyhow::Result<Inputs> {
    Ok(Inputs {
        traces: vec![TraceInput {
            name: trace.name,
            source: TraceSource::Read {
                source: trace.source,
                file: trace.file,
            },
        }],
        kallsyms: kallsyms
            .map(NamedSource::open)
            .into_iter()
            .collect::<anyhow::Result<_>>()?,
        options: Options {
            context_only: !with_findings,
            retain: true,
            cache: cache.cloned(),
            ..Options::default()
        },
        ..Inputs::default()
    })
}
