//! Hostile inputs built by each test, read by the `kctx` binary under a memory limit
//! (`ulimit -v`): a clear answer, never an abort, a hang or memory sized by a header.

#[path = "../../importers/tests/support/tracedat_writer.rs"]
mod tracedat_writer;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Virtual memory `kctx stats` gets: a fixed few hundred MB, far below what the headers
/// of these inputs claim.
const LIMIT_KB: u64 = 1 << 20;

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kctx-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `kctx stats --format json FILE` under the memory limit.
fn stats(path: &PathBuf) -> Output {
    let script = format!("ulimit -v {LIMIT_KB}; exec \"$0\" stats --format json \"$1\"",);
    Command::new("sh")
        .args(["-c", &script, env!("CARGO_BIN_EXE_kctx")])
        .arg(path)
        .output()
        .expect("run kctx")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stats JSON")
}

const EVENTS: &str = "\
          <idle>-0     [000] d..2.   100.000001: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=sh next_pid=7 next_prio=120
              sh-7     [001] d..2.   100.000002: sched_switch: prev_comm=sh prev_pid=7 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120
";

#[test]
fn a_stated_cpu_count_of_two_billion_is_a_warning_not_an_allocation() {
    for header in [
        "cpus=2147483647\n",
        "# tracer: nop\n#    entries-in-buffer/entries-written: 2/2   #P:4294967295\n",
        "# tracer: nop\n#    entries-in-buffer/entries-written: 2/2   #P:2147483648\n",
    ] {
        let path = temp("cpus.txt", format!("{header}{EVENTS}").as_bytes());
        let s = json(&stats(&path));
        assert_eq!(s["events"], 2, "{header}");
        assert_eq!(s["cpus"], 8192, "{header}");
        let warnings = s["warnings"].as_object().expect("warnings");
        let (kind, w) = warnings.iter().next().expect("a warning");
        assert!(kind.contains("CPU count above 8192"), "{kind}");
        assert!(w["first"][0]["line"].as_u64().is_some(), "{w}");
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzip_bomb_is_an_error_within_the_memory_limit() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..2048 {
        e.write_all(&zeros).unwrap();
    }
    let path = temp("bomb.gz", &e.finish().unwrap());
    let out = stats(&path);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bomb.gz") && err.contains("gzip bomb"),
        "{err}"
    );
}

#[test]
fn a_cut_gzip_keeps_what_inflated_and_trailing_zeros_are_a_warning() {
    let mut text = String::from("cpus=2\n");
    for i in 0..3000 {
        let line = EVENTS.lines().nth(i % 2).unwrap();
        text.push_str(&line.replace("100.00000", &format!("{}.00000", 100 + i)));
        text.push('\n');
    }
    let gz = gzip(text.as_bytes());
    let cut = temp("cut.txt.gz", &gz[..gz.len() * 3 / 4]);
    let s = json(&stats(&cut));
    let events = s["events"].as_u64().unwrap();
    assert!(events > 0 && events < 3000, "{events}");
    let warnings = s["warnings"].as_object().unwrap();
    assert!(
        warnings.keys().any(|k| k.contains("cut short")),
        "{warnings:?}"
    );

    let mut padded = gz.clone();
    padded.extend([0u8; 512]);
    let s = json(&stats(&temp("padded.txt.gz", &padded)));
    assert_eq!(s["events"], 3000);
    let warnings = s["warnings"].as_object().unwrap();
    let (kind, w) = warnings.iter().next().expect("trailing bytes warned");
    assert!(kind.starts_with("512 bytes after the gzip data"), "{kind}");
    assert_eq!(w["first"][0]["byte"], gz.len() as u64);
}

#[test]
fn a_large_file_of_zeros_is_not_read_whole_to_say_it_is_no_trace() {
    let path = temp("zeros", &vec![0u8; 80 << 20]);
    let out = stats(&path);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no trace events"));
}

#[test]
fn text_stats_say_when_lost_counts_are_unknown() {
    let text = format!(
        "{}CPU:1 [LOST EVENTS]\n{}",
        EVENTS.lines().next().unwrap().to_owned() + "\n",
        EVENTS.lines().nth(1).unwrap()
    );
    let path = temp("lost.txt", text.as_bytes());
    let s = json(&stats(&path));
    assert_eq!(s["lost_events"]["text"], "an unknown number in 1 gaps");
}

fn zstd(page: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(page, 1).unwrap()
}

/// A small v7 trace.dat (2 CPUs, 40 events each, zstd) whose BUFFER option lists `listed`
/// (CPU id, stream).
fn tracedat(listed: Vec<(u32, usize)>) -> Vec<u8> {
    let mut spec = tracedat_writer::Spec::new(7, 2, 40);
    spec.compress = Some(("zstd", zstd));
    spec.listed = Some(listed);
    tracedat_writer::build(&spec).bytes
}

#[test]
fn a_buffer_cpu_id_of_two_billion_and_four_thousand_cpus_stay_within_the_memory_limit() {
    let s = json(&stats(&temp(
        "id.dat",
        &tracedat(vec![(0x7fff_ffff, 0), (1, 1)]),
    )));
    assert_eq!(
        (s["events"].as_u64(), s["cpus"].as_u64()),
        (Some(80), Some(2))
    );
    let path = temp(
        "4096.dat",
        &tracedat((0..4096).map(|cpu| (cpu, 0)).collect()),
    );
    let s = json(&stats(&path));
    assert_eq!(s["events"], 40, "CPU 0's stream read once");
    let warnings = s["warnings"].as_object().unwrap();
    assert!(
        warnings.keys().any(|k| k.contains("overlaps cpu 0's")),
        "{warnings:?}"
    );
}

#[test]
fn a_v7_trace_dat_cut_in_its_data_keeps_what_it_holds_and_says_where() {
    let spec = {
        let mut spec = tracedat_writer::Spec::new(7, 2, 40);
        spec.compress = Some(("zstd", zstd));
        spec
    };
    let built = tracedat_writer::build(&spec);
    // Cut after CPU 0's stream: CPU 1's is lost whole.
    let (at, size) = built.streams[0];
    let s = json(&stats(&temp("cut.dat", &built.bytes[..at + size])));
    assert_eq!(s["events"], 40);
    let warnings = s["warnings"].as_object().unwrap();
    let chain = (warnings.iter())
        .find(|(k, _)| k.contains("the options chain is cut"))
        .expect("the cut is warned");
    assert_eq!(chain.1["first"][0]["byte"], (at + size) as u64);
    assert!(
        warnings
            .keys()
            .any(|k| k.contains("1 CPU streams found in it by content")),
        "{warnings:?}"
    );
}
