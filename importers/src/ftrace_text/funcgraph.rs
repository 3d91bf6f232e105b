//! function_graph tracer lines (tracefs and trace-cmd report render them alike):
//!
//! ```text
//!  3)               |  pick_next_task(rq=0x..) { /* <-__schedule+0x154/0x700 */
//!  3)   0.081 us    |    pick_task_fair();
//!  3)   2.513 us    |  } /* pick_next_task ret=0x0 */
//!  3)    bash-431    =>    <idle>-0
//! ```
//!
//! The lines carry durations, not timestamps; times are rebuilt per CPU from the durations,
//! relative to the start (the store then says `relative_time`).

use rustc_hash::FxHashMap;
use trace_model::StrId;

/// One parsed function_graph line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum GraphLine<'a> {
    /// `func() {`
    Entry { cpu: u32, func: &'a str },
    /// `func();` with its duration.
    Leaf {
        cpu: u32,
        func: &'a str,
        dur_ns: u64,
    },
    /// `}`, with the function when `funcgraph-tail` names it.
    Exit {
        cpu: u32,
        func: Option<&'a str>,
        dur_ns: u64,
    },
    /// ` 3)    bash-431    =>    <idle>-0`: the CPU switches task.
    Switch { cpu: u32, comm: &'a str, pid: i32 },
    /// `==========>` / `<==========` irq markers.
    IrqMarker,
}

/// Parses a function_graph line; CPU 0 when the `N)` column is absent (trimmed excerpts).
pub(super) fn parse(line: &str) -> Option<GraphLine<'_>> {
    let column = cpu_column(line);
    let (cpu, rest) = column.unwrap_or((0, line));
    if let (Some(_), Some((_, next))) = (column, rest.split_once(" => ")) {
        let (comm, pid) = next.trim().rsplit_once('-')?;
        return Some(GraphLine::Switch {
            cpu,
            comm,
            pid: pid.parse().ok()?,
        });
    }
    let (duration, body) = rest.split_once('|')?;
    let dur_ns = duration_ns(duration)?;
    let body = strip_comment(body).trim();
    let tail_name = comment(body_with_comment(rest)).and_then(|c| c.split(' ').next());
    if body == "}" {
        return Some(GraphLine::Exit {
            cpu,
            func: tail_name,
            dur_ns: dur_ns?,
        });
    }
    if body.starts_with("==========>") || body.starts_with("<==========") {
        return Some(GraphLine::IrqMarker);
    }
    let (func, after) = body.split_once('(')?;
    if func.is_empty() || func.contains(' ') {
        return None;
    }
    match (after.ends_with(") {"), after.ends_with(");"), dur_ns) {
        (true, _, _) => Some(GraphLine::Entry { cpu, func }),
        (_, true, Some(dur_ns)) => Some(GraphLine::Leaf { cpu, func, dur_ns }),
        _ => None,
    }
}

/// ` 3) rest` → (3, rest).
fn cpu_column(line: &str) -> Option<(u32, &str)> {
    let t = line.trim_start();
    let close = t.find(')')?;
    let cpu = t[..close].parse().ok()?;
    Some((cpu, &t[close + 1..]))
}

/// The duration column: blank, or `[mark] 0.384 us` (marks `+ ! # * @ $`). `None` if the
/// text is not a duration column; `Some(None)` if it is blank.
fn duration_ns(col: &str) -> Option<Option<u64>> {
    let t = col
        .trim()
        .trim_start_matches(['+', '!', '#', '*', '@', '$'])
        .trim();
    if t.is_empty() {
        return Some(None);
    }
    let us = t.strip_suffix("us")?.trim();
    let (whole, frac) = us.split_once('.').unwrap_or((us, ""));
    let whole: u64 = whole.parse().ok()?;
    let frac_ns = match frac.len() {
        0 => 0,
        1..=3 => frac.parse::<u64>().ok()? * 10u64.pow(3 - frac.len() as u32),
        _ => return None,
    };
    Some(Some(whole * 1000 + frac_ns))
}

fn body_with_comment(rest: &str) -> &str {
    rest.split_once('|').map_or(rest, |(_, b)| b)
}

fn strip_comment(body: &str) -> &str {
    body.split_once("/*").map_or(body, |(code, _)| code)
}

fn comment(body: &str) -> Option<&str> {
    let (_, c) = body.split_once("/*")?;
    Some(c.trim_end().strip_suffix("*/").unwrap_or(c).trim())
}

/// Call depth from the indentation of a graph line's body (`|  ` then 2 spaces per level).
pub(super) fn indent_depth(line: &str) -> u16 {
    let body = line.split_once('|').map_or(line, |(_, b)| b);
    let spaces = body.bytes().take_while(|&c| c == b' ').count();
    u16::try_from(spaces.saturating_sub(2) / 2).unwrap_or(u16::MAX)
}

