//! The columnar event store: one vector per field, events in global time order, with a
//! per-CPU index. See the crate docs for the layout and its size per event.

use crate::column::Column;
use crate::flags::ContextFlags;
use crate::meta::{LostEvents, TraceMeta};
use crate::payload::{PayloadArena, PayloadIn, PayloadView, SharedPayloads};
use crate::report::{ImportReport, Location};
use crate::strings::{Interner, StrId};
use crate::symbols::SymbolTable;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

mod columns;
mod comms;
mod flag_column;
mod prefault;
pub use columns::{StoreColumns, SymbolColumns};
use comms::CommChanges;
pub use comms::CommTable;
pub use flag_column::Flags;
use flag_column::{FlagCoder, FlagColumn};
use prefault::{Prefault, Region};

/// The most CPU lanes a store has: Linux's largest `NR_CPUS` (x86-64 `MAXSMP`). A trace
/// that states more CPUs gets this many lanes; CPU ids at or above it (only a damaged or
/// hostile file has them) are numbered densely instead, see [`EventStore::cpu_id`].
pub const MAX_CPUS: usize = 8192;

/// Index of an event in an [`EventStore`] (global time order).
pub type EventIdx = u32;

/// Id of an event type (an interned event name such as `sched_switch`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, bytemuck::Pod, bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct EventTypeId(pub u16);

/// The fixed part of an event as an importer pushes it.
#[derive(Clone, Copy, Debug)]
pub struct EventHeader {
    pub ts: u64,
    pub cpu: u32,
    pub pid: i32,
    pub comm: StrId,
    pub event_type: EventTypeId,
    pub flags: ContextFlags,
}

/// One event read back from the store.
#[derive(Clone, Debug)]
pub struct EventRef<'a> {
    pub idx: EventIdx,
    pub ts: u64,
    pub cpu: u32,
    pub pid: i32,
    pub comm: &'a str,
    pub name: &'a str,
    pub event_type: EventTypeId,
    pub flags: ContextFlags,
    pub payload: PayloadView<'a>,
}

/// All events of one trace, column by column.
#[derive(Clone, Debug, Default)]
pub struct EventStore {
    ts: Column<u64>,
    cpu: Column<u16>,
    event_type: Column<EventTypeId>,
    pid: Column<i32>,
    /// Each event's comm, from its pid: kept per task, not per event.
    comms: CommTable,
    /// A byte an event: a code into the trace's distinct flag words.
    flags: FlagColumn,
    payload: Column<u32>,
    /// Event indices grouped by CPU, each CPU's in time order: CPU `c`'s are
    /// `by_cpu[cpu_starts[c]..cpu_starts[c + 1]]`. Built on the first per-CPU query:
    /// 4 bytes an event that a whole-trace pass (`kctx stats`, the context builder)
    /// never reads.
    by_cpu: OnceLock<Column<EventIdx>>,
    cpu_starts: Vec<usize>,
    /// The CPU id of each lane when ids were numbered densely; empty when lane = CPU id.
    cpu_ids: Vec<u32>,
    event_names: Vec<StrId>,
    /// Interned strings: comms, event names, symbols, lock names, field keys. Shared with
    /// the context model, which extends them (a write after that copies them first).
    pub strings: Arc<Interner>,
    arena: PayloadArena,
    /// Kernel symbols the trace carries (trace.dat kallsyms) or a sidecar added.
    pub symbols: SymbolTable,
    /// Trace-wide facts.
    pub meta: TraceMeta,
    /// What the importer could not read.
    pub report: ImportReport,
}

