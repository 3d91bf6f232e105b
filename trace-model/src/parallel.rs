//! Independent jobs spread over the machine's cores: per-CPU work whose results the caller
//! needs in CPU order, or two walks over the same data side by side. One thread where the
//! machine has one core. A job's panic is resumed on the caller's thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ScopedJoinHandle;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |c| c.get())
}

/// What a scoped thread returned; its panic goes on in the caller's thread.
fn joined<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `(a(), b())`, `b` on a second thread while `a` runs on this one.
pub fn join<A, B: Send>(a: impl FnOnce() -> A, b: impl FnOnce() -> B + Send) -> (A, B) {
    if cores() <= 1 {
        return (a(), b());
    }
    std::thread::scope(|s| {
        let b = s.spawn(b);
        let a = a();
        (a, joined(b))
    })
}

/// `[f(0), f(1), ..., f(n - 1)]`, computed by up to one thread per core, each taking the
/// next index when done with its last (jobs differ in size: a busy CPU against an idle one).
pub fn map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = cores().min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, f(i)));
        }
    };
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
        for worker in workers {
            for (i, value) in joined(worker) {
                slots[i] = Some(value);
            }
        }
    });
    slots
        .into_iter()
        .map(|v| v.expect("every index was taken by a worker"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_in_index_order_whatever_finishes_first() {
        let got = super::map(9, |i| {
            // Early indices take longest.
            std::thread::sleep(std::time::Duration::from_millis((9 - i as u64) * 3));
            i * i
        });
        assert_eq!(got, (0..9).map(|i| i * i).collect::<Vec<_>>());
        assert!(super::map(0, |i| i).is_empty());
    }

    #[test]
    fn a_panicking_job_panics_the_caller() {
        let caught = std::panic::catch_unwind(|| super::map(4, |i| assert_ne!(i, 2)));
        assert!(caught.is_err());
        let caught = std::panic::catch_unwind(|| super::join(|| 1, || panic!("second")));
        assert!(caught.is_err());
    }

    #[test]
    fn join_returns_both_results_in_order() {
        assert_eq!(super::join(|| "a", || 2), ("a", 2));
    }
}
