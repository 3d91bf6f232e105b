//! Saved cmdlines (`<pid> <comm>` lines): the comm trace-cmd prints for each pid.

use rustc_hash::FxHashMap;
use std::cell::Cell;
use trace_model::strings::StrId;

/// pid -> comm, as trace-cmd report resolves it: the saved cmdlines, then the first comm
/// a `sched_switch` / `sched_wakeup` names for a pid it did not know.
#[derive(Debug, Default)]
pub struct Comms {
    by_pid: FxHashMap<i32, StrId>,
    idle: StrId,
    unknown: StrId,
    /// The last pid looked up and its comm: a CPU's events come in runs of one task.
    last: Cell<(i32, StrId)>,
}

impl Comms {
    /// Reads the cmdlines text. `intern` stores a name; `idle` / `unknown` are the
    /// interned `<idle>` and `<...>`.
    pub fn parse(
        text: &str,
        idle: StrId,
        unknown: StrId,
        mut intern: impl FnMut(&str) -> StrId,
    ) -> Comms {
        let mut comms = Comms {
            by_pid: FxHashMap::default(),
            idle,
            unknown,
            last: Cell::new((0, idle)),
        };
        for line in text.lines() {
            let Some((pid, comm)) = line.split_once(' ') else {
                continue;
            };
            if let Ok(pid) = pid.trim().parse() {
                comms.by_pid.entry(pid).or_insert_with(|| intern(comm));
            }
        }
        comms
    }

    /// The comm of `pid`: `<idle>` for 0, `<...>` when unknown.
    #[inline]
    pub fn get(&self, pid: i32) -> StrId {
        let (last_pid, last_comm) = self.last.get();
        if pid == last_pid {
            return last_comm;
        }
        let comm = match pid {
            0 => self.idle,
            _ => self.by_pid.get(&pid).copied().unwrap_or(self.unknown),
        };
        self.last.set((pid, comm));
        comm
    }

    /// Learns a comm from an event payload, unless the pid already has one.
    #[inline]
    pub fn learn(&mut self, pid: i32, comm: StrId) {
        if pid != 0 {
            let known = *self.by_pid.entry(pid).or_insert(comm);
            if self.last.get().0 == pid {
                // The cached lookup may have been `<...>`.
                self.last.set((pid, known));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comm_learned_after_a_lookup_replaces_the_cached_unknown() {
        let (idle, unknown, init, learned) = (StrId(1), StrId(2), StrId(3), StrId(4));
        let mut comms = Comms::parse("1 init\n", idle, unknown, |_| init);
        assert_eq!(comms.get(7), unknown);
        comms.learn(7, learned);
        assert_eq!(comms.get(7), learned);
        assert_eq!(comms.get(1), init);
        comms.learn(1, learned);
        assert_eq!(comms.get(1), init, "a known pid keeps its comm");
        assert_eq!(comms.get(0), idle);
    }
}
