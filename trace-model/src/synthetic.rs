//! A synthetic trace generator for scale work: an [`EventStore`] of N events with realistic
//! CPUs, tasks, `sched_switch`, wakeups, hardirqs, softirqs, `preemptirq:*` toggles and
//! `lock:*` events, each carrying the context flags its state implies. The same seed gives
//! the same trace, so benchmarks compare like with like.
//!
//! A few planted bugs (a sleep while a spinlock is held) keep the detectors busy at scale.

use crate::SourceFormat;
use crate::flags::{ContextFlags, FlagBits};
use crate::payload::{Payload, PayloadIn, TaskState};
use crate::store::{EventHeader, EventStore, EventStoreBuilder, EventTypeId};
use crate::strings::StrId;
use std::collections::VecDeque;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct SyntheticSpec {
    pub events: usize,
    pub cpus: u32,
    /// Distinct tasks (besides the per-CPU idle tasks).
    pub tasks: u32,
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            events: 100_000,
            cpus: 8,
            tasks: 48,
            seed: 0x6b63_7478,
        }
    }
}

/// SplitMix64: tiny, fast and reproducible on every platform, which is all a fixed-seed
/// generator needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// A duration in µs, roughly log-uniform in `lo..hi` (many short, a few long).
    fn micros(&mut self, lo: u64, hi: u64) -> u64 {
        let span = hi.saturating_sub(lo).max(1);
        let a = self.below(span);
        let b = self.below(span);
        lo + a.min(b).min(self.below(span))
    }
}

#[derive(Clone, Copy)]
struct Task {
    pid: i32,
    comm: StrId,
}

/// Interned names and event types.
struct Names {
    sched_switch: EventTypeId,
    sched_waking: EventTypeId,
    sched_wakeup: EventTypeId,
    irq_entry: EventTypeId,
    irq_exit: EventTypeId,
    softirq_entry: EventTypeId,
    softirq_exit: EventTypeId,
    irq_disable: EventTypeId,
    irq_enable: EventTypeId,
    preempt_disable: EventTypeId,
    preempt_enable: EventTypeId,
    lock_acquire: EventTypeId,
    lock_release: EventTypeId,
    function: EventTypeId,
    irq_names: Vec<(i32, StrId)>,
    locks: Vec<(u64, StrId)>,
    callers: Vec<StrId>,
    msleep: StrId,
}

impl Names {
    fn new(b: &mut EventStoreBuilder) -> Names {
        let mut t = |n: &str| b.event_type(n).expect("few event types");
        let names = Names {
            sched_switch: t("sched_switch"),
            sched_waking: t("sched_waking"),
            sched_wakeup: t("sched_wakeup"),
            irq_entry: t("irq_handler_entry"),
            irq_exit: t("irq_handler_exit"),
            softirq_entry: t("softirq_entry"),
            softirq_exit: t("softirq_exit"),
            irq_disable: t("irq_disable"),
            irq_enable: t("irq_enable"),
            preempt_disable: t("preempt_disable"),
            preempt_enable: t("preempt_enable"),
            lock_acquire: t("lock_acquire"),
            lock_release: t("lock_release"),
            function: t("function"),
            irq_names: Vec::new(),
            locks: Vec::new(),
            callers: Vec::new(),
            msleep: StrId::EMPTY,
        };
        Names {
            irq_names: [(11, "virtio0"), (24, "eth0"), (1, "i8042"), (30, "nvme0q1")]
                .map(|(irq, n)| (irq, b.intern(n)))
                .to_vec(),
            locks: [
                "&rq->__lock",
                "&p->pi_lock",
                "&zone->lock",
                "&dentry->d_lock",
                "&sb->s_type->i_lock_key",
                "jiffies_lock",
            ]
            .iter()
            .enumerate()
            .map(|(i, n)| (0xffff_8880_0100_0000 + 0x40 * i as u64, b.intern(n)))
            .collect(),
            callers: [
                "try_to_wake_up",
                "__schedule",
                "rmqueue_bulk",
                "dput",
                "inode_add_lru",
                "tick_do_update_jiffies64",
            ]
            .map(|n| b.intern(n))
            .to_vec(),
            msleep: b.intern("msleep"),
            ..names
        }
    }
}

