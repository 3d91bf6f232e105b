//! The store as plain arrays and back: what a cache writes to disk and reads again.
//!
//! Reading back checks every index against the array it points into (event types, strings,
//! payloads, per-CPU lanes, flag codes), the time order, the per-CPU index and every payload's words,
//! string ids and text spans, so arrays that do not belong together are an error here, never
//! a panic later. Metadata and the import report stay typed; the cache serialises them.

use super::{CommTable, EventIdx, EventStore, EventTypeId, FlagColumn};
use crate::column::ColumnIn;
use crate::flags::ContextFlags;
use crate::meta::TraceMeta;
use crate::payload::PayloadArena;
use crate::report::ImportReport;
use crate::strings::{Interner, StrId};
use crate::symbols::{Symbol, SymbolKind, SymbolTable};
use std::borrow::Cow;
use std::sync::OnceLock;

/// A store's contents as arrays of plain values: borrowed from a store to write them, owned
/// or viewed in a mapped file when read back, so that a store rebuilt from them takes them
/// over without a copy.
pub struct StoreColumns<'a> {
    pub ts: ColumnIn<'a, u64>,
    pub cpu: ColumnIn<'a, u16>,
    pub event_type: ColumnIn<'a, EventTypeId>,
    pub pid: ColumnIn<'a, i32>,
    /// Where each pid's comm changes (see [`CommTable`]): pid, first event, comm.
    pub comm_pids: Cow<'a, [i32]>,
    pub comm_from: Cow<'a, [EventIdx]>,
    pub comm_ids: Cow<'a, [StrId]>,
    /// Each event's flag code into `flag_table`; or empty, and `flag_table` holds every
    /// event's flags (a store with more than 256 distinct flag words).
    pub flag_codes: ColumnIn<'a, u8>,
    pub flag_table: Cow<'a, [ContextFlags]>,
    pub payload: ColumnIn<'a, u32>,
    pub by_cpu: ColumnIn<'a, EventIdx>,
    pub cpu_starts: Cow<'a, [usize]>,
    pub cpu_ids: Cow<'a, [u32]>,
    pub event_names: Cow<'a, [StrId]>,
    pub string_text: Cow<'a, [u8]>,
    pub string_bounds: Cow<'a, [u32]>,
    pub payload_words: ColumnIn<'a, u32>,
    pub payload_text: Cow<'a, [u8]>,
    pub symbol_addrs: Cow<'a, [u64]>,
    pub symbol_names: Cow<'a, [StrId]>,
    pub symbol_kinds: Cow<'a, [u8]>,
    pub symbol_modules: Cow<'a, [StrId]>,
    pub meta: &'a TraceMeta,
    pub report: &'a ImportReport,
}

/// The columns of a store's symbol table (an array of structs in the store).
pub struct SymbolColumns {
    pub addrs: Vec<u64>,
    pub names: Vec<StrId>,
    pub kinds: Vec<u8>,
    pub modules: Vec<StrId>,
}

fn kind_code(kind: SymbolKind) -> u8 {
    match kind {
        SymbolKind::Text => 0,
        SymbolKind::Data => 1,
        SymbolKind::Other => 2,
    }
}

fn kind_of(code: u8) -> Result<SymbolKind, String> {
    Ok(match code {
        0 => SymbolKind::Text,
        1 => SymbolKind::Data,
        2 => SymbolKind::Other,
        _ => return Err(format!("symbol kind {code}")),
    })
}

impl EventStore {
    /// The symbol table as columns, for [`StoreColumns`].
    pub fn symbol_columns(&self) -> SymbolColumns {
        let s = self.symbols.symbols();
        SymbolColumns {
            addrs: s.iter().map(|s| s.addr).collect(),
            names: s.iter().map(|s| s.name).collect(),
            kinds: s.iter().map(|s| kind_code(s.kind)).collect(),
            modules: s.iter().map(|s| s.module).collect(),
        }
    }

    /// The store's arrays; `symbols` from [`Self::symbol_columns`].
    pub fn columns<'a>(&'a self, symbols: &'a SymbolColumns) -> StoreColumns<'a> {
        let (string_text, string_bounds) = self.strings.parts();
        let (payload_words, payload_text) = self.arena.parts();
        let (comm_pids, comm_from, comm_ids) = self.comms.parts();
        let (flag_codes, flag_table) = self.flags.parts();
        StoreColumns {
            ts: ColumnIn::Borrowed(&self.ts),
            cpu: ColumnIn::Borrowed(&self.cpu),
            event_type: ColumnIn::Borrowed(&self.event_type),
            pid: ColumnIn::Borrowed(&self.pid),
            comm_pids: Cow::Borrowed(comm_pids),
            comm_from: Cow::Borrowed(comm_from),
            comm_ids: Cow::Borrowed(comm_ids),
            flag_codes: ColumnIn::Borrowed(flag_codes),
            flag_table: Cow::Borrowed(flag_table),
            payload: ColumnIn::Borrowed(&self.payload),
            by_cpu: ColumnIn::Borrowed(self.cpu_index()),
            cpu_starts: Cow::Borrowed(&self.cpu_starts),
            cpu_ids: Cow::Borrowed(&self.cpu_ids),
            event_names: Cow::Borrowed(&self.event_names),
            string_text: Cow::Borrowed(string_text.as_bytes()),
            string_bounds: Cow::Borrowed(string_bounds),
            payload_words: ColumnIn::Borrowed(payload_words),
            payload_text: Cow::Borrowed(payload_text.as_bytes()),
            symbol_addrs: Cow::Borrowed(&symbols.addrs),
            symbol_names: Cow::Borrowed(&symbols.names),
            symbol_kinds: Cow::Borrowed(&symbols.kinds),
            symbol_modules: Cow::Borrowed(&symbols.modules),
            meta: &self.meta,
            report: &self.report,
        }
    }

