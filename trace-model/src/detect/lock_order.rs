//! Lock-order cycles, lockdep's way: every elementary cycle (bounded) of the class
//! dependency graph (`crate::lockdep::graph`) that is a deadlock under lockdep's read rules,
//! and same-instance recursion. A cycle is reported even when its orders never overlapped in
//! time: that is the point, the deadlock has not happened yet.

use super::evidence::{
    LockView, acquire_evidence, caller_name, class_name, finding_id, group_untied, mark_untied,
    push_unique,
};
use crate::context::locks::{ClassId, HoldIdx, HolderContext, LockHold};
use crate::finding::{Cause, Shows};
use crate::lockdep::{DependencyGraph, Edge, Recursion, first_untied_class};
use crate::{Confidence, Evidence, Finding, FindingKind};

/// Every lock-order cycle and same-instance recursion of the trace.
pub fn detect(v: &LockView) -> Vec<Finding> {
    detect_in(v, &DependencyGraph::build(v.table))
}

/// [`detect`] on an already built graph (the irq-inversion detector shares it).
pub fn detect_in(v: &LockView, graph: &DependencyGraph) -> Vec<Finding> {
    let cycles = graph.cycles();
    let cycles = cycles.iter().map(|cycle| {
        let mut f = cycle_finding(v, graph, cycle);
        let untied = first_untied_class(graph, cycle, None, None, true);
        if let Some(class) = untied {
            mark_untied(&mut f, class);
        }
        (f, untied.map(|c| class_name(v, c).into_owned()))
    });
    let mut findings = group_untied(cycles.collect());
    findings.extend(
        graph
            .recursions
            .iter()
            .map(|(class, r)| recursion_finding(v, *class, r)),
    );
    crate::explain::explain(v, &mut findings);
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
    for e in &edges {
        for h in [hold(e.witness.0), hold(e.witness.1)] {
            if let Some(f) = caller_name(v, h) {
                push_unique(&mut functions, f);
            }
        }
        evidence.push(acquire_evidence(v, Shows::Holds(e.witness.0)));
        evidence.push(acquire_evidence(
            v,
            Shows::Order {
                hold: e.witness.1,
                from: e.from,
                to: e.to,
                count: e.count,
                last_ts: e.last_ts,
            },
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
    let cause = Cause::LockOrderCycle {
        orders: edges.iter().map(|e| (e.witness.1, e.from, e.to)).collect(),
        overlapped,
    };
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
            edges.iter().map(|e| e.first_ts).min().unwrap_or(0),
            edges.iter().map(|e| e.last_ts).max().unwrap_or(0),
        ],
        functions,
        locks,
        why: Some(cause.into()),
        summary: String::new(),
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
        acquire_evidence(v, Shows::Holds(r.outer)),
        acquire_evidence(v, Shows::Again(r.inner)),
    ];
    Finding {
        id: finding_id(FindingKind::LockOrderCycle, &[&name, &name]),
        kind: FindingKind::LockOrderCycle,
        confidence: confidence_of([outer, inner]),
        cpu: Some(inner.cpu),
        task: Some(v.comm(inner).to_owned()),
        pid: Some(inner.pid),
        ts: [inner.acquire_ts, r.last_ts],
        functions,
        locks: vec![name.clone()],
        why: Some(
            Cause::Recursion {
                outer: r.outer,
                inner: r.inner,
            }
            .into(),
        ),
        summary: String::new(),
        evidence,
        count: r.count,
        instances: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExtendedInterner;
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
        assert_eq!(f.ts, [11_000, 500_001_000]);
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
        assert!(
            detect(&Fixture::view(
                &store,
                &table,
                &ExtendedInterner::over(store.strings.clone())
            ))
            .is_empty()
        );
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

    #[test]
    fn unvalidated_holds_make_no_edge_and_the_walk_passes_them() {
        // a -> rcu_read_lock (check=0) -> b: lockdep adds a -> b (distance 2) and nothing
        // through the RCU map; b -> a elsewhere closes a real cycle.
        let mut fx = Fixture::default();
        let (a, rcu, b) = (fx.lock("a"), fx.lock("rcu_read_lock"), fx.lock("b"));
        fx.acquire(1, TASK1, a, Spin, &[]);
        let ha = fx.last();
        fx.acquire(2, TASK1, rcu, Spin, &[ha]).validated = false;
        let hr = fx.last();
        fx.acquire(3, TASK1, b, Spin, &[ha, hr]);
        fx.nest(10, TASK2, &[b, a], Spin);
        let (store, table) = fx.finish();
        let graph = DependencyGraph::build(&table);
        let names: Vec<(u32, u32, u32)> = graph
            .edges
            .iter()
            .map(|e| (e.from.0, e.to.0, e.distance))
            .collect();
        assert_eq!(
            names,
            [(0, 2, 2), (2, 0, 1)],
            "a -> b across the RCU map, b -> a"
        );
        let found = detect_in(
            &Fixture::view(
                &store,
                &table,
                &ExtendedInterner::over(store.strings.clone()),
            ),
            &graph,
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].confidence, Confidence::Definite);
    }

    #[test]
    fn a_class_already_held_adds_no_edges() {
        // Two instances of one class nested (nest_lock or a subclass lockdep tells apart):
        // lockdep adds no dependency the trace could name for the inner one.
        let mut fx = Fixture::default();
        let (a, b) = (fx.lock("a"), fx.lock("b"));
        let b2 = fx.instance(b);
        fx.nest(1, TASK1, &[b, a, b2], Spin);
        fx.nest(10, TASK2, &[a, b], Spin);
        let found = cycles_of(fx);
        assert_eq!(
            found.len(),
            1,
            "b -> a and a -> b, not a -> b via the nested b2"
        );
    }

    #[test]
    fn a_cycle_that_joins_different_instances_of_a_name_is_undecided() {
        // x -> y on one instance of y, y -> x on another: lockdep may hold two classes named
        // y (different keys), so the trace cannot prove the cycle.
        let mut fx = Fixture::default();
        let (x, y) = (fx.lock("x"), fx.lock("y"));
        let y2 = fx.instance(y);
        fx.nest(1, TASK1, &[x, y], Spin);
        fx.nest(10, TASK2, &[y2, x], Spin);
        let found = cycles_of(fx);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].confidence, Confidence::Unverifiable);
        assert!(
            found[0].summary.contains("/proc/lockdep"),
            "{}",
            found[0].summary
        );
    }
}
