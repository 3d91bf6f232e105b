//! The lock-class dependency graph as lockdep derives it (kernel/locking/lockdep.c,
//! `validate_chain` / `check_prevs_add`), its elementary cycles and its strong paths.

use crate::context::locks::{ClassId, HoldIdx, LockHold, LockId, LockTable};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::VecDeque;

/// At most this many elementary cycles are reported (a kernel-wide trace can have a dense
/// dependency graph; the SCCs are all reported through their first cycles anyway).
const MAX_CYCLES: usize = 256;
/// Cycles longer than this are not enumerated (lockdep's own reports rarely exceed 6).
const MAX_CYCLE_LEN: usize = 8;
/// DFS steps allowed for the whole enumeration.
const MAX_SEARCH_STEPS: usize = 2_000_000;

/// Edge types of lockdep's read rules (5.10+): bit `2*prev_shared + next_recursive`. The
/// held side is shared when held as any reader; the acquired side counts as a recursive
/// reader whenever it was a read: a trace does not record which reads are recursive, and
/// taking them all as recursive never turns a non-deadlock into a deadlock.
const TYPE_BITS: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

/// One dependency `from -> to` with its first witness and how often it was seen.
#[derive(Clone, Debug)]
pub struct Edge {
    pub from: ClassId,
    pub to: ClassId,
    /// The first acquisition that created it: (held lock, newly acquired lock).
    pub witness: (HoldIdx, HoldIdx),
    pub count: u64,
    pub first_ts: u64,
    pub last_ts: u64,
    /// The shortest distance seen between the two in their held stack (1: `to` was taken
    /// right on top of `from`; more through held trylocks and locks lockdep does not
    /// validate). `/proc/lockdep` lists the edges of distance 1.
    pub distance: u32,
    /// Bit set of `TYPE_BITS` seen (held as shared reader / acquired as recursive reader).
    types: u8,
    /// Every distinct pair of lock instances (held, acquired) that made it.
    pub instances: Vec<(LockId, LockId)>,
}

impl Edge {
    /// The lockdep dependency types seen: `(held shared, acquired as recursive read)`.
    pub fn types(&self) -> impl Iterator<Item = (bool, bool)> + '_ {
        TYPE_BITS
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.types & (1 << i) != 0)
            .map(|(_, &t)| t)
    }
}

/// A same-instance re-acquisition: a self-deadlock (unless both are recursive reads).
#[derive(Clone, Debug)]
pub struct Recursion {
    pub outer: HoldIdx,
    pub inner: HoldIdx,
    pub count: u64,
    pub last_ts: u64,
}

/// The lock-class dependency graph of a trace.
#[derive(Clone, Debug, Default)]
pub struct DependencyGraph {
    pub edges: Vec<Edge>,
    /// Outgoing edge indices per class.
    pub out: Vec<Vec<u32>>,
    /// Recursive acquisitions, by class.
    pub recursions: Vec<(ClassId, Recursion)>,
    /// (edge, held instance, acquired instance) already in an edge's `instances`.
    seen_instances: FxHashSet<(u32, LockId, LockId)>,
}

