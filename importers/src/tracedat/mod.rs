//! trace-cmd trace.dat v6 and v7, read without libtracecmd.
//!
//! Layers, a file each: [`header`] (initial header), [`section`] (v6 fixed order, v7
//! sections), [`options`], [`compress`] (zstd, zlib), [`format`] (event formats),
//! [`page`] (ring-buffer pages), [`decode`] (records -> typed payloads), [`cmdlines`],
//! [`printk`], [`salvage`] (a v7 file whose options chain is cut). Each CPU's pages are read through a cursor that decompresses one chunk at a
//! time; the CPUs are merged by time and pushed in order, so the builder never has to sort.

mod bytes;
pub mod cmdlines;
pub mod compress;
pub mod decode;
pub mod format;
pub mod header;
pub mod options;
pub mod page;
pub mod printk;
mod record_strings;
mod salvage;
pub mod section;
mod time_shift;

use crate::ImportError;
use crate::source::Reread;
use bytes::{Origin, Reader, lossy};
use compress::{ChunkBudget, Compression, PrefetchedChunks};
use options::{CpuData, Options};
use page::{PageCursor, PageLayout, PageSource, RawEvent, Step};
use std::thread::Scope;
use time_shift::TimeShift;
use trace_model::EventStore;
use trace_model::meta::SourceFormat;
use trace_model::report::{ImportReport, Location};
use trace_model::store::EventStoreBuilder;

/// True when the bytes start with the trace.dat magic.
pub fn is_tracedat(bytes: &[u8]) -> bool {
    bytes.starts_with(header::MAGIC)
}

/// The event formats of a trace.dat file (for tools and tests that inspect layouts).
pub fn event_formats(bytes: &[u8]) -> Result<Vec<format::EventFormat>, ImportError> {
    let h = header::parse(bytes)?;
    section::read(bytes, &h)?
        .formats
        .iter()
        .map(|f| {
            f.parse().ok_or_else(|| {
                let what = format!("trace.dat {} format: a field line does not parse", f.name);
                ImportError::malformed(f.at, what)
            })
        })
        .collect()
}

/// Where compressed CPU data is decompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decompression {
    /// Inside each CPU's page cursor, on the importing thread.
    OnThisThread,
    /// Ahead of the merge, on a thread per compressed CPU stream.
    AheadOnThreads,
}

impl Decompression {
    /// Threads when there is more than one core to run them on.
    pub fn for_this_machine() -> Decompression {
        match std::thread::available_parallelism() {
            Ok(n) if n.get() > 1 => Decompression::AheadOnThreads,
            _ => Decompression::OnThisThread,
        }
    }
}

/// Imports a trace.dat file.
pub fn import(bytes: &[u8]) -> Result<EventStore, ImportError> {
    import_with(bytes, Decompression::for_this_machine())
}

/// Imports a trace.dat file, decompressing as told (the result is the same either way).
pub fn import_with(bytes: &[u8], decompression: Decompression) -> Result<EventStore, ImportError> {
    import_all(bytes, decompression, None)
}

/// Imports a trace.dat file whose compressed CPU data, once decompressed, may be given back
/// to `reread` (a mapped file's pages; the result is the same).
pub fn import_rereading(
    bytes: &[u8],
    reread: Option<Reread<'_>>,
) -> Result<EventStore, ImportError> {
    import_all(bytes, Decompression::for_this_machine(), reread)
}

