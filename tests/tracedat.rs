//! Issue 4: every trace.dat of the corpus reads into the same events `trace-cmd report`
//! printed for it (time, CPU, comm-pid, event name, and the payload fields of the typed
//! events), the lab recordings give truth.json's event counts, and damaged copies fail or
//! degrade with a byte offset, never a panic.

use corpus_tests::{corpus, lab_scenarios};
use importers::tracedat::format::StateTable;
use importers::{ImportError, Source};
use std::path::{Path, PathBuf};
use trace_model::payload::{Payload, TaskState};
use trace_model::{EventStore, Location};

/// Every trace.dat with the report it must match.
fn tracedat_files() -> Vec<(PathBuf, PathBuf)> {
    let mut files = Vec::new();
    for (folder, _) in lab_scenarios() {
        let dir = corpus(&format!("lab/{folder}"));
        let report = ["report.txt", "report.txt.gz"]
            .iter()
            .map(|r| dir.join(r))
            .find(|p| p.exists())
            .expect("report beside the lab trace.dat");
        for dat in ["trace.dat", "trace.v6.dat.gz"] {
            if dir.join(dat).exists() {
                files.push((dir.join(dat), report.clone()));
            }
        }
    }
    let public = corpus("public/tracedat");
    for entry in std::fs::read_dir(&public).expect("public/tracedat") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".dat") {
            // Converted copies compare with the report of their original.
            let original = stem.split(".v7-").next().unwrap();
            files.push((path.clone(), public.join(format!("{original}.report.txt"))));
        }
    }
    files.sort();
    files
}

/// One `trace-cmd report` event line, split into its columns.
#[derive(Debug, PartialEq)]
struct Line<'a> {
    comm_pid: &'a str,
    cpu: u32,
    ts: &'a str,
    name: &'a str,
    payload: &'a str,
}

/// `          <idle>-0     [001]    64.418679: sched_wakeup:         init:1 [120] CPU:001`
fn split_line(line: &str) -> Option<Line<'_>> {
    let (open, close) = line.match_indices(" [").find_map(|(i, _)| {
        let close = i + 2 + line[i + 2..].find(']')?;
        line[i + 2..close]
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then_some((i, close))
    })?;
    let rest = line[close + 1..].trim_start();
    let (ts, rest) = rest.split_once(": ")?;
    let (name, payload) = rest.split_once(':')?;
    Some(Line {
        comm_pid: line[..open].trim(),
        cpu: line[open + 2..close].parse().ok()?,
        ts,
        name,
        payload: payload.trim(),
    })
}

/// Time as trace-cmd prints it: µs, rounded, with 6 decimals.
fn report_ts(ns: u64) -> String {
    let us = (ns + 500) / 1000;
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

fn read_text(path: &Path) -> String {
    let src = Source::open(path).expect("open report");
    String::from_utf8_lossy(src.bytes()).into_owned()
}

fn import(path: &Path) -> EventStore {
    importers::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `comm:pid [prio]` of the sched plugin.
fn comm_pid_prio(s: &str) -> (&str, i32, i32) {
    let (comm_pid, prio) = s.trim().rsplit_once(" [").expect("comm:pid [prio]");
    let (comm, pid) = comm_pid.rsplit_once(':').expect("comm:pid");
    (
        comm,
        pid.parse().expect("pid"),
        prio.trim_end_matches(']').parse().expect("prio"),
    )
}

fn hex(s: &str) -> u64 {
    let s = s.trim().trim_start_matches('(').trim_end_matches(')');
    u64::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex")
}

fn value_of<'a>(payload: &'a str, key: &str) -> &'a str {
    let start = payload.find(key).expect("key in payload") + key.len();
    payload[start..].split([' ', ']']).next().unwrap()
}

/// The letters trace-cmd's sched_switch plugin prints for state bits 0, 1, 2...
const TRACE_CMD_STATE_LETTERS: &str = "SDTtZXxW";

