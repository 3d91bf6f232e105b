//! ftrace text in all its dialects: tracefs `trace` (with or without the irq-info,
//! migrate-disable and TGID columns, PREEMPT_RT / lazy flag letters), `trace_pipe`, the
//! latency format, `trace-cmd report`, systrace HTML / JS-escaped text, function and
//! function_graph tracer lines, ftrace_dump_on_oops dumps inside a console log, and any of
//! these quoted in a mail.
//!
//! The dialect is recognised per line, not from a header: each line is unwrapped
//! ([`lines`]), then read as an event prefix ([`prefix`]: default, then latency shape), a
//! framing line ([`header`]) or a function_graph line ([`funcgraph`]). Every line ends up as
//! an event, a counted non-event line, or a counted unparsed line.

mod dialect;
mod flags;
mod funcgraph;
mod header;
mod lines;
mod payload;
mod prefix;
mod scan;

use crate::ImportError;
use dialect::Dialect;
use funcgraph::{GraphClock, GraphLine};
use header::{HeaderFacts, Marker};
use payload::{Kind, PayloadParser};
use prefix::{Prefix, PrefixParser};
use rustc_hash::FxHashMap;
use trace_model::{
    ContextFlags, EventHeader, EventStore, EventStoreBuilder, EventTypeId, Location, Payload,
    SourceFormat, StrId,
};

/// True when the bytes hold ftrace event lines (also inside a console log, mail or HTML).
pub fn looks_like_ftrace(bytes: &[u8]) -> bool {
    let mut events = 0;
    let mut header = false;
    let mut parser = prefix::PrefixParser::default();
    // Line by line, so that a file decides after its first events, not after a full scan.
    for line in bytes.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let text = lines::unwrap(line).text;
        let t = text.trim_ascii_start();
        header |= t.starts_with("# tracer:") || t.starts_with("cpus=");
        let event = prefix::parse_default(text, &mut parser).is_some()
            || prefix::parse_latency(text, &mut parser).is_some()
            || matches!(
                funcgraph::parse(text),
                Some(GraphLine::Entry { .. } | GraphLine::Leaf { .. })
            );
        events += usize::from(event);
        if events >= 2 || (events == 1 && header) {
            return true;
        }
    }
    false
}

/// Imports ftrace text.
pub fn import(bytes: &[u8]) -> Result<EventStore, ImportError> {
    // `from_utf8` is much faster than `from_utf8_lossy` on valid input; copy only if invalid.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    // Built before the importer borrows them: it keeps slices of the lines it reads.
    let wrapped = lines::wrapped_functions(&text);
    let mut wrapped = wrapped.iter().peekable();
    let mut importer = Importer::default();
    let mut continuation = None;
    for (n, line) in lines::numbered_lines(&text) {
        if continuation == Some(n) {
            // The rest of the line before: read with it.
            let report = importer.builder.report_mut();
            report.units_read += 1;
            report.non_event_lines += 1;
            continue;
        }
        match wrapped.next_if(|(first, _)| *first == n) {
            Some((_, joined)) => {
                importer.line(n, joined)?;
                continuation = Some(n + 1);
            }
            None => importer.line(n, line)?,
        }
    }
    if importer.builder.is_empty() {
        return Err(ImportError::NotATrace);
    }
    Ok(importer.finish())
}

/// Why a line was not read, as `kctx stats` shows it.
const NOT_AN_EVENT_LINE: &str = "line is neither an event nor a known header";
const EVENT_WITHOUT_NAME: &str = "event line without an event name";

/// What a line turned out to be.
enum Line<'a> {
    /// An event, and a second one when a mail client glued two lines together.
    Event(Prefix<'a>, Option<Prefix<'a>>),
    Graph(GraphLine<'a>),
    NonEvent,
    Unparsed,
}

/// Where a line sits in an HTML systrace file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Html {
    Plain,
    Outside,
    InTrace,
}

