//! `kctx check` on the lab recordings of both kernels finds every planted bug with
//! its kind, one of its functions or locks, inside its time window, reports nothing definite
//! or probable on the clean scenario, and keeps its contract with CI: exit codes, JSON and
//! SARIF shapes, allowlist hiding.

use analysis::Report;
use clap::Parser;
use corpus_tests::{corpus, lab_scenarios};
use kctx::Cli;
use kctx::cli::Command;
use kctx::cli::check::{self, ReportFormat};
use serde_json::Value;
use std::path::{Path, PathBuf};
use trace_model::{Confidence, FindingKind, seconds};

/// Slack around truth.json's windows: the trace shows a call a little before the function
/// entry the module logged.
const SLACK_S: f64 = 0.005;

/// The lab renderings checked against truth.json's windows: tracefs text with the flags
/// column and the trace-cmd file. (The latency format's times are relative; `trace-cmd
/// report` text has no flags column and no function parents.)
const RENDERINGS: [&str; 2] = ["trace.txt", "trace.dat"];

/// A rendering of a lab folder, plain or gzip'd.
fn rendering(folder: &str, name: &str) -> PathBuf {
    let plain = corpus(&format!("lab/{folder}/{name}"));
    if plain.exists() {
        plain
    } else {
        corpus(&format!("lab/{folder}/{name}.gz"))
    }
}

fn args(extra: &[&str]) -> check::CheckArgs {
    let argv = ["kctx", "check"].iter().chain(extra);
    match Cli::try_parse_from(argv)
        .expect("valid command line")
        .command
    {
        Some(Command::Check(a)) => a,
        other => panic!("parsed as {other:?}"),
    }
}

/// `kctx check --kallsyms <folder>/ctxlab.kallsyms <input>` as a report.
fn check_lab(folder: &str, input: &Path, extra: &[&str]) -> Report {
    let kallsyms = corpus(&format!("lab/{folder}/ctxlab.kallsyms"));
    let mut argv = vec![
        "--kallsyms",
        kallsyms.to_str().unwrap(),
        input.to_str().unwrap(),
    ];
    argv.extend(extra);
    check::check(&args(&argv), None).expect("check runs")
}

