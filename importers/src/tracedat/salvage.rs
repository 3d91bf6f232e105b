//! What a v7 file still holds when its options chain is cut. trace-cmd writes the BUFFER
//! option that locates the CPU streams in the last OPTIONS section, after the data, so a file
//! cut anywhere before its last few hundred bytes has lost the map to its data but not the
//! data. Sections follow each other from the end of the initial header, each with its id and
//! size, so they are found by walking; in a BUFFER section each CPU's stream starts at a page
//! boundary (trace-cmd aligns it, `out_write_cpu_data`), a compressed one with its chunk
//! count and the first chunk's header, a plain one with page headers whose times only grow.
//! CPUs without data have no stream, so the streams are numbered in file order.

use super::bytes::Endian;
use super::compress::Compression;
use super::header::Header;
use super::options::{CpuData, id};

/// A section header found by walking the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walked {
    pub id: u16,
    /// File offset of the section header.
    pub at: u64,
    pub compressed: bool,
    /// The body: from after the header to its stated end, or the end of the file.
    pub body: std::ops::Range<u64>,
    /// The file ends before the section's stated end.
    pub cut: bool,
    /// Where the section says it ends.
    pub stated_end: u64,
}

const SECTION_HEADER: u64 = 16;

/// Whether `sid` names a section trace-cmd writes (options, buffers, metadata, files).
fn known_section(sid: u16) -> bool {
    matches!(
        sid,
        id::DONE | id::BUFFER | id::STRINGS..=id::BUFFER_TEXT | id::BTF_FILE | id::MODULES_FILE
    )
}

/// The sections from the first one on, up to the end of the file, the first header that is
/// not a section's, or the first section the file ends inside (which is the last listed).
pub fn walk(bytes: &[u8], h: &Header) -> Vec<Walked> {
    let e = h.endian;
    let len = bytes.len() as u64;
    let mut at = h.body as u64;
    let mut found = Vec::new();
    while at.saturating_add(SECTION_HEADER) <= len {
        let i = at as usize;
        let (Some(sid), Some(flags), Some(size)) = (
            e.uint(bytes, i, 2),
            e.uint(bytes, i + 2, 2),
            e.uint(bytes, i + 8, 8),
        ) else {
            break;
        };
        let sid = sid as u16;
        if !known_section(sid) || flags > 1 {
            break;
        }
        let start = at + SECTION_HEADER;
        let end = start.saturating_add(size);
        found.push(Walked {
            id: sid,
            at,
            compressed: flags & 1 != 0,
            body: start..end.min(len),
            cut: end > len,
            stated_end: end,
        });
        at = end;
    }
    found
}

/// The CPU streams in a BUFFER section's body, found by content, numbered in file order.
/// A stream's size is what the file holds of it; the last may be cut (its reader says where).
/// `kernel_long` is the size of a page header's `commit` (header_page's).
pub fn cpu_streams(bytes: &[u8], h: &Header, section: &Walked, kernel_long: usize) -> Vec<CpuData> {
    let page = u64::from(h.page_size);
    let end = section.body.end.min(bytes.len() as u64);
    let starts = align_up(section.body.start, page);
    let streams = match (section.compressed, h.compression) {
        (true, Some(comp)) => chunk_streams(bytes, h.endian, comp, starts..end, page),
        (true, None) => Vec::new(),
        (false, _) => page_runs(bytes, h.endian, kernel_long, starts..end, page),
    };
    let last = streams.len().saturating_sub(1);
    streams
        .into_iter()
        .enumerate()
        .map(|(cpu, r)| CpuData {
            cpu: cpu as u32,
            offset: r.start,
            // The last stream of a cut section may have gone on: its reader reports the cut.
            size: match section.cut && cpu == last {
                true => section.stated_end.max(r.end) - r.start,
                false => r.end - r.start,
            },
        })
        .collect()
}

fn align_up(at: u64, page: u64) -> u64 {
    at.div_ceil(page).saturating_mul(page)
}

/// Chunk streams: at a page boundary, a chunk count and a chunk header whose data starts
/// like the file's compression. Each stream is followed by its chunks' sizes, not
/// decompressed here; the next is looked for from the page boundary after it.
fn chunk_streams(
    bytes: &[u8],
    e: Endian,
    comp: Compression,
    region: std::ops::Range<u64>,
    page: u64,
) -> Vec<std::ops::Range<u64>> {
    let u32_at = |at: u64| e.uint(bytes, usize::try_from(at).ok()?, 4);
    let mut streams = Vec::new();
    let mut at = region.start;
    while at.saturating_add(12) <= region.end {
        let Some(count) = u32_at(at).filter(|&n| n > 0) else {
            at += page;
            continue;
        };
        let (Some(csize), Some(usize_)) = (u32_at(at + 4), u32_at(at + 8)) else {
            break;
        };
        let data_at = (at + 12) as usize;
        if csize == 0 || usize_ == 0 || !starts_like(comp, &bytes[data_at..]) {
            at += page;
            continue;
        }
        // Walk the chunk headers to the stream's end (or the end of what the file holds).
        let mut next = at + 4;
        for _ in 0..count {
            match u32_at(next) {
                Some(csize) if next + 8 <= region.end => next += 8 + csize,
                _ => {
                    next = region.end;
                    break;
                }
            }
            if next >= region.end {
                next = region.end;
                break;
            }
        }
        streams.push(at..next);
        at = align_up(next.max(at + 1), page);
    }
    streams
}

/// Whether compressed data starts with `comp`'s magic: a zstd frame's, or a zlib header
/// (CMF 0x78, and CMF·256 + FLG a multiple of 31).
fn starts_like(comp: Compression, data: &[u8]) -> bool {
    match comp {
        Compression::Zstd => data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
        Compression::Zlib => {
            data.len() >= 2
                && data[0] == 0x78
                && (u16::from(data[0]) * 256 + u16::from(data[1])) % 31 == 0
        }
    }
}

/// Plain streams: runs of pages whose commit is a plausible data size and whose start
/// times do not go back (a time going back, or a page that holds no data, starts the
/// next CPU's). A run the file ends inside keeps its whole last page in its size, so its
/// reader reports the cut.
fn page_runs(
    bytes: &[u8],
    e: Endian,
    long: usize,
    region: std::ops::Range<u64>,
    page: u64,
) -> Vec<std::ops::Range<u64>> {
    let mut runs = Vec::new();
    // The open run's start and its last page's time.
    let mut open: Option<(u64, u64)> = None;
    let mut at = region.start;
    while at < region.end {
        let i = at as usize;
        let ts = e.uint(bytes, i, 8);
        let commit = e.uint(bytes, i + 8, long).map(|c| c & ((1 << 27) - 1));
        let page_data = match (ts, commit) {
            (Some(ts), Some(c)) if c > 0 && c + 8 + long as u64 <= page => Some(ts),
            _ => None,
        };
        match (page_data, open) {
            (Some(ts), Some((start, last))) if ts >= last => open = Some((start, ts)),
            (Some(ts), _) => {
                if let Some((start, _)) = open {
                    runs.push(start..at);
                }
                open = Some((at, ts));
            }
            (None, _) => {
                if let Some((start, _)) = open.take() {
                    runs.push(start..at);
                }
            }
        }
        at += page;
    }
    if let Some((start, _)) = open {
        runs.push(start..at);
    }
    runs
}
