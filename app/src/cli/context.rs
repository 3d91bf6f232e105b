//! `kctx context FILE --at TS [--cpu N]`: the context stack, preempt depth, irq / BH state and
//! locks held on each CPU at one time: what the timeline cursor shows.

use super::TextOrJson;
use super::output;
use analysis::{Inputs, NamedSource, Options, TraceAnalysis, TraceCache, TraceInput, analyze};
use anyhow::Context as _;
use std::fmt::Write as _;
use std::path::Path;
use trace_model::CommPid;
use trace_model::context::CpuState;
use trace_model::context::state::Level;
use trace_model::{EventStore, seconds};

/// Imports `file` and builds its context model, naming lock addresses with the trace's own
/// symbols and, if given, a kallsyms sidecar.
pub fn load(
    file: &Path,
    kallsyms: Option<&Path>,
    cache: Option<&TraceCache>,
) -> anyhow::Result<TraceAnalysis> {
    let inputs = Inputs {
        traces: vec![TraceInput::path(file)],
        kallsyms: kallsyms
            .map(NamedSource::open)
            .into_iter()
            .collect::<anyhow::Result<_>>()?,
        options: Options {
            context_only: true,
            retain: true,
            cache: cache.cloned(),
            ..Options::default()
        },
        ..Inputs::default()
    };
    let mut analysis = analyze(inputs, &|_| {})?;
    super::tell_cache("", &analysis.cache);
    analysis.take_first_trace()
}

/// Trace seconds (as printed) to ns.
fn ns_from_secs(secs: f64) -> anyhow::Result<u64> {
    anyhow::ensure!(
        secs.is_finite() && secs >= 0.0,
        "--at must be a time in seconds >= 0"
    );
    Ok((secs * 1e9).round() as u64)
}

fn level_text(l: &Level) -> String {
    match l {
        Level::Task { pid, comm } => format!("task {}", CommPid(comm, *pid)),
        Level::Softirq { vec, name } => match (vec, name) {
            (Some(v), Some(n)) => format!("softirq {n}({v})"),
            (Some(v), None) => format!("softirq {v}"),
            _ => "softirq".into(),
        },
        Level::Hardirq { irq, name } => {
            let mut s = "hardirq".to_owned();
            if let Some(i) = irq {
                let _ = write!(s, " {i}");
            }
            if let Some(n) = name {
                let _ = write!(s, " {n}");
            }
            s
        }
        Level::Nmi => "NMI".into(),
    }
}

fn on_off(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "off",
        Some(false) => "on",
        None => "unknown",
    }
}

/// The human-readable form of one CPU's state.
pub fn state_text(s: &CpuState) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "cpu {} at {:.6}", s.cpu, seconds(s.ts_ns));
    if let Some(u) = s.unknown {
        let _ = writeln!(w, "  context unknown ({u:?}): no event proves it yet");
    }
    let stack: Vec<String> = s.stack.iter().map(level_text).collect();
    let _ = writeln!(
        w,
        "  stack:   {}",
        if stack.is_empty() {
            "-".into()
        } else {
            stack.join(" > ")
        }
    );
    match (s.preempt_depth, s.preempt_excess) {
        (Some(d), Some(x)) => {
            let _ = writeln!(w, "  preempt: depth {d} ({x} above the trace's baseline)");
        }
        (Some(d), None) => {
            let _ = writeln!(w, "  preempt: depth {d}");
        }
        _ => {
            let _ = writeln!(w, "  preempt: not recorded");
        }
    }
    let _ = writeln!(
        w,
        "  irqs:    {}   BH: {}",
        on_off(s.irqs_off),
        on_off(s.bh_off)
    );
    if s.locks.is_empty() {
        let _ = writeln!(w, "  locks:   none held");
    }
    for l in &s.locks {
        let by = l
            .caller
            .as_deref()
            .map(|c| format!(" by {c}()"))
            .unwrap_or_default();
        let _ = writeln!(
            w,
            "  lock:    {} ({}, {}) since {:.6}{by} [{}]",
            l.class,
            l.mode,
            l.context,
            seconds(l.since_ns),
            l.addr
        );
    }
    out
}

/// Says so when `ts` is outside the trace's events: the state printed there is not seen but
/// carried over from the nearest end (or nothing at all before the first event).
fn outside_warning(store: &EventStore, ts: u64) -> Option<String> {
    let (first, last) = store.time_span()?;
    let span = format!("{:.6} .. {:.6} s", seconds(first), seconds(last));
    if ts < first {
        Some(format!(
            "--at {:.6} is before the trace's first event (the trace spans {span}): no event \
             has shown any context yet",
            seconds(ts)
        ))
    } else if ts > last {
        Some(format!(
            "--at {:.6} is after the trace's last event (the trace spans {span}): the state \
             shown is the one the trace ended with",
            seconds(ts)
        ))
    } else {
        None
    }
}

/// `kctx context FILE --at TS [--cpu N] [--kallsyms FILE]`
pub fn run(
    file: &Path,
    at: f64,
    cpu: Option<u32>,
    kallsyms: Option<&Path>,
    format: TextOrJson,
    cache: Option<&TraceCache>,
) -> anyhow::Result<u8> {
    let ts = ns_from_secs(at)?;
    let TraceAnalysis {
        store,
        context: model,
        ..
    } = load(file, kallsyms, cache)?;
    if let Some(warning) = outside_warning(&store, ts) {
        eprintln!("kctx context: warning: {warning}");
    }
    let cpus: Vec<u32> = match cpu {
        Some(c) => vec![c],
        None => (0..model.cpus.len() as u32).collect(),
    };
    let mut states = Vec::new();
    for c in cpus {
        let state = model
            .state_at(&store, c, ts)
            .with_context(|| format!("the trace has no CPU {c}"))?;
        states.push(state);
    }
    match format {
        TextOrJson::Text => {
            for s in &states {
                output::emit(&state_text(s))?;
            }
        }
        TextOrJson::Json => output::emit_line(&serde_json::to_string_pretty(&states)?)?,
    }
    Ok(0)
}
