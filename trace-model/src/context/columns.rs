//! The context model as plain arrays of words and back: the cache's format. Reading back
//! checks everything against the store the model was built from (every event index, string
//! id, hold, lock, class and CPU in range, every range inside its arena, every lane in time
//! order), so a damaged or foreign file is an error, never a panic or a wrong answer.
//!
//! Each record is a fixed number of `u64` words ([`Words`]); an optional value of at most 32
//! bits is `NONE`, an optional time two words (present, value), so every value round-trips.

use super::calibrate::Baselines;
use super::lanes::IntervalLane;
use super::locks::{
    ClassId, HolderContext, LockClass, LockHold, LockId, LockInstance, LockMode, LockTable,
    NameSource,
};
use super::primitives::SleepEntry;
use super::tasks::{Migration, TaskRun, TaskTimeline, Wakeup};
use super::{
    BuildStats, ContextModel, Coverage, CpuLanes, Gfp, HardirqSpan, HoldSpan, PreemptSpan,
    SleepCall, SleepKind, SoftirqSpan, TaskSpan, UnknownReason, state,
};
use crate::payload::TaskState;
use crate::store::{EventIdx, EventStore};
use crate::strings::{ExtendedInterner, Interner, StrId};
use rustc_hash::FxHashMap;

/// An absent optional value of at most 32 bits.
const NONE: u64 = u64::MAX;

/// A model as named arrays, plus the strings it added to the store's and its small parts.
pub struct ModelColumns {
    /// Each array by name (names are at most 24 bytes).
    pub arrays: Vec<(String, Vec<u64>)>,
    /// The strings the model added to the store's ([`Interner::parts`]).
    pub string_text: String,
    pub string_bounds: Vec<u32>,
    pub coverage: Coverage,
    pub build_stats: BuildStats,
}

/// What the ids and indices of one model may point at.
struct Limits {
    events: u64,
    strings: u64,
    cpus: u64,
    locks: u64,
    classes: u64,
}

/// A record of a fixed number of words.
trait Words: Sized {
    const N: usize;
    fn put(&self, out: &mut Vec<u64>);
    /// `None`: a word out of its range.
    fn get(w: &[u64], l: &Limits) -> Option<Self>;
}