/// One event waiting in a CPU's queue.
struct Pending {
    ts: u64,
    pid: i32,
    comm: StrId,
    event_type: EventTypeId,
    flags: ContextFlags,
    payload: PayloadIn<'static>,
}

/// A CPU's simulated state. Scenes push a burst of events into `queue`; the generator merges
/// the CPUs' queues in time order, so the store needs no sort.
struct Cpu {
    now_us: u64,
    current: Task,
    idle: Task,
    queue: VecDeque<Pending>,
}

/// Context state while a scene is written.
#[derive(Clone, Copy, Default)]
struct Ctx {
    preempt: u8,
    irqs_off: bool,
    bh_off: bool,
    hardirq: bool,
    softirq: bool,
}

impl Ctx {
    fn flags(self) -> ContextFlags {
        ContextFlags::new(
            FlagBits {
                irqs_off: self.irqs_off,
                bh_off: self.bh_off,
                hardirq: self.hardirq,
                softirq: self.softirq,
                ..FlagBits::default()
            },
            Some(self.preempt),
            Some(0),
        )
    }
}

struct Gen<'n> {
    rng: Rng,
    names: &'n Names,
    tasks: Vec<Task>,
    scenes: u64,
}

impl Cpu {
    fn emit(&mut self, ctx: Ctx, event_type: EventTypeId, payload: PayloadIn<'static>) {
        self.now_us += 1;
        let task = self.current;
        self.queue.push_back(Pending {
            ts: self.now_us * 1000,
            pid: task.pid,
            comm: task.comm,
            event_type,
            flags: ctx.flags(),
            payload,
        });
    }
    fn advance(&mut self, us: u64) {
        self.now_us += us;
    }
}

