//! Lines that are not events but say something: `#` headers (tracer, `#P:`, the latency
//! header with the kernel release, the flag-column help), trace-cmd report's `version =` /
//! `cpus=`, lost-event markers, the ftrace_dump_on_oops frame, stack-trace continuation lines,
//! and kernel releases stated in console text.

use super::flags::FlagLayout;
use trace_model::TraceMeta;

/// What a `#` header told us.
#[derive(Debug, Default)]
pub(super) struct HeaderFacts {
    pub layout: FlagLayout,
    /// The flag-column help was seen (its lines name the columns).
    saw_flag_help: bool,
    /// `# tracer: function_graph` and friends.
    pub tracer: Option<String>,
    /// A latency-tracer header (`# ... latency trace v1.1.5 on <release>`).
    pub latency_header: bool,
}

impl HeaderFacts {
    /// Reads one `#` line; returns the CPU count a `#P:` states (the caller checks it).
    pub fn comment(&mut self, line: &str, meta: &mut TraceMeta) -> Option<u32> {
        let body = line.trim_start_matches('#').trim();
        if let Some(tracer) = body.strip_prefix("tracer:") {
            self.tracer = Some(tracer.trim().to_owned());
        } else if let Some((_, release)) = body.split_once("latency trace v") {
            self.latency_header = true;
            if let Some((_, release)) = release.split_once(" on ") {
                meta.kernel_version = Some(release.trim().to_owned());
            }
        } else if body.contains("migrate-disable") {
            self.layout = FlagLayout::MigrateColumn;
        } else if body.contains("preempt-depth") {
            self.saw_flag_help = true;
        } else if (body.starts_with("TASK-PID") || body.starts_with("cmd "))
            && self.saw_flag_help
            && self.layout != FlagLayout::MigrateColumn
        {
            self.layout = FlagLayout::NoMigrateColumn;
        }
        after_number(body, "#P:")
    }
}

/// A recognised non-comment, non-event line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Marker {
    /// `CPU:N [LOST n EVENTS]`, `CPU:N [n EVENTS DROPPED]` and their count-less forms.
    Lost { cpu: u32, count: Option<u64> },
    /// `cpus=N` (trace-cmd report).
    Cpus(u32),
    /// `Dumping ftrace buffer:` (ftrace_dump_on_oops).
    DumpStart,
    /// A line of dashes: frames a dump, separates function_graph context switches.
    Dashes,
    /// ` => func` lines after a `<stack trace>` entry.
    StackFrame,
    /// Other known framing: `version = 6`, `CPU 3 is empty`, `##### CPU 2 buffer started ####`,
    /// `(ftrace buffer empty)`.
    Other,
}

/// Recognises a framing line of any dialect.
pub(super) fn marker(line: &str) -> Option<Marker> {
    let t = line.trim();
    if let Some(rest) = t.strip_prefix("CPU:") {
        return lost(rest);
    }
    if let Some(cpus) = t.strip_prefix("cpus=") {
        return cpus.parse().ok().map(Marker::Cpus);
    }
    if t.starts_with("=> ") {
        return Some(Marker::StackFrame);
    }
    if t.len() >= 3 && t.bytes().all(|c| c == b'-') {
        return Some(Marker::Dashes);
    }
    if t.starts_with("Dumping ftrace ") && t.ends_with("buffer:") {
        return Some(Marker::DumpStart);
    }
    let other = t.starts_with("version = ")
        || (t.starts_with("CPU ") && t.ends_with(" is empty"))
        || (t.starts_with("##### CPU ") && t.ends_with("buffer started ####"))
        || t == "(ftrace buffer empty)";
    other.then_some(Marker::Other)
}

/// `2 [LOST 5 EVENTS]`, `2 [LOST EVENTS]`, `2 [5 EVENTS DROPPED]`, `2 [EVENTS DROPPED]`.
fn lost(rest: &str) -> Option<Marker> {
    let (cpu, what) = rest.split_once(' ')?;
    let cpu = cpu.parse().ok()?;
    let what = what.trim().strip_prefix('[')?.strip_suffix(']')?;
    let count_text = what
        .strip_prefix("LOST")
        .and_then(|w| w.strip_suffix("EVENTS"))
        .or_else(|| what.strip_suffix("EVENTS DROPPED"))?
        .trim();
    let count = match count_text {
        "" => None,
        n => Some(n.parse().ok()?),
    };
    Some(Marker::Lost { cpu, count })
}

/// The number after `key` (`#P:4` → 4).
fn after_number(s: &str, key: &str) -> Option<u32> {
    let rest = &s[s.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A kernel release stated in console text: `... Not tainted 6.15.0-rc5+ #8`,
/// `Tainted: G        W          6.1.0 #1`, `Linux version 6.1.0-56-amd64 (...)`.
pub(super) fn kernel_release(line: &str) -> Option<&str> {
    let after = ["Not tainted ", "Linux version "]
        .iter()
        .find_map(|k| line.find(k).map(|i| &line[i + k.len()..]))
        .or_else(|| {
            let rest = &line[line.find("Tainted: ")? + 9..];
            rest.find(|c: char| c.is_ascii_digit()).map(|i| &rest[i..])
        })?;
    let release = after.split_whitespace().next()?;
    release
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some(release)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_event_markers() {
        assert_eq!(
            marker("CPU:2 [LOST 5 EVENTS]"),
            Some(Marker::Lost {
                cpu: 2,
                count: Some(5)
            })
        );
        assert_eq!(
            marker("CPU:0 [LOST EVENTS]"),
            Some(Marker::Lost {
                cpu: 0,
                count: None
            })
        );
        assert_eq!(
            marker("CPU:3 [1234 EVENTS DROPPED]"),
            Some(Marker::Lost {
                cpu: 3,
                count: Some(1234)
            })
        );
        assert_eq!(
            marker("CPU:3 [EVENTS DROPPED]"),
            Some(Marker::Lost {
                cpu: 3,
                count: None
            })
        );
        assert_eq!(marker("CPU: 0 PID: 10 Comm: kworker/0:1"), None);
    }

    #[test]
    fn header_facts() {
        let mut meta = TraceMeta::default();
        let mut h = HeaderFacts::default();
        h.comment(
            "# function latency trace v1.1.5 on 6.1.192-lablockdep",
            &mut meta,
        );
        let cpus = h.comment(
            "# latency: 0 us, #40279/40279, CPU#2 | (M:preempt VP:0, KP:0, SP:0 HP:0 #P:4)",
            &mut meta,
        );
        assert_eq!(meta.kernel_version.as_deref(), Some("6.1.192-lablockdep"));
        assert_eq!(cpus, Some(4));
        assert!(h.latency_header);

        let mut h = HeaderFacts::default();
        for line in [
            "#                            || / _--=> preempt-depth",
            "#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION",
        ] {
            h.comment(line, &mut meta);
        }
        assert_eq!(h.layout, FlagLayout::NoMigrateColumn);
    }

    #[test]
    fn releases_in_console_text() {
        assert_eq!(
            kernel_release("CPU: 0 UID: 0 PID: 10 Comm: kworker/0:1 Not tainted 6.15.0-rc5+ #8"),
            Some("6.15.0-rc5+")
        );
        assert_eq!(
            kernel_release("CPU: 1 PID: 7 Comm: x Tainted: G        W          6.1.0 #1"),
            Some("6.1.0")
        );
        assert_eq!(kernel_release("Not tainted by anything"), None);
    }
}
