//! Builds a bigger real trace from a trace-cmd v7 zstd `trace.dat`: its metadata unchanged,
//! every CPU's pages repeated `times` times with page timestamps shifted so the copies follow
//! each other, chunked and zstd-compressed as trace-cmd does (10 pages a chunk). That gives
//! tens of millions of real records without a kernel to record from.
//!
//! The options sections are copied uncompressed to the end of the file, relinked, with the
//! BUFFER option pointing at the new CPU data; the original sections stay in place, unreferenced.
//! Shared by the import benchmark and the `repeat_tracedat` example; a bench tool, so input it
//! cannot handle is an error message, not a recovery.

use std::io::Read;

const CHUNK_PAGES: usize = 10;
const OPTION_NEXT: u16 = 0;
const OPTION_BUFFER: u16 = 3;
const SECTION_BUFFER: u16 = 3;

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}
fn nul_end(b: &[u8], at: usize) -> usize {
    at + b[at..]
        .iter()
        .position(|&c| c == 0)
        .expect("NUL-terminated string")
        + 1
}

fn unzstd(data: &[u8], out: &mut Vec<u8>) {
    zstd::stream::read::Decoder::new(data)
        .expect("zstd stream")
        .read_to_end(out)
        .expect("zstd data");
}

/// The fixed header: page size and where the pointer to the first options section lies.
struct FileHeader {
    page_size: usize,
    options_pointer: usize,
}

fn file_header(file: &[u8]) -> Result<FileHeader, String> {
    if file.get(..10) != Some(b"\x17\x08\x44tracing".as_slice()) || file.get(10) != Some(&b'7') {
        return Err("not a trace-cmd v7 trace.dat".into());
    }
    if file[12] != 0 || file[13] != 8 {
        return Err("only little-endian 64-bit recordings are supported".into());
    }
    let page_size = le_u32(file, 14) as usize;
    let compression = 18;
    if !file[compression..].starts_with(b"zstd\0") {
        return Err("only zstd-compressed recordings are supported".into());
    }
    let options_pointer = nul_end(file, nul_end(file, compression));
    Ok(FileHeader {
        page_size,
        options_pointer,
    })
}

/// One options section's body (decompressed), as a list of (id, data).
fn options_section(file: &[u8], at: usize) -> Vec<(u16, Vec<u8>)> {
    let compressed = le_u16(file, at + 2) & 1 != 0;
    let size = le_u64(file, at + 8) as usize;
    let raw = &file[at + 16..at + 16 + size];
    let mut body = Vec::new();
    if compressed {
        let csize = le_u32(raw, 0) as usize;
        unzstd(&raw[8..8 + csize], &mut body);
    } else {
        body.extend_from_slice(raw);
    }
    let mut options = Vec::new();
    let mut p = 0;
    while p + 6 <= body.len() {
        let id = le_u16(&body, p);
        let len = le_u32(&body, p + 2) as usize;
        options.push((id, body[p + 6..p + 6 + len].to_vec()));
        p += 6 + len;
    }
    options
}

/// A BUFFER option's per-CPU table: (position in the option data of each CPU's offset field,
/// data offset, data size).
fn buffer_cpus(data: &[u8]) -> Vec<(usize, u64, u64)> {
    let p = nul_end(data, nul_end(data, 8));
    let count = le_u32(data, p + 4) as usize;
    (0..count)
        .map(|i| {
            let c = p + 8 + i * 20;
            (c + 4, le_u64(data, c + 4), le_u64(data, c + 12))
        })
        .collect()
}

/// Decompresses one CPU's chunk stream.
fn cpu_pages(file: &[u8], offset: u64, size: u64) -> Vec<u8> {
    let mut out = Vec::new();
    if size == 0 {
        return out;
    }
    let mut at = offset as usize;
    let count = le_u32(file, at);
    at += 4;
    for _ in 0..count {
        let csize = le_u32(file, at) as usize;
        at += 8;
        unzstd(&file[at..at + csize], &mut out);
        at += csize;
    }
    out
}

/// Moves a page (64-bit little-endian kernel) `shift` later: its timestamp and any
/// absolute TIME_STAMP events in it.
fn shift_page(page: &mut [u8], shift: u64) {
    let ts = le_u64(page, 0) + shift;
    page[..8].copy_from_slice(&ts.to_le_bytes());
    let end = (16 + (le_u64(page, 8) & ((1 << 27) - 1)) as usize).min(page.len());
    let mut at = 16;
    while at + 8 <= end {
        let word = le_u32(page, at);
        let (type_len, delta) = (word & 31, word >> 5);
        let array0 = le_u32(page, at + 4);
        at += match type_len {
            31 => {
                let abs = ((u64::from(array0) << 27) | u64::from(delta)) + shift;
                let word = 31 | ((abs as u32 & ((1 << 27) - 1)) << 5);
                page[at..at + 4].copy_from_slice(&word.to_le_bytes());
                page[at + 4..at + 8].copy_from_slice(&((abs >> 27) as u32).to_le_bytes());
                8
            }
            30 => 8,
            29 if delta == 0 => break,
            0 | 29 => 4 + array0 as usize,
            n => 4 + 4 * n as usize,
        };
    }
}