impl Gen<'_> {
    /// Appends the next scene to `cpu`'s queue.
    fn scene(&mut self, cpu: &mut Cpu) {
        self.scenes += 1;
        // Every ~5000th scene plants a sleep under a spinlock (s1a-like).
        if self.scenes.is_multiple_of(4999) && cpu.current.pid != 0 {
            return self.sleep_under_spinlock(cpu);
        }
        match self.rng.below(100) {
            0..=24 => self.switch(cpu, None),
            25..=39 => self.hardirq(cpu),
            40..=52 => self.softirq(cpu),
            53..=74 => self.lock_section(cpu, false),
            75..=84 => self.lock_section(cpu, true),
            85..=92 => self.wakeup(cpu),
            _ => self.function(cpu),
        }
    }

    fn switch(&mut self, cpu: &mut Cpu, prev_state: Option<TaskState>) {
        let next = if cpu.current.pid != 0 && self.rng.below(4) == 0 {
            cpu.idle
        } else {
            self.tasks[self.rng.below(self.tasks.len() as u64) as usize]
        };
        let prev = cpu.current;
        let state = prev_state.unwrap_or_else(|| match (prev.pid, self.rng.below(3)) {
            (0, _) | (_, 0) => TaskState::parse("R+"),
            (_, 1) => TaskState::parse("S"),
            _ => TaskState::parse("D"),
        });
        let ctx = Ctx {
            preempt: 2,
            irqs_off: true,
            ..Ctx::default()
        };
        cpu.emit(
            ctx,
            self.names.sched_switch,
            Payload::SchedSwitch {
                prev_comm: prev.comm,
                prev_pid: prev.pid,
                prev_prio: 120,
                prev_state: state,
                next_comm: next.comm,
                next_pid: next.pid,
                next_prio: 120,
            },
        );
        cpu.current = next;
        let run = if next.pid == 0 {
            self.rng.micros(20, 4000)
        } else {
            self.rng.micros(5, 1500)
        };
        cpu.advance(run);
    }

    fn hardirq(&mut self, cpu: &mut Cpu) {
        let (irq, name) = self.names.irq_names[self.rng.below(4) as usize];
        let ctx = Ctx {
            preempt: 1,
            irqs_off: true,
            hardirq: true,
            ..Ctx::default()
        };
        cpu.emit(
            ctx,
            self.names.irq_entry,
            Payload::IrqHandlerEntry { irq, name },
        );
        cpu.advance(self.rng.micros(2, 40));
        cpu.emit(
            ctx,
            self.names.irq_exit,
            Payload::IrqHandlerExit { irq, handled: true },
        );
        cpu.advance(self.rng.micros(1, 200));
    }

    fn softirq(&mut self, cpu: &mut Cpu) {
        let vec = [1, 3, 7, 9][self.rng.below(4) as usize];
        let ctx = Ctx {
            preempt: 1,
            softirq: true,
            bh_off: true,
            ..Ctx::default()
        };
        cpu.emit(ctx, self.names.softirq_entry, Payload::SoftirqEntry { vec });
        cpu.advance(self.rng.micros(3, 120));
        if self.rng.below(3) == 0 {
            self.locked(cpu, ctx, false);
        }
        cpu.emit(ctx, self.names.softirq_exit, Payload::SoftirqExit { vec });
        cpu.advance(self.rng.micros(1, 200));
    }

    fn lock_section(&mut self, cpu: &mut Cpu, irqsave: bool) {
        let mut ctx = Ctx::default();
        if irqsave {
            let caller = self.caller();
            cpu.emit(
                ctx,
                self.names.irq_disable,
                Payload::IrqDisable {
                    caller,
                    parent: caller,
                },
            );
            ctx.irqs_off = true;
        }
        let nest = self.rng.below(6) == 0;
        self.locked(cpu, ctx, nest);
        if irqsave {
            let caller = self.caller();
            cpu.emit(
                ctx,
                self.names.irq_enable,
                Payload::IrqEnable {
                    caller,
                    parent: caller,
                },
            );
        }
        cpu.advance(self.rng.micros(1, 300));
    }

    /// preempt_disable, lock_acquire (maybe nested once), work, release, preempt_enable.
    fn locked(&mut self, cpu: &mut Cpu, outer: Ctx, nest: bool) {
        let caller = self.caller();
        let (addr, name) = self.names.locks[self.rng.below(self.names.locks.len() as u64) as usize];
        cpu.emit(
            outer,
            self.names.preempt_disable,
            Payload::PreemptDisable {
                caller,
                parent: caller,
            },
        );
        let ctx = Ctx {
            preempt: outer.preempt + 1,
            ..outer
        };
        let acquire = Payload::LockAcquire {
            addr,
            name,
            trylock: false,
            read: 0,
        };
        cpu.emit(ctx, self.names.lock_acquire, acquire);
        cpu.advance(self.rng.micros(1, 30));
        if nest {
            self.locked(cpu, ctx, false);
        }
        cpu.emit(
            ctx,
            self.names.lock_release,
            Payload::LockRelease { addr, name },
        );
        cpu.emit(
            ctx,
            self.names.preempt_enable,
            Payload::PreemptEnable {
                caller,
                parent: caller,
            },
        );
    }

    fn sleep_under_spinlock(&mut self, cpu: &mut Cpu) {
        let (addr, name) = self.names.locks[0];
        let caller = self.caller();
        let ctx = Ctx {
            preempt: 1,
            ..Ctx::default()
        };
        cpu.emit(
            Ctx::default(),
            self.names.preempt_disable,
            Payload::PreemptDisable {
                caller,
                parent: caller,
            },
        );
        cpu.emit(
            ctx,
            self.names.lock_acquire,
            Payload::LockAcquire {
                addr,
                name,
                trylock: false,
                read: 0,
            },
        );
        cpu.emit(
            ctx,
            self.names.function,
            Payload::Function {
                func: self.names.msleep,
                parent: caller,
            },
        );
        self.switch(cpu, Some(TaskState::parse("D")));
    }

    fn wakeup(&mut self, cpu: &mut Cpu) {
        let t = self.tasks[self.rng.below(self.tasks.len() as u64) as usize];
        let ctx = Ctx {
            preempt: 2,
            irqs_off: true,
            ..Ctx::default()
        };
        let wake = |target_cpu| Payload::SchedWakeup {
            comm: t.comm,
            pid: t.pid,
            prio: 120,
            target_cpu,
        };
        let target = self.rng.below(8) as i32;
        cpu.emit(ctx, self.names.sched_waking, wake(target));
        cpu.emit(ctx, self.names.sched_wakeup, wake(target));
        cpu.advance(self.rng.micros(1, 100));
    }

    fn function(&mut self, cpu: &mut Cpu) {
        let func = self.caller();
        let parent = self.caller();
        cpu.emit(
            Ctx::default(),
            self.names.function,
            Payload::Function { func, parent },
        );
        cpu.advance(self.rng.micros(1, 100));
    }

    fn caller(&mut self) -> StrId {
        self.names.callers[self.rng.below(self.names.callers.len() as u64) as usize]
    }
}