impl EventStore {
    /// Number of events.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// True when the store holds no event.
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Timestamps (ns), ascending.
    pub fn ts(&self) -> &[u64] {
        &self.ts
    }
    /// CPU of each event.
    pub fn cpus(&self) -> &[u16] {
        &self.cpu
    }
    /// pid (`common_pid`) of each event.
    pub fn pids(&self) -> &[i32] {
        &self.pid
    }
    /// comm of event `i`'s task, as the trace printed it.
    #[inline]
    pub fn comm(&self, i: EventIdx) -> StrId {
        self.comms.get(self.pid[i as usize], i)
    }
    /// Event type of each event.
    pub fn event_types(&self) -> &[EventTypeId] {
        &self.event_type
    }
    /// Context flags of each event.
    pub fn flags(&self) -> Flags<'_> {
        self.flags.view()
    }

    /// Payload of event `i`.
    pub fn payload(&self, i: EventIdx) -> PayloadView<'_> {
        self.arena.get(self.payload[i as usize])
    }

    /// Event `i` with its strings resolved.
    pub fn event(&self, i: EventIdx) -> EventRef<'_> {
        let u = i as usize;
        EventRef {
            idx: i,
            ts: self.ts[u],
            cpu: u32::from(self.cpu[u]),
            pid: self.pid[u],
            comm: self.strings.resolve(self.comm(i)),
            name: self.type_name(self.event_type[u]),
            event_type: self.event_type[u],
            flags: self.flags()[u],
            payload: self.payload(i),
        }
    }

    /// Name of an event type.
    pub fn type_name(&self, t: EventTypeId) -> &str {
        self.strings.resolve(self.event_names[t.0 as usize])
    }

    /// All event types, by id.
    pub fn event_type_names(&self) -> impl Iterator<Item = (EventTypeId, &str)> {
        self.event_names
            .iter()
            .enumerate()
            .map(|(i, &s)| (EventTypeId(i as u16), self.strings.resolve(s)))
    }

    /// How many events of each type the trace holds, by type id (a trace.dat declares
    /// types it never recorded: those count 0).
    pub fn event_type_counts(&self) -> Vec<u64> {
        let types = self.event_names.len();
        // A slice per core, counted apart and added up: tens of millions of events.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = self.event_type.len().div_ceil(cores).max(1);
        let slices: Vec<&[EventTypeId]> = self.event_type.chunks(chunk).collect();
        let partial = crate::parallel::map(slices.len(), |k| {
            let mut counts = vec![0u64; types];
            for t in slices[k] {
                counts[usize::from(t.0)] += 1;
            }
            counts
        });
        partial
            .into_iter()
            .fold(vec![0u64; types], |mut sum, counts| {
                sum.iter_mut().zip(counts).for_each(|(s, c)| *s += c);
                sum
            })
    }

    /// The id of the event type called `name`, if the trace has it.
    pub fn event_type_id(&self, name: &str) -> Option<EventTypeId> {
        let s = self.strings.lookup(name)?;
        self.event_names
            .iter()
            .position(|&n| n == s)
            .map(|i| EventTypeId(i as u16))
    }

    /// Resolves an interned string.
    pub fn str(&self, id: StrId) -> &str {
        self.strings.resolve(id)
    }

    /// Number of CPU lanes (highest CPU + 1, or the stated CPU count if larger).
    pub fn cpu_count(&self) -> usize {
        self.cpu_starts.len().saturating_sub(1)
    }

    /// The CPU id a lane stands for: the lane itself, unless the trace had CPU ids at or
    /// above [`MAX_CPUS`], whose lanes are then numbered densely in id order (a warning
    /// says so).
    pub fn cpu_id(&self, lane: usize) -> u32 {
        self.cpu_ids.get(lane).copied().unwrap_or(lane as u32)
    }

    /// Indices of the events of one CPU, in time order.
    pub fn cpu_events(&self, cpu: usize) -> &[EventIdx] {
        match (self.cpu_starts.get(cpu), self.cpu_starts.get(cpu + 1)) {
            (Some(&start), Some(&end)) => &self.cpu_index()[start..end],
            _ => &[],
        }
    }

    /// Number of events of one CPU (without building the per-CPU index).
    pub fn cpu_event_count(&self, cpu: usize) -> usize {
        match (self.cpu_starts.get(cpu), self.cpu_starts.get(cpu + 1)) {
            (Some(&start), Some(&end)) => end - start,
            _ => 0,
        }
    }

    /// The per-CPU index, built on first use: each CPU's slots fill in time order from
    /// its start.
    fn cpu_index(&self) -> &[EventIdx] {
        self.by_cpu.get_or_init(|| {
            let mut next = self.cpu_starts.clone();
            let mut by_cpu = vec![0; self.cpu.len()];
            for (i, &c) in (0..).zip(&self.cpu) {
                let slot = &mut next[usize::from(c)];
                by_cpu[*slot] = i;
                *slot += 1;
            }
            Column::from(by_cpu)
        })
    }

    /// Events with `start <= ts < end`, as an index range (binary search).
    pub fn range(&self, start: u64, end: u64) -> Range<usize> {
        self.ts.partition_point(|&t| t < start)..self.ts.partition_point(|&t| t < end)
    }

    /// Positions in `cpu_events(cpu)` of the CPU's events with `start <= ts < end`.
    pub fn cpu_range(&self, cpu: usize, start: u64, end: u64) -> Range<usize> {
        let idx = self.cpu_events(cpu);
        let ts = &self.ts;
        idx.partition_point(|&i| ts[i as usize] < start)
            ..idx.partition_point(|&i| ts[i as usize] < end)
    }

    /// First and last timestamps.
    pub fn time_span(&self) -> Option<(u64, u64)> {
        Some((*self.ts.first()?, *self.ts.last()?))
    }

    /// Bytes of its own: the columns, the per-CPU index (once built), the payload arena and
    /// the strings, except what [`Self::shared_bytes`] counts.
    pub fn heap_bytes(&self) -> usize {
        self.ts.heap_bytes()
            + self.cpu.heap_bytes()
            + self.event_type.heap_bytes()
            + self.pid.heap_bytes()
            + self.payload.heap_bytes()
            + self.by_cpu.get().map_or(0, Column::heap_bytes)
            + self.flags.heap_bytes()
            + self.comms.heap_bytes()
            + self.arena.heap_bytes()
            + self.strings.heap_bytes()
    }

    /// Bytes viewed where a cache file mapped them instead of held: a store read from the
    /// cache shares its event columns and payload words with the page cache.
    pub fn shared_bytes(&self) -> usize {
        self.ts.shared_bytes()
            + self.cpu.shared_bytes()
            + self.event_type.shared_bytes()
            + self.pid.shared_bytes()
            + self.payload.shared_bytes()
            + self.by_cpu.get().map_or(0, Column::shared_bytes)
            + self.flags.shared_bytes()
            + self.arena.shared_bytes()
    }
}