fn kind_of(truth_kind: &str) -> FindingKind {
    match truth_kind {
        "sleep-in-atomic" => FindingKind::SleepInAtomic,
        "lock-order-cycle" => FindingKind::LockOrderCycle,
        "irq-inversion" => FindingKind::IrqInversion,
        k => panic!("unknown kind {k}"),
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn every_planted_bug_is_found_in_its_window_on_both_kernels() {
    let mut checked = 0;
    for (folder, scenario) in lab_scenarios() {
        for name in RENDERINGS {
            let input = rendering(&folder, name);
            let report = check_lab(&folder, &input, &[]);
            assert!(report.inputs.iter().all(|i| i.error.is_none()), "{input:?}");
            for bug in scenario["bugs"].as_array().unwrap() {
                let kind = kind_of(bug["kind"].as_str().unwrap());
                let names = [strings(&bug["functions"]), strings(&bug["locks"])].concat();
                let window = &bug["time_window"];
                let (lo, hi) = (
                    window[0].as_f64().unwrap() - SLACK_S,
                    window[1].as_f64().unwrap() + SLACK_S,
                );
                let hit = report.findings.iter().map(|r| &r.finding).find(|f| {
                    f.kind == kind
                        && f.functions
                            .iter()
                            .chain(&f.locks)
                            .any(|n| names.contains(&n.as_str()))
                        && lo <= seconds(f.ts[0])
                        && seconds(f.ts[1]) <= hi
                });
                let Some(f) = hit else {
                    panic!(
                        "{folder} {name}: planted {} ({kind:?}, {names:?}, {lo}..{hi}) not found in {:#?}",
                        bug["id"], report.findings
                    );
                };
                if f.confidence == Confidence::Unverifiable {
                    assert!(
                        f.summary.contains("record") || f.summary.contains("trace"),
                        "{folder}: an unverifiable finding says what to record: {}",
                        f.summary
                    );
                } else {
                    assert_eq!(
                        report.exit_code, 1,
                        "{folder} {name}: violation fails the gate"
                    );
                }
                if kind != FindingKind::SleepInAtomic {
                    // Lock events prove lock orders and the irq state at each acquire.
                    assert_eq!(f.confidence, Confidence::Definite, "{folder}: {f:#?}");
                    assert!(f.evidence.len() >= 2, "both witnesses: {f:#?}");
                }
                checked += 1;
            }
        }
    }
    // 6 bugs per kernel (s1: 4, s3: 1, s4: 1), two kernels.
    assert_eq!(checked, 12 * RENDERINGS.len());
}

#[test]
fn clean_scenario_has_nothing_definite_or_probable_on_both_kernels() {
    let clean: Vec<_> = lab_scenarios()
        .into_iter()
        .filter(|(_, s)| s["scenario"] == "s5_clean")
        .collect();
    assert_eq!(clean.len(), 2, "a clean recording per kernel");
    for (folder, _) in clean {
        for name in RENDERINGS {
            let report = check_lab(&folder, &rendering(&folder, name), &[]);
            for rf in &report.findings {
                let f = &rf.finding;
                assert_eq!(
                    f.confidence,
                    Confidence::Unverifiable,
                    "{folder} {name}: false positive {f:#?}"
                );
                assert!(f.summary.contains("record"), "says why: {}", f.summary);
            }
            assert_eq!(report.exit_code, 0, "{folder} {name}");
        }
    }
}

/// A fresh path in the temp dir for this test.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("kctx-check-{}-{name}", std::process::id()))
}

/// Runs `kctx check` through the CLI entry point, the report written to a file.
fn run_cli(extra: &[&str], report_name: &str) -> (u8, String) {
    let out = temp_path(report_name);
    let mut argv = vec!["kctx", "check", "--out", out.to_str().unwrap()];
    argv.extend(extra);
    let code = kctx::run(Cli::try_parse_from(argv).unwrap()).expect("runs");
    let text = std::fs::read_to_string(&out).expect("report written");
    let _ = std::fs::remove_file(&out);
    (code, text)
}

#[test]
fn exit_status_is_0_clean_1_violation_2_unreadable() {
    let clean = rendering("s5_clean", "trace.txt");
    let abba = rendering("s3_abba_mutex", "trace.txt");
    let kallsyms = corpus("lab/s5_clean/ctxlab.kallsyms");
    let k = kallsyms.to_str().unwrap();
    assert_eq!(
        run_cli(&["--kallsyms", k, clean.to_str().unwrap()], "clean").0,
        0
    );
    assert_eq!(run_cli(&[abba.to_str().unwrap()], "abba").0, 1);

    // A console log is not a trace; a missing file cannot be read. Either makes the gate 2,
    // even next to a violation, and the report names the file.
    let console = corpus("lab/s3_abba_mutex/console.log");
    let missing = temp_path("does-not-exist.dat");
    for bad in [&console, &missing] {
        let (code, text) = run_cli(
            &[
                "--format",
                "json",
                abba.to_str().unwrap(),
                bad.to_str().unwrap(),
            ],
            "bad",
        );
        assert_eq!(code, 2, "{bad:?}");
        let json: Value = serde_json::from_str(&text).unwrap();
        let input = &json["inputs"][1];
        assert!(
            input["error"]
                .as_str()
                .unwrap()
                .contains(bad.to_str().unwrap())
        );
        assert_eq!(
            json["findings"].as_array().unwrap().len(),
            1,
            "the readable input is still checked"
        );
    }
}

#[test]
fn json_report_has_the_documented_shape() {
    let input = rendering("lockdep-s4_softirq_inversion", "trace.txt");
    let (code, text) = run_cli(&["--format", "json", input.to_str().unwrap()], "json");
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["inputs"][0]["path"], input.to_str().unwrap());
    let coverage = &json["coverage"][input.to_str().unwrap()];
    assert_eq!(coverage["lock_source"], "lockdep");
    let findings = json["findings"].as_array().unwrap();
    let f = findings
        .iter()
        .find(|f| f["kind"] == "irq-inversion")
        .expect("the softirq inversion");
    for key in [
        "id",
        "kind",
        "confidence",
        "cpu",
        "task",
        "pid",
        "ts",
        "functions",
        "locks",
        "summary",
        "evidence",
        "count",
    ] {
        assert!(f.get(key).is_some(), "finding key {key}: {f}");
    }
    assert_eq!(f["id"], "irq-inversion:softirq>lab_sirq_lock");
    assert_eq!(f["confidence"], "definite");
    assert_eq!((f["cpu"].as_u64(), f["pid"].as_i64()), (Some(1), Some(175)));
    let ts = f["ts"].as_array().unwrap();
    assert_eq!(ts.len(), 2);
    assert!(ts[0].as_f64().unwrap() <= ts[1].as_f64().unwrap());
    assert_eq!(strings(&f["locks"]), ["lab_sirq_lock"]);
    let evidence = f["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2);
    for e in evidence {
        for key in ["ts", "cpu", "task", "event", "detail"] {
            assert!(e.get(key).is_some(), "evidence key {key}: {e}");
        }
        assert_eq!(e["event"], "lock_acquire");
    }
    assert!(evidence[0]["task"].as_str().unwrap().starts_with("softirq"));
    assert_eq!(evidence[1]["task"], "lab_s4-175");
}

#[test]
fn sarif_report_is_sarif_2_1_0() {
    let input = rendering("s3_abba_mutex", "trace.txt");
    let kallsyms = corpus("lab/s3_abba_mutex/ctxlab.kallsyms");
    let argv = [
        "--format",
        "sarif",
        "--kallsyms",
        kallsyms.to_str().unwrap(),
    ];
    let (_, text) = run_cli(&[&argv[..], &[input.to_str().unwrap()]].concat(), "sarif");
    let sarif: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "kctx");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["sleep-in-atomic", "lock-order-cycle", "irq-inversion"]
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["ruleId"], "lock-order-cycle");
    assert_eq!(
        rules[r["ruleIndex"].as_u64().unwrap() as usize],
        "lock-order-cycle"
    );
    assert_eq!(r["level"], "error", "definite");
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .contains("lab_mutex_a")
    );
    let loc = &r["locations"][0];
    assert_eq!(
        loc["physicalLocation"]["artifactLocation"]["uri"],
        input.to_str().unwrap()
    );
    let functions: Vec<&str> = loc["logicalLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert_eq!(l["kind"], "function");
            l["name"].as_str().unwrap()
        })
        .collect();
    assert!(functions.contains(&"lab_s3_take_b_then_a"), "{functions:?}");
    assert_eq!(
        r["partialFingerprints"]["kctxFindingId/v1"],
        "lock-order-cycle:lab_mutex_a>lab_mutex_b>lab_mutex_a"
    );
    assert_eq!(run["invocations"][0]["exitCode"], 1);
}

