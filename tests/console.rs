//! Console and QEMU logs: `kctx splats` against `public/console/expected.json`, robustness on
//! every log of the corpus, the QEMU `-d int` log, and splat <-> finding correlation on the lab
//! recordings.

use analysis::logs::{LogContent as SplatsOutput, read_log};
use analysis::{Console, NamedSource};
use corpus_tests::{corpus, lab_scenarios};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;
use trace_model::correlate::{CorrelateOptions, correlate};
use trace_model::splat::{FrameContext, Splat, SplatKind};
use trace_model::{Confidence, Finding, FindingKind, seconds};

/// Free-text keys of expected.json: explanations for humans, not facts a parser extracts.
const PROSE_KEYS: [&str; 4] = ["note", "context_note", "arch", "reporter"];

/// Reads a console or QEMU log as `kctx splats` does.
fn load(path: &Path) -> anyhow::Result<SplatsOutput> {
    read_log(&NamedSource::open(path)?)
}

fn console_splats(path: &Path) -> Vec<Splat> {
    match load(path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display())) {
        SplatsOutput::Console { splats } => splats,
        SplatsOutput::Qemu { .. } => panic!("{} detected as a QEMU log", path.display()),
    }
}

fn expected() -> Value {
    let text = std::fs::read_to_string(corpus("public/console/expected.json"))
        .expect("read expected.json");
    serde_json::from_str(&text).expect("parse expected.json")
}

/// Does our value carry the expected fact? Objects compare on the expected keys only (our chain
/// entries also carry stacks); `null` expects the fact to be absent.
fn fact_matches(expected: &Value, ours: Option<&Value>) -> bool {
    match (expected, ours) {
        (Value::Null, None | Some(Value::Null)) => true,
        (Value::Null, Some(Value::Array(a))) => a.is_empty(),
        (_, None) => false,
        (Value::Number(e), Some(Value::Number(o))) => e.as_f64() == o.as_f64(),
        (Value::String(e), Some(Value::String(o))) => e == o || annotated_equal(e, o),
        (Value::Array(e), Some(Value::Array(o))) => {
            e.len() == o.len() && e.iter().zip(o).all(|(e, o)| fact_matches(e, Some(o)))
        }
        (Value::Object(e), Some(Value::Object(o))) => {
            e.iter().all(|(k, v)| fact_matches(v, o.get(k)))
        }
        (e, Some(o)) => e == o,
    }
}

/// expected.json annotates two values in prose: `syzkaller (version string not printed; ...)`
/// and `migration/1 (pid 22) on CPU 1 per "Task dump for CPU 1"`. The fact is the text before
/// the parenthesis, with a `(pid N)` meaning `comm/N`.
fn annotated_equal(expected: &str, ours: &str) -> bool {
    let Some((value, note)) = expected.split_once(" (") else {
        return false;
    };
    match note.strip_prefix("pid ").and_then(|n| n.split_once(')')) {
        Some((pid, _)) => ours == format!("{value}/{pid}"),
        None => ours == value,
    }
}

fn scored_keys(splat: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    splat
        .iter()
        .filter(|(k, _)| !PROSE_KEYS.contains(&k.as_str()))
}

#[derive(Default)]
struct Score {
    matched: usize,
    expected: usize,
}

