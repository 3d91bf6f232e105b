//! A loaded trace: the inputs read together (a trace, kallsyms sidecars, console logs)
//! through the analysis pipeline, and the timeline rows the views draw from its result.

use super::timeline::model::TimelineModel;
use analysis::{Inputs, NamedSource, Report, Stage, TraceCache, TraceSource, analyze_showing};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use trace_model::context::ContextModel;
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

/// The progress bar's stage of an analysis stage.
fn stage_index(stage: Stage) -> usize {
    match stage {
        Stage::Importing => 1,
        Stage::RebuildingContext => 2,
        Stage::Checking => 3,
    }
}

/// Everything the views show for one trace.
pub struct LoadedTrace {
    pub inputs: Vec<Input>,
    /// Shared with the loader while it builds the context model behind a preview, and with
    /// the Query panel's worker thread (it builds tables from them).
    pub store: Arc<EventStore>,
    /// Per-CPU context, lock holds, sleep calls, coverage; in a preview, only what the store
    /// shows at once (`ContextModel::preview`).
    pub context: Arc<ContextModel>,
    /// False in a preview: the context model, the findings and the summaries are still being
    /// built (or were cancelled).
    pub complete: bool,
    pub timeline: TimelineModel,
    pub findings: Vec<Finding>,
    /// The kernel's own reports from console logs opened with the trace.
    pub splats: Vec<Splat>,
    /// The report `kctx check` gives for the same inputs (console links included).
    pub report: Report,
    /// What loading noticed: sidecars merged, inputs not used and why.
    pub notes: Vec<String>,
    /// Events of each type, by type id (search offers only types the trace recorded).
    pub event_counts: Vec<u64>,
}

impl LoadedTrace {
    /// A title naming the inputs.
    pub fn title(&self) -> String {
        self.inputs
            .iter()
            .map(Input::name)
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Reads the inputs and sorts them by content (traces, kallsyms sidecars, console logs).
fn read(inputs: &[Input]) -> anyhow::Result<Inputs> {
    let mut sources = Vec::new();
    let mut stores = Vec::new();
    for input in inputs {
        match input {
            Input::File(path) => sources.push(NamedSource::open(path)?),
            Input::Sample => {
                sources.push(NamedSource {
                    name: input.name(),
                    source: importers::Source::from_bytes(SAMPLE_TRACE.to_vec())?,
                    file: None,
                });
                sources.push(NamedSource {
                    name: "sample console log".to_owned(),
                    source: importers::Source::from_bytes(SAMPLE_CONSOLE.to_vec())?,
                    file: None,
                });
            }
            Input::Synthetic(n) => stores.push(analysis::TraceInput {
                name: input.name(),
                source: TraceSource::Store(Box::new(generate(SyntheticSpec {
                    events: *n,
                    ..SyntheticSpec::default()
                }))),
            }),
        }
    }
    let mut sorted = Inputs::by_content(sources);
    sorted.traces.extend(stores);
    Ok(sorted)
}

/// What the store alone shows, before the context model is built: the timeline's CPU lanes
/// from the flags and `sched_switch`, its task lanes; no findings yet.
fn preview(inputs: &[Input], store: &Arc<EventStore>) -> LoadedTrace {
    let context = Arc::new(ContextModel::preview(store));
    let timeline = TimelineModel::build(store, &context, &[]);
    LoadedTrace {
        inputs: inputs.to_vec(),
        store: Arc::clone(store),
        context,
        complete: false,
        timeline,
        findings: Vec::new(),
        splats: Vec::new(),
        report: Report::default(),
        notes: Vec::new(),
        event_counts: Vec::new(),
    }
}

/// Reads and analyses the inputs: the first trace is shown, with every kallsyms sidecar and
/// console log. A trace file's store is read from `cache` when it holds it, and written there
/// when worth it. `stage` is told each stage as it starts.
pub fn load(
    inputs: Vec<Input>,
    cache: Option<&TraceCache>,
    stage: &dyn Fn(usize),
) -> anyhow::Result<LoadedTrace> {
    load_showing(inputs, cache, stage, &|_| {}, &AtomicBool::new(false))
}

/// [`load`], with `show` given a preview of the trace as soon as its store is read, unless
/// `cancelled` (then the load stops there with an error).
pub fn load_showing(
    inputs: Vec<Input>,
    cache: Option<&TraceCache>,
    stage: &dyn Fn(usize),
    show: &dyn Fn(LoadedTrace),
    cancelled: &AtomicBool,
) -> anyhow::Result<LoadedTrace> {
    stage(0);
    let mut read = read(&inputs)?;
    // The views draw the store and the model: keep them.
    read.options.retain = true;
    read.options.cache = cache.cloned();
    let mut notes: Vec<String> = read
        .traces
        .drain(read.traces.len().min(1)..)
        .map(|t| format!("{}: not used (one trace at a time)", t.name))
        .collect();
    let imported = |_: &str, store: &Arc<EventStore>| {
        if cancelled.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        show(preview(&inputs, store));
        ControlFlow::Continue(())
    };
    let mut analysis = analyze_showing(read, &|s| stage(stage_index(s)), &imported)?;
    let trace = analysis.take_first_trace()?;
    notes.append(&mut analysis.notes);
    notes.extend(
        analysis
            .cache
            .iter()
            .map(|(name, e)| format!("{name}: {e}")),
    );
    stage(4);
    let finding_pids: Vec<i32> = trace.findings.iter().filter_map(|f| f.pid).collect();
    let timeline = TimelineModel::build(&trace.store, &trace.context, &finding_pids);
    let event_counts = trace.store.event_type_counts();
    Ok(LoadedTrace {
        event_counts,
        inputs,
        store: trace.store,
        context: Arc::new(trace.context),
        complete: true,
        timeline,
        findings: trace.findings,
        splats: analysis.splats,
        report: analysis.report,
        notes,
    })
}
