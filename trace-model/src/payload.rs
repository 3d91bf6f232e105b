//! Typed event payloads, stored compactly in one `u32` word arena.
//!
//! The events that the context model and the detectors need get a typed variant; every other
//! event keeps its fields as key/value text ([`Payload::Fields`]) or, when it has no
//! `key=value` shape, as its raw text ([`Payload::Raw`]). Nothing is dropped.
//!
//! Encoding: a payload is a tag word followed by a fixed number of words per variant
//! (u64 values take two words, text takes an offset and a length into the text arena).
//! The typed variants are one table (`payloads!` below, defined in `payload/words.rs`):
//! each variant's tag, fields in word order and kernel print format, from which the enum,
//! the encoder, the decoder, the check of arenas read from a cache file and
//! [`PayloadView::write_details`] all follow; adding an event type is one entry there
//! (plus its field extraction in each importer).

mod words;

use crate::StrId;
use crate::column::Column;
use std::fmt::Write as _;
use words::{check_field, field_words, get_field, payloads, put_field};

/// A task state as `sched_switch` reports it for the task leaving the CPU.
///
/// Bits follow the letters of kernels >= 4.15 (`S D T t X Z P I`); kernels that print other
/// letters map to the nearest meaning. `R` is zero; [`TaskState::PREEMPTED`] is the `+`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TaskState(pub u16);

impl TaskState {
    pub const RUNNING: TaskState = TaskState(0);
    pub const INTERRUPTIBLE: u16 = 0x01; // S
    pub const UNINTERRUPTIBLE: u16 = 0x02; // D
    pub const STOPPED: u16 = 0x04; // T
    pub const TRACED: u16 = 0x08; // t
    pub const DEAD: u16 = 0x10; // X
    pub const ZOMBIE: u16 = 0x20; // Z
    pub const PARKED: u16 = 0x40; // P
    pub const IDLE: u16 = 0x80; // I
    pub const WAKEKILL: u16 = 0x100; // K (old kernels)
    pub const WAKING: u16 = 0x200; // W (old kernels)
    pub const NOLOAD: u16 = 0x400; // N (old kernels)
    /// The `+`: the task was preempted while runnable.
    pub const PREEMPTED: u16 = 0x4000;
    /// The state could not be decoded.
    pub const UNKNOWN: u16 = 0x8000;

    /// Parses the text form: `R`, `R+`, `S`, `D|K`, `x`, `I`...
    pub fn parse(s: &str) -> TaskState {
        let mut bits = 0u16;
        for c in s.chars() {
            bits |= match c {
                'R' | '|' => 0,
                '+' => Self::PREEMPTED,
                'S' => Self::INTERRUPTIBLE,
                'D' => Self::UNINTERRUPTIBLE,
                'T' => Self::STOPPED,
                't' => Self::TRACED,
                'X' | 'x' => Self::DEAD,
                'Z' => Self::ZOMBIE,
                'P' => Self::PARKED,
                'I' => Self::IDLE,
                'K' => Self::WAKEKILL,
                'W' => Self::WAKING,
                'N' => Self::NOLOAD,
                _ => Self::UNKNOWN,
            };
        }
        TaskState(bits)
    }

    /// The task stayed runnable (`R` or `R+`): a preemption, not a sleep.
    pub fn is_runnable(self) -> bool {
        self.0 & !Self::PREEMPTED == 0
    }

    /// The task went to sleep or exited (any state bit set).
    pub fn is_sleep(self) -> bool {
        !self.is_runnable() && self.0 & Self::UNKNOWN == 0
    }

    /// Letters as the kernel prints them (`R+`, `S`, `D|W`).
    pub fn letters(self) -> String {
        const LETTERS: [(u16, char); 11] = [
            (TaskState::INTERRUPTIBLE, 'S'),
            (TaskState::UNINTERRUPTIBLE, 'D'),
            (TaskState::STOPPED, 'T'),
            (TaskState::TRACED, 't'),
            (TaskState::DEAD, 'X'),
            (TaskState::ZOMBIE, 'Z'),
            (TaskState::PARKED, 'P'),
            (TaskState::IDLE, 'I'),
            (TaskState::WAKEKILL, 'K'),
            (TaskState::WAKING, 'W'),
            (TaskState::NOLOAD, 'N'),
        ];
        if self.0 & Self::UNKNOWN != 0 {
            return "?".into();
        }
        let mut out = String::new();
        for (bit, c) in LETTERS {
            if self.0 & bit != 0 {
                if !out.is_empty() {
                    out.push('|');
                }
                out.push(c);
            }
        }
        if out.is_empty() {
            out.push('R');
        }
        if self.0 & Self::PREEMPTED != 0 {
            out.push('+');
        }
        out
    }
}

