//! Every file of `public/ftrace-text/` imports, with the number of events each holds
//! and every other line accounted for as a non-event line (headers, HTML, prose, console
//! text) rather than a failure.
//!
//! Expected counts were derived without the importer:
//! * event lines of the default / report shape: `grep -cE '\[[0-9]{3}\] ' FILE` (and
//!   `grep -oE ... | wc -l` where one physical line holds two events);
//! * latency-format dump lines: `grep -cE '[0-9]us[ +!#*@$]: ' FILE`;
//! * function_graph lines: `grep -cE '\|.*(\) \{|\);)'` (calls and leaves, prose lines
//!   removed by reading them) and `grep -cE '\| +\}'` (returns);
//! * per-event-name counts: public/MANIFEST.md, or `grep -c 'name:'`;
//! * line totals: `wc -l` (+1 for a file without a trailing newline).

use corpus_tests::corpus;
use trace_model::{EventStore, Payload, TaskState};

fn import(name: &str) -> EventStore {
    let path = corpus(&format!("public/ftrace-text/{name}"));
    importers::open(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn count(store: &EventStore, event: &str) -> usize {
    let Some(t) = store.event_type_id(event) else {
        return 0;
    };
    store.event_types().iter().filter(|&&x| x == t).count()
}

/// Every line is an event, a non-event line or an unparsed line; `extra_events` counts
/// events beyond one per line (two glued onto one line).
fn assert_accounted(store: &EventStore, name: &str, lines: u64, extra_events: u64) {
    let r = &store.report;
    assert_eq!(r.units_read, lines, "{name}: lines read");
    assert_eq!(
        store.len() as u64 - extra_events + r.non_event_lines + r.unparsed_total(),
        lines,
        "{name}: every line accounted for"
    );
}

/// (file, events, lines, non-event lines) with zero unparsed lines.
/// Non-event lines are the `#` header block, `version = 6` / `CPU n is empty` / `cpus=N`,
/// HTML and JavaScript around systrace data, prose, console text and dump framing.
const FILES: &[(&str, usize, u64)] = &[
    // 91 lines with [000]; 4 `#` header lines (JS-escaped, "\n\" at every line end).
    ("catapult_android_systrace_js_escaped.txt", 91, 95),
    // 116 events (header says entries-in-buffer 116/116); 11 header lines.
    ("catapult_atrace_data_irqflags.txt", 116, 127),
    ("catapult_atrace_missing_tgids.txt", 116, 127),
    // 4 "0: C|..." lines; the rest is HTML.
    ("catapult_trivial_systrace.html", 4, 37),
    // 212 calls + 100 returns; 4 header lines, dashes and a `=>` task switch.
    ("funcgraph_function_graph_args_retval_6.x.txt", 312, 320),
    // MANIFEST: 2943 lines, sched_switch 1856 + sched_wakeup 1068 + print 14 +
    // sched_overutilized 3 = 2941 events, plus `version = 6` and `cpus=6`.
    ("lisa_trace_report_sched.txt", 2941, 2943),
    // 17 calls + 6 returns inside a patch mail; `...` elisions and prose are not events.
    (
        "ml_serial_trace-cmd_report_function_graph_8250.txt",
        23,
        169,
    ),
    // 12 latency-format lines in the dump, 6 of them `<stack trace>` entries.
    ("ml_tip_ftrace_dump_on_oops_annotated_6.15.txt", 12, 279),
    // 35 latency lines "syz-exec-31490   2...1 413720925us : 0: }D" inside a console log.
    (
        "syzk350_soft_lockup_with_ftrace_dump_on_oops_4.20.txt",
        35,
        439,
    ),
    ("trappy_raw_trace.txt", 3, 7),
    ("trappy_trace_common_clk.txt", 8, 8),
    ("trappy_trace_empty_sched_stat.txt", 51, 53),
    ("trappy_trace_equals_bputs.txt", 7, 7),
    ("trappy_trace_failed_to_parse.txt", 11, 11),
    ("trappy_trace_filesystem_ext4.txt", 69, 69),
    ("trappy_trace_idle_unsorted.txt", 15, 17),
    ("trappy_trace_legacy_systrace.html", 15, 52),
    // 9 newlines, 10 lines: the last has no newline.
    ("trappy_trace_no_trailing_newline.txt", 10, 10),
    ("trappy_trace_sched.txt", 11, 13),
    // MANIFEST: 3111 lines; 2506 event lines inside <script class="trace-data">, the rest is
    // HTML, the `#` header and a JSON metadata block.
    ("trappy_trace_surfaceflinger_systrace.html", 2506, 3111),
    ("trappy_trace_systrace.html", 10, 39),
];

#[test]
fn every_public_file_imports_with_its_event_count_and_no_unparsed_line() {
    let dir = corpus("public/ftrace-text");
    let mut listed: Vec<_> = std::fs::read_dir(&dir)
        .expect("public/ftrace-text")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    listed.retain(|f| f != "ml_ext4_trace-cmd_report_ext4_events_quoted.txt");
    let mut table: Vec<_> = FILES.iter().map(|f| f.0.to_owned()).collect();
    table.sort();
    assert_eq!(listed, table, "the table covers every file");

    for &(name, events, lines) in FILES {
        let store = import(name);
        assert_eq!(store.len(), events, "{name}: events");
        assert_eq!(
            store.report.unparsed_total(),
            0,
            "{name}: {:?}",
            store.report.unparsed
        );
        assert_accounted(&store, name, lines, 0);
        if lines > events as u64 {
            assert!(store.report.non_event_lines > 0, "{name}");
        }
    }
}

#[test]
fn mail_quoted_report_with_two_events_glued_on_one_line() {
    // `grep -cE '\[[0-9]{3}\] '` = 98 lines, `grep -oE ... | wc -l` = 99 events: the mail
    // client joined "...ios >    kworker/u40:2-14449 [005] 59295.333445: ..." onto one line.
    let name = "ml_ext4_trace-cmd_report_ext4_events_quoted.txt";
    let store = import(name);
    assert_eq!(store.len(), 99);
    assert_eq!(store.report.unparsed_total(), 0);
    assert_accounted(&store, name, 383, 1);
    // `grep -c 'ext4_writepages:'` = 3 (one of them is the glued one)
    assert_eq!(count(&store, "ext4_writepages"), 3);
    // `grep -o 'ext4_journal_start:' | wc -l` = 13
    assert_eq!(count(&store, "ext4_journal_start"), 13);
    assert!(matches!(
        store.meta.source,
        trace_model::SourceFormat::FtraceText { ref dialect } if dialect.contains("mail-quoted")
    ));
}

#[test]
fn manifest_event_names_of_the_systrace_files() {
    let s = import("trappy_trace_surfaceflinger_systrace.html");
    // MANIFEST: sched_switch (715), cpu_idle (621), sched_wakeup (421),
    // sugov_set_iowait_boost (366), tracing_mark_write (160), cpu_frequency (104).
    for (event, n) in [
        ("sched_switch", 715),
        ("cpu_idle", 621),
        ("sched_wakeup", 421),
        ("sugov_set_iowait_boost", 366),
        ("print", 160),
        ("cpu_frequency", 104),
    ] {
        assert_eq!(count(&s, event), n, "{event}");
    }
    assert_eq!(s.meta.cpus, 8, "#P:8");
    let js = import("catapult_android_systrace_js_escaped.txt");
    assert_eq!(
        (count(&js, "sched_switch"), count(&js, "sched_wakeup")),
        (58, 33)
    );
    assert!(!js.flags()[0].recorded(), "no irq-info column");
}

#[test]
fn tgid_column_does_not_change_what_is_read() {
    let plain = import("catapult_atrace_data_irqflags.txt");
    let tgid = import("catapult_atrace_missing_tgids.txt");
    assert_eq!(plain.len(), tgid.len());
    for i in 0..plain.len() as u32 {
        let (a, b) = (plain.event(i), tgid.event(i));
        assert_eq!((a.ts, a.cpu, a.pid, a.name), (b.ts, b.cpu, b.pid, b.name));
        assert_eq!(a.flags, b.flags);
    }
    // "          <idle>-0     [000] d.h5  1212.465297: sched_wakeup: comm=adbd pid=212 ..."
    let e = plain.event(10);
    assert_eq!((e.comm, e.pid, e.name), ("<idle>", 0, "sched_wakeup"));
    assert_eq!(e.flags.to_column().as_deref(), Some("d.h5"));
    assert_eq!(e.flags.migrate_disable(), None);
    match e.payload {
        Payload::SchedWakeup {
            comm,
            pid,
            target_cpu,
            ..
        } => {
            assert_eq!((plain.str(comm), pid, target_cpu), ("adbd", 212, 0));
        }
        ref p => panic!("{p:?}"),
    }
    // "atrace-14446 [000] ...2  1212.465062: sched_switch: prev_comm=atrace ... prev_state=S"
    let first = plain.event(0);
    assert_eq!((first.comm, first.pid), ("atrace", 14446));
    match first.payload {
        Payload::SchedSwitch {
            prev_comm,
            prev_state,
            next_comm,
            next_pid,
            ..
        } => {
            assert_eq!(plain.str(prev_comm), "atrace");
            assert_eq!(prev_state, TaskState(TaskState::INTERRUPTIBLE));
            assert_eq!((plain.str(next_comm), next_pid), ("swapper/0", 0));
        }
        ref p => panic!("{p:?}"),
    }
}

#[test]
fn report_headers_numeric_states_and_unsorted_times() {
    let raw = import("trappy_raw_trace.txt");
    assert_eq!(raw.meta.cpus, 6, "cpus=6");
    // "prev_comm=migration/2 prev_pid=18 prev_prio=0 prev_state=1 next_comm=trace-cmd"
    let switch = (0..3)
        .map(|i| raw.event(i))
        .find(|e| e.comm == "migration/2")
        .unwrap();
    match switch.payload {
        Payload::SchedSwitch {
            prev_state,
            next_comm,
            next_pid,
            ..
        } => {
            assert!(prev_state.is_sleep());
            assert_eq!((raw.str(next_comm), next_pid), ("trace-cmd", 4732));
        }
        ref p => panic!("{p:?}"),
    }
    // One line is out of time order (7115.449811 before 7115.449809): the store sorts.
    let unsorted = import("trappy_trace_idle_unsorted.txt");
    assert!(unsorted.ts().is_sorted());
}

#[test]
fn payload_values_keep_equals_signs_and_failed_events_stay_events() {
    let s = import("trappy_trace_equals_bputs.txt");
    let texts: Vec<_> = (0..7)
        .map(|i| match s.event(i).payload {
            Payload::Print { text } => text.to_owned(),
            p => panic!("{p:?}"),
        })
        .collect();
    assert_eq!(texts[1], "equals_event: my_field=foo=bar");
    assert_eq!(texts[6], "equals_event: my_field=1foo=2");

    // 3 lines print `[FAILED TO PARSE]`: still events, fields kept, one warning each.
    let s = import("trappy_trace_failed_to_parse.txt");
    assert_eq!(count(&s, "thermal_power_cpu_get_power"), 2);
    assert_eq!(count(&s, "thermal_power_allocator"), 1);
    let failed: u64 = s.report.warnings.values().map(|w| w.count).sum();
    assert_eq!(failed, 3);
    let e = s.event(1);
    match e.payload {
        Payload::Fields(fields) => {
            let keys: Vec<_> = fields.map(|(k, _)| s.str(k).to_owned()).collect();
            // `sed -n 2p FILE | grep -o '[a-z_]*='`
            assert_eq!(
                keys,
                [
                    "cpumask",
                    "freq",
                    "load",
                    "load_len",
                    "dynamic_power",
                    "static_power"
                ]
            );
        }
        ref p => panic!("{p:?}"),
    }
}

#[test]
fn console_dumps_are_latency_format_with_the_stated_kernel() {
    let s = import("syzk350_soft_lockup_with_ftrace_dump_on_oops_4.20.txt");
    assert_eq!(count(&s, "0"), 35);
    assert_eq!(
        s.meta.kernel_version.as_deref(),
        Some("4.20.0-next-20190102+")
    );
    assert!(s.meta.relative_time);
    let e = s.event(0);
    assert_eq!(
        (e.comm, e.pid, e.cpu, e.ts),
        ("syz-exec", 31490, 2, 413_720_925_000)
    );
    assert_eq!(e.flags.preempt_depth(), Some(1));

    let s = import("ml_tip_ftrace_dump_on_oops_annotated_6.15.txt");
    assert_eq!(count(&s, "kernel_stack"), 6);
    assert_eq!(count(&s, "__free_pages_core"), 4);
    // "CPU: 0 UID: 0 PID: 10 Comm: kworker/0:1 Not tainted 6.15.0-rc5+ #8" (the quoted
    // older report below it names 6.15.0-rc4+).
    assert_eq!(s.meta.kernel_version.as_deref(), Some("6.15.0-rc5+"));
    let cpus: Vec<u32> = (0..s.len() as u32).map(|i| s.event(i).cpu).collect();
    assert!(cpus.contains(&29) && cpus.contains(&0));
}

#[test]
fn function_graph_nesting_and_durations() {
    let s = import("funcgraph_function_graph_args_retval_6.x.txt");
    assert_eq!(count(&s, "funcgraph_entry"), 212);
    assert_eq!(count(&s, "funcgraph_exit"), 100);
    // " 3)   2.513 us    |              } /* pick_next_task_fair ret=0x0 */"
    let exit = (0..s.len() as u32)
        .map(|i| s.event(i))
        .find_map(|e| match e.payload {
            Payload::FuncGraphExit {
                func,
                duration_ns: 2513,
                depth,
            } => Some((func, depth, e.cpu)),
            _ => None,
        })
        .expect("the 2.513 us return");
    assert_eq!(s.str(exit.0), "pick_next_task_fair");
    assert_eq!(exit.2, 3);
    assert!(s.meta.relative_time);

    let s = import("ml_serial_trace-cmd_report_function_graph_8250.txt");
    assert_eq!(
        (count(&s, "funcgraph_entry"), count(&s, "funcgraph_exit")),
        (17, 6)
    );
    let first = s.event(0);
    match first.payload {
        Payload::FuncGraphEntry {
            func,
            depth: 0,
            leaf_duration_ns: None,
        } => {
            assert_eq!(s.str(func), "serial8250_console_write");
        }
        ref p => panic!("{p:?}"),
    }
}

#[test]
fn prose_is_not_mistaken_for_a_trace() {
    // A console log with no ftrace dump is not ftrace text.
    let log = std::fs::read(corpus(
        "public/console/ml_ext4_syzbot_recursive_ext4_truncate.txt",
    ))
    .unwrap();
    assert!(!importers::ftrace_text::looks_like_ftrace(&log));
    let dump = std::fs::read(corpus(
        "public/ftrace-text/syzk350_soft_lockup_with_ftrace_dump_on_oops_4.20.txt",
    ))
    .unwrap();
    assert!(importers::ftrace_text::looks_like_ftrace(&dump));
}

#[test]
fn trace_cmd_reports_of_the_tracedat_samples() {
    // MANIFEST per-event counts of the .dat files (its totals also count the `cpus=` line):
    // elainecole: 4428 lines, all sched_switch; trappy_trace: bprint 501, cdev_update 18,
    // thermal_temperature 6; trappy_trace_idle: sched_switch 23, cpu_idle 17,
    // sched_migrate_task 3.
    let cases: &[(&str, &[(&str, usize)])] = &[
        (
            "elainecole_rpi_4.14_sched_switch",
            &[("sched_switch", 4427)],
        ),
        (
            "trappy_trace",
            &[
                ("bprint", 501),
                ("cdev_update", 18),
                ("thermal_temperature", 6),
            ],
        ),
        (
            "trappy_trace_idle",
            &[
                ("sched_switch", 23),
                ("cpu_idle", 17),
                ("sched_migrate_task", 3),
            ],
        ),
    ];
    for &(name, counts) in cases {
        let path = corpus(&format!("public/tracedat/{name}.report.txt"));
        let store = importers::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let total: usize = counts.iter().map(|c| c.1).sum();
        assert_eq!(store.len(), total, "{name}");
        for &(event, n) in counts {
            assert_eq!(count(&store, event), n, "{name}: {event}");
        }
        assert_eq!(store.report.unparsed_total(), 0, "{name}");
        assert_eq!(store.report.non_event_lines, 1, "{name}: the cpus= line");
    }
}

/// Issue 19: a function-tracer line whose function (or its parent) was wrapped onto the next
/// line is read as one event, not counted as unparsed. Built from a real function-tracer
/// recording: every `func <-parent` line of the lab's trace.txt is broken once after the
/// timestamp and once after `<-`, alternately.
#[test]
fn function_names_wrapped_onto_the_next_line_are_joined() {
    let path = corpus("lab/s1_spin_sleep/trace.txt");
    let text = std::fs::read_to_string(&path).expect("lab trace.txt");
    let mut wrapped = String::new();
    let mut broken = 0u64;
    for line in text.lines() {
        let cut = if broken.is_multiple_of(2) {
            line.find(": ")
                .filter(|_| line.contains(" <-"))
                .map(|at| at + 1)
        } else {
            line.find(" <-").map(|at| at + 3)
        };
        match cut {
            Some(at) if at < line.len() => {
                wrapped.push_str(&line[..at]);
                wrapped.push_str("\n  ");
                wrapped.push_str(line[at..].trim_start());
                broken += 1;
            }
            _ => wrapped.push_str(line),
        }
        wrapped.push('\n');
    }
    assert!(broken > 1000, "{broken} lines broken");
    let original = importers::ftrace_text::import(text.as_bytes()).expect("original");
    let joined = importers::ftrace_text::import(wrapped.as_bytes()).expect("wrapped");
    assert_eq!(
        joined.report.unparsed_total(),
        original.report.unparsed_total()
    );
    assert_eq!(joined.len(), original.len(), "events");
    let functions = |s: &EventStore| -> Vec<String> {
        (0..s.len() as u32)
            .filter_map(|i| match s.payload(i) {
                Payload::Function { func, parent } => {
                    Some(format!("{}<-{}", s.str(func), s.str(parent)))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(functions(&joined), functions(&original));
}
