//! `kctx stats`: what a trace holds, and what could not be read.

use super::TextOrJson;
use super::output;
use analysis::{TraceCache, TraceSource, import_trace};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use trace_model::{EventStore, ProblemCount, seconds};

/// The numbers `kctx stats` prints for one input.
#[derive(Debug, Serialize)]
pub struct Stats {
    pub file: PathBuf,
    pub format: trace_model::SourceFormat,
    pub events: u64,
    pub by_name: BTreeMap<String, u64>,
    pub by_cpu: BTreeMap<u32, u64>,
    /// Seconds, as the trace prints them.
    pub first_ts: Option<f64>,
    pub last_ts: Option<f64>,
    pub cpus: u32,
    pub kernel_version: Option<String>,
    pub clock: Option<String>,
    pub lost_events: LostStats,
    pub unparsed_lines: UnparsedStats,
    pub non_event_lines: u64,
    /// What the import noticed and worked around (damage skipped, sizes clamped, data
    /// ignored), by kind: each may mean events are missing.
    pub warnings: BTreeMap<String, ProblemCount>,
}

/// Lost events by CPU.
#[derive(Debug, Serialize)]
pub struct LostStats {
    /// Gaps recorded.
    pub records: u64,
    /// Events the trace says were lost (gaps without a count add nothing).
    pub events: u64,
    /// Gaps that do not say how many events they lost.
    pub gaps_of_unknown_size: u64,
    /// `12 in 5 gaps`, or saying that the number is unknown.
    pub text: String,
    /// Gaps by CPU.
    pub by_cpu: BTreeMap<u32, u64>,
}

/// Unparsed lines by reason.
#[derive(Debug, Serialize)]
pub struct UnparsedStats {
    pub total: u64,
    pub by_reason: BTreeMap<String, ProblemCount>,
}

impl Stats {
    /// Computes the statistics of an imported store.
    pub fn of(file: &Path, store: &EventStore) -> Stats {
        let by_type = store.event_type_counts();
        let by_name = store
            .event_type_names()
            .map(|(id, name)| (name.to_owned(), by_type[id.0 as usize]))
            .filter(|&(_, n)| n > 0)
            .collect();
        let by_cpu = (0..store.cpu_count())
            .map(|c| (store.cpu_id(c), store.cpu_event_count(c) as u64))
            .filter(|&(_, n)| n > 0)
            .collect();
        let mut lost_by_cpu = BTreeMap::new();
        for l in &store.meta.lost {
            *lost_by_cpu.entry(store.cpu_id(l.cpu as usize)).or_insert(0) += 1;
        }
        let (records, events) = store.meta.lost_totals();
        let span = store.time_span();
        Stats {
            file: file.to_owned(),
            format: store.meta.source.clone(),
            events: store.len() as u64,
            by_name,
            by_cpu,
            first_ts: span.map(|s| seconds(s.0)),
            last_ts: span.map(|s| seconds(s.1)),
            cpus: store.meta.cpus,
            kernel_version: store.meta.kernel_version.clone(),
            clock: store.meta.clock.clone(),
            lost_events: LostStats {
                records: records as u64,
                events,
                gaps_of_unknown_size: store.meta.lost.iter().filter(|l| l.count.is_none()).count()
                    as u64,
                text: store.meta.lost_text(),
                by_cpu: lost_by_cpu,
            },
            unparsed_lines: UnparsedStats {
                total: store.report.unparsed_total(),
                by_reason: store.report.unparsed.clone(),
            },
            non_event_lines: store.report.non_event_lines,
            warnings: store.report.warnings.clone(),
        }
    }

    /// The human-readable form.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "{}", self.file.display());
        let _ = writeln!(w, "  format:        {}", format_name(&self.format));
        if let Some(k) = &self.kernel_version {
            let _ = writeln!(w, "  kernel:        {k}");
        }
        if let Some(c) = &self.clock {
            let _ = writeln!(w, "  clock:         {c}");
        }
        let _ = writeln!(w, "  events:        {}", self.events);
        if let (Some(a), Some(b)) = (self.first_ts, self.last_ts) {
            let _ = writeln!(w, "  time span:     {a:.6} .. {b:.6} ({:.6} s)", b - a);
        }
        let _ = writeln!(w, "  cpus:          {}", self.cpus);
        let _ = writeln!(w, "  lost events:   {}", self.lost_events.text);
        let _ = writeln!(w, "  unparsed lines: {}", self.unparsed_lines.total);
        for (reason, p) in &self.unparsed_lines.by_reason {
            let _ = writeln!(w, "  {}", p.line(reason));
        }
        let warnings: u64 = self.warnings.values().map(|p| p.count).sum();
        let _ = writeln!(w, "  warnings:      {warnings}");
        for (kind, p) in &self.warnings {
            let _ = writeln!(w, "  {}", p.line(kind));
        }
        let _ = writeln!(w, "  by cpu:");
        for (cpu, n) in &self.by_cpu {
            let _ = writeln!(w, "    cpu{cpu:<4} {n:>10}");
        }
        let _ = writeln!(w, "  by event:");
        let mut names: Vec<_> = self.by_name.iter().collect();
        names.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (name, n) in names {
            let _ = writeln!(w, "    {n:>10}  {name}");
        }
        out
    }
}

fn format_name(f: &trace_model::SourceFormat) -> String {
    use trace_model::SourceFormat::*;
    match f {
        Unknown => "unknown".into(),
        FtraceText { dialect } => format!("ftrace text ({dialect})"),
        TraceDat {
            version,
            compression,
        } => format!("trace.dat v{version} ({compression})"),
        Console => "console log".into(),
        Qemu => "QEMU log".into(),
    }
}

/// `kctx stats FILE...`
pub fn run(
    files: &[PathBuf],
    format: TextOrJson,
    cache: Option<&TraceCache>,
) -> anyhow::Result<u8> {
    let mut all = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let mut trace =
            import_trace(&name, TraceSource::Path(f.clone()), cache).map_err(anyhow::Error::msg)?;
        all.push(trace.while_caching(cache, |store| Stats::of(f, store)));
        let events: Vec<_> = trace.cache.into_iter().map(|e| (name.clone(), e)).collect();
        super::tell_cache("stats", &events);
    }
    match format {
        TextOrJson::Text => {
            for s in &all {
                output::emit(&s.to_text())?;
            }
        }
        TextOrJson::Json if all.len() == 1 => {
            output::emit_line(&serde_json::to_string_pretty(&all[0])?)?
        }
        TextOrJson::Json => output::emit_line(&serde_json::to_string_pretty(&all)?)?,
    }
    Ok(0)
}