/// The prev_state table of a trace.dat's own sched_switch format.
fn state_table(dat: &Path) -> StateTable {
    let src = Source::open(dat).expect("open");
    importers::tracedat::event_formats(src.bytes())
        .expect("formats")
        .iter()
        .find(|f| f.name == "sched_switch")
        .and_then(|f| StateTable::from_print_fmt(&f.print_fmt))
        .unwrap_or_else(StateTable::modern)
}

/// Checks the typed payload of event `i` against the report's text. Returns whether the
/// event was a typed one that got checked.
fn check_payload(s: &EventStore, states: &StateTable, i: u32, line: &Line<'_>, at: &str) -> bool {
    let p = line.payload;
    let str_of = |id| s.str(id).to_owned();
    match s.payload(i) {
        Payload::SchedSwitch {
            prev_comm,
            prev_pid,
            prev_prio,
            prev_state,
            next_comm,
            next_pid,
            next_prio,
        } => {
            let (prev, next) = p.split_once(" ==> ").expect("==>");
            let (prev, state) = prev.rsplit_once(' ').expect("state");
            assert_eq!(
                comm_pid_prio(prev),
                (str_of(prev_comm).as_str(), prev_pid, prev_prio),
                "{at}"
            );
            assert_eq!(
                comm_pid_prio(next),
                (str_of(next_comm).as_str(), next_pid, next_prio),
                "{at}"
            );
            // trace-cmd's sched plugin prints the raw bits with its own fixed letters
            // (not the format's) and drops the `+`; the model follows the format.
            let raw = state.split('|').fold(0u64, |bits, l| {
                bits | TRACE_CMD_STATE_LETTERS.find(l).map_or(0, |i| 1 << i)
            });
            let shown = TaskState(prev_state.0 & !TaskState::PREEMPTED);
            assert_eq!(shown, states.decode(raw), "{at}: state {state}");
        }
        Payload::SchedWakeup {
            comm,
            pid,
            prio,
            target_cpu,
        } => {
            if line.name == "sched_waking" {
                assert_eq!(value_of(p, " pid=").parse::<i32>().unwrap(), pid, "{at}");
                assert_eq!(
                    value_of(p, "target_cpu=").parse::<i32>().unwrap(),
                    target_cpu
                );
                assert!(p.starts_with(&format!("comm={} ", str_of(comm))), "{at}");
            } else {
                let (head, cpu) = p.rsplit_once(" CPU:").expect("CPU:");
                let head = head.trim_end_matches(" success=1");
                assert_eq!(
                    comm_pid_prio(head),
                    (str_of(comm).as_str(), pid, prio),
                    "{at}"
                );
                assert_eq!(cpu.parse::<i32>().unwrap(), target_cpu, "{at}");
            }
        }
        Payload::LockAcquire { addr, name, .. }
        | Payload::LockRelease { addr, name }
        | Payload::LockContended { addr, name }
        | Payload::LockAcquired { addr, name } => {
            let (a, rest) = p.split_once(' ').expect("addr name");
            assert_eq!(hex(a), addr, "{at}");
            assert_eq!(rest.rsplit(' ').next().unwrap(), s.str(name), "{at}");
        }
        Payload::ContentionBegin { addr, .. } | Payload::ContentionEnd { addr, .. } => {
            assert_eq!(hex(p.split(' ').next().unwrap()), addr, "{at}");
        }
        Payload::SoftirqEntry { vec } | Payload::SoftirqExit { vec } => {
            assert_eq!(value_of(p, "vec=").parse::<u32>().unwrap(), vec, "{at}");
        }
        Payload::IrqHandlerEntry { irq, name } => {
            assert_eq!(value_of(p, "irq=").parse::<i32>().unwrap(), irq, "{at}");
            assert_eq!(value_of(p, "name="), s.str(name), "{at}");
        }
        Payload::IrqHandlerExit { irq, handled } => {
            assert_eq!(value_of(p, "irq=").parse::<i32>().unwrap(), irq, "{at}");
            assert_eq!(value_of(p, "ret=") == "handled", handled, "{at}");
        }
        Payload::LockProbe { addr, .. } => {
            assert_eq!(hex(value_of(p, "lock=")), addr, "{at}");
        }
        Payload::Function { func, .. } => {
            assert_eq!(p.split(' ').next().unwrap(), s.str(func), "{at}");
        }
        Payload::WorkqueueExecuteStart { work, function }
        | Payload::WorkqueueExecuteEnd { work, function } => {
            assert_eq!(hex(value_of(p, "work struct ").trim_end_matches(':')), work);
            assert_eq!(p.rsplit(' ').next().unwrap(), s.str(function), "{at}");
        }
        Payload::HrtimerExpireEntry { hrtimer, .. } | Payload::HrtimerExpireExit { hrtimer } => {
            assert_eq!(hex(value_of(p, "hrtimer=")), hrtimer, "{at}");
        }
        Payload::Print { text } => {
            // `print: tracing_mark_write: text`, `bprint: 0xc044504c: text`.
            let shown = p.split_once(": ").map_or(p, |(_, t)| t);
            assert_eq!(shown, text, "{at}");
        }
        _ => return false,
    }
    true
}

