//! Which dialect a file turned out to be, from what its lines showed: named in the store's
//! metadata (`kctx stats` prints it).

use super::header::HeaderFacts;

/// What the lines of one input showed.
#[derive(Debug, Default)]
pub(super) struct Dialect {
    pub tracefs_header: bool,
    pub flags_column: bool,
    pub latency: bool,
    /// `version =` / `cpus=` / `CPU N is empty`: trace-cmd report.
    pub report: bool,
    pub graph: bool,
    pub html: bool,
    pub console: bool,
    pub quoted: bool,
    /// `Dumping ftrace buffer:` seen / its opening dashes seen.
    pub dump: bool,
    pub dump_body: bool,
}

impl Dialect {
    /// A short name: `tracefs`, `trace_pipe`, `latency`, `trace-cmd report`, `systrace`,
    /// `ftrace_dump_on_oops`, `function_graph`; `, mail-quoted` / `, in console log` added.
    pub fn name(&self, header: &HeaderFacts) -> String {
        let base = if self.html {
            "systrace"
        } else if self.dump {
            "ftrace_dump_on_oops"
        } else if self.latency {
            "latency"
        } else if self.report {
            "trace-cmd report"
        } else if self.graph && !self.flags_column {
            "function_graph"
        } else if self.tracefs_header || header.tracer.is_some() {
            "tracefs"
        } else {
            "trace_pipe"
        };
        let mut name = base.to_owned();
        if self.quoted {
            name.push_str(", mail-quoted");
        }
        if self.console && !self.dump {
            name.push_str(", in console log");
        }
        name
    }
}