#[test]
fn splats_match_expected_json() {
    let expected = expected();
    let files = expected["files"].as_object().expect("files");
    let dir = corpus("public/console");
    let on_disk = corpus_tests::public_console_logs();
    assert!(
        on_disk.len() >= 30,
        "public/console holds {} logs",
        on_disk.len()
    );
    for name in &on_disk {
        assert!(
            files.contains_key(name),
            "{name} has no entry in expected.json"
        );
    }

    // Counted straight from expected.json, independently of the scoring loop below.
    let facts_in_expected: usize = files
        .values()
        .flat_map(|f| f["splats"].as_array().expect("splats"))
        .map(|s| {
            s.as_object()
                .expect("splat")
                .keys()
                .filter(|k| !PROSE_KEYS.contains(&k.as_str()))
                .count()
        })
        .sum();
    assert!(facts_in_expected > 0);

    let mut by_kind: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut extra = Vec::new();
    for (name, entry) in files {
        let ours: Vec<Value> = console_splats(&dir.join(name))
            .iter()
            .map(|s| serde_json::to_value(s).expect("serialise splat"))
            .collect();
        let wanted = entry["splats"].as_array().expect("splats");
        let mut taken_by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for splat in wanted {
            let splat = splat.as_object().expect("splat");
            let kind = splat["kind"].as_str().expect("kind");
            // The n-th expected splat of a kind pairs with our n-th splat of that kind.
            let nth = taken_by_kind.entry(kind).or_default();
            let mine = ours.iter().filter(|o| o["kind"] == kind).nth(*nth);
            *nth += 1;
            let score = by_kind.entry(kind.to_owned()).or_default();
            for (key, value) in scored_keys(splat) {
                score.expected += 1;
                if fact_matches(value, mine.and_then(|m| m.get(key))) {
                    score.matched += 1;
                } else {
                    misses.push(format!(
                        "{name}: {kind}.{key}: expected {value}, got {:?}",
                        mine.and_then(|m| m.get(key))
                    ));
                }
            }
        }
        let expected_kinds = expected["kinds"].as_array().expect("kinds");
        for o in &ours {
            let kind = o["kind"].as_str().unwrap_or_default();
            let wanted_of_kind = wanted.iter().filter(|w| w["kind"] == kind).count();
            let ours_of_kind = ours.iter().filter(|x| x["kind"] == kind).count();
            if expected_kinds.iter().any(|k| k == kind) && ours_of_kind > wanted_of_kind {
                extra.push(format!("{name}: {kind} at line {}", o["console_line"]));
            }
        }
    }

    let matched: usize = by_kind.values().map(|s| s.matched).sum();
    let total: usize = by_kind.values().map(|s| s.expected).sum();
    println!("console splat facts matched, by kind:");
    for (kind, s) in &by_kind {
        println!(
            "  {kind:<36} {:>4} / {:<4} {:6.1} %",
            s.matched,
            s.expected,
            100.0 * s.matched as f64 / s.expected as f64
        );
    }
    println!(
        "  {:<36} {matched:>4} / {total:<4} {:6.1} %",
        "TOTAL",
        100.0 * matched as f64 / total as f64
    );
    for miss in &misses {
        println!("  miss: {miss}");
    }
    for e in extra.iter().collect::<std::collections::BTreeSet<_>>() {
        println!("  extra splat: {e}");
    }
    assert_eq!(
        total, facts_in_expected,
        "every fact of expected.json is scored"
    );
    assert!(
        matched * 100 >= total * 95,
        "score {matched}/{total} below 95 %"
    );
}

