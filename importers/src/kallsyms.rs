//! `/proc/kallsyms` text (`ffffffff81000000 T _stext`, module lines `... t f\t[mod]`): the
//! kallsyms section of trace.dat and the `--kallsyms FILE` sidecar use the same format.

use trace_model::report::{ImportReport, Location};
use trace_model::strings::{Interner, StrId};
use trace_model::symbols::{Symbol, SymbolKind, SymbolTable};

/// True when the first line of `bytes` is a kallsyms symbol (`ffffffff81000000 T _stext`):
/// enough to tell a sidecar from a trace or a log, which never start that way.
pub fn looks_like_kallsyms(bytes: &[u8]) -> bool {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let Ok(text) = std::str::from_utf8(&first[..first.len().min(4096)]) else {
        return false;
    };
    let mut parts = text.split_whitespace();
    let addr_ok = parts
        .next()
        .is_some_and(|a| a.len() >= 8 && a.bytes().all(|b| b.is_ascii_hexdigit()));
    let kind_ok = parts.next().is_some_and(|k| k.len() == 1);
    addr_ok && kind_ok && parts.next().is_some()
}

/// Parses kallsyms text. Lines that are not `address type name [module]` are counted in
/// `report` and skipped.
pub fn parse(text: &str, strings: &mut Interner, report: &mut ImportReport) -> SymbolTable {
    // One symbol per line, its name (a part of the line) interned: size the tables once.
    let bytes = text.as_bytes();
    let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
    strings.reserve(lines, text.len());
    let mut symbols = Vec::with_capacity(lines);
    let mut start = 0;
    for (n, end) in memchr::memchr_iter(b'\n', bytes)
        .chain([bytes.len()])
        .enumerate()
    {
        // `\n` is ASCII, so both ends are char boundaries.
        let line = &text[start..end];
        start = end + 1;
        match parse_line(line, strings) {
            Line::Symbol(s) => symbols.push(s),
            Line::Blank => {}
            Line::Other => report.unparsed(
                "kallsyms: not `address type name`",
                Location::Line(n as u64 + 1),
            ),
        }
    }
    SymbolTable::new(symbols)
}

enum Line {
    Symbol(Symbol),
    Blank,
    Other,
}

/// `address type name [module]`, fields separated by spaces or tabs. A section holds about
/// 120 k lines, so this is one byte loop per field rather than a general splitter (which
/// cost ~900 instructions a line); kallsyms is ASCII, and cutting at ASCII bytes keeps
/// the fields valid `str`s whatever the line holds.
fn parse_line(line: &str, strings: &mut Interner) -> Line {
    let mut fields = Fields { line, at: 0 };
    let Some(address) = fields.next() else {
        return Line::Blank;
    };
    let (Some(addr), Some(&[letter]), Some(name)) = (
        parse_hex(address.as_bytes()),
        fields.next().map(str::as_bytes),
        fields.next(),
    ) else {
        return Line::Other;
    };
    let module = match fields.next() {
        Some(m) => strings.intern(m.trim_start_matches('[').trim_end_matches(']')),
        None => StrId::EMPTY,
    };
    Line::Symbol(Symbol {
        addr,
        name: strings.intern(name),
        kind: SymbolKind::from_letter(char::from(letter)),
        module,
    })
}

/// A 64-bit hexadecimal number, without prefix.
fn parse_hex(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    // One table load per digit (a range match cost ~9 instructions a digit).
    digits.iter().try_fold(0u64, |n, &c| {
        let d = HEX_VALUE[usize::from(c)];
        (d < 16).then(|| n << 4 | u64::from(d))
    })
}

/// Each byte's value as a hex digit; 0xff for bytes that are not one.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b @ b'0'..=b'9' => b - b'0',
            b @ b'a'..=b'f' => b - b'a' + 10,
            b @ b'A'..=b'F' => b - b'A' + 10,
            _ => 0xff,
        };
        c += 1;
    }
    t
};

/// The fields of a line, split at spaces, tabs and a carriage return.
struct Fields<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.line.as_bytes();
        let is_blank = |c: u8| matches!(c, b' ' | b'\t' | b'\r');
        let mut at = self.at;
        while at < bytes.len() && is_blank(bytes[at]) {
            at += 1;
        }
        let start = at;
        while at < bytes.len() && !is_blank(bytes[at]) {
            at += 1;
        }
        self.at = at;
        (start < at).then(|| &self.line[start..at])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kallsyms_is_recognised_by_content() {
        assert!(looks_like_kallsyms(
            b"ffffffffc0237000 t lab_restore_preempt_count\t[ctxlab]\n"
        ));
        assert!(!looks_like_kallsyms(b"# tracer: nop\n"));
        assert!(!looks_like_kallsyms(
            b"  <idle>-0 [001] d..2. 64.41: sched_switch: x\n"
        ));
    }

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

    #[test]
    fn fields_split_on_spaces_tabs_and_carriage_returns_only() {
        let fields = |line| Fields { line, at: 0 }.collect::<Vec<&str>>();
        assert_eq!(
            fields("  ffff t\tname \t[mod]\r"),
            ["ffff", "t", "name", "[mod]"]
        );
        assert!(fields(" \t ").is_empty());
        // Non-ASCII bytes belong to the field they are in.
        assert_eq!(fields("ff T n\u{e9}me"), ["ff", "T", "n\u{e9}me"]);
        // A multi-character type letter is not a symbol line.
        let mut report = ImportReport::default();
        let t = parse("ff TT name\n", &mut Interner::default(), &mut report);
        assert!(t.is_empty());
        assert_eq!(report.unparsed_total(), 1);
    }

    #[test]
    fn addresses_are_up_to_sixteen_hex_digits_of_either_case() {
        assert_eq!(parse_hex(b"ffffffffC023A724"), Some(0xffff_ffff_c023_a724));
        assert_eq!(parse_hex(b"0"), Some(0));
        for bad in [&b""[..], b"1ffffffffc023a724", b"0x10", b"+10", b"12g"] {
            assert_eq!(parse_hex(bad), None, "{:?}", std::str::from_utf8(bad));
        }
    }
}
