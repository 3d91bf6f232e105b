//! String interning: comms, event names, symbols and lock names are stored once and
//! referred to by a 4-byte [`StrId`].
//!
//! Every string lives once, in one arena `String`; the hash table holds only ids and
//! compares candidates against their arena slice. A new string therefore costs no
//! allocation of its own (a kallsyms section interns about 120 k names per trace) and
//! dropping the interner frees three buffers, not two boxes per string.

use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::Arc;

/// Index of an interned string in an [`Interner`].
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct StrId(pub u32);

impl StrId {
    /// The empty string, always interned first.
    pub const EMPTY: StrId = StrId(0);
}

/// A set of unique strings, each with a stable [`StrId`].
#[derive(Clone, Debug)]
pub struct Interner {
    /// All strings, back to back.
    arena: String,
    /// Offsets in `arena`: string `i` is `bounds[i]..bounds[i + 1]` (one entry more
    /// than there are strings, so no id needs a special case).
    bounds: Vec<u32>,
    /// Ids, found by the hash of their string.
    ids: HashTable<StrId>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            arena: String::new(),
            bounds: vec![0, 0],
            ids: HashTable::new(),
        }
        .with_empty_string()
    }
}

fn hash(s: &[u8]) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(s)
}

impl Interner {
    fn with_empty_string(mut self) -> Self {
        let h = hash(b"");
        self.ids.insert_unique(h, StrId::EMPTY, |_| h);
        self
    }

    fn span(bounds: &[u32], id: StrId) -> Range<usize> {
        let i = id.0 as usize;
        bounds[i] as usize..bounds[i + 1] as usize
    }

    /// The bytes of `id` (comparing bytes skips the char-boundary checks of a str slice).
    fn bytes<'s>(arena: &'s str, bounds: &[u32], id: StrId) -> &'s [u8] {
        &arena.as_bytes()[Self::span(bounds, id)]
    }

    /// Makes room for `strings` more strings of `bytes` bytes in total (a caller that
    /// knows it will intern many, such as a kallsyms parser, avoids repeated growth).
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.arena.reserve(bytes);
        self.bounds.reserve(strings);
        let (arena, bounds) = (&self.arena, &self.bounds);
        self.ids
            .reserve(strings, |&id| hash(Self::bytes(arena, bounds, id)));
    }

    /// Returns the id of `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> StrId {
        let h = hash(s.as_bytes());
        let (arena, bounds) = (&self.arena, &self.bounds);
        let found = self
            .ids
            .find(h, |&id| Self::bytes(arena, bounds, id) == s.as_bytes());
        if let Some(&id) = found {
            return id;
        }
        let id = StrId(u32::try_from(self.len()).expect("more than 4G unique strings"));
        self.arena.push_str(s);
        let end = u32::try_from(self.arena.len()).expect("more than 4 GB of unique strings");
        self.bounds.push(end);
        let (arena, bounds) = (&self.arena, &self.bounds);
        self.ids
            .insert_unique(h, id, |&id| hash(Self::bytes(arena, bounds, id)));
        id
    }

    /// The id of `s` if it was interned.
    pub fn lookup(&self, s: &str) -> Option<StrId> {
        let (arena, bounds) = (&self.arena, &self.bounds);
        self.ids
            .find(hash(s.as_bytes()), |&id| {
                Self::bytes(arena, bounds, id) == s.as_bytes()
            })
            .copied()
    }

    /// The string behind `id`.
    pub fn resolve(&self, id: StrId) -> &str {
        &self.arena[Self::span(&self.bounds, id)]
    }

    /// Number of unique strings.
    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    /// True when only the empty string is interned.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    /// The strings as stored: their bytes back to back, and the offsets between them.
    pub fn parts(&self) -> (&str, &[u32]) {
        (&self.arena, &self.bounds)
    }

    /// An interner from another's [`Self::parts`], checked: string 0 is the empty string,
    /// the offsets rise and fall on character boundaries of the text, which they end.
    pub fn from_parts(arena: String, bounds: Vec<u32>) -> Result<Interner, String> {
        let ordered = bounds.windows(2).all(|w| w[0] <= w[1]);
        let on_text = bounds
            .last()
            .is_some_and(|&end| end as usize == arena.len())
            && bounds.iter().all(|&b| arena.is_char_boundary(b as usize));
        if bounds.get(..2) != Some(&[0, 0]) || !ordered || !on_text {
            return Err("string offsets out of order or off their text".into());
        }
        let mut ids = HashTable::with_capacity(bounds.len() - 1);
        for i in 0..bounds.len() - 1 {
            let id = StrId(i as u32);
            let h = hash(Self::bytes(&arena, &bounds, id));
            ids.insert_unique(h, id, |&id| hash(Self::bytes(&arena, &bounds, id)));
        }
        Ok(Interner { arena, bounds, ids })
    }

    /// Resident bytes (string bytes plus table overhead, approximately).
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.bounds.capacity() * size_of::<u32>()
            + self.ids.capacity() * (size_of::<StrId>() + 1)
    }
}