/// Every log of the corpus, and truncated / corrupted copies, parse without a panic.
#[test]
fn no_corpus_input_breaks_the_parser() {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |path: std::path::PathBuf| {
        let source =
            importers::Source::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        inputs.push((path.display().to_string(), source.bytes().to_vec()));
    };
    for (name, _) in lab_scenarios() {
        add(corpus(&format!("lab/{name}/console.log")));
    }
    add(corpus(
        "lab/unplanned-debian-s3_abba_mutex-tcg-crash/console.log.gz",
    ));
    add(corpus("qemu/qemu-int.log.gz"));
    for entry in std::fs::read_dir(corpus("public/console")).expect("read dir") {
        add(entry.expect("entry").path());
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut parsed = 0;
    for (name, bytes) in &inputs {
        let mut variants = vec![bytes.clone()];
        // Cut at arbitrary places (mid-line, mid-UTF-8), and keep only every other line.
        for _ in 0..8 {
            let cut = (next() as usize) % (bytes.len() + 1);
            variants.push(bytes[..cut].to_vec());
            variants.push(bytes[cut..].to_vec());
        }
        let mut garbled = bytes.clone();
        for _ in 0..garbled.len() / 50 {
            let at = (next() as usize) % garbled.len().max(1);
            if let Some(b) = garbled.get_mut(at) {
                *b = next() as u8;
            }
        }
        variants.push(garbled);
        let halved: Vec<u8> = bytes
            .split(|&b| b == b'\n')
            .step_by(2)
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect();
        variants.push(halved);
        for variant in &variants {
            let splats = importers::console::parse_splats(variant);
            let qemu = importers::qemu::parse(variant);
            assert!(
                splats.len() <= variant.len() && qemu.interrupts.len() <= variant.len(),
                "{name}"
            );
            parsed += 1;
        }
    }
    // Lines that stop right after each marker the parsers look for.
    for stub in [
        "BUG: spinlock",
        "BUG: spinlock bad magic on CPU#",
        " lock: ",
        "lock: x, .",
        "-> #",
        "-> #1 (",
        "#0: (",
        "INFO: task ",
        "INFO: task a blocked for more than ",
        "BUG: scheduling while atomic: ",
        "in_atomic(): ",
        "preempt_count: ",
        "[ 1.",
        "[ 1.0][",
        "[ 1.0][ T",
        "CPU: ",
        "CPU: 1 PID: ",
        "WARNING: CPU: 1 PID: 2 at ",
        "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:\n(t=",
        "1-...: (",
        "task:",
        "Preemption disabled at:",
        "WARNING: possible circular locking dependency detected\n-> #0 (a){",
        "context-{",
        "inconsistent {",
        "BUG: workqueue leaked atomic, lock or RCU: ",
        "watchdog: BUG: soft lockup - CPU#",
        "     1: v=",
        "1@2.:",
    ] {
        importers::console::parse_splats(stub.as_bytes());
        importers::qemu::parse(stub.as_bytes());
    }
    assert!(parsed > inputs.len() * 10);
    // The rest of the public corpus (ftrace text, trace.dat and their reports) once each.
    for sub in ["public/ftrace-text", "public/tracedat"] {
        for entry in std::fs::read_dir(corpus(sub)).expect("read dir") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            importers::console::parse_splats(&bytes);
            importers::qemu::parse(&bytes);
        }
    }
    let soft = console_splats(&corpus(
        "public/ftrace-text/syzk350_soft_lockup_with_ftrace_dump_on_oops_4.20.txt",
    ));
    assert_eq!(soft[0].kind, SplatKind::SoftLockup);
    assert_eq!(
        (soft[0].task.as_deref(), soft[0].pid, soft[0].cpu),
        (Some("syz-executor4"), Some(4888), Some(2))
    );
    let crash = console_splats(&corpus(
        "lab/unplanned-debian-s3_abba_mutex-tcg-crash/console.log.gz",
    ));
    let bugs: Vec<&Splat> = crash
        .iter()
        .filter(|s| s.kind == SplatKind::KernelBug)
        .collect();
    assert!(
        bugs.len() >= 10,
        "the crash log repeats kernel BUG at kernel/entry/common.c:463"
    );
    assert_eq!(
        serde_json::to_value(bugs[0]).unwrap()["file"],
        "kernel/entry/common.c"
    );
}

/// The lab consoles: every splat truth.json lists is found at its line and time, and no
/// other splat of a kind kctx checks is invented.
#[test]
fn lab_consoles_give_the_kernel_splats_of_truth_json() {
    let mut checked = 0;
    for (name, scenario) in lab_scenarios() {
        let splats = console_splats(&corpus(&format!("lab/{name}/console.log")));
        let wanted = scenario["kernel_splats"].as_array().expect("kernel_splats");
        for w in wanted {
            let line = w["console_line"].as_u64().expect("console_line") as u32;
            let splat = splats
                .iter()
                .find(|s| s.console_line == line)
                .unwrap_or_else(|| panic!("{name}: no splat at line {line} ({})", w["first_line"]));
            let ts = w["console_ts"].as_f64().expect("console_ts");
            assert!(
                (splat.console_ts.expect("stamped") - ts).abs() < 1e-6,
                "{name}:{line}"
            );
            assert!(
                splat.task.as_deref().is_some_and(|t| t.starts_with("lab_")),
                "{name}:{line} task {:?}",
                splat.task
            );
            assert!(!splat.stack.is_empty(), "{name}:{line} has a stack");
            checked += 1;
        }
        let checked_kinds = splats
            .iter()
            .filter(|s| trace_model::correlate::finding_kind(s.kind).is_some())
            .count();
        assert_eq!(
            checked_kinds,
            wanted.len(),
            "{name}: splats of checked kinds"
        );
    }
    assert_eq!(checked, 8);
}

