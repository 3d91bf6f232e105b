//! Checks the context a kernel splat printed (its `preempt_count`, `irqs_disabled()`,
//! lockdep's `HC0[0]:SC1[1]:HE1:SE0` tuple and held-locks list) against kctx's reconstruction
//! on the same CPU at the splat's console time.
//!
//! The kernel's report is the one ground truth a trace comes with: where the two agree, the
//! reconstruction is right at the moment the kernel looked; where they disagree, the report
//! names the fact and both values so the user knows which part of the timeline not to trust.
//! The console stamp is taken by `printk` before it disables interrupts, so the context at that
//! time is the reporting code's own.

use crate::context::ContextModel;
use crate::context::coverage::LockSource;
use crate::context::state::{HeldLock, Level};
use crate::splat::{Splat, SplatFacts, SplatKind};
use crate::store::EventStore;
use serde::Serialize;
use std::collections::BTreeSet;

/// `preempt_count()` fields (include/linux/preempt.h).
const PREEMPT_MASK: u32 = 0xff;
const SOFTIRQ_OFFSET: u32 = 0x100;
const SOFTIRQ_MASK: u32 = 0xff00;
/// One `local_bh_disable()` level; serving a softirq adds `SOFTIRQ_OFFSET` instead.
const SOFTIRQ_DISABLE_OFFSET: u32 = 0x200;
const HARDIRQ_MASK: u32 = 0xf_0000;
const NMI_MASK: u32 = 0xf0_0000;

/// What the kernel printed about the context of its report.
#[derive(Clone, Debug, Default, PartialEq)]
struct PrintedContext {
    /// Raw `preempt_count()` (might_sleep, scheduling while atomic).
    preempt_count: Option<u32>,
    irqs_disabled: Option<bool>,
    /// lockdep's `HC%u[%lu]:SC%u[%lu]:HE%u:SE%u`.
    lockdep_irq_state: Option<LockdepIrqState>,
    /// Lock class names of the reporting task's held-locks list.
    locks_held: Option<Vec<String>>,
    /// The lock a lockdep report is about to acquire: lockdep validates before it adds the
    /// lock to the list it prints, while the trace's `lock_acquire` already recorded it.
    acquiring: Option<String>,
}

/// lockdep's view of the interrupt state, as printed in the `[HC..:SC..:HE..:SE..]` tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LockdepIrqState {
    in_hardirq: bool,
    in_softirq: bool,
    hardirqs_enabled: bool,
    softirqs_enabled: bool,
}

impl LockdepIrqState {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(':');
        let mut flag = |prefix: &str| {
            let digits = parts.next()?.strip_prefix(prefix)?;
            Some(!digits.starts_with('0'))
        };
        Some(LockdepIrqState {
            in_hardirq: flag("HC")?,
            in_softirq: flag("SC")?,
            hardirqs_enabled: flag("HE")?,
            softirqs_enabled: flag("SE")?,
        })
    }
}

impl PrintedContext {
    fn of(splat: &Splat) -> Self {
        let mut printed = PrintedContext::default();
        match &splat.facts {
            SplatFacts::AtomicSleep(f) => {
                printed.preempt_count = f.preempt_count.as_deref().and_then(parse_hex);
                printed.irqs_disabled = f.irqs_disabled.map(|v| v != 0);
            }
            // check_preemption_disabled() reports only from preemptible code: preempt count
            // as printed and interrupts on (it returns early when they are off).
            SplatFacts::PreemptibleCpuAccess(f) => {
                printed.preempt_count = f.preempt_count.as_deref().and_then(parse_hex);
                printed.irqs_disabled = Some(false);
            }
            SplatFacts::Lockdep(f) => {
                printed.lockdep_irq_state =
                    f.irq_context.as_deref().and_then(LockdepIrqState::parse);
                printed.acquiring = match splat.kind {
                    SplatKind::InconsistentLockState | SplatKind::InvalidWaitContext => {
                        f.lock.clone()
                    }
                    _ => f.acquiring_lock.clone(),
                };
            }
            _ => {}
        }
        printed.locks_held = splat
            .held_locks
            .as_ref()
            .filter(|held| held_by_reporting_task(splat, held.holder.as_deref()))
            .map(|held| held.names.clone());
        printed
    }