payloads! {
    SchedSwitch = 1 {
        prev_comm: StrId,
        prev_pid: i32,
        prev_prio: i32,
        prev_state: TaskState,
        next_comm: StrId,
        next_pid: i32,
        next_prio: i32,
    } => |out, s| write!(
        out,
        "prev_comm={} prev_pid={prev_pid} prev_prio={prev_prio} prev_state={} ==> \
         next_comm={} next_pid={next_pid} next_prio={next_prio}",
        s(*prev_comm),
        prev_state.letters(),
        s(*next_comm)
    ),
    /// `sched_wakeup`, `sched_wakeup_new` and `sched_waking` (the event name tells which).
    SchedWakeup = 2 {
        comm: StrId,
        pid: i32,
        prio: i32,
        target_cpu: i32,
    } => |out, s| write!(
        out,
        "comm={} pid={pid} prio={prio} target_cpu={target_cpu:03}",
        s(*comm)
    ),
    SchedMigrate = 3 {
        comm: StrId,
        pid: i32,
        prio: i32,
        orig_cpu: i32,
        dest_cpu: i32,
    } => |out, s| write!(
        out,
        "comm={} pid={pid} prio={prio} orig_cpu={orig_cpu} dest_cpu={dest_cpu}",
        s(*comm)
    ),
    IrqHandlerEntry = 4 { irq: i32, name: StrId }
        => |out, s| write!(out, "irq={irq} name={}", s(*name)),
    IrqHandlerExit = 5 { irq: i32, handled: bool } => |out, _s| write!(
        out,
        "irq={irq} ret={}",
        if *handled { "handled" } else { "unhandled" }
    ),
    SoftirqEntry = 6 { vec: u32 } => |out, _s| print_softirq(out, *vec),
    SoftirqExit = 7 { vec: u32 } => |out, _s| print_softirq(out, *vec),
    SoftirqRaise = 8 { vec: u32 } => |out, _s| print_softirq(out, *vec),
    /// x86 `irq_vectors:*_entry` (hardirq-like vectors: local_timer, reschedule, ...).
    IrqVectorEntry = 9 { vector: i32 } => |out, _s| write!(out, "vector={vector}"),
    IrqVectorExit = 10 { vector: i32 } => |out, _s| write!(out, "vector={vector}"),
    /// `preemptirq:irq_disable`.
    IrqDisable = 11 { caller: StrId, parent: StrId }
        => |out, s| print_caller(out, s(*caller), s(*parent)),
    IrqEnable = 12 { caller: StrId, parent: StrId }
        => |out, s| print_caller(out, s(*caller), s(*parent)),
    PreemptDisable = 13 { caller: StrId, parent: StrId }
        => |out, s| print_caller(out, s(*caller), s(*parent)),
    PreemptEnable = 14 { caller: StrId, parent: StrId }
        => |out, s| print_caller(out, s(*caller), s(*parent)),
    /// `lock:lock_acquire`: `read` is 0 (write), 1 (read) or 2 (recursive read).
    LockAcquire = 15 {
        addr: u64,
        name: StrId,
        trylock: bool,
        read: u8 >> 8,
    } => |out, s| {
        let try_ = if *trylock { "try " } else { "" };
        let read = match read {
            1 => "read ",
            2 => "recursive ",
            _ => "",
        };
        write!(out, "{addr:016x} {try_}{read}{}", s(*name))
    },
    LockRelease = 16 { addr: u64, name: StrId } => |out, s| print_lock(out, *addr, s(*name)),
    LockContended = 17 { addr: u64, name: StrId } => |out, s| print_lock(out, *addr, s(*name)),
    LockAcquired = 18 { addr: u64, name: StrId } => |out, s| print_lock(out, *addr, s(*name)),
    /// `lock:contention_begin`; `flags` are the LCB_F_* bits.
    ContentionBegin = 19 { addr: u64, flags: u32 }
        => |out, _s| write!(out, "{addr:016x} (flags={flags:#x})"),
    ContentionEnd = 20 { addr: u64, ret: i32 }
        => |out, _s| write!(out, "{addr:016x} (ret={ret})"),
    /// A kprobe (or other dynamic event) carrying a lock address (`lock=0x...`).
    /// `probed` is the probed function when the trace names it (`_raw_spin_lock`).
    LockProbe = 21 { addr: u64, probed: StrId }
        => |out, s| write!(out, "({}) lock={addr:#x}", s(*probed)),
    /// Function tracer entry: `func <-parent`.
    Function = 22 { func: StrId, parent: StrId }
        => |out, s| write!(out, "{} <-{}", s(*func), s(*parent)),
    /// function_graph entry (`func() {` or a leaf `func();` with its duration).
    FuncGraphEntry = 23 {
        func: StrId,
        depth: u16,
        leaf_duration_ns: Option<u64>,
    } => |out, s| match leaf_duration_ns {
        Some(d) => write!(out, "{}(); /* {:.3} us */", s(*func), *d as f64 / 1e3),
        None => write!(out, "{}() {{", s(*func)),
    },
    /// function_graph exit (`}`), with the duration.
    FuncGraphExit = 24 {
        func: StrId,
        depth: u16,
        duration_ns: u64,
    } => |out, s| write!(out, "}} /* {} {:.3} us */", s(*func), *duration_ns as f64 / 1e3),
    WorkqueueExecuteStart = 25 { work: u64, function: StrId }
        => |out, s| write!(out, "work struct {work:016x}: function {}", s(*function)),
    WorkqueueExecuteEnd = 26 { work: u64, function: StrId }
        => |out, s| write!(out, "work struct {work:016x}: function {}", s(*function)),
    TimerExpireEntry = 27 { timer: u64, function: StrId }
        => |out, s| write!(out, "timer={timer:016x} function={}", s(*function)),
    TimerExpireExit = 28 { timer: u64 } => |out, _s| write!(out, "timer={timer:016x}"),
    HrtimerExpireEntry = 29 { hrtimer: u64, function: StrId }
        => |out, s| write!(out, "hrtimer={hrtimer:016x} function={}", s(*function)),
    HrtimerExpireExit = 30 { hrtimer: u64 } => |out, _s| write!(out, "hrtimer={hrtimer:016x}"),
}

