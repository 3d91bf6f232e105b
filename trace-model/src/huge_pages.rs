//! Transparent huge pages for the store's large buffers.
//!
//! The columns of a large trace are hundreds of MB of fresh memory. Faulted in 4 KiB at a
//! time, they cost a fifth of a trace.dat import in page faults alone; in 2 MiB pages the
//! faults all but vanish. Debian leaves THP to `madvise`, so each large buffer asks.

/// The base page size of x86-64 and arm64 kernels (advice applies to whole pages).
const PAGE: usize = 4 << 10;

/// Asks the kernel to back the pages holding `buf`'s capacity with huge pages. The range
/// is rounded out to whole pages: the allocator maps large buffers 2 MiB-aligned with its
/// header first, so rounding in would leave the first 2 MiB in small pages.
pub(crate) fn advise<T>(buf: &Vec<T>) {
    advise_bytes(buf.as_ptr().cast(), buf.capacity() * size_of::<T>());
}

/// [`advise`] for the `bytes` of capacity at `start` (a `String`'s).
pub(crate) fn advise_bytes(start: *const u8, bytes: usize) {
    if bytes < HUGE_PAGE {
        return;
    }
    let start = start as usize;
    let first = start / PAGE * PAGE;
    let end = (start + bytes).next_multiple_of(PAGE);
    advise_range(first, end - first);
}

/// The smallest buffer worth advising: one huge page.
const HUGE_PAGE: usize = 2 << 20;

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_range(at: usize, len: usize) {
    // SAFETY: the range is the pages holding one live allocation (and perhaps the
    // allocator's bookkeeping beside it), all mapped. MADV_HUGEPAGE only changes how the
    // kernel backs those pages: never their contents or whether they are mapped. A refusal
    // (THP disabled) is harmless, so it is ignored.
    let _ = unsafe {
        rustix::mm::madvise(
            at as *mut std::ffi::c_void,
            len,
            rustix::mm::Advice::LinuxHugepage,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn advise_range(_at: usize, _len: usize) {}
