//! trace.dat import speed, next to `trace-cmd report > /dev/null` on the same files.
//!
//! Inputs: the lab trace.dat files (v7 zstd, 10-40 k events each: their time is dominated
//! by the 4 MB kallsyms every file carries), and a large v7 zstd file built here from the
//! lab file `s1_spin_sleep/trace.dat`: its metadata unchanged, its CPU pages repeated
//! [`REPEAT`] times with page timestamps shifted so the copies follow each other, chunked
//! and zstd-compressed as trace-cmd does (`tools/repeat_pages.rs`, also the
//! `repeat_tracedat` example). That gives millions of real records without a kernel to
//! record from.
//!
//! Before the criterion runs, a summary prints events/s (the import runs on one thread)
//! and the time of `trace-cmd report` on the same file in the same run (skipped with a
//! message when trace-cmd is not installed) with the ratio.
//!
//! Corpus location: `KCTX_CORPUS`, else `../shared/corpus` from the repository root.

#[path = "../tools/repeat_pages.rs"]
mod repeat_pages;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use importers::tracedat::{Decompression, import_with};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const REPEAT: u64 = 400;

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

/// The lab file with its CPU data repeated `REPEAT` times (see the module docs). Each copy
/// starts after the previous one ended (a CPU's last page can run long after its page
/// timestamp, so take the span of the events themselves).
fn build_big_file(lab: &[u8]) -> Vec<u8> {
    let (first, last) = importers::tracedat::import(lab)
        .expect("lab file imports")
        .time_span()
        .expect("events");
    repeat_pages::repeat_pages(lab, REPEAT, last - first + 1_000_000).expect("lab file repeats")
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
