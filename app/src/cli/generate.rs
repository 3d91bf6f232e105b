//! `kctx generate`: a synthetic trace as ftrace text, so importers and the GUI can be
//! measured at any scale on the same (seeded) input.

use crate::text::trace_line;
use anyhow::Context as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use trace_model::synthetic::{SyntheticSpec, generate};

/// Writes `events` synthetic events over `cpus` CPUs to `out` in the tracefs `trace` format.
pub fn run(events: usize, cpus: u32, seed: u64, out: &Path) -> anyhow::Result<u8> {
    let store = generate(SyntheticSpec {
        events,
        cpus,
        seed,
        ..SyntheticSpec::default()
    });
    let file = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    writeln!(w, "# tracer: nop")?;
    writeln!(w, "#")?;
    writeln!(
        w,
        "# entries-in-buffer/entries-written: {0}/{0}   #P:{cpus}",
        store.len()
    )?;
    writeln!(w, "#")?;
    writeln!(
        w,
        "#                                _-----=> irqs-off/BH-disabled"
    )?;
    writeln!(w, "#                               / _----=> need-resched")?;
    writeln!(
        w,
        "#                              | / _---=> hardirq/softirq"
    )?;
    writeln!(w, "#                              || / _--=> preempt-depth")?;
    writeln!(
        w,
        "#                              ||| / _-=> migrate-disable"
    )?;
    writeln!(w, "#                              |||| /     delay")?;
    writeln!(
        w,
        "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION"
    )?;
    writeln!(w, "#              | |         |   |||||     |         |")?;
    for i in 0..store.len() as u32 {
        writeln!(w, "{}", trace_line(&store, i))?;
    }
    w.flush()
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("kctx: wrote {} events to {}", store.len(), out.display());
    Ok(0)
}