/// `vec=1 [action=TIMER]`.
fn print_softirq(out: &mut String, vec: u32) -> std::fmt::Result {
    let action = crate::context::state::softirq_name(vec).unwrap_or("?");
    write!(out, "vec={vec} [action={action}]")
}

/// `caller=f parent=g` of the preemptirq events.
fn print_caller(out: &mut String, caller: &str, parent: &str) -> std::fmt::Result {
    write!(out, "caller={caller} parent={parent}")
}

/// `address name` of the lock:* events.
fn print_lock(out: &mut String, addr: u64, name: &str) -> std::fmt::Result {
    write!(out, "{addr:016x} {name}")
}

/// A payload as importers push it.
pub type PayloadIn<'a> = Payload<'a, &'a [(StrId, &'a str)]>;
/// A payload as read back from the store.
pub type PayloadView<'a> = Payload<'a, FieldIter<'a>>;

/// Iterator over the key/value fields of a [`Payload::Fields`] payload.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldIter<'a> {
    words: &'a [u32],
    text: &'a str,
}

impl<'a> Iterator for FieldIter<'a> {
    type Item = (StrId, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        let (&[key, off, len], rest) = self.words.split_first_chunk::<3>()?;
        self.words = rest;
        Some((StrId(key), &self.text[off as usize..(off + len) as usize]))
    }
}

/// The word positions where the payloads of a checked arena start.
pub(crate) struct PayloadStarts(Vec<u64>);

impl PayloadStarts {
    /// True when a payload starts at word `at`.
    #[inline]
    pub(crate) fn contains(&self, at: u32) -> bool {
        let at = at as usize;
        self.0.get(at / 64).is_some_and(|w| w >> (at % 64) & 1 == 1)
    }
}

/// Word and text arenas holding all payloads of a store.
#[derive(Clone, Debug, Default)]
pub struct PayloadArena {
    pub(crate) words: Column<u32>,
    pub(crate) text: String,
}

fn check_id(id: u32, strings: usize) -> Result<(), String> {
    if (id as usize) < strings {
        Ok(())
    } else {
        Err(format!("string id {id} of {strings}"))
    }
}

/// Where the short payloads pushed lately are, so that a repeat points at the first copy:
/// most events carry one of a few hundred payloads (a softirq vector, a function and its
/// caller, a timer), and sharing them takes 8-16 bytes an event off the arena (the
/// arena is read-only once pushed, so a shared payload is never changed under another
/// event). Direct-mapped: a slot holds the last payload hashed to it.
#[derive(Debug)]
pub(crate) struct SharedPayloads {
    /// (the payload's words packed, its index); `u128::MAX` (no payload has tag
    /// `u32::MAX`) marks a free slot.
    slots: Box<[(u128, u32)]>,
}