/// Appends one CPU's pages, repeated and shifted by `span` per copy, as a zstd chunk stream.
fn append_cpu_stream(out: &mut Vec<u8>, pages: &[u8], page_size: usize, times: u64, span: u64) {
    let chunk_bytes = page_size * CHUNK_PAGES;
    let chunks_per_copy = pages.len().div_ceil(chunk_bytes);
    let count = chunks_per_copy as u64 * times;
    out.extend_from_slice(&u32::try_from(count).expect("chunk count").to_le_bytes());
    let mut chunk = Vec::with_capacity(chunk_bytes);
    for copy in 0..times {
        for original in pages.chunks(chunk_bytes) {
            chunk.clear();
            chunk.extend_from_slice(original);
            for page in chunk.chunks_mut(page_size) {
                shift_page(page, copy * span);
            }
            let z = zstd::bulk::compress(&chunk, 3).expect("zstd");
            out.extend_from_slice(&(z.len() as u32).to_le_bytes());
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
            out.extend_from_slice(&z);
        }
    }
}

/// `file` with its CPU data repeated `times` times; `span_ns` is the time between copies
/// (at least the span of the file's events, so copies do not overlap).
pub fn repeat_pages(file: &[u8], times: u64, span_ns: u64) -> Result<Vec<u8>, String> {
    let header = file_header(file)?;
    let mut sections = Vec::new();
    let mut next = le_u64(file, header.options_pointer) as usize;
    while next != 0 {
        let options = options_section(file, next);
        next = options
            .iter()
            .find(|(id, _)| *id == OPTION_NEXT)
            .map_or(0, |(_, d)| le_u64(d, 0) as usize);
        sections.push(options);
    }
    let mut out = file.to_vec();
    let mut buffers_placed = Vec::new();
    for options in &sections {
        for (id, data) in options {
            if *id != OPTION_BUFFER {
                continue;
            }
            let data_section = out.len();
            out.extend_from_slice(&SECTION_BUFFER.to_le_bytes());
            out.extend_from_slice(&1u16.to_le_bytes()); // compressed
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes()); // size, patched below
            let mut placed = Vec::new();
            for (_, offset, size) in buffer_cpus(data) {
                let pages = cpu_pages(file, offset, size);
                let start = out.len();
                append_cpu_stream(&mut out, &pages, header.page_size, times, span_ns);
                placed.push((start as u64, (out.len() - start) as u64));
            }
            let size = (out.len() - data_section - 16) as u64;
            out[data_section + 8..data_section + 16].copy_from_slice(&size.to_le_bytes());
            buffers_placed.push((data_section as u64, placed));
        }
    }
    if buffers_placed.is_empty() {
        return Err("no BUFFER option: nothing to repeat".into());
    }
    // The options sections again, uncompressed, each pointing at the next copy.
    let mut placed = buffers_placed.into_iter();
    let mut pointer = header.options_pointer;
    for options in sections {
        let at = out.len() as u64;
        out[pointer..pointer + 8].copy_from_slice(&at.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // OPTIONS section id
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        let size_at = out.len();
        out.extend_from_slice(&0u64.to_le_bytes());
        let body = out.len();
        for (id, mut data) in options {
            if id == OPTION_BUFFER {
                let (data_section, cpus) = placed.next().expect("one placement per BUFFER");
                data[..8].copy_from_slice(&data_section.to_le_bytes());
                for ((field, _, _), (offset, size)) in buffer_cpus(&data).into_iter().zip(cpus) {
                    data[field..field + 8].copy_from_slice(&offset.to_le_bytes());
                    data[field + 8..field + 16].copy_from_slice(&size.to_le_bytes());
                }
            }
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            if id == OPTION_NEXT {
                pointer = out.len();
                out.extend_from_slice(&0u64.to_le_bytes());
            } else {
                out.extend_from_slice(&data);
            }
        }
        let size = (out.len() - body) as u64;
        out[size_at..size_at + 8].copy_from_slice(&size.to_le_bytes());
    }
    Ok(out)
}