    fn is_empty(&self) -> bool {
        *self == PrintedContext::default()
    }
}

/// Hung-task and lock-debugging reports list other tasks' locks; only the reporting task's
/// list describes the CPU at the report.
fn held_by_reporting_task(splat: &Splat, holder: Option<&str>) -> bool {
    let holder_pid = holder
        .and_then(|h| h.rsplit_once('/'))
        .and_then(|(_, pid)| pid.parse::<i32>().ok());
    holder_pid.is_none() || holder_pid == splat.pid
}

fn parse_hex(text: &str) -> Option<u32> {
    u32::from_str_radix(text.trim_start_matches("0x"), 16).ok()
}

/// One fact of the context, as the kernel printed it and as kctx reconstructed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContextFact {
    /// The pid running on the CPU.
    Task,
    PreemptDepth,
    InHardirq,
    InSoftirq,
    InNmi,
    IrqsDisabled,
    /// `local_bh_disable()` in effect (not counting a softirq being served).
    BhDisabled,
    /// lockdep's `SE`: softirqs can run (neither BH-disabled nor serving one).
    SoftirqsEnabled,
    LocksHeld,
}

impl ContextFact {
    pub fn name(self) -> &'static str {
        match self {
            ContextFact::Task => "task",
            ContextFact::PreemptDepth => "preempt depth",
            ContextFact::InHardirq => "in hardirq",
            ContextFact::InSoftirq => "in softirq",
            ContextFact::InNmi => "in NMI",
            ContextFact::IrqsDisabled => "irqs disabled",
            ContextFact::BhDisabled => "BH disabled",
            ContextFact::SoftirqsEnabled => "softirqs enabled",
            ContextFact::LocksHeld => "locks held",
        }
    }
}

/// One compared fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FactComparison {
    pub fact: ContextFact,
    pub kernel: String,
    pub kctx: String,
    pub agrees: bool,
}

/// Why a splat that printed its context could not be compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NotCompared {
    /// The console line has no `[ s.us]` stamp.
    NoConsoleTime,
    /// The console and the trace do not share a clock.
    OtherClock,
    /// No `CPU: N` line or printk caller id.
    NoCpu,
    /// The splat falls outside the trace's time span or CPUs.
    OutsideTrace,
    /// The trace does not know the context there (lost events, before the first event).
    ContextUnknown,
    /// The trace records none of the facts the splat printed.
    NothingRecorded,
}

impl NotCompared {
    pub fn describe(self) -> &'static str {
        match self {
            NotCompared::NoConsoleTime => "the console line has no time stamp",
            NotCompared::OtherClock => "the trace clock is not the console's",
            NotCompared::NoCpu => "the report names no CPU",
            NotCompared::OutsideTrace => "outside the trace's time span or CPUs",
            NotCompared::ContextUnknown => "the trace does not know the context there",
            NotCompared::NothingRecorded => "the trace records none of the printed facts",
        }
    }
}

/// The outcome for one splat that printed its context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum SplatContextCheck {
    Compared {
        cpu: u32,
        ts_ns: u64,
        facts: Vec<FactComparison>,
    },
    NotCompared {
        reason: NotCompared,
    },
}

impl SplatContextCheck {
    /// Compared, and some fact differs.
    pub fn disagrees(&self) -> bool {
        matches!(self, SplatContextCheck::Compared { facts, .. } if facts.iter().any(|f| !f.agrees))
    }
}

/// Compares what `splat` printed about its context with `model` at the splat's time and CPU;
/// `None` when the splat printed nothing about its context. `same_clock`: the trace clock is
/// the console's (`local` / `global`).
pub fn check_splat_context(
    splat: &Splat,
    store: &EventStore,
    model: &ContextModel,
    same_clock: bool,
) -> Option<SplatContextCheck> {
    let printed = PrintedContext::of(splat);
    if printed.is_empty() {
        return None;
    }
    Some(match compare(splat, &printed, store, model, same_clock) {
        Ok((cpu, ts_ns, facts)) => SplatContextCheck::Compared { cpu, ts_ns, facts },
        Err(reason) => SplatContextCheck::NotCompared { reason },
    })
}