#[derive(Default)]
struct Importer<'a> {
    builder: EventStoreBuilder,
    payloads: PayloadParser<'a>,
    /// Event name as printed → stored type and payload kind.
    names: FxHashMap<&'a str, (EventTypeId, Kind)>,
    header: HeaderFacts,
    prefixes: PrefixParser<'a>,
    graph: GraphClock,
    dialect: Dialect,
    /// Decided on the first non-blank line: `None` until then.
    html: Option<Html>,
    /// A plain trace file (its first line is a header or an event): a line that is not
    /// understood is unparsed. In console logs and mails it is surrounding prose.
    strict: bool,
    /// Inside `Dumping ftrace buffer:` ... dashes.
    in_dump: bool,
    /// `CPU:N [LOST ...]` markers waiting for the CPU's next event (their time).
    pending_lost: Vec<(u32, Option<u64>)>,
    last_ts_ns: u64,
    /// The line being read (where header facts were stated).
    line_no: u64,
    /// The previous event's comm and its id: consecutive lines mostly share the task.
    last_comm: Option<(&'a str, StrId)>,
}

impl<'a> Importer<'a> {
    fn line(&mut self, n: u64, raw: &'a str) -> Result<(), ImportError> {
        self.builder.report_mut().units_read += 1;
        self.line_no = n;
        match self.classify(raw) {
            Line::Event(p, glued) => {
                self.event(n, p)?;
                if let Some(q) = glued {
                    self.event(n, q)?;
                }
            }
            Line::Graph(g) => self.graph_line(g)?,
            Line::NonEvent => self.builder.report_mut().non_event_lines += 1,
            Line::Unparsed => self
                .builder
                .report_mut()
                .unparsed(NOT_AN_EVENT_LINE, Location::Line(n)),
        }
        Ok(())
    }

    /// What one line is; headers and framing lines update the importer's state here.
    fn classify(&mut self, raw: &'a str) -> Line<'a> {
        if !self.in_trace_region(raw) {
            return Line::NonEvent;
        }
        let unwrapped = lines::unwrap(raw);
        let text = unwrapped.text;
        self.dialect.console |= unwrapped.console;
        self.dialect.quoted |= unwrapped.quoted;
        let trimmed = scan::trim_start(text);
        if trimmed.is_empty() {
            return Line::NonEvent;
        }
        if trimmed.starts_with('#') {
            if let Some(cpus) = self.header.comment(trimmed, self.builder.meta_mut()) {
                self.state_cpu_count(cpus);
            }
            self.dialect.tracefs_header |= trimmed.starts_with("# tracer:");
            return Line::NonEvent;
        }
        if let Some(mut p) = self.prefix(text) {
            let glued = if unwrapped.quoted {
                self.glued_event(&mut p)
            } else {
                None
            };
            return Line::Event(p, glued);
        }
        if let Some(m) = header::marker(text) {
            self.marker(m);
            return Line::NonEvent;
        }
        if let Some(g) = funcgraph::parse(text) {
            return Line::Graph(g);
        }
        // The first release a console log states is the traced kernel's; mails quote others
        // later. A latency header, when present, is authoritative and overrides it.
        if self.builder.meta_mut().kernel_version.is_none()
            && let Some(release) = header::kernel_release(text)
        {
            self.builder.meta_mut().kernel_version = Some(release.to_owned());
        }
        if self.strict || (self.in_dump && unwrapped.console) {
            Line::Unparsed
        } else {
            Line::NonEvent
        }
    }

    /// Tracks the systrace HTML container; false for lines outside the trace data.
    fn in_trace_region(&mut self, raw: &'a str) -> bool {
        let html = match self.html {
            Some(h) => h,
            None if raw.trim().is_empty() => return true,
            None => {
                let t = raw.trim_start();
                let h = if t.starts_with("<!")
                    || t.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("<html"))
                {
                    Html::Outside
                } else {
                    // A plain trace starts with its header or an event.
                    let u = lines::unwrap(raw).text.trim_start();
                    self.strict = u.starts_with('#')
                        || u.starts_with("version =")
                        || u.starts_with("cpus=")
                        || self.prefix(u).is_some();
                    Html::Plain
                };
                self.html = Some(h);
                h
            }
        };
        match html {
            Html::Plain => true,
            Html::Outside => {
                if raw.contains("class=\"trace-data\"") || raw.contains("linuxPerfData = \"") {
                    self.html = Some(Html::InTrace);
                    self.dialect.html = true;
                    self.strict = true;
                }
                false
            }
            Html::InTrace => {
                // The closing tag may end the last data line (`{...}  </script>`).
                if raw.contains("</script>") {
                    self.html = Some(Html::Outside);
                    return false;
                }
                true
            }
        }
    }

