//! Generic scaffolding splats: `WARNING: CPU: N PID: P at file:line func`, `kernel BUG at
//! file:line!`, soft lockups and workqueue leaks.

use super::lines::LogLine;
use trace_model::splat::{Splat, SplatFacts, SplatKind, WarningFacts};

pub fn parse(lines: &[LogLine], splat: &mut Splat) {
    let header = lines.first().map_or("", |l| l.text.as_str());
    splat.facts = match splat.kind {
        SplatKind::WorkqueueLeakedLock => workqueue_leak(lines, header, splat),
        SplatKind::SoftLockup => soft_lockup(header, splat),
        _ => SplatFacts::Warning(warning(header, splat)),
    };
}

/// `WARNING: CPU: 0 PID: 10 at kernel/jump_label.c:276 func+0x8e/0xa0` /
/// `kernel BUG at kernel/entry/common.c:463!`.
fn warning(header: &str, splat: &mut Splat) -> WarningFacts {
    let mut facts = WarningFacts::default();
    let Some((head, location)) = header.split_once(" at ") else {
        return facts;
    };
    if let Some(rest) = head.strip_prefix("WARNING: CPU: ") {
        let mut words = rest.split_whitespace();
        splat.cpu = words.next().and_then(|c| c.parse().ok());
        splat.pid = words.nth(1).and_then(|p| p.parse().ok());
    }
    let mut words = location.split_whitespace();
    if let Some((file, line)) = words
        .next()
        .and_then(|l| l.trim_end_matches('!').rsplit_once(':'))
    {
        facts.file = Some(file.to_owned());
        facts.line = line.parse().ok();
    }
    facts.function = words
        .next()
        .map(|f| f.split_once('+').map_or(f, |(f, _)| f).to_owned());
    facts
}

/// `BUG: soft lockup - CPU#2 stuck for 136s! [comm:pid]`.
fn soft_lockup(header: &str, splat: &mut Splat) -> SplatFacts {
    let mut stuck_seconds = 0;
    if let Some((_, rest)) = header.split_once("CPU#")
        && let Some((cpu, rest)) = rest.split_once(" stuck for ")
    {
        splat.cpu = cpu.parse().ok();
        stuck_seconds = rest
            .split_once('s')
            .and_then(|(s, _)| s.parse().ok())
            .unwrap_or(0);
        if let Some((comm, pid)) = rest
            .split_once('[')
            .and_then(|(_, t)| t.strip_suffix(']'))
            .and_then(|t| t.rsplit_once(':'))
        {
            splat.task = Some(comm.to_owned());
            splat.pid = pid.parse().ok();
        }
    }
    SplatFacts::SoftLockup { stuck_seconds }
}

/// `BUG: workqueue leaked atomic, lock or RCU: comm[pid]` (6.x) or
/// `BUG: workqueue leaked lock or atomic: comm/0x%08x/pid` (older), then
/// `     preempt=0x00000000 lock=0->2 RCU=0->0 workfn=async_run_entry_fn`.
fn workqueue_leak(lines: &[LogLine], header: &str, splat: &mut Splat) -> SplatFacts {
    if let Some((_, task)) = header.rsplit_once(": ") {
        let parsed = match task.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
            Some((comm, pid)) => Some((comm, pid)),
            None => task
                .split_once("/0x")
                .and_then(|(comm, rest)| Some((comm, rest.split_once('/')?.1))),
        };
        if let Some((comm, pid)) = parsed {
            splat.task = Some(comm.to_owned());
            splat.pid = pid.parse().ok();
        }
    }
    let preempt_lock_rcu = lines
        .get(1)
        .filter(|l| l.text.starts_with("preempt="))
        .map(|l| l.text.clone());
    SplatFacts::WorkqueueLeak { preempt_lock_rcu }
}
