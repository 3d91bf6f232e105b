//! Frame time of the timeline, headless (no GPU): one egui pass drawing the timeline over
//! a trace, plus tessellation of its shapes, at zoom levels from the whole trace down to a
//! few microseconds. Traces: a synthetic 10 M-event trace and the largest corpus traces the
//! importers read.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kctx::gui::timeline::view::TimeView;
use kctx::gui::timeline::{TimelineState, timeline_ui};
use kctx::gui::{Input, LoadedTrace};
use std::path::PathBuf;
use trace_model::context::BuildOptions;
use trace_model::synthetic::{SyntheticSpec, generate};

const WIDTH: f32 = 1920.0;
const HEIGHT: f32 = 1080.0;

/// Zoom levels as fractions of the trace span shown across the canvas.
const ZOOMS: [(&str, f64); 6] = [
    ("whole", 1.0),
    ("1e-1", 1e-1),
    ("1e-2", 1e-2),
    ("1e-3", 1e-3),
    ("1e-4", 1e-4),
    ("1e-6", 1e-6),
];

fn frame(ctx: &egui::Context, state: &mut TimelineState, trace: &LoadedTrace) -> usize {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(WIDTH, HEIGHT),
        )),
        ..Default::default()
    };
    let mut out = ctx.run_ui(input, |ui| {
        egui::CentralPanel::default().show(ui, |ui| {
            timeline_ui(ui, state, trace);
        });
    });
    // No renderer here to upload the font atlas: drop its updates deliberately.
    out.textures_delta.clear();
    ctx.tessellate(out.shapes, out.pixels_per_point).len()
}

fn bench_trace(c: &mut Criterion, name: &str, trace: &LoadedTrace) {
    let ctx = egui::Context::default();
    let mut group = c.benchmark_group(format!("frame/{name}"));
    group.sample_size(10);
    let (t0, t1) = (trace.timeline.origin_ns, trace.timeline.end_ns);
    let span = (t1 - t0) as f64;
    for (label, fraction) in ZOOMS {
        let mut state = TimelineState::default();
        // Centre each zoom on the middle of the trace.
        let shown = (span * fraction).max(1.0);
        state.view = TimeView {
            start_ns: t0 as f64 + span / 2.0 - shown / 2.0,
            ns_per_px: shown / f64::from(WIDTH),
        };
        frame(&ctx, &mut state, trace); // Warm the font atlas and galley cache.
        group.bench_with_input(BenchmarkId::from_parameter(label), &(), |b, _| {
            b.iter(|| frame(&ctx, &mut state, trace))
        });
    }
    group.finish();
}

/// A corpus file: `KCTX_CORPUS` (as the tests), else `../shared/corpus` from the project root.
fn corpus(rel: &str) -> PathBuf {
    let dir = std::env::var_os("KCTX_CORPUS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    dir.join(rel)
}

fn benches(c: &mut Criterion) {
    let events = std::env::var("KCTX_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let store = generate(SyntheticSpec {
        events,
        ..SyntheticSpec::default()
    });
    let synthetic = LoadedTrace::new(
        vec![Input::Synthetic(events)],
        store,
        &BuildOptions::default(),
        Vec::new(),
        &|_| {},
    );
    bench_trace(c, &format!("synthetic-{events}"), &synthetic);
    drop(synthetic);
    for rel in [
        "public/tracedat/trappy_trace_idle.dat",
        "lab/lockdep-s1_spin_sleep/trace.txt.gz",
    ] {
        match importers::open(&corpus(rel)) {
            Ok(store) => {
                let trace = LoadedTrace::new(
                    vec![Input::File(corpus(rel))],
                    store,
                    &BuildOptions::default(),
                    Vec::new(),
                    &|_| {},
                );
                bench_trace(c, rel, &trace);
            }
            Err(e) => eprintln!("skipping {rel}: {e}"),
        }
    }
}

criterion_group!(frame_benches, benches);
criterion_main!(frame_benches);
