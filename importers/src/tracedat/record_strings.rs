//! String fields interned straight from record bytes.
//!
//! Comms repeat in nearly every sched event; a lookup by the record's bytes skips the UTF-8
//! check and the interner's string hash. Every comm fits in 16 bytes (TASK_COMM_LEN), so
//! those are keyed by one `u128`: hashed and compared without a call.

use rustc_hash::FxHashMap;
use trace_model::store::EventStoreBuilder;
use trace_model::strings::StrId;

#[derive(Debug, Default)]
pub(super) struct RecordStrings {
    /// Strings of at most 16 bytes, without NULs, zero-padded: the padding cannot be
    /// confused with the string's own bytes.
    short: FxHashMap<u128, StrId>,
    long: FxHashMap<Box<[u8]>, StrId>,
}

impl RecordStrings {
    /// The id of the string in `bytes` (invalid UTF-8 replaced).
    #[inline]
    pub(super) fn intern(&mut self, b: &mut EventStoreBuilder, bytes: &[u8]) -> StrId {
        if bytes.len() <= 16 && !bytes.contains(&0) {
            let mut padded = [0u8; 16];
            padded[..bytes.len()].copy_from_slice(bytes);
            return self.short_key(b, u128::from_le_bytes(padded), bytes.len());
        }
        if let Some(&id) = self.long.get(bytes) {
            return id;
        }
        let id = intern(b, bytes);
        self.long.insert(bytes.into(), id);
        id
    }

    /// The id of the text in a `char[16]` field: its bytes up to the first NUL, found
    /// without a scan (the lowest byte that borrows is the first zero byte).
    #[inline]
    pub(super) fn intern_char16(&mut self, b: &mut EventStoreBuilder, field: [u8; 16]) -> StrId {
        const ONES: u128 = u128::from_le_bytes([0x01; 16]);
        const HIGHS: u128 = u128::from_le_bytes([0x80; 16]);
        let word = u128::from_le_bytes(field);
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        let len = (zeros.trailing_zeros() / 8) as usize;
        let key = word & u128::MAX.checked_shr(128 - 8 * len as u32).unwrap_or(0);
        self.short_key(b, key, len)
    }

    #[inline]
    fn short_key(&mut self, b: &mut EventStoreBuilder, key: u128, len: usize) -> StrId {
        if let Some(&id) = self.short.get(&key) {
            return id;
        }
        let id = intern(b, &key.to_le_bytes()[..len]);
        self.short.insert(key, id);
        id
    }
}

fn intern(b: &mut EventStoreBuilder, bytes: &[u8]) -> StrId {
    b.intern(&String::from_utf8_lossy(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_padded_strings_stay_apart() {
        let mut b = EventStoreBuilder::default();
        let mut strings = RecordStrings::default();
        let inputs: [&[u8]; 6] = [
            b"kworker/0:1",
            b"kworker/0:1H",
            b"sixteen-bytes-ok",
            b"seventeen-bytes!!",
            b"a\0",
            b"",
        ];
        let ids: Vec<StrId> = inputs.iter().map(|s| strings.intern(&mut b, s)).collect();
        for (i, s) in inputs.iter().enumerate() {
            assert_eq!(strings.intern(&mut b, s), ids[i], "stable id for {s:?}");
            assert_eq!(b.strings().resolve(ids[i]).as_bytes(), *s);
        }
        for s in &inputs[..5] {
            let mut field = [0u8; 16];
            let n = s.len().min(16);
            field[..n].copy_from_slice(&s[..n]);
            let cut = s[..n].iter().position(|&c| c == 0).unwrap_or(n);
            let want = strings.intern(&mut b, &s[..cut]);
            assert_eq!(
                strings.intern_char16(&mut b, field),
                want,
                "{s:?} as char[16]"
            );
        }
        let mut full = *b"sixteen-bytes-ok";
        assert_eq!(strings.intern_char16(&mut b, full), ids[2]);
        full[3] = 0;
        full[9] = 0;
        let six = strings.intern_char16(&mut b, full);
        assert_eq!(b.strings().resolve(six), "six");
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len());
    }
}
