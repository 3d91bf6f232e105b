//! `/proc/kallsyms` text (`ffffffff81000000 T _stext`, module lines `... t f\t[mod]`): the
//! kallsyms section of trace.dat and the `--kallsyms FILE` sidecar use the same format.

use trace_model::report::{ImportReport, Location};
use trace_model::strings::{Interner, StrId};
use trace_model::symbols::{Symbol, SymbolKind, SymbolTable};

/// Parses kallsyms text. Lines that are not `address type name [module]` are counted in
/// `report` and skipped.
pub fn parse(text: &str, strings: &mut Interner, report: &mut ImportReport) -> SymbolTable {
    // One symbol per line, its name (a part of the line) interned: size the tables once.
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    strings.reserve(lines, text.len());
    let mut symbols = Vec::with_capacity(lines);
    for (n, line) in text.lines().enumerate() {
        // kallsyms is ASCII: the byte-wise split is several times faster than the
        // Unicode one, which a line with other characters still gets.
        let parts: &mut dyn Iterator<Item = &str> = if line.is_ascii() {
            &mut line.split_ascii_whitespace()
        } else {
            &mut line.split_whitespace()
        };
        let mut parts = parts.peekable();
        if parts.peek().is_none() {
            continue;
        }
        match parse_line(parts, strings) {
            Some(s) => symbols.push(s),
            None => report.unparsed(
                "kallsyms: not `address type name`",
                Location::Line(n as u64 + 1),
            ),
        }
    }
    SymbolTable::new(symbols)
}

fn parse_line<'a>(
    mut parts: impl Iterator<Item = &'a str>,
    strings: &mut Interner,
) -> Option<Symbol> {
    let addr = u64::from_str_radix(parts.next()?, 16).ok()?;
    let kind = parts.next()?;
    let mut kind_chars = kind.chars();
    let letter = kind_chars.next()?;
    if kind_chars.next().is_some() {
        return None;
    }
    let name = parts.next()?;
    let module = match parts.next() {
        Some(m) => strings.intern(m.trim_start_matches('[').trim_end_matches(']')),
        None => StrId::EMPTY,
    };
    Some(Symbol {
        addr,
        name: strings.intern(name),
        kind: SymbolKind::from_letter(letter),
        module,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_core_and_module_lines_and_counts_bad_ones() {
        let text =
            "ffffffff81000000 T _stext\nffffffffc023a724 b lab_s1_lock\t[ctxlab]\nnonsense\n";
        let mut strings = Interner::default();
        let mut report = ImportReport::default();
        let t = parse(text, &mut strings, &mut report);
        assert_eq!(t.len(), 2);
        let s = t.exact(0xffffffffc023a724).unwrap();
        assert_eq!(strings.resolve(s.name), "lab_s1_lock");
        assert_eq!(strings.resolve(s.module), "ctxlab");
        assert_eq!(s.kind, SymbolKind::Data);
        assert_eq!(report.unparsed_total(), 1);
    }
}
