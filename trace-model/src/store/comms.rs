//! The comm of each event, kept per task instead of per event.
//!
//! A task's comm changes rarely (an `exec`, a name a trace.dat import learns late), so the
//! store keeps, per pid, the event indices where its comm changes: event `i` has the comm
//! of the last change of its pid at or before `i`. A few thousand entries instead of 4
//! bytes an event; a lookup is one hash probe and a search among the pid's changes.

use super::EventIdx;
use crate::strings::StrId;
use rustc_hash::FxHashMap;

/// Per pid, where its comm changes.
#[derive(Clone, Debug, Default)]
pub struct CommTable {
    /// Changes sorted by pid, then event index.
    pids: Vec<i32>,
    from: Vec<EventIdx>,
    comms: Vec<StrId>,
    /// Each pid's changes: `start..end` in the arrays above.
    by_pid: FxHashMap<i32, (u32, u32)>,
}

impl CommTable {
    /// A table from changes `(pid, first event, comm)` in event order.
    pub(crate) fn new(mut changes: Vec<(i32, EventIdx, StrId)>) -> CommTable {
        // Stable: each pid's changes stay in event order.
        changes.sort_by_key(|&(pid, _, _)| pid);
        let mut by_pid = FxHashMap::default();
        let mut start = 0;
        for (i, &(pid, _, _)) in changes.iter().enumerate() {
            if changes.get(i + 1).is_none_or(|next| next.0 != pid) {
                by_pid.insert(pid, (start as u32, i as u32 + 1));
                start = i + 1;
            }
        }
        CommTable {
            pids: changes.iter().map(|c| c.0).collect(),
            from: changes.iter().map(|c| c.1).collect(),
            comms: changes.iter().map(|c| c.2).collect(),
            by_pid,
        }
    }

    /// The table from [`Self::parts`], checked: arrays of one length, sorted by pid then
    /// event, events below `events`.
    pub(crate) fn from_parts(
        pids: &[i32],
        from: &[EventIdx],
        comms: &[StrId],
        events: usize,
    ) -> Result<CommTable, String> {
        if from.len() != pids.len() || comms.len() != pids.len() {
            return Err("comm changes of different lengths".into());
        }
        if !(1..pids.len()).all(|i| (pids[i - 1], from[i - 1]) < (pids[i], from[i])) {
            return Err("comm changes out of order".into());
        }
        if from.iter().any(|&i| i as usize >= events) {
            return Err("a comm change points past the events".into());
        }
        Ok(CommTable::new(
            (0..pids.len())
                .map(|i| (pids[i], from[i], comms[i]))
                .collect(),
        ))
    }

    /// The changes as arrays: pids, first events, comms.
    pub(crate) fn parts(&self) -> (&[i32], &[EventIdx], &[StrId]) {
        (&self.pids, &self.from, &self.comms)
    }

    /// The comm of event `i`, whose pid is `pid` (empty when the table has none for it).
    #[inline]
    pub fn get(&self, pid: i32, i: EventIdx) -> StrId {
        let Some(&(start, end)) = self.by_pid.get(&pid) else {
            return StrId::EMPTY;
        };
        let from = &self.from[start as usize..end as usize];
        match from.partition_point(|&f| f <= i) {
            0 => StrId::EMPTY,
            n => self.comms[start as usize + n - 1],
        }
    }

    /// Resident bytes.
    pub fn heap_bytes(&self) -> usize {
        self.pids.capacity() * 12 + self.by_pid.capacity() * 16
    }
}

/// What a builder records of the comms pushed: each pid's changes, in push order.
#[derive(Debug)]
pub(crate) struct CommChanges {
    current: FxHashMap<i32, StrId>,
    /// Pids pushed lately with their current comm, by the pid's low bits: a merged
    /// trace's events alternate between the few tasks its CPUs run, and a hit costs no
    /// hash probe.
    recent: [(i32, StrId); RECENT],
    pub(crate) changes: Vec<(i32, EventIdx, StrId)>,
}

const RECENT: usize = 64;

impl Default for CommChanges {
    fn default() -> Self {
        CommChanges {
            current: FxHashMap::default(),
            // No event pushes this comm id (the interner would need 4 G strings).
            recent: [(0, StrId(u32::MAX)); RECENT],
            changes: Vec::new(),
        }
    }
}

impl CommChanges {
    /// Notes that event `i` of `pid` has `comm`.
    #[inline]
    pub(crate) fn push(&mut self, pid: i32, comm: StrId, i: EventIdx) {
        let slot = &mut self.recent[pid as usize % RECENT];
        if *slot == (pid, comm) {
            return;
        }
        *slot = (pid, comm);
        self.record(pid, comm, i);
    }

    #[cold]
    fn record(&mut self, pid: i32, comm: StrId, i: EventIdx) {
        if self.current.insert(pid, comm) != Some(comm) {
            self.changes.push((pid, i, comm));
        }
    }

    /// The comm of every event in push order, from the pids in that order (a builder that
    /// must sort rebuilds the changes in the new order from it).
    pub(crate) fn replay(&self, pids: &[i32]) -> Vec<StrId> {
        let mut now: FxHashMap<i32, StrId> = FxHashMap::default();
        let mut next = self.changes.iter().peekable();
        (0..)
            .zip(pids)
            .map(|(i, &pid)| {
                while let Some(&(p, _, comm)) = next.next_if(|c| c.1 == i) {
                    now.insert(p, comm);
                }
                now.get(&pid).copied().unwrap_or(StrId::EMPTY)
            })
            .collect()
    }

    /// Changes of a comm column already in order.
    pub(crate) fn of_column(pids: &[i32], comms: &[StrId]) -> Vec<(i32, EventIdx, StrId)> {
        let mut c = CommChanges::default();
        for (i, (&pid, &comm)) in (0..).zip(pids.iter().zip(comms)) {
            c.push(pid, comm, i);
        }
        c.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_reads_the_comm_its_pid_had_when_it_was_pushed() {
        let (a, b, c) = (StrId(1), StrId(2), StrId(3));
        let pushed = [(7, a), (7, a), (9, c), (7, b), (9, c), (7, b), (7, a)];
        let mut changes = CommChanges::default();
        for (i, &(pid, comm)) in (0..).zip(&pushed) {
            changes.push(pid, comm, i);
        }
        assert_eq!(changes.changes.len(), 4, "{:?}", changes.changes);
        let pids: Vec<i32> = pushed.iter().map(|p| p.0).collect();
        let want: Vec<StrId> = pushed.iter().map(|p| p.1).collect();
        assert_eq!(changes.replay(&pids), want);
        let table = CommTable::new(changes.changes.clone());
        for (i, &(pid, comm)) in (0..).zip(&pushed) {
            assert_eq!(table.get(pid, i), comm, "event {i}");
        }
        assert_eq!(table.get(8, 0), StrId::EMPTY, "a pid without events");
        let (p, f, s) = table.parts();
        let again = CommTable::from_parts(p, f, s, pushed.len()).unwrap();
        assert_eq!(again.get(7, 6), a);
        assert!(
            CommTable::from_parts(p, f, s, 5).is_err(),
            "a change past the events"
        );
        assert!(CommTable::from_parts(&p[1..], f, s, 7).is_err());
    }
}
