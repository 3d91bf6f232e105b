//! Saved cmdlines (`<pid> <comm>` lines): the comm trace-cmd prints for each pid.

use rustc_hash::FxHashMap;
use trace_model::strings::StrId;

/// pid -> comm, as trace-cmd report resolves it: the saved cmdlines, then the first comm
/// a `sched_switch` / `sched_wakeup` names for a pid it did not know.
#[derive(Debug, Default)]
pub struct Comms {
    by_pid: FxHashMap<i32, StrId>,
    idle: StrId,
    unknown: StrId,
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
        if pid == 0 {
            return self.idle;
        }
        self.by_pid.get(&pid).copied().unwrap_or(self.unknown)
    }

    /// Learns a comm from an event payload, unless the pid already has one.
    #[inline]
    pub fn learn(&mut self, pid: i32, comm: StrId) {
        if pid != 0 {
            self.by_pid.entry(pid).or_insert(comm);
        }
    }
}
