//! Lock-order cycles, lockdep's way: a dependency graph of lock classes with an edge from
//! held locks to each newly acquired one, then every elementary cycle of it (bounded). A
//! cycle is reported even when its orders never overlapped in time: that is the point, the
//! deadlock has not happened yet.
//!
//! Edges (formats.md 4.6): on a non-trylock acquire, walk the context's held stack from the
//! top and add `prev -> next` for each held lock, stopping after the first non-trylock one.
//! Trylock acquisitions add no edge. `held_before` is already scoped to one context, so an
//! interrupt handler does not inherit the interrupted task's holds. Same class nested:
//! recursion only when the instance is the same; a different instance is annotated nesting.

use super::evidence::{
    LockView, acquire_evidence, caller_name, class_name, describe_acquire, finding_id,
    holder_label, push_unique,
};
use crate::context::locks::{ClassId, HoldIdx, HolderContext, LockHold, LockTable};
use crate::{Confidence, Evidence, Finding, FindingKind, seconds};
use rustc_hash::FxHashMap;

/// At most this many elementary cycles are reported (a kernel-wide trace can have a dense
/// dependency graph; the SCCs are all reported through their first cycles anyway).
const MAX_CYCLES: usize = 256;
/// Cycles longer than this are not enumerated (lockdep's own reports rarely exceed 6).
const MAX_CYCLE_LEN: usize = 8;
/// DFS steps allowed for the whole enumeration.
const MAX_SEARCH_STEPS: usize = 2_000_000;

/// Edge types of lockdep's recursive-read rules: bit `2*prev_recursive + next_recursive`.
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
    /// Bit set of `TYPE_BITS` seen (held / acquired as recursive read).
    types: u8,
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
}

fn is_recursive_read(h: &LockHold) -> bool {
    h.read == 2
}

