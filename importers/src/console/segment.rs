//! Cuts the log into splats: each runs from its first line to the next splat's first line,
//! a `---[ end trace` line or a syzkaller `REPORT:` trailer, and is parsed by its family.

use super::common::{call_trace_line, frames_after, held_locks, kernel_from_ident, parse_cpu_line};
use super::header::classify;
use super::lines::LogLine;
use super::prefix::Caller;
use super::{atomic_sleep, hung_task, lockdep, rcu_stall, spinlock, warning};
use trace_model::splat::{FrameContext, Splat, SplatFacts, SplatKind, WarningFacts};

/// No report is longer (an RCU stall with NMI backtraces of every CPU is a few thousand lines);
/// the cap keeps reports of interleaved callers from spanning a whole log each.
const MAX_SPLAT_LINES: usize = 20_000;

pub fn splats(lines: &[LogLine]) -> Vec<Splat> {
    let starts = splat_starts(lines);
    let mut out = Vec::with_capacity(starts.len());
    for (i, &(start, kind)) in starts.iter().enumerate() {
        let caller = lines[start].caller;
        // With printk caller ids, lines of other tasks / CPUs interleaved into the report are
        // not part of it, and their splats do not end it.
        let same_source =
            |l: &LogLine| caller.is_none() || l.caller.is_none() || l.caller == caller;
        let next = starts[i + 1..]
            .iter()
            .map(|&(s, _)| s)
            .find(|&s| same_source(&lines[s]))
            .unwrap_or(lines.len())
            .min(start + MAX_SPLAT_LINES);
        let mut own: Vec<LogLine> = lines[start..next]
            .iter()
            .filter(|l| same_source(l))
            .cloned()
            .collect();
        if let Some(end) = own.iter().skip(1).position(|l| ends_splat(&l.text)) {
            own.truncate(end + 2);
        }
        let mut splat = parse(kind, &own);
        if splat.stack.is_empty() && next < lines.len() && next - start <= NESTED_WITHIN_LINES {
            borrow_nested_stack(&mut splat, &lines[next..], &same_source);
        }
        out.push(splat);
    }
    out
}

/// A report cut short by another one a few lines in (a WARNING raised while an RCU stall was
/// being printed) has no trace of its own: the nested report's trace is the same CPU's stack.
const NESTED_WITHIN_LINES: usize = 8;

fn borrow_nested_stack(
    splat: &mut Splat,
    after: &[LogLine],
    same_source: &dyn Fn(&LogLine) -> bool,
) {
    let nested: Vec<LogLine> = after
        .iter()
        .take(NESTED_SCAN_LINES)
        .filter(|l| same_source(l))
        .cloned()
        .collect();
    if let Some(trace) = call_trace_line(&nested, 0) {
        splat.stack = frames_after(&nested, trace);
        splat.culprit = trace_model::culprit::culprit(splat);
    }
}

/// How far into the nested report its trace may start.
const NESTED_SCAN_LINES: usize = 200;

/// First lines of splats. A symbolizer repeats a `WARNING: CPU:` line once per inlined frame:
/// consecutive repeats of one warning start one splat.
fn splat_starts(lines: &[LogLine]) -> Vec<(usize, SplatKind)> {
    let mut starts: Vec<(usize, SplatKind)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(kind) = classify(&line.text) else {
            continue;
        };
        let repeat = kind == SplatKind::Warning
            && starts.last().is_some_and(|&(s, k)| {
                k == kind && s + 1 == i && warning_site(&lines[s].text) == warning_site(&line.text)
            });
        if repeat {
            // Keep the last repeat: it carries the real (non-inline) frame.
            if let Some(last) = starts.last_mut() {
                last.0 = i;
            }
        } else {
            starts.push((i, kind));
        }
    }
    starts
}

/// `WARNING: CPU: 1 PID: 12621 at kernel/sched/sched.h:1476` (without the function).
fn warning_site(text: &str) -> Option<&str> {
    let (head, location) = text.split_once(" at ")?;
    Some(&text[..head.len() + 4 + location.split_whitespace().next()?.len()])
}

fn ends_splat(text: &str) -> bool {
    text.starts_with("---[ end trace") || text == "REPORT:"
}