    /// `... ios >    kworker/u40:2-14449 [005] ...`: a quoted line that holds a second event
    /// after a quote mark; cuts it off `p`'s body and returns it.
    fn glued_event(&mut self, p: &mut Prefix<'a>) -> Option<Prefix<'a>> {
        let body = p.body;
        let glue = memchr::memchr_iter(b'>', body.as_bytes())
            .filter(|&i| i > 0 && body.as_bytes()[i - 1] == b' ')
            .find_map(|i| Some((i, self.prefix(&body[i + 1..])?)))?;
        p.body = body[..glue.0].trim_end();
        Some(glue.1)
    }

    fn prefix(&mut self, text: &'a str) -> Option<Prefix<'a>> {
        let parser = &mut self.prefixes;
        parser.flags.set_layout(self.header.layout);
        let latency_first = self.dialect.latency || self.header.latency_header;
        if !latency_first && let Some(p) = prefix::parse_default(text, parser) {
            return Some(p);
        }
        if let Some(p) = prefix::parse_latency(text, parser) {
            self.dialect.latency = true;
            return Some(p);
        }
        if latency_first && let Some(p) = prefix::parse_default(text, parser) {
            return Some(p);
        }
        let p = prefix::parse_report_latency(text, parser)?;
        self.dialect.report = true;
        Some(p)
    }

    fn state_cpu_count(&mut self, cpus: u32) {
        let at = Location::Line(self.line_no);
        self.builder.state_cpu_count(u64::from(cpus), at);
    }

    fn marker(&mut self, m: Marker) {
        match m {
            Marker::Lost { cpu, count } => self.pending_lost.push((cpu, count)),
            Marker::Cpus(cpus) => {
                self.state_cpu_count(cpus);
                self.dialect.report = true;
            }
            Marker::DumpStart => {
                self.in_dump = true;
                self.dialect.dump = true;
            }
            Marker::Dashes => {
                // The first dashes open the dump's body, the second close it.
                if self.in_dump && self.dialect.dump_body {
                    self.in_dump = false;
                }
                self.dialect.dump_body = self.in_dump;
            }
            Marker::StackFrame => {}
            Marker::Other => self.dialect.report |= !self.dialect.tracefs_header,
        }
    }

    fn event(&mut self, n: u64, p: Prefix<'a>) -> Result<(), ImportError> {
        let (event_type, kind, payload) = match event_name(p.body) {
            Some((name, payload)) => {
                let (event_type, kind) = self.event_kind(name)?;
                (event_type, kind, payload)
            }
            None if is_function_line(p.body) => {
                let (event_type, kind) = self.event_kind("function")?;
                (event_type, kind, p.body)
            }
            None if p.body.starts_with("<stack trace>") => {
                (self.builder.event_type("kernel_stack")?, Kind::Generic, "")
            }
            None if p.body.starts_with("<user stack trace>") => {
                (self.builder.event_type("user_stack")?, Kind::Generic, "")
            }
            None => {
                self.builder
                    .report_mut()
                    .unparsed(EVENT_WITHOUT_NAME, Location::Line(n));
                return Ok(());
            }
        };
        let header = EventHeader {
            ts: p.ts_ns,
            cpu: p.cpu,
            pid: p.pid,
            comm: self.intern_comm(p.comm),
            event_type,
            flags: p.flags,
        };
        self.dialect.flags_column |= p.flags.recorded();
        self.push(n, header, kind, payload);
        Ok(())
    }

    /// `comm`'s id; skips hashing when the previous event had the same comm. When the prefix
    /// parser reused the previous line's task columns, `comm` is the very same slice, so the
    /// pointer comparison settles it without comparing bytes.
    fn intern_comm(&mut self, comm: &'a str) -> StrId {
        match self.last_comm {
            Some((last, id)) if std::ptr::eq(last, comm) || last == comm => id,
            _ => {
                let id = self.builder.intern(comm);
                self.last_comm = Some((comm, id));
                id
            }
        }
    }

    /// The stored type and payload kind of a printed event name (cached per name).
    fn event_kind(&mut self, printed: &'a str) -> Result<(EventTypeId, Kind), ImportError> {
        if let Some(&known) = self.names.get(printed) {
            return Ok(known);
        }
        let (name, kind) = payload::classify(printed);
        let known = (self.builder.event_type(name)?, kind);
        self.names.insert(printed, known);
        Ok(known)
    }

    fn push(&mut self, n: u64, header: EventHeader, kind: Kind, mut text: &'a str) {
        self.resolve_lost(header.cpu, header.ts);
        self.last_ts_ns = self.last_ts_ns.max(header.ts);
        if let Some(rest) = payload::strip_failed_to_parse(text) {
            self.builder
                .report_mut()
                .warn(payload::FAILED_TO_PARSE, Location::Line(n));
            text = rest;
        }
        let b = &mut self.builder;
        if let Some(typed) = self.payloads.typed(kind, text, b) {
            b.push(header, &typed);
            return;
        }
        if !matches!(kind, Kind::Generic | Kind::MaybeIrqVector { .. }) {
            b.report_mut()
                .warn(payload::TYPED_FALLBACK, Location::Line(n));
        }
        let generic = self.payloads.generic(text, b);
        b.push(header, &generic);
    }

    fn graph_line(&mut self, g: GraphLine<'a>) -> Result<(), ImportError> {
        self.dialect.graph = true;
        let (cpu, ev, name, payload) = match g {
            GraphLine::Entry { cpu, func } => {
                let f = self.builder.intern(func);
                let ev = self.graph.entry(cpu, f);
                let p = Payload::FuncGraphEntry {
                    func: f,
                    depth: ev.depth,
                    leaf_duration_ns: None,
                };
                (cpu, ev, "funcgraph_entry", p)
            }
            GraphLine::Leaf { cpu, func, dur_ns } => {
                let f = self.builder.intern(func);
                let ev = self.graph.leaf(cpu, f, dur_ns);
                let p = Payload::FuncGraphEntry {
                    func: f,
                    depth: ev.depth,
                    leaf_duration_ns: Some(dur_ns),
                };
                (cpu, ev, "funcgraph_entry", p)
            }
            GraphLine::Exit { cpu, func, dur_ns } => {
                let f = func.map(|f| self.builder.intern(f));
                let ev = self.graph.exit(cpu, f, dur_ns);
                let p = Payload::FuncGraphExit {
                    func: ev.func,
                    depth: ev.depth,
                    duration_ns: dur_ns,
                };
                (cpu, ev, "funcgraph_exit", p)
            }
            GraphLine::Switch { cpu, comm, pid } => {
                let comm = self.builder.intern(comm);
                self.graph.switch(cpu, comm, pid);
                self.builder.report_mut().non_event_lines += 1;
                return Ok(());
            }
            GraphLine::IrqMarker => {
                self.builder.report_mut().non_event_lines += 1;
                return Ok(());
            }
        };
        // function_graph lines without the proc column do not say which task ran.
        let (comm, pid) = ev.task.unwrap_or((StrId::EMPTY, -1));
        let header = EventHeader {
            ts: ev.ts_ns,
            cpu,
            pid,
            comm,
            event_type: self.builder.event_type(name)?,
            flags: ContextFlags::NOT_RECORDED,
        };
        self.builder.push(header, &payload);
        Ok(())
    }

    fn resolve_lost(&mut self, cpu: u32, ts_ns: u64) {
        if self.pending_lost.is_empty() {
            return;
        }
        let b = &mut self.builder;
        self.pending_lost.retain(|&(lost_cpu, count)| {
            let resolved = lost_cpu == cpu;
            if resolved {
                b.lost(cpu, ts_ns, count);
            }
            !resolved
        });
    }

    fn finish(mut self) -> EventStore {
        for (cpu, count) in std::mem::take(&mut self.pending_lost) {
            self.builder.lost(cpu, self.last_ts_ns, count);
        }
        let relative = self.dialect.latency || self.dialect.graph;
        let dialect = self.dialect.name(&self.header);
        let meta = self.builder.meta_mut();
        meta.relative_time = relative;
        meta.source = SourceFormat::FtraceText { dialect };
        self.builder.finish()
    }
}

/// `name: payload` with an identifier name (`sched_switch`, `0`, `lab_spin_lock`).
fn event_name(body: &str) -> Option<(&str, &str)> {
    // One pass: the name ends at its first non-identifier byte, which must be the colon.
    let b = body.as_bytes();
    let colon = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))?;
    if colon == 0 || b[colon] != b':' || b.get(colon + 1).is_some_and(|&c| c != b' ') {
        return None;
    }
    Some((&body[..colon], body[colon + 1..].trim_ascii_start()))
}

/// A function-tracer body: `func <-parent` or a lone symbol.
fn is_function_line(body: &str) -> bool {
    let body = body.trim_ascii_end();
    scan::find_str(body, " <-").is_some()
        || (!body.is_empty() && !body.contains(' ') && !body.starts_with('<'))
}

#[cfg(test)]
mod tests;
