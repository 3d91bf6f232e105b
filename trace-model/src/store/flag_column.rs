//! The context-flags column: a byte an event, a code into the trace's distinct flag words.
//!
//! A trace's events carry few distinct flag words (a few dozen: irq, softirq and preempt
//! states in their combinations), so each event keeps a one-byte code into a table of
//! them: 1 byte an event instead of 4. A store with more than 256 distinct words (only a
//! damaged or hostile trace has them) keeps the words whole instead, so nothing is lost.

use crate::column::Column;
use crate::flags::ContextFlags;
use rustc_hash::FxHashMap;

/// The most distinct flag words a one-byte code tells apart.
const CODES: usize = 256;

#[derive(Clone, Debug)]
pub(crate) enum FlagColumn {
    /// Each event's code into `table`.
    Coded {
        codes: Column<u8>,
        table: Vec<ContextFlags>,
    },
    /// Each event's word, past [`CODES`] distinct ones.
    Whole(Vec<ContextFlags>),
}

impl Default for FlagColumn {
    fn default() -> Self {
        FlagColumn::Coded {
            codes: Column::default(),
            table: Vec::new(),
        }
    }
}

/// Each event's context flags, read like a slice: `flags[i]`, `flags.iter()`.
#[derive(Clone, Copy, Debug)]
pub enum Flags<'a> {
    Coded(&'a [u8], &'a [ContextFlags]),
    Whole(&'a [ContextFlags]),
}

impl<'a> Flags<'a> {
    /// The flags of event `i` (panics past the events, as a slice does).
    #[inline]
    pub fn get(self, i: usize) -> &'a ContextFlags {
        match self {
            Flags::Coded(codes, table) => &table[usize::from(codes[i])],
            Flags::Whole(words) => &words[i],
        }
    }

    /// Number of events.
    pub fn len(self) -> usize {
        match self {
            Flags::Coded(codes, _) => codes.len(),
            Flags::Whole(words) => words.len(),
        }
    }

    /// True without events.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Each event's flags in order.
    pub fn iter(self) -> impl Iterator<Item = &'a ContextFlags> {
        (0..self.len()).map(move |i| self.get(i))
    }
}

impl std::ops::Index<usize> for Flags<'_> {
    type Output = ContextFlags;
    #[inline]
    fn index(&self, i: usize) -> &ContextFlags {
        self.get(i)
    }
}

/// Finds the code of a flag word while a builder fills the column.
#[derive(Debug)]
pub(crate) struct FlagCoder {
    codes: FxHashMap<u32, u8>,
    /// The code last looked up in each slot (by the word's bits): merged CPUs alternate
    /// between a few words, and a hit costs no hash probe.
    recent: [u8; RECENT],
}

const RECENT: usize = 64;

impl Default for FlagCoder {
    fn default() -> Self {
        FlagCoder {
            codes: FxHashMap::default(),
            recent: [0; RECENT],
        }
    }
}

impl FlagColumn {
    /// Room for `events` events.
    pub(crate) fn reserve(&mut self, events: usize) {
        match self {
            FlagColumn::Coded { codes, .. } => codes.make_mut().reserve(events),
            FlagColumn::Whole(words) => words.reserve(events),
        }
    }

    /// The buffer the events' flags are written to, for the prefault helper.
    pub(crate) fn region(&mut self) -> super::prefault::Region {
        match self {
            FlagColumn::Coded { codes, .. } => super::prefault::Region::of(codes.make_mut()),
            FlagColumn::Whole(words) => super::prefault::Region::of(words),
        }
    }

