//! Console and QEMU log parsing speed on corpus files (`KCTX_CORPUS` or ../shared/corpus).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;

fn corpus(rel: &str) -> PathBuf {
    std::env::var_os("KCTX_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
        .join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    let source = importers::Source::open(&corpus(rel)).expect("corpus file (set KCTX_CORPUS)");
    source.bytes().to_vec()
}

fn bench_logs(c: &mut Criterion) {
    let mut group = c.benchmark_group("logs");
    for (name, rel) in [
        ("lab_console", "lab/lockdep-s1_spin_sleep/console.log"),
        (
            "multi_lockdep",
            "public/console/ml_ext4_multi_lockdep_6.13_qemu_kexec.txt",
        ),
    ] {
        let bytes = read(rel);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| importers::console::parse_splats(black_box(&bytes)))
        });
    }
    let qemu = read("qemu/qemu-int.log.gz");
    group.throughput(Throughput::Bytes(qemu.len() as u64));
    group.bench_function("qemu_int", |b| {
        b.iter(|| importers::qemu::parse(black_box(&qemu)))
    });
    group.finish();
}

criterion_group!(benches, bench_logs);
criterion_main!(benches);