/// truth.json's planted bugs as the findings a perfect detector would report.
fn findings_from_truth(scenario: &Value) -> Vec<Finding> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    scenario["bugs"]
        .as_array()
        .expect("bugs")
        .iter()
        .map(|bug| {
            let kind = match bug["kind"].as_str().expect("kind") {
                "sleep-in-atomic" => FindingKind::SleepInAtomic,
                "lock-order-cycle" => FindingKind::LockOrderCycle,
                "irq-inversion" => FindingKind::IrqInversion,
                other => panic!("unknown bug kind {other}"),
            };
            let window = &bug["time_window"];
            let observed = bug["observed"].as_array().expect("observed");
            let last = observed.last().expect("observed entry");
            Finding {
                id: bug["id"].as_str().expect("id").to_owned(),
                kind,
                confidence: Confidence::Definite,
                cpu: None,
                task: last["task"].as_str().map(str::to_owned),
                pid: last["pid"].as_i64().map(|p| p as i32),
                ts: [&window[0], &window[1]]
                    .map(|w| (w.as_f64().expect("window") * 1e9).round() as u64),
                functions: strings(&bug["functions"]),
                locks: strings(&bug["locks"]),
                why: None,
                summary: String::new(),
                evidence: Vec::new(),
                count: 1,
                instances: Vec::new(),
            }
        })
        .collect()
}

/// The linker on real splats: each `kernel_reported` splat links to its planted bug's finding,
/// bugs the kernel kept quiet about come back as kctx-only.
#[test]
fn lab_splats_link_to_their_planted_bugs() {
    let mut links = 0;
    for (name, scenario) in lab_scenarios() {
        let splats = console_splats(&corpus(&format!("lab/{name}/console.log")));
        let findings = findings_from_truth(&scenario);
        let result = correlate(&splats, &findings, &CorrelateOptions::default());
        assert!(
            result.kernel_only.is_empty(),
            "{name}: unexplained splats {:?}",
            result.kernel_only
        );
        for (bug, finding_index) in scenario["bugs"].as_array().expect("bugs").iter().zip(0..) {
            let reported = bug["kernel_reported"].as_array().expect("kernel_reported");
            for r in reported {
                let line = r["console_line"].as_u64().expect("line") as u32;
                let splat_index = splats
                    .iter()
                    .position(|s| s.console_line == line)
                    .expect("splat at line");
                // The text output names the planted function as the culprit.
                let culprit = splats[splat_index].culprit.as_deref();
                assert!(
                    findings[finding_index]
                        .functions
                        .iter()
                        .any(|f| Some(f.as_str()) == culprit),
                    "{name}:{line} culprit {culprit:?}"
                );
                let link = result.links.iter().find(|l| l.splat == splat_index);
                assert_eq!(
                    link.map(|l| l.finding),
                    Some(finding_index),
                    "{name}: line {line} -> bug {}",
                    bug["id"]
                );
                links += 1;
            }
            assert_eq!(
                result.kctx_only.contains(&finding_index),
                reported.is_empty(),
                "{name}: bug {}",
                bug["id"]
            );
        }
    }
    assert_eq!(links, 8);
}