#[test]
fn allowlist_hides_known_findings_and_counts_them() {
    let allow = temp_path("allow.txt");
    std::fs::write(
        &allow,
        "# known lab bugs\n\
         lock-order-cycle:lab_mutex_a>lab_mutex_b>lab_mutex_a\n\
         kind=irq-inversion lock=lab_sirq_*   # the softirq one\n\
         kind=sleep-in-atomic function=no_such_function\n",
    )
    .unwrap();
    let a = allow.to_str().unwrap();
    for (folder, rule_line) in [("s3_abba_mutex", 2), ("lockdep-s4_softirq_inversion", 3)] {
        let input = rendering(folder, "trace.txt");
        let report = check_lab(folder, &input, &["--allow", a]);
        assert!(
            report.findings.is_empty(),
            "{folder}: {:#?}",
            report.findings
        );
        assert_eq!(report.suppressed, 1, "{folder}");
        assert_eq!(report.exit_code, 0, "{folder}: hidden findings do not fail");
        let hid: Vec<(usize, u64)> = report
            .suppressed_by
            .iter()
            .map(|s| (s.line, s.hidden))
            .collect();
        let expected: Vec<(usize, u64)> = [2, 3, 4]
            .into_iter()
            .map(|l| (l, u64::from(l == rule_line)))
            .collect();
        assert_eq!(hid, expected, "{folder}");
        let text = check::render(&report, ReportFormat::Text).unwrap();
        assert!(text.contains("1 hidden by the allowlist"), "{text}");
    }
    // The allowlist does not hide what it does not name.
    let input = rendering("s1_spin_sleep", "trace.txt");
    let report = check_lab("s1_spin_sleep", &input, &["--allow", a]);
    assert_eq!(report.suppressed, 0);
    assert!(!report.findings.is_empty());
    let _ = std::fs::remove_file(&allow);
}