/// Builds an [`EventStore`]. Importers push events in any order; [`EventStoreBuilder::finish`]
/// sorts them by time (stable, so same-time events keep their input order).
#[derive(Debug, Default)]
pub struct EventStoreBuilder {
    store: EventStore,
    /// The store's strings while they grow, moved into it by `finish`.
    strings: Interner,
    /// Events pushed and not yet in the columns.
    pending: Box<Pending>,
    /// Short payloads pushed lately, shared by the events that repeat them.
    shared: SharedPayloads,
    /// The latest time pushed, and whether every push kept time order.
    last_ts: u64,
    sorted: bool,
    type_ids: rustc_hash::FxHashMap<StrId, EventTypeId>,
    /// Where each pid's comm changed, in push order.
    comm_changes: CommChanges,
    /// The flag words' codes.
    flag_coder: FlagCoder,
    /// CPU ids at or above [`MAX_CPUS`], in the order first seen: the cpu column holds
    /// `MAX_CPUS + index` for them until [`EventStoreBuilder::finish`] numbers lanes densely.
    high_cpus: Vec<u32>,
    /// Faults the columns' pages in on another core ahead of the pushes (large stores).
    prefault: Option<Prefault>,
}

/// Events moved to the columns at a time (24 KB: stays in cache).
const BATCH: usize = 1024;

