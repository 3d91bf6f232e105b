//! trace.dat import speed, next to `trace-cmd report > /dev/null` on the same files.
//!
//! Inputs: the lab trace.dat files (v7 zstd, 10-40 k events each: their time is dominated
//! by the 4 MB kallsyms every file carries), and a large v7 zstd file built here from the
//! lab file `s1_spin_sleep/trace.dat`: its metadata unchanged, its CPU pages repeated
//! [`REPEAT`] times with page timestamps shifted so the copies follow each other, chunked
//! and zstd-compressed as trace-cmd does (10 pages a chunk), and its BUFFER option
//! rewritten in place to point at the new data. That gives millions of real records
//! without a kernel to record from.
//!
//! Before the criterion runs, a summary prints events/s (the import runs on one thread)
//! and the time of `trace-cmd report` on the same file in the same run (skipped with a
//! message when trace-cmd is not installed) with the ratio.
//!
//! Corpus location: `KCTX_CORPUS`, else `../shared/corpus` from the repository root.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use importers::tracedat::{Decompression, import_with};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const REPEAT: u64 = 400;
const PAGE: usize = 4096;
const CHUNK_PAGES: usize = 10;

fn corpus() -> PathBuf {
    std::env::var_os("KCTX_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    )
}

fn lab_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join("lab"))
        .expect("corpus/lab (set KCTX_CORPUS)")
        .filter_map(|e| Some(e.ok()?.path().join("trace.dat")))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn le_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Where the BUFFER option of an uncompressed v7 options section lies, and its CPUs.
struct BufferOption {
    /// File offset of the option data.
    at: usize,
    /// (file offset of the cpu's `offset` field, data offset, data size).
    cpus: Vec<(usize, u64, u64)>,
}

/// Finds the BUFFER option by walking the chain of options sections.
fn find_buffer_option(file: &[u8]) -> BufferOption {
    // Initial header: magic (10), "7\0", endian, long size, u32 page size, two strings.
    let mut pos = 10 + 2 + 1 + 1 + 4;
    for _ in 0..2 {
        pos += file[pos..].iter().position(|&b| b == 0).unwrap() + 1;
    }
    let mut next = le_u64(file, pos) as usize;
    while next != 0 {
        assert_eq!(u16::from_le_bytes([file[next + 2], file[next + 3]]) & 1, 0);
        let end = next + 16 + le_u64(file, next + 8) as usize;
        let mut at = next + 16;
        next = 0;
        while at < end {
            let id = u16::from_le_bytes([file[at], file[at + 1]]);
            let size = le_u32(file, at + 2) as usize;
            let data = at + 6;
            if id == 0 {
                next = le_u64(file, data) as usize;
                break;
            }
            if id == 3 {
                let mut p = data + 8;
                for _ in 0..2 {
                    p += file[p..].iter().position(|&b| b == 0).unwrap() + 1;
                }
                let count = le_u32(file, p + 4);
                p += 8;
                let cpus = (0..count)
                    .map(|i| {
                        let c = p + i as usize * 20;
                        (c + 4, le_u64(file, c + 4), le_u64(file, c + 12))
                    })
                    .collect();
                return BufferOption { at: data, cpus };
            }
            at = data + size;
        }
    }
    panic!("no BUFFER option");
}

/// Decompresses one CPU's chunk stream.
fn cpu_pages(file: &[u8], offset: u64) -> Vec<u8> {
    let mut at = offset as usize;
    let count = le_u32(file, at);
    at += 4;
    let mut out = Vec::new();
    for _ in 0..count {
        let csize = le_u32(file, at) as usize;
        at += 8;
        zstd::stream::read::Decoder::new(&file[at..at + csize])
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        at += csize;
    }
    out
}

