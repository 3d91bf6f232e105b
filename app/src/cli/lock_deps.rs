//! `kctx locks --deps FILE`: `/proc/lockdep` offline. Every lock class lockdep validates,
//! with its irq usage bits, and every dependency between classes, each with the acquisition
//! that first showed it, all derived from the trace's lock holds by lockdep's own rules.

use super::TextOrJson;
use super::output;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;
use trace_model::CommPid;
use trace_model::context::ContextModel;
use trace_model::context::locks::ClassId;
use trace_model::detect::evidence::{LockView, caller_name, class_name};
use trace_model::lockdep::{DependencyGraph, IrqState, Usage, UsageBit, usage_table};
use trace_model::{EventStore, seconds};

#[derive(Serialize)]
struct DepsOutput {
    file: String,
    classes: Vec<ClassUsage>,
    dependencies: Vec<Dependency>,
}

/// One class's usage bits, named as lockdep's statistics name them: X-safe is USED_IN_X
/// (taken in X context), X-unsafe is ENABLED_X (taken or held with X enabled).
#[derive(Serialize)]
struct ClassUsage {
    name: String,
    /// lockdep's `/proc/lockdep` usage characters: hardirq, hardirq-read, softirq,
    /// softirq-read; `-` used in that irq, `+` with it enabled, `?` both, `.` neither.
    usage: String,
    hardirq_safe: bool,
    hardirq_unsafe: bool,
    hardirq_read_safe: bool,
    hardirq_read_unsafe: bool,
    softirq_safe: bool,
    softirq_unsafe: bool,
    softirq_read_safe: bool,
    softirq_read_unsafe: bool,
}

#[derive(Serialize)]
struct Dependency {
    from: String,
    to: String,
    count: u64,
    /// The shortest distance between the two in a held stack (`/proc/lockdep` lists the
    /// dependencies of distance 1).
    distance: u32,
    first: Witness,
}

/// The acquisition of `to` that first made the dependency.
#[derive(Serialize)]
struct Witness {
    ts: f64,
    cpu: u32,
    pid: i32,
    comm: String,
    function: Option<String>,
}

/// `kctx locks --deps [--format text|json] FILE`
pub fn print(
    file: &Path,
    store: &EventStore,
    model: &ContextModel,
    format: TextOrJson,
) -> anyhow::Result<()> {
    let view = LockView::of(store, model);
    let output = DepsOutput {
        file: file.display().to_string(),
        classes: class_usages(&view),
        dependencies: dependencies(&view),
    };
    match format {
        TextOrJson::Json => output::emit_line(&serde_json::to_string_pretty(&output)?)?,
        TextOrJson::Text => output::emit(&deps_text(&output))?,
    }
    Ok(())
}

/// Classes with at least one acquisition lockdep validates, by name.
fn class_usages(v: &LockView) -> Vec<ClassUsage> {
    let usage = usage_table(v.table);
    let mut validated = vec![false; v.table.classes.len()];
    for hold in v.table.holds.iter().filter(|h| h.validated) {
        validated[v.table.class_of(hold.lock).0 as usize] = true;
    }
    let mut classes: Vec<ClassUsage> = usage
        .iter()
        .enumerate()
        .filter(|&(c, _)| validated[c])
        .map(|(c, per_state)| {
            let [hard, soft] = [IrqState::Hardirq, IrqState::Softirq]
                .map(|state| Bits::of(&per_state[state as usize]));
            ClassUsage {
                name: class_name(v, ClassId(c as u32)).into_owned(),
                usage: [hard.usage_chars(), soft.usage_chars()].concat(),
                hardirq_safe: hard.used_write,
                hardirq_unsafe: hard.enabled_write,
                hardirq_read_safe: hard.used_read,
                hardirq_read_unsafe: hard.enabled_read,
                softirq_safe: soft.used_write,
                softirq_unsafe: soft.enabled_write,
                softirq_read_safe: soft.used_read,
                softirq_read_unsafe: soft.enabled_read,
            }
        })
        .collect();
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    classes
}

/// One irq state's four usage bits of a class.
#[derive(Clone, Copy)]
struct Bits {
    used_write: bool,
    used_read: bool,
    enabled_write: bool,
    enabled_read: bool,
}

impl Bits {
    fn of(u: &Usage) -> Bits {
        let write = |b: &UsageBit| b.first_write.is_some();
        let read = |b: &UsageBit| b.first_read.is_some();
        Bits {
            used_write: write(&u.used_in),
            used_read: read(&u.used_in),
            enabled_write: write(&u.enabled),
            enabled_read: read(&u.enabled),
        }
    }

    /// lockdep's two characters (write, read) for this state.
    fn usage_chars(self) -> String {
        let char_of = |used: bool, enabled: bool| match (used, enabled) {
            (true, true) => '?',
            (false, true) => '+',
            (true, false) => '-',
            (false, false) => '.',
        };
        [
            char_of(self.used_write, self.enabled_write),
            char_of(self.used_read, self.enabled_read),
        ]
        .iter()
        .collect()
    }
}

fn dependencies(v: &LockView) -> Vec<Dependency> {
    let graph = DependencyGraph::build(v.table);
    let mut deps: Vec<Dependency> = graph
        .edges
        .iter()
        .map(|e| {
            let next = v.hold(e.witness.1);
            Dependency {
                from: class_name(v, e.from).into_owned(),
                to: class_name(v, e.to).into_owned(),
                count: e.count,
                distance: e.distance,
                first: Witness {
                    ts: seconds(next.acquire_ts),
                    cpu: next.cpu,
                    pid: next.pid,
                    comm: v.comm(next).to_owned(),
                    function: caller_name(v, next).map(str::to_owned),
                },
            }
        })
        .collect();
    deps.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    deps
}

fn deps_text(out: &DepsOutput) -> String {
    let mut text = String::new();
    let w = &mut text;
    let _ = writeln!(
        w,
        "{}: {} lock classes, {} dependencies (lockdep's rules, from the trace's lock holds)",
        out.file,
        out.classes.len(),
        out.dependencies.len()
    );
    let _ = writeln!(
        w,
        "  usage: hardirq, hardirq-read, softirq, softirq-read; '-' taken in that irq, '+' \
         with it enabled, '?' both, '.' neither"
    );
    for c in &out.classes {
        let _ = writeln!(w, "  {} {}", c.usage, c.name);
    }
    let _ = writeln!(w, "dependencies (held -> acquired):");
    for d in &out.dependencies {
        let f = &d.first;
        let _ = write!(
            w,
            "  {} -> {}  x{}, first at {:.6} on CPU {} by {}",
            d.from,
            d.to,
            d.count,
            f.ts,
            f.cpu,
            CommPid(&f.comm, f.pid)
        );
        if let Some(function) = &f.function {
            let _ = write!(w, " in {function}()");
        }
        let _ = writeln!(w);
    }
    text
}
