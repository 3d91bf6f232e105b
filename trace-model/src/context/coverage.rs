//! What a trace can and cannot tell, and therefore which checks are complete, partial or
//! impossible on it. `kctx coverage` prints this; `kctx check` embeds it as `coverage`.

use super::calibrate::Baselines;
use super::{BuildStats, ContextModel, SleepKind};
use crate::payload::Payload;
use crate::store::{EventIdx, EventStore};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Where lock holds come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockSource {
    /// `lock:lock_acquire` / `lock_release` (lockdep kernels): class names recorded.
    Lockdep,
    /// kprobes on lock primitives carrying the lock address.
    Kprobes,
    /// Only function-tracer entries of lock primitives (no lock identity).
    FunctionEntries,
    #[default]
    None,
}

/// How much of a check this trace supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckLevel {
    Complete,
    Partial,
    Impossible,
}

/// One check's verdict, with the reasons it is not complete.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckCoverage {
    pub check: Cow<'static, str>,
    pub level: CheckLevel,
    pub reasons: Vec<String>,
}

/// What the trace records.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub events: u64,
    /// Most events carry the flags column (irqs-off, context, preempt depth).
    pub flags_recorded: bool,
    pub preempt_depth_recorded: bool,
    /// Some event (other than the scheduler's own) recorded a non-zero depth: the kernel
    /// counts preemption (PREEMPT_COUNT).
    pub preempt_count_active: bool,
    /// BH-disabled shows in the flags (kernels >= 5.18).
    pub bh_off_visible: bool,
    pub preemptirq_events: bool,
    /// irq / softirq entry and exit events.
    pub irq_events: bool,
    pub lock_source: LockSource,
    pub lock_holds: u64,
    pub function_tracer: bool,
    /// Function-tracer entries of might-sleep functions (or sleeping-lock kprobes).
    pub sleep_calls_traced: bool,
    /// `__might_sleep` and friends appear (CONFIG_DEBUG_ATOMIC_SLEEP, traced).
    pub might_sleep_markers: bool,
    /// kmem events with `gfp_flags`.
    pub gfp_visible: bool,
    pub sched_switch: bool,
    pub lost_event_gaps: u64,
    pub lost_events: u64,
    pub kallsyms_symbols: u64,
    /// Time in all CPUs' unknown ranges, ns.
    pub unknown_ns: u64,
    pub build: BuildStats,
    pub checks: Vec<CheckCoverage>,
}

impl Coverage {
    /// Coverage of a built model.
    pub fn of(store: &EventStore, model: &ContextModel, baselines: &Baselines) -> Coverage {
        let switch = store.event_type_id("sched_switch");
        let mut c = Coverage {
            events: store.len() as u64,
            preempt_depth_recorded: baselines.depth_recorded,
            bh_off_visible: model.build_stats.bh_visible,
            lock_holds: model.locks.holds.len() as u64,
            might_sleep_markers: model.build_stats.might_sleep_markers,
            // A trace.dat declares the format of every event the kernel has, recorded or
            // not: the type's presence proves nothing, one event of it does.
            sched_switch: switch.is_some_and(|t| store.event_types().contains(&t)),
            lost_event_gaps: store.meta.lost.len() as u64,
            lost_events: store.meta.lost_totals().1,
            kallsyms_symbols: store.symbols.len() as u64,
            unknown_ns: (model.cpus.iter())
                .map(|c| c.unknown.total_ns())
                .fold(0, u64::saturating_add),
            build: model.build_stats,
            sleep_calls_traced: model
                .sleep_calls
                .iter()
                .any(|s| matches!(s.kind, SleepKind::Call(_))),
            ..Coverage::default()
        };
        let mut with_flags = 0u64;
        let (mut lockdep, mut probes, mut lock_fns) = (false, false, false);
        let mut classes = super::primitives::Classifier::default();
        for i in 0..store.len() as EventIdx {
            let u = i as usize;
            let flags = store.flags()[u];
            if flags.recorded() {
                with_flags += 1;
                if Some(store.event_types()[u]) != switch
                    && flags.preempt_depth().is_some_and(|d| d > 0)
                {
                    c.preempt_count_active = true;
                }
            }
            match store.payload(i) {
                Payload::IrqDisable { .. }
                | Payload::IrqEnable { .. }
                | Payload::PreemptDisable { .. }
                | Payload::PreemptEnable { .. } => c.preemptirq_events = true,
                Payload::IrqHandlerEntry { .. }
                | Payload::SoftirqEntry { .. }
                | Payload::IrqVectorEntry { .. } => c.irq_events = true,
                Payload::LockAcquire { .. } => lockdep = true,
                Payload::LockProbe { .. } => probes = true,
                Payload::Function { func, .. } | Payload::FuncGraphEntry { func, .. } => {
                    c.function_tracer = true;
                    lock_fns |= classes.get(&store.strings, func).lock.is_some();
                }
                Payload::Fields(fields) => {
                    c.gfp_visible |= fields.into_iter().any(|(k, _)| store.str(k) == "gfp_flags");
                }
                _ => {}
            }
        }
        c.flags_recorded = with_flags * 2 > c.events;
        c.lock_source = if lockdep {
            LockSource::Lockdep
        } else if probes {
            LockSource::Kprobes
        } else if lock_fns {
            LockSource::FunctionEntries
        } else {
            LockSource::None
        };
        c.checks = vec![c.sleep_in_atomic(), c.lock_order(), c.irq_inversion()];
        c
    }