fn compare(
    splat: &Splat,
    printed: &PrintedContext,
    store: &EventStore,
    model: &ContextModel,
    same_clock: bool,
) -> Result<(u32, u64, Vec<FactComparison>), NotCompared> {
    let console_ts = splat.console_ts.ok_or(NotCompared::NoConsoleTime)?;
    if !same_clock {
        return Err(NotCompared::OtherClock);
    }
    let cpu = splat
        .cpu
        .or(splat.cpu_from_printk_caller_id)
        .ok_or(NotCompared::NoCpu)?;
    let ts_ns = (console_ts * 1e9).round() as u64;
    let (first, last) = store.time_span().ok_or(NotCompared::OutsideTrace)?;
    if !(first..=last).contains(&ts_ns) {
        return Err(NotCompared::OutsideTrace);
    }
    let state = model
        .state_at(store, cpu, ts_ns)
        .ok_or(NotCompared::OutsideTrace)?;
    if state.unknown.is_some() {
        return Err(NotCompared::ContextUnknown);
    }
    let in_level = |want: fn(&Level) -> bool| state.stack.iter().any(want);
    let in_hardirq = in_level(|l| matches!(l, Level::Hardirq { .. }));
    let in_softirq = in_level(|l| matches!(l, Level::Softirq { .. }));
    let in_nmi = in_level(|l| matches!(l, Level::Nmi));
    let task = state.stack.iter().find_map(|l| match l {
        Level::Task { pid, comm } => Some((*pid, comm.as_str())),
        _ => None,
    });
    // Irq levels are known whenever the flags column or irq events are: the stack is only
    // compared when the trace records one of them.
    let levels_known = model.coverage.flags_recorded || model.coverage.irq_events;

    let mut facts = Vec::new();
    if let (Some(pid), Some((kctx_pid, comm))) = (splat.pid, task) {
        facts.push(FactComparison {
            fact: ContextFact::Task,
            kernel: format!("{}/{pid}", splat.task.as_deref().unwrap_or("?")),
            kctx: format!("{comm}/{kctx_pid}"),
            // Comms differ in length limits and renames: the pid decides.
            agrees: pid == kctx_pid,
        });
    }
    let mut push = |fact, kernel: String, kctx: String| {
        let agrees = kernel == kctx;
        facts.push(FactComparison {
            fact,
            kernel,
            kctx,
            agrees,
        });
    };
    if let Some(count) = printed.preempt_count {
        if let Some(depth) = state.preempt_depth {
            push(
                ContextFact::PreemptDepth,
                (count & PREEMPT_MASK).to_string(),
                depth.to_string(),
            );
        }
        if levels_known {
            push(
                ContextFact::InHardirq,
                yes_no(count & HARDIRQ_MASK != 0),
                yes_no(in_hardirq),
            );
            push(
                ContextFact::InSoftirq,
                yes_no(count & SOFTIRQ_OFFSET != 0),
                yes_no(in_softirq),
            );
            push(
                ContextFact::InNmi,
                yes_no(count & NMI_MASK != 0),
                yes_no(in_nmi),
            );
        }
        if let Some(bh_off) = state.bh_off {
            push(
                ContextFact::BhDisabled,
                yes_no(count & SOFTIRQ_MASK >= SOFTIRQ_DISABLE_OFFSET),
                yes_no(bh_off),
            );
        }
    }
    if let (Some(disabled), Some(irqs_off)) = (printed.irqs_disabled, state.irqs_off) {
        push(
            ContextFact::IrqsDisabled,
            yes_no(disabled),
            yes_no(irqs_off),
        );
    }
    if let Some(lockdep) = printed.lockdep_irq_state {
        if levels_known {
            push(
                ContextFact::InHardirq,
                yes_no(lockdep.in_hardirq),
                yes_no(in_hardirq),
            );
            push(
                ContextFact::InSoftirq,
                yes_no(lockdep.in_softirq),
                yes_no(in_softirq),
            );
        }
        if let Some(irqs_off) = state.irqs_off {
            push(
                ContextFact::IrqsDisabled,
                yes_no(!lockdep.hardirqs_enabled),
                yes_no(irqs_off),
            );
        }
        if let Some(bh_off) = state.bh_off {
            push(
                ContextFact::SoftirqsEnabled,
                yes_no(lockdep.softirqs_enabled),
                yes_no(!(bh_off || in_softirq)),
            );
        }
    }
    if let Some(names) = &printed.locks_held {
        // Only lockdep's own events name locks by the class names the report prints.
        if model.coverage.lock_source == LockSource::Lockdep {
            facts.push(compare_locks(
                names,
                printed.acquiring.as_deref(),
                &state.locks,
            ));
        }
    }
    // The task alone says nothing about the context.
    if facts.iter().all(|f| f.fact == ContextFact::Task) {
        return Err(NotCompared::NothingRecorded);
    }
    Ok((cpu, ts_ns, facts))
}

