//! syzkaller's report-parser test data (`corpus/syzkaller`, real console logs of 4.x-6.x
//! kernels on x86, arm, arm64, powerpc, s390): every log goes through the console parser and
//! is measured against the title syzbot gives its first report (README there).
//!
//! Per kind kctx claims: every titled report is found with that kind, logs without a report
//! give no splat at all, the culprit matches the title's function in >= 90 % of the titled
//! reports, and a report whose log prints a stack has a non-empty stack.

use corpus_tests::corpus;
use std::collections::BTreeMap;
use trace_model::splat::Splat;

/// One test file: its header facts and the log part.
pub(crate) struct Case {
    pub(crate) name: String,
    title: Option<String>,
    alts: Vec<String>,
    pub(crate) log: Vec<u8>,
}

/// The header runs to the first empty line; the log after it, up to an empty line followed by
/// `REPORT:` (the expected report text).
fn read_case(name: &str, bytes: &[u8]) -> Case {
    let mut lines = bytes.split(|&b| b == b'\n');
    let mut title = None;
    let mut alts = Vec::new();
    let mut header_len = 0;
    for line in lines.by_ref() {
        header_len += line.len() + 1;
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(t) = line.strip_prefix("TITLE: ") {
            title = Some(t.trim().to_owned());
        } else if let Some(t) = line.strip_prefix("ALT: ") {
            alts.push(t.trim().to_owned());
        }
    }
    let log = &bytes[header_len.min(bytes.len())..];
    let log_end = log
        .windows(b"\n\nREPORT:\n".len())
        .position(|w| w == b"\n\nREPORT:\n")
        .map_or(log.len(), |at| at + 1);
    Case {
        name: name.to_owned(),
        title,
        alts,
        log: log[..log_end].to_vec(),
    }
}