/// A baseline written on one recording hides all its findings on the other rendering of the
/// same recording, and nothing of a recording with other bugs.
#[test]
fn a_written_allowlist_is_a_baseline_that_fails_only_on_new_findings() {
    let baseline = temp_path("baseline.txt");
    let b = baseline.to_str().unwrap();
    let folder = "lockdep-s1_spin_sleep";
    let first = check_lab(
        folder,
        &rendering(folder, "trace.txt"),
        &["--write-allowlist", b],
    );
    assert_eq!(first.exit_code, 1);
    let written = std::fs::read_to_string(&baseline).expect("baseline written");
    let rules = written.lines().filter(|l| l.starts_with("id=")).count();
    assert_eq!(rules, first.findings.len(), "{written}");

    let again = check_lab(folder, &rendering(folder, "trace.dat"), &["--allow", b]);
    assert!(again.findings.is_empty(), "{:#?}", again.findings);
    assert_eq!(again.suppressed as usize, rules);
    assert_eq!(again.exit_code, 0);

    let other = "lockdep-s3_abba_mutex";
    let new_bugs = check_lab(other, &rendering(other, "trace.txt"), &["--allow", b]);
    assert_eq!(new_bugs.suppressed, 0);
    assert_eq!(new_bugs.exit_code, 1);
    let _ = std::fs::remove_file(&baseline);
}

