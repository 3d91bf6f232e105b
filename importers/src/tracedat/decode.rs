//! Records -> typed payloads. Each event id gets a decoder built once from its format
//! (field offsets resolved up front); decoding a record then only reads bytes, looks up
//! interned strings and pushes into the builder: no allocation per event.

use super::bytes::Endian;
use super::cmdlines::Comms;
use super::format::{EventFormat, Field, FieldKind, FormatSource, StateTable};
use super::printk::{self, PrintkFormats};
use super::record_strings::RecordStrings;
use crate::ImportError;
use std::fmt::Write as _;
use trace_model::flags::{ContextFlags, FlagBits};
use trace_model::payload::Payload;
use trace_model::store::{EventHeader, EventStoreBuilder, EventTypeId};
use trace_model::strings::StrId;

/// Where a field is and how to read it. Numbers are read as one 8-byte load masked (or
/// shifted, big-endian) to the field's size, with the masks worked out once per format:
/// no branch on the size per read.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    off: usize,
    size: usize,
    kind: FieldKind,
    signed: bool,
    text: bool,
    /// The field's bits after the load (0 for sizes other than 1, 2, 4, 8: they read 0).
    mask: u64,
    /// Big-endian: how far the loaded word is shifted down to the field.
    be_shift: u32,
    /// How far a value is shifted up and back to sign-extend it.
    sign_shift: u32,
}

impl Slot {
    pub fn of(f: &Field) -> Slot {
        Slot::new(f.offset, f.size, f.kind, f.signed, f.ctype.contains("char"))
    }

    fn new(off: usize, size: usize, kind: FieldKind, signed: bool, text: bool) -> Slot {
        let number = matches!(size, 1 | 2 | 4 | 8);
        let bits = if number { size as u32 * 8 } else { 64 };
        Slot {
            off,
            size,
            kind,
            signed,
            text,
            mask: if number { u64::MAX >> (64 - bits) } else { 0 },
            be_shift: 64 - bits,
            sign_shift: 64 - bits,
        }
    }

    /// The field as an unsigned number (0 when the record is too short).
    #[inline]
    fn uint(self, rec: &[u8], e: Endian) -> u64 {
        let Some(word) = rec.get(self.off..self.off.saturating_add(8)) else {
            // A field in the record's last 8 bytes.
            return e.uint(rec, self.off, self.size).unwrap_or(0);
        };
        let word: [u8; 8] = word.try_into().expect("8 bytes");
        match e {
            Endian::Little => u64::from_le_bytes(word) & self.mask,
            Endian::Big => (u64::from_be_bytes(word) >> self.be_shift) & self.mask,
        }
    }

    /// The field as a signed number, sign-extended from its size.
    #[inline]
    fn int(self, rec: &[u8], e: Endian) -> i64 {
        ((self.uint(rec, e) << self.sign_shift) as i64) >> self.sign_shift
    }

    #[inline]
    fn i32(self, rec: &[u8], e: Endian) -> i32 {
        self.int(rec, e) as i32
    }

    /// A `char[16]` field (every comm: TASK_COMM_LEN) read whole, when the record holds it.
    #[inline]
    fn char16(self, rec: &[u8]) -> Option<[u8; 16]> {
        if self.kind != FieldKind::CharArray || self.size != 16 {
            return None;
        }
        rec.get(self.off..self.off + 16)?.try_into().ok()
    }

