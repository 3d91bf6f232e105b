//! The desktop app's Query panel (issue 18) on a lab recording: the table list, a statement
//! run off the UI thread, a result row moving the timeline cursor, an error naming the
//! tables, and File › Export tables writing the dataset.

use crate::gui::{harness, session};
use corpus_tests::corpus;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kctx::gui::trace::load;
use kctx::gui::{Input, KctxApp};
use tables::Cell;

fn lab_app() -> Harness<'static, KctxApp> {
    let path = corpus("lab/s1_spin_sleep/trace.dat");
    let trace = load(vec![Input::File(path)], None, &|_| {}).expect("the lab trace loads");
    harness(KctxApp::with_trace(trace))
}

/// Types `sql` into the editor, clicks Run and waits for the worker.
fn run_sql(h: &mut Harness<'static, KctxApp>, sql: &str) {
    h.state_mut().session.as_mut().unwrap().query.sql = sql.to_owned();
    h.run_steps(1);
    h.get_by_label("Run").click();
    h.run_steps(1);
    h.state_mut().session.as_mut().unwrap().query.wait();
    h.run_steps(2);
}

#[test]
fn a_result_row_moves_the_cursor_to_its_time_and_cpu() {
    let mut h = lab_app();
    h.get_by_label("Query").click();
    h.run_steps(2);
    // The table list names every table; unfolding one shows its columns.
    h.get_by_label("lock_holds").click();
    h.run_steps(2);
    assert!(h.query_by_label("class string").is_some());

    run_sql(
        &mut h,
        "SELECT ts_ns, cpu, event FROM events WHERE event = 'sched_switch' \
         ORDER BY ts_ns DESC LIMIT 200",
    );
    let q = &session(&h).query;
    assert!(q.error.is_none(), "{:?}", q.error);
    let shown = q.shown.as_ref().expect("a result");
    assert_eq!(shown.result.height(), 200);
    assert_eq!(shown.time_column(), Some("ts_ns"));
    let row = 3;
    let (Cell::Int(ts), Cell::Int(cpu)) = (shown.result.cell(row, 0), shown.result.cell(row, 1))
    else {
        panic!("ts_ns and cpu are integers");
    };
    // The first rows are laid out; a row far below is not.
    assert!(h.query_by_label("result row 0").is_some());
    assert!(h.query_by_label("result row 199").is_none());

    h.get_by_label(&format!("result row {row}")).click();
    h.run_steps(2);
    let s = session(&h);
    let (ts, cpu) = (ts as u64, cpu as usize);
    assert_eq!(s.timeline.cursor_ns, Some(ts));
    assert_eq!(s.timeline.selected_cpu, Some(cpu));
    // The row is a real event of the trace: a sched_switch on that CPU at that time.
    let store = &s.trace.store;
    let at = store.range(ts, ts + 1);
    assert!(
        at.clone().any(|i| {
            let e = store.event(i as trace_model::EventIdx);
            e.cpu as usize == cpu && e.name == "sched_switch"
        }),
        "no sched_switch at {ts} on CPU {cpu}"
    );
}

#[test]
fn bad_sql_shows_the_error_with_the_tables() {
    let mut h = lab_app();
    h.get_by_label("Query").click();
    h.run_steps(2);
    run_sql(&mut h, "SELECT * FROM no_such_table");
    let q = &session(&h).query;
    let e = q.error.as_deref().expect("an error");
    assert!(
        e.contains("no_such_table") && e.contains("lock_holds(class string"),
        "{e}"
    );
    assert!(q.shown.is_none());
}

#[test]
fn file_export_tables_writes_the_dataset() {
    let mut h = lab_app();
    let dir = std::env::temp_dir().join(format!("kctx-gui-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export tables…  (Parquet / CSV)").click();
    h.run_steps(2);
    h.state_mut().session.as_mut().unwrap().query.export.dir = dir.display().to_string();
    h.run_steps(1);
    h.get_by_label("Export").click();
    h.run_steps(1);
    h.state_mut().session.as_mut().unwrap().query.export.wait();
    let message = session(&h).query.export.message.clone().unwrap_or_default();
    assert!(message.contains("files"), "{message}");
    let events: Vec<_> = std::fs::read_dir(dir.join("events"))
        .expect("events/")
        .map(|e| e.unwrap().path().join("part-0.parquet"))
        .collect();
    assert_eq!(events.len(), 1);
    assert!(std::fs::metadata(&events[0]).unwrap().len() > 1000);
    std::fs::remove_dir_all(&dir).unwrap();
}