impl SharedPayloads {
    /// Payloads of up to this many words are shared (the tag and three values).
    const MAX_WORDS: usize = 4;
    const BITS: u32 = 12;

    /// A table that shares nothing.
    pub(crate) fn none() -> SharedPayloads {
        SharedPayloads {
            slots: Box::default(),
        }
    }

    /// The slot of the packed words.
    #[inline]
    fn slot(key: u128) -> usize {
        let folded = (key as u64) ^ ((key >> 64) as u64).rotate_left(29);
        crate::direct_mapped::slot(folded, Self::BITS)
    }
}

impl Default for SharedPayloads {
    fn default() -> Self {
        SharedPayloads {
            slots: vec![(u128::MAX, 0); 1 << Self::BITS].into_boxed_slice(),
        }
    }
}

impl PayloadArena {
    /// The payload words and text as stored.
    pub(crate) fn parts(&self) -> (&[u32], &str) {
        (&self.words, &self.text)
    }

    /// An arena from another's [`Self::parts`].
    pub(crate) fn from_parts(words: Column<u32>, text: String) -> PayloadArena {
        PayloadArena { words, text }
    }

    /// Bytes of its own in both arenas.
    pub fn heap_bytes(&self) -> usize {
        self.words.heap_bytes() + self.text.capacity()
    }

    /// Payload words viewed in a mapped cache file.
    pub fn shared_bytes(&self) -> usize {
        self.words.shared_bytes()
    }

    /// Makes room for the payloads of about `events` events.
    pub(crate) fn reserve(&mut self, events: usize) {
        // A tag and two or three values is the common payload (function, softirq, timer).
        const TYPICAL_WORDS: usize = 4;
        // Generic events keep their field values as text.
        const TYPICAL_TEXT: usize = 8;
        let words = self.words.make_mut();
        words.reserve(events.saturating_mul(TYPICAL_WORDS));
        self.text.reserve(events.saturating_mul(TYPICAL_TEXT));
    }

    fn push_text(&mut self, s: &str) -> [u32; 2] {
        let off = u32::try_from(self.text.len()).expect("payload text arena over 4 GiB");
        self.text.push_str(s);
        [off, s.len() as u32]
    }

    /// Appends a payload and returns its index.
    pub fn push(&mut self, p: &PayloadIn<'_>) -> u32 {
        self.push_sharing(p, &mut SharedPayloads::none())
    }

    /// Appends a payload and returns its index; a short payload equal to one `shared`
    /// remembers gets that one's index instead of a copy.
    #[inline]
    pub(crate) fn push_sharing(&mut self, p: &PayloadIn<'_>, shared: &mut SharedPayloads) -> u32 {
        if let Some(at) = self.put_typed(p, shared) {
            return at;
        }
        match *p {
            Payload::Print { text } => {
                let t = self.push_text(text);
                self.append([tag::PRINT, t[0], t[1]])
            }
            Payload::Raw(text) => {
                let t = self.push_text(text);
                self.append([tag::RAW, t[0], t[1]])
            }
            Payload::Fields(fields) => {
                self.push_fields_with(fields, |value, text| text.push_str(value))
            }
            _ => self.put(shared, [tag::EMPTY]),
        }
    }

    /// Appends `words` unless `shared` knows an equal payload of up to four words.
    #[inline]
    fn put<const N: usize>(&mut self, shared: &mut SharedPayloads, words: [u32; N]) -> u32 {
        if N > SharedPayloads::MAX_WORDS {
            return self.append(words);
        }
        let key = words
            .iter()
            .rev()
            .fold(0u128, |k, &w| k << 32 | u128::from(w));
        let slot = SharedPayloads::slot(key);
        if let Some(&(known, at)) = shared.slots.get(slot)
            && known == key
        {
            return at;
        }
        let at = self.append(words);
        if let Some(s) = shared.slots.get_mut(slot) {
            *s = (key, at);
        }
        at
    }

    #[inline]
    fn append<const N: usize>(&mut self, words: [u32; N]) -> u32 {
        let at = u32::try_from(self.words.len()).expect("payload arena over 16 GiB");
        self.words.make_mut().extend(words);
        at
    }