/// The next events for the columns, column by column, in fixed arrays: a push is six
/// stores behind one bounds check, and a batch joins each column by one copy. Six
/// `Vec::push`es per event (each re-reading its vector's length and capacity) cost more
/// than the decoding that produced the event.
struct Pending {
    len: usize,
    ts: [u64; BATCH],
    cpu: [u16; BATCH],
    event_type: [EventTypeId; BATCH],
    pid: [i32; BATCH],
    flags: [ContextFlags; BATCH],
    payload: [u32; BATCH],
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("len", &self.len).finish()
    }
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            len: 0,
            ts: [0; BATCH],
            cpu: [0; BATCH],
            event_type: [EventTypeId(0); BATCH],
            pid: [0; BATCH],
            flags: [ContextFlags::NOT_RECORDED; BATCH],
            payload: [0; BATCH],
        }
    }
}

/// Too many distinct event names for a 16-bit type id.
#[derive(Debug, thiserror::Error)]
#[error("more than 65535 distinct event names")]
pub struct TooManyEventTypes;

impl EventStoreBuilder {
    /// A builder with room for `events` events.
    pub fn with_capacity(events: usize) -> Self {
        let mut b = Self::default();
        let s = &mut b.store;
        s.flags.reserve(events);
        s.arena.reserve(events);
        b.prefault = Prefault::spawn(vec![
            reserve(&mut s.ts, events),
            reserve(&mut s.cpu, events),
            reserve(&mut s.event_type, events),
            reserve(&mut s.pid, events),
            s.flags.region(),
            reserve(&mut s.payload, events),
        ]);
        b.sorted = true;
        b
    }

    /// Interns a string.
    pub fn intern(&mut self, s: &str) -> StrId {
        self.strings.intern(s)
    }

    /// The strings interned so far.
    pub fn strings(&self) -> &Interner {
        &self.strings
    }

    /// The type id of the event called `name`, registering it if new.
    pub fn event_type(&mut self, name: &str) -> Result<EventTypeId, TooManyEventTypes> {
        let s = self.strings.intern(name);
        if let Some(&t) = self.type_ids.get(&s) {
            return Ok(t);
        }
        let t = EventTypeId(
            u16::try_from(self.store.event_names.len()).map_err(|_| TooManyEventTypes)?,
        );
        self.store.event_names.push(s);
        self.type_ids.insert(s, t);
        Ok(t)
    }

    /// Appends one event.
    #[inline]
    pub fn push(&mut self, h: EventHeader, payload: &PayloadIn<'_>) {
        let at = self.store.arena.push_sharing(payload, &mut self.shared);
        self.push_header(h, at);
    }

    /// Appends one event with a [`Payload::Fields`](crate::payload::Payload::Fields)
    /// payload whose values `render` writes straight into the store's text: no copy
    /// through a buffer for the events an importer has no typed payload for.
    #[inline]
    pub fn push_fields<T>(
        &mut self,
        h: EventHeader,
        fields: &[(StrId, T)],
        render: impl FnMut(&T, &mut String),
    ) {
        let at = self.store.arena.push_fields_with(fields, render);
        self.push_header(h, at);
    }

    #[inline]
    fn push_header(&mut self, h: EventHeader, payload: u32) {
        if h.ts < self.last_ts {
            self.sorted = false;
        }
        self.last_ts = h.ts;
        let cpu = match u16::try_from(h.cpu) {
            Ok(c) if usize::from(c) < MAX_CPUS => c,
            _ => self.high_cpu(h.cpu),
        };
        let n = self.pending.len;
        let at = (self.store.ts.len() + n) as EventIdx;
        self.comm_changes.push(h.pid, h.comm, at);
        let p = &mut *self.pending;
        p.ts[n] = h.ts;
        p.cpu[n] = cpu;
        p.event_type[n] = h.event_type;
        p.pid[n] = h.pid;
        p.flags[n] = h.flags;
        p.payload[n] = payload;
        p.len = n + 1;
        if p.len == BATCH {
            self.flush();
        }
    }

