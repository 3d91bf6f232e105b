//! Event format files (`events/<system>/<event>/format`) and the `header_page` text: field
//! layouts, and from the print fmt the flag table of `sched_switch`'s `prev_state`.

use trace_model::payload::TaskState;
use trace_model::report::Location;

/// How a field's bytes are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// An integer of `size` bytes.
    Int,
    /// A pointer-typed field (`void *`, `const char *`): printed in hex.
    Pointer,
    /// A fixed `char name[N]` (or `char name[]` to the end of the record): text.
    CharArray,
    /// Another fixed array (`unsigned long args[6]`).
    Array,
    /// `__data_loc`: u32 with offset (low 16 bits, from the record start) and length.
    DataLoc,
    /// `__rel_loc`: like DataLoc, offset relative to the end of the field.
    RelLoc,
}

/// One field of an event record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The C type as declared (`unsigned long`, `char[]`).
    pub ctype: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
    pub kind: FieldKind,
}

/// One event's format.
#[derive(Clone, Debug, Default)]
pub struct EventFormat {
    pub system: String,
    pub name: String,
    pub id: u32,
    /// `common_*` fields.
    pub common: Vec<Field>,
    /// The event's own fields.
    pub fields: Vec<Field>,
    pub print_fmt: String,
}

impl EventFormat {
    /// The event field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The common field called `name` (`common_flags`).
    pub fn common_field(&self, name: &str) -> Option<&Field> {
        self.common.iter().find(|f| f.name == name)
    }
}

/// An event's format text with its name and id; the fields are parsed on first use (a
/// trace.dat carries the format of every event the kernel has, ~1 300, and its records
/// use a few dozen: parsing all of them cost as much as 100 k records).
#[derive(Clone, Debug)]
pub struct FormatSource {
    pub system: String,
    pub name: String,
    pub id: u32,
    pub text: String,
    /// Where the text is in the file.
    pub at: Location,
}

impl FormatSource {
    /// Reads the `name:` and `ID:` lines that head a format. `None` when either is missing
    /// (not a format).
    pub fn new(system: &str, text: &str, at: Location) -> Option<FormatSource> {
        let (mut name, mut id) = (None, None);
        for line in text.lines() {
            let t = line.trim();
            if let Some(n) = t.strip_prefix("name:") {
                name = Some(n.trim());
            } else if let Some(i) = t.strip_prefix("ID:") {
                id = Some(i.trim().parse().ok()?);
            } else if t.starts_with("field:") {
                break;
            }
            if name.is_some() && id.is_some() {
                break;
            }
        }
        Some(FormatSource {
            system: system.to_owned(),
            name: name.filter(|n| !n.is_empty())?.to_owned(),
            id: id?,
            text: text.to_owned(),
            at,
        })
    }

    /// The whole format. `None` when a field line does not parse.
    pub fn parse(&self) -> Option<EventFormat> {
        parse(&self.system, &self.text)
    }
}

/// Parses a format file. `None` when it has no `name:` / `ID:` (not a format) or a field
/// line does not parse.
pub fn parse(system: &str, text: &str) -> Option<EventFormat> {
    let mut ev = EventFormat {
        system: system.to_owned(),
        ..EventFormat::default()
    };
    let mut have_id = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("name:") {
            ev.name = name.trim().to_owned();
        } else if let Some(id) = t.strip_prefix("ID:") {
            ev.id = id.trim().parse().ok()?;
            have_id = true;
        } else if let Some(fmt) = t.strip_prefix("print fmt:") {
            ev.print_fmt = fmt.trim().to_owned();
        } else if t.starts_with("field:") {
            let f = parse_field(t)?;
            if f.name.starts_with("common_") {
                ev.common.push(f);
            } else {
                ev.fields.push(f);
            }
        }
    }
    (have_id && !ev.name.is_empty()).then_some(ev)
}

