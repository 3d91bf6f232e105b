//! String interning: comms, event names, symbols and lock names are stored once and
//! referred to by a 4-byte [`StrId`].

use rustc_hash::FxHashMap;

/// Index of an interned string in an [`Interner`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(pub u32);

impl StrId {
    /// The empty string, always interned first.
    pub const EMPTY: StrId = StrId(0);
}

/// A set of unique strings, each with a stable [`StrId`].
#[derive(Clone, Debug)]
pub struct Interner {
    ids: FxHashMap<Box<str>, StrId>,
    strings: Vec<Box<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut interner = Interner {
            ids: FxHashMap::default(),
            strings: Vec::new(),
        };
        interner.intern("");
        interner
    }
}

impl Interner {
    /// Returns the id of `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> StrId {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = StrId(u32::try_from(self.strings.len()).expect("more than 4G unique strings"));
        self.strings.push(s.into());
        self.ids.insert(s.into(), id);
        id
    }

    /// The id of `s` if it was interned.
    pub fn lookup(&self, s: &str) -> Option<StrId> {
        self.ids.get(s).copied()
    }

    /// The string behind `id`.
    pub fn resolve(&self, id: StrId) -> &str {
        &self.strings[id.0 as usize]
    }

    /// Number of unique strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when only the empty string is interned.
    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }

    /// Resident bytes (string bytes plus table overhead, approximately).
    pub fn heap_bytes(&self) -> usize {
        self.strings.iter().map(|s| 2 * s.len() + 48).sum()
    }
}
