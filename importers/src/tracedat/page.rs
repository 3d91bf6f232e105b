//! Ring-buffer pages (`struct buffer_data_page`) of one CPU: a u64 page timestamp, the
//! `commit` word (data size and the MISSED_EVENTS / MISSED_STORED flags), then events with
//! 32-bit headers (type_len 5 bits, time_delta 27 bits).

use super::bytes::Endian;
use super::compress::{ChunkDamage, ChunkReader, PrefetchedChunks};
use super::format::PageHeader;

const TYPE_PADDING: u32 = 29;
const TYPE_TIME_EXTEND: u32 = 30;
const TYPE_TIME_STAMP: u32 = 31;
const TS_SHIFT: u32 = 27;
/// Bits of `commit` holding the data size (libtraceevent's COMMIT_MASK).
const COMMIT_MASK: u64 = (1 << 27) - 1;
const MISSED_EVENTS: u64 = 1 << 31;
const MISSED_STORED: u64 = 1 << 30;
/// TIME_STAMP events carry 59 bits; the top 5 come from the running time.
const TS_TOP_BITS: u64 = 0xf8 << 56;

/// How pages are laid out.
#[derive(Clone, Copy, Debug)]
pub struct PageLayout {
    pub endian: Endian,
    pub header: PageHeader,
    pub page_size: usize,
}

/// An event record: its raw time and where its payload is in the cursor's window (valid
/// until the cursor's next step; read it with [`PageCursor::record`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEvent {
    pub ts: u64,
    pub start: usize,
    pub len: usize,
}

/// What the cursor found next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Event(RawEvent),
    /// The page starting at `page` follows lost events (`count` when the kernel stored it).
    Missed {
        ts: u64,
        count: Option<u64>,
    },
    /// Bytes from `at` (offset in the CPU data) to the end of its page are unreadable.
    Damaged {
        at: usize,
        ts: u64,
        what: &'static str,
    },
    End,
}

/// What opening a page gave.
enum Opened {
    Page,
    Report(Step),
    End,
}

/// Where a cursor's bytes come from.
pub enum PageSource<'a> {
    /// Uncompressed data in the file.
    Plain(&'a [u8]),
    /// A v7 chunk stream, decompressed a chunk at a time (boxed: a zstd decoder built with
    /// the features polars asks for is a few hundred bytes).
    Chunks(Box<ChunkReader<'a>>),
    /// A v7 chunk stream decompressed ahead on another thread.
    Prefetched(PrefetchedChunks),
}

/// Bytes of plain data copied into the window at a time.
const PLAIN_PIECE: usize = 64 << 10;

/// The largest ring-buffer page (sub-buffer) kctx reads: the kernel's sub-buffers go up
/// to a few MiB; a page is held whole in memory, so a larger stated size is damage.
pub const MAX_PAGE_SIZE: u64 = 16 << 20;

/// A page size a file may state: a power of two from 64 bytes to [`MAX_PAGE_SIZE`].
pub fn valid_page_size(size: u64) -> bool {
    (64..=MAX_PAGE_SIZE).contains(&size) && size.is_power_of_two()
}

/// Walks the events of one CPU's pages in order. The pages pass through a small reused
/// window (a chunk or a piece of plain data, plus a page cut by its end), so memory and
/// cache hold only the part being read, not tens of MB of decompressed stream.
pub struct PageCursor<'a> {
    source: PageSource<'a>,
    /// Bytes of a plain source already copied into the window.
    plain_pos: usize,
    /// The source may still have bytes.
    more: bool,
    window: Vec<u8>,
    /// Offset in the stream of `window[0]`.
    window_at: usize,
    /// Why a chunk stream ended early.
    damage: Option<ChunkDamage>,
    layout: PageLayout,
    /// Start of the next page to open.
    next_page: usize,
    /// Next event header and end of the committed data, as offsets in `window`.
    pos: usize,
    end: usize,
    ts: u64,
}