impl DependencyGraph {
    /// Builds the graph from every hold of the table, as lockdep's `validate_chain` does
    /// (kernel/locking/lockdep.c): a trylock or an unvalidated acquisition adds nothing; an
    /// acquisition of a class the context already holds adds nothing either (lockdep reports
    /// it, or lets it pass under a `nest_lock` without new dependencies, or it is a subclass
    /// the trace cannot tell apart) unless both are reads; otherwise the held stack is walked
    /// from the top, unvalidated holds skipped, adding `prev -> next` and stopping after the
    /// first held lock that is not a trylock.
    pub fn build(table: &LockTable) -> DependencyGraph {
        let mut edge_of: FxHashMap<(ClassId, ClassId), u32> = FxHashMap::default();
        let mut recursion_of: FxHashMap<ClassId, usize> = FxHashMap::default();
        let mut g = DependencyGraph {
            out: vec![Vec::new(); table.classes.len()],
            ..Default::default()
        };
        for (next_idx, next) in table.holds.iter().enumerate() {
            if next.trylock || !next.validated {
                continue;
            }
            let next_class = table.class_of(next.lock);
            let held = table.held_before(next);
            let same_class = held.iter().rev().copied().find(|&h| {
                let prev = &table.holds[h as usize];
                prev.validated
                    && table.class_of(prev.lock) == next_class
                    && !(next.read != 0 && prev.read != 0)
            });
            if let Some(prev_idx) = same_class {
                if table.holds[prev_idx as usize].lock == next.lock {
                    g.note_recursion(&mut recursion_of, next_class, prev_idx, next_idx, next);
                }
                continue;
            }
            for (depth, &prev_idx) in held.iter().enumerate().rev() {
                let prev = &table.holds[prev_idx as usize];
                if !prev.validated {
                    continue;
                }
                let prev_class = table.class_of(prev.lock);
                if prev_class != next_class {
                    let bit = 2 * usize::from(prev.read != 0) + usize::from(next.read != 0);
                    let e = g.add_edge(
                        &mut edge_of,
                        (prev_class, prev_idx),
                        (next_class, next_idx),
                        (1u8 << bit, next.acquire_ts, (held.len() - depth) as u32),
                    );
                    if g.seen_instances.insert((e, prev.lock, next.lock)) {
                        g.edges[e as usize].instances.push((prev.lock, next.lock));
                    }
                }
                if !prev.trylock {
                    break;
                }
            }
        }
        g
    }

    fn add_edge(
        &mut self,
        edge_of: &mut FxHashMap<(ClassId, ClassId), u32>,
        (from, prev_idx): (ClassId, HoldIdx),
        (to, next_idx): (ClassId, usize),
        (type_bit, ts, distance): (u8, u64, u32),
    ) -> u32 {
        let edges = &mut self.edges;
        let i = *edge_of.entry((from, to)).or_insert_with(|| {
            edges.push(Edge {
                from,
                to,
                witness: (prev_idx, next_idx as HoldIdx),
                count: 0,
                first_ts: ts,
                last_ts: ts,
                distance,
                types: 0,
                instances: Vec::new(),
            });
            let i = (edges.len() - 1) as u32;
            self.out[from.0 as usize].push(i);
            i
        });
        let e = &mut self.edges[i as usize];
        e.count += 1;
        e.last_ts = e.last_ts.max(ts);
        e.types |= type_bit;
        e.distance = e.distance.min(distance);
        i
    }

    fn note_recursion(
        &mut self,
        recursion_of: &mut FxHashMap<ClassId, usize>,
        class: ClassId,
        outer: HoldIdx,
        inner: usize,
        inner_hold: &LockHold,
    ) {
        let recursions = &mut self.recursions;
        let i = *recursion_of.entry(class).or_insert_with(|| {
            recursions.push((
                class,
                Recursion {
                    outer,
                    inner: inner as HoldIdx,
                    count: 0,
                    last_ts: inner_hold.acquire_ts,
                },
            ));
            recursions.len() - 1
        });
        let r = &mut self.recursions[i].1;
        r.count += 1;
        r.last_ts = r.last_ts.max(inner_hold.acquire_ts);
    }

