//! Every trace.dat of the corpus reads into the same events `trace-cmd report`
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
    let (open, close) = cpu_brackets(line)?;
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

/// Positions of the ` [` and `]` around the CPU number.
fn cpu_brackets(line: &str) -> Option<(usize, usize)> {
    line.match_indices(" [").find_map(|(i, _)| {
        let close = i + 2 + line[i + 2..].find(']')?;
        line[i + 2..close]
            .bytes()
            .all(|c| c.is_ascii_digit())
            .then_some((i, close))
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

/// Asserts that `store` holds the events of `report`, in order, with their typed payloads.
fn assert_matches_report(store: &EventStore, label: &str, report: &Path, states: &StateTable) {
    let text = read_text(report);
    let lines: Vec<Line<'_>> = text.lines().skip(1).filter_map(split_line).collect();
    assert_eq!(
        lines.len(),
        text.lines().count() - 1,
        "{}: every report line splits",
        report.display()
    );
    assert_eq!(store.len(), lines.len(), "{label}: event count");
    let cpus: u32 = text.lines().next().unwrap()["cpus=".len()..]
        .parse()
        .unwrap();
    assert_eq!(store.meta.cpus, cpus, "{label}");
    let mut typed = 0;
    for (i, line) in lines.iter().enumerate() {
        let e = store.event(i as u32);
        let at = format!("{label} event {i}: {line:?}");
        assert_eq!(report_ts(e.ts), line.ts, "{at}");
        assert_eq!(e.cpu, line.cpu, "{at}");
        assert_eq!(format!("{}-{}", e.comm, e.pid), line.comm_pid, "{at}");
        assert_eq!(e.name, line.name, "{at}");
        typed += usize::from(check_payload(store, states, i as u32, line, &at));
    }
    assert!(
        typed > lines.len() / 2,
        "{label}: {typed} typed events checked"
    );
    assert_eq!(store.meta.lost.len(), 0, "{label}: no overruns");
}

#[test]
fn every_tracedat_matches_its_trace_cmd_report() {
    let files = tracedat_files();
    assert!(files.len() >= 14, "corpus trace.dat files: {files:?}");
    for (dat, report) in files {
        let label = dat.display().to_string();
        assert_matches_report(&import(&dat), &label, &report, &state_table(&dat));
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// The sections of an uncompressed little-endian v7 file, walked by size: (id, header
/// offset, body).
fn v7_sections(v7: &[u8]) -> Vec<(u16, usize, std::ops::Range<usize>)> {
    let mut sections = Vec::new();
    let mut at = 32;
    while at + 16 <= v7.len() {
        let (header, id) = (at, u16::from_le_bytes([v7[at], v7[at + 1]]));
        let body = at + 16..at + 16 + u64_at(v7, at + 8) as usize;
        at = body.end;
        sections.push((id, header, body));
    }
    sections
}

/// The options of an OPTIONS section body starting at `at`, DONE last: (id, offset of the
/// option's data).
fn v7_options(v7: &[u8], mut at: usize) -> Vec<(u16, usize)> {
    let mut options = Vec::new();
    loop {
        let id = u16::from_le_bytes([v7[at], v7[at + 1]]);
        options.push((id, at + 6));
        if id == 0 {
            return options;
        }
        at += 6 + u32_at(v7, at + 2) as usize;
    }
}

/// Rewrites an uncompressed v7 file as a zlib one in place: metadata sections become
/// zlib blocks and each CPU's pages a chunk stream, each padded to its old size so that
/// no offset moves. (trace-cmd 3.1.6 in Debian is built with zstd only.)
fn zlib_copy(v7: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let zlib = |data: &[u8]| {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    };
    let mut out = v7.to_vec();
    let header = b"\x17\x08\x44tracing7\0\0\x08\x00\x10\x00\x00none\0\0";
    assert!(
        v7.starts_with(header),
        "a little-endian uncompressed v7 file"
    );
    out[18..22].copy_from_slice(b"zlib");
    let mut cpu_data = Vec::new();
    for (id, at, body) in v7_sections(v7) {
        let size = body.len();
        match id {
            16..=21 => {
                let z = zlib(&v7[body.clone()]);
                let mut block = (z.len() as u32).to_le_bytes().to_vec();
                block.extend_from_slice(&(size as u32).to_le_bytes());
                block.extend_from_slice(&z);
                assert!(block.len() <= size, "section {id} compresses");
                block.resize(size, 0);
                out[body].copy_from_slice(&block);
                out[at + 2] |= 1;
            }
            3 => out[at + 2] |= 1,
            0 => {
                // BUFFER: u64 offset, name, clock, u32 page size, u32 cpus, then per CPU
                // {u32 cpu, u64 offset, u64 size}.
                for (_, data) in v7_options(v7, body.start).into_iter().filter(|o| o.0 == 3) {
                    let mut p = data + 8;
                    for _ in 0..2 {
                        p += v7[p..].iter().position(|&b| b == 0).unwrap() + 1;
                    }
                    for c in 0..u32_at(v7, p + 4) as usize {
                        let e = p + 8 + 20 * c;
                        cpu_data.push((u64_at(v7, e + 4) as usize, u64_at(v7, e + 12) as usize));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(!cpu_data.is_empty(), "BUFFER option found");
    for (offset, size) in cpu_data {
        let chunks: Vec<&[u8]> = v7[offset..offset + size].chunks(10 * 4096).collect();
        let mut stream = (chunks.len() as u32).to_le_bytes().to_vec();
        for c in chunks {
            let z = zlib(c);
            stream.extend_from_slice(&(z.len() as u32).to_le_bytes());
            stream.extend_from_slice(&(c.len() as u32).to_le_bytes());
            stream.extend_from_slice(&z);
        }
        assert!(stream.len() <= size, "cpu data compresses");
        stream.resize(size, 0);
        out[offset..offset + size].copy_from_slice(&stream);
    }
    out
}

#[test]
fn a_zlib_compressed_v7_file_reads_like_its_original() {
    let public = corpus("public/tracedat");
    let original = public.join("elainecole_rpi_4.14_sched_switch.v7-nocompress.converted.dat");
    let copy = zlib_copy(&std::fs::read(&original).expect("read"));
    let store = import_bytes(copy).expect("zlib copy imports");
    assert_eq!(
        store.meta.source,
        trace_model::SourceFormat::TraceDat {
            version: 7,
            compression: "zlib".into()
        }
    );
    assert_matches_report(
        &store,
        "zlib copy",
        &public.join("elainecole_rpi_4.14_sched_switch.report.txt"),
        &state_table(&original),
    );
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
        ImportError::WithPath { error, .. } => error_offset(error),
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

/// (time, CPU) -> the flags column of the kernel's own `trace` text, for times that occur
/// once on their CPU.
fn kernel_flag_columns(trace_txt: &str) -> std::collections::HashMap<(String, u32), String> {
    let mut seen = std::collections::HashMap::new();
    for line in trace_txt.lines().filter(|l| !l.starts_with('#')) {
        let Some((open, close)) = cpu_brackets(line) else {
            continue;
        };
        let cpu: u32 = line[open + 2..close].parse().expect("cpu");
        // After `[cpu]` come the flags and the time: `d.h1.    64.415497:`.
        let mut cols = line[close + 1..].split_whitespace();
        let (Some(flags), Some(ts)) = (cols.next(), cols.next()) else {
            continue;
        };
        let key = (ts.trim_end_matches(':').to_owned(), cpu);
        seen.entry(key)
            .and_modify(|f: &mut Option<String>| *f = None)
            .or_insert_with(|| Some(flags.to_owned()));
    }
    seen.into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

#[test]
fn lab_context_flags_equal_the_kernels_flag_column() {
    for (folder, _) in lab_scenarios() {
        let dir = corpus(&format!("lab/{folder}"));
        let txt = ["trace.txt", "trace.txt.gz"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists());
        let Some(txt) = txt else { continue };
        let kernel = kernel_flag_columns(&read_text(&txt));
        let store = import(&dir.join("trace.dat"));
        let mut compared = 0;
        for i in 0..store.len() as u32 {
            let e = store.event(i);
            if let Some(want) = kernel.get(&(report_ts(e.ts), e.cpu)) {
                assert_eq!(
                    e.flags.to_column().as_deref(),
                    Some(want.as_str()),
                    "{folder} event {i} {} at {} on cpu {}",
                    e.name,
                    report_ts(e.ts),
                    e.cpu
                );
                compared += 1;
            }
        }
        assert!(
            compared > store.len() / 2,
            "{folder}: {compared} of {} compared",
            store.len()
        );
    }
}

/// Everything an import gives, for comparing two imports of one file.
fn import_fingerprint(store: &EventStore) -> (Vec<u64>, Vec<u16>, Vec<i32>, Vec<String>, String) {
    let names = (0..store.len() as u32)
        .map(|i| store.type_name(store.event_types()[i as usize]).to_owned())
        .collect();
    let flags: Vec<String> = store.flags().iter().map(|f| format!("{f:?}")).collect();
    let meta = serde_json::to_string(&(&store.meta, &store.report)).expect("meta as JSON");
    (
        store.ts().to_vec(),
        store.cpus().to_vec(),
        store.pids().to_vec(),
        names,
        format!("{flags:?}{meta}"),
    )
}

/// Decompressing ahead on threads gives exactly what decompressing inline gives, on every
/// corpus file and on one with a damaged chunk.
#[test]
fn threaded_decompression_gives_the_same_import() {
    use importers::tracedat::{Decompression, import_with};
    let mut inputs: Vec<(String, Vec<u8>)> = tracedat_files()
        .into_iter()
        .map(|(dat, _)| {
            let bytes = Source::open(&dat).expect("open").bytes().to_vec();
            (dat.display().to_string(), bytes)
        })
        .collect();
    // CPU data is the last part of the file: zeros there damage a zstd chunk of CPU 0.
    let mut holed = std::fs::read(corpus("lab/s1_spin_sleep/trace.dat")).expect("trace.dat");
    let at = holed.len() / 20 * 19;
    holed[at..at + 64].fill(0);
    inputs.push(("a damaged chunk".into(), holed));
    for (label, bytes) in &inputs {
        let inline = import_with(bytes, Decompression::OnThisThread);
        let ahead = import_with(bytes, Decompression::AheadOnThreads);
        match (inline, ahead) {
            (Ok(a), Ok(b)) => {
                assert!(!a.is_empty(), "{label}");
                if label == "a damaged chunk" {
                    assert_eq!(a.meta.lost.len(), 1, "the damage is a gap");
                }
                assert!(
                    import_fingerprint(&a) == import_fingerprint(&b),
                    "{label}: the two imports differ"
                );
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{label}"),
            (a, b) => panic!(
                "{label}: {:?} vs {:?}",
                a.map(|s| s.len()),
                b.map(|s| s.len())
            ),
        }
    }
}

/// The offset of a little-endian v7 file's first OPTIONS section, from its header (after
/// the magic, the version, endianness, long and page size, and the compression's name and
/// version).
fn v7_first_options(v7: &[u8]) -> usize {
    let after_string = |at: usize| at + v7[at..].iter().position(|&b| b == 0).unwrap() + 1;
    let compression = after_string(10) + 6;
    let at = after_string(after_string(compression));
    u64_at(v7, at) as usize
}

/// Appends an OPTIONS section holding one option to a little-endian v7 file (its options
/// sections uncompressed, as trace-cmd writes them) and chains it from the last options
/// section's DONE, so no offset moves.
pub(crate) fn with_appended_option(v7: &[u8], option_id: u16, data: &[u8]) -> Vec<u8> {
    let mut out = v7.to_vec();
    // Follow the chain to the section whose DONE holds 0.
    let mut section = v7_first_options(v7);
    let last_done = loop {
        let done = v7_options(v7, section + 16).last().map(|&(_, data)| data);
        match done {
            Some(d) if u64_at(v7, d) != 0 => section = u64_at(v7, d) as usize,
            other => break other,
        }
    };
    let done = last_done.expect("an options section ending the chain");
    out[done..done + 8].copy_from_slice(&(v7.len() as u64).to_le_bytes());
    let mut body = option_id.to_le_bytes().to_vec();
    body.extend((data.len() as u32).to_le_bytes());
    body.extend(data);
    body.extend(0u16.to_le_bytes());
    body.extend(8u32.to_le_bytes());
    body.extend(0u64.to_le_bytes());
    out.extend(0u16.to_le_bytes()); // OPTIONS
    out.extend(0u16.to_le_bytes()); // not compressed
    out.extend(0u32.to_le_bytes()); // description
    out.extend((body.len() as u64).to_le_bytes());
    out.extend(body);
    out
}

/// A guest recording's TIME_SHIFT moves each guest CPU's events onto the host clock, as
/// `trace-cmd report` does, and the events stay merged in host time.
#[test]
fn a_guest_time_shift_moves_each_cpu_onto_the_host_clock() {
    let original = std::fs::read(corpus(
        "public/tracedat/elainecole_rpi_4.14_sched_switch.v7-nocompress.converted.dat",
    ))
    .expect("read");
    let before = import_bytes(original.clone()).expect("original imports");
    // CPU 0 runs 3 s ahead of the host; CPU 1 has no samples and stays.
    const AHEAD_NS: u64 = 3_000_000_000;
    let mut option = 7u64.to_le_bytes().to_vec(); // peer trace id
    option.extend(0u32.to_le_bytes()); // flags: stepped
    option.extend(2u32.to_le_bytes()); // CPUs
    option.extend(1u32.to_le_bytes()); // CPU 0: one sample (time, offset, scaling)
    for word in [0i64, AHEAD_NS as i64, 1] {
        option.extend(word.to_le_bytes());
    }
    option.extend(0u32.to_le_bytes()); // CPU 1: none
    const TIME_SHIFT: u16 = 12;
    let after = import_bytes(with_appended_option(&original, TIME_SHIFT, &option))
        .expect("shifted copy imports");

    let by_cpu = |s: &EventStore, shift_cpu0: u64| {
        let mut v: Vec<(u16, u64)> = (0..s.len())
            .map(|i| {
                let cpu = s.cpus()[i];
                (cpu, s.ts()[i] + if cpu == 0 { shift_cpu0 } else { 0 })
            })
            .collect();
        v.sort_unstable();
        v
    };
    assert!(before.cpus().contains(&0) && before.cpus().iter().any(|&c| c > 0));
    assert_eq!(by_cpu(&after, 0), by_cpu(&before, AHEAD_NS));
    assert!(
        after.ts().windows(2).all(|w| w[0] <= w[1]),
        "merged in host time"
    );
    assert!(
        after.report.warnings.is_empty(),
        "{:?}",
        after.report.warnings
    );
}

#[test]
fn an_event_format_that_does_not_parse_costs_its_fields_only() {
    // Break one field line of sched_switch's format (v6: the formats lie in the file as
    // text): its records keep their name, time, CPU and task, lose their fields, and the
    // report says which format; the other events decode as before.
    let rel = "public/tracedat/elainecole_rpi_4.14_sched_switch.dat";
    let full = std::fs::read(corpus(rel)).expect("read");
    let intact = import_bytes(full.clone()).expect("intact");
    let find = |from: usize, what: &[u8]| {
        from + full[from..]
            .windows(what.len())
            .position(|w| w == what)
            .expect("in the format")
    };
    let format = find(0, b"name: sched_switch");
    let offset = find(format, b"prev_pid;\toffset:") + "prev_pid;\toffset:".len();
    let mut bytes = full.clone();
    bytes[offset..offset + 2].copy_from_slice(b"xx");
    let s = import_bytes(bytes).expect("a bad format is not fatal");
    assert_eq!(s.len(), intact.len());
    assert_eq!(s.ts(), intact.ts());
    assert_eq!(s.pids(), intact.pids());
    let w = s
        .report
        .warnings
        .iter()
        .find(|(kind, _)| kind.contains("sched_switch format"))
        .expect("warning names the format");
    // The format's text follows its u64 size, where the location points.
    assert_eq!(w.1.first, [Location::Byte(format as u64 - 8)]);
    let mut switches = 0;
    for i in 0..s.len() as u32 {
        let (event, was) = (s.event(i), intact.event(i));
        assert_eq!(event.name, was.name);
        if event.name == "sched_switch" {
            switches += 1;
            assert_eq!(s.payload(i), Payload::Empty, "event {i}");
        } else {
            assert_eq!(s.payload(i), intact.payload(i), "event {i}");
        }
    }
    assert!(switches > 100, "{switches} sched_switch records");
}

/// The lab v7 file and the offset of its BUFFER option's per-CPU entries (u32 cpu, u64
/// offset, u64 size each) and page size.
fn lab_v7_buffer_entries() -> (Vec<u8>, usize, usize) {
    let v7 = std::fs::read(corpus("lab/s1_spin_sleep").join("trace.dat")).expect("read");
    // The sections follow one another from the first options section, named after the
    // header's compression name and version.
    let mut at = 18;
    for _ in 0..2 {
        at += v7[at..].iter().position(|&b| b == 0).unwrap() + 1;
    }
    let mut options = None;
    let mut section = u64_at(&v7, at) as usize;
    while section + 16 <= v7.len() {
        let body = section + 16;
        if u16::from_le_bytes([v7[section], v7[section + 1]]) == 0 {
            options = options.or(v7_options(&v7, body).into_iter().find(|o| o.0 == 3));
        }
        section = body + u64_at(&v7, section + 8) as usize;
    }
    let options = options.expect("a BUFFER option");
    let mut p = options.1 + 8;
    for _ in 0..2 {
        p += v7[p..].iter().position(|&b| b == 0).unwrap() + 1;
    }
    (v7, p + 8, p)
}

#[test]
fn hostile_buffer_cpu_ids_and_aliased_streams_are_bounded_and_warned() {
    let (original, entries, _) = lab_v7_buffer_entries();
    let whole = import_bytes(original.clone()).expect("the lab file");
    let mut v7 = original;
    for (i, id) in [0x7fff_ffffu32, 9000, 2, 3].into_iter().enumerate() {
        v7[entries + 20 * i..][..4].copy_from_slice(&id.to_le_bytes());
    }
    // CPU 3's stream points at CPU 2's bytes.
    let cpu2_offset: [u8; 8] = v7[entries + 40 + 4..][..8].try_into().unwrap();
    v7[entries + 60 + 4..][..8].copy_from_slice(&cpu2_offset);
    let store = import_bytes(v7).expect("imports");
    let ids: Vec<u32> = (0..store.cpu_count()).map(|l| store.cpu_id(l)).collect();
    assert_eq!(ids, [2, 9000, 0x7fff_ffff]);
    assert_eq!(
        store.len(),
        whole.len() - whole.cpu_events(3).len(),
        "CPU 3's own stream is not read; CPU 2's once"
    );
    assert_eq!(store.cpu_events(0).len(), whole.cpu_events(2).len());
    let kinds: Vec<&String> = store.report.warnings.keys().collect();
    assert!(
        kinds.iter().any(|k| k.contains("overlaps cpu 2")),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|k| k.contains("numbered densely")),
        "{kinds:?}"
    );
}

#[test]
fn a_page_size_header_page_contradicts_is_read_as_header_page_says_with_a_warning() {
    let (original, _, page_size_at) = lab_v7_buffer_entries();
    let whole = import_bytes(original.clone()).expect("the lab file");
    let mut v7 = original;
    v7[page_size_at..][..4].copy_from_slice(&(1u32 << 20).to_le_bytes());
    let store = import_bytes(v7).expect("imports");
    assert_eq!(store.len(), whole.len());
    assert!(
        store
            .report
            .warnings
            .keys()
            .any(|k| k.contains("page size 1048576 but header_page describes pages of 4096")),
        "{:?}",
        store.report.warnings
    );
}