#[test]
fn qemu_int_log_counts_by_vector_in_order() {
    let path = corpus("qemu/qemu-int.log.gz");
    let SplatsOutput::Qemu { qemu } = load(&path).expect("load") else {
        panic!("qemu-int.log not detected as a QEMU log");
    };
    let counts: BTreeMap<u8, u64> = qemu
        .counts_by_vector
        .iter()
        .map(|c| (c.vector, c.count))
        .collect();
    // The numbers qemu/README.md gives for this file.
    assert_eq!(
        counts,
        BTreeMap::from([(0x0e, 266), (0x22, 4), (0xec, 123), (0xfb, 16), (0xfd, 6)])
    );
    assert_eq!(qemu.counts_by_vector[0].name, "page fault");
    let records = &qemu.log.interrupts;
    assert_eq!(records.len(), 415);
    assert!(
        records
            .windows(2)
            .all(|w| w[0].line < w[1].line && w[0].seq < w[1].seq),
        "records in service order"
    );
    assert_eq!((records[0].vector, records[0].seq), (0xec, 0));
    assert!(
        records.iter().all(|r| r.rflags.is_some()),
        "every record has its register dump"
    );
    assert!(
        records
            .iter()
            .filter(|r| r.vector == 0x0e)
            .all(|r| r.cr2.is_some())
    );
    // An interrupt is only delivered with IF set.
    assert!(
        records
            .iter()
            .filter(|r| r.vector >= 0x20)
            .all(|r| r.irqs_enabled() == Some(true))
    );
    assert_eq!(qemu.log.check_exceptions, 266);
    let text = kctx::cli::splats::render_text(&SplatsOutput::Qemu { qemu });
    assert!(
        text.contains("LOCAL_TIMER") && text.contains("123"),
        "{text}"
    );
}

fn public_splats(name: &str) -> Vec<Splat> {
    console_splats(&corpus(&format!("public/console/{name}")))
}

/// Stack traces keep offsets, modules, `?` flags, symbolizer locations and irq context.
#[test]
fn stacks_keep_offsets_modules_and_contexts() {
    let lab = console_splats(&corpus("lab/lockdep-s1_spin_sleep/console.log"));
    let stack = &lab[0].stack;
    let planted = stack
        .iter()
        .find(|f| f.function == "lab_s1a_msleep_under_spinlock")
        .expect("planted frame");
    assert_eq!(
        (planted.offset, planted.size, planted.module.as_deref()),
        (Some(0x2a), Some(0x44), Some("ctxlab"))
    );
    assert!(!planted.unreliable);
    assert!(
        stack
            .iter()
            .any(|f| f.function == "lab_clean_hrtimer_fn" && f.unreliable)
    );

    // Mail-wrapped syzbot report: the recursion happened in hard-irq context.
    let wrapped = public_splats("ml_serial_syzbot_recursive_5.5_uart_write_wrapped.txt");
    let first = &wrapped[0].stack[0];
    assert_eq!(
        (first.function.as_str(), first.inline),
        ("__dump_stack", true)
    );
    assert_eq!(first.source.as_deref(), Some("lib/dump_stack.c:77"));
    assert_eq!(first.context, FrameContext::Irq);
    let uart = wrapped[0]
        .stack
        .iter()
        .find(|f| f.function == "uart_write")
        .expect("uart_write frame");
    assert_eq!(uart.context, FrameContext::Irq);
    assert_eq!(
        wrapped[0].stack.last().map(|f| f.context),
        Some(FrameContext::Task)
    );

    // decode_stacktrace.sh output: `func (file:line (discriminator 1))`.
    let decoded = public_splats("ml_ext4_sleep_in_atomic_5.18_lkp_fstests.txt");
    let stack = &decoded[0].stack;
    assert_eq!(stack[0].source.as_deref(), Some("lib/dump_stack.c:107"));
    assert_eq!(stack[2].function, "__getblk_gfp");
    assert!(stack.len() >= 30 && stack.iter().filter(|f| f.unreliable).count() >= 10);

    // ARM unwinder `callee from caller+off/size [module]`.
    let arm = public_splats("ml_serial_sleep_in_atomic_6.13_arm_sama5.txt");
    let hci = arm[0]
        .stack
        .iter()
        .find(|f| f.function == "hci_dev_open_sync")
        .expect("hci frame");
    assert_eq!(
        (hci.offset, hci.module.as_deref()),
        (Some(0x330), Some("bluetooth"))
    );

    // 4.x `[<addr>] ? func+off/size` frames after a kdb `<#DB>` marker.
    let kdb = public_splats("ml_serial_spinlock_lockup_4.4_kdb_indented.txt");
    assert_eq!(kdb[0].stack[0].function, "dump_stack");
    assert!(
        kdb[0]
            .stack
            .iter()
            .all(|f| f.context == FrameContext::Exception)
    );
}