    /// The bytes of an array or dynamic field (`char[]` up to its NUL).
    fn bytes(self, rec: &[u8], e: Endian) -> &[u8] {
        let (start, len) = match self.kind {
            FieldKind::DataLoc | FieldKind::RelLoc => {
                let loc = self.uint(rec, e);
                let mut start = (loc & 0xffff) as usize;
                if self.kind == FieldKind::RelLoc {
                    start += self.off + self.size;
                }
                (start, (loc >> 16) as usize)
            }
            // `char buf[]` of size 0 runs to the end of the record.
            _ if self.size == 0 => (self.off, rec.len().saturating_sub(self.off)),
            _ => (self.off, self.size),
        };
        let b = rec
            .get(start..start.saturating_add(len).min(rec.len()))
            .unwrap_or(&[]);
        if self.text {
            let n = memchr::memchr(0, b).unwrap_or(b.len());
            &b[..n]
        } else {
            b
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Toggle {
    IrqDisable,
    IrqEnable,
    PreemptDisable,
    PreemptEnable,
}

#[derive(Clone, Copy, Debug)]
enum LockEvent {
    Release,
    Contended,
    Acquired,
}

#[derive(Clone, Copy, Debug)]
enum Softirq {
    Entry,
    Exit,
    Raise,
}

/// How to turn one event id's records into a payload.
#[derive(Debug)]
enum Kind {
    SchedSwitch {
        prev_comm: Slot,
        prev_pid: Slot,
        prev_prio: Slot,
        prev_state: Slot,
        next_comm: Slot,
        next_pid: Slot,
        next_prio: Slot,
        states: StateTable,
    },
    SchedWakeup {
        comm: Slot,
        pid: Slot,
        prio: Slot,
        target_cpu: Slot,
        /// trace-cmd's sched plugin learns comms from sched_wakeup(_new), not sched_waking.
        learns_comm: bool,
    },
    SchedMigrate {
        comm: Slot,
        pid: Slot,
        prio: Slot,
        orig_cpu: Slot,
        dest_cpu: Slot,
    },
    IrqEntry {
        irq: Slot,
        name: Slot,
    },
    IrqExit {
        irq: Slot,
        ret: Slot,
    },
    Softirq(Softirq, Slot),
    IrqVector {
        entry: bool,
        vector: Slot,
    },
    PreemptIrq {
        toggle: Toggle,
        caller: Slot,
        parent: Slot,
    },
    LockAcquire {
        addr: Slot,
        flags: Slot,
        name: Slot,
    },
    Lock(LockEvent, Slot, Slot),
    ContentionBegin {
        addr: Slot,
        flags: Slot,
    },
    ContentionEnd {
        addr: Slot,
        ret: Slot,
    },
    LockProbe {
        ip: Slot,
        lock: Slot,
    },
    Function {
        ip: Slot,
        parent: Slot,
    },
    FuncGraphEntry {
        func: Slot,
        depth: Slot,
    },
    FuncGraphExit {
        func: Slot,
        depth: Slot,
        calltime: Slot,
        rettime: Slot,
    },
    Workqueue {
        start: bool,
        work: Slot,
        function: Option<Slot>,
    },
    TimerEntry {
        timer: Slot,
        function: Slot,
    },
    TimerExit {
        timer: Slot,
    },
    HrtimerEntry {
        timer: Slot,
        function: Slot,
    },
    HrtimerExit {
        timer: Slot,
    },
    Print {
        buf: Slot,
    },
    Bputs {
        str: Slot,
    },
    Bprint {
        fmt: Slot,
        buf: Slot,
    },
    Fields(Vec<(StrId, Slot)>),
}

impl Kind {
    fn for_format(ev: &EventFormat) -> Option<Kind> {
        let f = |name: &str| ev.field(name).map(Slot::of);
        let toggle = |toggle| {
            Some(Kind::PreemptIrq {
                toggle,
                caller: f("caller_offs")?,
                parent: f("parent_offs")?,
            })
        };
        let lock = |which| Some(Kind::Lock(which, f("lockdep_addr")?, f("name")?));
        let wakeup = |learns_comm| {
            Some(Kind::SchedWakeup {
                comm: f("comm")?,
                pid: f("pid")?,
                prio: f("prio")?,
                target_cpu: f("target_cpu")?,
                learns_comm,
            })
        };
        match (ev.system.as_str(), ev.name.as_str()) {
            ("sched", "sched_switch") => Some(Kind::SchedSwitch {
                prev_comm: f("prev_comm")?,
                prev_pid: f("prev_pid")?,
                prev_prio: f("prev_prio")?,
                prev_state: f("prev_state")?,
                next_comm: f("next_comm")?,
                next_pid: f("next_pid")?,
                next_prio: f("next_prio")?,
                states: StateTable::from_print_fmt(&ev.print_fmt)
                    .unwrap_or_else(StateTable::modern),
            }),
            ("sched", "sched_wakeup" | "sched_wakeup_new") => wakeup(true),
            ("sched", "sched_waking") => wakeup(false),
            ("sched", "sched_migrate_task") => Some(Kind::SchedMigrate {
                comm: f("comm")?,
                pid: f("pid")?,
                prio: f("prio")?,
                orig_cpu: f("orig_cpu")?,
                dest_cpu: f("dest_cpu")?,
            }),
            ("irq", "irq_handler_entry") => Some(Kind::IrqEntry {
                irq: f("irq")?,
                name: f("name")?,
            }),
            ("irq", "irq_handler_exit") => Some(Kind::IrqExit {
                irq: f("irq")?,
                ret: f("ret")?,
            }),
            ("irq", "softirq_entry") => Some(Kind::Softirq(Softirq::Entry, f("vec")?)),
            ("irq", "softirq_exit") => Some(Kind::Softirq(Softirq::Exit, f("vec")?)),
            ("irq", "softirq_raise") => Some(Kind::Softirq(Softirq::Raise, f("vec")?)),
            ("irq_vectors", name) if name.ends_with("_entry") || name.ends_with("_exit") => {
                Some(Kind::IrqVector {
                    entry: name.ends_with("_entry"),
                    vector: f("vector")?,
                })
            }
            ("preemptirq", "irq_disable") => toggle(Toggle::IrqDisable),
            ("preemptirq", "irq_enable") => toggle(Toggle::IrqEnable),
            ("preemptirq", "preempt_disable") => toggle(Toggle::PreemptDisable),
            ("preemptirq", "preempt_enable") => toggle(Toggle::PreemptEnable),
            ("lock", "lock_acquire") => Some(Kind::LockAcquire {
                addr: f("lockdep_addr")?,
                flags: f("flags")?,
                name: f("name")?,
            }),
            ("lock", "lock_release") => lock(LockEvent::Release),
            ("lock", "lock_contended") => lock(LockEvent::Contended),
            ("lock", "lock_acquired") => lock(LockEvent::Acquired),
            ("lock", "contention_begin") => Some(Kind::ContentionBegin {
                addr: f("lock_addr")?,
                flags: f("flags")?,
            }),
            ("lock", "contention_end") => Some(Kind::ContentionEnd {
                addr: f("lock_addr")?,
                ret: f("ret")?,
            }),
            ("ftrace", "function") => Some(Kind::Function {
                ip: f("ip")?,
                parent: f("parent_ip")?,
            }),
            ("ftrace", "funcgraph_entry") => Some(Kind::FuncGraphEntry {
                func: f("func")?,
                depth: f("depth")?,
            }),
            ("ftrace", "funcgraph_exit") => Some(Kind::FuncGraphExit {
                func: f("func")?,
                depth: f("depth")?,
                calltime: f("calltime")?,
                rettime: f("rettime")?,
            }),
            ("ftrace", "print") => Some(Kind::Print { buf: f("buf")? }),
            ("ftrace", "bputs") => Some(Kind::Bputs { str: f("str")? }),
            ("ftrace", "bprint") => Some(Kind::Bprint {
                fmt: f("fmt")?,
                buf: f("buf")?,
            }),
            ("workqueue", "workqueue_execute_start" | "workqueue_execute_end") => {
                Some(Kind::Workqueue {
                    start: ev.name.ends_with("start"),
                    work: f("work")?,
                    function: f("function"),
                })
            }
            ("timer", "timer_expire_entry") => Some(Kind::TimerEntry {
                timer: f("timer")?,
                function: f("function")?,
            }),
            ("timer", "timer_expire_exit") => Some(Kind::TimerExit { timer: f("timer")? }),
            ("timer", "hrtimer_expire_entry") => Some(Kind::HrtimerEntry {
                timer: f("hrtimer")?,
                function: f("function")?,
            }),
            ("timer", "hrtimer_expire_exit") => Some(Kind::HrtimerExit {
                timer: f("hrtimer")?,
            }),
            // A kprobe (or any dynamic event) with a `lock` argument.
            _ if ev.field("__probe_ip").is_some() => Some(Kind::LockProbe {
                ip: f("__probe_ip")?,
                lock: f("lock")?,
            }),
            _ => None,
        }
    }
}

/// The decoder of one event id.
#[derive(Debug)]
struct EventDecoder {
    event_type: EventTypeId,
    kind: Kind,
}

/// What the decoder knows of an event id. Not boxed: the table has one entry per event id
/// (~1 300) and every record reads its `Ready` decoder, so a pointer chase would cost more
/// than the space.
#[allow(clippy::large_enum_variant)]
enum Entry {
    /// No format has this id.
    Absent,
    /// A format whose fields are parsed when its first record comes.
    Unparsed {
        format: usize,
        event_type: EventTypeId,
    },
    Ready(EventDecoder),
    /// The format's fields did not parse: its records keep their name and common fields.
    Undecodable(EventTypeId),
}

/// Offsets of the common fields (from the formats' `common_*`).
#[derive(Clone, Copy, Debug)]
struct Common {
    event_type: Slot,
    flags: Option<Slot>,
    preempt_count: Option<Slot>,
    pid: Slot,
}

/// Kernel facts that change how the common fields read.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelAbi {
    /// >= 6.13: flag 0x02 is NEED_RESCHED_LAZY, not IRQS_NOSUPPORT.
    pub lazy_resched: bool,
    /// >= 5.15: preempt_count's high nibble is the migrate-disable depth.
    pub migrate_nibble: bool,
}

impl KernelAbi {
    /// From a kernel release such as `6.1.0-56-amd64`; unknown kernels read as old ones.
    pub fn from_release(release: Option<&str>) -> KernelAbi {
        let version = release.and_then(|r| {
            let mut parts = r.split(|c: char| !c.is_ascii_digit());
            Some((
                parts.next()?.parse::<u32>().ok()?,
                parts.next()?.parse::<u32>().ok()?,
            ))
        });
        match version {
            Some(v) => KernelAbi {
                lazy_resched: v >= (6, 13),
                migrate_nibble: v >= (5, 15),
            },
            None => KernelAbi::default(),
        }
    }
}

/// Name lookups for addresses (kallsyms), cached per address.
struct Symbolizer {
    cache: SymbolCache,
    stext: u64,
}

impl Symbolizer {
    /// The function containing `addr`, or its hex form.
    #[inline]
    fn name(&mut self, b: &mut EventStoreBuilder, addr: u64) -> StrId {
        match self.cache.get(addr) {
            Some(s) => s,
            None => self.look_up(b, addr),
        }
    }

    #[cold]
    fn look_up(&mut self, b: &mut EventStoreBuilder, addr: u64) -> StrId {
        let id = match b.symbols_mut().containing(addr) {
            Some((sym, _)) => sym.name,
            None => b.intern(&format!("0x{addr:x}")),
        };
        self.cache.insert(addr, id);
        id
    }
}

/// A direct-mapped cache of address lookups: a trace's function and timer events name a
/// few tens of thousands of addresses (the function tracer's callers and callees), a
/// million times over, and one multiply, load and compare per lookup cost a fraction of a
/// hash map's probe. 64 Ki slots (1 MiB) hold that working set: 4 Ki missed enough to
/// cost ~5 % of a function-traced recording's import. An address whose slot another took
/// is looked up in the symbol table again: a miss is slower, never wrong.
struct SymbolCache {
    slots: Box<[(u64, StrId)]>,
}

impl SymbolCache {
    const BITS: u32 = 16;

    fn new() -> SymbolCache {
        // Address 0 marks a free slot (no kernel function lies there): a lookup of 0 itself
        // always misses and asks the table.
        SymbolCache {
            slots: vec![(0, StrId::EMPTY); 1 << Self::BITS].into_boxed_slice(),
        }
    }

    #[inline]
    fn slot(addr: u64) -> usize {
        trace_model::direct_mapped::slot(addr, Self::BITS)
    }

    #[inline]
    fn get(&self, addr: u64) -> Option<StrId> {
        let (key, id) = self.slots[Self::slot(addr)];
        (key == addr && addr != 0).then_some(id)
    }

    fn insert(&mut self, addr: u64, id: StrId) {
        self.slots[Self::slot(addr)] = (addr, id);
    }
}

/// Decodes records of one trace into a builder.
pub struct Decoder<'m> {
    by_id: Vec<Entry>,
    formats: &'m [FormatSource],
    common: Common,
    flag_bits: [ContextFlags; 256],
    /// Depth and migrate-disable bits of each `common_preempt_count` byte.
    preempt_bits: [u32; 256],
    /// The common fields have the usual little-endian layout (type u16 at 0, flags u8 at
    /// 2, preempt_count u8 at 3, pid i32 at 4): all four come from one 8-byte load.
    usual_common: bool,
    endian: Endian,
    long_size: usize,
    symbols: Symbolizer,
    strings_by_bytes: RecordStrings,
    printk: &'m PrintkFormats,
    pub comms: Comms,
    text: String,
    unknown_type: EventTypeId,
}

impl<'m> Decoder<'m> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        b: &mut EventStoreBuilder,
        formats: &'m [FormatSource],
        abi: KernelAbi,
        endian: Endian,
        long_size: usize,
        stext: u64,
        printk: &'m PrintkFormats,
        comms: Comms,
    ) -> Result<Decoder<'m>, ImportError> {
        // Every event has the common fields: the first format that parses with them tells
        // their layout.
        let with_common = formats
            .iter()
            .filter_map(FormatSource::parse)
            .find(|f| f.common_field("common_pid").is_some());
        let common_slot = |name: &str| {
            with_common
                .as_ref()
                .and_then(|f| f.common_field(name))
                .map(Slot::of)
        };
        let common = Common {
            event_type: common_slot("common_type").unwrap_or(Slot::new(
                0,
                2,
                FieldKind::Int,
                false,
                false,
            )),
            flags: common_slot("common_flags"),
            preempt_count: common_slot("common_preempt_count"),
            pid: common_slot("common_pid").unwrap_or(Slot::new(4, 4, FieldKind::Int, true, false)),
        };
        let max_id = formats
            .iter()
            .map(|f| f.id)
            .max()
            .unwrap_or(0)
            .min(u16::MAX.into());
        let mut by_id: Vec<Entry> = (0..=max_id).map(|_| Entry::Absent).collect();
        for (format, f) in formats.iter().enumerate() {
            if let Some(slot) = by_id.get_mut(f.id as usize) {
                let event_type = b.event_type(&f.name)?;
                *slot = Entry::Unparsed { format, event_type };
            }
        }
        let flag_bits = std::array::from_fn(|f| flag_bits(f as u8, abi));
        let preempt_bits = std::array::from_fn(|pc| preempt_bits(pc as u32, abi));
        let at = |s: Option<Slot>| s.map(|s| (s.off, s.size));
        let usual_common = endian == Endian::Little
            && at(Some(common.event_type)) == Some((0, 2))
            && at(common.flags) == Some((2, 1))
            && at(common.preempt_count) == Some((3, 1))
            && at(Some(common.pid)) == Some((4, 4));
        Ok(Decoder {
            by_id,
            formats,
            common,
            flag_bits,
            preempt_bits,
            usual_common,
            endian,
            long_size,
            symbols: Symbolizer {
                cache: SymbolCache::new(),
                stext,
            },
            strings_by_bytes: RecordStrings::default(),
            printk,
            comms,
            text: String::new(),
            unknown_type: b.event_type("unknown_event")?,
        })
    }

    /// A record whose event has no decoder: on the event's first record its format is
    /// parsed and `None` returned (decode it now); a record without a usable format is
    /// pushed without payload here, and whether its event is known returned.
    #[cold]
    fn without_decoder(
        &mut self,
        b: &mut EventStoreBuilder,
        rec: &[u8],
        ts: u64,
        cpu: u32,
    ) -> Option<bool> {
        let (id, pid, flags) = self.common(rec);
        let event_type = match self.by_id.get(id) {
            Some(&Entry::Unparsed { format, event_type }) => {
                if self.parse_format(b, id, format, event_type) {
                    return None;
                }
                Some(event_type)
            }
            Some(&Entry::Undecodable(event_type)) => Some(event_type),
            _ => None,
        };
        let h = EventHeader {
            ts,
            cpu,
            pid,
            comm: self.comms.get(pid),
            event_type: event_type.unwrap_or(self.unknown_type),
            flags,
        };
        b.push(h, &Payload::Empty);
        Some(event_type.is_some())
    }

    /// Parses the format of event `id` and builds its decoder; false when its fields do
    /// not parse.
    fn parse_format(
        &mut self,
        b: &mut EventStoreBuilder,
        id: usize,
        format: usize,
        event_type: EventTypeId,
    ) -> bool {
        let source = &self.formats[format];
        self.by_id[id] = match source.parse() {
            Some(ev) => Entry::Ready(EventDecoder {
                event_type,
                kind: Kind::for_format(&ev).unwrap_or_else(|| {
                    Kind::Fields(
                        ev.fields
                            .iter()
                            .map(|f| (b.intern(&f.name), Slot::of(f)))
                            .collect(),
                    )
                }),
            }),
            None => {
                let what = format!(
                    "trace.dat {} format: a field line does not parse; its records keep only \
                     their common fields",
                    source.name
                );
                b.report_mut().warn(&what, source.at);
                Entry::Undecodable(event_type)
            }
        };
        matches!(self.by_id[id], Entry::Ready(_))
    }

    /// The event id, pid and context flags of a record.
    #[inline]
    fn common(&self, rec: &[u8]) -> (usize, i32, ContextFlags) {
        if self.usual_common
            && let Some(head) = rec.get(..8)
        {
            let w = u64::from_le_bytes(head.try_into().expect("8 bytes"));
            let flags = self.flag_bits[usize::from((w >> 16) as u8)].0
                | self.preempt_bits[usize::from((w >> 24) as u8)];
            return ((w & 0xffff) as usize, (w >> 32) as i32, ContextFlags(flags));
        }
        let e = self.endian;
        let c = &self.common;
        let flags = match (c.flags, c.preempt_count) {
            (None, _) => ContextFlags::NOT_RECORDED,
            (Some(f), pc) => {
                let base = self.flag_bits[f.uint(rec, e) as usize & 0xff];
                let pc = pc.map_or(0xffff, |pc| {
                    self.preempt_bits[pc.uint(rec, e) as usize & 0xff]
                });
                ContextFlags(base.0 | pc)
            }
        };
        (c.event_type.uint(rec, e) as usize, c.pid.i32(rec, e), flags)
    }

    /// Decodes one record and pushes it. Returns false for an event id without a format.
    /// Always inlined into its one caller, the merge loop: the compiler's own choice
    /// flips with small changes, and a call here costs ~15 instructions an event.
    #[inline(always)]
    pub fn push(&mut self, b: &mut EventStoreBuilder, rec: &[u8], ts: u64, cpu: u32) -> bool {
        let e = self.endian;
        let (id, pid, flags) = self.common(rec);
        let header = |event_type, comm| EventHeader {
            ts,
            cpu,
            pid,
            comm,
            event_type,
            flags,
        };
        if !matches!(self.by_id.get(id), Some(Entry::Ready(_)))
            && let Some(known) = self.without_decoder(b, rec, ts, cpu)
        {
            return known;
        }
        let comm = self.comms.get(pid);
        // Split borrows: the decoder table is read while symbols / comms / text change.
        let Decoder {
            by_id,
            symbols,
            strings_by_bytes,
            comms,
            text,
            printk,
            long_size,
            ..
        } = self;
        let Entry::Ready(dec) = &by_id[id] else {
            unreachable!("checked above")
        };
        let h = header(dec.event_type, comm);
        let mut intern_str = |b: &mut EventStoreBuilder, s: Slot| match s.char16(rec) {
            Some(field) => strings_by_bytes.intern_char16(b, field),
            None => strings_by_bytes.intern(b, s.bytes(rec, e)),
        };
        let u = |s: Slot| s.uint(rec, e);
        let i = |s: Slot| s.i32(rec, e);
        match &dec.kind {
            Kind::SchedSwitch {
                prev_comm,
                prev_pid,
                prev_prio,
                prev_state,
                next_comm,
                next_pid,
                next_prio,
                states,
            } => {
                let p = Payload::SchedSwitch {
                    prev_comm: intern_str(b, *prev_comm),
                    prev_pid: i(*prev_pid),
                    prev_prio: i(*prev_prio),
                    prev_state: states.decode(u(*prev_state)),
                    next_comm: intern_str(b, *next_comm),
                    next_pid: i(*next_pid),
                    next_prio: i(*next_prio),
                };
                if let Payload::SchedSwitch {
                    prev_comm,
                    prev_pid,
                    next_comm,
                    next_pid,
                    ..
                } = p
                {
                    comms.learn(prev_pid, prev_comm);
                    comms.learn(next_pid, next_comm);
                }
                b.push(h, &p);
            }
            Kind::SchedWakeup {
                comm,
                pid,
                prio,
                target_cpu,
                learns_comm,
            } => {
                let comm = intern_str(b, *comm);
                if *learns_comm {
                    comms.learn(i(*pid), comm);
                }
                b.push(
                    h,
                    &Payload::SchedWakeup {
                        comm,
                        pid: i(*pid),
                        prio: i(*prio),
                        target_cpu: i(*target_cpu),
                    },
                );
            }
            Kind::SchedMigrate {
                comm,
                pid,
                prio,
                orig_cpu,
                dest_cpu,
            } => {
                let p = Payload::SchedMigrate {
                    comm: intern_str(b, *comm),
                    pid: i(*pid),
                    prio: i(*prio),
                    orig_cpu: i(*orig_cpu),
                    dest_cpu: i(*dest_cpu),
                };
                b.push(h, &p);
            }
            Kind::IrqEntry { irq, name } => {
                let p = Payload::IrqHandlerEntry {
                    irq: i(*irq),
                    name: intern_str(b, *name),
                };
                b.push(h, &p);
            }
            Kind::IrqExit { irq, ret } => b.push(
                h,
                &Payload::IrqHandlerExit {
                    irq: i(*irq),
                    handled: u(*ret) != 0,
                },
            ),
            Kind::Softirq(which, vec) => {
                let vec = u(*vec) as u32;
                let p = match which {
                    Softirq::Entry => Payload::SoftirqEntry { vec },
                    Softirq::Exit => Payload::SoftirqExit { vec },
                    Softirq::Raise => Payload::SoftirqRaise { vec },
                };
                b.push(h, &p);
            }
            Kind::IrqVector { entry, vector } => {
                let vector = i(*vector);
                let p = if *entry {
                    Payload::IrqVectorEntry { vector }
                } else {
                    Payload::IrqVectorExit { vector }
                };
                b.push(h, &p);
            }
            Kind::PreemptIrq {
                toggle,
                caller,
                parent,
            } => {
                let stext = symbols.stext;
                let caller = symbols.name(b, stext.wrapping_add_signed(caller.int(rec, e)));
                let parent = symbols.name(b, stext.wrapping_add_signed(parent.int(rec, e)));
                let p = match toggle {
                    Toggle::IrqDisable => Payload::IrqDisable { caller, parent },
                    Toggle::IrqEnable => Payload::IrqEnable { caller, parent },
                    Toggle::PreemptDisable => Payload::PreemptDisable { caller, parent },
                    Toggle::PreemptEnable => Payload::PreemptEnable { caller, parent },
                };
                b.push(h, &p);
            }
            Kind::LockAcquire { addr, flags, name } => {
                let flags = u(*flags);
                let p = Payload::LockAcquire {
                    addr: u(*addr),
                    name: intern_str(b, *name),
                    trylock: flags & 1 != 0,
                    read: ((flags >> 1) & 3) as u8,
                };
                b.push(h, &p);
            }
            Kind::Lock(which, addr, name) => {
                let (addr, name) = (u(*addr), intern_str(b, *name));
                let p = match which {
                    LockEvent::Release => Payload::LockRelease { addr, name },
                    LockEvent::Contended => Payload::LockContended { addr, name },
                    LockEvent::Acquired => Payload::LockAcquired { addr, name },
                };
                b.push(h, &p);
            }
            Kind::ContentionBegin { addr, flags } => b.push(
                h,
                &Payload::ContentionBegin {
                    addr: u(*addr),
                    flags: u(*flags) as u32,
                },
            ),
            Kind::ContentionEnd { addr, ret } => b.push(
                h,
                &Payload::ContentionEnd {
                    addr: u(*addr),
                    ret: i(*ret),
                },
            ),
            Kind::LockProbe { ip, lock } => {
                let probed = symbols.name(b, u(*ip));
                b.push(
                    h,
                    &Payload::LockProbe {
                        addr: u(*lock),
                        probed,
                    },
                );
            }
            Kind::Function { ip, parent } => {
                let func = symbols.name(b, u(*ip));
                let parent = symbols.name(b, u(*parent));
                b.push(h, &Payload::Function { func, parent });
            }
            Kind::FuncGraphEntry { func, depth } => {
                let func = symbols.name(b, u(*func));
                let p = Payload::FuncGraphEntry {
                    func,
                    depth: u(*depth) as u16,
                    leaf_duration_ns: None,
                };
                b.push(h, &p);
            }
            Kind::FuncGraphExit {
                func,
                depth,
                calltime,
                rettime,
            } => {
                let func = symbols.name(b, u(*func));
                let p = Payload::FuncGraphExit {
                    func,
                    depth: u(*depth) as u16,
                    duration_ns: u(*rettime).saturating_sub(u(*calltime)),
                };
                b.push(h, &p);
            }
            Kind::Workqueue {
                start,
                work,
                function,
            } => {
                let function = function.map_or(StrId::EMPTY, |f| symbols.name(b, u(f)));
                let work = u(*work);
                let p = if *start {
                    Payload::WorkqueueExecuteStart { work, function }
                } else {
                    Payload::WorkqueueExecuteEnd { work, function }
                };
                b.push(h, &p);
            }
            Kind::TimerEntry { timer, function } => {
                let function = symbols.name(b, u(*function));
                b.push(
                    h,
                    &Payload::TimerExpireEntry {
                        timer: u(*timer),
                        function,
                    },
                );
            }
            Kind::TimerExit { timer } => b.push(h, &Payload::TimerExpireExit { timer: u(*timer) }),
            Kind::HrtimerEntry { timer, function } => {
                let function = symbols.name(b, u(*function));
                b.push(
                    h,
                    &Payload::HrtimerExpireEntry {
                        hrtimer: u(*timer),
                        function,
                    },
                );
            }
            Kind::HrtimerExit { timer } => {
                b.push(h, &Payload::HrtimerExpireExit { hrtimer: u(*timer) })
            }
            Kind::Print { buf } => {
                let msg = String::from_utf8_lossy(buf.bytes(rec, e));
                let text = msg.trim_end_matches('\n');
                b.push(h, &Payload::Print { text });
            }
            Kind::Bputs { str } => {
                let text = printk.get(u(*str)).unwrap_or("").trim_end_matches('\n');
                b.push(h, &Payload::Print { text });
            }
            Kind::Bprint { fmt, buf } => {
                text.clear();
                match printk.get(u(*fmt)) {
                    Some(f) => {
                        printk::render(f, buf.bytes(rec, e), *long_size, e == Endian::Little, text)
                    }
                    None => {
                        let _ = write!(text, "(unknown format 0x{:x})", u(*fmt));
                    }
                }
                let t = text.trim_end_matches('\n');
                b.push(h, &Payload::Print { text: t });
            }
            Kind::Fields(fields) => {
                b.push_fields(h, fields, |slot, out| render_field(*slot, rec, e, out));
            }
        }
        true
    }
}

