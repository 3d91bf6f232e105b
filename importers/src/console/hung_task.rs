//! khungtaskd: `INFO: task comm:pid blocked for more than N seconds.`
//!
//! The `CPU:` line of this report (if any) is the reporting thread, so it is not the task's.

use super::common::{held_locks, kernel_from_taint_line};
use super::header::HUNG_TASK_WORDINGS;
use super::lines::LogLine;
use trace_model::splat::{Splat, SplatFacts};

pub fn parse(lines: &[LogLine], splat: &mut Splat) {
    let header = lines.first().map_or("", |l| l.text.as_str());
    let mut blocked_seconds = 0;
    let mut wording = "";
    // The comm may hold spaces or `:`; the wording is the last match in the line.
    let found = header.strip_prefix("INFO: task ").and_then(|rest| {
        HUNG_TASK_WORDINGS
            .iter()
            .filter_map(|w| rest.rfind(w).map(|at| (at, *w)))
            .max_by_key(|&(at, _)| at)
            .map(|(at, w)| (&rest[..at], w, &rest[at + w.len()..]))
    });
    if let Some((task, how, seconds)) = found
        && let Some((comm, pid)) = task.rsplit_once(':')
    {
        wording = how;
        splat.task = Some(comm.to_owned());
        splat.pid = pid.parse().ok();
        blocked_seconds = seconds
            .split(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
    }
    splat.kernel = lines.get(1).and_then(|l| kernel_from_taint_line(&l.text));
    if let (Some(task), Some(pid)) = (&splat.task, splat.pid) {
        splat.held_locks = held_locks(lines, Some(&format!("{task}/{pid}")));
    }
    splat.facts = SplatFacts::HungTask {
        blocked_seconds,
        io_wait: wording.contains("I/O wait"),
        cant_die: wording.contains("can't die"),
    };
}