fn import_all(
    bytes: &[u8],
    decompression: Decompression,
    reread: Option<Reread<'_>>,
) -> Result<EventStore, ImportError> {
    let h = header::parse(bytes)?;
    let m = section::read(bytes, &h)?;
    if let (true, Some(text)) = (m.buffers.is_empty(), &m.latency_text) {
        // A latency-format recording: the data is the ASCII `trace` file.
        return crate::ftrace_text::import(text);
    }
    let page_header = m
        .page_header
        .unwrap_or_else(|| format::PageHeader::parse("", usize::from(h.long_size)));
    let mut report = ImportReport::default();
    for (what, at) in &m.warnings {
        report.warn(what, Location::Byte(*at));
    }
    let layouts: Vec<PageLayout> = m
        .buffers
        .iter()
        .map(|buf| PageLayout {
            endian: h.endian,
            header: page_header,
            page_size: page_size(&h, buf, &page_header, &mut report),
        })
        .collect();
    let streams: Vec<(usize, CpuData)> = m
        .buffers
        .iter()
        .enumerate()
        .flat_map(|(i, buf)| buf.cpus.iter().map(move |c| (i, *c)))
        .collect();
    let streams = without_aliases(streams, &m.compressed, &mut report);
    let budget = ChunkBudget::new(ChunkBudget::IMPORT);
    let loaded: Vec<CpuStream<'_>> = streams
        .iter()
        .map(|&(i, cpu)| load_cpu(bytes, &h, &m, i, cpu))
        .collect();
    let mut b = EventStoreBuilder::with_capacity(estimated_events(&loaded, bytes.len()));
    fill_meta(&mut b, &h, &m);
    let kallsyms = lossy(&m.kallsyms);
    {
        let (strings, symbols) = b.strings_and_symbols_mut();
        *symbols = crate::kallsyms::parse(&kallsyms, strings, &mut report);
    }
    b.report_mut().merge(report);
    let stext = find_symbol(&kallsyms, "_stext").unwrap_or(0);
    let printk = printk::PrintkFormats::parse(&lossy(&m.printk));
    let idle = b.intern("<idle>");
    let unknown = b.intern("<...>");
    let comms = cmdlines::Comms::parse(&lossy(&m.cmdlines), idle, unknown, |s| b.intern(s));
    let abi = decode::KernelAbi::from_release(m.options.kernel_release());
    let mut decoder = decode::Decoder::new(
        &mut b,
        &m.formats,
        abi,
        h.endian,
        page_header.commit_size,
        stext,
        &printk,
        comms,
    )?;

    let clock = Clock::new(&m.options);
    for (cpu, overrun) in m.options.cpustat.iter().filter_map(|t| options::overrun(t)) {
        // The ring buffer overwrote these before the data was read: lost before the
        // CPU's first recorded event.
        let first = loaded
            .iter()
            .filter(|s| s.cpu.cpu == cpu)
            .map(|s| s.first_ts(layouts[s.buffer], &budget))
            .min();
        b.lost(cpu, clock.convert(cpu, first.unwrap_or(0)), Some(overrun));
    }
    let cursors = Cursors {
        streams: &loaded,
        layouts: &layouts,
        budget: &budget,
        reread,
    };
    merge(&mut b, &mut decoder, cursors, &clock, decompression);
    Ok(b.finish())
}