#[test]
fn every_tracedat_matches_its_trace_cmd_report() {
    let files = tracedat_files();
    assert!(files.len() >= 14, "corpus trace.dat files: {files:?}");
    for (dat, report) in files {
        let store = import(&dat);
        let text = read_text(&report);
        let lines: Vec<Line<'_>> = text.lines().skip(1).filter_map(split_line).collect();
        assert_eq!(
            lines.len(),
            text.lines().count() - 1,
            "{}: every report line splits",
            report.display()
        );
        assert_eq!(store.len(), lines.len(), "{}: event count", dat.display());
        let cpus: u32 = text.lines().next().unwrap()["cpus=".len()..]
            .parse()
            .unwrap();
        assert_eq!(store.meta.cpus, cpus, "{}", dat.display());
        let states = state_table(&dat);
        let mut typed = 0;
        for (i, line) in lines.iter().enumerate() {
            let e = store.event(i as u32);
            let at = format!("{} event {i}: {line:?}", dat.display());
            assert_eq!(report_ts(e.ts), line.ts, "{at}");
            assert_eq!(e.cpu, line.cpu, "{at}");
            assert_eq!(format!("{}-{}", e.comm, e.pid), line.comm_pid, "{at}");
            assert_eq!(e.name, line.name, "{at}");
            typed += usize::from(check_payload(&store, &states, i as u32, line, &at));
        }
        assert!(
            typed > lines.len() / 2,
            "{}: {typed} typed events checked",
            dat.display()
        );
        assert_eq!(store.meta.lost.len(), 0, "{}: no overruns", dat.display());
    }
}

#[test]
fn lab_trace_dat_stats_equal_truth_event_counts() {
    for (folder, truth) in lab_scenarios() {
        let path = corpus(&format!("lab/{folder}/trace.dat"));
        let stats = kctx::cli::stats::Stats::of(&path, &import(&path));
        let want: std::collections::BTreeMap<String, u64> = truth["event_counts_by_name"]
            .as_object()
            .expect("event_counts_by_name")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
            .collect();
        assert_eq!(stats.by_name, want, "{folder}");
        assert_eq!(
            stats.kernel_version.as_deref(),
            truth["uname"]
                .as_str()
                .and_then(|u| u.split_whitespace().nth(2)),
            "{folder}"
        );
        assert_eq!(stats.clock.as_deref(), Some("global"), "{folder}");
    }
}

