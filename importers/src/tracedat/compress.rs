//! v7 compression: whole-section blocks for metadata, chunk streams for CPU data. zstd and
//! zlib (the zlib format of `compress2`, not raw deflate).

use super::bytes::Reader;
use crate::ImportError;
use crate::source::Reread;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::thread::Scope;

/// A compression algorithm a v7 file can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Zstd,
    Zlib,
}

/// The largest block a size field may announce: allocations are bounded by these
/// constants, not by the file. trace-cmd writes chunks of 10 pages.
const MAX_CHUNK: u64 = 256 << 20;
const MAX_SECTION: u64 = 1 << 30;

impl Compression {
    pub fn from_name(name: &str) -> Option<Compression> {
        match name {
            "zstd" => Some(Compression::Zstd),
            "zlib" => Some(Compression::Zlib),
            _ => None,
        }
    }

    /// A decoder to reuse across the blocks of one stream.
    pub fn decoder(self) -> Result<BlockDecoder, String> {
        Ok(match self {
            Compression::Zstd => BlockDecoder::Zstd(
                zstd::bulk::Decompressor::new().map_err(|e| format!("zstd: {e}"))?,
            ),
            Compression::Zlib => BlockDecoder::Zlib(flate2::Decompress::new(true)),
        })
    }
}

/// A reusable decompression context (creating a zstd context per 40 KiB chunk would cost
/// more than decompressing it).
pub enum BlockDecoder {
    Zstd(zstd::bulk::Decompressor<'static>),
    Zlib(flate2::Decompress),
}

impl BlockDecoder {
    /// Decompresses one block that must expand to exactly `expected` bytes (at most
    /// `limit`), appending them to `out`.
    pub fn decompress_into(
        &mut self,
        block: &[u8],
        expected: u64,
        limit: u64,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        if expected > limit {
            return Err(format!(
                "block claims {expected} uncompressed bytes, more than the {limit} allowed"
            ));
        }
        let start = out.len();
        // Both decoders write into the spare capacity: no zero-fill of memory the block
        // overwrites anyway. A block longer than stated is caught by its length below.
        out.try_reserve(expected as usize)
            .map_err(|_| format!("no memory for the block's {expected} bytes"))?;
        let got = match self {
            BlockDecoder::Zstd(d) => {
                let mut tail = std::io::Cursor::new(std::mem::take(out));
                tail.set_position(start as u64);
                let written = d.decompress_to_buffer(block, &mut tail);
                *out = tail.into_inner();
                written.map_err(|e| format!("zstd data damaged or longer than stated: {e}"))
            }
            BlockDecoder::Zlib(z) => {
                z.reset(true);
                match z.decompress_vec(block, out, flate2::FlushDecompress::Finish) {
                    Ok(flate2::Status::StreamEnd) => Ok(out.len() - start),
                    Ok(_) => Err("zlib data truncated or longer than stated".to_owned()),
                    Err(e) => Err(format!("zlib data damaged: {e}")),
                }
            }
        };
        match got {
            Ok(n) if n as u64 == expected => Ok(()),
            Ok(n) => {
                out.truncate(start);
                Err(format!(
                    "block expands to {n} bytes, header says {expected}"
                ))
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }
}

/// A compressed metadata section body: u32 compressed size, u32 uncompressed size, data.
pub fn section_block(comp: Compression, r: &mut Reader<'_>) -> Result<Vec<u8>, ImportError> {
    let csize = r.u32("compressed size")?;
    let expected = r.u32("uncompressed size")?;
    let at = r.pos();
    let block = r.bytes(u64::from(csize), "compressed data")?;
    let mut out = Vec::new();
    comp.decoder()
        .and_then(|mut d| d.decompress_into(block, u64::from(expected), MAX_SECTION, &mut out))
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
/// uncompressed size, data) in one piece, at most [`MAX_SECTION`] bytes. The chunks before a
/// damaged one are kept.
pub fn cpu_chunks(comp: Compression, r: &mut Reader<'_>) -> (Vec<u8>, Option<ChunkDamage>) {
    let mut out = Vec::new();
    let budget = ChunkBudget::new(MAX_SECTION);
    let mut chunks = ChunkReader::new(comp, r.clone(), None, &budget);
    chunks.held_copies = 0;
    let damage = loop {
        let before = out.len() as u64;
        match chunks.next_into(&mut out) {
            Ok(true) => {
                // Every chunk stays: charge each one.
                if !budget.take(out.len() as u64 - before) {
                    out.truncate(before as usize);
                    let at = chunks.r.origin.file_offset;
                    let what = format!("decompresses to more than {MAX_SECTION} bytes");
                    break Some(ChunkDamage {
                        at,
                        error: chunks.r.origin.error(0, &what),
                    });
                }
            }
            Ok(false) => break None,
            Err(d) => break Some(d),
        }
    };
    (out, damage)
}

/// The decompressed chunk bytes the CPU streams of one import may hold at once: each
/// stream holds a few of its chunks (decompressing, queued, in its page window), and a
/// file with thousands of streams of bomb chunks would otherwise claim terabytes.
pub struct ChunkBudget {
    left: AtomicU64,
}

impl ChunkBudget {
    /// What one import may hold: far above real files (4 CPUs of 40 KiB chunks hold under
    /// 1 MiB; 256 CPUs of 4 MiB sub-buffer chunks, 5 GiB, would not fit).
    pub const IMPORT: u64 = 1 << 30;

    pub fn new(bytes: u64) -> ChunkBudget {
        ChunkBudget {
            left: AtomicU64::new(bytes),
        }
    }

    /// Takes `n` bytes: false (and nothing taken) when fewer are left.
    fn take(&self, n: u64) -> bool {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(n))
            .is_ok()
    }

    fn give(&self, n: u64) {
        self.left.fetch_add(n, Ordering::Relaxed);
    }
}

/// A CPU's chunk stream read one chunk at a time, so the reader of its pages only ever
/// holds a chunk or two in a reused buffer (a whole stream is tens of MB that would be
/// written once, faulted in page by page and read back from memory).
pub struct ChunkReader<'a> {
    comp: Compression,
    r: Reader<'a>,
    decoder: Option<BlockDecoder>,
    /// Chunks left; `None` until the count is read.
    left: Option<u32>,
    count: u32,
    /// The stream's size as its BUFFER option states it, checked at its end.
    stated_size: Option<u64>,
    budget: &'a ChunkBudget,
    /// Copies of its largest chunk a stream may hold at once (decompressing, queued
    /// ahead, in the page window, a spare buffer), charged to the budget.
    held_copies: u64,
    /// Taken from the budget so far, given back on drop.
    charged: u64,
    /// Where the compressed chunks, once decompressed, are given back (a mapped file),
    /// and the stream's bytes given back so far.
    reread: Option<Reread<'a>>,
    released: usize,
}

impl Drop for ChunkReader<'_> {
    fn drop(&mut self) {
        self.budget.give(self.charged);
    }
}

impl<'a> ChunkReader<'a> {
    /// A reader over the stream starting at `r`'s position (nothing is read yet), holding
    /// its chunks within `budget`.
    pub fn new(
        comp: Compression,
        r: Reader<'a>,
        stated_size: Option<u64>,
        budget: &'a ChunkBudget,
    ) -> ChunkReader<'a> {
        ChunkReader {
            comp,
            r,
            decoder: None,
            left: None,
            count: 0,
            stated_size,
            budget,
            held_copies: PREFETCH_DEPTH as u64 + 3,
            charged: 0,
            reread: None,
            released: 0,
        }
    }

