//! Issue 18: the trace tables. DuckDB reads a `kctx export` dataset of two lab recordings and a
//! console log, and its counts and sums agree with `kctx check`, `kctx locks` and `kctx
//! splats`; no Parquet column is unsigned or a timestamp; trace.txt and trace.dat of one
//! recording give the same tables; bad queries and unwritable directories fail cleanly.

use corpus_tests::{corpus, kctx_json};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Python with the `duckdb` package that the DuckDB test runs (`.ci/run` makes it).
const DUCKDB_PYTHON: &str = "KCTX_DUCKDB_PYTHON";

fn kctx(args: &[&str]) -> Output {
    corpus_tests::kctx().args(args).output().expect("run kctx")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kctx-tables-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// The Python to run DuckDB with: `KCTX_DUCKDB_PYTHON`, else the virtual environment
/// `scripts/duckdb-venv` makes (`.ci/run` runs it). The test installs nothing itself: without
/// DuckDB it fails, saying how to get it.
fn duckdb_python() -> PathBuf {
    let python = std::env::var_os(DUCKDB_PYTHON).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/duckdb-venv/bin/python"),
        PathBuf::from,
    );
    let import = Command::new(&python).args(["-c", "import duckdb"]).output();
    assert!(
        import.as_ref().is_ok_and(|o| o.status.success()),
        "no DuckDB: {} cannot import duckdb ({}). Make its virtual environment with \
         `scripts/duckdb-venv` (it needs python3-venv: scripts/install-deps), or set \
         {DUCKDB_PYTHON} to a python that has the duckdb package; .ci/run does the first.",
        python.display(),
        match &import {
            Ok(o) => text(&o.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        }
    );
    python
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// Runs `kctx export --format parquet --out OUT INPUTS...`, which must succeed.
fn export(out: &Path, inputs: &[&PathBuf]) {
    let mut args = vec!["export".to_owned(), "--format".into(), "parquet".into()];
    args.extend(["--out".to_owned(), path_str(out)]);
    args.extend(inputs.iter().map(|p| path_str(p)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let export = kctx(&args);
    assert!(
        export.status.success(),
        "kctx export: {}",
        text(&export.stderr)
    );
}

/// What DuckDB reads of the dataset in `out` (tests/duckdb_check.py).
fn duckdb_read(out: &Path) -> Value {
    let python = duckdb_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("duckdb_check.py");
    let run = Command::new(&python)
        .arg(&script)
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("run {} {}: {e}", python.display(), script.display()));
    assert!(
        run.status.success(),
        "duckdb_check.py: {}",
        text(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("duckdb_check.py JSON")
}

/// Checks that DuckDB's reading of each trace's tables agrees with `kctx stats` (events),
/// `kctx check` (findings per kind) and `kctx locks` (holds and time held per class);
/// returns the findings and holds compared.
fn assert_duckdb_agrees(duck: &Value, traces: &[PathBuf]) -> (u64, u64) {
    let mut total_findings = 0;
    let mut total_holds = 0;
    for trace in traces {
        let name = path_str(trace);
        let (_, stats) = kctx_json(&["stats", "--format", "json"], trace);
        assert_eq!(duck["events"][&name], stats["events"], "{name}: events");

        // Findings per kind, as `kctx check --format json` reports them.
        let (_, check) = kctx_json(&["check", "--format", "json"], trace);
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for f in check["findings"].as_array().expect("findings") {
            *want
                .entry(f["kind"].as_str().expect("kind").to_owned())
                .or_default() += 1;
        }
        let got: BTreeMap<String, u64> = duck["findings"][&name]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(got, want, "{name}: findings per kind, DuckDB vs kctx check");
        total_findings += want.values().sum::<u64>();

        // Holds per class and time held, as `kctx locks --format json` reports them.
        let (_, locks) = kctx_json(&["locks", "--format", "json"], trace);
        let mut want_total = 0u64;
        let classes = locks["classes"].as_array().expect("classes");
        for c in classes {
            let class = c["class"].as_str().expect("class");
            let got = &duck["holds"][&name][class];
            let acquisitions = c["acquisitions"].as_u64().unwrap();
            let held = c["held_total_ns"].as_u64().unwrap();
            assert_eq!(
                got[0].as_u64(),
                Some(acquisitions),
                "{name}: holds of {class}"
            );
            assert_eq!(got[1].as_u64(), Some(held), "{name}: time {class} was held");
            want_total += held;
            total_holds += acquisitions;
        }
        let duck_classes = duck["holds"][&name].as_object().map_or(0, |m| m.len());
        assert_eq!(duck_classes, classes.len(), "{name}: lock classes");
        assert_eq!(
            duck["total_hold_ns"][&name].as_u64().unwrap_or(0),
            want_total,
            "{name}: total hold time"
        );
    }
    (total_findings, total_holds)
}

#[test]
fn duckdb_reads_the_export_and_agrees_with_check_and_locks() {
    // A lockdep kernel's recording (lock:* events, an AB-BA cycle) and a stock kernel's
    // (kprobe locks named by address, sleep-in-atomic), plus a console log.
    let traces = [
        corpus("lab/lockdep-s3_abba_mutex/trace.dat"),
        corpus("lab/s1_spin_sleep/trace.dat"),
    ];
    let console = corpus("lab/lockdep-s1_spin_sleep/console.log");
    let out = scratch("duckdb");
    export(&out, &[&traces[0], &traces[1], &console]);
    let duck = duckdb_read(&out);
    let (total_findings, total_holds) = assert_duckdb_agrees(&duck, &traces);
    // The recordings hold what the comparison is about.
    assert!(total_findings >= 2, "{total_findings} findings");
    assert!(total_holds > 100, "{total_holds} holds");

    // The console log's splats, as `kctx splats` counts them.
    let (_, splats) = kctx_json(&["splats", "--format", "json"], &console);
    let want = splats["splats"].as_array().expect("splats").len() as u64;
    assert!(want > 0);
    assert_eq!(duck["splats"][path_str(&console)].as_u64(), Some(want));

    // No unsigned integer and no timestamp anywhere: Spark reads neither by default.
    let schema = duck["schema"].as_array().expect("schema");
    assert!(schema.len() > 100, "{} columns described", schema.len());
    for row in schema {
        // [file, column, physical type, converted type, logical type]: the types only.
        let types = &row.as_array().expect("schema row")[2..];
        let described = serde_json::to_string(types).unwrap().to_ascii_uppercase();
        for banned in [
            "UINT",
            "UNSIGNED",
            "TIMESTAMP",
            "\"ISSIGNED\":FALSE",
            "ISSIGNED=FALSE",
        ] {
            assert!(!described.contains(banned), "Parquet column {row}");
        }
    }
    for (table, cols) in duck["read_types"].as_object().expect("read_types") {
        for col in cols.as_array().unwrap() {
            let ty = col[1].as_str().unwrap();
            assert!(
                matches!(ty, "BIGINT" | "INTEGER" | "BOOLEAN" | "VARCHAR"),
                "{table}.{}: DuckDB reads it as {ty}",
                col[0]
            );
        }
    }
    std::fs::remove_dir_all(&out).expect("remove scratch");
}

/// The tables a trace has, but `traces` (its path and format differ by construction).
const TRACE_TABLES: [&str; 9] = [
    "events",
    "cpu_intervals",
    "task_states",
    "lock_holds",
    "lock_deps",
    "sleep_calls",
    "findings",
    "evidence",
    "latency_sections",
];

type Row = serde_json::Map<String, Value>;

/// A row with its times in whole microseconds (ftrace text prints times rounded to the
/// microsecond, trace.dat holds nanoseconds) and its symbols by their first name.
fn comparable(row: &Value, aliases: &BTreeMap<String, String>) -> Row {
    let object = row.as_object().expect("row object");
    object
        .iter()
        .map(|(k, v)| match v {
            Value::Number(n) if k.ends_with("_ns") => {
                let ns = n.as_i64().expect("signed 64-bit times");
                (k.clone(), Value::from((ns + 500).div_euclid(1000)))
            }
            Value::String(s) => (k.clone(), Value::from(unaliased(s, aliases))),
            _ => (k.clone(), v.clone()),
        })
        .collect()
}

/// Where a row sorts: by its columns other than times, then its latest time. Not by every
/// time: a duration between two rounded times may be a microsecond off, which would reorder
/// rows that differ only there.
fn sort_key(row: &Row) -> (String, i64, String) {
    let untimed: Row = row
        .iter()
        .filter(|(k, _)| !k.ends_with("_ns"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let latest = row
        .iter()
        .filter(|(k, _)| k.ends_with("_ns"))
        .filter_map(|(_, v)| v.as_i64())
        .max()
        .unwrap_or(0);
    let whole = serde_json::to_string(row).unwrap();
    (serde_json::to_string(&untimed).unwrap(), latest, whole)
}

/// Every table of one input (symbols from `kallsyms`, as both formats of a recording are
/// given the same), rows made comparable and sorted, without the `trace` column. Without
/// `events.details` too: it is each format's own rendering of the payload (trace.txt the
/// kernel's print format, trace.dat the raw fields); the typed columns are compared.
fn all_tables(
    input: &Path,
    kallsyms: Option<&Path>,
    aliases: &BTreeMap<String, String>,
) -> BTreeMap<&'static str, Vec<Row>> {
    TRACE_TABLES
        .iter()
        .map(|&t| {
            let excluded = if t == "events" {
                "trace, details"
            } else {
                "trace"
            };
            let sql = format!("SELECT * EXCLUDE ({excluded}) FROM {t}");
            let mut args = vec!["query".to_owned(), "--format".into(), "json".into()];
            if let Some(k) = kallsyms {
                args.extend(["--kallsyms".to_owned(), path_str(k)]);
            }
            args.extend([sql, path_str(input)]);
            let out = kctx(&args.iter().map(String::as_str).collect::<Vec<_>>());
            assert!(
                out.status.success(),
                "{t} of {}: {}",
                input.display(),
                text(&out.stderr)
            );
            let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
            let mut rows: Vec<_> = rows
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| comparable(r, aliases))
                .collect();
            rows.sort_by_cached_key(sort_key);
            (t, rows)
        })
        .collect()
}

/// Names that share an address, each mapped to the first: trace-cmd and kctx's trace.dat
/// reader may pick different names for one address (`__schedule` and `__sched_text_start`).
/// From the symbols the trace.dat carries and the recording's kallsyms sidecar.
fn aliases(dat: &Path, kallsyms: Option<&Path>) -> BTreeMap<String, String> {
    let store = importers::open(dat).unwrap_or_else(|e| panic!("{e}"));
    let mut symbols: Vec<(u64, String)> = store
        .symbols
        .symbols()
        .iter()
        .map(|s| (s.addr, store.str(s.name).to_owned()))
        .collect();
    if let Some(path) = kallsyms {
        let text = std::fs::read_to_string(path).expect("kallsyms");
        symbols.extend(text.lines().filter_map(|line| {
            let mut fields = line.split_whitespace();
            let addr = u64::from_str_radix(fields.next()?, 16).ok()?;
            Some((addr, fields.nth(1)?.to_owned()))
        }));
    }
    let mut first_at: BTreeMap<u64, String> = BTreeMap::new();
    let mut alias = BTreeMap::new();
    for (addr, name) in symbols {
        let first = first_at.entry(addr).or_insert_with(|| name.clone());
        if *first != name {
            alias.insert(name, first.clone());
        }
    }
    alias
}

/// `text` with every symbol that has aliases spelled by its first name.
fn unaliased(text: &str, aliases: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            word.push(c);
            continue;
        }
        out.push_str(aliases.get(&word).unwrap_or(&word));
        word.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Equal, but for times and durations up to a microsecond apart (a duration between two
/// rounded times is off by at most one).
fn same_row(a: &Row, b: &Row) -> bool {
    a.len() == b.len()
        && a.iter().all(
            |(k, va)| match (va.as_i64(), b.get(k).and_then(Value::as_i64)) {
                (Some(x), Some(y)) if k.ends_with("_ns") => (x - y).abs() <= 1,
                _ => b.get(k) == Some(va),
            },
        )
}

/// Every lab recording with both a trace.dat and its trace-cmd report (trace.txt, maybe
/// gzipped), with that report and the recording's kallsyms sidecar if it has one.
fn lab_recordings_with_text() -> Vec<(PathBuf, PathBuf, Option<PathBuf>)> {
    let mut found: Vec<_> = std::fs::read_dir(corpus("lab"))
        .expect("lab corpus")
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let txt = ["trace.txt", "trace.txt.gz"]
                .iter()
                .map(|f| dir.join(f))
                .find(|p| p.exists())?;
            let kallsyms = std::fs::read_dir(&dir)
                .ok()?
                .filter_map(|e| Some(e.ok()?.path()))
                .find(|p| p.extension().is_some_and(|e| e == "kallsyms"));
            dir.join("trace.dat")
                .exists()
                .then_some((dir, txt, kallsyms))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn trace_txt_and_trace_dat_give_the_same_tables() {
    let recordings = lab_recordings_with_text();
    assert!(recordings.len() >= 8, "{recordings:?}");
    for (dir, txt, kallsyms) in recordings {
        let folder = dir.display();
        let kallsyms = kallsyms.as_deref();
        let aliases = aliases(&dir.join("trace.dat"), kallsyms);
        let from_txt = all_tables(&txt, kallsyms, &aliases);
        let from_dat = all_tables(&dir.join("trace.dat"), kallsyms, &aliases);
        for (table, rows) in &from_txt {
            let dat = &from_dat[table];
            assert_eq!(
                rows.len(),
                dat.len(),
                "{folder} {table}: rows in trace.txt / trace.dat"
            );
            if let Some((a, b)) = rows.iter().zip(dat).find(|(a, b)| !same_row(a, b)) {
                panic!("{folder} {table}: trace.txt and trace.dat differ:\n{a:?}\n{b:?}");
            }
        }
        let (_, stats) = kctx_json(&["stats", "--format", "json"], &dir.join("trace.dat"));
        assert_eq!(
            Some(from_txt["events"].len() as u64),
            stats["events"].as_u64(),
            "{folder}: events, as kctx stats counts them"
        );
        assert!(
            !from_txt["cpu_intervals"].is_empty(),
            "{folder}: cpu_intervals"
        );
    }
}

#[test]
fn bad_queries_exit_2_naming_the_tables() {
    let trace = path_str(&corpus("lab/s5_clean/trace.dat"));
    for (sql, says) in [
        ("SELECT * FROM no_such_table", "no_such_table"),
        ("SELECT no_such_column FROM events", "no_such_column"),
        ("SELEKT 1", "SELEKT"),
    ] {
        let out = kctx(&["query", sql, &trace]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{sql}: {err}");
        assert!(err.contains(says), "{sql}: {err}");
        assert!(
            err.contains("lock_holds(class string"),
            "{sql}: the tables are listed: {err}"
        );
        assert!(
            out.stdout.is_empty(),
            "{sql}: printed {}",
            text(&out.stdout)
        );
    }
}

#[test]
fn export_to_an_unwritable_directory_exits_2_and_writes_nothing() {
    let trace = path_str(&corpus("lab/s5_clean/trace.dat"));
    let base = scratch("unwritable");
    // A file where a directory should be: no permission trick, so it fails as root too.
    let blocker = base.join("file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let out_dir = blocker.join("dataset");
    let out = kctx(&["export", "--out", &path_str(&out_dir), &trace]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("output directory"),
        "{}",
        text(&out.stderr)
    );
    let left: Vec<_> = std::fs::read_dir(&base).unwrap().collect();
    assert_eq!(left.len(), 1, "only the blocking file remains: {left:?}");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn a_query_over_two_traces_keeps_them_apart() {
    let a = corpus("lab/s1_spin_sleep/trace.dat");
    let b = corpus("lab/s3_abba_mutex/trace.dat");
    let sql = "SELECT t.path, count(*) AS events FROM events e JOIN traces t ON e.trace = t.trace \
               GROUP BY t.path ORDER BY t.path";
    let out = kctx(&[
        "query",
        "--format",
        "json",
        sql,
        &path_str(&a),
        &path_str(&b),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 2);
    for (row, path) in rows.iter().zip([&a, &b]) {
        let (_, stats) = kctx_json(&["stats", "--format", "json"], path);
        assert_eq!(row["path"].as_str(), Some(path_str(path).as_str()));
        assert_eq!(row["events"], stats["events"], "{}", path.display());
    }
}

#[test]
fn whole_kernel_recordings_export_and_query() {
    let traces = [
        corpus("wholekernel/wk-debian-a/trace.dat"),
        corpus("wholekernel/wk-lockdep-a/trace.dat"),
    ];
    let out = scratch("wholekernel");
    export(&out, &[&traces[0], &traces[1]]);
    let duck = duckdb_read(&out);
    let (_, holds) = assert_duckdb_agrees(&duck, &traces);
    assert!(holds > 10_000, "{holds} holds");
    std::fs::remove_dir_all(&out).expect("remove scratch");

    // The same counts through `kctx query`, one trace at a time.
    let count = |table: &str, trace: &Path| {
        let sql = format!("SELECT count(*) AS n FROM {table}");
        let out = kctx(&["query", "--format", "json", &sql, &path_str(trace)]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let rows: Value = serde_json::from_slice(&out.stdout).expect("JSON rows");
        rows[0]["n"].as_u64().expect("a count")
    };
    for trace in &traces {
        let name = path_str(trace);
        assert_eq!(
            Some(count("events", trace)),
            duck["events"][&name].as_u64(),
            "{name}: events"
        );
        let duck_holds: u64 = duck["holds"][&name]
            .as_object()
            .map_or(0, |m| m.values().map(|v| v[0].as_u64().unwrap()).sum());
        assert_eq!(count("lock_holds", trace), duck_holds, "{name}: holds");
    }
}
