//! RCU CPU stall warnings (kernel/rcu/tree_stall.h): `INFO: rcu_sched detected stalls on
//! CPUs/tasks:` and `INFO: rcu_preempt self-detected stall on CPU`, with or without `rcu: `.

use super::common::{CpuLine, parse_cpu_line, task_pid};
use super::lines::LogLine;
use trace_model::splat::{RcuStallFacts, Splat, SplatFacts};

pub fn parse(lines: &[LogLine], splat: &mut Splat) {
    let header = lines.first().map_or("", |l| l.text.as_str());
    let mut facts = RcuStallFacts {
        rcu_flavor: header
            .split_whitespace()
            .find(|w| w.starts_with("rcu_"))
            .map(str::to_owned),
        ..RcuStallFacts::default()
    };
    facts.stalled_cpus = inline_cpus(header);
    for (index, line) in lines.iter().enumerate() {
        let text = without_rcu_prefix(&line.text);
        // The header may carry the `(detected by ...)` part too.
        let text = if index == 0 {
            match text.find("(detected by") {
                Some(at) => &text[at..],
                None => continue,
            }
        } else {
            text
        };
        if let Some(cpu) = stalled_cpu(text) {
            facts.stalled_cpus.push(cpu);
            continue;
        }
        if text.starts_with('(') && text.contains("t=") {
            facts.detected_by_cpu = text
                .split_once("detected by ")
                .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
            facts.t_jiffies = text
                .split_once("t=")
                .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
            break;
        }
    }
    facts.stalled_task = stalled_task(lines);
    if let Some((comm, pid)) = facts.stalled_task.as_deref().and_then(task_pid) {
        splat.task = Some(comm);
        splat.pid = Some(pid);
    }
    let stalled_cpu_line = lines
        .iter()
        .filter_map(|l| parse_cpu_line(&l.text))
        .find(|c| facts.stalled_cpus.contains(&c.cpu));
    if let Some(CpuLine {
        cpu,
        pid,
        comm,
        kernel,
    }) = stalled_cpu_line
    {
        splat.cpu = Some(cpu);
        splat.pid = Some(pid);
        splat.task = Some(comm.clone());
        splat.comm = Some(comm);
        splat.kernel = kernel;
    }
    splat.facts = SplatFacts::RcuStall(facts);
}

fn without_rcu_prefix(text: &str) -> &str {
    text.strip_prefix("rcu:").unwrap_or(text).trim_start()
}

/// `1-...0: (5 ticks this GP) idle=...`: the stalled CPU's number.
/// `1-...!: (3 GPs behind) idle=...` too.
fn stalled_cpu(text: &str) -> Option<u32> {
    let (cpu, rest) = text.split_once('-')?;
    let shaped = rest.contains(": (")
        && (rest.contains("ticks this GP")
            || rest.contains("GPs behind")
            || rest.contains("idle="));
    shaped.then(|| cpu.parse().ok())?
}

/// 4.x prints the stalled CPUs inline: `... detected stalls on CPUs/tasks: { 2 3} (detected by
/// 0, t=105007 jiffies, ...)`; expedited stalls as `{ 1-.... }`.
fn inline_cpus(header: &str) -> Vec<u32> {
    header
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(list, _)| {
            list.split_whitespace()
                .filter_map(|c| c.split('-').next()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The task dumped for the stalled CPU (`Task dump for CPU 1:` + `task:comm ... pid:22`, or the
/// old `sched_show_task` line), not the grace-period kthread dumped after "kthread starved".
fn stalled_task(lines: &[LogLine]) -> Option<String> {
    for line in lines.iter().skip(1) {
        let text = without_rcu_prefix(&line.text);
        if text.contains("kthread starved") || text.contains("grace-period kthread") {
            return None;
        }
        if let Some(task) = task_dump(text) {
            return Some(task);
        }
    }
    None
}

/// `task:migration/1     state:R ... pid:22 ...` or
/// `syz-executor5   R  running task    22056 22277   3688 0x00000008` -> `comm/pid`.
fn task_dump(text: &str) -> Option<String> {
    if let Some(rest) = text.strip_prefix("task:") {
        let comm = rest.split_whitespace().next()?;
        let pid = rest
            .split_whitespace()
            .find_map(|w| w.strip_prefix("pid:"))?;
        return Some(format!("{comm}/{pid}"));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let [.., pid, ppid, flags] = words.as_slice() else {
        return None;
    };
    let numeric = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let shaped = flags.starts_with("0x") && numeric(pid) && numeric(ppid) && words.len() >= 5;
    let state = words
        .get(1)
        .is_some_and(|s| s.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    (shaped && state).then(|| format!("{}/{pid}", words[0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_cpu_lists() {
        let header = "INFO: rcu_sched detected stalls on CPUs/tasks: { 2 3} (detected by 0, t=105007 jiffies, g=1, c=2, q=3)";
        assert_eq!(inline_cpus(header), [2, 3]);
        let expedited = "rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-.... } 2 jiffies s: 3 root: 0x2/.";
        assert_eq!(inline_cpus(expedited), [1]);
        assert_eq!(
            stalled_cpu("1-...!: (3 GPs behind) idle=19a/1/0x4000000000000002"),
            Some(1)
        );
    }
}
