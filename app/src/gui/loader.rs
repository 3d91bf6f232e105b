//! Loading on a background thread: the window stays responsive and shows the stage reached.

use super::trace::{Input, LoadedTrace, STAGES, load};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::Instant;

/// A load in progress.
pub struct Loader {
    pub inputs: Vec<Input>,
    stage: Arc<AtomicUsize>,
    rx: Receiver<anyhow::Result<LoadedTrace>>,
    pub started: Instant,
}

impl Loader {
    /// Starts loading `inputs`; `wake` is called from the worker when a stage starts or the
    /// load ends (the app passes `request_repaint`).
    pub fn spawn(inputs: Vec<Input>, wake: impl Fn() + Send + Sync + 'static) -> Loader {
        let stage = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel();
        let worker_inputs = inputs.clone();
        let worker_stage = Arc::clone(&stage);
        std::thread::Builder::new()
            .name("kctx-load".into())
            .spawn(move || {
                let result = load(worker_inputs, &|s| {
                    worker_stage.store(s, Ordering::Relaxed);
                    wake();
                });
                // The receiver is gone when the user started another load: nothing to do.
                let _ = tx.send(result);
                wake();
            })
            .expect("spawn the loader thread");
        Loader {
            inputs,
            stage,
            rx,
            started: Instant::now(),
        }
    }

    /// The stage reached: its name and the fraction of stages done.
    pub fn progress(&self) -> (&'static str, f32) {
        let s = self.stage.load(Ordering::Relaxed).min(STAGES.len() - 1);
        (STAGES[s], (s as f32 + 0.5) / STAGES.len() as f32)
    }

    /// The result once the worker is done.
    pub fn poll(&self) -> Option<anyhow::Result<LoadedTrace>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                Some(Err(anyhow::anyhow!("the loader thread panicked")))
            }
        }
    }

    /// Blocks until the load ends (tests and `--screenshot` use it).
    pub fn wait(self) -> anyhow::Result<LoadedTrace> {
        self.rx
            .recv()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the loader thread panicked")))
    }
}