/// Lines of other printk callers interleaved into a report are not part of it.
#[test]
fn interleaved_callers_are_kept_apart() {
    let mut log = String::new();
    log.push_str(
        "[   10.000000][  T100] BUG: sleeping function called from invalid context at mm/a.c:1\n",
    );
    log.push_str("[   10.000001][  T200] BUG: scheduling while atomic: other/200/0x00000002\n");
    log.push_str("[   10.000002][  T100] in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 100, name: first\n");
    log.push_str("[   10.000003][  T200] CPU: 3 PID: 200 Comm: other Not tainted 6.1.0 #1\n");
    log.push_str("[   10.000004][  T100] CPU: 1 PID: 100 Comm: first Not tainted 6.1.0 #1\n");
    log.push_str("[   10.000005][  T100] Call Trace:\n[   10.000006][  T200] Call Trace:\n");
    log.push_str(
        "[   10.000007][  T100]  first_fn+0x1/0x2\n[   10.000008][  T200]  other_fn+0x1/0x2\n",
    );
    let splats = importers::console::parse_splats(log.as_bytes());
    assert_eq!(splats.len(), 2);
    assert_eq!(
        (splats[0].task.as_deref(), splats[0].cpu),
        (Some("first"), Some(1))
    );
    assert_eq!(splats[0].stack[0].function, "first_fn");
    assert_eq!(
        (splats[1].task.as_deref(), splats[1].cpu),
        (Some("other"), Some(3))
    );
    assert_eq!(splats[1].stack[0].function, "other_fn");
}

/// The `kctx check --console` part on the debian s1 recording: the kernel reported only s1a.
#[test]
fn console_check_reports_disagreements_both_ways() {
    let scenario = lab_scenarios()
        .into_iter()
        .find(|(n, _)| n == "s1_spin_sleep")
        .expect("s1_spin_sleep")
        .1;
    let mut findings = findings_from_truth(&scenario);
    let path = corpus("lab/s1_spin_sleep/console.log");
    let console = NamedSource::open(&path)
        .and_then(|log| Console::read(&log))
        .expect("read the console log");
    let check = console.check(&findings, Some("global"), Vec::new());
    assert_eq!(check.links.len(), 1);
    assert_eq!(check.links[0].finding, "s1a");
    assert_eq!(
        check.links[0].splat.culprit.as_deref(),
        Some("lab_s1a_msleep_under_spinlock")
    );
    assert_eq!(check.kctx_only, ["s1b", "s1c", "s1d"]);
    let text = kctx::report::console::render_text(&check);
    assert!(
        text.contains("kctx found what the kernel never reported: s1b"),
        "{text}"
    );

    // Without s1a's finding the kernel's report is unexplained.
    findings.remove(0);
    let check = console.check(&findings, Some("x86-tsc"), Vec::new());
    assert!(!check.time_compared);
    assert_eq!(check.kernel_only.len(), 1);
    assert_eq!(check.kernel_only[0].kind, "scheduling_while_atomic");
}