fn small(w: u64) -> Option<u32> {
    u32::try_from(w).ok()
}
fn int(v: i32) -> u64 {
    u64::from(v as u32)
}
fn get_int(w: u64) -> Option<i32> {
    small(w).map(|v| v as i32)
}
fn byte(w: u64) -> Option<u8> {
    u8::try_from(w).ok()
}
fn flag(w: u64) -> Option<bool> {
    match w {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}
fn below(w: u64, limit: u64) -> Option<u32> {
    small(w).filter(|&v| u64::from(v) < limit)
}
fn event(w: u64, l: &Limits) -> Option<EventIdx> {
    below(w, l.events)
}
fn string(w: u64, l: &Limits) -> Option<StrId> {
    below(w, l.strings).map(StrId)
}
fn opt<T: Into<u64>>(v: Option<T>) -> u64 {
    v.map_or(NONE, Into::into)
}
/// An optional value of at most 32 bits: `Some(None)` when absent, `None` when out of range.
fn get_opt<T>(w: u64, f: impl FnOnce(u64) -> Option<T>) -> Option<Option<T>> {
    if w == NONE {
        Some(None)
    } else {
        f(w).map(Some)
    }
}
fn put_time(out: &mut Vec<u64>, t: Option<u64>) {
    out.extend([u64::from(t.is_some()), t.unwrap_or(0)]);
}
fn get_time(w: &[u64]) -> Option<Option<u64>> {
    Some(flag(w[0])?.then_some(w[1]))
}

/// An enum as a small number and back; the match on writing is exhaustive, so a new variant
/// does not build until it has a number.
macro_rules! codes {
    ($t:ty { $(($($v:tt)+) = $n:literal),* $(,)? }) => {
        impl Words for $t {
            const N: usize = 1;
            fn put(&self, out: &mut Vec<u64>) {
                out.push(match *self { $($($v)+ => $n),* });
            }
            fn get(w: &[u64], _: &Limits) -> Option<Self> {
                match w[0] { $($n => Some($($v)+),)* _ => None }
            }
        }
    };
}

codes!(UnknownReason { (UnknownReason::StartOfData) = 0, (UnknownReason::LostEvents) = 1 });
codes!(NameSource { (NameSource::Lockdep) = 0, (NameSource::Kallsyms) = 1, (NameSource::Address) = 2 });
codes!(HolderContext {
    (HolderContext::Task) = 0,
    (HolderContext::Softirq) = 1,
    (HolderContext::Hardirq) = 2,
    (HolderContext::Nmi) = 3,
    (HolderContext::Unknown) = 4,
});
codes!(LockMode {
    (LockMode::Spin) = 0,
    (LockMode::SpinIrq) = 1,
    (LockMode::SpinIrqsave) = 2,
    (LockMode::SpinBh) = 3,
    (LockMode::RawSpin) = 4,
    (LockMode::RwlockRead) = 5,
    (LockMode::RwlockWrite) = 6,
    (LockMode::Mutex) = 7,
    (LockMode::RwsemRead) = 8,
    (LockMode::RwsemWrite) = 9,
    (LockMode::Pseudo) = 10,
    (LockMode::Unknown) = 11,
});
codes!(SleepKind {
    (SleepKind::Call(SleepEntry::MaySleep)) = 0,
    (SleepKind::Call(SleepEntry::Allocation)) = 1,
    (SleepKind::Call(SleepEntry::Marker)) = 2,
    (SleepKind::RealSleep) = 3,
});
codes!(Gfp { (Gfp::NotAllocation) = 0, (Gfp::Unknown) = 1, (Gfp::Blocking) = 2, (Gfp::NonBlocking) = 3 });

fn code<T: Words>(v: &T) -> u64 {
    let mut out = Vec::with_capacity(1);
    v.put(&mut out);
    out[0]
}

impl Words for () {
    const N: usize = 0;
    fn put(&self, _: &mut Vec<u64>) {}
    fn get(_: &[u64], _: &Limits) -> Option<Self> {
        Some(())
    }
}

/// The first event of an irqs-off or BH-off interval.
impl Words for EventIdx {
    const N: usize = 1;
    fn put(&self, out: &mut Vec<u64>) {
        out.push((*self).into());
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        event(w[0], l)
    }
}

impl Words for TaskSpan {
    const N: usize = 2;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([int(self.pid), self.comm.0.into()]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(TaskSpan {
            pid: get_int(w[0])?,
            comm: string(w[1], l)?,
        })
    }
}

impl Words for SoftirqSpan {
    const N: usize = 1;
    fn put(&self, out: &mut Vec<u64>) {
        out.push(opt(self.vec));
    }
    fn get(w: &[u64], _: &Limits) -> Option<Self> {
        Some(SoftirqSpan {
            vec: get_opt(w[0], small)?,
        })
    }
}

impl Words for HardirqSpan {
    const N: usize = 2;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([opt(self.irq.map(|i| i as u32)), self.name.0.into()]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(HardirqSpan {
            irq: get_opt(w[0], get_int)?,
            name: string(w[1], l)?,
        })
    }
}

impl Words for PreemptSpan {
    const N: usize = 3;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([self.excess, self.depth].map(u64::from));
        out.push(self.first.into());
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(PreemptSpan {
            excess: byte(w[0])?,
            depth: byte(w[1])?,
            first: event(w[2], l)?,
        })
    }
}

impl Words for TaskRun {
    const N: usize = 2;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend(match *self {
            TaskRun::Running { cpu } => [0, cpu.into()],
            TaskRun::Runnable => [1, 0],
            TaskRun::Sleeping(state) => [2, state.0.into()],
        });
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        match w[0] {
            0 => Some(TaskRun::Running {
                cpu: below(w[1], l.cpus)?,
            }),
            1 => Some(TaskRun::Runnable),
            2 => Some(TaskRun::Sleeping(TaskState(u16::try_from(w[1]).ok()?))),
            _ => None,
        }
    }
}

impl Words for Migration {
    const N: usize = 5;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([
            self.ts,
            int(self.pid),
            int(self.from_cpu),
            int(self.to_cpu),
            self.event.into(),
        ]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(Migration {
            ts: w[0],
            pid: get_int(w[1])?,
            from_cpu: get_int(w[2])?,
            to_cpu: get_int(w[3])?,
            event: event(w[4], l)?,
        })
    }
}

