//! kallsyms sidecars: symbols from outside the trace naming the lock addresses it does not.

use crate::NamedSource;
use trace_model::ImportReport;
use trace_model::context::Sidecar;

/// Reads the sidecars into one table; each one's symbol count is told to `note`. A sidecar
/// with no symbol line is an error: it is the wrong file.
pub fn read_all(
    sources: &[NamedSource],
    note: &mut dyn FnMut(String),
) -> anyhow::Result<Option<Sidecar>> {
    let mut merged = Sidecar::default();
    for input in sources {
        let text = String::from_utf8_lossy(input.source.bytes());
        let table =
            importers::kallsyms::parse(&text, &mut merged.strings, &mut ImportReport::default());
        anyhow::ensure!(
            !table.is_empty(),
            "{}: no `address type name` line",
            input.name
        );
        note(format!("{}: {} symbols", input.name, table.len()));
        merged.symbols.append(table);
    }
    Ok((!sources.is_empty()).then_some(merged))
}