/// The held-locks list (plus the lock being acquired) against the locks kctx holds, as sets:
/// the kernel may already list the lock a `takes:` report is about.
fn compare_locks(held: &[String], acquiring: Option<&str>, kctx: &[HeldLock]) -> FactComparison {
    let kernel_set: BTreeSet<&str> = held.iter().map(String::as_str).chain(acquiring).collect();
    let kctx_set: BTreeSet<&str> = kctx.iter().map(|l| l.class.as_str()).collect();
    let mut kernel = list(held.iter().map(String::as_str));
    if let Some(lock) = acquiring.filter(|lock| !held.iter().any(|h| h == lock)) {
        kernel.push_str(&format!(" + acquiring {lock}"));
    }
    FactComparison {
        fact: ContextFact::LocksHeld,
        kernel,
        kctx: list(kctx_set.iter().copied()),
        agrees: kernel_set == kctx_set,
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    format!("[{}]", names.collect::<Vec<_>>().join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockdep_irq_state_reads_each_flag() {
        let state = LockdepIrqState::parse("HC0[0]:SC1[1]:HE1:SE0").expect("parses");
        assert_eq!(
            state,
            LockdepIrqState {
                in_hardirq: false,
                in_softirq: true,
                hardirqs_enabled: true,
                softirqs_enabled: false,
            }
        );
        assert_eq!(LockdepIrqState::parse("HC0[0]:SC1[1]:HE1"), None);
        assert_eq!(LockdepIrqState::parse("context-{4:4}"), None);
    }

    #[test]
    fn preempt_count_is_hex_with_or_without_prefix() {
        // might_sleep prints `%x`, scheduling while atomic `0x%08x`.
        assert_eq!(parse_hex("1"), Some(1));
        assert_eq!(parse_hex("0x00000102"), Some(0x102));
        assert_eq!(parse_hex("10"), Some(0x10));
        assert_eq!(parse_hex("zz"), None);
    }

    #[test]
    fn only_the_reporting_tasks_lock_list_counts() {
        let mut splat = Splat::new(
            SplatKind::HungTask,
            1,
            SplatFacts::HungTask {
                blocked_seconds: 1,
                io_wait: false,
                cant_die: false,
            },
        );
        splat.pid = Some(175);
        assert!(held_by_reporting_task(&splat, Some("lab_s1/175")));
        assert!(held_by_reporting_task(&splat, None));
        assert!(!held_by_reporting_task(&splat, Some("kworker/0:1/12")));
    }

    #[test]
    fn preemptible_access_prints_a_preemptible_context() {
        let splat = Splat::new(
            SplatKind::PreemptibleCpuAccess,
            1,
            SplatFacts::PreemptibleCpuAccess(crate::splat::PreemptibleFacts {
                accessor: Some("smp_processor_id".to_owned()),
                preempt_count: Some("00000000".to_owned()),
                caller: None,
            }),
        );
        let printed = PrintedContext::of(&splat);
        assert_eq!(
            (printed.preempt_count, printed.irqs_disabled),
            (Some(0), Some(false))
        );
    }
}