    /// The cpu column's value for a CPU id at or above [`MAX_CPUS`]. Ids beyond what the
    /// 16-bit column can tell apart share its last value (and later the last lane).
    #[cold]
    fn high_cpu(&mut self, cpu: u32) -> u16 {
        const SLOTS: usize = u16::MAX as usize + 1 - MAX_CPUS;
        let at = match self.high_cpus.iter().position(|&c| c == cpu) {
            Some(at) => at,
            None if self.high_cpus.len() < SLOTS => {
                self.high_cpus.push(cpu);
                self.high_cpus.len() - 1
            }
            None => SLOTS - 1,
        };
        (MAX_CPUS + at) as u16
    }

    /// Sets the number of CPUs the trace states (empty CPUs get lanes too), at most
    /// [`MAX_CPUS`]: a larger count is a warning at `at`, not an allocation.
    pub fn state_cpu_count(&mut self, count: u64, at: Location) {
        if count > MAX_CPUS as u64 {
            self.store.report.warn(
                &format!("stated CPU count above {MAX_CPUS}: lanes only for the CPUs with events"),
                at,
            );
        }
        self.store.meta.cpus = count.min(MAX_CPUS as u64) as u32;
    }

    /// Moves the pending events into the columns.
    fn flush(&mut self) {
        let (s, p) = (&mut self.store, &mut *self.pending);
        let n = p.len;
        let ts = s.ts.make_mut();
        if ts.len() + n > ts.capacity() {
            // The columns move as they grow: the helper's addresses would be stale.
            self.prefault = None;
        }
        ts.extend_from_slice(&p.ts[..n]);
        s.cpu.make_mut().extend_from_slice(&p.cpu[..n]);
        s.event_type
            .make_mut()
            .extend_from_slice(&p.event_type[..n]);
        s.pid.make_mut().extend_from_slice(&p.pid[..n]);
        s.flags.extend(&p.flags[..n], &mut self.flag_coder);
        s.payload.make_mut().extend_from_slice(&p.payload[..n]);
        p.len = 0;
        if let Some(prefault) = &mut self.prefault {
            prefault.progress(s.ts.len());
        }
    }

    /// Records lost events on `cpu` before time `ts`.
    pub fn lost(&mut self, cpu: u32, ts: u64, count: Option<u64>) {
        self.store.meta.lost.push(LostEvents { cpu, ts, count });
    }

    /// The symbol table, to fill from the trace's kallsyms.
    pub fn symbols_mut(&mut self) -> &mut SymbolTable {
        &mut self.store.symbols
    }

    /// Strings and symbols together (parsing kallsyms interns names).
    pub fn strings_and_symbols_mut(&mut self) -> (&mut Interner, &mut SymbolTable) {
        (&mut self.strings, &mut self.store.symbols)
    }

    /// Trace metadata, to fill in while importing.
    pub fn meta_mut(&mut self) -> &mut TraceMeta {
        &mut self.store.meta
    }

    /// The import report, to count what could not be read.
    pub fn report_mut(&mut self) -> &mut ImportReport {
        &mut self.store.report
    }

