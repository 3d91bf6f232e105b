//! Loading on a background thread: the window stays responsive, shows the stage reached and
//! gets a preview of the trace (its timeline) as soon as the events are read, then the whole.

use super::trace::{Input, LoadedTrace, STAGES, load_showing};
use analysis::TraceCache;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::Instant;

/// What a load delivers, in order.
pub enum Loaded {
    /// The timeline from the events alone; the context model and findings follow.
    Preview(LoadedTrace),
    /// The whole trace, or why it could not be read.
    Done(anyhow::Result<LoadedTrace>),
}

/// A load in progress.
pub struct Loader {
    pub inputs: Vec<Input>,
    stage: Arc<AtomicUsize>,
    cancelled: Arc<AtomicBool>,
    rx: Receiver<Loaded>,
    pub started: Instant,
}

impl Loader {
    /// Starts loading `inputs`; `wake` is called from the worker when a stage starts or the
    /// load ends (the app passes `request_repaint`).
    pub fn spawn(
        inputs: Vec<Input>,
        cache: Option<TraceCache>,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Loader {
        let started = Instant::now();
        let stage = Arc::new(AtomicUsize::new(0));
        let cancelled = Arc::new(AtomicBool::new(false));
        let (tx, rx) = channel();
        let worker_inputs = inputs.clone();
        let worker_stage = Arc::clone(&stage);
        let worker_cancelled = Arc::clone(&cancelled);
        let worker_tx = tx.clone();
        let spawned =
            std::thread::Builder::new()
                .name("kctx-load".into())
                .spawn(move || {
                    let names = describe(&worker_inputs);
                    // A panic is a bug, but it must not take the window (and the user's other
                    // work) down with it: it becomes the load's error.
                    let show = |preview| {
                        let _ = worker_tx.send(Loaded::Preview(preview));
                        wake();
                    };
                    let stage = |s| {
                        tell_time(&format!("{} from", STAGES[s]), started);
                        worker_stage.store(s, Ordering::Relaxed);
                        wake();
                    };
                    let result = panic::catch_unwind(AssertUnwindSafe(|| {
                    load_showing(worker_inputs, cache.as_ref(), &stage, &show, &worker_cancelled)
                }))
                .unwrap_or_else(|payload| {
                    Err(anyhow::anyhow!(
                        "kctx failed reading {names}: {} (a bug in kctx; the file helps fix it)",
                        panic_text(payload.as_ref())
                    ))
                });
                    // The receiver is gone when the user started another load: nothing to do.
                    let _ = worker_tx.send(Loaded::Done(result));
                    wake();
                });
        if let Err(e) = spawned {
            let e = anyhow::anyhow!("cannot start loading: {e}");
            let _ = tx.send(Loaded::Done(Err(e)));
        }
        Loader {
            inputs,
            stage,
            cancelled,
            rx,
            started,
        }
    }

    /// Stops the load: nothing more is delivered, and the worker stops at its next stage
    /// boundary (a stage under way runs out in the background, its result dropped).
    pub fn cancel(self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The stage reached: its name and the fraction of stages done.
    pub fn progress(&self) -> (&'static str, f32) {
        let s = self.stage.load(Ordering::Relaxed).min(STAGES.len() - 1);
        (STAGES[s], (s as f32 + 0.5) / STAGES.len() as f32)
    }

    /// What the worker delivered since the last poll, if anything.
    pub fn poll(&self) -> Option<Loaded> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Loaded::Done(Err(anyhow::anyhow!(
                "the loader thread panicked"
            )))),
        }
    }

    /// Blocks until the load ends, past any preview (tests and `--screenshot` use it).
    pub fn wait(self) -> anyhow::Result<LoadedTrace> {
        loop {
            match self.rx.recv() {
                Ok(Loaded::Preview(_)) => {}
                Ok(Loaded::Done(result)) => return result,
                Err(_) => return Err(anyhow::anyhow!("the loader thread panicked")),
            }
        }
    }
}

/// For the big-trace benchmark (scripts/bench-big): with `KCTX_LOAD_TIMES` set, tells on
/// stderr `what` happened how long after `started`, and the memory resident then (a stage
/// started, a delivery reached the window).
pub fn tell_time(what: &str, started: Instant) {
    if std::env::var_os("KCTX_LOAD_TIMES").is_none() {
        return;
    }
    let seconds = started.elapsed().as_secs_f64();
    // statm: sizes in pages, the resident set second.
    let resident = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok());
    match resident {
        Some(pages) => eprintln!(
            "kctx: {what} {seconds:.2} s, {:.2} GB resident",
            (pages * rustix::param::page_size() as u64) as f64 / 1e9
        ),
        None => eprintln!("kctx: {what} {seconds:.2} s"),
    }
}

/// The inputs, named for an error message.
fn describe(inputs: &[Input]) -> String {
    let names: Vec<String> = inputs.iter().map(Input::name).collect();
    names.join(", ")
}

/// The message a panic carried.
pub(super) fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_an_error_naming_it_and_its_offset() {
        let dir = std::env::temp_dir().join(format!("kctx-loader-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cut.dat");
        // A trace.dat header cut inside its page size.
        std::fs::write(&path, b"\x17\x08\x44tracing6\0\0\x08\x00\x10").unwrap();
        let e = Loader::spawn(vec![Input::File(path.clone())], None, || {})
            .wait()
            .err()
            .expect("an error");
        let text = format!("{e:#}");
        assert!(text.contains("cut.dat") && text.contains("byte "), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_panic_payload_becomes_its_message() {
        let payload = panic::catch_unwind(|| panic!("index out of bounds")).unwrap_err();
        assert_eq!(panic_text(payload.as_ref()), "index out of bounds");
    }
}