    /// Appends a [`Payload::Fields`] payload whose values `render` writes into the text
    /// arena, and returns its index.
    pub fn push_fields_with<T>(
        &mut self,
        fields: &[(StrId, T)],
        mut render: impl FnMut(&T, &mut String),
    ) -> u32 {
        let at = self.append([tag::FIELDS, fields.len() as u32]);
        for (key, value) in fields {
            let off = self.text.len();
            render(value, &mut self.text);
            let [off, end] = [off, self.text.len()]
                .map(|n| u32::try_from(n).expect("payload text arena over 4 GiB"));
            self.words.make_mut().extend([key.0, off, end - off]);
        }
        at
    }

    /// Where the payloads start, each checked: walked from the first, every payload's words
    /// in the arena, every string id below `strings` and every text span in the text arena
    /// on char boundaries. For arenas that were not built by pushing (a cache file):
    /// [`Self::get`] trusts the payload at any start. One pass over the words, however many
    /// events share each payload.
    pub(crate) fn checked_starts(&self, strings: usize) -> Result<PayloadStarts, String> {
        let mut starts = PayloadStarts(vec![0; self.words.len().div_ceil(64)]);
        let mut at = 0;
        while at < self.words.len() {
            starts.0[at / 64] |= 1 << (at % 64);
            at += self
                .check(at as u32, strings)
                .map_err(|e| format!("payload at word {at}: {e}"))?;
        }
        Ok(starts)
    }

    /// Checks the payload at `at` (see [`Self::checked_starts`]) and returns its length in
    /// words.
    fn check(&self, at: u32, strings: usize) -> Result<usize, String> {
        let w = self.words.get(at as usize..).unwrap_or_default();
        let tag = *w.first().ok_or("past the end of the payload words")?;
        if let Some(typed) = Self::check_typed(w, strings) {
            return typed;
        }
        let (len, texts): (usize, &[usize]) = match tag {
            tag::PRINT | tag::RAW => (3, &[1]),
            tag::FIELDS => {
                let n = *w.get(1).ok_or("a field list cut short")? as usize;
                let len = n.checked_mul(3).and_then(|f| f.checked_add(2));
                let fields = len
                    .and_then(|len| w.get(2..len))
                    .ok_or("a field list past the end of the payload words")?;
                for f in fields.chunks_exact(3) {
                    check_id(f[0], strings)?;
                    self.check_text(f[1], f[2])?;
                }
                return Ok(fields.len() + 2);
            }
            _ => (1, &[]),
        };
        if w.len() < len {
            return Err(format!("a payload of tag {tag} cut short"));
        }
        for &i in texts {
            self.check_text(w[i], w[i + 1])?;
        }
        Ok(len)
    }

    fn check_text(&self, offset: u32, len: u32) -> Result<(), String> {
        offset
            .checked_add(len)
            .and_then(|end| self.text.get(offset as usize..end as usize))
            .map(drop)
            .ok_or_else(|| format!("payload text {offset}+{len} outside the text arena"))
    }

    /// Reads back the payload at `at` (an index [`PayloadArena::push`] returned).
    pub fn get(&self, at: u32) -> PayloadView<'_> {
        let w = &self.words[at as usize..];
        if let Some(typed) = Self::get_typed(w) {
            return typed;
        }
        let text = |i: usize| &self.text[w[i] as usize..(w[i] + w[i + 1]) as usize];
        match w[0] {
            tag::PRINT => Payload::Print { text: text(1) },
            tag::RAW => Payload::Raw(text(1)),
            tag::FIELDS => {
                let n = w[1] as usize;
                Payload::Fields(FieldIter {
                    words: &w[2..2 + 3 * n],
                    text: &self.text,
                })
            }
            _ => Payload::Empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_round_trips() {
        let mut arena = PayloadArena::default();
        let fields = [(StrId(3), "a=b"), (StrId(4), "")];
        let cases: Vec<PayloadIn<'_>> = vec![
            Payload::Empty,
            Payload::SchedSwitch {
                prev_comm: StrId(1),
                prev_pid: -1,
                prev_prio: 120,
                prev_state: TaskState::parse("D|K"),
                next_comm: StrId(2),
                next_pid: 7,
                next_prio: 98,
            },
            Payload::LockAcquire {
                addr: 0xffff_ffff_a000_3600,
                name: StrId(9),
                trylock: true,
                read: 2,
            },
            Payload::FuncGraphEntry {
                func: StrId(5),
                depth: 3,
                leaf_duration_ns: None,
            },
            Payload::Print { text: "hello" },
            Payload::Raw("dev 8,13 ino 12"),
            Payload::Fields(&fields),
        ];
        let at: Vec<u32> = cases.iter().map(|p| arena.push(p)).collect();
        for (p, &i) in cases.iter().zip(&at) {
            assert_reads_back(p, arena.get(i));
        }
        // Each record passes the check of an arena read from outside with its own strings
        // (ids up to 9), and fails it cut short by a word or naming a string not there.
        for (k, &i) in at.iter().enumerate() {
            let end = at.get(k + 1).map_or(arena.words.len(), |&n| n as usize);
            assert_eq!(arena.check(i, 10), Ok(end - i as usize), "case {k}");
            if end - i as usize > 1 {
                let mut cut = arena.clone();
                cut.words.make_mut().truncate(end - 1);
                assert!(cut.check(i, 10).is_err(), "case {k} cut short");
            }
        }
        // Walked from the first word, the arena's starts are exactly the pushed payloads'.
        let starts = arena.checked_starts(10).unwrap();
        let found: Vec<u32> = (0..arena.words.len() as u32 + 64)
            .filter(|&w| starts.contains(w))
            .collect();
        assert_eq!(found, at);
        assert!(arena.checked_starts(2).is_err());
        assert!(arena.check(at[1], 2).is_err(), "the switch names string 2");
        assert!(arena.check(at[6], 4).is_err(), "a field named by string 4");
        let mut text_cut = arena.clone();
        text_cut.text.truncate(3);
        assert!(
            text_cut.check(at[4], 10).is_err(),
            "the printed text is gone"
        );
    }