impl Words for Wakeup {
    const N: usize = 6;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([
            self.ts,
            int(self.waker_pid),
            self.waker_cpu.into(),
            int(self.wakee_pid),
            int(self.target_cpu),
            self.event.into(),
        ]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(Wakeup {
            ts: w[0],
            waker_pid: get_int(w[1])?,
            waker_cpu: below(w[2], l.cpus)?,
            wakee_pid: get_int(w[3])?,
            target_cpu: get_int(w[4])?,
            event: event(w[5], l)?,
        })
    }
}

impl Words for LockInstance {
    const N: usize = 2;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([self.addr, self.class.0.into()]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(LockInstance {
            addr: w[0],
            class: ClassId(below(w[1], l.classes)?),
        })
    }
}

impl Words for LockClass {
    const N: usize = 2;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([self.name.0.into(), code(&self.source)]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(LockClass {
            name: string(w[0], l)?,
            source: NameSource::get(&w[1..], l)?,
        })
    }
}

impl Words for HoldSpan {
    const N: usize = 2;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([self.end_ns, self.mode_inferred.into()]);
    }
    fn get(w: &[u64], _: &Limits) -> Option<Self> {
        Some(HoldSpan {
            end_ns: w[0],
            mode_inferred: flag(w[1])?,
        })
    }
}

impl Words for LockHold {
    const N: usize = 24;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([
            self.lock.0.into(),
            code(&self.mode),
            self.trylock.into(),
            self.read.into(),
            self.validated.into(),
            self.cpu.into(),
            int(self.pid),
            code(&self.context),
            self.acquire_ts,
            self.acquire_event.into(),
        ]);
        put_time(out, self.contended_ts);
        put_time(out, self.acquired_ts);
        put_time(out, self.release_ts);
        out.extend([
            opt(self.release_event),
            opt(self.caller.map(|c| c.0)),
            opt(self.hardirqs_enabled),
            opt(self.softirqs_enabled),
            opt(self.hardirqs_enabled_while_held),
            opt(self.softirqs_enabled_while_held),
            self.held_before.start.into(),
            self.held_before.end.into(),
        ]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(LockHold {
            lock: LockId(below(w[0], l.locks)?),
            mode: LockMode::get(&w[1..], l)?,
            trylock: flag(w[2])?,
            read: byte(w[3])?,
            validated: flag(w[4])?,
            cpu: below(w[5], l.cpus)?,
            pid: get_int(w[6])?,
            context: HolderContext::get(&w[7..], l)?,
            acquire_ts: w[8],
            acquire_event: event(w[9], l)?,
            contended_ts: get_time(&w[10..])?,
            acquired_ts: get_time(&w[12..])?,
            release_ts: get_time(&w[14..])?,
            release_event: get_opt(w[16], |w| event(w, l))?,
            caller: get_opt(w[17], |w| string(w, l))?,
            hardirqs_enabled: get_opt(w[18], flag)?,
            softirqs_enabled: get_opt(w[19], flag)?,
            hardirqs_enabled_while_held: get_opt(w[20], flag)?,
            softirqs_enabled_while_held: get_opt(w[21], flag)?,
            held_before: small(w[22])?..small(w[23])?,
        })
    }
}

impl Words for SleepCall {
    const N: usize = 18;
    fn put(&self, out: &mut Vec<u64>) {
        out.extend([
            self.event.into(),
            self.ts,
            self.cpu.into(),
            int(self.pid),
            code(&self.kind),
            self.func.0.into(),
            self.caller.0.into(),
            code(&self.context),
            opt(self.excess_depth),
            opt(self.depth),
            opt(self.irqs_off),
            opt(self.bh_off),
            self.held.start.into(),
            self.held.end.into(),
            code(&self.gfp),
            opt(self.root),
            opt(self.slept),
            opt(self.schedule_bug),
        ]);
    }
    fn get(w: &[u64], l: &Limits) -> Option<Self> {
        Some(SleepCall {
            event: event(w[0], l)?,
            ts: w[1],
            cpu: below(w[2], l.cpus)?,
            pid: get_int(w[3])?,
            kind: SleepKind::get(&w[4..], l)?,
            func: string(w[5], l)?,
            caller: string(w[6], l)?,
            context: HolderContext::get(&w[7..], l)?,
            excess_depth: get_opt(w[8], byte)?,
            depth: get_opt(w[9], byte)?,
            irqs_off: get_opt(w[10], flag)?,
            bh_off: get_opt(w[11], flag)?,
            held: small(w[12])?..small(w[13])?,
            gfp: Gfp::get(&w[14..], l)?,
            root: get_opt(w[15], small)?,
            slept: get_opt(w[16], |w| event(w, l))?,
            schedule_bug: get_opt(w[17], |w| event(w, l))?,
        })
    }
}