/// Moves a page (64-bit little-endian kernel) `shift` later: its timestamp and any
/// absolute TIME_STAMP events in it.
fn shift_page(page: &mut [u8], shift: u64) {
    let ts = le_u64(page, 0) + shift;
    page[..8].copy_from_slice(&ts.to_le_bytes());
    let end = 16 + (le_u64(page, 8) & ((1 << 27) - 1)) as usize;
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

/// The lab file with its CPU data repeated `REPEAT` times (see the module docs).
fn build_big_file(lab: &[u8]) -> Vec<u8> {
    let opt = find_buffer_option(lab);
    let pages: Vec<Vec<u8>> = opt.cpus.iter().map(|c| cpu_pages(lab, c.1)).collect();
    // Each copy starts after the previous one ended (a CPU's last page can run long after
    // its page timestamp, so take the span of the events themselves).
    let (first, last) = importers::tracedat::import(lab)
        .expect("lab file imports")
        .time_span()
        .expect("events");
    let span = last - first + 1_000_000;
    let mut out = lab.to_vec();
    let section = out.len();
    out.extend_from_slice(&3u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // compressed
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // size, patched below
    let mut placed = Vec::new();
    for cpu_pages in &pages {
        let start = out.len();
        let mut data = Vec::with_capacity(cpu_pages.len() * REPEAT as usize);
        for copy in 0..REPEAT {
            for page in cpu_pages.chunks(PAGE) {
                let at = data.len();
                data.extend_from_slice(page);
                shift_page(&mut data[at..], copy * span);
            }
        }
        let chunks: Vec<&[u8]> = data.chunks(PAGE * CHUNK_PAGES).collect();
        out.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
        for chunk in chunks {
            let z = zstd::bulk::compress(chunk, 3).unwrap();
            out.extend_from_slice(&(z.len() as u32).to_le_bytes());
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
            out.extend_from_slice(&z);
        }
        placed.push((start as u64, (out.len() - start) as u64));
    }
    let size = (out.len() - section - 16) as u64;
    out[section + 8..section + 16].copy_from_slice(&size.to_le_bytes());
    out[opt.at..opt.at + 8].copy_from_slice(&(section as u64).to_le_bytes());
    for (&(field, _, _), &(offset, size)) in opt.cpus.iter().zip(&placed) {
        out[field..field + 8].copy_from_slice(&offset.to_le_bytes());
        out[field + 8..field + 16].copy_from_slice(&size.to_le_bytes());
    }
    out
}

/// Imports on this thread alone: the one-core figure the target is about.
fn import(bytes: &[u8]) -> usize {
    import_with(bytes, Decompression::OnThisThread)
        .expect("import")
        .len()
}

/// Imports with chunks decompressed ahead on threads, as `kctx` does on several cores.
fn import_threaded(bytes: &[u8]) -> usize {
    import_with(bytes, Decompression::AheadOnThreads)
        .expect("import")
        .len()
}

/// Median wall time of `runs` calls.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

fn trace_cmd_report(path: &Path) -> Option<Duration> {
    let run = || {
        Command::new("trace-cmd")
            .args(["report", "-i"])
            .arg(path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .filter(|s| s.success())
    };
    run()?;
    Some(median(3, || {
        run();
    }))
}

fn summary(name: &str, path: &Path, bytes: &[u8]) {
    let events = import(bytes);
    let ours = median(5, || {
        import(bytes);
    });
    let rate = |d: Duration| events as f64 / d.as_secs_f64() / 1e6;
    let mut line = format!(
        "{name}: {events} events, import {:.1} ms ({:.1} M events/s)",
        ours.as_secs_f64() * 1e3,
        rate(ours),
    );
    match trace_cmd_report(path) {
        Some(tc) => {
            line += &format!(
                "; trace-cmd report {:.1} ms ({:.2} M events/s): {:.1}x faster",
                tc.as_secs_f64() * 1e3,
                rate(tc),
                tc.as_secs_f64() / ours.as_secs_f64()
            )
        }
        None => line += "; trace-cmd not installed (apt-get install trace-cmd): comparison skipped",
    }
    println!("{line}");
}

fn benches(c: &mut Criterion) {
    let big_path = std::env::temp_dir().join("kctx-bench-big-v7-zstd.dat");
    let lab = lab_files();
    let s1 = lab
        .iter()
        .find(|p| p.parent().unwrap().ends_with("s1_spin_sleep"))
        .expect("lab s1_spin_sleep");
    let big = build_big_file(&std::fs::read(s1).unwrap());
    std::fs::write(&big_path, &big).unwrap();
    println!("--- summary (median of 5; trace-cmd: median of 3) ---");
    for path in &lab {
        let name = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy();
        summary(&name, path, &std::fs::read(path).unwrap());
    }
    summary(
        &format!("big v7 zstd ({REPEAT}x s1_spin_sleep)"),
        &big_path,
        &big,
    );

    let mut g = c.benchmark_group("tracedat_import");
    g.sample_size(10);
    for path in &lab {
        let bytes = std::fs::read(path).unwrap();
        let name = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        g.throughput(Throughput::Elements(import(&bytes) as u64));
        g.bench_function(name, |b| b.iter(|| import(&bytes)));
    }
    g.throughput(Throughput::Elements(import(&big) as u64));
    g.bench_function("big_v7_zstd", |b| b.iter(|| import(&big)));
    g.bench_function("big_v7_zstd_threads", |b| b.iter(|| import_threaded(&big)));
    g.finish();
    let _ = std::fs::remove_file(&big_path);
}

criterion_group!(tracedat, benches);
criterion_main!(tracedat);