/// `field:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;`
pub fn parse_field(line: &str) -> Option<Field> {
    let mut decl = "";
    let (mut offset, mut size, mut signed) = (None, None, false);
    for part in line.split(';') {
        let part = part.trim();
        if let Some(d) = part.strip_prefix("field:") {
            decl = d.trim();
        } else if let Some(v) = part.strip_prefix("offset:") {
            offset = v.trim().parse().ok();
        } else if let Some(v) = part.strip_prefix("size:") {
            size = v.trim().parse().ok();
        } else if let Some(v) = part.strip_prefix("signed:") {
            signed = v.trim() == "1";
        }
    }
    let (ctype, name, array) = split_decl(decl)?;
    let kind = if ctype.starts_with("__data_loc") {
        FieldKind::DataLoc
    } else if ctype.starts_with("__rel_loc") {
        FieldKind::RelLoc
    } else if array {
        if ctype.ends_with("char") {
            FieldKind::CharArray
        } else {
            FieldKind::Array
        }
    } else if ctype.contains('*') {
        FieldKind::Pointer
    } else {
        FieldKind::Int
    };
    Some(Field {
        name: name.to_owned(),
        ctype: ctype.to_owned(),
        offset: offset?,
        size: size?,
        signed,
        kind,
    })
}

/// Splits `char prev_comm[16]` into (`char`, `prev_comm`, is-array) and
/// `__data_loc char[] name` into (`__data_loc char[]`, `name`, false).
fn split_decl(decl: &str) -> Option<(&str, &str, bool)> {
    let dynamic = decl.starts_with("__data_loc") || decl.starts_with("__rel_loc");
    let (decl, array) = match decl.strip_suffix(']') {
        Some(_) if !dynamic => (decl[..decl.rfind('[')?].trim_end(), true),
        _ => (decl, false),
    };
    let ctype = decl.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let name = &decl[ctype.len()..];
    let ctype = ctype.trim();
    (!name.is_empty()).then_some((ctype, name, array))
}

/// Where the ring-buffer page header puts its fields (from the `header_page` text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageHeader {
    pub commit_offset: usize,
    /// The kernel's long size.
    pub commit_size: usize,
    pub data_offset: usize,
    /// The `data` field's size: the page size is `data_offset + data_size`.
    pub data_size: Option<usize>,
}

impl PageHeader {
    /// Parses `header_page`; falls back to the layout for `long_size` when a field is missing.
    pub fn parse(text: &str, long_size: usize) -> PageHeader {
        let mut h = PageHeader {
            commit_offset: 8,
            commit_size: long_size,
            data_offset: 8 + long_size,
            data_size: None,
        };
        for f in text.lines().filter_map(|l| parse_field(l.trim())) {
            match f.name.as_str() {
                "commit" => {
                    h.commit_offset = f.offset;
                    h.commit_size = f.size;
                }
                "data" => {
                    h.data_offset = f.offset;
                    h.data_size = Some(f.size);
                }
                _ => {}
            }
        }
        h
    }
}

/// How `sched_switch` prints `prev_state`: `__print_flags(prev_state & mask, "|", {bit,
/// "L"}...)`, `R` when nothing is set, and `+` when `prev_state & preempted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateTable {
    pub mask: u64,
    pub flags: Vec<(u64, u16)>,
    pub preempted: u64,
}

impl StateTable {
    /// The table kernels >= 4.15 print (`S D T t X Z P I`, `+` = 0x100).
    pub fn modern() -> StateTable {
        let flags = "SDTtXZPI"
            .chars()
            .enumerate()
            .map(|(i, c)| (1u64 << i, TaskState::parse(&c.to_string()).0))
            .collect();
        StateTable {
            mask: 0xff,
            flags,
            preempted: 0x100,
        }
    }