/// The store's size from the streams' bytes, not from a counting pass over every record
/// (that walk cost as much as the decoding's own). Compression shrinks these pages about
/// 5x; columns reserved beyond the events are never touched, so over-estimating is cheap,
/// within bounds: never more than the file's own bytes can hold, whatever streams state.
fn estimated_events(streams: &[CpuStream<'_>], file_len: usize) -> usize {
    const TYPICAL_RECORD_BYTES: usize = 32;
    const COMPRESSION_RATIO: usize = 8;
    let data_bytes: usize = streams
        .iter()
        .map(|s| match s.compression {
            Some(_) => (s.cpu.size as usize).min(s.bytes.len()) * COMPRESSION_RATIO,
            None => s.bytes.len(),
        })
        .fold(0, usize::saturating_add);
    data_bytes.min(file_len.saturating_mul(COMPRESSION_RATIO)) / TYPICAL_RECORD_BYTES
}

/// The page size of a buffer's data: its BUFFER option's, or the header's. `header_page`
/// describes the kernel's page too (`data` offset plus size); when the two disagree the
/// kernel's description wins and a warning says so (a wrong page size decodes garbage).
fn page_size(
    h: &header::Header,
    buf: &options::Buffer,
    page_header: &format::PageHeader,
    report: &mut ImportReport,
) -> usize {
    // A damaged BUFFER option's page size (0 would never advance) reads as the header's.
    let stated = buf
        .page_size
        .filter(|&p| page::valid_page_size(u64::from(p)))
        .unwrap_or(h.page_size) as usize;
    let described = page_header
        .data_size
        .map(|size| page_header.data_offset.saturating_add(size))
        .filter(|&p| page::valid_page_size(p as u64));
    match described {
        Some(p) if p != stated => {
            report.warn(
                &format!(
                    "trace.dat: page size {stated} but header_page describes pages of {p} bytes \
                     (read as {p})"
                ),
                Location::Byte(0),
            );
            p
        }
        _ => stated,
    }
}

/// The CPU streams, less those whose bytes overlap an earlier one's (only a damaged or
/// hostile BUFFER option points several CPUs at the same data: each would decode it again).
/// An empty plain stream reads nothing; a compressed one is read by its chunk count, so
/// even an empty one reads at least that.
fn without_aliases(
    mut streams: Vec<(usize, CpuData)>,
    compressed: &[bool],
    report: &mut ImportReport,
) -> Vec<(usize, CpuData)> {
    let mut by_offset: Vec<usize> = (0..streams.len())
        .filter(|&i| streams[i].1.size > 0 || compressed[streams[i].0])
        .collect();
    by_offset.sort_by_key(|&i| (streams[i].1.offset, i));
    let mut alias = vec![false; streams.len()];
    let mut reach: Option<(u64, u32)> = None;
    for &i in &by_offset {
        let cpu = streams[i].1;
        match reach {
            Some((end, owner)) if cpu.offset < end => {
                alias[i] = true;
                report.warn(
                    &format!(
                        "trace.dat: cpu {} data overlaps cpu {owner}'s: read once, as cpu {owner}",
                        cpu.cpu
                    ),
                    Location::Byte(cpu.offset),
                );
            }
            _ => reach = Some((cpu.offset.saturating_add(cpu.size.max(1)), cpu.cpu)),
        }
    }
    let mut i = 0;
    streams.retain(|_| {
        i += 1;
        !alias[i - 1]
    });
    streams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_applies_tsc2nsec_then_the_offsets() {
        let options = Options {
            tsc2nsec: Some(options::Tsc2Nsec {
                mult: 3,
                shift: 1,
                offset: 100,
            }),
            ts_offset_ns: -10,
            ..Options::default()
        };
        // ((1100 - 100) * 3) >> 1 = 1500, then -10.
        assert_eq!(Clock::new(&options).convert(0, 1100), 1490);
        let defaults = Options::default();
        assert_eq!(Clock::new(&defaults).convert(0, 1100), 1100);
    }

    #[test]
    fn stext_from_kallsyms() {
        let text =
            "ffffffff81000000 T _stext_not\nffffffff81000100 T _stext\nffffffff81000200 t x\n";
        assert_eq!(find_symbol(text, "_stext"), Some(0xffffffff81000100));
        assert_eq!(find_symbol(text, "nope"), None);
    }
}

fn fill_meta(b: &mut EventStoreBuilder, h: &header::Header, m: &section::Metadata<'_>) {
    b.state_cpu_count(u64::from(m.cpus), Location::Byte(m.cpus_at));
    let meta = b.meta_mut();
    meta.source = SourceFormat::TraceDat {
        version: h.version,
        compression: h.compression_name.clone(),
    };
    meta.kernel_version = m.options.kernel_release().map(str::to_owned);
    meta.clock = m
        .options
        .trace_clock
        .as_deref()
        .and_then(options::selected_clock)
        .or_else(|| m.buffers.first().and_then(|buf| buf.clock.clone()));
    let listed = m.buffers.first().map_or(0, |buf| buf.cpus.len());
    if let Some(count) = m.options.cpu_count
        && !m.buffers.is_empty()
        && listed < count as usize
    {
        b.report_mut().warn(
            &format!(
                "trace.dat: CPUCOUNT says {count} CPUs, the CPU data has streams for {listed}: \
                 the others' data is not in the file"
            ),
            Location::Byte(m.cpus_at),
        );
    }
    if let Some((id, at)) = m.options.first_unknown {
        let what = format!(
            "trace.dat: {} options of unknown id skipped (the first: id {id})",
            m.options.unknown
        );
        b.report_mut().warn(&what, at);
    }
    let instances = m.buffers.iter().filter(|buf| !buf.name.is_empty()).count();
    if instances > 0 {
        b.report_mut().warn(
            "trace.dat: buffer instances merged into one timeline",
            Location::Byte(0),
        );
    }
}

/// The address of the core-kernel symbol `name` (`ffffffff81000000 T _stext` line).
fn find_symbol(kallsyms: &str, name: &str) -> Option<u64> {
    let needle = format!(" {name}\n");
    let at = memchr::memmem::find(kallsyms.as_bytes(), needle.as_bytes())?;
    let line_start = kallsyms[..at].rfind('\n').map_or(0, |i| i + 1);
    let addr = kallsyms[line_start..at].split_whitespace().next()?;
    u64::from_str_radix(addr, 16).ok()
}

/// Raw timestamps -> trace time, as trace-cmd converts them: a guest's TIME_SHIFT to the
/// host clock, TSC2NSEC, then the DATE and OFFSET offsets.
#[derive(Clone, Copy, Debug)]
struct Clock<'o> {
    time_shift: Option<&'o TimeShift>,
    tsc2nsec: Option<options::Tsc2Nsec>,
    offset: i64,
}