#[test]
fn human_reports_have_a_summary_table_and_each_findings_evidence() {
    let input = rendering("lockdep-s3_abba_mutex", "trace.txt");
    let report = check_lab("lockdep-s3_abba_mutex", &input, &[]);
    let md = check::render(&report, ReportFormat::Markdown).unwrap();
    assert!(md.contains("| # | kind | confidence | count | where | first time (s) | locks |"));
    assert!(
        md.contains("| lock-order-cycle | definite | 2 | lab\\_ba-174 CPU 2 |"),
        "{md}"
    );
    assert!(md.contains("lab\\_s3\\_take\\_b\\_then\\_a"), "{md}");
    let html = check::render(&report, ReportFormat::Html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<th>kind</th><th>confidence</th>"));
    assert!(
        html.contains("lab_mutex_b while holding lab_mutex_a"),
        "{html}"
    );
    // Everything from the trace is escaped: the only tags are the report's own.
    assert!(html.contains("lab_mutex_a -&gt; lab_mutex_b"), "{html}");
    assert!(!html.contains("<script"));
    assert_eq!(html.matches("<section").count(), report.findings.len());
}

/// `--console` shows in every human format: links and the printed-context comparison.
#[test]
fn every_human_format_shows_the_console_section() {
    let folder = "lockdep-s3_abba_mutex";
    let console = corpus(&format!("lab/{folder}/console.log"));
    let report = check_lab(
        folder,
        &rendering(folder, "trace.txt"),
        &["--console", console.to_str().unwrap()],
    );
    let console_part = report.console.as_ref().expect("console checked");
    assert_eq!(console_part.links.len(), 1);
    assert_eq!(console_part.context.len(), 1);
    for format in [
        ReportFormat::Text,
        ReportFormat::Markdown,
        ReportFormat::Html,
    ] {
        let text = check::render(&report, format).unwrap();
        assert!(
            text.contains("1 compared, 1 agree, 0 disagree"),
            "{format:?}: {text}"
        );
        assert!(
            text.contains("circular_locking_dependency (line 281"),
            "{format:?}"
        );
    }
}

#[test]
fn held_before_stays_inside_one_context_on_every_lab_recording() {
    // The lock-order graph relies on it: an interrupt handler's acquisitions must not see
    // the interrupted task's holds as predecessors.
    let mut interrupt_holds_with_predecessors = 0;
    for (folder, _) in lab_scenarios() {
        let input = rendering(&folder, "trace.txt");
        let model = kctx::cli::context::load(&input, None, None)
            .expect("loads")
            .context;
        let table = &model.locks;
        for hold in &table.holds {
            for &prev in table.held_before(hold) {
                let prev = &table.holds[prev as usize];
                assert_eq!(
                    prev.context, hold.context,
                    "{folder}: {prev:?} before {hold:?}"
                );
                assert!(prev.acquire_ts <= hold.acquire_ts);
                if hold.context == trace_model::context::locks::HolderContext::Task {
                    assert_eq!(prev.pid, hold.pid, "{folder}: another task's hold");
                } else {
                    assert_eq!(prev.cpu, hold.cpu, "{folder}: another CPU's interrupt");
                    interrupt_holds_with_predecessors += 1;
                }
            }
        }
    }
    // The lab's interrupt handlers take one lock at a time.
    assert_eq!(interrupt_holds_with_predecessors, 0);
}

#[test]
fn finding_ids_are_the_same_in_every_rendering_of_a_recording() {
    // Allowlists key on ids: the tracefs text, the latency format (relative times, comms cut
    // to 8 characters) and trace.dat of one buffer must give the same ones.
    for (folder, scenario) in lab_scenarios() {
        let ids = |name: &str| {
            let report = check_lab(&folder, &rendering(&folder, name), &[]);
            let mut ids: Vec<String> = report.findings.into_iter().map(|r| r.finding.id).collect();
            ids.sort();
            ids
        };
        let reference = ids("trace.txt");
        let planted = scenario["bugs"].as_array().unwrap().len();
        assert!(reference.len() >= planted, "{folder}: {reference:?}");
        for name in ["trace-latency.txt", "trace.dat"] {
            assert_eq!(ids(name), reference, "{folder} {name}");
        }
    }
}

#[test]
fn a_required_check_the_trace_cannot_support_exits_2_and_says_which() {
    // An Android atrace capture: flags column and sched_switch, but no lock events.
    let input = corpus("public/ftrace-text/catapult_atrace_data_irqflags.txt");
    let path = input.to_str().unwrap();
    let report = check::check(&args(&[path]), None).unwrap();
    assert_eq!(report.exit_code, 2);
    let impossible: Vec<&str> = report
        .impossible
        .iter()
        .map(|w| w.strip_prefix(&format!("{path}: ")).unwrap())
        .collect();
    assert_eq!(impossible.len(), 2, "{impossible:?}");
    assert!(impossible[0].starts_with("lock-order impossible: no lock events"));
    assert!(impossible[1].starts_with("irq-inversion impossible: no lock events"));
    let text = check::render(&report, ReportFormat::Text).unwrap();
    assert!(text.contains("required check impossible"), "{text}");

    // Requiring only what the trace supports passes the gate.
    let report = check::check(&args(&["--require", "sleep-in-atomic", path]), None).unwrap();
    assert!(report.impossible.is_empty());
    assert_eq!(report.exit_code, 0);
}

/// The window's File > Export and `kctx check --console` give the same report for the same
/// inputs (findings, coverage, the console section with its links and context checks), in
/// every format the window exports.
#[test]
fn gui_export_is_the_report_of_check_with_the_console() {
    use clap::ValueEnum as _;
    use kctx::gui::{Input, export};
    for folder in ["lockdep-s1_spin_sleep", "lockdep-s3_abba_mutex"] {
        let dir = corpus(&format!("lab/{folder}"));
        let (trace, console, kallsyms) = (
            dir.join("trace.dat"),
            dir.join("console.log"),
            dir.join("ctxlab.kallsyms"),
        );
        // The window sorts its files by content: the order given does not matter.
        let opened = vec![
            Input::File(console.clone()),
            Input::File(trace.clone()),
            Input::File(kallsyms.clone()),
        ];
        let loaded = kctx::gui::trace::load(opened, None, &|_| {}).expect("the window loads");
        let linked = loaded.report.console.as_ref().map_or(0, |c| c.links.len());
        assert!(linked > 0, "{folder}: no console link");
        for (format, name, ext) in export::FORMATS {
            let spelled = format.to_possible_value().expect("a CLI name");
            let (_, cli) = run_cli(
                &[
                    "--format",
                    spelled.get_name(),
                    "--kallsyms",
                    kallsyms.to_str().unwrap(),
                    "--console",
                    console.to_str().unwrap(),
                    trace.to_str().unwrap(),
                ],
                &format!("export-{folder}.{ext}"),
            );
            let exported = export::render_report(&loaded, format).expect("renders");
            assert_eq!(exported, cli, "{folder}: {name}");
        }
    }
}
