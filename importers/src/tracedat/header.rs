//! The initial header both versions share: magic, version, byte order, long size, page
//! size, and in v7 the compression algorithm and the offset of the first options section.

use super::bytes::{Endian, Origin, Reader, lossy};
use super::compress::Compression;
use crate::ImportError;

pub const MAGIC: &[u8] = b"\x17\x08\x44tracing";

/// The initial header.
#[derive(Clone, Debug)]
pub struct Header {
    pub version: u32,
    pub endian: Endian,
    /// Long size of the recording user space (the kernel's is in header_page).
    pub long_size: u8,
    pub page_size: u32,
    /// v7: the file's compression, `None` when uncompressed.
    pub compression: Option<Compression>,
    /// The compression as the file names it (`zstd 1.5.4`, `none`).
    pub compression_name: String,
    /// v7: file offset of the first options section.
    pub first_options: u64,
    /// Where the body (v6 header_page, v7 first section) starts.
    pub body: usize,
}

/// Parses the initial header.
pub fn parse(bytes: &[u8]) -> Result<Header, ImportError> {
    let mut r = Reader::new(bytes, Endian::Little, Origin::file(0, "initial header"));
    r.expect(MAGIC, "magic")?;
    let version_at = r.pos();
    let version_text = lossy(r.cstr("version")?).into_owned();
    let version: u32 = version_text.parse().map_err(|_| {
        r.origin.error(
            version_at,
            &format!("version {version_text:?} is not a number"),
        )
    })?;
    if !(6..=7).contains(&version) {
        return Err(r.origin.error(
            version_at,
            &format!("file version {version} (only 6 and 7 exist)"),
        ));
    }
    let endian = match r.u8("endianness")? {
        0 => Endian::Little,
        1 => Endian::Big,
        e => return Err(r.error(&format!("endianness byte {e} (0 or 1 expected)"))),
    };
    r.endian = endian;
    let long_size = r.u8("long size")?;
    if long_size != 4 && long_size != 8 {
        return Err(r.error(&format!("long size {long_size} (4 or 8 expected)")));
    }
    let page_size = r.u32("page size")?;
    if !super::page::valid_page_size(u64::from(page_size)) {
        return Err(r.error(&format!(
            "page size {page_size} is not a power of two from 64 to {}",
            super::page::MAX_PAGE_SIZE
        )));
    }
    let mut header = Header {
        version,
        endian,
        long_size,
        page_size,
        compression: None,
        compression_name: "none".into(),
        first_options: 0,
        body: r.pos(),
    };
    if version >= 7 {
        let name_at = r.pos();
        let name = r.cstring("compression name")?;
        let comp_version = r.cstring("compression version")?;
        header.compression = match name.as_str() {
            "none" => None,
            other => Some(Compression::from_name(other).ok_or_else(|| {
                r.origin
                    .error(name_at, &format!("unknown compression {other:?}"))
            })?),
        };
        header.compression_name = if comp_version.is_empty() {
            name
        } else {
            format!("{name} {comp_version}")
        };
        header.first_options = r.u64("offset of the first options section")?;
        header.body = r.pos();
    }
    Ok(header)
}
