//! A loaded trace: the inputs read together (a trace, kallsyms sidecars, console logs), the
//! event store and everything derived from it for the views.

use super::timeline::model::TimelineModel;
use anyhow::Context as _;
use std::path::PathBuf;
use trace_model::context::{BuildOptions, ContextModel, Sidecar};
use trace_model::splat::Splat;
use trace_model::synthetic::{SyntheticSpec, generate};
use trace_model::{EventStore, Finding};

/// The trace bundled with the app (see `samples/README.md`): a real lab recording with
/// planted sleep-in-atomic bugs, and the console log of the same boot, so a first start
/// shows violations and the kernel's own reports at once.
pub const SAMPLE_TRACE: &[u8] =
    include_bytes!("../../../samples/lockdep-s1_spin_sleep.trace.txt.gz");
pub const SAMPLE_CONSOLE: &[u8] =
    include_bytes!("../../../samples/lockdep-s1_spin_sleep.console.log");
pub const SAMPLE_NAME: &str = "sample: lockdep-s1_spin_sleep (bundled)";

/// What to open.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    File(PathBuf),
    /// The bundled sample.
    Sample,
    /// A synthetic trace of N events (scale testing).
    Synthetic(usize),
}

impl Input {
    /// A short name for titles and lists.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Sample => SAMPLE_NAME.to_owned(),
            Input::Synthetic(n) => format!("synthetic trace, {n} events"),
        }
    }
}

/// Loading stages, for the progress bar.
pub const STAGES: [&str; 5] = [
    "reading",
    "importing",
    "rebuilding context",
    "checking",
    "building timeline",
];

/// Everything the views show for one trace.
pub struct LoadedTrace {
    pub inputs: Vec<Input>,
    pub store: EventStore,
    /// Per-CPU context, lock holds, sleep calls, coverage.
    pub context: ContextModel,
    pub timeline: TimelineModel,
    pub findings: Vec<Finding>,
    /// The kernel's own reports from console logs opened with the trace.
    pub splats: Vec<Splat>,
    /// What loading noticed: sidecars merged, inputs not used and why.
    pub notes: Vec<String>,
}

impl LoadedTrace {
    /// Derives everything the views show from an imported store: the context model, the
    /// findings of every detector and the timeline rows. `stage` is told each stage.
    pub fn new(
        inputs: Vec<Input>,
        store: EventStore,
        options: &BuildOptions,
        notes: Vec<String>,
        stage: &dyn Fn(usize),
    ) -> LoadedTrace {
        stage(2);
        let context = ContextModel::build(&store, options);
        stage(3);
        let findings = trace_model::detect::run_all(&store, &context);
        stage(4);
        let finding_pids: Vec<i32> = findings.iter().filter_map(|f| f.pid).collect();
        let timeline = TimelineModel::build(&store, &context, &finding_pids);
        LoadedTrace {
            inputs,
            store,
            context,
            timeline,
            findings,
            splats: Vec::new(),
            notes,
        }
    }

    /// A title naming the inputs.
    pub fn title(&self) -> String {
        self.inputs
            .iter()
            .map(Input::name)
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// True when `bytes` look like `/proc/kallsyms` text (`ffffffff81000000 T _stext`).
fn looks_like_kallsyms(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let Ok(text) = std::str::from_utf8(head.split(|&b| b == b'\n').next().unwrap_or_default())
    else {
        return false;
    };
    let mut parts = text.split_whitespace();
    let addr_ok = parts
        .next()
        .is_some_and(|a| a.len() >= 8 && a.bytes().all(|b| b.is_ascii_hexdigit()));
    let kind_ok = parts.next().is_some_and(|k| k.len() == 1);
    addr_ok && kind_ok && parts.next().is_some()
}

/// Reads the inputs: the first trace found becomes the store; kallsyms files are merged
/// into its symbols. `stage` is told each stage as it starts.
pub fn load(inputs: Vec<Input>, stage: &dyn Fn(usize)) -> anyhow::Result<LoadedTrace> {
    stage(0);
    let mut store: Option<EventStore> = None;
    let mut sidecars = Vec::new();
    let mut splats = Vec::new();
    let mut notes = Vec::new();
    let mut sources = Vec::new();
    let mut not_traces = Vec::new();
    for input in &inputs {
        match input {
            Input::File(path) => {
                let source = importers::Source::open(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                sources.push((input.name(), source));
            }
            Input::Sample => {
                sources.push((
                    input.name(),
                    importers::Source::from_bytes(SAMPLE_TRACE.to_vec())?,
                ));
                let console = importers::Source::from_bytes(SAMPLE_CONSOLE.to_vec())?;
                sources.push(("sample console log".to_owned(), console));
            }
            Input::Synthetic(n) => {
                stage(1);
                store = Some(generate(SyntheticSpec {
                    events: *n,
                    ..SyntheticSpec::default()
                }));
            }
        }
    }
    for (name, source) in sources {
        if looks_like_kallsyms(source.bytes()) {
            not_traces.push(format!("{name}: kallsyms symbols, not a trace"));
            sidecars.push((name, String::from_utf8_lossy(source.bytes()).into_owned()));
            continue;
        }
        if importers::detect(source.bytes()) == importers::Format::Console {
            let found = importers::console::parse_splats(source.bytes());
            let what = format!(
                "{name}: no trace events found (not ftrace text or trace.dat); read as a \
                 console log: {}",
                crate::units::counted(found.len() as u64, "kernel report")
            );
            notes.push(format!(
                "{name}: {}",
                crate::units::counted(found.len() as u64, "console splat")
            ));
            not_traces.push(what);
            splats.extend(found);
            continue;
        }
        if store.is_some() {
            notes.push(format!("{name}: not used (one trace at a time)"));
            continue;
        }
        stage(1);
        let imported = importers::import(&source).with_context(|| format!("importing {name}"))?;
        store = Some(imported);
    }
    let Some(store) = store else {
        // Name each input and what it was read as: "no trace" alone leaves the user guessing
        // which file is wrong.
        anyhow::bail!("no trace among the inputs:\n{}", not_traces.join("\n"));
    };
    let mut sidecar = Sidecar::default();
    for (name, text) in sidecars {
        let mut report = trace_model::ImportReport::default();
        let table = importers::kallsyms::parse(&text, &mut sidecar.strings, &mut report);
        notes.push(format!("{name}: {} symbols", table.len()));
        sidecar
            .symbols
            .extend(&table, &sidecar.strings.clone(), &mut sidecar.strings);
    }
    let options = BuildOptions {
        kallsyms: (!sidecar.symbols.is_empty()).then_some(sidecar),
    };
    let mut trace = LoadedTrace::new(inputs, store, &options, notes, stage);
    trace.splats = splats;
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kallsyms_is_recognised_by_content() {
        assert!(looks_like_kallsyms(
            b"ffffffffc0237000 t lab_restore_preempt_count\t[ctxlab]\n"
        ));
        assert!(!looks_like_kallsyms(b"# tracer: nop\n"));
        assert!(!looks_like_kallsyms(
            b"  <idle>-0 [001] d..2. 64.41: sched_switch: x\n"
        ));
    }
}