    fn lost_reason(&self) -> Option<String> {
        (self.lost_event_gaps > 0).then(|| {
            format!(
                "{} lost-event gaps: context is unknown after each until an event proves it",
                self.lost_event_gaps
            )
        })
    }

    fn sleep_in_atomic(&self) -> CheckCoverage {
        let mut reasons = Vec::new();
        let knows_context = self.flags_recorded
            || matches!(self.lock_source, LockSource::Lockdep | LockSource::Kprobes);
        let sees_sleeps = self.sleep_calls_traced || self.sched_switch;
        if !knows_context || !sees_sleeps {
            if !knows_context {
                reasons.push(
                    "no flags column and no lock events: the context of a call is unknown".into(),
                );
            }
            if !sees_sleeps {
                reasons.push(
                    "no might-sleep function entries and no sched_switch: no sleep is visible"
                        .into(),
                );
            }
            return check("sleep-in-atomic", CheckLevel::Impossible, reasons);
        }
        if !self.sleep_calls_traced {
            reasons.push("no function-tracer entries of might-sleep functions: only real sleeps (sched_switch) are judged; trace mutex_lock*, msleep, schedule_timeout, __might_sleep...".into());
        }
        if !self.flags_recorded {
            reasons.push(
                "no flags column: irqs-off and preempt depth unknown (enable options/irq-info)"
                    .into(),
            );
        } else if !self.preempt_count_active {
            reasons.push("preempt info unavailable: no event recorded a preempt depth above 0 (kernel without PREEMPT_COUNT)".into());
        }
        if matches!(
            self.lock_source,
            LockSource::None | LockSource::FunctionEntries
        ) {
            reasons.push("no lock events: spinlocks show only as preempt depth".into());
        }
        if !self.gfp_visible && !self.might_sleep_markers {
            reasons.push("allocation GFP flags not recorded: allocations in atomic context are unverifiable (record kmem:kmalloc / kmem:kmem_cache_alloc, or trace __might_sleep on a CONFIG_DEBUG_ATOMIC_SLEEP kernel)".into());
        }
        if !self.bh_off_visible {
            reasons
                .push("BH-disabled sections not visible (kernel < 5.18 or none recorded)".into());
        }
        reasons.extend(self.lost_reason());
        verdict("sleep-in-atomic", reasons)
    }

    fn lock_order(&self) -> CheckCoverage {
        let mut reasons = Vec::new();
        match self.lock_source {
            LockSource::None | LockSource::FunctionEntries => {
                reasons.push("no lock events with lock identity: record lock:lock_acquire/lock_release (lockdep kernel) or kprobes on lock primitives with the lock address".into());
                return check("lock-order", CheckLevel::Impossible, reasons);
            }
            LockSource::Kprobes => reasons.push(
                "locks from kprobes: classes are kallsyms symbols or addresses (instances of dynamically allocated locks are not merged into classes)"
                    .into(),
            ),
            LockSource::Lockdep => {}
        }
        reasons.extend(self.lost_reason());
        verdict("lock-order", reasons)
    }

    fn irq_inversion(&self) -> CheckCoverage {
        let mut reasons = Vec::new();
        if matches!(
            self.lock_source,
            LockSource::None | LockSource::FunctionEntries
        ) {
            reasons.push("no lock events with lock identity".into());
            return check("irq-inversion", CheckLevel::Impossible, reasons);
        }
        if !self.flags_recorded && !self.irq_events {
            reasons.push(
                "neither flags nor irq events: the irq context of an acquisition is unknown".into(),
            );
            return check("irq-inversion", CheckLevel::Impossible, reasons);
        }
        if !self.flags_recorded {
            reasons.push("no flags column: irqs-enabled state at acquisitions unknown".into());
        }
        if !self.bh_off_visible {
            reasons.push(
                "BH-disabled not visible: softirq-unsafe usage only from spin_lock_bh primitives"
                    .into(),
            );
        }
        reasons.extend(self.lost_reason());
        verdict("irq-inversion", reasons)
    }
}

/// Complete unless something limits the check.
fn verdict(check_name: &'static str, reasons: Vec<String>) -> CheckCoverage {
    let level = if reasons.is_empty() {
        CheckLevel::Complete
    } else {
        CheckLevel::Partial
    };
    check(check_name, level, reasons)
}

fn check(check: &'static str, level: CheckLevel, reasons: Vec<String>) -> CheckCoverage {
    CheckCoverage {
        check: Cow::Borrowed(check),
        level,
        reasons,
    }
}
