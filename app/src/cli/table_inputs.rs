//! Reads the inputs of `kctx query` and `kctx export` one at a time: a trace is loaded and
//! analysed as `kctx check` does, a console log gives its splats. Only one input is held at a
//! time, so many traces fit in memory.

use anyhow::Context as _;
use std::path::{Path, PathBuf};
use trace_model::context::BuildOptions;

/// Loads each of `paths` in turn and hands it to `each`. Findings are computed only when
/// `with_findings` (the detectors are the costliest pass after the import).
pub fn for_each(
    paths: &[PathBuf],
    kallsyms: Option<&Path>,
    with_findings: bool,
    each: &mut dyn FnMut(&tables::Input) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let opts = BuildOptions {
        kallsyms: kallsyms.map(super::check::read_sidecar).transpose()?,
    };
    for path in paths {
        let id = tables::trace_id(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        let source =
            importers::Source::open(path).with_context(|| format!("reading {}", path.display()))?;
        match importers::detect(source.bytes()) {
            importers::Format::Console => {
                let splats = importers::console::parse_splats(source.bytes());
                each(&tables::Input::Console(tables::ConsoleInput {
                    id,
                    path: name,
                    splats: &splats,
                }))?;
            }
            importers::Format::Qemu => anyhow::bail!(
                "{name}: a QEMU log; the tables cover traces and console logs (`kctx splats` \
                 reads QEMU logs)"
            ),
            importers::Format::TraceDat | importers::Format::FtraceText => {
                drop(source);
                let (store, model) = super::check::load(path, &opts)?;
                let findings = with_findings.then(|| trace_model::detect::run_all(&store, &model));
                each(&tables::Input::Trace(tables::TraceInput {
                    id,
                    path: name,
                    store: &store,
                    model: &model,
                    findings: findings.as_deref(),
                    details: &crate::text::details,
                }))?;
            }
        }
    }
    Ok(())
}