impl<'o> Clock<'o> {
    fn new(o: &'o Options) -> Clock<'o> {
        Clock {
            time_shift: o.time_shift.as_ref(),
            tsc2nsec: o.tsc2nsec.filter(|t| t.mult != 0),
            offset: o.ts_offset_ns,
        }
    }

    /// The trace time of raw time `raw` of CPU `cpu`.
    #[inline]
    fn convert(&self, cpu: u32, raw: u64) -> u64 {
        let raw = match self.time_shift {
            Some(shift) => shift.apply(cpu, raw),
            None => raw,
        };
        let ts = match self.tsc2nsec {
            Some(t) => {
                ((u128::from(raw.saturating_sub(t.offset)) * u128::from(t.mult)) >> t.shift) as u64
            }
            None => raw,
        };
        ts.wrapping_add_signed(self.offset)
    }
}

/// One CPU's data: where its pages are and how they are stored.
struct CpuStream<'a> {
    buffer: usize,
    cpu: CpuData,
    /// The stream's bytes in the file (from its start to the end of the file when it is
    /// a chunk stream, whose chunks are walked by their count).
    bytes: &'a [u8],
    compression: Option<Compression>,
    /// Damage found before reading: file offset and description.
    damage: Option<(u64, String)>,
}

impl<'a> CpuStream<'a> {
    /// A cursor over the stream's pages from its start; with a `scope`, a compressed
    /// stream is decompressed ahead on a thread of it; with `reread`, its chunks' mapped
    /// bytes are given back once decompressed.
    fn cursor<'scope>(
        &self,
        layout: PageLayout,
        scope: Option<&'scope Scope<'scope, 'a>>,
        budget: &'a ChunkBudget,
        reread: Option<Reread<'a>>,
    ) -> PageCursor<'a> {
        let source = match self.compression {
            Some(comp) => {
                let origin = Origin::file(self.cpu.offset, "cpu data");
                let chunks = compress::ChunkReader::new(
                    comp,
                    Reader::new(self.bytes, layout.endian, origin),
                    Some(self.cpu.size),
                    budget,
                )
                .rereading(reread);
                match scope {
                    Some(scope) => PageSource::Prefetched(PrefetchedChunks::spawn(scope, chunks)),
                    None => PageSource::Chunks(Box::new(chunks)),
                }
            }
            None => PageSource::Plain(self.bytes),
        };
        PageCursor::over(source, layout)
    }

    /// Raw time of the first event (0 without events).
    fn first_ts(&self, layout: PageLayout, budget: &'a ChunkBudget) -> u64 {
        let mut cursor = self.cursor(layout, None, budget, None);
        loop {
            match cursor.step() {
                Step::Event(e) => return e.ts,
                Step::End => return 0,
                Step::Missed { .. } | Step::Damaged { .. } => {}
            }
        }
    }

    /// File offset of damage at `at` in the stream: offsets into decompressed data have
    /// no file position, so those name the stream's.
    fn file_offset(&self, at: usize) -> u64 {
        match self.compression {
            Some(_) => self.cpu.offset,
            None => self.cpu.offset + at as u64,
        }
    }
}

