//! `kctx latency FILE`: the kernel's irqsoff / preemptoff / wakeup tracers offline. Every
//! irqs-off, preempt-off and BH-off section, interrupt and wakeup latency, with per-kind
//! figures, the worst instances and a CI gate on the longest.

use super::TextOrJson;
use super::output;
use crate::units::{format_duration, parse_duration};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use trace_model::CommPid;
use trace_model::latency::{
    Instance, KindSummary, LatencyKind, Section, Site, Truncation, describe, sections, summarize,
    worst,
};
use trace_model::seconds;

#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    pub file: PathBuf,
    /// Only these kinds (repeatable): irqsoff, preemptoff, bhoff, hardirq, softirq, nmi,
    /// wakeup. Default: all.
    #[arg(long = "kind", value_name = "KIND", value_parser = parse_kind)]
    pub kinds: Vec<LatencyKind>,
    /// How many of the worst sections to list.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Only this CPU (the gates too).
    #[arg(long)]
    pub cpu: Option<u32>,
    /// Only sections at least this long (`50us`, `1.5ms`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min: Option<u64>,
    /// Exit with status 1 when a section of KIND lasts longer than DURATION
    /// (`irqsoff=100us`); repeatable. A truncated section counts with the part the trace
    /// saw.
    #[arg(long = "fail-above", value_name = "KIND=DURATION", value_parser = parse_gate)]
    pub gates: Vec<Gate>,
    /// kallsyms text (`address type name [module]`) naming lock addresses.
    #[arg(long)]
    pub kallsyms: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: TextOrJson,
}

/// `--fail-above KIND=DURATION`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gate {
    pub kind: LatencyKind,
    pub limit_ns: u64,
}

fn parse_kind(text: &str) -> Result<LatencyKind, String> {
    LatencyKind::ALL
        .into_iter()
        .find(|k| k.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = LatencyKind::ALL.iter().map(|k| k.name()).collect();
            format!("`{text}`: one of {}", names.join(", "))
        })
}

fn parse_gate(text: &str) -> Result<Gate, String> {
    let (kind, limit) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: write KIND=DURATION, e.g. irqsoff=100us"))?;
    Ok(Gate {
        kind: parse_kind(kind.trim())?,
        limit_ns: parse_duration(limit)?,
    })
}

/// One gate, judged.
#[derive(Debug, Serialize)]
struct GateResult {
    kind: LatencyKind,
    limit_ns: u64,
    /// Sections longer than the limit.
    above: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    worst: Option<Instance>,
}

#[derive(Serialize)]
struct LatencyOutput<'a> {
    file: String,
    summaries: &'a [KindSummary],
    worst: &'a [Instance],
    gates: &'a [GateResult],
}

/// `kctx latency [--kind K]... [--top N] [--cpu N] [--min D] [--fail-above K=D]... FILE`:
/// exit status 1 when a gate is exceeded.
pub fn run(args: &LatencyArgs, cache: Option<&analysis::TraceCache>) -> anyhow::Result<u8> {
    let trace = super::context::load(&args.file, args.kallsyms.as_deref(), cache)?;
    let (store, model) = (trace.store, trace.context);
    if let Some(cpu) = args.cpu {
        anyhow::ensure!(
            (cpu as usize) < model.cpus.len(),
            "--cpu {cpu}: {} has CPUs 0 to {}",
            args.file.display(),
            model.cpus.len().saturating_sub(1)
        );
    }
    // The kinds shown and the kinds gated: nothing else is worth building.
    let needed: Vec<LatencyKind> = LatencyKind::ALL
        .into_iter()
        .filter(|k| {
            args.kinds.is_empty()
                || args.kinds.contains(k)
                || args.gates.iter().any(|g| g.kind == *k)
        })
        .collect();
    let mut all = sections(&store, &model, &needed);
    all.retain(|s| args.cpu.is_none_or(|cpu| s.cpu == cpu));
    let gates: Vec<GateResult> = args
        .gates
        .iter()
        .map(|g| judge(g, &all, |s| describe(&store, &model, s)))
        .collect();
    let min = args.min.unwrap_or(0);
    let shown: Vec<Section> = all
        .into_iter()
        .filter(|s| args.kinds.is_empty() || args.kinds.contains(&s.kind))
        .filter(|s| s.duration_ns() >= min)
        .collect();
    let summaries = summarize(&model, &shown);
    let worst: Vec<Instance> = worst(&shown, args.top)
        .iter()
        .map(|s| describe(&store, &model, s))
        .collect();
    match args.format {
        TextOrJson::Json => {
            let output = LatencyOutput {
                file: args.file.display().to_string(),
                summaries: &summaries,
                worst: &worst,
                gates: &gates,
            };
            output::emit_line(&serde_json::to_string_pretty(&output)?)?;
        }
        TextOrJson::Text => {
            let kinds = if args.kinds.is_empty() {
                &LatencyKind::ALL[..]
            } else {
                &args.kinds[..]
            };
            output::emit(&latency_text(&args.file, kinds, &summaries, &worst, &gates))?;
        }
    }
    Ok(u8::from(gates.iter().any(|g| g.above > 0)))
}