impl<'a> PageCursor<'a> {
    /// A cursor over uncompressed pages.
    pub fn new(data: &'a [u8], layout: PageLayout) -> PageCursor<'a> {
        PageCursor::over(PageSource::Plain(data), layout)
    }

    pub fn over(source: PageSource<'a>, layout: PageLayout) -> PageCursor<'a> {
        PageCursor {
            source,
            plain_pos: 0,
            more: true,
            window: Vec::new(),
            window_at: 0,
            damage: None,
            layout,
            next_page: 0,
            pos: 0,
            end: 0,
            ts: 0,
        }
    }

    /// The payload of an event the last [`PageCursor::step`] returned.
    #[inline]
    pub fn record(&self, e: RawEvent) -> &[u8] {
        &self.window[e.start..e.start + e.len]
    }

    /// The raw time reached (that of the last event, at the end of the stream).
    pub fn ts(&self) -> u64 {
        self.ts
    }

    /// Why a chunk stream ended before its stated end, once it has.
    pub fn take_damage(&mut self) -> Option<ChunkDamage> {
        self.damage.take()
    }

    fn u32_at(&self, off: usize) -> u32 {
        let b = &self.window[off..off + 4];
        self.layout.endian.u32([b[0], b[1], b[2], b[3]])
    }

    /// The next event, lost-events mark, damage, or the end.
    #[inline(always)]
    pub fn step(&mut self) -> Step {
        loop {
            if self.end - self.pos < 4 {
                match self.open_page() {
                    Opened::Page => continue,
                    Opened::Report(step) => return step,
                    Opened::End => return Step::End,
                }
            }
            let word = self.u32_at(self.pos);
            let (type_len, delta) = match self.layout.endian {
                Endian::Little => (word & 31, word >> 5),
                Endian::Big => (word >> 27, word & ((1 << 27) - 1)),
            };
            let delta = u64::from(delta);
            let header = self.pos;
            if type_len >= TYPE_PADDING || type_len == 0 {
                // These carry array[0].
                if self.end - self.pos < 8 {
                    if type_len == TYPE_PADDING {
                        self.pos = self.end;
                        continue;
                    }
                    return self.damage(header, "event header cut by the end of the page data");
                }
                let array0 = self.u32_at(self.pos + 4);
                match type_len {
                    TYPE_PADDING => {
                        // Delta 0: the rest of the page is unused.
                        if delta == 0 {
                            self.pos = self.end;
                            continue;
                        }
                        self.ts = self.ts.wrapping_add(delta);
                        let next = self.pos as u64 + 4 + u64::from(array0);
                        if next > self.end as u64 {
                            return self.damage(header, "padding runs past the page data");
                        }
                        self.pos = next as usize;
                    }
                    TYPE_TIME_EXTEND => {
                        self.ts = self
                            .ts
                            .wrapping_add((u64::from(array0) << TS_SHIFT) | delta);
                        self.pos += 8;
                    }
                    TYPE_TIME_STAMP => {
                        self.ts = (u64::from(array0) << TS_SHIFT | delta) | (self.ts & TS_TOP_BITS);
                        self.pos += 8;
                    }
                    _ => {
                        self.ts = self.ts.wrapping_add(delta);
                        // array[0] counts itself: the payload is array[0] - 4 bytes.
                        let start = self.pos + 8;
                        let len = (u64::from(array0.saturating_sub(4)) + 3) & !3;
                        if array0 < 4 || start as u64 + len > self.end as u64 {
                            return self.damage(header, "event length runs past the page data");
                        }
                        self.pos = start + len as usize;
                        return Step::Event(RawEvent {
                            ts: self.ts,
                            start,
                            len: len as usize,
                        });
                    }
                }
            } else {
                self.ts = self.ts.wrapping_add(delta);
                let len = type_len as usize * 4;
                let start = self.pos + 4;
                if start + len > self.end {
                    return self.damage(header, "event length runs past the page data");
                }
                self.pos = start + len;
                return Step::Event(RawEvent {
                    ts: self.ts,
                    start,
                    len,
                });
            }
        }
    }

    /// Skips the rest of the current page and reports the damage.
    fn damage(&mut self, at: usize, what: &'static str) -> Step {
        self.pos = self.end;
        Step::Damaged {
            at: self.window_at + at,
            ts: self.ts,
            what,
        }
    }

    /// Drops the pages read, then appends source bytes until the next page is whole in
    /// the window or the source has ended.
    fn refill(&mut self) {
        let consumed = self.next_page.min(self.window.len());
        self.window.drain(..consumed);
        self.window_at += consumed;
        self.next_page -= consumed;
        let want = self.next_page + self.layout.page_size.max(1);
        while self.more && self.window.len() < want {
            match &mut self.source {
                PageSource::Plain(data) => {
                    let rest = &data[self.plain_pos..];
                    let piece = &rest[..rest.len().min(PLAIN_PIECE)];
                    self.window.extend_from_slice(piece);
                    self.plain_pos += piece.len();
                    self.more = self.plain_pos < data.len();
                }
                PageSource::Chunks(chunks) => {
                    let next = chunks.next_into(&mut self.window);
                    self.chunk_read(next);
                }
                PageSource::Prefetched(chunks) => {
                    let next = chunks.next_into(&mut self.window);
                    self.chunk_read(next);
                }
            }
        }
    }

    fn chunk_read(&mut self, next: Result<bool, ChunkDamage>) {
        match next {
            Ok(true) => {}
            Ok(false) => self.more = false,
            Err(d) => {
                self.damage = Some(d);
                self.more = false;
            }
        }
    }

    /// Opens the next page.
    fn open_page(&mut self) -> Opened {
        let page_size = self.layout.page_size;
        if self.more && self.window.len() < self.next_page.saturating_add(page_size) {
            self.refill();
        }
        let start = self.next_page;
        if start >= self.window.len() {
            self.pos = start;
            self.end = start;
            return Opened::End;
        }
        let page_end = start.saturating_add(page_size).min(self.window.len());
        self.next_page = start.saturating_add(page_size);
        self.pos = page_end;
        self.end = page_end;
        let page = &self.window[start..page_end];
        let h = self.layout.header;
        let endian = self.layout.endian;
        let (Some(ts), Some(commit)) = (
            endian.uint(page, 0, 8),
            endian.uint(page, h.commit_offset, h.commit_size),
        ) else {
            return Opened::Report(Step::Damaged {
                at: self.window_at + start,
                ts: self.ts,
                what: "page header cut short",
            });
        };
        self.ts = ts;
        let size = (commit & COMMIT_MASK) as usize;
        let data_end = h.data_offset + size;
        if data_end > page.len() {
            return Opened::Report(Step::Damaged {
                at: self.window_at + start + h.commit_offset,
                ts,
                what: "page commit size exceeds the page",
            });
        }
        self.pos = start + h.data_offset;
        self.end = start + data_end;
        if commit & MISSED_EVENTS == 0 {
            return Opened::Page;
        }
        let count = (commit & MISSED_STORED != 0)
            .then(|| endian.uint(page, data_end, h.commit_size))
            .flatten();
        Opened::Report(Step::Missed { ts, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 256;

    fn layout() -> PageLayout {
        PageLayout {
            endian: Endian::Little,
            header: PageHeader {
                commit_offset: 8,
                commit_size: 8,
                data_offset: 16,
                data_size: None,
            },
            page_size: PAGE,
        }
    }

    /// A page builder: events as (type_len, delta, array words...).
    struct PageBuf(Vec<u8>);

    impl PageBuf {
        fn new(ts: u64) -> PageBuf {
            let mut v = vec![0u8; 16];
            v[..8].copy_from_slice(&ts.to_le_bytes());
            PageBuf(v)
        }
        fn word(&mut self, w: u32) -> &mut Self {
            self.0.extend_from_slice(&w.to_le_bytes());
            self
        }
        fn head(&mut self, type_len: u32, delta: u32) -> &mut Self {
            self.word(type_len | delta << 5)
        }
        fn finish(&mut self, flags: u64, missed: Option<u64>) -> Vec<u8> {
            let size = self.0.len() as u64 - 16;
            self.0[8..16].copy_from_slice(&(size | flags).to_le_bytes());
            if let Some(n) = missed {
                self.0.extend_from_slice(&n.to_le_bytes());
            }
            self.0.resize(PAGE, 0);
            std::mem::take(&mut self.0)
        }
    }

    fn steps(data: &[u8]) -> Vec<Step> {
        let mut c = PageCursor::new(data, layout());
        let mut out = Vec::new();
        loop {
            match c.step() {
                Step::End => return out,
                s => out.push(s),
            }
        }
    }

    fn event(ts: u64, start: usize, len: usize) -> Step {
        Step::Event(RawEvent { ts, start, len })
    }

    #[test]
    fn small_and_large_events_with_deltas() {
        let page = PageBuf::new(1000)
            .head(2, 5)
            .word(0xaaaa)
            .word(0xbbbb)
            .head(0, 7)
            .word(12 + 4)
            .word(1)
            .word(2)
            .word(3)
            .finish(0, None);
        assert_eq!(steps(&page), [event(1005, 20, 8), event(1012, 36, 12)]);
    }

    #[test]
    fn time_extend_and_absolute_time_stamp() {
        let page = PageBuf::new(1 << 40)
            .head(TYPE_TIME_EXTEND, 3)
            .word(2)
            .head(1, 1)
            .word(0)
            .head(TYPE_TIME_STAMP, 9)
            .word(1)
            .head(1, 0)
            .word(0)
            .finish(0, None);
        let extended = (1 << 40) + (2 << 27) + 3 + 1;
        assert_eq!(
            steps(&page),
            [event(extended, 28, 4), event((1 << 27) | 9, 44, 4)]
        );
    }

    #[test]
    fn padding_is_skipped_and_zero_delta_padding_ends_the_page() {
        let page = PageBuf::new(50)
            .head(TYPE_PADDING, 4)
            .word(8)
            .word(0xdead)
            .head(1, 1)
            .word(0)
            .head(TYPE_PADDING, 0)
            .word(100)
            .head(1, 1)
            .word(0)
            .finish(0, None);
        assert_eq!(steps(&page), [event(55, 32, 4)]);
    }

    #[test]
    fn missed_events_with_and_without_a_stored_count() {
        let mut data = PageBuf::new(10)
            .head(1, 0)
            .word(0)
            .finish(MISSED_EVENTS | MISSED_STORED, Some(42));
        data.extend(
            PageBuf::new(20)
                .head(1, 0)
                .word(0)
                .finish(MISSED_EVENTS, None),
        );
        assert_eq!(
            steps(&data),
            [
                Step::Missed {
                    ts: 10,
                    count: Some(42)
                },
                event(10, 20, 4),
                Step::Missed {
                    ts: 20,
                    count: None
                },
                event(20, PAGE + 20, 4),
            ]
        );
    }

    #[test]
    fn damage_keeps_what_came_before_and_continues_on_the_next_page() {
        let mut data = PageBuf::new(10)
            .head(1, 0)
            .word(0)
            .head(0, 0)
            .word(400)
            .finish(0, None);
        let mut bad_commit = PageBuf::new(20).finish(0, None);
        bad_commit[8..16].copy_from_slice(&5000u64.to_le_bytes());
        data.extend(bad_commit);
        data.extend(PageBuf::new(30).head(1, 2).word(0).finish(0, None));
        data.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            steps(&data),
            [
                event(10, 20, 4),
                Step::Damaged {
                    at: 24,
                    ts: 10,
                    what: "event length runs past the page data"
                },
                Step::Damaged {
                    at: PAGE + 8,
                    ts: 20,
                    what: "page commit size exceeds the page"
                },
                event(32, 2 * PAGE + 20, 4),
                Step::Damaged {
                    at: 3 * PAGE,
                    ts: 32,
                    what: "page header cut short"
                },
            ]
        );
    }
}