/// Collects the arrays being written.
#[derive(Default)]
struct Writer {
    arrays: Vec<(String, Vec<u64>)>,
}

impl Writer {
    fn records<'a, T: Words + 'a>(&mut self, name: &str, items: impl IntoIterator<Item = &'a T>) {
        let mut out = Vec::new();
        for item in items {
            item.put(&mut out);
        }
        self.arrays.push((name.to_owned(), out));
    }

    /// Several lanes as one set of arrays: starts, ends, values and each lane's length.
    fn lanes<'a, T: Words + 'a>(
        &mut self,
        name: &str,
        lanes: impl IntoIterator<Item = &'a IntervalLane<T>>,
    ) {
        let (mut starts, mut ends, mut values, mut lens) = (vec![], vec![], vec![], vec![]);
        for lane in lanes {
            let (s, e, v) = lane.parts();
            starts.extend_from_slice(s);
            ends.extend_from_slice(e);
            v.iter().for_each(|v| v.put(&mut values));
            lens.push(s.len() as u64);
        }
        for (part, array) in [
            ("start", starts),
            ("end", ends),
            ("value", values),
            ("lens", lens),
        ] {
            self.arrays.push((format!("{name}.{part}"), array));
        }
    }
}

/// Takes the arrays being read, checking each against what it may point at.
struct Reader {
    arrays: FxHashMap<String, Vec<u64>>,
    limits: Limits,
}

impl Reader {
    fn take(&mut self, name: &str) -> Result<Vec<u64>, String> {
        self.arrays
            .remove(name)
            .ok_or_else(|| format!("no array {name:?}"))
    }

    /// How many records of `T` the array `name` holds, without taking it.
    fn count<T: Words>(&self, name: &str) -> Result<u64, String> {
        let n = self.arrays.get(name).map_or(0, Vec::len);
        if T::N == 0 || !n.is_multiple_of(T::N) {
            return Err(format!("{name}: {n} words, not records of {}", T::N));
        }
        Ok((n / T::N) as u64)
    }

    fn records<T: Words>(&mut self, name: &str) -> Result<Vec<T>, String> {
        let words = self.take(name)?;
        decode(&words, T::N, &self.limits).ok_or_else(|| format!("{name}: a value out of range"))
    }

    /// Lanes written by [`Writer::lanes`]; `expected` of them.
    fn lanes<T: Words>(
        &mut self,
        name: &str,
        expected: usize,
    ) -> Result<Vec<IntervalLane<T>>, String> {
        let [starts, ends, values, lens] =
            ["start", "end", "value", "lens"].map(|p| self.take(&format!("{name}.{p}")));
        let (starts, ends, values, lens) = (starts?, ends?, values?, lens?);
        let total = lens.iter().try_fold(0u64, |a, &n| a.checked_add(n));
        if lens.len() != expected
            || total != Some(starts.len() as u64)
            || values.len() != starts.len() * T::N
        {
            return Err(format!("{name}: lane lengths disagree"));
        }
        let values = decode::<T>(&values, T::N, &self.limits)
            .ok_or_else(|| format!("{name}: a value out of range"))?;
        let mut values = values.into_iter();
        let mut lanes = Vec::with_capacity(expected);
        let mut at = 0;
        for &n in &lens {
            let range = at..at + n as usize;
            at = range.end;
            let lane_values: Vec<T> = if T::N == 0 {
                (0..n)
                    .map(|_| T::get(&[], &self.limits))
                    .collect::<Option<_>>()
            } else {
                Some(values.by_ref().take(n as usize).collect())
            }
            .ok_or_else(|| format!("{name}: a value out of range"))?;
            let lane = IntervalLane::from_parts(
                starts[range.clone()].to_vec(),
                ends[range].to_vec(),
                lane_values,
            )
            .map_err(|e| format!("{name}: {e}"))?;
            lanes.push(lane);
        }
        Ok(lanes)
    }
}

