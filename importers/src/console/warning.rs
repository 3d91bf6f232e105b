//! Generic scaffolding splats: `WARNING: CPU: N PID: P at file:line func`, `kernel BUG at
//! file:line!`, soft lockups and workqueue leaks.

use super::lines::LogLine;
use trace_model::splat::{Splat, SplatFacts, SplatKind, WarningFacts};

pub fn parse(lines: &[LogLine], splat: &mut Splat) {
    let header = lines.first().map_or("", |l| l.text.as_str());
    splat.facts = match splat.kind {
        SplatKind::WorkqueueLeakedLock => workqueue_leak(lines, header, splat),
        SplatKind::SoftLockup => soft_lockup(header, splat),
        SplatKind::WorkqueueLockup => workqueue_lockup(header),
        SplatKind::KernelBug => {
            let mut facts = warning(header, splat);
            facts.function = lines.iter().find_map(|l| faulting_function(&l.text));
            SplatFacts::Warning(facts)
        }
        _ => SplatFacts::Warning(warning(header, splat)),
    };
}

/// The function of the register dump's instruction pointer: x86 `RIP: 0010:f+0x1/0x2`
/// (`RIP: f+..` before 4.x), arm64 `pc : f+..`, arm `PC is at f+..`, powerpc `NIP [..] f+..`.
fn faulting_function(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix("RIP: ")
        .map(|r| {
            r.split_once(':')
                .map_or(r, |(segment, f)| if segment.len() == 4 { f } else { r })
        })
        .or_else(|| text.strip_prefix("pc : "))
        .or_else(|| text.strip_prefix("PC is at "))
        .or_else(|| {
            text.strip_prefix("NIP ")
                .or_else(|| text.strip_prefix("NIP:"))
        })?;
    let frame = super::frames::parse_frame(rest.trim())?;
    (!frame.function.starts_with("0x")).then_some(frame.function)
}

/// `BUG: workqueue lockup - pool cpus=0 node=0 flags=0x0 nice=0 stuck for 32s!`.
fn workqueue_lockup(header: &str) -> SplatFacts {
    let pool = header.split_once(" - pool ").map(|(_, rest)| {
        rest.split_once(" stuck for ")
            .map_or(rest, |(p, _)| p)
            .to_owned()
    });
    let stuck_seconds = header
        .split_once(" stuck for ")
        .and_then(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0);
    SplatFacts::WorkqueueLockup {
        pool,
        stuck_seconds,
    }
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
    let work_function = lines.iter().take(3).find_map(|l| {
        let named = l
            .text
            .split_once("workfn=")
            .or_else(|| l.text.split_once("last function: "))?
            .1;
        named.split_whitespace().next().map(str::to_owned)
    });
    SplatFacts::WorkqueueLeak {
        preempt_lock_rcu,
        work_function,
    }
}