    /// Events pushed so far.
    pub fn len(&self) -> usize {
        self.store.ts.len() + self.pending.len
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts by time, counts each CPU's events (the per-CPU index is built on first use)
    /// and returns the store.
    pub fn finish(mut self) -> EventStore {
        self.flush();
        self.prefault = None;
        let s = &mut self.store;
        let mut reordered = None;
        s.strings = Arc::new(std::mem::take(&mut self.strings));
        if !self.sorted && !s.ts.is_sorted() {
            // Events move: their comms are read out in push order and the changes found
            // again in time order.
            let mut comm = self.comm_changes.replay(&s.pid);
            let mut order: Vec<u32> = (0..s.ts.len() as u32).collect();
            order.sort_by_key(|&i| s.ts[i as usize]);
            permute(s.ts.make_mut(), &order);
            permute(s.cpu.make_mut(), &order);
            permute(s.event_type.make_mut(), &order);
            permute(s.pid.make_mut(), &order);
            permute(&mut comm, &order);
            reordered = Some(CommChanges::of_column(&s.pid, &comm));
            s.flags.permute(&order);
            permute(s.payload.make_mut(), &order);
        }
        s.comms = CommTable::new(
            reordered.unwrap_or_else(|| std::mem::take(&mut self.comm_changes.changes)),
        );
        if !self.high_cpus.is_empty() {
            number_lanes_densely(s, &self.high_cpus);
        }
        // Events per CPU, shifted by one: the prefix sums then give each CPU's start.
        let stated = (s.meta.cpus as usize).min(MAX_CPUS);
        let mut starts = vec![0usize; stated + 1];
        for &c in &s.cpu {
            let at = usize::from(c) + 1;
            if at >= starts.len() {
                starts.resize(at + 1, 0);
            }
            starts[at] += 1;
        }
        let lanes = starts.len() - 1;
        for c in 0..lanes {
            starts[c + 1] += starts[c];
        }
        s.cpu_starts = starts;
        s.meta.cpus = lanes as u32;
        s.meta.lost.sort_by_key(|l| (l.cpu, l.ts));
        self.store
    }
}

/// Reorders a column: entry `k` becomes the one at `order[k]`.
fn permute<T: Copy>(v: &mut Vec<T>, order: &[u32]) {
    *v = order.iter().map(|&i| v[i as usize]).collect();
}

/// Room for `events` more values in a builder's column; the region for the prefault helper.
fn reserve<T: bytemuck::Pod>(column: &mut Column<T>, events: usize) -> Region {
    let values = column.make_mut();
    values.reserve(events);
    Region::of(values)
}

/// Renumbers the cpu column so that lanes are the distinct CPU ids in ascending order, at
/// most [`MAX_CPUS`] of them (the rest share the last lane), for a trace with CPU ids at
/// or above [`MAX_CPUS`]. Lost-event records move to their CPU's lane; a CPU that only lost
/// events gets one too. Both are warnings: lanes no longer carry the CPU's number.
#[cold]
fn number_lanes_densely(s: &mut EventStore, high_cpus: &[u32]) {
    let id_of = |value: u16| match usize::from(value).checked_sub(MAX_CPUS) {
        Some(i) => high_cpus[i],
        None => u32::from(value),
    };
    let value_of = |cpu: u32| match high_cpus.iter().position(|&c| c == cpu) {
        Some(i) => Some((MAX_CPUS + i) as u16),
        None => u16::try_from(cpu)
            .ok()
            .filter(|&c| usize::from(c) < MAX_CPUS),
    };
    let mut used = vec![false; usize::from(u16::MAX) + 1];
    for &c in &s.cpu {
        used[usize::from(c)] = true;
    }
    for l in &s.meta.lost {
        if let Some(v) = value_of(l.cpu) {
            used[usize::from(v)] = true;
        }
    }
    let mut ids: Vec<(u32, u16)> = (0..=u16::MAX)
        .filter(|&v| used[usize::from(v)])
        .map(|v| (id_of(v), v))
        .collect();
    ids.sort_unstable();
    let mut lane_of = vec![0u16; usize::from(u16::MAX) + 1];
    for (lane, &(_, v)) in ids.iter().enumerate() {
        lane_of[usize::from(v)] = lane.min(MAX_CPUS - 1) as u16;
    }
    for c in s.cpu.make_mut() {
        *c = lane_of[usize::from(*c)];
    }
    for l in &mut s.meta.lost {
        if let Some(v) = value_of(l.cpu) {
            l.cpu = u32::from(lane_of[usize::from(v)]);
        }
    }
    if ids.len() > MAX_CPUS {
        s.report.warn(
            &format!("more than {MAX_CPUS} distinct CPU ids: the last ones share the last lane"),
            Location::Input,
        );
    }
    s.cpu_ids = ids.iter().take(MAX_CPUS).map(|&(id, _)| id).collect();
    s.meta.cpus = 0;
    s.report.warn(
        &format!(
            "CPU ids at or above {MAX_CPUS} (highest {}): lanes numbered densely, not by CPU id",
            ids.last().map_or(0, |&(id, _)| id)
        ),
        Location::Input,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::Payload;

    fn header(b: &mut EventStoreBuilder, ts: u64, cpu: u32, name: &str) -> EventHeader {
        EventHeader {
            ts,
            cpu,
            pid: 1,
            comm: b.intern("init"),
            event_type: b.event_type(name).unwrap(),
            flags: ContextFlags::NOT_RECORDED,
        }
    }

    #[test]
    fn fields_rendered_in_place_read_back_like_fields_pushed_as_text() {
        let mut b = EventStoreBuilder::default();
        let (irq, name) = (b.intern("irq"), b.intern("name"));
        let h = header(&mut b, 10, 0, "irq_handler_entry");
        b.push(h, &Payload::Fields(&[(irq, "24"), (name, "virtio0")]));
        let h = header(&mut b, 20, 0, "irq_handler_entry");
        b.push_fields(h, &[(irq, 24u32), (name, 0)], |&v, out| match v {
            0 => out.push_str("virtio0"),
            n => out.push_str(&n.to_string()),
        });
        let h = header(&mut b, 30, 0, "irq_handler_entry");
        b.push_fields::<u32>(h, &[], |_, _| unreachable!("no fields"));
        let s = b.finish();
        let fields = |i| match s.payload(i) {
            Payload::Fields(f) => f.collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(fields(0), [(irq, "24"), (name, "virtio0")]);
        assert_eq!(fields(1), fields(0));
        assert!(fields(2).is_empty());
    }

    #[test]
    fn events_across_batches_keep_their_columns_payloads_and_order() {
        // Pushes that fill several batches and end inside one, with one step back in time
        // just after a batch boundary: a builder that promised time order must sort.
        let n = 3 * BATCH + 5;
        let mut b = EventStoreBuilder::with_capacity(16);
        let comm = b.intern("init");
        let types = [b.event_type("a").unwrap(), b.event_type("b").unwrap()];
        for i in 0..n {
            let ts = if i == BATCH + 1 { 0 } else { 10 * i as u64 + 5 };
            let h = EventHeader {
                ts,
                cpu: (i % 3) as u32,
                pid: i as i32,
                comm,
                event_type: types[i % 2],
                flags: ContextFlags(i as u32),
            };
            b.push(h, &Payload::SoftirqEntry { vec: i as u32 });
            assert_eq!(b.len(), i + 1);
        }
        let s = b.finish();
        assert_eq!(s.len(), n);
        assert!(s.ts().is_sorted());
        // The stepped-back event sorts first; every other keeps its fields together.
        assert_eq!(s.pids()[0], BATCH as i32 + 1);
        for k in 0..n {
            let i = s.pids()[k] as usize;
            assert_eq!(s.cpus()[k], (i % 3) as u16);
            assert_eq!(s.event(k as u32).name, ["a", "b"][i % 2]);
            assert_eq!(s.payload(k as u32), Payload::SoftirqEntry { vec: i as u32 });
        }
        assert_eq!(
            s.cpu_events(0).len() + s.cpu_events(1).len() + s.cpu_events(2).len(),
            n
        );
    }

    #[test]
    fn finish_sorts_stably_and_indexes_cpus() {
        let mut b = EventStoreBuilder::default();
        for (ts, cpu, name) in [(30, 1, "c"), (10, 0, "a"), (10, 1, "b"), (20, 3, "d")] {
            let h = header(&mut b, ts, cpu, name);
            b.push(h, &Payload::Empty);
        }
        let s = b.finish();
        assert_eq!(s.ts(), &[10, 10, 20, 30]);
        let names: Vec<_> = (0..4).map(|i| s.event(i).name.to_owned()).collect();
        assert_eq!(names, ["a", "b", "d", "c"]);
        assert_eq!(s.cpu_count(), 4);
        assert_eq!(s.cpu_events(1), &[1, 3]);
        assert_eq!(s.cpu_events(2), &[] as &[u32]);
        assert_eq!(s.range(10, 21), 0..3);
        assert_eq!(s.cpu_range(1, 11, 100), 1..2);
    }

    #[test]
    fn comms_follow_their_events_through_the_sort() {
        // pid 7 is renamed (an exec) between its events; pushed out of time order, so
        // the builder sorts and must find each event's comm again.
        let mut b = EventStoreBuilder::default();
        let pushed = [
            (30, 7, "bash"),
            (10, 7, "sh"),
            (20, 8, "cat"),
            (40, 7, "bash"),
        ];
        for (ts, pid, comm) in pushed {
            let mut h = header(&mut b, ts, 0, "a");
            h.pid = pid;
            h.comm = b.intern(comm);
            b.push(h, &Payload::Empty);
        }
        let s = b.finish();
        let comms: Vec<&str> = (0..4).map(|i| s.event(i).comm).collect();
        assert_eq!(comms, ["sh", "cat", "bash", "bash"]);
        assert_eq!(s.str(s.comm(0)), "sh");
    }

    #[test]
    fn a_huge_stated_cpu_count_is_capped_with_a_warning() {
        let mut b = EventStoreBuilder::default();
        b.state_cpu_count(u64::from(u32::MAX), Location::Line(3));
        let h = header(&mut b, 10, 1, "a");
        b.push(h, &Payload::Empty);
        let s = b.finish();
        assert_eq!(s.cpu_count(), MAX_CPUS);
        let w = s.report.warnings.values().next().expect("a warning");
        assert_eq!(w.first, [Location::Line(3)]);
        assert_eq!(s.cpu_id(1), 1);
    }

    #[test]
    fn cpu_ids_beyond_the_maximum_get_dense_lanes_named_by_id() {
        let mut b = EventStoreBuilder::default();
        for (ts, cpu) in [
            (10, 0x7fff_ffff),
            (20, 3),
            (30, u32::MAX),
            (40, 0x7fff_ffff),
        ] {
            let h = header(&mut b, ts, cpu, "a");
            b.push(h, &Payload::Empty);
        }
        b.lost(u32::MAX, 35, None);
        b.lost(70_000, 36, Some(2));
        let s = b.finish();
        assert_eq!(s.cpu_count(), 3);
        let ids: Vec<u32> = (0..3).map(|l| s.cpu_id(l)).collect();
        assert_eq!(ids, [3, 0x7fff_ffff, u32::MAX]);
        assert_eq!(s.cpus(), &[1, 0, 2, 1]);
        assert_eq!(s.cpu_events(1), &[0, 3]);
        // A CPU that lost events but has none gets no lane: its record keeps its id.
        let lost: Vec<u32> = s.meta.lost.iter().map(|l| l.cpu).collect();
        assert_eq!(lost, [2, 70_000]);
        assert!(s.report.warnings.keys().any(|k| k.contains("densely")));
    }

    #[test]
    fn event_type_counts_count_every_event_once() {
        let store = crate::synthetic::generate(crate::synthetic::SyntheticSpec {
            events: 30_001,
            ..Default::default()
        });
        let counts = store.event_type_counts();
        assert_eq!(counts.iter().sum::<u64>(), store.len() as u64);
        for (id, _) in store.event_type_names() {
            let direct = store.event_types().iter().filter(|&&t| t == id).count();
            assert_eq!(counts[usize::from(id.0)], direct as u64);
        }
        assert!(counts.iter().filter(|&&c| c > 0).count() > 3);
    }
}
