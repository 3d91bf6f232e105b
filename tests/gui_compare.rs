//! Two traces compared in the window: the second drawn under the first, aligned on a chosen
//! anchor, and the findings diff of `kctx diff OLD NEW` in the findings panel. Real lab
//! recordings: the clean run (OLD) against the one with planted bugs (NEW).

use crate::gui::{corpus_app, harness, session};
use crate::gui_views::session_mut;
use corpus_tests::{corpus, kctx_json};
use egui_kittest::kittest::Queryable;
use kctx::gui::compare::{Alignment, Comparison, diff_line};
use kctx::gui::timeline::model::LaneKind;
use kctx::gui::{Input, KctxApp};
use std::collections::BTreeSet;

type H = egui_kittest::Harness<'static, KctxApp>;

const CLEAN: &str = "lab/lockdep-s5_clean/trace.dat";
const BUGGY: &str = "lab/lockdep-s1_spin_sleep/trace.dat";

fn compared(h: &H) -> &Comparison {
    session(h).compare.as_ref().expect("a trace compared")
}

fn compared_mut(h: &mut H) -> &mut Comparison {
    session_mut(h).compare.as_mut().expect("a trace compared")
}

/// The clean run open, the buggy one loaded as the comparison.
fn clean_against_buggy() -> H {
    let mut h = harness(corpus_app(CLEAN));
    let ctx = h.ctx.clone();
    h.state_mut()
        .compare(vec![Input::File(corpus(BUGGY))], &ctx);
    h.state_mut().wait_compared();
    h.run_steps(4);
    h
}

fn ids<'a>(findings: impl Iterator<Item = &'a trace_model::Finding>) -> BTreeSet<String> {
    findings.map(|f| f.id.clone()).collect()
}

/// The panel lists what `kctx diff OLD NEW` prints: the four planted bugs new, nothing
/// fixed or unchanged; the second trace's rows are drawn under the first's.
#[test]
fn a_second_trace_is_drawn_under_the_first_with_the_clis_diff() {
    let h = clean_against_buggy();
    let c = compared(&h);
    let (_, cli) = kctx_json(
        &[
            "diff",
            "--format",
            "json",
            &corpus(CLEAN).display().to_string(),
        ],
        &corpus(BUGGY),
    );
    let cli_ids = |key: &str| -> BTreeSet<String> {
        cli[key]
            .as_array()
            .expect("a list")
            .iter()
            .map(|f| f["id"].as_str().expect("an id").to_owned())
            .collect()
    };
    assert_eq!(ids(c.diff.new_findings.iter()), cli_ids("new_findings"));
    assert_eq!(ids(c.diff.fixed.iter()), cli_ids("fixed"));
    assert_eq!(
        c.diff.new_findings.len(),
        4,
        "the four planted bugs are new"
    );
    assert!(c.diff.fixed.is_empty() && c.diff.unchanged.is_empty());
    assert_eq!(c.diff.exit_code, 1);
    // Drawn: the counts, one button per new finding, and the second trace's rows below.
    h.get_by_label("4 new, 0 fixed, 0 unchanged");
    for f in &c.diff.new_findings {
        h.get_by_label(&diff_line('+', f));
    }
    let top = session(&h)
        .timeline
        .lane_y(0, LaneKind::Task)
        .expect("the open trace's CPU 0");
    let below = c
        .timeline
        .lane_y(0, LaneKind::Task)
        .expect("the compared trace's CPU 0");
    assert!(below.min > top.max, "{below:?} under {top:?}");
    // Aligned on the starts: the second view is the first shifted by the traces' origins.
    let (first_origin, second_origin) = (
        session(&h).trace.timeline.origin_ns,
        c.trace.timeline.origin_ns,
    );
    assert_eq!(
        c.offset_ns,
        second_origin as i64 - first_origin as i64,
        "aligned on the starts"
    );
    let (v1, v2) = (session(&h).timeline.view, c.timeline.view);
    assert_eq!(v2.ns_per_px, v1.ns_per_px);
    assert!((v2.start_ns - (v1.start_ns + c.offset_ns as f64)).abs() < 1.0);
}

/// Clicking a new finding shows it in the second trace (cursor on its call) and moves the
/// first view to the same aligned time; markers A and a named event re-align the traces.
#[test]
fn a_new_finding_is_shown_below_and_the_traces_align_on_markers_or_an_event() {
    let mut h = clean_against_buggy();
    let f = compared(&h).diff.new_findings[0].clone();
    h.get_by_label(&diff_line('+', &f)).click();
    h.run_steps(4);
    let c = compared(&h);
    assert_eq!(
        c.timeline.cursor_ns,
        Some(f.instances.first().map_or(f.ts[0], |i| i.ts))
    );
    let call = c.timeline.cursor_ns.expect("a cursor") as f64;
    let view = c.timeline.view;
    let x = view.x_from_ts(call);
    assert!(
        x > 0.0 && x < f64::from(c.timeline.width_px),
        "the call is in the second view: x {x}"
    );
    let first = session(&h).timeline.view;
    assert!((view.start_ns - (first.start_ns + c.offset_ns as f64)).abs() < 1.0);
    assert!(first.ns_per_px < 1e6, "zoomed in on the finding: {first:?}");

    // Markers A in both traces, then "markers A": those two times line up.
    let (a1, a2) = (
        session(&h).trace.timeline.origin_ns + 1_000_000_000,
        compared(&h).trace.timeline.origin_ns + 2_500_000_000,
    );
    session_mut(&mut h).timeline.marker_a = Some(a1);
    compared_mut(&mut h).timeline.marker_a = Some(a2);
    h.get_by_label("markers A").click();
    h.run_steps(3);
    let c = compared(&h);
    assert_eq!(c.alignment, Alignment::MarkerA);
    assert_eq!(c.offset_ns, a2 as i64 - a1 as i64);
    assert!(c.problem.is_none());
    let (v1, v2) = (session(&h).timeline.view, c.timeline.view);
    assert!((v2.x_from_ts(a2 as f64) - v1.x_from_ts(a1 as f64)).abs() < 0.01);

    // The next sched_switch after each cursor: the offset is between those two events.
    compared_mut(&mut h).align_event = "sched_switch".to_owned();
    h.get_by_label("next event").click();
    h.run_steps(3);
    let next = |t: &kctx::gui::LoadedTrace, from: u64| {
        let store = &t.store;
        (0..store.len())
            .find(|&i| {
                store.ts()[i] >= from && store.type_name(store.event_types()[i]) == "sched_switch"
            })
            .map(|i| store.ts()[i])
            .expect("a sched_switch")
    };
    let s = session(&h);
    let c = compared(&h);
    let e1 = next(
        &s.trace,
        s.timeline.cursor_ns.unwrap_or(s.trace.timeline.origin_ns),
    );
    let e2 = next(
        &c.trace,
        c.timeline.cursor_ns.unwrap_or(c.trace.timeline.origin_ns),
    );
    assert_eq!(c.alignment, Alignment::Event);
    assert_eq!(c.offset_ns, e2 as i64 - e1 as i64, "{:?}", c.problem);
}
