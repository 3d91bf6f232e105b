//! Kernel symbols (kallsyms): address -> name, for function-tracer ips, kprobe locations and
//! lock addresses. From a trace.dat's kallsyms section or a `--kallsyms` sidecar file.

use crate::strings::{Interner, StrId};

/// What kind of symbol (the `nm` type letter of /proc/kallsyms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// `t` / `T`: code.
    Text,
    /// `d` `D` `b` `B` `r` `R`: data (static locks live here).
    Data,
    Other,
}

impl SymbolKind {
    /// From the kallsyms type letter.
    pub fn from_letter(c: char) -> SymbolKind {
        match c.to_ascii_lowercase() {
            't' | 'w' => SymbolKind::Text,
            'd' | 'b' | 'r' | 'g' | 's' => SymbolKind::Data,
            _ => SymbolKind::Other,
        }
    }
}

/// One symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub addr: u64,
    pub name: StrId,
    pub kind: SymbolKind,
    /// Module name (`ctxlab`), or EMPTY for the core kernel.
    pub module: StrId,
}

/// Symbols sorted by address.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    symbols: Vec<Symbol>,
}

impl SymbolTable {
    /// A table from symbols in any order.
    pub fn new(mut symbols: Vec<Symbol>) -> SymbolTable {
        symbols.sort_by_key(|s| s.addr);
        SymbolTable { symbols }
    }

    /// Adds the symbols of a table whose names live in the same interner (a second sidecar).
    pub fn append(&mut self, other: SymbolTable) {
        self.symbols.extend(other.symbols);
        self.symbols.sort_by_key(|s| s.addr);
    }

    /// Adds symbols from another table (a sidecar over the trace's own).
    pub fn extend(&mut self, other: &SymbolTable, from: &Interner, to: &mut Interner) {
        self.symbols.extend(other.symbols.iter().map(|s| Symbol {
            name: to.intern(from.resolve(s.name)),
            module: to.intern(from.resolve(s.module)),
            ..*s
        }));
        self.symbols.sort_by_key(|s| s.addr);
    }

    /// Every symbol, by address.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The symbol at exactly `addr` (a static lock object, a function start).
    pub fn exact(&self, addr: u64) -> Option<&Symbol> {
        let i = self.symbols.partition_point(|s| s.addr < addr);
        self.symbols.get(i).filter(|s| s.addr == addr)
    }

    /// The symbol containing `addr` and the offset into it (nearest symbol at or below).
    /// A null address is in none: the per-CPU symbols kallsyms lists from 0 are offsets,
    /// and a zero parent ip or lock address would otherwise be named after one of them.
    pub fn containing(&self, addr: u64) -> Option<(&Symbol, u64)> {
        if addr == 0 {
            return None;
        }
        let i = self.symbols.partition_point(|s| s.addr <= addr);
        let s = self.symbols.get(i.checked_sub(1)?)?;
        Some((s, addr - s.addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let mut strings = Interner::default();
        let sym = |addr, name: &str, strings: &mut Interner| Symbol {
            addr,
            name: strings.intern(name),
            kind: SymbolKind::Data,
            module: StrId::EMPTY,
        };
        let t = SymbolTable::new(vec![
            sym(0x200, "b", &mut strings),
            sym(0x100, "a", &mut strings),
            sym(0, "fixed_percpu_data", &mut strings),
        ]);
        assert_eq!(t.exact(0x100).map(|s| strings.resolve(s.name)), Some("a"));
        assert!(t.exact(0x101).is_none());
        let (s, off) = t.containing(0x210).unwrap();
        assert_eq!((strings.resolve(s.name), off), ("b", 0x10));
        // kallsyms lists per-CPU symbols from 0: none of them names a null address.
        assert!(t.containing(0).is_none());
        assert!(t.containing(0x50).is_some());
    }
}