/// Generates a trace as `spec` says. Events come out in time order, CPUs interleaved.
pub fn generate(spec: SyntheticSpec) -> EventStore {
    let mut b = EventStoreBuilder::with_capacity(spec.events);
    let names = Names::new(&mut b);
    let tasks: Vec<Task> = (0..spec.tasks.max(1))
        .map(|i| {
            let comm = [
                "kworker/u16:2",
                "systemd",
                "rcu_preempt",
                "gcc",
                "cc1",
                "sshd",
                "Xorg",
                "firefox",
            ][i as usize % 8];
            Task {
                pid: 100 + i as i32,
                comm: b.intern(comm),
            }
        })
        .collect();
    let cpus = spec.cpus.max(1);
    let mut state: Vec<Cpu> = (0..cpus)
        .map(|c| {
            let idle = Task {
                pid: 0,
                comm: b.intern(&format!("swapper/{c}")),
            };
            Cpu {
                now_us: 1_000_000 + u64::from(c) * 7,
                current: idle,
                idle,
                queue: VecDeque::new(),
            }
        })
        .collect();
    let mut g = Gen {
        rng: Rng(spec.seed),
        names: &names,
        tasks,
        scenes: 0,
    };
    while b.len() < spec.events {
        // The CPU whose next event is earliest; refill an empty queue first.
        for cpu in state.iter_mut().filter(|c| c.queue.is_empty()) {
            g.scene(cpu);
        }
        let (c, cpu) = state
            .iter_mut()
            .enumerate()
            .min_by_key(|(_, c)| c.queue.front().map_or(u64::MAX, |p| p.ts))
            .expect("at least one CPU");
        let p = cpu.queue.pop_front().expect("refilled above");
        b.push(
            EventHeader {
                ts: p.ts,
                cpu: c as u32,
                pid: p.pid,
                comm: p.comm,
                event_type: p.event_type,
                flags: p.flags,
            },
            &p.payload,
        );
    }
    b.meta_mut().source = SourceFormat::FtraceText {
        dialect: "synthetic".into(),
    };
    b.meta_mut().cpus = cpus;
    b.meta_mut().clock = Some("global".into());
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_trace_in_time_order_on_every_cpu() {
        let spec = SyntheticSpec {
            events: 20_000,
            cpus: 4,
            ..SyntheticSpec::default()
        };
        let a = generate(spec);
        let b = generate(spec);
        assert_eq!(a.len(), 20_000);
        assert_eq!(a.ts(), b.ts());
        assert!(a.ts().is_sorted());
        assert_eq!(a.cpu_count(), 4);
        for c in 0..4 {
            assert!(a.cpu_events(c).len() > 2_000, "cpu {c} is busy");
        }
        let switches = a.event_type_id("sched_switch").unwrap();
        let n = a.event_types().iter().filter(|&&t| t == switches).count();
        assert!(n > 500, "{n} switches");
    }

    #[test]
    fn flags_follow_the_simulated_context() {
        let s = generate(SyntheticSpec {
            events: 5_000,
            ..SyntheticSpec::default()
        });
        let entry = s.event_type_id("irq_handler_entry").unwrap();
        let acquire = s.event_type_id("lock_acquire").unwrap();
        for i in 0..s.len() {
            let f = s.flags()[i];
            if s.event_types()[i] == entry {
                assert_eq!(f.hardirq(), Some(true));
                assert_eq!(f.irqs_off(), Some(true));
            }
            if s.event_types()[i] == acquire {
                assert!(f.preempt_depth().unwrap() >= 1);
            }
        }
    }
}
