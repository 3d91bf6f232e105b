//! irq inversion, lockdep's usage rules (formats.md 4.6): per lock class and irq state X
//! (hardirq, softirq), USED_IN_X when acquired in X context (trylocks do not mark it) and
//! ENABLED_X when acquired or held with X enabled. Bugs:
//! - inconsistent state: one class both USED_IN_X and ENABLED_X, at least one a write;
//! - safe -> unsafe: a dependency path from an X-safe class to an X-unsafe one.
//!
//! `spin_lock_bh` and `spin_lock_irq(save)` on the process side disable the state before
//! the lock is taken, whatever the event that recorded the acquire saw at function entry.

use super::evidence::{
    LockView, acquire_evidence, caller_name, class_name, finding_id, group_untied, mark_untied,
    push_unique,
};
use crate::context::locks::{ClassId, HoldIdx, LockHold, LockId, LockTable};
use crate::finding::{Cause, Shows};
use crate::lockdep::usage::{sets_enabled, used_in};
use crate::lockdep::{DependencyGraph, IrqState, Usage, first_untied_class, usage_table};
use crate::{Confidence, Evidence, Finding, FindingKind};
use rustc_hash::FxHashSet;

/// Further unsafe classes a safe -> unsafe finding names besides the nearest one.
const MAX_UNSAFE_NAMED: usize = 8;

/// Every irq-inversion finding of the trace.
pub fn detect(v: &LockView, graph: &DependencyGraph) -> Vec<Finding> {
    let usage = usage_table(v.table);
    let judge = Judge { v };
    let mut findings = Vec::new();
    for (class, per_state) in usage.iter().enumerate() {
        for (s, state) in IrqState::ALL.into_iter().enumerate() {
            let u = &per_state[s];
            if !u.used_in.is_set() {
                continue;
            }
            let class = ClassId(class as u32);
            if let Some(f) = judge.inconsistent(class, state, u) {
                findings.push(f);
            } else if u.undecided.is_set() {
                findings.push((judge.undecided(class, state, u), None));
            }
            findings.extend(judge.safe_to_unsafe(class, state, &usage, graph));
        }
    }
    let mut findings = group_untied(findings);
    crate::explain::explain(v, &mut findings);
    findings
}

/// The lock instances that set a class's usage bits for one state.
#[derive(Default)]
struct UsageInstances {
    used: FxHashSet<LockId>,
    used_write: FxHashSet<LockId>,
    enabled: FxHashSet<LockId>,
    enabled_write: FxHashSet<LockId>,
}

impl UsageInstances {
    /// The same predicates as [`crate::lockdep::usage_table`], for one class.
    fn of(table: &LockTable, class: ClassId, state: IrqState) -> UsageInstances {
        let mut u = UsageInstances::default();
        let holds = table
            .holds
            .iter()
            .filter(|h| h.validated && table.class_of(h.lock) == class);
        for h in holds {
            let write = h.read == 0;
            if used_in(h, state) {
                u.used.insert(h.lock);
                if write {
                    u.used_write.insert(h.lock);
                }
            }
            if sets_enabled(h, state) {
                u.enabled.insert(h.lock);
                if write {
                    u.enabled_write.insert(h.lock);
                }
            }
        }
        u
    }

    /// One instance both used in the irq and taken with it enabled, one of them a write.
    fn inconsistent_on_one_instance(&self) -> bool {
        self.used_write.iter().any(|l| self.enabled.contains(l))
            || self.used.iter().any(|l| self.enabled_write.contains(l))
    }
}

struct Judge<'a> {
    v: &'a LockView<'a>,
}

