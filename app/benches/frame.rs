//! Frame time of the timeline, headless (no GPU): one egui pass drawing the timeline over
//! a trace (its rows' pixels handed to egui as a texture), plus tessellation of its shapes,
//! at zoom levels from the whole trace down to a few microseconds. `pan`: every frame moves
//! the view by a pixel, so nothing drawn before can be reused (the worst case, what dragging
//! costs); `still`: the view does not move (what a repaint for the cursor or a tooltip
//! costs). Traces: a synthetic 10 M-event trace (`KCTX_BENCH_EVENTS=N` sets its size: at
//! 100 M building it takes about 2 minutes and 14 GB; `-- frame/synthetic` runs only its
//! frames) and the largest corpus traces the importers read. `event-list`: refreshing the
//! event list's rows while panning.
//!
//! Times are this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: the
//! machines this runs on are shared with builds, whose load would otherwise inflate them.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kctx::gui::event_list::EventListState;
use kctx::gui::findings::{finding_markers, focus_finding};
use kctx::gui::timeline::view::TimeView;
use kctx::gui::timeline::{TimelineState, timeline_ui};
use kctx::gui::trace::load;
use kctx::gui::{Input, LoadedTrace};
use std::path::PathBuf;
use std::time::Duration;

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

/// One frame's input: the benchmark's screen and nothing else.
fn screen_input() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(WIDTH, HEIGHT),
        )),
        ..Default::default()
    }
}

fn frame(ctx: &egui::Context, state: &mut TimelineState, trace: &LoadedTrace) -> usize {
    let input = screen_input();
    let mut out = ctx.run_ui(input, |ui| {
        egui::CentralPanel::default().show(ui, |ui| {
            timeline_ui(ui, state, trace);
        });
    });
    // No renderer here to upload the font atlas: drop its updates deliberately.
    out.textures_delta.clear();
    ctx.tessellate(out.shapes, out.pixels_per_point).len()
}

/// CPU time of this thread.
fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs `f` `iters` times; returns the CPU time it took.
fn cpu_time(iters: u64, mut f: impl FnMut() -> usize) -> Duration {
    let start = thread_cpu();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    thread_cpu() - start
}

fn bench_trace(c: &mut Criterion, name: &str, trace: &LoadedTrace) {
    let ctx = egui::Context::default();
    let mut group = c.benchmark_group(format!("frame/{name}"));
    group.sample_size(10);
    let (t0, t1) = (trace.timeline.origin_ns, trace.timeline.end_ns);
    let span = (t1 - t0) as f64;
    for (label, fraction) in ZOOMS {
        let mut state = TimelineState::default();
        // The overlays a user sees: a marker at every finding instance and splat, and the
        // first finding's highlights and labels.
        state.markers = finding_markers(&trace.findings, &trace.splats);
        if let Some(f) = trace.findings.first() {
            focus_finding(&mut state, f, 0);
            state.pending_range = None;
        }
        // And the user's own: 50 notes across the trace, two task lanes pinned, one
        // hidden, two marked.
        state.notes = (0..50u64)
            .map(|k| kctx::gui::timeline::notes::Note {
                ts_ns: t0 + (t1 - t0) / 50 * k,
                cpu: None,
                text: format!("note {k}"),
            })
            .collect();
        let pids: Vec<i32> = trace
            .timeline
            .task_rows
            .iter()
            .map(|t| t.pid)
            .take(3)
            .collect();
        if pids.len() == 3 {
            state.set_task_rows(&trace.timeline, vec![pids[2], pids[1]], vec![pids[0]]);
            state.marked_tasks = vec![pids[1], pids[2]];
        }
        // Centre each zoom on the middle of the trace.
        let shown = (span * fraction).max(1.0);
        state.view = TimeView {
            start_ns: t0 as f64 + span / 2.0 - shown / 2.0,
            ns_per_px: shown / f64::from(WIDTH),
        };
        frame(&ctx, &mut state, trace); // Warm the font atlas and galley cache.
        group.bench_with_input(BenchmarkId::new("still", label), &(), |b, _| {
            b.iter_custom(|n| cpu_time(n, || frame(&ctx, &mut state, trace)))
        });
        let mut dx = 1.0;
        group.bench_with_input(BenchmarkId::new("pan", label), &(), |b, _| {
            b.iter_custom(|n| {
                cpu_time(n, || {
                    dx = -dx;
                    state.view.pan_px(dx);
                    frame(&ctx, &mut state, trace)
                })
            })
        });
    }
    group.finish();
}