/// Parses one splat's lines (the first is its title).
fn parse(kind: SplatKind, lines: &[LogLine]) -> Splat {
    let header = &lines[0];
    let mut splat = Splat::new(
        kind,
        header.number,
        SplatFacts::Warning(WarningFacts::default()),
    );
    splat.console_ts = header.time;
    match kind {
        _ if kind.is_lockdep() || kind == SplatKind::SuspiciousRcuUsage => {
            lockdep::parse(lines, &mut splat)
        }
        SplatKind::SleepingFunctionInvalidContext | SplatKind::SchedulingWhileAtomic => {
            atomic_sleep::parse(lines, &mut splat)
        }
        SplatKind::RcuStall | SplatKind::RcuSelfDetectedStall => {
            rcu_stall::parse(lines, &mut splat)
        }
        SplatKind::HungTask => hung_task::parse(lines, &mut splat),
        SplatKind::PreemptibleCpuAccess => atomic_sleep::parse_preemptible(lines, &mut splat),
        SplatKind::SpinlockBadMagic
        | SplatKind::RwlockBug
        | SplatKind::SpinlockRecursion
        | SplatKind::SpinlockCpuRecursion
        | SplatKind::SpinlockWrongOwner
        | SplatKind::SpinlockWrongCpu
        | SplatKind::SpinlockAlreadyUnlocked
        | SplatKind::SpinlockLockup => spinlock::parse(lines, &mut splat),
        _ => warning::parse(lines, &mut splat),
    }
    fill_scaffolding(lines, &mut splat);
    splat.culprit = trace_model::culprit::culprit(&splat);
    splat
}

/// Facts every family shares: kernel ident, the `CPU:` line, held locks, panic, the stack.
fn fill_scaffolding(lines: &[LogLine], splat: &mut Splat) {
    let is_stall = matches!(
        splat.kind,
        SplatKind::RcuStall | SplatKind::RcuSelfDetectedStall
    );
    let is_hung = splat.kind == SplatKind::HungTask;
    if splat.kernel.is_none() {
        splat.kernel = lines.get(1).and_then(|l| kernel_from_ident(&l.text));
    }
    let cpu_line = lines.iter().position(|l| parse_cpu_line(&l.text).is_some());
    if let Some(cpu) = cpu_line.and_then(|i| parse_cpu_line(&lines[i].text)) {
        if splat.kernel.is_none() {
            splat.kernel = cpu.kernel.clone();
        }
        if !is_stall && !is_hung {
            splat.cpu.get_or_insert(cpu.cpu);
            splat.pid.get_or_insert(cpu.pid);
            splat.task.get_or_insert_with(|| cpu.comm.clone());
            splat.comm.get_or_insert(cpu.comm);
        }
    }
    if splat.cpu.is_none()
        && !is_stall
        && let Some(Caller::Cpu(cpu)) = lines[0].caller
    {
        splat.cpu_from_printk_caller_id = Some(cpu);
    }
    if splat.held_locks.is_none() && !is_hung && !is_stall {
        splat.held_locks = held_locks(lines, None);
    }
    splat.panic = lines
        .iter()
        .any(|l| l.text.starts_with("Kernel panic - not syncing"));
    // The stack printed for the report: the first trace after the CPU line (lockdep prints
    // its chain stacks before it).
    let from = if is_stall {
        // The stalled CPU's backtrace, else the first trace of interrupted code (not the
        // grace-period kthread's dump).
        lines
            .iter()
            .position(|l| parse_cpu_line(&l.text).is_some_and(|c| Some(c.cpu) == splat.cpu))
            .or_else(|| first_interrupted_trace(lines))
    } else if is_hung {
        // The blocked task's own dump comes first; the `CPU:` line is khungtaskd's backtrace.
        Some(0)
    } else {
        cpu_line
    };
    if let Some(trace) =
        call_trace_line(lines, from.unwrap_or(0)).or_else(|| call_trace_line(lines, 0))
    {
        splat.stack = frames_after(lines, trace);
    }
}

/// The line before the first `Call Trace:` whose frames show an interrupt.
fn first_interrupted_trace(lines: &[LogLine]) -> Option<usize> {
    let mut from = 0;
    while let Some(trace) = call_trace_line(lines, from) {
        let frames = frames_after(lines, trace);
        if frames.iter().any(|f| {
            f.context != FrameContext::Task || trace_model::culprit::is_interrupt_entry(&f.function)
        }) {
            return Some(trace);
        }
        from = trace + 1;
    }
    None
}
