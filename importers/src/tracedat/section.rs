//! The metadata of both versions: v6 in its fixed order, v7 as sections that the options
//! point to. Either way the result is the same [`Metadata`].

use super::bytes::{Origin, Reader, lossy};
use super::compress;
use super::format::{FormatSource, PageHeader};
use super::header::Header;
use super::options::{Buffer, CpuData, Options, id};
use super::salvage;
use crate::ImportError;
use std::borrow::Cow;

/// A region of metadata text: borrowed from the file, or decompressed.
pub type Text<'a> = Cow<'a, [u8]>;

/// Everything read before the CPU data.
#[derive(Debug, Default)]
pub struct Metadata<'a> {
    pub page_header: Option<PageHeader>,
    pub formats: Vec<FormatSource>,
    pub kallsyms: Text<'a>,
    pub printk: Text<'a>,
    pub cmdlines: Text<'a>,
    pub cpus: u32,
    /// Where the CPU count was stated (v6 its field, v7 the options).
    pub cpus_at: u64,
    pub options: Options,
    /// Buffers with CPU data; the top instance first.
    pub buffers: Vec<Buffer>,
    /// v6 `latency` files: the ASCII trace.
    pub latency_text: Option<Text<'a>>,
    /// v7: whether each buffer's CPU data is chunk-compressed (same order as `buffers`).
    pub compressed: Vec<bool>,
    /// What reading the metadata lost and kept (a cut options chain), with file offsets.
    pub warnings: Vec<(String, u64)>,
}

/// Reads the metadata of a v6 or v7 file.
pub fn read<'a>(bytes: &'a [u8], h: &Header) -> Result<Metadata<'a>, ImportError> {
    if h.version >= 7 {
        read_v7(bytes, h)
    } else {
        read_v6(bytes, h)
    }
}

/// A reader over the whole file, at `at`.
fn file_reader<'a>(
    bytes: &'a [u8],
    h: &Header,
    at: u64,
    what: &'static str,
) -> Result<Reader<'a>, ImportError> {
    let mut r = Reader::new(bytes, h.endian, Origin::file(0, what));
    r.seek(at)?;
    Ok(r)
}

/// `header_page\0` u64 size text, `header_event\0` u64 size text.
fn header_info(r: &mut Reader<'_>, long_size: usize) -> Result<PageHeader, ImportError> {
    r.expect(b"header_page\0", "header_page tag")?;
    let page = r.sized64("header_page text")?;
    r.expect(b"header_event\0", "header_event tag")?;
    r.sized64("header_event text")?;
    Ok(PageHeader::parse(&lossy(page), long_size))
}

/// u32 count, then u64 size + format text each.
fn ftrace_formats(r: &mut Reader<'_>, out: &mut Vec<FormatSource>) -> Result<(), ImportError> {
    let count = r.u32("ftrace format count")?;
    for _ in 0..count {
        let at = r.pos();
        let text = r.sized64("ftrace format")?;
        let f = FormatSource::new("ftrace", &lossy(text), r.origin.location(at))
            .ok_or_else(|| r.origin.error(at, "ftrace format without name or ID"))?;
        out.push(f);
    }
    Ok(())
}

/// u32 systems, then per system: name\0, u32 count, then u64 size + format text each.
fn event_formats(r: &mut Reader<'_>, out: &mut Vec<FormatSource>) -> Result<(), ImportError> {
    let systems = r.u32("event system count")?;
    for _ in 0..systems {
        let system = r.cstring("event system name")?;
        let count = r.u32("event format count")?;
        for _ in 0..count {
            let at = r.pos();
            let text = r.sized64("event format")?;
            let f = FormatSource::new(&system, &lossy(text), r.origin.location(at)).ok_or_else(
                || {
                    r.origin
                        .error(at, &format!("{system} event format without name or ID"))
                },
            )?;
            out.push(f);
        }
    }
    Ok(())
}

