//! Whole-input behaviour on small texts: lost-event markers, header-driven flag layout,
//! strict and lenient handling of lines that are not events.

use super::*;
use trace_model::ProblemCount;

fn import_text(text: &str) -> EventStore {
    import(text.as_bytes()).expect("imports")
}

#[test]
fn lost_events_take_the_time_of_the_cpus_next_event() {
    let s = import_text(
        "          <idle>-0     [001] d..2  10.000001: cpu_idle: state=0 cpu_id=1\n\
         CPU:1 [LOST 42 EVENTS]\n\
         CPU:3 [LOST EVENTS]\n\
         \x20         <idle>-0     [000] d..2  10.000005: cpu_idle: state=0 cpu_id=0\n\
         \x20         <idle>-0     [001] d..2  10.000009: cpu_idle: state=1 cpu_id=1\n",
    );
    assert_eq!(s.len(), 3);
    let lost: Vec<_> = s.meta.lost.iter().map(|l| (l.cpu, l.ts, l.count)).collect();
    // CPU 3 never logs again: its gap is placed at the end of the trace.
    assert_eq!(
        lost,
        [(1, 10_000_009_000, Some(42)), (3, 10_000_009_000, None)]
    );
    assert_eq!(s.report.non_event_lines, 2);
}

#[test]
fn a_header_without_migrate_column_makes_two_digit_depths() {
    let s = import_text(
        "# tracer: nop\n\
         #                            || / _--=> preempt-depth\n\
         #           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION\n\
         \x20          bash-1     [000] d..1f  1.000000: irq_disable: caller=a+0x1/0x2 parent=b\n",
    );
    let f = s.flags()[0];
    assert_eq!((f.preempt_depth(), f.migrate_disable()), (Some(0x1f), None));
}

#[test]
fn unknown_lines_are_unparsed_in_a_trace_file_but_prose_in_a_mail() {
    let s = import_text(
        "# tracer: nop\n\
         \x20          bash-1     [000] ....  1.000000: print: hello\n\
         this line is garbage\n",
    );
    assert_eq!(s.len(), 1);
    let unparsed: Vec<_> = s
        .report
        .unparsed
        .iter()
        .map(|(why, ProblemCount { count, first })| (why.as_str(), *count, first.clone()))
        .collect();
    assert_eq!(unparsed, [(NOT_AN_EVENT_LINE, 1, vec![Location::Line(3)])]);

    let s = import_text(
        "Hi, here is the trace:\n\
         >           bash-1     [000] ....  1.000000: print: hello\n\
         Thanks.\n",
    );
    assert_eq!(
        (s.len(), s.report.unparsed_total(), s.report.non_event_lines),
        (1, 0, 2)
    );
}

#[test]
fn function_tracer_lines_are_function_events() {
    let s = import_text(
        "          <idle>-0     [002] dNs4 21169.031481: wake_up_idle_cpu <-add_timer_on\n\
         \x20           sh-2     [002] ....  21169.031490: func+0x1e/0x40 <-parent+0x10/0x80\n",
    );
    assert_eq!(s.event(0).name, "function");
    match s.event(1).payload {
        Payload::Function { func, parent } => {
            assert_eq!(
                (s.str(func), s.str(parent)),
                ("func+0x1e/0x40", "parent+0x10/0x80")
            );
        }
        ref p => panic!("{p:?}"),
    }
}

#[test]
fn empty_input_is_not_a_trace() {
    assert!(matches!(
        import(b"# tracer: nop\n#\n"),
        Err(ImportError::NotATrace)
    ));
    assert!(!looks_like_ftrace(b"just some text\nand more\n"));
}
