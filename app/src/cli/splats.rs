//! `kctx splats`: the kernel's own reports in a console / serial log, or the interrupt counts
//! of a QEMU `-d int` log.

use super::TextOrJson;
use super::output;
use analysis::NamedSource;
use analysis::logs::{LogContent, read_log};
use std::fmt::Write as _;
use std::path::Path;
use trace_model::splat::{Splat, SplatFacts};

pub fn run(file: &Path, format: TextOrJson) -> anyhow::Result<u8> {
    let output = read_log(&NamedSource::open(file)?)?;
    match format {
        TextOrJson::Json => output::emit_line(&serde_json::to_string_pretty(&output)?)?,
        TextOrJson::Text => output::emit(&render_text(&output))?,
    }
    Ok(0)
}

pub fn render_text(output: &LogContent) -> String {
    let mut out = String::new();
    match output {
        LogContent::Console { splats } => {
            let _ = writeln!(
                out,
                "{}",
                crate::units::counted(splats.len() as u64, "splat")
            );
            for splat in splats {
                let _ = writeln!(out, "{}", splat_line(splat));
            }
        }
        LogContent::Qemu { qemu } => {
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