fn load_cpu<'a>(
    bytes: &'a [u8],
    h: &header::Header,
    m: &section::Metadata<'a>,
    buffer: usize,
    cpu: CpuData,
) -> CpuStream<'a> {
    let start = usize::try_from(cpu.offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let mut stream = CpuStream {
        buffer,
        cpu,
        bytes: &[],
        compression: None,
        damage: None,
    };
    if m.compressed[buffer] {
        let Some(comp) = h.compression else {
            stream.damage = Some((
                cpu.offset,
                format!(
                    "trace.dat cpu {} data: compressed in a file without compression",
                    cpu.cpu
                ),
            ));
            return stream;
        };
        // Chunks are walked by their count: the stated size has been seen to be short.
        stream.bytes = &bytes[start..];
        stream.compression = Some(comp);
    } else {
        let end = cpu.offset.saturating_add(cpu.size);
        let avail = (bytes.len() as u64).min(end) as usize;
        stream.bytes = &bytes[start..avail.max(start)];
        if end > bytes.len() as u64 {
            stream.damage = Some((
                bytes.len() as u64,
                format!(
                    "trace.dat cpu {} data: file ends {} bytes before the data does",
                    cpu.cpu,
                    end - bytes.len() as u64
                ),
            ));
        }
    }
    stream
}

/// A stream being merged: its cursor and its next event.
struct Head<'a> {
    cursor: PageCursor<'a>,
    next: Option<RawEvent>,
    stream: usize,
}

/// What the merge makes its cursors from.
#[derive(Clone, Copy)]
struct Cursors<'s, 'a> {
    streams: &'s [CpuStream<'a>],
    layouts: &'s [PageLayout],
    budget: &'a ChunkBudget,
    reread: Option<Reread<'a>>,
}

/// Streams decompressed ahead on a thread each, at most: the rest decompress on the
/// merging thread. More threads than cores gain nothing, and a file listing thousands of
/// CPUs must not ask for thousands of threads.
fn ahead_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_mul(4).min(64))
}

/// A stream's next event, its time converted to trace time (merged by that: a guest's
/// CPUs shift differently), recording lost events and damage on the way.
#[inline(always)]
fn advance(
    b: &mut EventStoreBuilder,
    cursor: &mut PageCursor<'_>,
    s: &CpuStream<'_>,
    clock: &Clock,
) -> Option<RawEvent> {
    loop {
        match cursor.step() {
            Step::Event(mut e) => {
                e.ts = clock.convert(s.cpu.cpu, e.ts);
                return Some(e);
            }
            Step::End => {
                stream_end(b, cursor, s, clock);
                return None;
            }
            gap => record_gap(b, s, clock, gap),
        }
    }
}