    /// The reader, giving each chunk's compressed bytes back to `reread` once decompressed.
    pub fn rereading(mut self, reread: Option<Reread<'a>>) -> ChunkReader<'a> {
        self.reread = reread;
        self
    }

    /// Appends the next chunk to `out`: false at the end of the stream. After an error
    /// the stream reads as ended.
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Result<bool, ChunkDamage> {
        let result = self.next_chunk(out);
        if result.is_err() {
            self.left = Some(0);
        }
        result
    }

    fn next_chunk(&mut self, out: &mut Vec<u8>) -> Result<bool, ChunkDamage> {
        let r = &mut self.r;
        let base = r.origin.file_offset;
        let damage = |at: usize, error| ChunkDamage {
            at: base + at as u64,
            error,
        };
        let left = match self.left {
            Some(n) => n,
            None => {
                self.count = r.u32("chunk count").map_err(|e| damage(0, e))?;
                self.count
            }
        };
        if left == 0 {
            self.left = Some(0);
            // Chunks that stop short of the stated size leave data unread (a count too low):
            // damage, unless what is left is zero padding. Over it is fine: trace-cmd's size
            // leaves out the count before the chunks.
            let unread = self
                .stated_size
                .map_or(0, |size| size.saturating_sub(r.pos() as u64));
            let end = r.pos();
            let rest = r.bytes(unread.min(r.remaining() as u64), "unread stream bytes");
            if rest.is_ok_and(|rest| rest.iter().any(|&b| b != 0)) {
                let what = format!(
                    "its {} chunks end {unread} bytes before the size its BUFFER option states",
                    self.count
                );
                return Err(damage(end, r.origin.error(end, &what)));
            }
            return Ok(false);
        }
        self.left = Some(left - 1);
        let at = r.pos();
        let csize = r.u32("chunk compressed size").map_err(|e| damage(at, e))?;
        let expected = r
            .u32("chunk uncompressed size")
            .map_err(|e| damage(at, e))?;
        let block = r
            .bytes(u64::from(csize), "chunk data")
            .map_err(|e| damage(at, e))?;
        let (i, count) = (self.count - left, self.count);
        let held = u64::from(expected) * self.held_copies;
        if held > self.charged {
            if !self.budget.take(held - self.charged) {
                let what = format!(
                    "chunk {i} of {count}: its {expected} bytes would take the chunks all CPU \
                     streams hold at once over {} bytes",
                    ChunkBudget::IMPORT
                );
                return Err(damage(at, r.origin.error(at, &what)));
            }
            self.charged = held;
        }
        let decoder = match &mut self.decoder {
            Some(d) => d,
            None => self.decoder.insert(
                self.comp
                    .decoder()
                    .map_err(|e| damage(0, r.origin.error(0, &e)))?,
            ),
        };
        let decompressed = decoder.decompress_into(block, u64::from(expected), MAX_CHUNK, out);
        if let Some(reread) = &self.reread {
            self.released += reread.release_behind(&r.consumed()[self.released..]);
        }
        decompressed.map_err(|e| {
            damage(
                at,
                r.origin.error(at, &format!("chunk {i} of {count}: {e}")),
            )
        })?;
        Ok(true)
    }
}

/// Chunks decompressed ahead of the reader, per stream.
const PREFETCH_DEPTH: usize = 2;

/// A chunk stream decompressed ahead on a thread of its own, so that decompression (a third
/// of a trace.dat import) runs on another core while the merge decodes. Buffers go back to
/// the thread for reuse; at most [`PREFETCH_DEPTH`] chunks wait, so memory stays small.
pub struct PrefetchedChunks {
    chunks: Receiver<Result<Vec<u8>, ChunkDamage>>,
    spare: Sender<Vec<u8>>,
}

impl PrefetchedChunks {
    /// Starts decompressing `reader`'s chunks on a thread of `scope`. The thread ends at
    /// the end of the stream, after damage, or when this reader is dropped.
    pub fn spawn<'scope, 'env>(
        scope: &'scope Scope<'scope, 'env>,
        mut reader: ChunkReader<'env>,
    ) -> PrefetchedChunks {
        let (chunk_tx, chunks) = sync_channel(PREFETCH_DEPTH);
        let (spare, spare_rx) = channel::<Vec<u8>>();
        scope.spawn(move || {
            loop {
                let mut buf = spare_rx.try_recv().unwrap_or_default();
                buf.clear();
                let item = match reader.next_into(&mut buf) {
                    Ok(true) => Ok(buf),
                    Ok(false) => return,
                    Err(damage) => Err(damage),
                };
                let last = item.is_err();
                if chunk_tx.send(item).is_err() || last {
                    return;
                }
            }
        });
        PrefetchedChunks { chunks, spare }
    }