impl Judge<'_> {
    fn hold(&self, i: HoldIdx) -> &LockHold {
        self.v.hold(i)
    }

    fn name(&self, class: ClassId) -> String {
        class_name(self.v, class).into_owned()
    }

    /// Definite when the enabled state is recorded on the acquire event itself (its flags)
    /// or implied by the lock primitive; probable when the builder inferred it.
    fn confidence(&self, enabled_witness: &LockHold, state: IrqState) -> Confidence {
        let flags = self.v.store.flags()[enabled_witness.acquire_event as usize];
        let recorded = match state {
            IrqState::Hardirq => flags.irqs_off().is_some(),
            IrqState::Softirq => flags.recorded() && self.v.bh_off_visible,
        };
        if recorded {
            Confidence::Definite
        } else {
            Confidence::Probable
        }
    }

    /// Cites a hold that set a usage bit: `{IN-SOFTIRQ-W}`, `{HARDIRQ-ON-R}`...
    fn usage_evidence(&self, hold: HoldIdx, state: IrqState, used_in: bool) -> Evidence {
        acquire_evidence(
            self.v,
            Shows::Usage {
                hold,
                state,
                used_in,
            },
        )
    }

    fn functions<'h>(&self, holds: impl IntoIterator<Item = &'h LockHold>) -> Vec<String> {
        let mut functions = Vec::new();
        for h in holds {
            if let Some(f) = caller_name(self.v, h) {
                push_unique(&mut functions, f);
            }
        }
        functions
    }

    fn base(&self, id: String, at: &LockHold, confidence: Confidence, cause: Cause) -> Finding {
        Finding {
            id,
            kind: FindingKind::IrqInversion,
            confidence,
            cpu: Some(at.cpu),
            task: Some(self.v.comm(at).to_owned()),
            pid: Some(at.pid),
            ts: [0, 0],
            functions: Vec::new(),
            locks: Vec::new(),
            why: Some(cause.into()),
            summary: String::new(),
            evidence: Vec::new(),
            count: 0,
            instances: Vec::new(),
        }
    }

    /// USED_IN_X and ENABLED_X on one class, one of them a write.
    fn inconsistent(
        &self,
        class: ClassId,
        state: IrqState,
        u: &Usage,
    ) -> Option<(Finding, Option<String>)> {
        let (used, enabled) = match (u.used_in.first_write, u.enabled.first_write) {
            (Some(w), _) => (w, u.enabled.first?),
            (None, Some(w)) => (u.used_in.first?, w),
            (None, None) => return None,
        };
        let cause = Cause::InconsistentUsage {
            state,
            class,
            used,
            enabled,
        };
        let (used_idx, enabled_idx) = (used, enabled);
        let (used, enabled) = (self.hold(used), self.hold(enabled));
        let name = self.name(class);
        let later = if used.acquire_ts > enabled.acquire_ts {
            used
        } else {
            enabled
        };
        let mut f = self.base(
            finding_id(FindingKind::IrqInversion, &[state.name(), &name]),
            later,
            self.confidence(enabled, state),
            cause,
        );
        f.ts = [
            used.acquire_ts.min(enabled.acquire_ts),
            u.used_in.last_ts.max(u.enabled.last_ts),
        ];
        f.functions = self.functions([used, enabled]);
        f.locks = vec![name.clone()];
        f.evidence = vec![
            self.usage_evidence(used_idx, state, true),
            self.usage_evidence(enabled_idx, state, false),
        ];
        f.count = u.used_in.count + u.enabled.count;
        let tied = UsageInstances::of(self.v.table, class, state).inconsistent_on_one_instance();
        if !tied {
            mark_untied(&mut f, class);
        }
        Some((f, (!tied).then_some(name)))
    }

    /// USED_IN_X, and task-side holds whose X state the trace does not show.
    fn undecided(&self, class: ClassId, state: IrqState, u: &Usage) -> Finding {
        let used_idx = u.used_in.first.expect("used_in is set");
        let unknown_idx = u.undecided.first.expect("undecided is set");
        let (used, unknown) = (self.hold(used_idx), self.hold(unknown_idx));
        let name = self.name(class);
        let cause = Cause::UndecidedUsage {
            state,
            class,
            used: used_idx,
            unknown: unknown_idx,
            times: u.undecided.count,
        };
        let mut f = self.base(
            finding_id(FindingKind::IrqInversion, &[state.name(), &name]),
            unknown,
            Confidence::Unverifiable,
            cause,
        );
        f.ts = [
            used.acquire_ts.min(unknown.acquire_ts),
            u.used_in.last_ts.max(u.undecided.last_ts),
        ];
        f.functions = self.functions([used, unknown]);
        f.locks = vec![name.clone()];
        f.evidence = vec![
            self.usage_evidence(used_idx, state, true),
            acquire_evidence(
                self.v,
                Shows::UnknownState {
                    hold: unknown_idx,
                    state,
                },
            ),
        ];
        f.count = u.undecided.count;
        f
    }

    /// A path `safe -> ... -> unsafe` in the dependency graph from an X-safe class to a
    /// different X-unsafe one: one finding per safe class, detailing the nearest unsafe class
    /// (breadth-first) and naming up to [`MAX_UNSAFE_NAMED`] others. One finding per pair
    /// would be quadratic in the classes of a dense graph, and they share one fix.
    fn safe_to_unsafe(
        &self,
        safe: ClassId,
        state: IrqState,
        usage: &[[Usage; 2]],
        graph: &DependencyGraph,
    ) -> Option<(Finding, Option<String>)> {
        let s = state as usize;
        // lockdep's check_irq_usage: the irq-unsafe side is a class taken for writing with
        // the irq enabled (a reader with it enabled may be re-entered by an irq reader).
        let (reached, via) = graph.strong_reach(safe);
        let unsafe_reached: Vec<ClassId> = reached
            .into_iter()
            .filter(|c| usage[c.0 as usize][s].enabled.first_write.is_some())
            .collect();
        let (&nearest, others) = unsafe_reached.split_first()?;
        let (mut f, untied) = self.safe_to_unsafe_finding(safe, nearest, state, usage, graph, &via);
        let named: Vec<ClassId> = others.iter().take(MAX_UNSAFE_NAMED).copied().collect();
        for &c in &named {
            push_unique(&mut f.locks, &self.name(c));
        }
        if let Some(Cause::SafeToUnsafe { more, named: n, .. }) =
            f.why.as_mut().map(|why| &mut why.cause)
        {
            (*more, *n) = (others.len(), named);
        }
        Some((f, untied))
    }

    fn safe_to_unsafe_finding(
        &self,
        safe: ClassId,
        unsafe_: ClassId,
        state: IrqState,
        usage: &[[Usage; 2]],
        graph: &DependencyGraph,
        via: &[Option<u32>],
    ) -> (Finding, Option<String>) {
        let s = state as usize;
        let mut path = Vec::new();
        let mut at = unsafe_;
        while at != safe {
            let e = via[at.0 as usize].expect("reached classes have a predecessor edge");
            path.push(e);
            at = graph.edges[e as usize].from;
        }
        path.reverse();
        let used_idx = usage[safe.0 as usize][s].used_in.first.expect("safe");
        let enabled_idx = usage[unsafe_.0 as usize][s]
            .enabled
            .first_write
            .expect("unsafe");
        let (used, enabled) = (self.hold(used_idx), self.hold(enabled_idx));
        let mut chain = vec![safe];
        let mut evidence = vec![self.usage_evidence(used_idx, state, true)];
        let mut holds = vec![used];
        let mut count = 0;
        for &e in &path {
            let edge = &graph.edges[e as usize];
            evidence.push(acquire_evidence(
                self.v,
                Shows::WhileHolding {
                    hold: edge.witness.1,
                    held: edge.from,
                },
            ));
            holds.extend([self.hold(edge.witness.0), self.hold(edge.witness.1)]);
            count += edge.count;
            chain.push(edge.to);
        }
        evidence.push(self.usage_evidence(enabled_idx, state, false));
        holds.push(enabled);
        let locks: Vec<String> = chain.iter().map(|&c| self.name(c)).collect();
        let (safe_name, unsafe_name) = (&locks[0], &locks[locks.len() - 1]);
        let cause = Cause::SafeToUnsafe {
            state,
            chain,
            used: used_idx,
            enabled: enabled_idx,
            more: 0,
            named: Vec::new(),
        };
        let mut f = self.base(
            finding_id(
                FindingKind::IrqInversion,
                &[&format!("{}-safe", state.name()), safe_name, unsafe_name],
            ),
            enabled,
            self.confidence(enabled, state),
            cause,
        );
        let first = holds.iter().map(|h| h.acquire_ts).min().unwrap_or(0);
        let last = holds.iter().map(|h| h.acquire_ts).max().unwrap_or(0);
        f.ts = [first, last];
        f.functions = self.functions(holds);
        f.locks = locks;
        f.evidence = evidence;
        f.count = count;
        let start = UsageInstances::of(self.v.table, safe, state).used;
        let end = UsageInstances::of(self.v.table, unsafe_, state).enabled_write;
        let untied = first_untied_class(graph, &path, Some(&start), Some(&end), false);
        if let Some(class) = untied {
            mark_untied(&mut f, class);
        }
        (f, untied.map(|c| self.name(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::locks::LockMode::{Spin, SpinBh, SpinIrqsave};
    use crate::detect::fixture::{Fixture, HARDIRQ1, SOFTIRQ2, TASK1};

    fn inversions(fx: Fixture) -> Vec<Finding> {
        fx.detect(|v| detect(v, &DependencyGraph::build(v.table)))
    }

    #[test]
    fn softirq_use_and_plain_spin_lock_in_task_is_inconsistent() {
        let mut fx = Fixture::default();
        let l = fx.lock("sirq_lock");
        fx.acquire(100, SOFTIRQ2, l, Spin, &[]);
        fx.acquire(400, TASK1, l, Spin, &[]);
        let found = inversions(fx);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.id, "irq-inversion:softirq>sirq_lock");
        assert_eq!(f.locks, ["sirq_lock"]);
        assert_eq!(f.evidence.len(), 2);
        assert!(f.evidence[0].detail.contains("IN-SOFTIRQ-W"));
        assert!(f.evidence[1].detail.contains("SOFTIRQ-ON-W"));
        assert_eq!(f.ts, [100_000, 400_000]);
        assert_eq!((f.cpu, f.pid), (Some(1), Some(101)));
        // The fixture's flags carry no BH-off bit anywhere: softirq state is inferred.
        assert_eq!(f.confidence, Confidence::Probable);
    }

    #[test]
    fn bh_and_irqsave_on_the_process_side_are_legal() {
        let mut fx = Fixture::default();
        let (s, h) = (fx.lock("sirq_lock"), fx.lock("hirq_lock"));
        fx.acquire(1, SOFTIRQ2, s, Spin, &[]);
        // The probe fired at function entry, before _bh / _irqsave disabled anything.
        fx.acquire(2, TASK1, s, SpinBh, &[]);
        fx.acquire(3, HARDIRQ1, h, Spin, &[]);
        fx.acquire(4, TASK1, h, SpinIrqsave, &[]);
        assert!(inversions(fx).is_empty());
    }

    #[test]
    fn trylock_in_irq_does_not_mark_used_in() {
        let mut fx = Fixture::default();
        let l = fx.lock("l");
        fx.acquire(1, HARDIRQ1, l, Spin, &[]).trylock = true;
        fx.acquire(2, TASK1, l, Spin, &[]);
        assert!(inversions(fx).is_empty());
    }

    #[test]
    fn read_usage_on_both_sides_is_allowed() {
        let mut fx = Fixture::default();
        let l = fx.lock("rw");
        fx.acquire(1, HARDIRQ1, l, Spin, &[]).read = 2;
        fx.acquire(2, TASK1, l, Spin, &[]).read = 1;
        assert!(inversions(fx).is_empty());
    }

    #[test]
    fn reenabling_irqs_while_held_marks_enabled() {
        let mut fx = Fixture::default();
        let l = fx.lock("l");
        fx.acquire(1, HARDIRQ1, l, Spin, &[]);
        let h = fx.acquire(2, TASK1, l, SpinIrqsave, &[]);
        h.hardirqs_enabled_while_held = Some(true);
        let found = inversions(fx);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, "irq-inversion:hardirq>l");
        assert_eq!(
            found[0].confidence,
            Confidence::Definite,
            "irq state is in the flags"
        );
    }

    #[test]
    fn unknown_state_on_the_task_side_is_unverifiable_and_says_what_to_record() {
        let mut fx = Fixture::default();
        let l = fx.lock("l");
        fx.acquire(1, SOFTIRQ2, l, Spin, &[]);
        fx.acquire(2, TASK1, l, Spin, &[]).softirqs_enabled = None;
        let found = inversions(fx);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].confidence, Confidence::Unverifiable);
        assert!(
            found[0].summary.contains("local_bh_disable"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn safe_to_unsafe_order_through_a_path() {
        let mut fx = Fixture::default();
        let (safe, mid, unsafe_) = (fx.lock("safe"), fx.lock("mid"), fx.lock("unsafe"));
        fx.acquire(1, HARDIRQ1, safe, Spin, &[]);
        // Process side: safe (irqsave) -> mid -> unsafe, all with irqs off...
        fx.nest(2, TASK1, &[safe, mid, unsafe_], SpinIrqsave);
        // ...and elsewhere `unsafe` is taken with irqs on.
        fx.acquire(5, TASK1, unsafe_, Spin, &[]);
        let found = inversions(fx);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.id, "irq-inversion:hardirq-safe>safe>unsafe");
        assert_eq!(f.locks, ["safe", "mid", "unsafe"]);
        assert_eq!(f.evidence.len(), 4, "irq use, two edges, irq-enabled use");
    }

    #[test]
    fn one_safe_to_unsafe_finding_per_safe_class_names_the_other_targets() {
        let mut fx = Fixture::default();
        let safe = fx.lock("safe");
        let targets: Vec<_> = (0..3).map(|i| fx.lock(&format!("unsafe{i}"))).collect();
        fx.acquire(1, HARDIRQ1, safe, Spin, &[]);
        for (i, &t) in targets.iter().enumerate() {
            let ts = 10 * (i as u64 + 1);
            fx.nest(ts, TASK1, &[safe, t], SpinIrqsave);
            fx.acquire(ts + 5, TASK1, t, Spin, &[]);
        }
        let found = inversions(fx);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].locks, ["safe", "unsafe0", "unsafe1", "unsafe2"]);
        assert!(found[0].summary.contains("2 more hardirq-unsafe classes"));
    }
}