pub(crate) fn cases() -> Vec<Case> {
    let dir = corpus("syzkaller");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .expect("read corpus/syzkaller")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read test file");
            read_case(&p.file_name().unwrap().to_string_lossy(), &bytes)
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// syzbot title prefixes of the kinds kctx claims, with the kinds that report them.
const CLAIMED: &[(&str, &[&str])] = &[
    (
        "possible deadlock in ",
        &[
            "circular_locking_dependency",
            "recursive_locking",
            "irq_lock_inversion",
            "irq_safe_to_unsafe_lock_order",
        ],
    ),
    ("inconsistent lock state in ", &["inconsistent_lock_state"]),
    ("INFO: task hung in ", &["hung_task"]),
    ("INFO: task can't die in ", &["hung_task"]),
    (
        "INFO: rcu detected stall in ",
        &["rcu_stall", "rcu_self_detected_stall"],
    ),
    ("BUG: soft lockup in ", &["soft_lockup"]),
    (
        "BUG: sleeping function called from invalid context in ",
        &["sleeping_function_invalid_context"],
    ),
    (
        "BUG: scheduling while atomic in ",
        &["scheduling_while_atomic"],
    ),
    ("BUG: spinlock lockup suspected in ", &["spinlock_lockup"]),
    ("BUG: spinlock recursion in ", &["spinlock_recursion"]),
    (
        "BUG: spinlock cpu recursion in ",
        &["spinlock_cpu_recursion"],
    ),
    ("BUG: spinlock bad magic in ", &["spinlock_bad_magic"]),
    ("BUG: spinlock wrong owner in ", &["spinlock_wrong_owner"]),
    ("BUG: spinlock wrong CPU in ", &["spinlock_wrong_cpu"]),
    (
        "BUG: spinlock already unlocked in ",
        &["spinlock_already_unlocked"],
    ),
    ("BUG: rwlock ", &["rwlock_bug"]),
    (
        "WARNING: suspicious RCU usage in ",
        &["suspicious_rcu_usage"],
    ),
    ("INFO: suspicious RCU usage in ", &["suspicious_rcu_usage"]),
    ("BUG: bad unlock balance in ", &["bad_unlock_balance"]),
    ("WARNING: bad unlock balance in ", &["bad_unlock_balance"]),
    ("WARNING: held lock freed in ", &["held_lock_freed"]),
    ("BUG: held lock freed in ", &["held_lock_freed"]),
    (
        "WARNING: lock held when returning to user space in ",
        &["lock_held_returning_to_user"],
    ),
    (
        "BUG: lock held when returning to user space in ",
        &["lock_held_returning_to_user"],
    ),
    (
        "BUG: workqueue leaked lock or atomic in ",
        &["workqueue_leaked_lock"],
    ),
    ("BUG: using ", &["preemptible_cpu_access"]),
    (
        "WARNING: still has locks held in ",
        &["still_has_locks_held"],
    ),
    ("BUG: still has locks held in ", &["still_has_locks_held"]),
    (
        "INFO: trying to register non-static key in ",
        &["non_static_lock_key"],
    ),
    ("BUG: workqueue lockup", &["workqueue_lockup"]),
    ("BUG: MAX_", &["lockdep_limit"]),
    ("BUG: looking up invalid subclass", &["lockdep_limit"]),
    (
        "WARNING: locking bug in ",
        &["invalid_wait_context", "warning"],
    ),
];

/// The row a title belongs to and the kinds that report it.
fn claimed(title: &str) -> Option<(&'static str, &'static [&'static str])> {
    CLAIMED
        .iter()
        .find(|(prefix, _)| title.starts_with(prefix))
        .map(|&(prefix, kinds)| (prefix.trim_end_matches(" in ").trim_end(), kinds))
}

/// Syscall-entry prefixes syzbot strips from a culprit (`__x64_sys_ioctl` -> `ioctl`).
const SYSCALL_PREFIXES: [&str; 15] = [
    "SYSC_",
    "SyS_",
    "sys_",
    "__x64_",
    "__ia32_",
    "__arm64_",
    "____sys_",
    "___sys_",
    "__sys_",
    "__se_",
    "__se_sys_",
    "__do_sys_",
    "compat_SYSC_",
    "compat_SyS_",
    "ksys_",
];

fn canonical(function: &str) -> &str {
    let function = function.split('.').next().unwrap_or(function);
    SYSCALL_PREFIXES
        .iter()
        .filter_map(|p| function.strip_prefix(p))
        .min_by_key(|f| f.len())
        .unwrap_or(function)
}

/// The function a title names (after its last ` in `); `None` for `corrupted` or no function.
fn title_function(title: &str) -> Option<&str> {
    let (_, function) = title.rsplit_once(" in ")?;
    (function != "corrupted" && !function.contains(' ')).then_some(function)
}

fn culprit_of(splat: &Splat) -> Option<&str> {
    splat.culprit.as_deref()
}

#[derive(Default)]
struct Row {
    reports: usize,
    found: usize,
    titled: usize,
    culprit_match: usize,
    empty_stacks: usize,
}

/// Does the log print a stack for the report at `line` (1-based)? A stack-start line within the
/// next 400 lines.
fn log_has_stack(log: &[u8], line: u32) -> bool {
    let text = String::from_utf8_lossy(log);
    text.lines()
        .skip(line as usize)
        .take(400)
        .any(|l| l.contains("Call Trace") || l.contains("Call trace") || l.contains("Backtrace:"))
}

#[test]
fn syzkaller_reports_are_found_with_their_kind_and_culprit() {
    let cases = cases();
    assert!(cases.len() >= 300, "{} files", cases.len());
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    let mut invented = Vec::new();
    let mut misses = Vec::new();
    let mut wrong_culprits = Vec::new();
    let mut empty = Vec::new();
    for case in &cases {
        let splats = importers::console::parse_splats(&case.log);
        let Some(title) = &case.title else {
            invented.extend(splats.iter().map(|s| {
                format!(
                    "{}: {} at line {}",
                    case.name,
                    s.kind.name(),
                    s.console_line
                )
            }));
            continue;
        };
        let Some((row_name, kinds)) = claimed(title) else {
            continue;
        };
        let row = rows.entry(row_name).or_default();
        row.reports += 1;
        let Some(splat) = splats.iter().find(|s| kinds.contains(&s.kind.name())) else {
            misses.push(format!("{}: {title}", case.name));
            continue;
        };
        row.found += 1;
        if splat.stack.is_empty() && log_has_stack(&case.log, splat.console_line) {
            row.empty_stacks += 1;
            empty.push(format!(
                "{}: {} line {}",
                case.name,
                splat.kind.name(),
                splat.console_line
            ));
        }
        let Some(want) = title_function(title) else {
            continue;
        };
        row.titled += 1;
        let alt_functions = case.alts.iter().filter_map(|a| title_function(a));
        let ours = culprit_of(splat).map(canonical);
        if std::iter::once(want)
            .chain(alt_functions)
            .any(|f| Some(canonical(f)) == ours)
        {
            row.culprit_match += 1;
        } else {
            wrong_culprits.push(format!(
                "{}: {title}: ours {:?}",
                case.name,
                culprit_of(splat)
            ));
        }
    }

    let mut total = Row::default();
    println!(
        "{:<56} {:>7} {:>7} {:>14} {:>6}",
        "syzbot title", "found", "of", "culprit", "empty"
    );
    for (name, r) in &rows {
        println!(
            "{name:<56} {:>7} {:>7} {:>6}/{:<7} {:>6}",
            r.found, r.reports, r.culprit_match, r.titled, r.empty_stacks
        );
        total.reports += r.reports;
        total.found += r.found;
        total.titled += r.titled;
        total.culprit_match += r.culprit_match;
        total.empty_stacks += r.empty_stacks;
    }
    println!(
        "{:<56} {:>7} {:>7} {:>6}/{:<7} {:>6}   culprit {:.1} %, invented {}",
        "TOTAL",
        total.found,
        total.reports,
        total.culprit_match,
        total.titled,
        total.empty_stacks,
        100.0 * total.culprit_match as f64 / total.titled.max(1) as f64,
        invented.len()
    );
    for m in &misses {
        println!("  missed: {m}");
    }
    for i in &invented {
        println!("  invented: {i}");
    }
    for e in &empty {
        println!("  empty stack: {e}");
    }
    for w in &wrong_culprits {
        println!("  culprit: {w}");
    }
    assert!(misses.is_empty(), "{} reports missed", misses.len());
    assert!(invented.is_empty(), "{} splats invented", invented.len());
    assert!(empty.is_empty(), "{} empty stacks", empty.len());
    assert!(
        total.culprit_match * 100 >= total.titled * 90,
        "culprit {}/{}",
        total.culprit_match,
        total.titled
    );
}