fn judge(gate: &Gate, all: &[Section], describe: impl Fn(&Section) -> Instance) -> GateResult {
    let above: Vec<Section> = all
        .iter()
        .filter(|s| s.kind == gate.kind && s.duration_ns() > gate.limit_ns)
        .copied()
        .collect();
    GateResult {
        kind: gate.kind,
        limit_ns: gate.limit_ns,
        above: above.len() as u64,
        worst: worst(&above, 1).first().map(describe),
    }
}

/// The human-readable report: a row of figures per kind, the interrupt sources, the worst
/// sections and the gates.
fn latency_text(
    file: &Path,
    kinds: &[LatencyKind],
    summaries: &[KindSummary],
    worst: &[Instance],
    gates: &[GateResult],
) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "{}: latency sections", file.display());
    let _ = writeln!(
        w,
        "  {:<11} {:>7} {:>6} {:>9} {:>13} {:>13} {:>13} {:>13}",
        "kind", "count", "exact", "truncated", "total", "max", "p50", "p99"
    );
    for s in summaries {
        let _ = writeln!(
            w,
            "  {:<11} {:>7} {:>6} {:>9} {:>13} {:>13} {:>13} {:>13}",
            s.kind.name(),
            s.count,
            s.exact,
            s.truncated,
            duration(s.total_ns),
            duration(s.max_ns),
            duration(s.p50_ns),
            duration(s.p99_ns),
        );
    }
    let missing: Vec<&str> = kinds
        .iter()
        .filter(|k| !summaries.iter().any(|s| s.kind == **k))
        .map(|k| k.name())
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(w, "  none seen: {}", missing.join(", "));
    }
    for s in summaries.iter().filter(|s| !s.sources.is_empty()) {
        let _ = writeln!(w, "  {} by source:", s.kind.name());
        for src in &s.sources {
            let _ = writeln!(
                w,
                "    {:<24} {:>7} {:>13} total {:>13} max",
                src.source,
                src.count,
                duration(src.total_ns),
                duration(src.max_ns)
            );
        }
    }
    if !worst.is_empty() {
        let _ = writeln!(w, "  worst:");
        for (rank, i) in worst.iter().enumerate() {
            let _ = writeln!(w, "    {:>3}. {}", rank + 1, instance_text(i));
        }
    }
    for g in gates {
        let verdict = match &g.worst {
            Some(i) => format!(
                "FAILED by {} section(s), the longest {}",
                g.above,
                instance_text(i)
            ),
            None => "ok".to_owned(),
        };
        let _ = writeln!(
            w,
            "  gate {} <= {}: {verdict}",
            g.kind.name(),
            duration(g.limit_ns)
        );
    }
    out
}

fn duration(ns: u64) -> String {
    format_duration(ns as f64)
}

/// `irqsoff 1.203 ms on CPU 1 lab_s1-175 [63.908388, 63.909591] from f() to g(), edges ±2 µs`.
fn instance_text(i: &Instance) -> String {
    let mut text = format!(
        "{} {} on CPU {} {} [{:.6}, {:.6}]",
        i.kind.name(),
        duration(i.duration_ns),
        i.cpu,
        CommPid(&i.comm, i.pid),
        seconds(i.start_ns),
        seconds(i.end_ns)
    );
    if let Some(source) = &i.source {
        let _ = write!(text, " {source}");
    }
    if let Some(site) = &i.opened_by {
        let _ = write!(text, " from {}", site_text(site));
    }
    if let Some(site) = &i.closed_by {
        let _ = write!(text, " to {}", site_text(site));
    }
    match i.truncated {
        Some(why) => {
            let why = match why {
                Truncation::StartOfData => "on when the data began",
                Truncation::LostEvents => "cut by lost events",
                Truncation::EndOfData => "on when the data ended",
            };
            let _ = write!(text, " (truncated: {why}; at least this long)");
        }
        None if i.exact => text.push_str(" (exact)"),
        None => {
            let _ = write!(
                text,
                " (sampled: start up to {} earlier, end within {}",
                duration(i.start_slack_ns),
                duration(i.end_slack_ns)
            );
            if i.unseen_ns > i.duration_ns / 2 {
                let _ = write!(text, "; no event for {} inside", duration(i.unseen_ns));
            }
            text.push(')');
        }
    }
    text
}

fn site_text(site: &Site) -> String {
    match &site.at {
        Some(at) => format!("{} {at}", site.event),
        None => site.event.clone(),
    }
}