impl DependencyGraph {
    /// Builds the graph from every hold of the table.
    pub fn build(table: &LockTable) -> DependencyGraph {
        let mut edge_of: FxHashMap<(ClassId, ClassId), u32> = FxHashMap::default();
        let mut recursion_of: FxHashMap<ClassId, usize> = FxHashMap::default();
        let mut g = DependencyGraph {
            out: vec![Vec::new(); table.classes.len()],
            ..Default::default()
        };
        for (next_idx, next) in table.holds.iter().enumerate() {
            if next.trylock {
                continue;
            }
            let next_class = table.class_of(next.lock);
            for &prev_idx in table.held_before(next).iter().rev() {
                let prev = &table.holds[prev_idx as usize];
                let prev_class = table.class_of(prev.lock);
                if prev_class == next_class {
                    let both_recursive_read = is_recursive_read(prev) && is_recursive_read(next);
                    if prev.lock == next.lock && !both_recursive_read {
                        g.note_recursion(&mut recursion_of, prev_class, prev_idx, next_idx, next);
                    }
                } else {
                    g.add_edge(
                        &mut edge_of,
                        (prev_class, prev_idx),
                        (next_class, next_idx),
                        {
                            let bit = 2 * usize::from(is_recursive_read(prev))
                                + usize::from(is_recursive_read(next));
                            (1u8 << bit, next.acquire_ts)
                        },
                    );
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
        (type_bit, ts): (u8, u64),
    ) {
        let edges = &mut self.edges;
        let i = *edge_of.entry((from, to)).or_insert_with(|| {
            edges.push(Edge {
                from,
                to,
                witness: (prev_idx, next_idx as HoldIdx),
                count: 0,
                first_ts: ts,
                last_ts: ts,
                types: 0,
            });
            let i = (edges.len() - 1) as u32;
            self.out[from.0 as usize].push(i);
            i
        });
        let e = &mut self.edges[i as usize];
        e.count += 1;
        e.last_ts = e.last_ts.max(ts);
        e.types |= type_bit;
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

    /// lockdep 5.10+: a cycle is a deadlock unless every way of choosing its edges' types
    /// has a `-(*R)->` immediately followed by `-(R*)->` (cyclically).
    fn is_deadlock(&self, cycle: &[u32]) -> bool {
        let types = |e: u32| {
            let bits = self.edges[e as usize].types;
            TYPE_BITS
                .iter()
                .enumerate()
                .filter(move |&(i, _)| bits & (1 << i) != 0)
                .map(|(_, &t)| t)
        };
        types(cycle[0]).any(|(first_from_r, first_to_r)| {
            // Possible "to is recursive read" values at the end of the path so far.
            let mut ends = [!first_to_r, first_to_r];
            for &e in &cycle[1..] {
                let mut next = [false, false];
                for (from_r, to_r) in types(e) {
                    let reachable = if from_r { ends[0] } else { ends[0] || ends[1] };
                    if reachable {
                        next[usize::from(to_r)] = true;
                    }
                }
                ends = next;
            }
            if first_from_r {
                ends[0]
            } else {
                ends[0] || ends[1]
            }
        })
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

/// Every lock-order cycle and same-instance recursion of the trace.
pub fn detect(v: &LockView) -> Vec<Finding> {
    detect_in(v, &DependencyGraph::build(v.table))
}

/// [`detect`] on an already built graph (the irq-inversion detector shares it).
pub fn detect_in(v: &LockView, graph: &DependencyGraph) -> Vec<Finding> {
    let mut findings: Vec<Finding> = graph
        .cycles()
        .iter()
        .map(|cycle| cycle_finding(v, graph, cycle))
        .collect();
    findings.extend(
        graph
            .recursions
            .iter()
            .map(|(class, r)| recursion_finding(v, *class, r)),
    );
    findings
}

/// Known context everywhere: the order is proven by the lock events themselves. An unknown
/// context (start of data, after a gap) might hide an interrupt boundary between the holds.
fn confidence_of<'a>(holds: impl IntoIterator<Item = &'a LockHold>) -> Confidence {
    if holds
        .into_iter()
        .any(|h| h.context == HolderContext::Unknown)
    {
        Confidence::Probable
    } else {
        Confidence::Definite
    }
}

fn cycle_finding(v: &LockView, graph: &DependencyGraph, cycle: &[u32]) -> Finding {
    // Rotate so the cycle starts at its alphabetically first class: the id is then the same
    // whatever class the enumeration started from, and across recordings.
    let names: Vec<String> = cycle
        .iter()
        .map(|&e| class_name(v, graph.edges[e as usize].from).into_owned())
        .collect();
    let first = (0..names.len()).min_by_key(|&i| &names[i]).unwrap_or(0);
    let order: Vec<u32> = (0..cycle.len())
        .map(|k| cycle[(first + k) % cycle.len()])
        .collect();
    let locks: Vec<String> = (0..names.len())
        .map(|k| names[(first + k) % names.len()].clone())
        .collect();

    let hold = |i: HoldIdx| v.hold(i);
    let edges: Vec<&Edge> = order.iter().map(|&e| &graph.edges[e as usize]).collect();
    let mut functions = Vec::new();
    let mut evidence = Vec::new();
    let mut orders = Vec::new();
    for (k, e) in edges.iter().enumerate() {
        let (prev, next) = (hold(e.witness.0), hold(e.witness.1));
        let (from, to) = (&locks[k], &locks[(k + 1) % locks.len()]);
        for h in [prev, next] {
            if let Some(f) = caller_name(v, h) {
                push_unique(&mut functions, f);
            }
        }
        evidence.push(acquire_evidence(
            v,
            prev,
            format!("holds {}", describe_acquire(v, prev)),
        ));
        evidence.push(acquire_evidence(
            v,
            next,
            format!(
                "{} while holding {from}: order {from} -> {to} (seen {} times, last at {:.6})",
                describe_acquire(v, next),
                e.count,
                seconds(e.last_ts)
            ),
        ));
        orders.push(format!(
            "{} took {to} while holding {from} at {:.6} on CPU {}{}",
            holder_label(v, next),
            seconds(next.acquire_ts),
            next.cpu,
            caller_name(v, next).map_or(String::new(), |f| format!(" in {f}()")),
        ));
    }
    // The closing acquisition: the latest first witness completes the cycle.
    let closing = edges
        .iter()
        .map(|e| hold(e.witness.1))
        .max_by_key(|h| h.acquire_ts)
        .expect("a cycle has edges");
    let overlapped = edges.iter().enumerate().any(|(k, a)| {
        edges[k + 1..]
            .iter()
            .any(|b| holds_overlap(hold(a.witness.1), hold(b.witness.1)))
    });
    let chain = format!("{} -> {}", locks.join(" -> "), locks[0]);
    let summary = format!(
        "Possible deadlock: lock-order cycle {chain}. {}. {}",
        orders.join("; "),
        if overlapped {
            "The orders overlapped in time."
        } else {
            "These orders never overlapped in this trace, but nothing prevents them from \
             running concurrently: each context can then wait for a lock the other holds."
        }
    );
    let mut ids: Vec<&str> = locks.iter().map(String::as_str).collect();
    ids.push(&locks[0]);
    Finding {
        id: finding_id(FindingKind::LockOrderCycle, &ids),
        kind: FindingKind::LockOrderCycle,
        confidence: confidence_of(
            edges
                .iter()
                .flat_map(|e| [hold(e.witness.0), hold(e.witness.1)]),
        ),
        cpu: Some(closing.cpu),
        task: Some(v.comm(closing).to_owned()),
        pid: Some(closing.pid),
        ts: [
            seconds(edges.iter().map(|e| e.first_ts).min().unwrap_or(0)),
            seconds(edges.iter().map(|e| e.last_ts).max().unwrap_or(0)),
        ],
        functions,
        locks,
        summary,
        evidence,
        count: edges.iter().map(|e| e.count).sum(),
        instances: Vec::new(),
    }
}

fn holds_overlap(a: &LockHold, b: &LockHold) -> bool {
    let end = |h: &LockHold| h.release_ts.unwrap_or(u64::MAX);
    a.acquire_ts < end(b) && b.acquire_ts < end(a)
}

fn recursion_finding(v: &LockView, class: ClassId, r: &Recursion) -> Finding {
    let (outer, inner) = (v.hold(r.outer), v.hold(r.inner));
    let name = class_name(v, class).into_owned();
    let mut functions = Vec::new();
    for h in [outer, inner] {
        if let Some(f) = caller_name(v, h) {
            push_unique(&mut functions, f);
        }
    }
    let evidence: Vec<Evidence> = vec![
        acquire_evidence(v, outer, format!("holds {}", describe_acquire(v, outer))),
        acquire_evidence(
            v,
            inner,
            format!(
                "{} again while still holding it",
                describe_acquire(v, inner)
            ),
        ),
    ];
    Finding {
        id: finding_id(FindingKind::LockOrderCycle, &[&name, &name]),
        kind: FindingKind::LockOrderCycle,
        confidence: confidence_of([outer, inner]),
        cpu: Some(inner.cpu),
        task: Some(v.comm(inner).to_owned()),
        pid: Some(inner.pid),
        ts: [seconds(inner.acquire_ts), seconds(r.last_ts)],
        functions,
        locks: vec![name.clone()],
        summary: format!(
            "Recursive locking: {} acquired {name} at {:.6} on CPU {} while already holding \
             the same lock instance (taken at {:.6}); it deadlocks on itself.",
            holder_label(v, inner),
            seconds(inner.acquire_ts),
            inner.cpu,
            seconds(outer.acquire_ts),
        ),
        evidence,
        count: r.count,
        instances: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::locks::LockMode::{Mutex, Spin};
    use crate::detect::fixture::{Fixture, HARDIRQ1, TASK1, TASK2};

    fn cycles_of(fx: Fixture) -> Vec<Finding> {
        fx.detect(detect)
    }

    #[test]
    fn abba_reported_even_when_the_orders_never_overlap() {
        let mut fx = Fixture::default();
        let (a, b) = (fx.lock("mutex_a"), fx.lock("mutex_b"));
        fx.nest(10, TASK1, &[a, b], Mutex);
        // 500 ms later, the other order on another CPU.
        fx.nest(500_000, TASK2, &[b, a], Mutex);
        let found = cycles_of(fx);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.kind, FindingKind::LockOrderCycle);
        assert_eq!(f.confidence, Confidence::Definite);
        assert_eq!(f.locks, ["mutex_a", "mutex_b"]);
        assert_eq!(f.id, "lock-order-cycle:mutex_a>mutex_b>mutex_a");
        assert_eq!(f.ts, [11e-6, 0.500001]);
        assert_eq!(f.evidence.len(), 4);
        assert_eq!((f.cpu, f.pid), (Some(2), Some(102)), "closing acquisition");
        assert!(f.summary.contains("never overlapped"), "{}", f.summary);
    }

    #[test]
    fn three_lock_cycle_found_once() {
        let mut fx = Fixture::default();
        let (a, b, c) = (fx.lock("a"), fx.lock("b"), fx.lock("c"));
        for (t, (x, y)) in [(a, b), (b, c), (c, a)].into_iter().enumerate() {
            let t = t as u64 * 100;
            fx.nest(t, TASK1, &[x, y], Spin);
        }
        let found = cycles_of(fx);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].locks, ["a", "b", "c"]);
        assert_eq!(found[0].count, 3);
    }

    #[test]
    fn trylock_adds_no_edge_but_a_held_trylock_is_a_predecessor() {
        let mut fx = Fixture::default();
        let (a, b) = (fx.lock("a"), fx.lock("b"));
        fx.nest(1, TASK1, &[a, b], Spin);
        // Reverse order with trylock and back-off: legal.
        fx.acquire(10, TASK2, b, Spin, &[]);
        let held_b = fx.last();
        fx.acquire(11, TASK2, a, Spin, &[held_b]).trylock = true;
        let (store, table) = fx.finish();
        assert!(detect(&Fixture::view(&store, &table)).is_empty());
        let g = DependencyGraph::build(&table);
        assert_eq!(g.edges.len(), 1);

        // A trylocked lock held above a normal one still gets an edge, and the walk goes on
        // to the normal one below it.
        let mut fx = Fixture::default();
        let (a, b, c) = (fx.lock("a"), fx.lock("b"), fx.lock("c"));
        fx.acquire(1, TASK1, a, Spin, &[]);
        let ha = fx.last();
        fx.acquire(2, TASK1, b, Spin, &[ha]).trylock = true;
        let hb = fx.last();
        fx.acquire(3, TASK1, c, Spin, &[ha, hb]);
        let (_, table) = fx.finish();
        let g = DependencyGraph::build(&table);
        let pairs: Vec<_> = g.edges.iter().map(|e| (e.from.0, e.to.0)).collect();
        assert_eq!(
            pairs,
            [(1, 2), (0, 2)],
            "b->c (trylock held) then a->c; no a->b"
        );
    }

    #[test]
    fn walk_stops_after_first_non_trylock_held_lock() {
        let mut fx = Fixture::default();
        let (a, b, c) = (fx.lock("a"), fx.lock("b"), fx.lock("c"));
        fx.nest(1, TASK1, &[a, b, c], Spin);
        let (_, table) = fx.finish();
        let g = DependencyGraph::build(&table);
        let pairs: Vec<_> = g.edges.iter().map(|e| (e.from.0, e.to.0)).collect();
        assert_eq!(
            pairs,
            [(0, 1), (1, 2)],
            "a->c comes transitively, not as an edge"
        );
    }

    #[test]
    fn interrupt_does_not_inherit_the_interrupted_tasks_holds() {
        let mut fx = Fixture::default();
        let (a, b) = (fx.lock("a"), fx.lock("b"));
        fx.nest(1, TASK1, &[a, b], Spin);
        // A hardirq on the same CPU takes b then a: its held_before is its own (b only).
        fx.nest(3, HARDIRQ1, &[b, a], Spin);
        assert_eq!(
            cycles_of(fx).len(),
            1,
            "b->a inside the irq is its own order"
        );

        let mut fx = Fixture::default();
        let (a, b) = (fx.lock("a"), fx.lock("b"));
        fx.nest(1, TASK1, &[a, b], Spin);
        // The irq takes only a while the task holds b: no b->a edge.
        fx.acquire(3, HARDIRQ1, a, Spin, &[]);
        assert!(cycles_of(fx).is_empty());
    }

    #[test]
    fn same_class_nesting_is_recursion_only_on_the_same_instance() {
        let mut fx = Fixture::default();
        let a = fx.lock("inode_lock");
        let a2 = fx.instance(a);
        fx.nest(1, TASK1, &[a, a2], Spin);
        assert!(cycles_of(fx).is_empty(), "annotated nesting");

        let mut fx = Fixture::default();
        let a = fx.lock("inode_lock");
        fx.nest(1, TASK1, &[a, a], Spin);
        let found = cycles_of(fx);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "lock-order-cycle:inode_lock>inode_lock");
        assert!(found[0].summary.starts_with("Recursive locking"));
    }

    #[test]
    fn cycle_through_recursive_reads_only_is_not_a_deadlock() {
        let build = |read_twice: bool| {
            let mut fx = Fixture::default();
            let (a, b) = (fx.lock("a"), fx.lock("b"));
            fx.acquire(1, TASK1, a, Spin, &[]).read = 2;
            let ha = fx.last();
            fx.acquire(2, TASK1, b, Spin, &[ha]);
            fx.acquire(10, TASK2, b, Spin, &[]);
            let hb = fx.last();
            fx.acquire(11, TASK2, a, Spin, &[hb]).read = if read_twice { 2 } else { 0 };
            cycles_of(fx)
        };
        // a(R) -> b -> a(R): -(*R)-> then -(R*)-> at a: readers do not block each other.
        assert!(build(true).is_empty());
        // b -> a(W): the writer waits for the reader: a real cycle.
        assert_eq!(build(false).len(), 1);
    }

    #[test]
    fn unknown_context_makes_a_cycle_probable() {
        let mut fx = Fixture::default();
        let (a, b) = (fx.lock("a"), fx.lock("b"));
        fx.nest(1, TASK1, &[a, b], Spin);
        fx.acquire(3, (2, 7, HolderContext::Unknown), b, Spin, &[]);
        let hb = fx.last();
        fx.acquire(4, (2, 7, HolderContext::Unknown), a, Spin, &[hb]);
        assert_eq!(cycles_of(fx)[0].confidence, Confidence::Probable);
    }
}
