//! Kernel console / serial logs and QEMU logs: the other records of a traced boot.

use crate::NamedSource;
use serde::Serialize;
use trace_model::qemu::QemuLog;
use trace_model::splat::Splat;

/// A log read: the console's splats, or a QEMU log in short (what `kctx splats --format
/// json` prints).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum LogContent {
    Console { splats: Vec<Splat> },
    Qemu { qemu: QemuSummary },
}

/// A QEMU log in short: counts by vector and the records in service order.
#[derive(Debug, Serialize)]
pub struct QemuSummary {
    pub interrupt_count: usize,
    pub counts_by_vector: Vec<trace_model::qemu::VectorCount>,
    pub trace_event_count: usize,
    #[serde(flatten)]
    pub log: QemuLog,
}

/// Parses a console or QEMU log, as its content says.
pub fn read_log(input: &NamedSource) -> anyhow::Result<LogContent> {
    let bytes = input.source.bytes();
    // A binary trace holds no console text: "0 splats" would read as an empty log.
    anyhow::ensure!(
        importers::detect(bytes) != importers::Format::TraceDat,
        "{} is a trace (trace-cmd trace.dat), not a console log: `kctx splats` reads the \
         kernel's console or serial output; `kctx check {} --console LOG` compares a log with \
         the trace",
        input.name,
        input.name
    );
    Ok(if importers::qemu::looks_like_qemu(bytes) {
        let log = importers::qemu::parse(bytes);
        LogContent::Qemu {
            qemu: QemuSummary {
                interrupt_count: log.interrupts.len(),
                counts_by_vector: log.counts_by_vector(),
                trace_event_count: log.trace_events.len(),
                log,
            },
        }
    } else {
        LogContent::Console {
            splats: importers::console::parse_splats(bytes),
        }
    })
}
