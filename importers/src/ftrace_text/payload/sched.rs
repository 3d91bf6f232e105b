//! sched_switch, sched_wakeup / wakeup_new / waking, sched_migrate_task.

use super::text::{int, value};
use crate::ftrace_text::scan::{first_word, split_str};
use trace_model::{EventStoreBuilder, Payload, PayloadIn, TaskState};

/// `prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120`
/// (comms may hold spaces), the same without `==>` and with a numeric state (old kernels,
/// libtraceevent fallbacks), or trace-cmd's plugin form `a:1 [120] S ==> b:2 [120]`.
pub(super) fn switch<'a>(p: &'a str, b: &mut EventStoreBuilder) -> Option<PayloadIn<'a>> {
    let (prev_comm, prev_pid, prev_prio, state, next_comm, next_pid, next_prio) =
        match p.strip_prefix("prev_comm=") {
            Some(rest) => {
                let (prev_comm, rest) = split_str(rest, " prev_pid=")?;
                let (prev_pid, rest) = split_str(rest, " prev_prio=")?;
                let (prev_prio, rest) = split_str(rest, " prev_state=")?;
                let (state, rest) = split_str(rest, " next_comm=")?;
                let (next_comm, rest) = split_str(rest, " next_pid=")?;
                let (next_pid, next_prio) = split_str(rest, " next_prio=")?;
                let state = state.strip_suffix(" ==>").unwrap_or(state);
                (
                    prev_comm, prev_pid, prev_prio, state, next_comm, next_pid, next_prio,
                )
            }
            None => {
                let (prev, next) = split_str(p, " ==> ")?;
                let (prev, state) = prev.rsplit_once(' ')?;
                let (prev_comm, prev_pid, prev_prio) = plugin_task(prev)?;
                let (next_comm, next_pid, next_prio) = plugin_task(next)?;
                (
                    prev_comm, prev_pid, prev_prio, state, next_comm, next_pid, next_prio,
                )
            }
        };
    Some(Payload::SchedSwitch {
        prev_comm: b.intern(prev_comm),
        prev_pid: int(prev_pid)?,
        prev_prio: int(prev_prio)?,
        prev_state: task_state(state.trim()),
        next_comm: b.intern(next_comm),
        next_pid: int(next_pid)?,
        next_prio: int(first_word(next_prio))?,
    })
}

/// `comm:pid [prio]` of trace-cmd's sched plugin.
fn plugin_task(s: &str) -> Option<(&str, &str, &str)> {
    let (task, prio) = s.trim().rsplit_once(" [")?;
    let (comm, pid) = task.rsplit_once(':')?;
    Some((comm, pid, prio.split(']').next()?))
}

/// Letters (`S`, `R+`, `D|K`) or the raw number libtraceevent prints when it cannot evaluate
/// the format's flag table. Numbers use the pre-4.14 bit order (S D T t X Z x K W P N), the
/// one whose kernels lack a usable table; bits from 2048 up are the "preempted" marker.
fn task_state(s: &str) -> TaskState {
    let Ok(raw) = s.parse::<u32>() else {
        return TaskState::parse(s);
    };
    const BITS: [u16; 11] = [
        TaskState::INTERRUPTIBLE,
        TaskState::UNINTERRUPTIBLE,
        TaskState::STOPPED,
        TaskState::TRACED,
        TaskState::DEAD,
        TaskState::ZOMBIE,
        TaskState::DEAD,
        TaskState::WAKEKILL,
        TaskState::WAKING,
        TaskState::PARKED,
        TaskState::NOLOAD,
    ];
    let mut bits = 0u16;
    for (i, &bit) in BITS.iter().enumerate() {
        if raw & (1 << i) != 0 {
            bits |= bit;
        }
    }
    if raw >= 1 << BITS.len() {
        bits |= TaskState::PREEMPTED;
    }
    TaskState(bits)
}

/// `comm=a pid=1 prio=120 [success=1] target_cpu=003`, or the plugin form
/// `a:1 [120] [success=1] CPU:003`.
pub(super) fn wakeup<'a>(p: &'a str, b: &mut EventStoreBuilder) -> Option<PayloadIn<'a>> {
    let (comm, pid, prio, target) = match p.strip_prefix("comm=") {
        Some(rest) => {
            let (comm, rest) = split_str(rest, " pid=")?;
            let (pid, rest) = split_str(rest, " prio=")?;
            let prio = first_word(rest);
            (comm, pid, prio, value(rest, "target_cpu")?)
        }
        None => {
            let (task, cpu) = p.rsplit_once(" CPU:")?;
            let task = task.strip_suffix(" success=1").unwrap_or(task);
            let (comm, pid, prio) = plugin_task(task)?;
            (comm, pid, prio, cpu)
        }
    };
    Some(Payload::SchedWakeup {
        comm: b.intern(comm),
        pid: int(pid)?,
        prio: int(prio)?,
        target_cpu: int(target)?,
    })
}

/// `comm=a pid=1 prio=120 orig_cpu=3 dest_cpu=1`.
pub(super) fn migrate<'a>(p: &'a str, b: &mut EventStoreBuilder) -> Option<PayloadIn<'a>> {
    let (comm, rest) = split_str(p.strip_prefix("comm=")?, " pid=")?;
    let (pid, rest) = split_str(rest, " prio=")?;
    Some(Payload::SchedMigrate {
        comm: b.intern(comm),
        pid: int(pid)?,
        prio: int(first_word(rest))?,
        orig_cpu: int(value(rest, "orig_cpu")?)?,
        dest_cpu: int(value(rest, "dest_cpu")?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_numeric_states() {
        assert!(task_state("0").is_runnable());
        assert_eq!(task_state("1").0, TaskState::INTERRUPTIBLE);
        assert_eq!(task_state("64").0, TaskState::DEAD);
        assert_eq!(task_state("4096").0, TaskState::PREEMPTED);
        assert!(task_state("4096").is_runnable());
        assert_eq!(task_state("R+").0, TaskState::PREEMPTED);
    }
}