fn decode<T: Words>(words: &[u64], n: usize, l: &Limits) -> Option<Vec<T>> {
    if n == 0 {
        return words.is_empty().then(Vec::new);
    }
    if !words.len().is_multiple_of(n) {
        return None;
    }
    words.chunks_exact(n).map(|w| T::get(w, l)).collect()
}

/// Indices into an arena of `limit` items, each checked.
fn indices(words: Vec<u64>, limit: usize, what: &str) -> Result<Vec<u32>, String> {
    (words.into_iter())
        .map(|w| below(w, limit as u64))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("{what}: an index out of range"))
}

impl ContextModel {
    /// The model as arrays (the cache's format): see [`Self::from_columns`].
    pub fn to_columns(&self) -> ModelColumns {
        let mut w = Writer::default();
        w.records("lock.instances", &self.locks.locks);
        w.records("lock.classes", &self.locks.classes);
        w.records("lock.holds", &self.locks.holds);
        w.arrays.push((
            "lock.held_before".into(),
            self.locks.held_before.iter().map(|&h| h.into()).collect(),
        ));
        w.records("hold_spans", &self.hold_spans);
        w.lanes("cpu.tasks", self.cpus.iter().map(|c| &c.tasks));
        w.lanes("cpu.softirq", self.cpus.iter().map(|c| &c.softirq));
        w.lanes("cpu.hardirq", self.cpus.iter().map(|c| &c.hardirq));
        w.lanes("cpu.nmi", self.cpus.iter().map(|c| &c.nmi));
        w.lanes("cpu.irqs_off", self.cpus.iter().map(|c| &c.irqs_off));
        w.lanes("cpu.bh_off", self.cpus.iter().map(|c| &c.bh_off));
        w.lanes("cpu.preempt_off", self.cpus.iter().map(|c| &c.preempt_off));
        w.lanes("cpu.unknown", self.cpus.iter().map(|c| &c.unknown));
        w.records("sleep_calls", &self.sleep_calls);
        w.arrays.push((
            "held_at_call".into(),
            self.held_at_call.iter().map(|&h| h.into()).collect(),
        ));
        w.arrays.push((
            "task.pids".into(),
            self.tasks.pids.iter().map(|&p| int(p)).collect(),
        ));
        w.lanes("task.lanes", &self.tasks.lanes);
        w.records("task.migrations", &self.tasks.migrations);
        w.records("task.wakeups", &self.tasks.wakeups);
        let [keys, fallback, probed] = self.baselines.to_words();
        w.arrays.push(("baseline.keys".into(), keys));
        w.arrays.push(("baseline.fallback".into(), fallback));
        w.arrays.push(("baseline.probed".into(), probed));
        let (text, bounds) = self.strings.added().parts();
        ModelColumns {
            arrays: w.arrays,
            string_text: text.to_owned(),
            string_bounds: bounds.to_vec(),
            coverage: self.coverage.clone(),
            build_stats: self.build_stats,
        }
    }