    /// A store from [`Self::columns`], checked (see the module docs).
    pub fn from_columns(c: StoreColumns<'_>) -> Result<EventStore, String> {
        let n = c.ts.len();
        let per_event = [
            c.cpu.len(),
            c.event_type.len(),
            c.pid.len(),
            c.payload.len(),
            c.by_cpu.len(),
        ];
        if per_event.iter().any(|&len| len != n) {
            return Err("event columns of different lengths".into());
        }
        // The two walks over every event run side by side: the time order here, the
        // per-CPU index (below) on a second thread.
        let (in_order, lanes_ok) = crate::parallel::join(
            || c.ts.windows(2).all(|w| w[0] <= w[1]),
            || per_cpu_index_matches(&c.cpu_starts, &c.by_cpu, &c.cpu),
        );
        if !in_order {
            return Err("events out of time order".into());
        }
        let strings = Interner::from_parts(
            String::from_utf8(c.string_text.into_owned()).map_err(|e| format!("strings: {e}"))?,
            c.string_bounds.into_owned(),
        )?;
        let string = |id: &StrId| (id.0 as usize) < strings.len();
        let lanes = c.cpu_starts.len().checked_sub(1).ok_or("no CPU index")?;
        let bounds_ok = c.cpu_starts.first() == Some(&0)
            && c.cpu_starts.last() == Some(&n)
            && c.cpu_starts.windows(2).all(|w| w[0] <= w[1])
            && (c.cpu_ids.is_empty() || c.cpu_ids.len() == lanes)
            && c.cpu.iter().all(|&cpu| usize::from(cpu) < lanes);
        if !bounds_ok {
            return Err("per-CPU index out of bounds".into());
        }
        if !lanes_ok {
            return Err("per-CPU index does not match the events' CPUs".into());
        }
        if !c.event_names.iter().all(string)
            || !c
                .event_type
                .iter()
                .all(|t| usize::from(t.0) < c.event_names.len())
            || !c.comm_ids.iter().all(string)
        {
            return Err("an event points past its names or strings".into());
        }
        let symbol_count = c.symbol_addrs.len();
        if [
            c.symbol_names.len(),
            c.symbol_kinds.len(),
            c.symbol_modules.len(),
        ]
        .iter()
        .any(|&len| len != symbol_count)
            || !c
                .symbol_names
                .iter()
                .chain(c.symbol_modules.iter())
                .all(string)
        {
            return Err("symbol columns do not match".into());
        }
        let symbols = (0..symbol_count)
            .map(|i| {
                Ok(Symbol {
                    addr: c.symbol_addrs[i],
                    name: c.symbol_names[i],
                    kind: kind_of(c.symbol_kinds[i])?,
                    module: c.symbol_modules[i],
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let arena = PayloadArena::from_parts(
            c.payload_words.into_column(),
            String::from_utf8(c.payload_text.into_owned())
                .map_err(|e| format!("payload text: {e}"))?,
        );
        // Each payload is checked once, however many events share it.
        let starts = arena.checked_starts(strings.len())?;
        if let Some(at) = c.payload.iter().find(|&&at| !starts.contains(at)) {
            return Err(format!("an event's payload at word {at} starts no payload"));
        }
        Ok(EventStore {
            ts: c.ts.into_column(),
            cpu: c.cpu.into_column(),
            event_type: c.event_type.into_column(),
            pid: c.pid.into_column(),
            comms: CommTable::from_parts(&c.comm_pids, &c.comm_from, &c.comm_ids, n)?,
            flags: FlagColumn::from_parts(
                c.flag_codes.into_column(),
                c.flag_table.into_owned(),
                n,
            )?,
            payload: c.payload.into_column(),
            by_cpu: OnceLock::from(c.by_cpu.into_column()),
            cpu_starts: c.cpu_starts.into_owned(),
            cpu_ids: c.cpu_ids.into_owned(),
            event_names: c.event_names.into_owned(),
            strings: std::sync::Arc::new(strings),
            arena,
            symbols: SymbolTable::new(symbols),
            meta: c.meta.clone(),
            report: c.report.clone(),
        })
    }
}

/// Each lane of the per-CPU index lists exactly its CPU's events, in order (so every event
/// once). `cpu_starts` must already be known to bound `by_cpu` (false otherwise).
fn per_cpu_index_matches(cpu_starts: &[usize], by_cpu: &[EventIdx], cpu: &[u16]) -> bool {
    cpu_starts.windows(2).enumerate().all(|(lane, w)| {
        let Some(events) = by_cpu.get(w[0]..w[1]) else {
            return false;
        };
        events
            .iter()
            .all(|&i| cpu.get(i as usize) == Some(&(lane as u16)))
            && events.windows(2).all(|p| p[0] < p[1])
    })
}
