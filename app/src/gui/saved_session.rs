//! A session per trace: the view, cursor, markers, selections, event-list filters, notes,
//! bookmarks and pinned / hidden lanes, saved as JSON under `$XDG_STATE_HOME/kctx/sessions`
//! and restored when the same trace is opened again. "The same" is its path, size and
//! modification time: a re-recorded trace at the same path starts afresh.

use super::Session;
use super::annotations::Bookmark;
use super::timeline::notes::Note;
use super::trace::Input;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What is saved of a session.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedSession {
    /// The trace it belongs to, as [`trace_key`] names it.
    pub trace: String,
    /// The view: its left edge (ns) and zoom (ns per pixel).
    pub view: Option<(f64, f64)>,
    pub cursor_ns: Option<u64>,
    pub marker_a: Option<u64>,
    pub marker_b: Option<u64>,
    pub selected_cpu: Option<usize>,
    pub selected_task: Option<i32>,
    pub tasks_collapsed: bool,
    pub filter_event: String,
    pub filter_cpu: Option<usize>,
    pub filter_task: String,
    pub filter_text: String,
    pub notes: Vec<Note>,
    pub bookmarks: Vec<Bookmark>,
    pub pinned_tasks: Vec<i32>,
    pub hidden_tasks: Vec<i32>,
}

/// Where sessions go by default: `$XDG_STATE_HOME/kctx/sessions`, else
/// `~/.local/state/kctx/sessions`.
pub fn default_dir() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state")))?;
    Some(state.join("kctx/sessions"))
}

/// The trace's identity: each file's absolute path, size and modification time (the sample
/// is itself; a synthetic trace has none and is not saved).
pub fn trace_key(inputs: &[Input]) -> Option<String> {
    let mut parts = Vec::new();
    for input in inputs {
        match input {
            Input::File(p) => {
                let meta = std::fs::metadata(p).ok()?;
                let mtime = meta
                    .modified()
                    .ok()?
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?;
                let path = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                parts.push(format!(
                    "{}|{}|{}.{:09}",
                    path.display(),
                    meta.len(),
                    mtime.as_secs(),
                    mtime.subsec_nanos()
                ));
            }
            Input::Sample => parts.push("sample".to_owned()),
            Input::Synthetic(_) => return None,
        }
    }
    Some(parts.join("\n"))
}

/// The file of a trace's session: a hash of its key (FNV-1a, stable across builds).
fn session_file(dir: &Path, key: &str) -> PathBuf {
    let hash = trace_model::stable_hash::Fnv64::of(key.as_bytes());
    dir.join(format!("{hash:016x}.json"))
}

/// What the session shows now.
pub fn capture(s: &Session, key: String) -> SavedSession {
    let t = &s.timeline;
    let f = &s.list.filter;
    SavedSession {
        trace: key,
        view: Some((t.view.start_ns, t.view.ns_per_px)),
        cursor_ns: t.cursor_ns,
        marker_a: t.marker_a,
        marker_b: t.marker_b,
        selected_cpu: t.selected_cpu,
        selected_task: t.selected_task,
        tasks_collapsed: t.tasks_collapsed,
        filter_event: f.event.clone(),
        filter_cpu: f.cpu,
        filter_task: f.task.clone(),
        filter_text: f.text.clone(),
        notes: t.notes.clone(),
        bookmarks: s.annotations.bookmarks.clone(),
        pinned_tasks: t.pinned_tasks.clone(),
        hidden_tasks: t.hidden_tasks.clone(),
    }
}

/// Puts a saved session back (lanes of tasks no longer in the trace are dropped).
pub fn restore(s: &mut Session, saved: SavedSession) {
    let model = &s.trace.timeline;
    let known = |pids: Vec<i32>| -> Vec<i32> {
        pids.into_iter()
            .filter(|&p| model.task_row(p).is_some())
            .collect()
    };
    let t = &mut s.timeline;
    if let Some((start_ns, ns_per_px)) = saved.view.filter(|(s, z)| s.is_finite() && *z > 0.0) {
        t.view = super::timeline::view::TimeView {
            start_ns,
            ns_per_px,
        };
        t.fit_pending = false;
    }
    (t.cursor_ns, t.marker_a, t.marker_b) = (saved.cursor_ns, saved.marker_a, saved.marker_b);
    t.selected_cpu = saved.selected_cpu;
    t.selected_task = saved.selected_task;
    t.tasks_collapsed = saved.tasks_collapsed;
    t.notes = saved.notes;
    t.set_task_rows(model, known(saved.pinned_tasks), known(saved.hidden_tasks));
    let f = &mut s.list.filter;
    (f.event, f.cpu, f.task, f.text) = (
        saved.filter_event,
        saved.filter_cpu,
        saved.filter_task,
        saved.filter_text,
    );
    s.annotations.bookmarks = saved.bookmarks;
    s.list.follow_cursor = true;
}

/// Writes the session of `s` to `dir` (nothing for a trace without a key).
pub fn save(dir: &Path, s: &Session) -> anyhow::Result<()> {
    let Some(key) = trace_key(&s.trace.inputs) else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let path = session_file(dir, &key);
    let json = serde_json::to_string_pretty(&capture(s, key))?;
    // Written aside then renamed: a crash mid-write leaves the old session whole.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json).with_context(|| format!("{}: cannot write", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))
}

/// The saved session of the trace `inputs` name, if any. A session file that cannot be
/// read is an error naming it (the trace then opens as new).
pub fn load(dir: &Path, inputs: &[Input]) -> anyhow::Result<Option<SavedSession>> {
    let Some(key) = trace_key(inputs) else {
        return Ok(None);
    };
    let path = session_file(dir, &key);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
    };
    let saved: SavedSession = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a kctx session", path.display()))?;
    // Two keys with one hash: not this trace's.
    Ok((saved.trace == key).then_some(saved))
}
