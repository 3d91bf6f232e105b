//! v7 compression: whole-section blocks for metadata, chunk streams for CPU data. zstd and
//! zlib (the zlib format of `compress2`, not raw deflate).

use super::bytes::Reader;
use crate::ImportError;
use std::io::Read;

/// A compression algorithm a v7 file can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Zstd,
    Zlib,
}

/// Decompressed data is at most this many times its compressed size before a size field is
/// believed for pre-allocation; beyond that the output grows as it is produced.
const TRUSTED_RATIO: usize = 16;

impl Compression {
    pub fn from_name(name: &str) -> Option<Compression> {
        match name {
            "zstd" => Some(Compression::Zstd),
            "zlib" => Some(Compression::Zlib),
            _ => None,
        }
    }

    /// Decompresses one block that should expand to exactly `expected` bytes, appending to
    /// `out`. The `expected` size only bounds the output; it is not trusted for allocation.
    pub fn decompress_into(
        self,
        block: &[u8],
        expected: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let start = out.len();
        let hint = usize::try_from(expected)
            .unwrap_or(usize::MAX)
            .min(block.len().saturating_mul(TRUSTED_RATIO));
        out.reserve(hint);
        // One byte more than expected, so that too much data is noticed.
        let limit = expected.saturating_add(1);
        let res = match self {
            Compression::Zstd => zstd::stream::read::Decoder::with_buffer(block)
                .map_err(|e| e.to_string())?
                .take(limit)
                .read_to_end(out),
            Compression::Zlib => flate2::read::ZlibDecoder::new(block)
                .take(limit)
                .read_to_end(out),
        };
        let got = res.map_err(|e| format!("{self:?} data damaged: {e}"))?;
        if got as u64 != expected {
            out.truncate(start);
            return Err(format!(
                "{self:?} block expands to {got}{} bytes, header says {expected}",
                if got as u64 > expected { "+" } else { "" }
            ));
        }
        Ok(())
    }
}

/// A compressed metadata section body: u32 compressed size, u32 uncompressed size, data.
pub fn section_block(comp: Compression, r: &mut Reader<'_>) -> Result<Vec<u8>, ImportError> {
    let csize = r.u32("compressed size")?;
    let expected = r.u32("uncompressed size")?;
    let at = r.pos();
    let block = r.bytes(u64::from(csize), "compressed data")?;
    let mut out = Vec::new();
    comp.decompress_into(block, u64::from(expected), &mut out)
        .map_err(|e| r.origin.error(at, &e))?;
    Ok(out)
}

/// Where CPU data decompression stopped early, and why.
#[derive(Debug)]
pub struct ChunkDamage {
    /// File offset of the damaged chunk (or of the chunk count).
    pub at: u64,
    pub error: ImportError,
}

/// Decompresses a CPU's chunk stream (u32 count, then per chunk u32 compressed size, u32
/// uncompressed size, data). The chunks before a damaged one are kept.
pub fn cpu_chunks(comp: Compression, r: &mut Reader<'_>) -> (Vec<u8>, Option<ChunkDamage>) {
    let mut out = Vec::new();
    let damage = read_chunks(comp, r, &mut out).err();
    (out, damage)
}

fn read_chunks(
    comp: Compression,
    r: &mut Reader<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ChunkDamage> {
    let base = r.origin.file_offset;
    let damage = |at: usize, error| ChunkDamage {
        at: base + at as u64,
        error,
    };
    let count = r.u32("chunk count").map_err(|e| damage(0, e))?;
    for i in 0..count {
        let at = r.pos();
        let csize = r.u32("chunk compressed size").map_err(|e| damage(at, e))?;
        let expected = r
            .u32("chunk uncompressed size")
            .map_err(|e| damage(at, e))?;
        let block = r
            .bytes(u64::from(csize), "chunk data")
            .map_err(|e| damage(at, e))?;
        comp.decompress_into(block, u64::from(expected), out)
            .map_err(|e| {
                damage(
                    at,
                    r.origin.error(at, &format!("chunk {i} of {count}: {e}")),
                )
            })?;
    }
    Ok(())
}
