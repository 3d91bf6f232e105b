//! A bounds-checked, endian-aware cursor over one region of a trace.dat file. Every read is
//! checked against the bytes available; errors name the region and the file offset.

use crate::ImportError;
use trace_model::Location;

/// Byte order of all numbers after the initial header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    pub fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }
    pub fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }
    pub fn u64(self, b: [u8; 8]) -> u64 {
        match self {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        }
    }

    /// An unsigned number of 1, 2, 4 or 8 bytes at `off` of `data`, or `None` if out of
    /// bounds or of another size.
    pub fn uint(self, data: &[u8], off: usize, size: usize) -> Option<u64> {
        let b = data.get(off..off.checked_add(size)?)?;
        Some(match size {
            1 => u64::from(b[0]),
            2 => u64::from(self.u16(b.try_into().ok()?)),
            4 => u64::from(self.u32(b.try_into().ok()?)),
            8 => self.u64(b.try_into().ok()?),
            _ => return None,
        })
    }
}

/// Where a region's bytes come from, for error messages.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    /// File offset of the region start (of the section, when it was decompressed).
    pub file_offset: u64,
    /// What the region holds ("options", "kallsyms", "cpu 2 data", ...).
    pub what: &'static str,
    /// Offsets inside the region are offsets into decompressed data, not into the file.
    pub decompressed: bool,
}

impl Origin {
    /// A region at `file_offset` of the file itself.
    pub fn file(file_offset: u64, what: &'static str) -> Origin {
        Origin {
            file_offset,
            what,
            decompressed: false,
        }
    }

    /// Where `pos` bytes into the region is in the file: decompressed data has no file
    /// position of its own, so it names its section's.
    pub fn location(&self, pos: usize) -> Location {
        match self.decompressed {
            true => Location::Byte(self.file_offset),
            false => Location::Byte(self.file_offset + pos as u64),
        }
    }

    /// The error for a problem at `pos` bytes into the region.
    pub fn error(&self, pos: usize, problem: &str) -> ImportError {
        let what = match self.decompressed {
            true => format!(
                "trace.dat {} section: {problem} (at byte {pos} of its decompressed data)",
                self.what
            ),
            false => format!("trace.dat {}: {problem}", self.what),
        };
        ImportError::malformed(self.location(pos), what)
    }
}

/// A cursor over one region.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    pub endian: Endian,
    pub origin: Origin,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], endian: Endian, origin: Origin) -> Reader<'a> {
        Reader {
            data,
            pos: 0,
            endian,
            origin,
        }
    }

    /// Offset into the region.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes read so far.
    pub fn consumed(&self) -> &'a [u8] {
        &self.data[..self.pos]
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The error for a problem at the current position.
    pub fn error(&self, problem: &str) -> ImportError {
        self.origin.error(self.pos, problem)
    }

    /// Moves to `pos` of the region.
    pub fn seek(&mut self, pos: u64) -> Result<(), ImportError> {
        match usize::try_from(pos) {
            Ok(p) if p <= self.data.len() => {
                self.pos = p;
                Ok(())
            }
            // Named at the end of the data: where a truncated file stops.
            _ => Err(self.origin.error(
                self.data.len(),
                &format!("data ends here, before offset {pos} that the file points to"),
            )),
        }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: u64, what: &str) -> Result<&'a [u8], ImportError> {
        let avail = self.remaining();
        match usize::try_from(n) {
            Ok(n) if n <= avail => {
                let b = &self.data[self.pos..self.pos + n];
                self.pos += n;
                Ok(b)
            }
            _ => Err(self.error(&format!("{what}: needs {n} bytes, only {avail} left"))),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ImportError> {
        let b = self.bytes(N as u64, what)?;
        Ok(b.try_into().expect("bytes() returned N bytes"))
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, ImportError> {
        Ok(self.array::<1>(what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> Result<u16, ImportError> {
        Ok(self.endian.u16(self.array(what)?))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32, ImportError> {
        Ok(self.endian.u32(self.array(what)?))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, ImportError> {
        Ok(self.endian.u64(self.array(what)?))
    }

    /// A NUL-terminated string (without the NUL).
    pub fn cstr(&mut self, what: &str) -> Result<&'a [u8], ImportError> {
        let rest = &self.data[self.pos..];
        let Some(len) = memchr::memchr(0, rest) else {
            return Err(self.error(&format!("{what}: string without terminating NUL")));
        };
        self.pos += len + 1;
        Ok(&rest[..len])
    }

    /// A NUL-terminated string as text (lossy: the names are ASCII in practice).
    pub fn cstring(&mut self, what: &str) -> Result<String, ImportError> {
        Ok(String::from_utf8_lossy(self.cstr(what)?).into_owned())
    }

    /// A u32 size followed by that many bytes.
    pub fn sized32(&mut self, what: &str) -> Result<&'a [u8], ImportError> {
        let n = self.u32(what)?;
        self.bytes(u64::from(n), what)
    }

    /// A u64 size followed by that many bytes.
    pub fn sized64(&mut self, what: &str) -> Result<&'a [u8], ImportError> {
        let n = self.u64(what)?;
        self.bytes(n, what)
    }

    /// Expects the exact bytes `tag`.
    pub fn expect(&mut self, tag: &[u8], what: &str) -> Result<(), ImportError> {
        let at = self.pos;
        let got = self.bytes(tag.len() as u64, what)?;
        if got != tag {
            return Err(self.origin.error(
                at,
                &format!("expected {:?}, found {:?}", lossy(tag), lossy(got)),
            ));
        }
        Ok(())
    }
}

/// Text of a file region (trailing NULs dropped; invalid UTF-8 replaced).
pub fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    let b = &b[..b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1)];
    // The strict check validates ASCII a word at a time; the lossy one goes byte by byte,
    // which costs ~40 M instructions on a 4 MB kallsyms section.
    match std::str::from_utf8(b) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(b),
    }
}