/// A shared [`Interner`] extended by strings of its own, without copying the shared one:
/// the base's ids resolve unchanged and added strings take the ids after them, so one id
/// space covers both and every id of the base means the same string here. The context
/// model names what the trace's strings lack (sidecar symbols, bare lock addresses) this
/// way while the store keeps the only copy of its strings.
#[derive(Clone, Debug, Default)]
pub struct ExtendedInterner {
    base: Arc<Interner>,
    /// Strings not in `base`: its id `k` (from 1; 0 is its own empty string) is
    /// `base.len() + k - 1` outside.
    added: Interner,
}

impl ExtendedInterner {
    /// Extends `base` (shared, not copied).
    pub fn over(base: Arc<Interner>) -> Self {
        ExtendedInterner {
            base,
            added: Interner::default(),
        }
    }

    /// `base` extended by `added`, the strings of another's [`Self::added`].
    pub fn with_added(base: Arc<Interner>, added: Interner) -> Self {
        ExtendedInterner { base, added }
    }

    /// The strings added to the base.
    pub fn added(&self) -> &Interner {
        &self.added
    }

    /// Returns the id of `s`: the base's id if it has `s`, else an added one.
    pub fn intern(&mut self, s: &str) -> StrId {
        if let Some(id) = self.base.lookup(s) {
            return id;
        }
        let k = self.added.intern(s).0 - 1;
        u32::try_from(self.base.len())
            .ok()
            .and_then(|n| n.checked_add(k))
            .map(StrId)
            .expect("more than 4G unique strings")
    }

    /// The id of `s` if the base has it or it was added.
    pub fn lookup(&self, s: &str) -> Option<StrId> {
        self.base.lookup(s).or_else(|| {
            let k = self.added.lookup(s)?.0;
            (k > 0).then(|| StrId(self.base.len() as u32 + k - 1))
        })
    }

    /// The string behind an id of the base or an added one.
    pub fn resolve(&self, id: StrId) -> &str {
        match (id.0 as usize).checked_sub(self.base.len()) {
            None => self.base.resolve(id),
            Some(k) => self.added.resolve(StrId(k as u32 + 1)),
        }
    }

    /// Number of unique strings, the base's included.
    pub fn len(&self) -> usize {
        self.base.len() + self.added.len() - 1
    }

    /// True when only the empty string is interned.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_string_once_with_stable_ids() {
        let mut s = Interner::default();
        assert_eq!(s.intern(""), StrId::EMPTY);
        assert!(s.is_empty());
        let a = s.intern("spin_lock");
        let b = s.intern("spin");
        assert_ne!(a, b);
        assert_eq!(s.intern("spin_lock"), a);
        assert_eq!(s.resolve(a), "spin_lock");
        assert_eq!(s.resolve(b), "spin");
        assert_eq!(s.resolve(StrId::EMPTY), "");
        assert_eq!(s.lookup("spin"), Some(b));
        assert_eq!(s.lookup("spi"), None);
        assert_eq!(s.len(), 3);
        s.reserve(1000, 10_000);
        let many: Vec<StrId> = (0..1000).map(|i| s.intern(&format!("f{i}"))).collect();
        assert!(
            many.iter()
                .enumerate()
                .all(|(i, &id)| s.resolve(id) == format!("f{i}"))
        );
        assert_eq!(s.intern("spin_lock"), a);
    }

    #[test]
    fn an_extension_keeps_the_base_ids_and_continues_after_them() {
        let mut base = Interner::default();
        let lock = base.intern("lock");
        let base = Arc::new(base);
        let mut ext = ExtendedInterner::over(base.clone());
        assert_eq!(ext.intern("lock"), lock);
        assert_eq!(ext.intern(""), StrId::EMPTY);
        let addr = ext.intern("0xffff0000");
        assert_eq!(addr, StrId(2));
        assert_eq!(ext.intern("0xffff0000"), addr);
        assert_eq!(ext.lookup("0xffff0000"), Some(addr));
        assert_eq!(ext.lookup("missing"), None);
        let next = ext.intern("my_dev");
        assert_eq!(next, StrId(3));
        assert_eq!(
            [lock, addr, next, StrId::EMPTY].map(|id| ext.resolve(id)),
            ["lock", "0xffff0000", "my_dev", ""]
        );
        assert_eq!((ext.len(), base.len()), (4, 2));
        assert_eq!(
            Arc::strong_count(&base),
            2,
            "the base is shared, not copied"
        );
    }
}