/// Per-CPU reconstruction of times and nesting.
#[derive(Debug, Default)]
pub(super) struct GraphClock {
    cpus: FxHashMap<u32, CpuGraph>,
}

#[derive(Debug, Default)]
struct CpuGraph {
    now_ns: u64,
    /// Open calls: function and entry time.
    open: Vec<(StrId, u64)>,
    task: Option<(StrId, i32)>,
}

/// Time, depth and task of one graph event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct GraphEvent {
    pub ts_ns: u64,
    pub depth: u16,
    /// The function an exit closes (from the open call when the line does not say).
    pub func: StrId,
    pub task: Option<(StrId, i32)>,
}

impl GraphClock {
    /// A call opens.
    pub fn entry(&mut self, cpu: u32, func: StrId) -> GraphEvent {
        let c = self.cpus.entry(cpu).or_default();
        let ev = c.event(func);
        c.open.push((func, c.now_ns));
        ev
    }

    /// A leaf call: starts now and takes `dur_ns`.
    pub fn leaf(&mut self, cpu: u32, func: StrId, dur_ns: u64) -> GraphEvent {
        let c = self.cpus.entry(cpu).or_default();
        let ev = c.event(func);
        c.now_ns += dur_ns;
        ev
    }

    /// A call returns after `dur_ns`; `func` is `None` when the line does not name it.
    pub fn exit(&mut self, cpu: u32, func: Option<StrId>, dur_ns: u64) -> GraphEvent {
        let c = self.cpus.entry(cpu).or_default();
        let (opened, start) = c.open.pop().unwrap_or((StrId::EMPTY, c.now_ns));
        c.now_ns = c.now_ns.max(start + dur_ns);
        c.event(func.unwrap_or(opened))
    }

    /// The CPU switched to another task.
    pub fn switch(&mut self, cpu: u32, comm: StrId, pid: i32) {
        let c = self.cpus.entry(cpu).or_default();
        c.task = Some((comm, pid));
        c.open.clear();
    }
}

impl CpuGraph {
    fn event(&self, func: StrId) -> GraphEvent {
        GraphEvent {
            ts_ns: self.now_ns,
            depth: u16::try_from(self.open.len()).unwrap_or(u16::MAX),
            func,
            task: self.task,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_leaves_and_exits() {
        assert_eq!(
            parse(
                " 3)               |            pick_next_task(rq=0xffff88807ddad800) { /* <-__schedule+0x154/0x700 */"
            ),
            Some(GraphLine::Entry {
                cpu: 3,
                func: "pick_next_task"
            })
        );
        assert_eq!(
            parse(" 3)   0.081 us    |                pick_task_fair(rq=0x1); /* <-x ret=0x0 */"),
            Some(GraphLine::Leaf {
                cpu: 3,
                func: "pick_task_fair",
                dur_ns: 81
            })
        );
        assert_eq!(
            parse(" 3)   2.513 us    |              } /* pick_next_task_fair ret=0x0 */"),
            Some(GraphLine::Exit {
                cpu: 3,
                func: Some("pick_next_task_fair"),
                dur_ns: 2513
            })
        );
        assert_eq!(
            parse(" 411.342 us |    }"),
            Some(GraphLine::Exit {
                cpu: 0,
                func: None,
                dur_ns: 411_342
            })
        );
        assert_eq!(
            parse("            |  serial8250_console_write() {"),
            Some(GraphLine::Entry {
                cpu: 0,
                func: "serial8250_console_write"
            })
        );
        assert_eq!(
            parse(" 3)    bash-431    =>    <idle>-0   "),
            Some(GraphLine::Switch {
                cpu: 3,
                comm: "<idle>",
                pid: 0
            })
        );
        assert_eq!(parse(" 1) + 12.5 us   |  }").map(|_| ()), Some(()));
    }

    #[test]
    fn depth_from_indentation() {
        assert_eq!(
            indent_depth("            |  serial8250_console_write() {"),
            0
        );
        assert_eq!(indent_depth(" 1.870 us   |          io_serial_in();"), 4);
    }

    #[test]
    fn prose_is_not_a_graph_line() {
        for line in [
            "The data written is binary and fixed size (O_CREAT | O_WRONLY | O_DSYNC)",
            "$ time ./sertest -n 2500 /tmp/serco",
            "if (a || b) {",
        ] {
            assert_eq!(parse(line), None, "{line}");
        }
    }

    #[test]
    fn clock_rebuilds_times_from_durations() {
        let mut c = GraphClock::default();
        let (f, g) = (StrId(1), StrId(2));
        assert_eq!(c.entry(0, f).ts_ns, 0);
        let leaf = c.leaf(0, g, 100);
        assert_eq!((leaf.ts_ns, leaf.depth), (0, 1));
        let exit = c.exit(0, None, 250);
        assert_eq!((exit.ts_ns, exit.func, exit.depth), (250, f, 0));
    }
}
