//! Facts about a trace as a whole: where it came from, the kernel, the clock, CPUs, and the
//! events the recording lost.

use serde::{Deserialize, Serialize};

/// The input format a store was imported from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    #[default]
    Unknown,
    /// ftrace text; `dialect` names the variant (`tracefs`, `trace_pipe`, `latency`,
    /// `trace-cmd report`, `systrace`, `console dump`, ...).
    FtraceText { dialect: String },
    /// trace-cmd trace.dat.
    TraceDat { version: u32, compression: String },
    /// Kernel console / serial log.
    Console,
    /// QEMU log.
    Qemu,
}

/// A range of events the recording lost on one CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostEvents {
    pub cpu: u32,
    /// Time of the gap: the timestamp of the first event after it (ns).
    pub ts: u64,
    /// How many events were lost, when the trace says.
    pub count: Option<u64>,
}

/// What kctx's rules read from a kernel release string (`6.1.0-56-amd64`, `6.6.0-rt15`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelRelease {
    /// Major and minor version, when the string starts with them.
    pub version: Option<(u32, u32)>,
    /// A PREEMPT_RT kernel (`-rt` in the release).
    pub preempt_rt: bool,
}

impl KernelRelease {
    pub fn parse(release: &str) -> KernelRelease {
        let mut parts = release.split(|c: char| !c.is_ascii_digit());
        let mut number = || parts.next().and_then(|s| s.parse::<u32>().ok());
        KernelRelease {
            version: number().zip(number()),
            preempt_rt: release.contains("-rt"),
        }
    }

    /// The release is at least `major.minor`; false when the version is unknown.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version.is_some_and(|v| v >= (major, minor))
    }
}

/// Trace-wide metadata.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TraceMeta {
    pub source: SourceFormat,
    /// Kernel release (`6.1.0-56-amd64`) when the trace tells it; [`TraceMeta::kernel_release`]
    /// reads it.
    pub kernel_version: Option<String>,
    /// Trace clock (`global`, `local`, `x86-tsc`, ...) when known.
    pub clock: Option<String>,
    /// Number of CPUs the trace covers (the highest CPU seen + 1 when not stated).
    pub cpus: u32,
    /// Lost-event records, in time order per CPU.
    pub lost: Vec<LostEvents>,
    /// True when timestamps are relative to the buffer start (latency format).
    pub relative_time: bool,
}

impl TraceMeta {
    /// The kernel release, parsed, when the trace tells it.
    pub fn kernel_release(&self) -> Option<KernelRelease> {
        self.kernel_version.as_deref().map(KernelRelease::parse)
    }

    /// Lost events in words (`12 in 5 gaps`), saying when gaps did not count their events:
    /// a gap of unknown size is not a gap of 0.
    pub fn lost_text(&self) -> String {
        let (gaps, events) = self.lost_totals();
        let uncounted = self.lost.iter().filter(|l| l.count.is_none()).count();
        match uncounted {
            0 => format!("{events} in {gaps} gaps"),
            n if n == gaps => format!("an unknown number in {gaps} gaps"),
            n => format!("at least {events} in {gaps} gaps ({n} of unknown size)"),
        }
    }

    /// Lost events in all: (records, events counted; records without a count are not summed).
    pub fn lost_totals(&self) -> (usize, u64) {
        (
            self.lost.len(),
            self.lost.iter().filter_map(|l| l.count).sum(),
        )
    }
}

#[cfg(test)]
mod kernel_release_tests {
    use super::KernelRelease;

    #[test]
    fn releases_parse_into_version_and_preempt_rt() {
        let debian = KernelRelease::parse("6.1.0-56-amd64");
        assert_eq!(debian.version, Some((6, 1)));
        assert!(!debian.preempt_rt);
        assert!(debian.at_least(5, 18) && !debian.at_least(6, 2));
        assert!(KernelRelease::parse("6.6.0-rt15").preempt_rt);
        let odd = KernelRelease::parse("custom");
        assert_eq!(odd.version, None);
        assert!(!odd.at_least(0, 0));
    }
}
