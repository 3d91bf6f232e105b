//! The columns' fresh pages faulted in on another core, a stretch ahead of the importer
//! that fills them.
//!
//! On the VMs kctx is measured on, a fresh page costs more than the events written into
//! it: over half of a big trace.dat import's samples were the kernel zeroing column pages
//! (`clear_page`) on the importing thread. A helper thread asks the kernel to fault the
//! pages in (`MADV_POPULATE_WRITE`: the kernel's own write fault, no access of ours, the
//! contents stay as they are) ahead of the writer, so the zeroing runs beside the decoding.
//! The helper never touches the memory itself, so a column that grows past its capacity
//! and moves leaves it at worst advising an unmapped range (an error that stops it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// One column buffer: its address, its capacity in events and the bytes of an event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region {
    pub at: usize,
    pub events: usize,
    pub size: usize,
}

impl Region {
    pub(crate) fn of<T>(column: &Vec<T>) -> Region {
        Region {
            at: column.as_ptr() as usize,
            events: column.capacity(),
            size: size_of::<T>(),
        }
    }
}

/// Events the helper keeps faulted in beyond the last batch written (12 MB of the
/// 24-byte columns, what may stay faulted in unused past the last event).
const AHEAD: usize = 1 << 19;
/// The writer wakes the helper each time it has written this many more events.
const STEP: usize = 1 << 16;
/// Column bytes below which a second thread is not worth starting.
const WORTH_IT: usize = 64 << 20;

/// The helper thread and what it follows.
#[derive(Debug)]
pub(crate) struct Prefault {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    next_wake: usize,
}

#[derive(Debug, Default)]
struct Shared {
    written: AtomicUsize,
    stop: AtomicBool,
}

impl Prefault {
    /// A helper for `regions`, when they are large and the machine has a second core.
    pub(crate) fn spawn(regions: Vec<Region>) -> Option<Prefault> {
        let bytes: usize = regions.iter().map(|r| r.events * r.size).sum();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if bytes < WORTH_IT || cores < 2 || !cfg!(target_os = "linux") {
            return None;
        }
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("kctx-prefault".into())
            .spawn(move || populate_ahead(&regions, &theirs))
            .ok()?;
        Some(Prefault {
            shared,
            thread: Some(thread),
            next_wake: 0,
        })
    }

    /// The writer has filled `written` events.
    #[inline]
    pub(crate) fn progress(&mut self, written: usize) {
        if written >= self.next_wake {
            self.next_wake = written + STEP;
            self.shared.written.store(written, Ordering::Relaxed);
            if let Some(t) = &self.thread {
                t.thread().unpark();
            }
        }
    }
}

impl Drop for Prefault {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            // The helper only advises: a failure of it loses nothing.
            let _ = t.join();
        }
    }
}

fn populate_ahead(regions: &[Region], shared: &Shared) {
    let capacity = regions.iter().map(|r| r.events).min().unwrap_or(0);
    let mut done = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        let written = shared.written.load(Ordering::Relaxed);
        // Pages behind the writer are its own already.
        let from = done.max(written);
        let to = (written + AHEAD).min(capacity);
        if from >= to {
            if to == capacity {
                return;
            }
            std::thread::park();
            continue;
        }
        let step = (to - from).min(STEP);
        for r in regions {
            if !populate(r.at + from * r.size, step * r.size) {
                return;
            }
        }
        done = from + step;
    }
}

/// Faults in the whole pages inside `len` bytes at `at`; false when the kernel refuses
/// (older than 5.14, or the range no longer mapped).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn populate(at: usize, len: usize) -> bool {
    const PAGE: usize = 4 << 10;
    let first = at.next_multiple_of(PAGE);
    let end = (at + len) / PAGE * PAGE;
    if end <= first {
        return true;
    }
    // SAFETY: MADV_POPULATE_WRITE faults pages in as a write would, without writing: it
    // never changes what memory holds, so it cannot race the writer filling these pages.
    // A range no longer mapped (a column that moved) is an error, not an access.
    unsafe {
        rustix::mm::madvise(
            first as *mut std::ffi::c_void,
            end - first,
            rustix::mm::Advice::LinuxPopulateWrite,
        )
    }
    .is_ok()
}

#[cfg(not(target_os = "linux"))]
fn populate(_at: usize, _len: usize) -> bool {
    false
}