    /// Reads the table from a print fmt; `None` if it does not have the expected shape.
    pub fn from_print_fmt(fmt: &str) -> Option<StateTable> {
        const FLAGS: &str = "__print_flags(REC->prev_state & ";
        let start = fmt.find(FLAGS)? + FLAGS.len();
        let rest = &fmt[start..];
        let mask_end = rest.find(", \"|\"")?;
        let mask = eval(&rest[..mask_end])?;
        let mut flags = Vec::new();
        let mut table = &rest[mask_end..];
        let table_end = table.find(')')?;
        table = &table[..table_end];
        for entry in table.split('{').skip(1) {
            let (value, letter) = entry.split_once(',')?;
            let letter = letter
                .trim()
                .trim_end_matches(['}', ' ', ','])
                .trim_matches('"');
            flags.push((eval(value)?, TaskState::parse(letter).0));
        }
        let plus = fmt.find("? \"+\"")?;
        let amp = fmt[..plus].rfind("REC->prev_state &")? + "REC->prev_state &".len();
        let preempted = eval(&fmt[amp..plus])?;
        Some(StateTable {
            mask,
            flags,
            preempted,
        })
    }

    /// The model's task state for a raw `prev_state`.
    pub fn decode(&self, raw: u64) -> TaskState {
        let mut bits = 0u16;
        let shown = raw & self.mask;
        let mut rest = shown;
        for &(value, state) in &self.flags {
            if shown & value == value && value != 0 {
                bits |= state;
                rest &= !value;
            }
        }
        if rest != 0 {
            bits |= TaskState::UNKNOWN;
        }
        if raw & self.preempted != 0 {
            bits |= TaskState::PREEMPTED;
        }
        TaskState(bits)
    }
}