/// The byte offset an error names.
fn error_offset(e: &ImportError) -> Option<u64> {
    match e {
        ImportError::Malformed {
            at: Location::Byte(off),
            ..
        } => Some(*off),
        ImportError::WithPath { source, .. } => error_offset(source),
        _ => None,
    }
}

fn import_bytes(bytes: Vec<u8>) -> Result<EventStore, ImportError> {
    importers::import(&Source::from_bytes(bytes).expect("not gzip"))
}

#[test]
fn truncated_files_fail_with_an_offset_or_keep_what_was_read() {
    for rel in [
        "lab/s1_spin_sleep/trace.dat",
        "public/tracedat/trappy_trace.dat",
        "public/tracedat/elainecole_rpi_4.14_sched_switch.v7-nocompress.converted.dat",
    ] {
        let full = std::fs::read(corpus(rel)).expect("read");
        let whole = import_bytes(full.clone())
            .expect("intact file imports")
            .len();
        // Cuts in the header, the metadata and across the CPU data.
        for cut in (1..40)
            .map(|k| k * 997)
            .chain((1..20).map(|k| full.len() * k / 20))
        {
            let cut = cut.min(full.len() - 1);
            match import_bytes(full[..cut].to_vec()) {
                Err(e) => {
                    let off = error_offset(&e).unwrap_or_else(|| panic!("{rel} cut {cut}: {e}"));
                    assert!(off <= full.len() as u64, "{rel} cut {cut}: offset {off}");
                    assert!(e.to_string().contains("trace.dat"), "{rel}: {e}");
                }
                Ok(store) => {
                    assert!(store.len() < whole, "{rel} cut {cut}: lost nothing?");
                    let warned = store.report.warnings.values().map(|w| w.count).sum::<u64>();
                    assert!(warned > 0 && !store.meta.lost.is_empty(), "{rel} cut {cut}");
                }
            }
        }
    }
}

#[test]
fn corrupted_bytes_never_panic_and_errors_name_an_offset() {
    for rel in [
        "lab/s3_abba_mutex/trace.dat",
        "public/tracedat/trappy_trace_idle.dat",
        "public/tracedat/elainecole_rpi_4.14_sched_switch.dat",
    ] {
        let full = std::fs::read(corpus(rel)).expect("read");
        // Deterministic xorshift over offsets and byte values.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut bytes = full.clone();
            let at = (x % bytes.len() as u64) as usize;
            for k in 0..8 {
                if let Some(b) = bytes.get_mut(at + k) {
                    *b ^= (x >> (8 * k)) as u8 | 1;
                }
            }
            match import_bytes(bytes) {
                Err(e) => assert!(error_offset(&e).is_some(), "{rel} at {at}: {e}"),
                Ok(s) if !s.report.warnings.is_empty() => {
                    assert!(!s.meta.lost.is_empty(), "{rel} at {at}: damage marked lost")
                }
                Ok(_) => {}
            }
        }
    }
}

#[test]
fn a_damaged_page_is_skipped_marked_lost_and_warned_about() {
    // v6 CPU data is page-aligned at the end of this file (4 KiB pages, 32-bit kernel:
    // a 4-byte commit word at offset 8 of each page).
    let rel = "public/tracedat/elainecole_rpi_4.14_sched_switch.dat";
    let full = std::fs::read(corpus(rel)).expect("read");
    let whole = import_bytes(full.clone()).expect("intact").len();
    for k in [3, 10, 40] {
        let commit = full.len() - 4096 * k + 8;
        let mut bytes = full.clone();
        bytes[commit..commit + 4].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
        let s = import_bytes(bytes).expect("damage inside CPU data is not fatal");
        assert!(s.len() < whole, "page {k} from the end held events");
        assert_eq!(s.meta.lost.len(), 1, "page {k}");
        let w = s
            .report
            .warnings
            .get("trace.dat cpu data: page commit size exceeds the page")
            .expect("warning");
        assert_eq!(w.first, [Location::Byte(commit as u64)]);
    }
}