/// Data cut short (a damaged chunk, a truncated file) is lost from the last event read on.
#[cold]
fn stream_end(
    b: &mut EventStoreBuilder,
    cursor: &mut PageCursor<'_>,
    s: &CpuStream<'_>,
    clock: &Clock,
) {
    // The error's own offset goes to the location, not into the text: one offset per
    // warning, and the same damage on several CPUs counts as one kind.
    let damage = cursor.take_damage().map(|d| match d.error {
        ImportError::Malformed {
            at: Location::Byte(at),
            what,
        } => {
            let what = what.strip_prefix("trace.dat cpu data: ").unwrap_or(&what);
            (at, format!("trace.dat cpu {} data: {what}", s.cpu.cpu))
        }
        other => (d.at, format!("trace.dat cpu {} data: {other}", s.cpu.cpu)),
    });
    if let Some((at, what)) = damage.as_ref().or(s.damage.as_ref()) {
        b.report_mut().warn(what, Location::Byte(*at));
        b.lost(s.cpu.cpu, clock.convert(s.cpu.cpu, cursor.ts()), None);
    }
}

/// Lost events the kernel marked, or a damaged page.
#[cold]
fn record_gap(b: &mut EventStoreBuilder, s: &CpuStream<'_>, clock: &Clock, gap: Step) {
    match gap {
        Step::Missed { ts, count } => b.lost(s.cpu.cpu, clock.convert(s.cpu.cpu, ts), count),
        Step::Damaged { at, ts, what } => {
            b.report_mut().warn(
                &format!("trace.dat cpu data: {what}"),
                Location::Byte(s.file_offset(at)),
            );
            b.lost(s.cpu.cpu, clock.convert(s.cpu.cpu, ts), None);
        }
        Step::Event(_) | Step::End => {}
    }
}

/// Merges the streams by time (ties: the lower stream first, as trace-cmd does) and pushes.
fn merge<'a>(
    b: &mut EventStoreBuilder,
    decoder: &mut decode::Decoder<'_>,
    cursors: Cursors<'_, 'a>,
    clock: &Clock,
    decompression: Decompression,
) {
    let Cursors {
        streams,
        layouts,
        budget,
        reread,
    } = cursors;
    std::thread::scope(|scope| {
        let ahead = (decompression == Decompression::AheadOnThreads).then_some(scope);
        let mut threads = ahead_threads();
        let heads: Vec<Head<'a>> = streams
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let thread = ahead.filter(|_| s.compression.is_some() && threads > 0);
                threads -= usize::from(thread.is_some());
                Head {
                    cursor: s.cursor(layouts[s.buffer], thread, budget, reread),
                    next: None,
                    stream: i,
                }
            })
            .collect();
        merge_heads(b, decoder, streams, heads, clock);
    });
}

/// The merge proper, over cursors already made: the heads wait in a heap by their next
/// time, and the earliest one pushes a run of events while it stays earliest.
fn merge_heads(
    b: &mut EventStoreBuilder,
    decoder: &mut decode::Decoder<'_>,
    streams: &[CpuStream<'_>],
    mut heads: Vec<Head<'_>>,
    clock: &Clock,
) {
    use std::cmp::Reverse;
    let mut waiting = std::collections::BinaryHeap::with_capacity(heads.len());
    for (i, h) in heads.iter_mut().enumerate() {
        h.next = advance(b, &mut h.cursor, &streams[h.stream], clock);
        if let Some(e) = h.next {
            waiting.push(Reverse((e.ts, i)));
        }
    }
    let mut events = 0u64;
    while let Some(Reverse((_, i))) = waiting.pop() {
        let second = waiting.peek().map(|&Reverse(key)| key);
        // Take a run from this stream while it stays first.
        let head = &mut heads[i];
        let s = &streams[head.stream];
        let mut next = head.next;
        while let Some(e) = next {
            if let Some((ts, j)) = second
                && (e.ts > ts || (e.ts == ts && j < i))
            {
                break;
            }
            if !decoder.push(b, head.cursor.record(e), e.ts, s.cpu.cpu) {
                b.report_mut().unparsed(
                    "trace.dat: record whose event id has no format (kept as unknown_event)",
                    Location::Byte(s.cpu.offset),
                );
            }
            events += 1;
            next = advance(b, &mut head.cursor, s, clock);
        }
        head.next = next;
        if let Some(e) = next {
            waiting.push(Reverse((e.ts, i)));
        }
    }
    let report = b.report_mut();
    report.units_read += events;
}