    fn assert_reads_back(want: &PayloadIn<'_>, got: PayloadView<'_>) {
        match (want, got) {
            (Payload::Fields(want), Payload::Fields(got)) => {
                assert_eq!(want.to_vec(), got.collect::<Vec<_>>())
            }
            (Payload::Print { text: a }, Payload::Print { text: b }) => assert_eq!(*a, b),
            (Payload::Raw(a), Payload::Raw(b)) => assert_eq!(*a, b),
            (want, got) => assert_eq!(format!("{want:?}"), format!("{got:?}")),
        }
    }

    #[test]
    fn short_payloads_repeated_share_one_copy_and_read_back_the_same() {
        let mut arena = PayloadArena::default();
        let mut shared = SharedPayloads::default();
        let switch = Payload::SchedSwitch {
            prev_comm: StrId(1),
            prev_pid: 2,
            prev_prio: 120,
            prev_state: TaskState(1),
            next_comm: StrId(3),
            next_pid: 4,
            next_prio: 120,
        };
        let fields = [(StrId(3), "a=b")];
        // (payload, shared when pushed again): up to four words and no text.
        let cases: [(PayloadIn<'_>, bool); 8] = [
            (Payload::Empty, true),
            (Payload::SoftirqEntry { vec: 3 }, true),
            (Payload::SoftirqExit { vec: 3 }, true),
            (
                Payload::Function {
                    func: StrId(7),
                    parent: StrId(8),
                },
                true,
            ),
            (
                Payload::HrtimerExpireEntry {
                    hrtimer: u64::MAX - 1,
                    function: StrId(9),
                },
                true,
            ),
            (switch, false),
            (Payload::Print { text: "hello" }, false),
            (Payload::Fields(&fields), false),
        ];
        let first: Vec<u32> = cases
            .iter()
            .map(|(p, _)| arena.push_sharing(p, &mut shared))
            .collect();
        let second: Vec<u32> = cases
            .iter()
            .map(|(p, _)| arena.push_sharing(p, &mut shared))
            .collect();
        for (k, (p, shares)) in cases.iter().enumerate() {
            assert_eq!(first[k] == second[k], *shares, "{p:?}");
            assert_reads_back(p, arena.get(first[k]));
            assert_reads_back(p, arena.get(second[k]));
        }
        // Values that differ in any word are never shared.
        let a = arena.push_sharing(&Payload::SoftirqEntry { vec: 4 }, &mut shared);
        assert_ne!(a, first[1]);
        // Without a table nothing is shared.
        let (x, y) = (arena.push(&Payload::Empty), arena.push(&Payload::Empty));
        assert_ne!(x, y);
    }

    #[test]
    fn task_state_letters() {
        assert!(TaskState::parse("R+").is_runnable());
        assert!(TaskState::parse("S").is_sleep());
        assert_eq!(TaskState::parse("D|W").letters(), "D|W");
        assert_eq!(TaskState::parse("R+").letters(), "R+");
    }
}