/// A field's value as text: numbers in decimal, pointers in hex, strings as text.
/// Numbers go through `itoa` and a hex loop: `write!` cost more than the rest of the
/// record's decoding.
fn render_field(s: Slot, rec: &[u8], e: Endian, out: &mut String) {
    let mut digits = itoa::Buffer::new();
    match s.kind {
        FieldKind::Int if s.signed => out.push_str(digits.format(s.int(rec, e))),
        FieldKind::Int => out.push_str(digits.format(s.uint(rec, e))),
        FieldKind::Pointer => {
            out.push_str("0x");
            push_hex(s.uint(rec, e), out);
        }
        _ if s.text => out.push_str(&String::from_utf8_lossy(s.bytes(rec, e))),
        _ => {
            for &byte in s.bytes(rec, e) {
                out.push(HEX_DIGITS[usize::from(byte >> 4)].into());
                out.push(HEX_DIGITS[usize::from(byte & 0xf)].into());
            }
        }
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `v` in lower-case hex without leading zeros (`{:x}`).
fn push_hex(v: u64, out: &mut String) {
    let nibbles = (64 - v.leading_zeros()).div_ceil(4).max(1) as usize;
    let mut digits = [0u8; 16];
    for (n, d) in digits[..nibbles].iter_mut().rev().enumerate() {
        *d = HEX_DIGITS[((v >> (4 * n)) & 0xf) as usize];
    }
    out.push_str(std::str::from_utf8(&digits[..nibbles]).expect("hex digits are ASCII"));
}

/// The depth bits of a `common_preempt_count` byte: the preempt depth, and from 5.15 the
/// migrate-disable depth in the high nibble (0xff: not recorded).
fn preempt_bits(pc: u32, abi: KernelAbi) -> u32 {
    if abi.migrate_nibble {
        (pc & 0xf) | (pc >> 4) << 8
    } else {
        pc.min(0xfe) | 0xff << 8
    }
}

/// The context flags of a `common_flags` byte (depths filled in per event).
fn flag_bits(f: u8, abi: KernelAbi) -> ContextFlags {
    let bit = |m: u8| f & m != 0;
    let bits = FlagBits {
        irqs_off: bit(0x01),
        irqs_nosupport: bit(0x02) && !abi.lazy_resched,
        need_resched_lazy: bit(0x02) && abi.lazy_resched,
        need_resched: bit(0x04),
        hardirq: bit(0x08),
        softirq: bit(0x10),
        preempt_resched: bit(0x20),
        nmi: bit(0x40),
        bh_off: bit(0x80),
    };
    // Depth bits are or-ed in per event, so start them at zero.
    ContextFlags::new(bits, Some(0), Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_cache_hits_what_it_holds_and_misses_what_a_collision_replaced() {
        let mut cache = SymbolCache::new();
        assert_eq!(cache.get(0), None, "0 marks a free slot, so it never hits");
        cache.insert(0, StrId(7));
        assert_eq!(cache.get(0), None);
        let base = 0xffff_ffff_8100_0000u64;
        cache.insert(base, StrId(1));
        cache.insert(base + 16, StrId(2));
        assert_eq!(cache.get(base), Some(StrId(1)));
        assert_eq!(cache.get(base + 16), Some(StrId(2)));
        let rival = (1..)
            .map(|n| base + 8 * n)
            .find(|&a| SymbolCache::slot(a) == SymbolCache::slot(base))
            .expect("some address shares the slot");
        cache.insert(rival, StrId(3));
        assert_eq!(cache.get(rival), Some(StrId(3)));
        assert_eq!(cache.get(base), None, "replaced: asks the table again");
    }

    #[test]
    fn slots_read_every_size_in_both_byte_orders_and_at_the_record_end() {
        let rec: Vec<u8> = (1..=12).collect();
        for (size, le, be) in [
            (1, 0x03, 0x03),
            (2, 0x0403, 0x0304),
            (4, 0x0605_0403, 0x0304_0506),
            (8, 0x0a09_0807_0605_0403, 0x0304_0506_0708_090a),
            (3, 0, 0),
        ] {
            let mid = Slot::new(2, size, FieldKind::Int, false, false);
            assert_eq!(mid.uint(&rec, Endian::Little), le, "size {size}");
            assert_eq!(mid.uint(&rec, Endian::Big), be, "size {size}");
            // The same bytes as the record's last ones take the bounds-checked path.
            let end = &rec[..2 + size];
            assert_eq!(mid.uint(end, Endian::Little), le, "size {size} at the end");
            assert_eq!(mid.uint(end, Endian::Big), be, "size {size} at the end");
        }
        let ones = [0xffu8; 12];
        for size in [1, 2, 4, 8] {
            let s = Slot::new(0, size, FieldKind::Int, true, false);
            assert_eq!(s.int(&ones, Endian::Little), -1, "size {size}");
        }
        let short = Slot::new(10, 4, FieldKind::Int, false, false);
        assert_eq!(short.uint(&rec, Endian::Little), 0, "past the record");
    }

    #[test]
    fn hex_matches_the_formatter() {
        for v in [
            0,
            1,
            0xf,
            0x10,
            0xdead_beef,
            0xffff_ffff_8100_0000,
            u64::MAX,
        ] {
            let mut out = String::new();
            push_hex(v, &mut out);
            assert_eq!(out, format!("{v:x}"));
        }
    }
}