/// Evaluates a constant integer C expression of the print fmts: numbers, `( ) | & + - << >>`.
pub fn eval(expr: &str) -> Option<u64> {
    let tokens = tokenize(expr)?;
    let mut p = Parser { tokens, pos: 0 };
    let v = p.binary(0)?;
    (p.pos == p.tokens.len()).then_some(v)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Num(u64),
    Op(&'static str),
    Open,
    Close,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    const OPS: [&str; 7] = ["<<", ">>", "|", "&", "+", "-", "*"];
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == b')' {
            out.push(Tok::Close);
            i += 1;
        } else if c.is_ascii_digit() {
            let end = b[i..]
                .iter()
                .position(|c| !c.is_ascii_alphanumeric())
                .map_or(b.len(), |n| i + n);
            let lit = s[i..end].trim_end_matches(['U', 'L', 'u', 'l']);
            let v = match lit.strip_prefix("0x").or(lit.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok()?,
                None => lit.parse().ok()?,
            };
            out.push(Tok::Num(v));
            i = end;
        } else {
            let op = OPS.iter().find(|op| s[i..].starts_with(**op))?;
            out.push(Tok::Op(op));
            i += op.len();
        }
    }
    Some(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn precedence(op: &str) -> u8 {
        match op {
            "|" => 1,
            "&" => 2,
            "<<" | ">>" => 3,
            "+" | "-" => 4,
            _ => 5,
        }
    }

    /// Precedence climbing over the binary operators.
    fn binary(&mut self, min: u8) -> Option<u64> {
        let mut lhs = self.atom()?;
        while let Some(&Tok::Op(op)) = self.tokens.get(self.pos) {
            let prec = Self::precedence(op);
            if prec < min {
                break;
            }
            self.pos += 1;
            let rhs = self.binary(prec + 1)?;
            lhs = match op {
                "|" => lhs | rhs,
                "&" => lhs & rhs,
                "<<" => lhs.checked_shl(u32::try_from(rhs).ok()?)?,
                ">>" => lhs.checked_shr(u32::try_from(rhs).ok()?)?,
                "+" => lhs.wrapping_add(rhs),
                "-" => lhs.wrapping_sub(rhs),
                _ => lhs.wrapping_mul(rhs),
            };
        }
        Some(lhs)
    }

    fn atom(&mut self) -> Option<u64> {
        let t = *self.tokens.get(self.pos)?;
        self.pos += 1;
        match t {
            Tok::Num(v) => Some(v),
            Tok::Open => {
                let v = self.binary(0)?;
                (self.tokens.get(self.pos) == Some(&Tok::Close)).then(|| self.pos += 1)?;
                Some(v)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_reads_name_and_id_and_leaves_the_fields_for_later() {
        let at = Location::Byte(7);
        let text = "name: wake\nID: 9\nformat:\n\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;\n";
        let src = FormatSource::new("sched", text, at).expect("a format");
        assert_eq!((src.name.as_str(), src.id, src.at), ("wake", 9, at));
        assert_eq!(src.parse().expect("fields parse").fields[0].offset, 8);
        // A bad field line spoils only the later parse.
        let bad = text.replace("offset:8", "offset:x");
        assert!(
            FormatSource::new("sched", &bad, at)
                .expect("header")
                .parse()
                .is_none()
        );
        for not_a_format in [
            "ID: 9\n",
            "name: wake\n",
            "name:\nID: 9\n",
            "name: w\nID: x\n",
        ] {
            assert!(
                FormatSource::new("s", not_a_format, at).is_none(),
                "{not_a_format:?}"
            );
        }
    }

    const SWITCH_6_1: &str = r#""prev_comm=%s prev_state=%s%s", REC->prev_comm, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, { 0x00000008, "t" }, { 0x00000010, "X" }, { 0x00000020, "Z" }, { 0x00000040, "P" }, { 0x00000080, "I" }) : "R", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? "+" : "", REC->next_comm"#;
    const SWITCH_4_4: &str = r#""prev_state=%s%s", REC->prev_state & (1024-1) ? __print_flags(REC->prev_state & (1024-1), "|", { 1, "S"} , { 2, "D" }, { 4, "T" }, { 8, "t" }, { 16, "Z" }, { 32, "X" }, { 64, "x" }, { 128, "K" }, { 256, "W" }, { 512, "P" }) : "R", REC->prev_state & 1024 ? "+" : "", REC->next_comm"#;

    #[test]
    fn state_tables_of_two_kernel_generations() {
        let t = StateTable::from_print_fmt(SWITCH_6_1).unwrap();
        assert_eq!(t, StateTable::modern());
        assert_eq!(t.decode(0x100).letters(), "R+");
        assert_eq!(t.decode(0x02).letters(), "D");
        let old = StateTable::from_print_fmt(SWITCH_4_4).unwrap();
        assert_eq!((old.mask, old.preempted), (1023, 1024));
        assert_eq!(old.decode(64), TaskState::parse("x"));
        assert_eq!(old.decode(128 | 1), TaskState::parse("S|K"));
    }

    #[test]
    fn field_declarations() {
        let f = parse_field("field:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;").unwrap();
        assert_eq!(
            (f.name.as_str(), f.kind, f.size),
            ("prev_comm", FieldKind::CharArray, 16)
        );
        let f =
            parse_field("field:__data_loc char[] name;\toffset:12;\tsize:4;\tsigned:0;").unwrap();
        assert_eq!((f.name.as_str(), f.kind), ("name", FieldKind::DataLoc));
        let f = parse_field("field:const char * fmt;\toffset:16;\tsize:8;\tsigned:0;").unwrap();
        assert_eq!((f.name.as_str(), f.kind), ("fmt", FieldKind::Pointer));
        let f = parse_field("field:u32 buf[];\toffset:24;\tsize:0;\tsigned:0;").unwrap();
        assert_eq!((f.name.as_str(), f.kind), ("buf", FieldKind::Array));
        let f = parse_field("field:int common_pid;\toffset:4;\tsize:4;\tsigned:1;").unwrap();
        assert!(f.signed && f.kind == FieldKind::Int);
        assert_eq!(eval("(1 << 3) | 2 - 1"), Some(9));
    }
}
