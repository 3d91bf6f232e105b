//! What the store alone shows at once, while the context model is built: per CPU the running
//! task (from `sched_switch`) and the irqs-off, BH-off, hardirq, softirq and NMI state the
//! flags sampled, and the per-task timelines. No lock, sleep call or coverage: a window
//! draws this first and replaces it with the built model.

use super::lanes::IntervalLane;
use super::tasks::TaskTimeline;
use super::{ContextModel, CpuLanes, HardirqSpan, SoftirqSpan, TaskSpan};
use crate::payload::Payload;
use crate::store::{EventIdx, EventStore};
use crate::{IrqContext, StrId};

/// A lane being extended: the value since when, pushed when the value changes.
struct Run<T> {
    open: Option<(u64, T)>,
}

impl<T: PartialEq> Run<T> {
    fn set(&mut self, lane: &mut IntervalLane<T>, ts: u64, value: Option<T>) {
        if self.open.as_ref().map(|(_, v)| v) == value.as_ref() {
            return;
        }
        if let Some((start, v)) = self.open.take() {
            lane.push(start, ts, v);
        }
        self.open = value.map(|v| (ts, v));
    }
}

impl<T: PartialEq + Copy> Run<T> {
    /// Keeps the open state while `on` (whatever `first` is), opening it with `first` when
    /// none is open: the value of a flag's interval is the event that first showed it.
    fn hold(&mut self, lane: &mut IntervalLane<T>, ts: u64, on: bool, first: T) {
        let value = on.then(|| self.open.as_ref().map_or(first, |&(_, v)| v));
        self.set(lane, ts, value);
    }
}

impl<T> Default for Run<T> {
    fn default() -> Self {
        Run { open: None }
    }
}

impl ContextModel {
    /// The preview of `store` (see the module's documentation): one pass per CPU and one
    /// over the task switches, on the machine's cores.
    pub fn preview(store: &EventStore) -> ContextModel {
        let end = store.time_span().map_or(0, |s| s.1);
        let (cpus, tasks) = crate::parallel::join(
            || {
                crate::parallel::map(store.cpu_count(), |cpu| {
                    cpu_preview(store, store.cpu_events(cpu), end)
                })
            },
            || TaskTimeline::build(store),
        );
        ContextModel {
            cpus,
            tasks,
            strings: crate::strings::ExtendedInterner::over(store.strings.clone()),
            ..ContextModel::default()
        }
    }
}

fn cpu_preview(store: &EventStore, events: &[EventIdx], end: u64) -> CpuLanes {
    let mut lanes = CpuLanes::default();
    let (mut task, mut irqs, mut bh) = (Run::default(), Run::default(), Run::default());
    let (mut hard, mut soft, mut nmi) = (Run::default(), Run::default(), Run::default());
    for &i in events {
        let ts = store.ts()[i as usize];
        if let Payload::SchedSwitch {
            next_pid,
            next_comm,
            ..
        } = store.payload(i)
        {
            let span = TaskSpan {
                pid: next_pid,
                comm: next_comm,
            };
            task.set(&mut lanes.tasks, ts, Some(span));
        }
        let flags = store.flags()[i as usize];
        if !flags.recorded() {
            continue;
        }
        irqs.hold(&mut lanes.irqs_off, ts, flags.irqs_off() == Some(true), i);
        bh.hold(&mut lanes.bh_off, ts, flags.bh_off() == Some(true), i);
        let context = flags.irq_context();
        let hardirq = matches!(
            context,
            Some(IrqContext::Hardirq | IrqContext::HardirqInSoftirq | IrqContext::NmiInHardirq)
        );
        let softirq = matches!(
            context,
            Some(IrqContext::Softirq | IrqContext::HardirqInSoftirq)
        );
        let in_nmi = matches!(context, Some(IrqContext::Nmi | IrqContext::NmiInHardirq));
        let sampled_hardirq = HardirqSpan {
            irq: None,
            name: StrId::EMPTY,
        };
        hard.set(&mut lanes.hardirq, ts, hardirq.then_some(sampled_hardirq));
        soft.set(
            &mut lanes.softirq,
            ts,
            softirq.then_some(SoftirqSpan { vec: None }),
        );
        nmi.set(&mut lanes.nmi, ts, in_nmi.then_some(()));
    }
    // Each last state holds to the end of the data.
    task.set(&mut lanes.tasks, end, None);
    irqs.set(&mut lanes.irqs_off, end, None);
    bh.set(&mut lanes.bh_off, end, None);
    hard.set(&mut lanes.hardirq, end, None);
    soft.set(&mut lanes.softirq, end, None);
    nmi.set(&mut lanes.nmi, end, None);
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::BuildOptions;
    use crate::synthetic::{SyntheticSpec, generate};

    #[test]
    fn the_preview_runs_the_tasks_the_model_runs() {
        let store = generate(SyntheticSpec {
            events: 20_000,
            ..SyntheticSpec::default()
        });
        let preview = ContextModel::preview(&store);
        let model = ContextModel::build(&store, &BuildOptions::default());
        assert_eq!(preview.cpus.len(), model.cpus.len());
        assert_eq!(preview.tasks.pids, model.tasks.pids);
        // Wherever both show a task on a CPU, it is the same task.
        let (first, last) = store.time_span().unwrap();
        let mut compared = 0;
        for cpu in 0..model.cpus.len() {
            for k in 1..100u64 {
                let t = first + (last - first) * k / 100;
                let (a, b) = (preview.cpus[cpu].tasks.at(t), model.cpus[cpu].tasks.at(t));
                if let (Some(a), Some(b)) = (a, b) {
                    assert_eq!(a.value.pid, b.value.pid, "cpu {cpu} at {t}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 100, "{compared}");
        assert!(preview.cpus.iter().any(|c| !c.irqs_off.is_empty()));
    }
}
