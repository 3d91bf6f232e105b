//! `kctx splats`: the kernel's own reports in a console / serial log, or the interrupt counts
//! of a QEMU `-d int` log.

use super::TextOrJson;
use anyhow::Context as _;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use trace_model::qemu::QemuLog;
use trace_model::splat::{Splat, SplatFacts};

/// What `kctx splats --format json` prints.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SplatsOutput {
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

/// Reads a console or QEMU log (gzip transparently) and parses it.
pub fn load(path: &Path) -> anyhow::Result<SplatsOutput> {
    let source =
        importers::Source::open(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = source.bytes();
    // A binary trace holds no console text: "0 splats" would read as an empty log.
    anyhow::ensure!(
        importers::detect(bytes) != importers::Format::TraceDat,
        "{} is a trace (trace-cmd trace.dat), not a console log: `kctx splats` reads the \
         kernel's console or serial output; `kctx check {} --console LOG` compares a log with \
         the trace",
        path.display(),
        path.display()
    );
    Ok(if importers::qemu::looks_like_qemu(bytes) {
        let log = importers::qemu::parse(bytes);
        SplatsOutput::Qemu {
            qemu: QemuSummary {
                interrupt_count: log.interrupts.len(),
                counts_by_vector: log.counts_by_vector(),
                trace_event_count: log.trace_events.len(),
                log,
            },
        }
    } else {
        SplatsOutput::Console {
            splats: importers::console::parse_splats(bytes),
        }
    })
}

pub fn run(file: &Path, format: TextOrJson) -> anyhow::Result<u8> {
    let output = load(file)?;
    match format {
        TextOrJson::Json => println!("{}", serde_json::to_string_pretty(&output)?),
        TextOrJson::Text => print!("{}", render_text(&output)),
    }
    Ok(0)
}

pub fn render_text(output: &SplatsOutput) -> String {
    let mut out = String::new();
    match output {
        SplatsOutput::Console { splats } => {
            let _ = writeln!(
                out,
                "{}",
                crate::units::counted(splats.len() as u64, "splat")
            );
            for splat in splats {
                let _ = writeln!(out, "{}", splat_line(splat));
            }
        }
        SplatsOutput::Qemu { qemu } => {
            let _ = writeln!(
                out,
                "QEMU log: {} interrupts, {} trace events, {} check_exception lines, {} other lines",
                qemu.interrupt_count,
                qemu.trace_event_count,
                qemu.log.check_exceptions,
                qemu.log.other_lines
            );
            for count in &qemu.counts_by_vector {
                let _ = writeln!(
                    out,
                    "  v=0x{:02x} {:<22} {:>7}",
                    count.vector, count.name, count.count
                );
            }
        }
    }
    out
}

/// `line 282  [63.864935]  scheduling_while_atomic  lab_s1/175 CPU 1  lab_s1_lock  at fn`.
fn splat_line(splat: &Splat) -> String {
    let mut line = format!("line {:<6}", splat.console_line);
    if let Some(ts) = splat.console_ts {
        let _ = write!(line, " [{ts:.6}]");
    }
    let _ = write!(line, " {}", splat.kind.name());
    if let Some(task) = &splat.task {
        let _ = write!(line, " {task}");
        if let Some(pid) = splat.pid {
            let _ = write!(line, "/{pid}");
        }
    }
    if let Some(cpu) = splat.cpu {
        let _ = write!(line, " CPU {cpu}");
    }
    let locks = splat.lock_names();
    if !locks.is_empty() {
        let _ = write!(line, " locks: {}", locks.join(", "));
    }
    if let SplatFacts::AtomicSleep(facts) = &splat.facts
        && let (Some(file), Some(l)) = (&facts.file, facts.line)
    {
        let _ = write!(line, " at {file}:{l}");
    }
    if let Some(function) = &splat.culprit {
        let _ = write!(line, " in {function}");
    }
    line
}