    /// The events' flags.
    pub(crate) fn view(&self) -> Flags<'_> {
        match self {
            FlagColumn::Coded { codes, table } => Flags::Coded(codes, table),
            FlagColumn::Whole(words) => Flags::Whole(words),
        }
    }

    /// Appends events' flags.
    pub(crate) fn extend(&mut self, flags: &[ContextFlags], coder: &mut FlagCoder) {
        if let FlagColumn::Coded { codes, table } = self {
            let codes = codes.make_mut();
            for (done, &f) in flags.iter().enumerate() {
                let slot = &mut coder.recent[(f.0 ^ (f.0 >> 8) ^ (f.0 >> 16)) as usize % RECENT];
                let code = match table.get(usize::from(*slot)) {
                    Some(&word) if word == f => *slot,
                    _ => match code_of(f, table, &mut coder.codes) {
                        Some(code) => code,
                        None => {
                            self.widen();
                            return self.extend(&flags[done..], coder);
                        }
                    },
                };
                *slot = code;
                codes.push(code);
            }
            return;
        }
        if let FlagColumn::Whole(words) = self {
            words.extend_from_slice(flags);
        }
    }

    /// Past [`CODES`] distinct words: every event's word, whole.
    #[cold]
    fn widen(&mut self) {
        if let FlagColumn::Coded { codes, table } = self {
            let mut words = Vec::with_capacity(codes.make_mut().capacity());
            words.extend(codes.iter().map(|&c| table[usize::from(c)]));
            *self = FlagColumn::Whole(words);
        }
    }

    /// Reorders the events: event `k` becomes the one at `order[k]`.
    pub(crate) fn permute(&mut self, order: &[u32]) {
        match self {
            FlagColumn::Coded { codes, .. } => super::permute(codes.make_mut(), order),
            FlagColumn::Whole(words) => super::permute(words, order),
        }
    }

    /// The column as two arrays: codes and their table, or no codes and every word.
    pub(crate) fn parts(&self) -> (&[u8], &[ContextFlags]) {
        match self {
            FlagColumn::Coded { codes, table } => (codes, table),
            FlagColumn::Whole(words) => (&[], words),
        }
    }

    /// The column from [`Self::parts`] for `events` events, checked.
    pub(crate) fn from_parts(
        codes: Column<u8>,
        table: Vec<ContextFlags>,
        events: usize,
    ) -> Result<FlagColumn, String> {
        if codes.is_empty() && events > 0 {
            return match table.len() == events {
                true => Ok(FlagColumn::Whole(table)),
                false => Err("flags of a different length than the events".into()),
            };
        }
        if codes.len() != events || table.len() > CODES {
            return Err("flag codes of a different length than the events".into());
        }
        if codes.iter().any(|&c| usize::from(c) >= table.len()) {
            return Err("a flag code past its table".into());
        }
        Ok(FlagColumn::Coded { codes, table })
    }

    /// Bytes of its own.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            FlagColumn::Coded { codes, table } => codes.heap_bytes() + table.len() * 4,
            FlagColumn::Whole(words) => words.len() * 4,
        }
    }

    /// Bytes viewed in a mapped cache file.
    pub(crate) fn shared_bytes(&self) -> usize {
        match self {
            FlagColumn::Coded { codes, .. } => codes.shared_bytes(),
            FlagColumn::Whole(_) => 0,
        }
    }
}

/// The code of `f`, a new one if the table has room; `None` when it is full.
#[cold]
fn code_of(
    f: ContextFlags,
    table: &mut Vec<ContextFlags>,
    codes: &mut FxHashMap<u32, u8>,
) -> Option<u8> {
    if let Some(&code) = codes.get(&f.0) {
        return Some(code);
    }
    let code = u8::try_from(table.len()).ok()?;
    table.push(f);
    codes.insert(f.0, code);
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_back_through_codes_and_whole_past_256_distinct_ones() {
        let mut column = FlagColumn::default();
        let mut coder = FlagCoder::default();
        let few: Vec<ContextFlags> = (0..1000).map(|i| ContextFlags(i % 7 * 0x1_0001)).collect();
        column.extend(&few, &mut coder);
        assert!(matches!(column, FlagColumn::Coded { ref table, .. } if table.len() == 7));
        let many: Vec<ContextFlags> = (0..300).map(ContextFlags).collect();
        column.extend(&many, &mut coder);
        assert!(matches!(column, FlagColumn::Whole(_)));
        let all: Vec<ContextFlags> = few.iter().chain(&many).copied().collect();
        assert_eq!(column.view().iter().copied().collect::<Vec<_>>(), all);
        assert_eq!(column.view()[1003], ContextFlags(3));

        let (codes, table) = column.parts();
        let again =
            FlagColumn::from_parts(codes.to_vec().into(), table.to_vec(), all.len()).unwrap();
        assert_eq!(again.view().iter().copied().collect::<Vec<_>>(), all);
        let mut coded = FlagColumn::default();
        coded.extend(&few, &mut FlagCoder::default());
        let (codes, table) = coded.parts();
        assert!(FlagColumn::from_parts(codes.to_vec().into(), table[..6].to_vec(), 1000).is_err());
        assert!(FlagColumn::from_parts(codes[1..].to_vec().into(), table.to_vec(), 1000).is_err());
        assert!(FlagColumn::from_parts(Column::default(), table.to_vec(), 1000).is_err());
    }
}