fn read_v6<'a>(bytes: &'a [u8], h: &Header) -> Result<Metadata<'a>, ImportError> {
    let mut m = Metadata::default();
    let long = usize::from(h.long_size);
    let mut r = file_reader(bytes, h, h.body as u64, "header info")?;
    m.page_header = Some(header_info(&mut r, long)?);
    r.origin.what = "ftrace formats";
    ftrace_formats(&mut r, &mut m.formats)?;
    r.origin.what = "event formats";
    event_formats(&mut r, &mut m.formats)?;
    r.origin.what = "kallsyms";
    m.kallsyms = Cow::Borrowed(r.sized32("kallsyms")?);
    r.origin.what = "printk formats";
    m.printk = Cow::Borrowed(r.sized32("printk formats")?);
    r.origin.what = "saved cmdlines";
    m.cmdlines = Cow::Borrowed(r.sized64("saved cmdlines")?);
    r.origin.what = "cpu count";
    m.cpus_at = r.pos() as u64;
    m.cpus = r.u32("cpu count")?;
    loop {
        r.origin.what = "data tag";
        let tag = r.bytes(10, "options / latency / flyrecord tag")?;
        match tag {
            b"options  \0" => {
                r.origin.what = "options";
                m.options.read_list(&mut r, false)?;
            }
            b"latency  \0" => {
                let rest = r.remaining() as u64;
                m.latency_text = Some(Cow::Borrowed(r.bytes(rest, "latency text")?));
                break;
            }
            b"flyrecord\0" => {
                r.origin.what = "flyrecord cpu table";
                let cpus = cpu_table(&mut r, m.cpus)?;
                if m.options.traceclock_follows {
                    r.origin.what = "trace clock";
                    let text = lossy(r.sized64("trace_clock text")?).into_owned();
                    m.options.trace_clock = Some(text);
                }
                m.buffers.push(Buffer {
                    cpus,
                    ..Buffer::default()
                });
                break;
            }
            other => {
                return Err(r.origin.error(
                    r.pos() - 10,
                    &format!("unknown data tag {:?}", lossy(other)),
                ));
            }
        }
    }
    // Instances: BUFFER options point to their own flyrecord tables.
    for b in std::mem::take(&mut m.options.buffers) {
        let mut r = file_reader(bytes, h, b.offset, "buffer instance table")?;
        if bytes.get(r.pos()..r.pos() + 10) == Some(b"flyrecord\0") {
            r.bytes(10, "flyrecord tag")?;
        }
        let cpus = cpu_table(&mut r, m.cpus)?;
        m.buffers.push(Buffer { cpus, ..b });
    }
    m.compressed = vec![false; m.buffers.len()];
    Ok(m)
}

/// v6 per-CPU (u64 offset, u64 size) table.
fn cpu_table(r: &mut Reader<'_>, cpus: u32) -> Result<Vec<CpuData>, ImportError> {
    if u64::from(cpus) * 16 > r.remaining() as u64 {
        return Err(r.error(&format!("table for {cpus} CPUs does not fit in the file")));
    }
    (0..cpus)
        .map(|cpu| {
            Ok(CpuData {
                cpu,
                offset: r.u64("cpu data offset")?,
                size: r.u64("cpu data size")?,
            })
        })
        .collect()
}

/// A v7 section: its header checked, its body decompressed if flagged.
struct Section<'a> {
    body: Text<'a>,
    /// Size on disk of the body.
    size: u64,
    origin: Origin,
    compressed: bool,
}

fn section<'a>(
    bytes: &'a [u8],
    h: &Header,
    offset: u64,
    want: u16,
    what: &'static str,
) -> Result<Section<'a>, ImportError> {
    let mut r = file_reader(bytes, h, offset, what)?;
    let sid = r.u16("section id")?;
    if sid != want {
        return Err(r.origin.error(
            offset as usize,
            &format!("section id {sid}, expected {want}"),
        ));
    }
    let flags = r.u16("section flags")?;
    r.u32("section description")?;
    let size = r.u64("section size")?;
    let body_at = r.pos() as u64;
    let compressed = flags & 1 != 0;
    // Flyrecord data is chunked and read per CPU later; only metadata is one block.
    if want == id::BUFFER || want == id::BUFFER_TEXT {
        return Ok(Section {
            body: Cow::Borrowed(&[]),
            size,
            origin: Origin::file(body_at, what),
            compressed,
        });
    }
    let body = r.bytes(size, "section body")?;
    if !compressed {
        return Ok(Section {
            body: Cow::Borrowed(body),
            size,
            origin: Origin::file(body_at, what),
            compressed,
        });
    }
    let comp = h.compression.ok_or_else(|| {
        r.origin.error(
            offset as usize,
            "compressed section in a file without compression",
        )
    })?;
    let mut br = Reader::new(body, h.endian, Origin::file(body_at, what));
    let data = compress::section_block(comp, &mut br)?;
    Ok(Section {
        body: Cow::Owned(data),
        size,
        origin: Origin {
            file_offset: offset,
            what,
            decompressed: true,
        },
        compressed,
    })
}