/// A finding is the one for a planted bug when it has the bug's kind and names one of its
/// functions or locks inside its time window (widened by a few ms): lab/README.md's scoring.
fn finding_is_for_bug(finding: &Finding, bug: &Value) -> bool {
    let kind = findings_from_truth(&serde_json::json!({ "bugs": [bug] }))[0].kind;
    let names = |key: &str| -> Vec<&str> {
        bug[key]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let window = &bug["time_window"];
    let (start, end) = (
        window[0].as_f64().unwrap() - 0.005,
        window[1].as_f64().unwrap() + 0.005,
    );
    let named = finding
        .functions
        .iter()
        .any(|f| names("functions").contains(&f.as_str()))
        || finding
            .locks
            .iter()
            .any(|l| names("locks").contains(&l.as_str()));
    finding.kind == kind
        && named
        && seconds(finding.ts[0]) <= end
        && seconds(finding.ts[1]) >= start
}

/// `kctx check --console`: on every lab recording each `kernel_reported` splat links to the
/// finding for its planted bug, no splat stays unexplained, and bugs the kernel missed come
/// back as "kctx found what the kernel never reported".
#[test]
fn check_console_links_every_kernel_reported_splat_to_its_bug() {
    use clap::Parser as _;
    use kctx::Cli;
    use kctx::cli::{Command, check};
    let mut linked = 0;
    let mut kctx_only = 0;
    for (folder, scenario) in lab_scenarios() {
        let dir = corpus(&format!("lab/{folder}"));
        let argv = [
            "kctx".into(),
            "check".into(),
            "--kallsyms".into(),
            dir.join("ctxlab.kallsyms").into_os_string(),
            "--console".into(),
            dir.join("console.log").into_os_string(),
            dir.join("trace.dat").into_os_string(),
        ];
        let Some(Command::Check(args)) = Cli::try_parse_from(argv).expect("command line").command
        else {
            panic!("not parsed as check");
        };
        let report = check::check(&args, None).expect("check runs");
        let json: Value =
            serde_json::from_str(&check::render(&report, check::ReportFormat::Json).expect("json"))
                .expect("parse");
        let console = report.console.as_ref().expect("console section");
        let markdown = check::render(&report, check::ReportFormat::Markdown).expect("markdown");
        assert!(markdown.contains("## Kernel console"), "{folder}");
        assert_eq!(
            json["console"]["links"].as_array().map(Vec::len),
            Some(console.links.len())
        );
        assert!(console.time_compared, "{folder}: trace clock global");
        assert!(
            console.kernel_only.is_empty(),
            "{folder}: kernel reported, kctx did not find: {:?}",
            console.kernel_only
        );
        let by_id = |id: &str| {
            report
                .findings
                .iter()
                .map(|f| &f.finding)
                .find(|f| f.id == id)
        };
        for bug in scenario["bugs"].as_array().expect("bugs") {
            let reported = bug["kernel_reported"].as_array().expect("kernel_reported");
            for splat in reported {
                let line = splat["console_line"].as_u64().expect("line") as u32;
                let link = console.links.iter().find(|l| l.splat.console_line == line);
                let link =
                    link.unwrap_or_else(|| panic!("{folder}: splat at line {line} not linked"));
                let finding = by_id(&link.finding).expect("linked finding is reported");
                assert!(
                    finding_is_for_bug(finding, bug),
                    "{folder}: line {line} linked to {} not bug {}",
                    link.finding,
                    bug["id"]
                );
                linked += 1;
            }
            let found: Vec<&Finding> = report
                .findings
                .iter()
                .map(|f| &f.finding)
                .filter(|f| finding_is_for_bug(f, bug))
                .collect();
            if reported.is_empty() {
                for f in found {
                    assert!(
                        console.kctx_only.contains(&f.id),
                        "{folder}: {} is kctx-only",
                        f.id
                    );
                    kctx_only += 1;
                }
            }
        }
    }
    assert_eq!(linked, 8, "every kernel_reported splat of truth.json");
    assert!(
        kctx_only >= 5,
        "the debian kernel missed s1b, s1c, s1d, s3, s4s; kctx found {kctx_only}"
    );
}
