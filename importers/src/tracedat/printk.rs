//! `printk_formats` (`0xffffffff81e4c5b8 : "fmt\n"`) and a best-effort rendering of
//! `bprint` records: the format string and the binary argument buffer of `vbin_printf`.

use rustc_hash::FxHashMap;
use std::fmt::Write as _;

/// Format strings by address.
#[derive(Debug, Default)]
pub struct PrintkFormats {
    by_addr: FxHashMap<u64, String>,
}

impl PrintkFormats {
    pub fn parse(text: &str) -> PrintkFormats {
        let mut by_addr = FxHashMap::default();
        for line in text.lines() {
            let Some((addr, fmt)) = line.split_once(" : ") else {
                continue;
            };
            let addr = addr.trim().trim_start_matches("0x");
            if let Ok(addr) = u64::from_str_radix(addr, 16) {
                by_addr.insert(addr, unescape(fmt.trim().trim_matches('"')));
            }
        }
        PrintkFormats { by_addr }
    }

    pub fn get(&self, addr: u64) -> Option<&str> {
        self.by_addr.get(&addr).map(String::as_str)
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Renders `fmt` with arguments packed as `vbin_printf` packs them: each integer aligned
/// to its size, strings inline and NUL-terminated, padded to 4 bytes. `long_size` is the
/// kernel's. Unsupported conversions print as `?`.
pub fn render(fmt: &str, args: &[u8], long_size: usize, le: bool, out: &mut String) {
    let mut pos = 0usize;
    let mut rest = fmt;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        // flags, width, precision, length, conversion
        let spec_len = rest
            .find(|c: char| c.is_ascii_alphabetic() && !matches!(c, 'l' | 'h' | 'z' | 'j' | 't'))
            .map_or(rest.len(), |n| n + 1);
        let spec = &rest[..spec_len];
        rest = &rest[spec_len..];
        let conv = spec.chars().last().unwrap_or('?');
        let longs = spec.matches('l').count();
        let size = match (conv, longs) {
            ('p', _) => long_size,
            (_, 0) if spec.contains('z') => long_size,
            (_, 0) => 4,
            (_, 1) => long_size,
            _ => 8,
        };
        if conv == 'p' {
            // %pS and friends: skip the extension letters.
            let ext = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            rest = &rest[ext..];
        }
        if conv == 's' {
            let tail = args.get(pos..).unwrap_or(&[]);
            let n = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            out.push_str(&String::from_utf8_lossy(&tail[..n]));
            pos += (n + 1 + 3) & !3;
            continue;
        }
        pos = (pos + size - 1) & !(size - 1);
        let Some(bytes) = args.get(pos..pos + size) else {
            out.push('?');
            continue;
        };
        pos += size;
        let mut raw = [0u8; 8];
        if le {
            raw[..size].copy_from_slice(bytes);
        } else {
            raw[8 - size..].copy_from_slice(bytes);
        }
        let v = if le {
            u64::from_le_bytes(raw)
        } else {
            u64::from_be_bytes(raw)
        };
        let signed = match size {
            4 => i64::from(v as u32 as i32),
            _ => v as i64,
        };
        let _ = match conv {
            'd' | 'i' => write!(out, "{signed}"),
            'u' => write!(out, "{v}"),
            'x' => write!(out, "{v:x}"),
            'X' => write!(out, "{v:X}"),
            'p' => write!(out, "0x{v:x}"),
            'c' => write!(out, "{}", char::from(v as u8)),
            _ => write!(out, "?"),
        };
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_binary_arguments() {
        let f = PrintkFormats::parse("0xc044504c : \"cpu_load: cpu: %d freq: %lu load: %u\\n\"\n");
        let fmt = f.get(0xc044504c).unwrap();
        assert!(fmt.ends_with('\n'));
        let mut args = Vec::new();
        for v in [3u32, 800000, 7] {
            args.extend_from_slice(&v.to_le_bytes());
        }
        let mut out = String::new();
        render(fmt, &args, 4, true, &mut out);
        assert_eq!(out, "cpu_load: cpu: 3 freq: 800000 load: 7\n");
        out.clear();
        // The string takes 4 bytes; the u64 is aligned to 8.
        let mut args = b"ab\0\0\0\0\0\0".to_vec();
        args.extend_from_slice(&(-2i64).to_le_bytes());
        render("%s=%lld", &args, 8, true, &mut out);
        assert_eq!(out, "ab=-2");
    }
}