impl<'a> Section<'a> {
    fn reader(&self, h: &Header) -> Reader<'_> {
        Reader::new(&self.body, h.endian, self.origin)
    }

    /// The body's single sized item (u32 or u64 length prefix), borrowed when possible.
    fn sized(self, h: &Header, wide: bool) -> Result<Text<'a>, ImportError> {
        fn item<'b>(r: &mut Reader<'b>, wide: bool) -> Result<&'b [u8], ImportError> {
            if wide {
                r.sized64("size")
            } else {
                r.sized32("size")
            }
        }
        match self.body {
            Cow::Borrowed(b) => Ok(Cow::Borrowed(item(
                &mut Reader::new(b, h.endian, self.origin),
                wide,
            )?)),
            Cow::Owned(ref v) => Ok(Cow::Owned(
                item(&mut Reader::new(v, h.endian, self.origin), wide)?.to_vec(),
            )),
        }
    }
}

/// Reads the chain of options sections into `options`, noting each one's offset in
/// `visited` (which also stops loops in damaged files).
fn options_chain(
    bytes: &[u8],
    h: &Header,
    options: &mut Options,
    visited: &mut Vec<u64>,
) -> Result<(), ImportError> {
    let mut next = h.first_options;
    while next != 0 {
        if visited.contains(&next) {
            return Err(ImportError::malformed(
                trace_model::Location::Byte(next),
                "trace.dat options: sections chain loops",
            ));
        }
        visited.push(next);
        let s = section(bytes, h, next, id::DONE, "options")?;
        next = options.read_list(&mut s.reader(h), true)?;
    }
    Ok(())
}

/// An error's text and byte offset, for a warning.
fn as_warning(e: &ImportError, fallback: u64) -> (String, u64) {
    match e {
        ImportError::Malformed {
            at: trace_model::Location::Byte(at),
            what,
        } => (what.clone(), *at),
        other => (other.to_string(), fallback),
    }
}

/// After the options chain broke: the sections found by walking the file fill in what the
/// chain did not point to, and the options sections it did not reach are read for what
/// they hold. Returns the walked sections.
fn salvage_options(
    bytes: &[u8],
    h: &Header,
    m: &mut Metadata<'_>,
    visited: &[u64],
    broken: &ImportError,
) -> Vec<salvage::Walked> {
    let walked = salvage::walk(bytes, h);
    let reach = walked.last().map_or(h.body as u64, |s| s.body.end);
    let (what, at) = as_warning(broken, reach);
    m.warnings.push((
        format!(
            "{what}: the options chain is cut; the sections up to byte {reach} of {} were \
             found by walking the file",
            bytes.len()
        ),
        at,
    ));
    for s in &walked {
        if s.id == id::DONE {
            if visited.contains(&s.at) {
                continue;
            }
            // What a cut list held before its cut still counts.
            let read = section(bytes, h, s.at, id::DONE, "options")
                .and_then(|sec| m.options.read_list(&mut sec.reader(h), true));
            if let Err(e) = read {
                m.warnings.push(as_warning(&e, s.at));
            }
        } else if s.id != id::BUFFER && m.options.section(s.id).is_none() {
            m.options.sections.push((s.id, s.at));
        }
    }
    walked
}

