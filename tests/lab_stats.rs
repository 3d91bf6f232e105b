//! Issue 3: `kctx stats` event counts per lab recording equal truth.json's, for all three text
//! renderings of the same buffer (tracefs `trace`, the latency format, `trace-cmd report`),
//! with every line accounted for.

use corpus_tests::{corpus, lab_scenarios};
use kctx::cli::stats::Stats;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The text renderings of one lab folder (plain or gzip'd, whichever the folder holds).
fn text_files(folder: &str) -> Vec<PathBuf> {
    let dir = corpus(folder);
    let pick = |names: &[&str]| {
        names
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{folder}: none of {names:?}"))
    };
    vec![
        pick(&["trace.txt", "trace.txt.gz"]),
        pick(&["trace-latency.txt.gz"]),
        pick(&["report.txt", "report.txt.gz"]),
    ]
}

fn stats(path: &Path) -> Stats {
    let store = importers::open(path).unwrap_or_else(|e| panic!("{e}"));
    Stats::of(path, &store)
}

#[test]
fn every_rendering_of_every_lab_trace_has_truths_event_counts() {
    let scenarios = lab_scenarios();
    assert!(
        scenarios.len() >= 8,
        "truth.json lists {} folders",
        scenarios.len()
    );
    for (name, truth) in scenarios {
        let folder = truth["folder"].as_str().expect("folder");
        let want: BTreeMap<String, u64> = truth["event_counts_by_name"]
            .as_object()
            .expect("event_counts_by_name")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
            .collect();
        let want_total = truth["event_count"].as_u64().expect("event_count");
        for file in text_files(folder) {
            let s = stats(&file);
            let shown = file.display();
            assert_eq!(s.by_name, want, "{name}: {shown}");
            assert_eq!(s.events, want_total, "{name}: {shown}");
            assert_eq!(
                s.unparsed_lines.total, 0,
                "{shown}: {:?}",
                s.unparsed_lines.by_reason
            );
            assert_eq!(s.cpus, 4, "{shown}: the guests had 4 vCPUs");
            assert_eq!(
                s.lost_events.records, 0,
                "{shown}: the recordings had no overruns"
            );
        }
    }
}

#[test]
fn lab_latency_files_state_the_kernel_and_relative_time() {
    for (name, truth) in lab_scenarios() {
        let folder = truth["folder"].as_str().expect("folder");
        let path = corpus(&format!("{folder}/trace-latency.txt.gz"));
        let store = importers::open(&path).unwrap_or_else(|e| panic!("{e}"));
        // uname.txt: `Linux ... <release> ...`; the latency header says `... on <release>`.
        let uname = std::fs::read_to_string(corpus(&format!("{folder}/uname.txt"))).unwrap();
        let release = store.meta.kernel_version.as_deref().expect(&name);
        assert!(uname.contains(release), "{name}: {release} not in {uname}");
        assert!(store.meta.relative_time, "{name}");
    }
}

#[test]
fn the_kctx_binary_prints_the_same_counts_as_json() {
    let Some(bin) = option_env!("CARGO_BIN_EXE_kctx")
        .map(PathBuf::from)
        .or_else(|| {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/kctx");
            p.exists().then_some(p)
        })
    else {
        eprintln!("kctx binary not built; `cargo build -p kctx` to include this check");
        return;
    };
    let (_, truth) = lab_scenarios()
        .into_iter()
        .find(|(k, _)| k == "s5_clean")
        .expect("s5_clean in truth.json");
    let path = corpus("lab/s5_clean/trace.txt");
    let out = std::process::Command::new(bin)
        .args(["stats", "--format", "json"])
        .arg(&path)
        .output()
        .expect("run kctx");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["by_name"], truth["event_counts_by_name"]);
    assert_eq!(json["events"], truth["event_count"]);
    assert_eq!(json["unparsed_lines"]["total"], 0);
}