/// The comparison view: two timelines in one frame, the lower following the upper's view
/// (drawn over the same trace: the cost is two traces' rows and overlays), panning.
fn bench_compared(c: &mut Criterion, name: &str, trace: &LoadedTrace) {
    let ctx = egui::Context::default();
    let mut group = c.benchmark_group(format!("compare/{name}"));
    group.sample_size(10);
    let (t0, t1) = (trace.timeline.origin_ns, trace.timeline.end_ns);
    let span = (t1 - t0) as f64;
    for (label, fraction) in [ZOOMS[0], ZOOMS[3], ZOOMS[5]] {
        let mut upper = TimelineState::default();
        upper.markers = finding_markers(&trace.findings, &trace.splats);
        let mut lower = upper.clone();
        let shown = (span * fraction).max(1.0);
        upper.view = TimeView {
            start_ns: t0 as f64 + span / 2.0 - shown / 2.0,
            ns_per_px: shown / f64::from(WIDTH),
        };
        let two = |upper: &mut TimelineState, lower: &mut TimelineState| {
            let input = screen_input();
            let mut out = ctx.run_ui(input, |ui| {
                egui::CentralPanel::default().show(ui, |ui| {
                    lower.view = upper.view;
                    egui::Panel::bottom("compared")
                        .default_size(HEIGHT / 2.0)
                        .show(ui, |ui| timeline_ui(ui, lower, trace));
                    timeline_ui(ui, upper, trace);
                });
            });
            out.textures_delta.clear();
            ctx.tessellate(out.shapes, out.pixels_per_point).len()
        };
        two(&mut upper, &mut lower);
        let mut dx = 1.0;
        group.bench_with_input(BenchmarkId::new("pan", label), &(), |b, _| {
            b.iter_custom(|n| {
                cpu_time(n, || {
                    dx = -dx;
                    upper.view.pan_px(dx);
                    two(&mut upper, &mut lower)
                })
            })
        });
    }
    group.finish();
}

/// The event list's rows while the view pans back and forth by 1/200 of itself.
fn bench_event_list(c: &mut Criterion, name: &str, trace: &LoadedTrace) {
    let mut group = c.benchmark_group(format!("event-list/{name}"));
    group.sample_size(10);
    let (t0, t1) = (trace.timeline.origin_ns, trace.timeline.end_ns);
    for (label, fraction) in [("1e-2", 1e-2), ("1e-3", 1e-3)] {
        let shown = ((t1 - t0) as f64 * fraction) as u64;
        let (mid, step) = (t0 + (t1 - t0) / 2, (shown / 200).max(1));
        let mut list = EventListState::default();
        list.filter.event = "sched".into();
        let mut a = mid;
        group.bench_with_input(BenchmarkId::new("pan", label), &(), |b, _| {
            b.iter_custom(|n| {
                cpu_time(n, || {
                    // Back and forth, so every refresh brings a new strip of events in.
                    a = if a > mid { mid } else { mid + step };
                    list.refresh_all(&trace.store, a, a + shown);
                    list.row_count()
                })
            })
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
    let synthetic = load(vec![Input::Synthetic(events)], None, &|_| {}).expect("a synthetic trace");
    bench_trace(c, &format!("synthetic-{events}"), &synthetic);
    bench_event_list(c, &format!("synthetic-{events}"), &synthetic);
    bench_compared(c, &format!("synthetic-{events}"), &synthetic);
    drop(synthetic);
    for rel in [
        "public/tracedat/trappy_trace_idle.dat",
        "lab/lockdep-s1_spin_sleep/trace.txt.gz",
    ] {
        match load(vec![Input::File(corpus(rel))], None, &|_| {}) {
            Ok(trace) => bench_trace(c, rel, &trace),
            Err(e) => eprintln!("skipping {rel}: {e}"),
        }
    }
}

criterion_group!(frame_benches, benches);
criterion_main!(frame_benches);
