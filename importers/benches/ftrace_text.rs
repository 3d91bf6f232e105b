//! ftrace text import speed in lines per second: the largest lab `trace.txt` (by lines) as
//! recorded, and a larger synthetic trace made of copies of it with shifted timestamps (the
//! import sorts by time, so the copies must follow each other as one long recording would).
//! Both parse text already in memory; `lab_trace_txt_gz` adds what opening the file costs
//! (reading and gunzipping it), which the lab stores compressed.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use importers::Source;
use std::path::PathBuf;

const LAB_TRACE: &str = "lab/lockdep-s1_spin_sleep/trace.txt.gz";
const COPIES: u64 = 25;

fn corpus_file(rel: &str) -> PathBuf {
    let dir = std::env::var_os("KCTX_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    dir.join(rel)
}

/// `text` repeated `copies` times, each copy's timestamps shifted past the previous copy.
fn repeated(text: &str, copies: u64) -> String {
    let mut out = String::with_capacity(text.len() * copies as usize);
    let shift_s = 1 + text
        .lines()
        .filter_map(timestamp)
        .map(|(_, s, _)| s)
        .max()
        .unwrap_or(0);
    for copy in 0..copies {
        for line in text.lines() {
            match timestamp(line) {
                Some((start, secs, end)) if copy > 0 => {
                    out.push_str(&line[..start]);
                    out.push_str(&(secs + copy * shift_s).to_string());
                    out.push_str(&line[end..]);
                }
                _ if copy > 0 && line.starts_with('#') => continue,
                _ => out.push_str(line),
            }
            out.push('\n');
        }
    }
    out
}

/// Byte range and value of the whole seconds of an event line's timestamp (`   64.411945:`).
fn timestamp(line: &str) -> Option<(usize, u64, usize)> {
    let after_cpu = line.find("] ")? + 2;
    let colon = after_cpu + line[after_cpu..].find(": ")?;
    let dot = after_cpu + line[after_cpu..colon].rfind('.')?;
    let start = line[..dot].rfind(' ')? + 1;
    Some((start, line[start..dot].parse().ok()?, dot))
}

fn bench(c: &mut Criterion) {
    let path = corpus_file(LAB_TRACE);
    let source = Source::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let lab = std::str::from_utf8(source.bytes())
        .expect("utf-8")
        .to_owned();
    let synthetic = repeated(&lab, COPIES);

    let mut group = c.benchmark_group("ftrace_text_import");
    group.sample_size(10);
    for (name, text) in [("lab_trace_txt", &lab), ("synthetic_x25", &synthetic)] {
        group.throughput(Throughput::Elements(text.lines().count() as u64));
        group.bench_function(name, |b| {
            b.iter(|| importers::ftrace_text::import(text.as_bytes()).expect("imports"))
        });
    }
    group.throughput(Throughput::Elements(lab.lines().count() as u64));
    group.bench_function("lab_trace_txt_gz", |b| {
        b.iter(|| importers::open(&path).expect("imports"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
