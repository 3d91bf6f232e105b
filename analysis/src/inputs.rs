//! What an analysis reads: traces, kallsyms sidecars and console logs, each named as the user
//! gave it, and the options of the run.

use crate::Allowlist;
use anyhow::Context as _;
use importers::{Format, Source};
use std::path::{Path, PathBuf};
use trace_cache::TraceCache;
use trace_model::EventStore;

/// Input bytes already read, with the name the user knows them by (a path, "sample").
pub struct NamedSource {
    pub name: String,
    pub source: Source,
    /// The file the bytes were read from, if any: a trace's cache entry is keyed by it.
    pub file: Option<PathBuf>,
}

impl NamedSource {
    /// Reads `path` (gzip transparently).
    pub fn open(path: &Path) -> anyhow::Result<NamedSource> {
        let source = Source::open(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(NamedSource {
            name: path.display().to_string(),
            source,
            file: Some(path.to_owned()),
        })
    }
}

/// Where a trace's events come from.
pub enum TraceSource {
    /// A file, read when its turn comes (a run over many traces holds one file's bytes at a
    /// time); an unreadable file is reported, not fatal.
    Path(PathBuf),
    /// Bytes already read, from `file` if they came from one.
    Read {
        source: Source,
        file: Option<PathBuf>,
    },
    /// A store built already (a synthetic trace).
    Store(Box<EventStore>),
}

/// One trace and the name the report gives it.
pub struct TraceInput {
    pub name: String,
    pub source: TraceSource,
}

impl TraceInput {
    pub fn path(path: &Path) -> TraceInput {
        TraceInput {
            name: path.display().to_string(),
            source: TraceSource::Path(path.to_owned()),
        }
    }
}

/// A check a run can require to be possible on every trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequiredCheck {
    SleepInAtomic,
    LockOrder,
    IrqInversion,
}

impl RequiredCheck {
    pub const ALL: [RequiredCheck; 3] = [
        RequiredCheck::SleepInAtomic,
        RequiredCheck::LockOrder,
        RequiredCheck::IrqInversion,
    ];

    /// The name the coverage uses.
    pub fn coverage_name(self) -> &'static str {
        match self {
            RequiredCheck::SleepInAtomic => "sleep-in-atomic",
            RequiredCheck::LockOrder => "lock-order",
            RequiredCheck::IrqInversion => "irq-inversion",
        }
    }
}

/// How a run judges its findings.
#[derive(Debug, Default)]
pub struct Options {
    /// Hides known findings from the report (they still explain console splats).
    pub allow: Option<Allowlist>,
    /// Checks that must be possible on every trace; empty means all of them.
    pub required: Vec<RequiredCheck>,
    /// Stop at the context model: no detector runs (for what only reads the model).
    pub context_only: bool,
    /// Keep each trace's store and context model in [`crate::Analysis::traces`] (a front end
    /// that shows them). Without it each is dropped once analysed, so a run over many traces
    /// holds one at a time.
    pub retain: bool,
    /// Where imported stores are cached and read back from; `None` imports every time.
    pub cache: Option<TraceCache>,
}

/// Everything one analysis reads.
#[derive(Default)]
pub struct Inputs {
    pub traces: Vec<TraceInput>,
    pub kallsyms: Vec<NamedSource>,
    pub consoles: Vec<NamedSource>,
    pub options: Options,
}

impl Inputs {
    /// Sorts inputs of unknown role by their content: kallsyms text is a sidecar, a log with
    /// no trace lines a console log, anything else a trace.
    pub fn by_content(sources: Vec<NamedSource>) -> Inputs {
        let mut inputs = Inputs::default();
        for input in sources {
            match importers::detect(input.source.bytes()) {
                Format::Kallsyms => inputs.kallsyms.push(input),
                Format::Console => inputs.consoles.push(input),
                Format::TraceDat | Format::FtraceText | Format::Qemu => {
                    inputs.traces.push(TraceInput {
                        name: input.name,
                        source: TraceSource::Read {
                            source: input.source,
                            file: input.file,
                        },
                    })
                }
            }
        }
        inputs
    }
}