    /// Elementary cycles (edge index lists), each once, bounded by [`MAX_CYCLES`],
    /// [`MAX_CYCLE_LEN`] and [`MAX_SEARCH_STEPS`]. Only cycles that are deadlocks under the
    /// recursive-read rules are kept.
    pub fn cycles(&self) -> Vec<Vec<u32>> {
        let mut found = Vec::new();
        let mut steps = 0usize;
        for scc in self.strongly_connected_components() {
            if scc.len() < 2 {
                continue;
            }
            // Johnson-style: cycles through `start` using only classes ranked after it, so
            // each cycle is found exactly once (from its lowest-ranked class).
            let mut rank = FxHashMap::default();
            for (r, &c) in scc.iter().enumerate() {
                rank.insert(c, r);
            }
            for (start_rank, &start) in scc.iter().enumerate() {
                let mut path: Vec<u32> = Vec::new();
                let mut on_path = vec![false; scc.len()];
                on_path[start_rank] = true;
                self.cycles_from(
                    start,
                    start,
                    start_rank,
                    &rank,
                    &mut on_path,
                    &mut path,
                    &mut found,
                    &mut steps,
                );
                if found.len() >= MAX_CYCLES || steps >= MAX_SEARCH_STEPS {
                    return found;
                }
            }
        }
        found
    }

    #[allow(clippy::too_many_arguments)]
    fn cycles_from(
        &self,
        start: ClassId,
        at: ClassId,
        start_rank: usize,
        rank: &FxHashMap<ClassId, usize>,
        on_path: &mut [bool],
        path: &mut Vec<u32>,
        found: &mut Vec<Vec<u32>>,
        steps: &mut usize,
    ) {
        for &e in &self.out[at.0 as usize] {
            *steps += 1;
            if found.len() >= MAX_CYCLES || *steps >= MAX_SEARCH_STEPS {
                return;
            }
            let to = self.edges[e as usize].to;
            let Some(&r) = rank.get(&to) else { continue };
            if r < start_rank {
                continue;
            }
            path.push(e);
            if to == start {
                if self.is_deadlock(path) {
                    found.push(path.clone());
                }
            } else if !on_path[r] && path.len() < MAX_CYCLE_LEN {
                on_path[r] = true;
                self.cycles_from(start, to, start_rank, rank, on_path, path, found, steps);
                on_path[r] = false;
            }
            path.pop();
        }
    }

    /// lockdep 5.10+: a cycle is a deadlock when some choice of its edges' types is a
    /// "strong" path: no `-(*R)->` (acquired as recursive reader) immediately followed by
    /// `-(S*)->` (held as shared reader), cyclically.
    fn is_deadlock(&self, cycle: &[u32]) -> bool {
        let edge = |e: u32| &self.edges[e as usize];
        edge(cycle[0])
            .types()
            .any(|(first_shared, first_recursive)| {
                // Possible "acquired as recursive read" values at the end of the path so far.
                let mut ends = [!first_recursive, first_recursive];
                for &e in &cycle[1..] {
                    ends = strong_step(ends, edge(e));
                }
                if first_shared {
                    ends[0]
                } else {
                    ends[0] || ends[1]
                }
            })
    }

    /// Classes `from` reaches by strong paths, nearest first, and the edge each was first
    /// reached by (breadth-first).
    pub fn strong_reach(&self, from: ClassId) -> (Vec<ClassId>, Vec<Option<u32>>) {
        let mut order = Vec::new();
        let mut via: Vec<Option<u32>> = vec![None; self.out.len()];
        // Per class, whether it was reached by a last edge that can be non-recursive / is
        // recursive: a recursive arrival may only leave through an exclusive hold.
        let mut arrived = vec![[false; 2]; self.out.len()];
        let mut queue = VecDeque::from([(from, [true, false])]);
        while let Some((at, ends)) = queue.pop_front() {
            for &e in &self.out[at.0 as usize] {
                let edge = &self.edges[e as usize];
                let next = strong_step(ends, edge);
                let seen = &mut arrived[edge.to.0 as usize];
                let new = [next[0] && !seen[0], next[1] && !seen[1]];
                if edge.to == from || !(new[0] || new[1]) {
                    continue;
                }
                seen[0] |= new[0];
                seen[1] |= new[1];
                if via[edge.to.0 as usize].is_none() {
                    via[edge.to.0 as usize] = Some(e);
                    order.push(edge.to);
                }
                queue.push_back((edge.to, new));
            }
        }
        (order, via)
    }

