//! Work off the UI thread (a query, an export): the window keeps drawing while it runs, and
//! polls for the outcome each frame.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A line the work updates as it goes (what it is doing now), read by the window.
pub type Progress = Arc<Mutex<String>>;

/// One piece of background work and its outcome, once done.
pub struct Job<T> {
    rx: Receiver<anyhow::Result<T>>,
    progress: Progress,
    pub started: Instant,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `work` on its own thread; `wake` is called when it ends (the window passes
    /// `request_repaint`). A panic becomes the job's error instead of taking the window down.
    pub fn spawn(
        name: &str,
        work: impl FnOnce(&Progress) -> anyhow::Result<T> + Send + 'static,
        wake: impl Fn() + Send + 'static,
    ) -> Job<T> {
        let (tx, rx) = channel();
        let progress = Progress::default();
        let worker_progress = Arc::clone(&progress);
        let worker_tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("kctx-{name}"))
            .spawn(move || {
                let result = panic::catch_unwind(AssertUnwindSafe(|| work(&worker_progress)))
                    .unwrap_or_else(|payload| {
                        Err(anyhow::anyhow!(
                            "kctx failed: {} (a bug in kctx)",
                            super::super::loader::panic_text(payload.as_ref())
                        ))
                    });
                // The receiver is gone when the user started another job: nothing to do.
                let _ = worker_tx.send(result);
                wake();
            });
        if let Err(e) = spawned {
            let _ = tx.send(Err(anyhow::anyhow!("cannot start the {name} thread: {e}")));
        }
        Job {
            rx,
            progress,
            started: Instant::now(),
        }
    }

    /// The outcome once the work is done.
    pub fn poll(&self) -> Option<anyhow::Result<T>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(anyhow::anyhow!("the worker vanished"))),
        }
    }

    /// Blocks until the work ends (tests).
    pub fn wait(self) -> anyhow::Result<T> {
        self.rx
            .recv()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the worker vanished")))
    }

    /// What the work last said it is doing.
    pub fn progress(&self) -> String {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Sets a job's progress line.
pub fn tell(progress: &Progress, what: impl Into<String>) {
    if let Ok(mut p) = progress.lock() {
        *p = what.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_polls_while_the_work_runs() {
        let (go, wait) = channel::<()>();
        let job = Job::spawn(
            "test",
            move |progress| {
                tell(progress, "waiting");
                wait.recv()?;
                Ok(42)
            },
            || {},
        );
        // Until the work is let go, every poll returns at once with nothing.
        for _ in 0..3 {
            assert!(job.poll().is_none());
        }
        go.send(()).unwrap();
        assert_eq!(job.wait().unwrap(), 42);
    }

    #[test]
    fn a_panic_is_the_jobs_error() {
        let job: Job<()> = Job::spawn("test", |_| panic!("column out of range"), || {});
        let e = job.wait().unwrap_err().to_string();
        assert!(e.contains("column out of range"), "{e}");
    }
}