    /// Appends the next chunk to `out`: false at the end of the stream (the contract of
    /// [`ChunkReader::next_into`]).
    pub fn next_into(&mut self, out: &mut Vec<u8>) -> Result<bool, ChunkDamage> {
        match self.chunks.recv() {
            Ok(Ok(buf)) => {
                out.extend_from_slice(&buf);
                // The thread may have ended; the buffer is then simply dropped.
                let _ = self.spare.send(buf);
                Ok(true)
            }
            Ok(Err(damage)) => Err(damage),
            Err(_) => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracedat::bytes::{Endian, Origin};
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// A chunk stream as trace-cmd writes it.
    fn chunk_stream(chunks: &[Vec<u8>], compress: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
        let mut out = (chunks.len() as u32).to_le_bytes().to_vec();
        for c in chunks {
            let z = compress(c);
            out.extend_from_slice(&(z.len() as u32).to_le_bytes());
            out.extend_from_slice(&(c.len() as u32).to_le_bytes());
            out.extend_from_slice(&z);
        }
        out
    }

    #[test]
    fn zstd_and_zlib_chunk_streams_and_damage() {
        let chunks = vec![vec![7u8; 4096], (0..4096u32).map(|i| i as u8).collect()];
        let want: Vec<u8> = chunks.concat();
        for (comp, stream) in [
            (
                Compression::Zstd,
                chunk_stream(&chunks, |c| zstd::bulk::compress(c, 3).unwrap()),
            ),
            (Compression::Zlib, chunk_stream(&chunks, zlib)),
        ] {
            let origin = Origin::file(100, "cpu data");
            let (data, damage) =
                cpu_chunks(comp, &mut Reader::new(&stream, Endian::Little, origin));
            assert!(damage.is_none(), "{comp:?}");
            assert_eq!(data, want, "{comp:?}");
            // Cut inside the second chunk: the first is kept, the damage is located.
            let cut = &stream[..stream.len() - 10];
            let (data, damage) = cpu_chunks(comp, &mut Reader::new(cut, Endian::Little, origin));
            assert_eq!(data, chunks[0], "{comp:?}");
            let second_chunk_at = 4 + 8 + u32::from_le_bytes(stream[4..8].try_into().unwrap());
            assert_eq!(damage.unwrap().at, 100 + u64::from(second_chunk_at));
        }
    }

    #[test]
    fn a_block_larger_than_stated_is_an_error() {
        let z = zlib(&[1u8; 100]);
        let mut out = Vec::new();
        let mut d = Compression::Zlib.decoder().unwrap();
        assert!(d.decompress_into(&z, 50, MAX_CHUNK, &mut out).is_err());
        assert!(out.is_empty());
        assert!(
            d.decompress_into(&z, MAX_CHUNK + 1, MAX_CHUNK, &mut out)
                .is_err()
        );
        d.decompress_into(&z, 100, MAX_CHUNK, &mut out).unwrap();
        assert_eq!(out, [1u8; 100]);
    }
}