    /// Tarjan's algorithm, iterative (a deep graph must not overflow the stack).
    fn strongly_connected_components(&self) -> Vec<Vec<ClassId>> {
        const UNVISITED: u32 = u32::MAX;
        let n = self.out.len();
        let mut index = vec![UNVISITED; n];
        let mut low = vec![0u32; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<u32> = Vec::new();
        let mut sccs = Vec::new();
        let mut next_index = 0u32;
        // (node, position in its out list)
        let mut call: Vec<(u32, usize)> = Vec::new();
        for root in 0..n as u32 {
            if index[root as usize] != UNVISITED || self.out[root as usize].is_empty() {
                continue;
            }
            call.push((root, 0));
            index[root as usize] = next_index;
            low[root as usize] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root as usize] = true;
            while let Some(&mut (v, ref mut pos)) = call.last_mut() {
                let vu = v as usize;
                if let Some(&e) = self.out[vu].get(*pos) {
                    *pos += 1;
                    let w = self.edges[e as usize].to.0;
                    let wu = w as usize;
                    if index[wu] == UNVISITED {
                        index[wu] = next_index;
                        low[wu] = next_index;
                        next_index += 1;
                        stack.push(w);
                        on_stack[wu] = true;
                        call.push((w, 0));
                    } else if on_stack[wu] {
                        low[vu] = low[vu].min(index[wu]);
                    }
                    continue;
                }
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent as usize] = low[parent as usize].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    let mut scc = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        scc.push(ClassId(w));
                        if w == v {
                            break;
                        }
                    }
                    scc.reverse();
                    sccs.push(scc);
                }
            }
        }
        sccs
    }
}

/// One step of a strong path: from the possible `[non-recursive, recursive]` arrivals at
/// `edge.from`, the arrivals at `edge.to` its types allow.
fn strong_step(ends: [bool; 2], edge: &Edge) -> [bool; 2] {
    let mut next = [false, false];
    for (shared, recursive) in edge.types() {
        let reachable = if shared { ends[0] } else { ends[0] || ends[1] };
        if reachable {
            next[usize::from(recursive)] = true;
        }
    }
    next
}

/// lock:* events name a class but not lockdep's key (`#N`) nor subclass, so one name can
/// stand for several lockdep classes (every `seqcount_spinlock_t` is `&____s->seqcount`). A
/// chain of dependencies is one lockdep chain only where lock instances tie it together: at
/// each class between two consecutive edges, one instance the first edge acquired and the
/// second held (and at the ends, one of the instances `start` / `end` name). Returns the
/// first class where nothing ties them.
pub fn first_untied_class(
    graph: &DependencyGraph,
    path: &[u32],
    start: Option<&FxHashSet<LockId>>,
    end: Option<&FxHashSet<LockId>>,
    cyclic: bool,
) -> Option<ClassId> {
    let edge = |e: u32| &graph.edges[e as usize];
    let acquired =
        |e: u32| -> FxHashSet<LockId> { edge(e).instances.iter().map(|p| p.1).collect() };
    let held_by =
        |e: u32, set: &FxHashSet<LockId>| edge(e).instances.iter().any(|p| set.contains(&p.0));
    let (&first, &last) = (path.first()?, path.last()?);
    if let Some(start) = start
        && !held_by(first, start)
    {
        return Some(edge(first).from);
    }
    for pair in path.windows(2) {
        if !held_by(pair[1], &acquired(pair[0])) {
            return Some(edge(pair[1]).from);
        }
    }
    if cyclic && !held_by(first, &acquired(last)) {
        return Some(edge(first).from);
    }
    match end {
        Some(end) if !acquired(last).iter().any(|l| end.contains(l)) => Some(edge(last).to),
        _ => None,
    }
}