/// Without a BUFFER option, the CPU streams of each buffer section found by walking,
/// located by content.
fn salvage_buffers(bytes: &[u8], h: &Header, m: &mut Metadata<'_>, walked: &[salvage::Walked]) {
    let long = m
        .page_header
        .map_or(usize::from(h.long_size), |p| p.commit_size);
    for s in walked.iter().filter(|s| s.id == id::BUFFER) {
        let cpus = salvage::cpu_streams(bytes, h, s, long);
        let cut = if s.cut {
            "; the file ends inside it"
        } else {
            ""
        };
        m.warnings.push((
            format!(
                "trace.dat: no BUFFER option locates the data of this buffer section: {} CPU \
                 streams found in it by content, numbered in file order (a CPU that recorded \
                 nothing has no stream, so the numbers after it are too low){cut}",
                cpus.len(),
            ),
            s.at,
        ));
        m.cpus = m.cpus.max(cpus.len() as u32);
        m.compressed.push(s.compressed);
        m.buffers.push(Buffer {
            offset: s.at,
            cpus,
            ..Buffer::default()
        });
    }
    if m.buffers.is_empty() {
        m.warnings.push((
            "trace.dat: the file ends before any CPU data".to_owned(),
            bytes.len() as u64,
        ));
    }
}

fn read_v7<'a>(bytes: &'a [u8], h: &Header) -> Result<Metadata<'a>, ImportError> {
    let mut m = Metadata::default();
    let mut visited = Vec::new();
    let walked = match options_chain(bytes, h, &mut m.options, &mut visited) {
        Ok(()) => None,
        Err(broken) => Some(salvage_options(bytes, h, &mut m, &visited, &broken)),
    };
    let long = usize::from(h.long_size);
    // A cut file misses a section where it ends; a whole one, in its options.
    let missing_at = match walked {
        Some(_) => bytes.len() as u64,
        None => h.first_options,
    };
    let offset = |sid: u16, what: &str| {
        m.options.section(sid).ok_or_else(|| {
            ImportError::malformed(
                trace_model::Location::Byte(missing_at),
                format!("trace.dat options: no {what} section"),
            )
        })
    };
    let s = section(
        bytes,
        h,
        offset(id::HEADER_INFO, "header info")?,
        id::HEADER_INFO,
        "header info",
    )?;
    m.page_header = Some(header_info(&mut s.reader(h), long)?);
    if let Some(at) = m.options.section(id::FTRACE_EVENTS) {
        let s = section(bytes, h, at, id::FTRACE_EVENTS, "ftrace formats")?;
        ftrace_formats(&mut s.reader(h), &mut m.formats)?;
    }
    let s = section(
        bytes,
        h,
        offset(id::EVENT_FORMATS, "event formats")?,
        id::EVENT_FORMATS,
        "event formats",
    )?;
    event_formats(&mut s.reader(h), &mut m.formats)?;
    if let Some(at) = m.options.section(id::KALLSYMS) {
        m.kallsyms = section(bytes, h, at, id::KALLSYMS, "kallsyms")?.sized(h, false)?;
    }
    if let Some(at) = m.options.section(id::PRINTK) {
        m.printk = section(bytes, h, at, id::PRINTK, "printk formats")?.sized(h, false)?;
    }
    if let Some(at) = m.options.section(id::CMDLINES) {
        m.cmdlines = section(bytes, h, at, id::CMDLINES, "saved cmdlines")?.sized(h, true)?;
    }
    m.cpus = m.options.cpu_count.unwrap_or(0);
    m.cpus_at = h.first_options;
    for b in std::mem::take(&mut m.options.buffers) {
        let want = if b.latency {
            id::BUFFER_TEXT
        } else {
            id::BUFFER
        };
        let s = section(bytes, h, b.offset, want, "buffer")?;
        if b.latency {
            let mut r = file_reader(bytes, h, s.origin.file_offset, "latency buffer")?;
            let text = if s.compressed {
                let comp = h.compression.ok_or_else(|| {
                    r.error("compressed latency buffer in a file without compression")
                })?;
                let (data, damage) = compress::cpu_chunks(comp, &mut r);
                if let Some(d) = damage {
                    return Err(d.error);
                }
                Cow::Owned(data)
            } else {
                Cow::Borrowed(r.bytes(s.size, "latency text")?)
            };
            m.latency_text = Some(text);
            continue;
        }
        m.cpus = m.cpus.max(
            b.cpus
                .iter()
                .map(|c| c.cpu.saturating_add(1))
                .max()
                .unwrap_or(0),
        );
        m.compressed.push(s.compressed);
        m.buffers.push(b);
    }
    if let Some(walked) = &walked
        && m.buffers.is_empty()
        && m.latency_text.is_none()
    {
        salvage_buffers(bytes, h, &mut m, walked);
    }
    Ok(m)
}