    /// The model [`Self::to_columns`] wrote for `store`, checked against it: what does not fit
    /// (an index, id or range out of bounds, a lane out of order, an array missing or of the
    /// wrong length) is an error naming the array.
    pub fn from_columns(store: &EventStore, c: ModelColumns) -> Result<ContextModel, String> {
        let added = Interner::from_parts(c.string_text, c.string_bounds)?;
        let strings = ExtendedInterner::with_added(store.strings.clone(), added);
        let mut r = Reader {
            arrays: c.arrays.into_iter().collect(),
            limits: Limits {
                events: store.len() as u64,
                strings: strings.len() as u64,
                cpus: store.cpu_count() as u64,
                locks: 0,
                classes: 0,
            },
        };
        r.limits.classes = r.count::<LockClass>("lock.classes")?;
        r.limits.locks = r.count::<LockInstance>("lock.instances")?;
        let locks = LockTable {
            locks: r.records("lock.instances")?,
            classes: r.records("lock.classes")?,
            holds: r.records("lock.holds")?,
            held_before: Vec::new(),
        };
        let held_before = r.take("lock.held_before")?;
        let held_before = indices(held_before, locks.holds.len(), "lock.held_before")?;
        let hold_spans: Vec<HoldSpan> = r.records("hold_spans")?;
        if hold_spans.len() != locks.holds.len() {
            return Err("hold_spans: not one per hold".into());
        }
        for (i, (h, span)) in locks.holds.iter().zip(&hold_spans).enumerate() {
            let in_arena = h.held_before.start <= h.held_before.end
                && h.held_before.end as usize <= held_before.len();
            if !in_arena || span.end_ns < h.acquire_ts {
                return Err(format!("lock.holds: hold {i} out of range"));
            }
        }
        let locks = LockTable {
            held_before,
            ..locks
        };
        let cpus = store.cpu_count();
        let mut lanes = CpuLanesReader {
            tasks: r.lanes("cpu.tasks", cpus)?.into_iter(),
            softirq: r.lanes("cpu.softirq", cpus)?.into_iter(),
            hardirq: r.lanes("cpu.hardirq", cpus)?.into_iter(),
            nmi: r.lanes("cpu.nmi", cpus)?.into_iter(),
            irqs_off: r.lanes("cpu.irqs_off", cpus)?.into_iter(),
            bh_off: r.lanes("cpu.bh_off", cpus)?.into_iter(),
            preempt_off: r.lanes("cpu.preempt_off", cpus)?.into_iter(),
            unknown: r.lanes("cpu.unknown", cpus)?.into_iter(),
        };
        let cpus = (0..cpus).map(|_| lanes.next()).collect();
        let sleep_calls: Vec<SleepCall> = r.records("sleep_calls")?;
        let held_at_call = r.take("held_at_call")?;
        let held_at_call = indices(held_at_call, locks.holds.len(), "held_at_call")?;
        for (i, s) in sleep_calls.iter().enumerate() {
            let in_arena = s.held.start <= s.held.end && s.held.end as usize <= held_at_call.len();
            let root_ok = s
                .root
                .is_none_or(|root| (root as usize) < sleep_calls.len());
            if !in_arena || !root_ok {
                return Err(format!("sleep_calls: call {i} out of range"));
            }
        }
        let pids: Vec<i32> = (r.take("task.pids")?.into_iter())
            .map(get_int)
            .collect::<Option<_>>()
            .filter(|p: &Vec<i32>| p.windows(2).all(|w| w[0] < w[1]))
            .ok_or("task.pids: out of range or order")?;
        let tasks = TaskTimeline {
            lanes: r.lanes("task.lanes", pids.len())?,
            pids,
            migrations: r.records("task.migrations")?,
            wakeups: r.records("task.wakeups")?,
        };
        let baselines = Baselines::from_words(
            [
                r.take("baseline.keys")?,
                r.take("baseline.fallback")?,
                r.take("baseline.probed")?,
            ],
            strings.len(),
        )?;
        if let Some(name) = r.arrays.keys().next() {
            return Err(format!("an array this kctx does not know: {name:?}"));
        }
        let owners = state::OwnerIndex::build(&locks, &hold_spans);
        Ok(ContextModel {
            locks,
            hold_spans,
            cpus,
            sleep_calls,
            held_at_call,
            tasks,
            build_stats: c.build_stats,
            baselines,
            coverage: c.coverage,
            strings,
            owners,
            locks_held: std::sync::OnceLock::new(),
        })
    }
}

/// Per-CPU lanes read kind by kind, handed out CPU by CPU.
struct CpuLanesReader {
    tasks: Lanes<TaskSpan>,
    softirq: Lanes<SoftirqSpan>,
    hardirq: Lanes<HardirqSpan>,
    nmi: Lanes<()>,
    irqs_off: Lanes<EventIdx>,
    bh_off: Lanes<EventIdx>,
    preempt_off: Lanes<PreemptSpan>,
    unknown: Lanes<UnknownReason>,
}

type Lanes<T> = std::vec::IntoIter<IntervalLane<T>>;

impl CpuLanesReader {
    /// The next CPU's lanes (each kind was checked to hold one lane per CPU).
    fn next(&mut self) -> CpuLanes {
        fn first<T>(v: &mut Lanes<T>) -> IntervalLane<T> {
            v.next().unwrap_or_default()
        }
        CpuLanes {
            tasks: first(&mut self.tasks),
            softirq: first(&mut self.softirq),
            hardirq: first(&mut self.hardirq),
            nmi: first(&mut self.nmi),
            irqs_off: first(&mut self.irqs_off),
            bh_off: first(&mut self.bh_off),
            preempt_off: first(&mut self.preempt_off),
            unknown: first(&mut self.unknown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::BuildOptions;
    use crate::synthetic::{SyntheticSpec, generate};

    fn model() -> (EventStore, ContextModel) {
        let store = generate(SyntheticSpec {
            events: 20_000,
            ..SyntheticSpec::default()
        });
        let model = ContextModel::build(&store, &BuildOptions::default());
        (store, model)
    }

    #[test]
    fn a_model_reads_back_as_built() {
        let (store, model) = model();
        assert!(!model.locks.holds.is_empty() && !model.sleep_calls.is_empty());
        let back = ContextModel::from_columns(&store, model.to_columns()).unwrap();
        assert_eq!(format!("{:?}", back.locks), format!("{:?}", model.locks));
        assert_eq!(back.hold_spans, model.hold_spans);
        assert_eq!(format!("{:?}", back.cpus), format!("{:?}", model.cpus));
        assert_eq!(back.sleep_calls, model.sleep_calls);
        assert_eq!(back.held_at_call, model.held_at_call);
        assert_eq!(format!("{:?}", back.tasks), format!("{:?}", model.tasks));
        assert_eq!(back.coverage, model.coverage);
        assert_eq!(
            back.baselines.to_words().map(|mut w| {
                w.sort_unstable();
                w
            }),
            model.baselines.to_words().map(|mut w| {
                w.sort_unstable();
                w
            })
        );
        assert_eq!(back.strings.len(), model.strings.len());
        let t = store.time_span().unwrap().0 + 1_000_000;
        for cpu in 0..model.cpus.len() as u32 {
            assert_eq!(
                back.state_at(&store, cpu, t),
                model.state_at(&store, cpu, t)
            );
        }
    }

    #[test]
    fn every_out_of_range_word_is_refused() {
        let (store, model) = model();
        let good = model.to_columns();
        let names: Vec<String> = good.arrays.iter().map(|(n, _)| n.clone()).collect();
        for name in names {
            for bad in [u64::MAX - 1, 1 << 40] {
                let mut c = model.to_columns();
                let array = &mut c.arrays.iter_mut().find(|(n, _)| *n == name).unwrap().1;
                let Some(first) = array.first_mut() else {
                    continue;
                };
                *first = bad;
                // Refused, or (a time, an address) accepted as a value: never a panic.
                let _ = ContextModel::from_columns(&store, c);
            }
            let mut c = model.to_columns();
            c.arrays.retain(|(n, _)| *n != name);
            assert!(
                ContextModel::from_columns(&store, c).is_err(),
                "{name} missing"
            );
        }
        // An index past the holds, a lane going back in time, a string past the strings.
        let mut c = model.to_columns();
        let held = &mut c
            .arrays
            .iter_mut()
            .find(|(n, _)| n == "held_at_call")
            .unwrap()
            .1;
        held.push(model.locks.holds.len() as u64);
        assert!(ContextModel::from_columns(&store, c).is_err());
        let mut c = model.to_columns();
        let starts = &mut c
            .arrays
            .iter_mut()
            .find(|(n, _)| n == "cpu.tasks.start")
            .unwrap()
            .1;
        starts.swap(0, 1);
        assert!(ContextModel::from_columns(&store, c).is_err());
        let mut c = model.to_columns();
        let classes = &mut c
            .arrays
            .iter_mut()
            .find(|(n, _)| n == "lock.classes")
            .unwrap()
            .1;
        classes[0] = model.strings.len() as u64;
        assert!(ContextModel::from_columns(&store, c).is_err());
    }
}
