//! The context prefix of an event line: task, pid, optional TGID, CPU, optional flags,
//! timestamp. Two shapes:
//!
//! * default (tracefs `trace`, `trace_pipe`, `trace-cmd report`):
//!   `<comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>: <body>`
//! * latency format (`options/latency-format`, ftrace_dump_on_oops):
//!   `<comm:8>-<pid> <cpu><flags> <usecs>us<mark>: <body>` with µs relative to the buffer start.
//!
//! Byte-level parsing, no allocation: this runs once per line.

use super::flags::FlagDecoder;
use super::scan::{find_str, skip_spaces, skip_spaces_at, trim_start};
use memchr::memchr_iter;
use trace_model::ContextFlags;

/// The parsed prefix of one event line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Prefix<'a> {
    pub comm: &'a str,
    pub pid: i32,
    /// `None` when there is no TGID column or it printed dashes.
    pub tgid: Option<i32>,
    pub cpu: u32,
    pub flags: ContextFlags,
    pub ts_ns: u64,
    /// What follows the timestamp: `event: payload` or `func <-parent`.
    pub body: &'a str,
}

/// comm, pid and TGID, as [`task`] reads them.
type Task<'a> = (&'a str, i32, Option<i32>);

/// Per-input state of prefix parsing: the flags memo, and the previous default-shape line's
/// task columns with what they said. Consecutive lines mostly come from the same task, and
/// comparing those bytes costs less than reading them again.
#[derive(Debug, Default)]
pub(super) struct PrefixParser<'a> {
    pub flags: FlagDecoder,
    last_task: Option<(&'a str, Task<'a>)>,
}

impl<'a> PrefixParser<'a> {
    /// The task and CPU fields of a default-shape line, and the position after the CPU field.
    fn task_and_cpu(&mut self, line: &'a str) -> Option<(Task<'a>, u32, usize)> {
        let b = line.as_bytes();
        // Same task columns followed by `[`: no `[digits] ` can start inside them (the previous
        // line had none, and its bytes up to this `[` are the same), so the CPU field is here.
        if let Some((head, task)) = self.last_task
            && b.starts_with(head.as_bytes())
            && b.get(head.len()) == Some(&b'[')
            && let Some((cpu, after)) = cpu_at(b, head.len())
        {
            return Some((task, cpu, after));
        }
        let (open, cpu, after) = cpu_field(b)?;
        let task = task(&line[..open])?;
        self.last_task = Some((&line[..open], task));
        Some((task, cpu, after))
    }
}

/// Parses the default prefix (`... [003] d..2. 123.456789: body`).
///
/// One forward pass over the bytes after the task: CPU field, optional flags, timestamp. Each
/// field is short (a few bytes), so plain loops beat a `memchr` call per delimiter.
pub(super) fn parse_default<'a>(
    line: &'a str,
    parser: &mut PrefixParser<'a>,
) -> Option<Prefix<'a>> {
    let b = line.as_bytes();
    let ((comm, pid, tgid), cpu, after_cpu) = parser.task_and_cpu(line)?;

    let mut at = skip_spaces_at(b, after_cpu);
    let mut flags = ContextFlags::NOT_RECORDED;
    let token_end = word_end(b, at);
    if b[token_end - 1] != b':' {
        flags = parser.flags.decode(&b[at..token_end])?;
        at = skip_spaces_at(b, token_end);
    }
    let (ts_ns, ts_end) = timestamp_field(b, at)?;
    Some(Prefix {
        comm,
        pid,
        tgid,
        cpu,
        flags,
        ts_ns,
        body: &line[skip_spaces_at(b, ts_end)..],
    })
}

/// The first `[digits] ` after the line's first byte (a comm may start with `[`): the
/// position of `[`, the CPU, and the position after `] `.
fn cpu_field(b: &[u8]) -> Option<(usize, u32, usize)> {
    let mut open = 0;
    loop {
        open += 1 + b.get(open + 1..)?.iter().position(|&c| c == b'[')?;
        if let Some((cpu, after)) = cpu_at(b, open) {
            return Some((open, cpu, after));
        }
    }
}

/// `[digits] ` (1 to 5 digits) at `open`: the CPU and the position after it.
fn cpu_at(b: &[u8], open: usize) -> Option<(u32, usize)> {
    let digits = b[open + 1..]
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let close = open + 1 + digits;
    if !(1..=5).contains(&digits) || b.get(close..close + 2) != Some(b"] ") {
        return None;
    }
    Some((parse_u32(&b[open + 1..close])?, close + 2))
}

/// `secs.frac:` or a raw counter `digits:` starting at `at`, followed by a space or the end:
/// nanoseconds and the position after the colon.
fn timestamp_field(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let (ts_ns, end) = seconds_prefix(b, at)?;
    let after = end + 1;
    let ends_field = b.get(end) == Some(&b':') && b.get(after).is_none_or(|&c| c == b' ');
    ends_field.then_some((ts_ns, after))
}

/// Position of the first space at or after `at` (or the end of the line).
fn word_end(b: &[u8], at: usize) -> usize {
    at + b[at..]
        .iter()
        .position(|&c| c == b' ')
        .unwrap_or(b.len() - at)
}

/// Parses the latency prefix (`trace-cm-170       0d.h2. 28542us#: body`).
pub(super) fn parse_latency<'a>(
    line: &'a str,
    parser: &mut PrefixParser<'a>,
) -> Option<Prefix<'a>> {
    let b = line.as_bytes();
    // The first `<digits>us<mark>:` preceded by a space ends the prefix; a comm may hold ':'.
    let colon = memchr_iter(b':', b)
        .take(4)
        .find(|&i| i >= 4 && b"us".as_slice() == &b[i - 3..i - 1] && is_delay_mark(b[i - 1]))?;
    let us_end = colon - 3;
    let digits_start = b[..us_end]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    if digits_start == us_end || digits_start == 0 || b[digits_start - 1] != b' ' {
        return None;
    }
    let ts_ns = parse_u64(&b[digits_start..us_end])?.checked_mul(1000)?;
    glued_cpu_prefix(line, digits_start, ts_ns, colon, &mut parser.flags)
}

/// `trace-cmd report -l`: the latency layout (CPU glued to the flags, no brackets) with an
/// absolute timestamp: `trace-cm-20913   2d..2. 852655.067718: sched_switch: ...`.
pub(super) fn parse_report_latency<'a>(
    line: &'a str,
    parser: &mut PrefixParser<'a>,
) -> Option<Prefix<'a>> {
    let colon = find_str(line, ": ")?;
    let ts_start = rfind(&line.as_bytes()[..colon], b' ')? + 1;
    let ts_ns = parse_seconds(&line[ts_start..colon])?;
    glued_cpu_prefix(line, ts_start, ts_ns, colon, &mut parser.flags)
}

/// The part before the timestamp of the latency layouts: `comm-pid <cpu><flags> `.
fn glued_cpu_prefix<'a>(
    line: &'a str,
    ts_start: usize,
    ts_ns: u64,
    colon: usize,
    decoder: &mut FlagDecoder,
) -> Option<Prefix<'a>> {
    let head = line[..ts_start].trim_end_matches(' ');
    let token_start = rfind(head.as_bytes(), b' ')? + 1;
    let cpu_flags = &head.as_bytes()[token_start..];
    let cpu_len = cpu_flags.iter().take_while(|c| c.is_ascii_digit()).count();
    let cpu = parse_u32(&cpu_flags[..cpu_len])?;
    let flags = decoder.decode(&cpu_flags[cpu_len..])?;
    let (comm, pid, tgid) = task(&head[..token_start])?;
    let body = skip_spaces(&line[colon + 1..]);
    Some(Prefix {
        comm,
        pid,
        tgid,
        cpu,
        flags,
        ts_ns,
        body,
    })
}

fn is_delay_mark(c: u8) -> bool {
    matches!(c, b' ' | b'$' | b'@' | b'*' | b'#' | b'!' | b'+')
}

/// `   comm-pid  (tgid) ` → comm, pid, tgid, read backwards from the CPU field. The pid is
/// the digits before the end, after the LAST `-` (comms hold dashes).
fn task(head: &str) -> Option<(&str, i32, Option<i32>)> {
    let b = head.as_bytes();
    let mut end = trim_end_at(b, b.len());
    let mut tgid = None;
    if end > 0 && b[end - 1] == b')' {
        let open = rfind(&b[..end - 1], b'(')?;
        let inner = head[open + 1..end - 1].trim_ascii();
        if !inner.bytes().all(|c| c == b'-') {
            tgid = Some(parse_u32(inner.as_bytes())? as i32);
        }
        end = trim_end_at(b, open);
    }
    let digits = b[..end]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let dash = (end - digits).checked_sub(1)?;
    if b[dash] != b'-' {
        return None;
    }
    let pid = parse_u32(&b[dash + 1..end])? as i32;
    Some((trim_start(&head[..dash]), pid, tgid))
}

/// `end` moved back over trailing whitespace of `b[..end]` (pid padding: spaces word-wise).
fn trim_end_at(b: &[u8], mut end: usize) -> usize {
    while end >= 8 && b[end - 8..end] == *b"        " {
        end -= 8;
    }
    b[..end].trim_ascii_end().len()
}

/// Last position of `byte` in a span of a few bytes (cheaper than a `memrchr` call there).
fn rfind(b: &[u8], byte: u8) -> Option<usize> {
    b.iter().rposition(|&c| c == byte)
}

/// `123.456789` (seconds with µs or ns) or a raw counter without a dot.
pub(super) fn parse_seconds(s: &str) -> Option<u64> {
    let (ts_ns, end) = seconds_prefix(s.as_bytes(), 0)?;
    (end == s.len()).then_some(ts_ns)
}

/// The seconds (or raw counter) starting at `at`, in one pass: nanoseconds and where the
/// number ends.
fn seconds_prefix(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let (secs, dot) = leading_digits(b, at)?;
    if b.get(dot) != Some(&b'.') {
        return Some((secs, dot));
    }
    let (frac, end) = leading_digits(b, dot + 1)?;
    let frac_len = end - dot - 1;
    if frac_len > 9 {
        return None;
    }
    let scale = 10u64.pow(9 - frac_len as u32);
    Some((
        secs.checked_mul(1_000_000_000)?.checked_add(frac * scale)?,
        end,
    ))
}

/// The decimal number starting at `at` (1 to 19 digits, so it cannot overflow) and where it ends.
fn leading_digits(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    let mut end = at;
    while let Some(&c) = b.get(end).filter(|c| c.is_ascii_digit()) {
        if end - at == 19 {
            return None;
        }
        value = value * 10 + u64::from(c - b'0');
        end += 1;
    }
    (end > at).then_some((value, end))
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

fn parse_u32(b: &[u8]) -> Option<u32> {
    parse_u64(b).and_then(|v| u32::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::IrqContext;

    #[test]
    fn default_with_tgid_and_migrate_column() {
        let p = parse_default(
            "       trace-cmd-267     (    267) [003] dN.4.    64.418500: sched_waking: comm=init",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!(
            (p.comm, p.pid, p.tgid, p.cpu),
            ("trace-cmd", 267, Some(267), 3)
        );
        assert_eq!(p.ts_ns, 64_418_500_000);
        assert_eq!(p.flags.preempt_depth(), Some(4));
        assert_eq!(p.flags.migrate_disable(), Some(0));
        assert_eq!(p.body, "sched_waking: comm=init");
    }

    #[test]
    fn unknown_tgid_and_idle_task() {
        let p = parse_default(
            "          <idle>-0       (-------) [001] dNh2.    64.418679: sched_wakeup: x",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!((p.comm, p.pid, p.tgid), ("<idle>", 0, None));
        assert_eq!(p.flags.irq_context(), Some(IrqContext::Hardirq));
    }

    #[test]
    fn report_without_flags_and_comm_with_dash_and_space() {
        let p = parse_default(
            " irq/409-inv_irq-99    [000] 50260.767463: sched_wakeup: comm=x",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!((p.comm, p.pid, p.cpu), ("irq/409-inv_irq", 99, 0));
        assert!(!p.flags.recorded());
        let p = parse_default(
            "Binder 1-280 [000] d..5 514769.086330: x: y",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!(p.comm, "Binder 1");
    }

    #[test]
    fn unpadded_atrace_line_and_tab() {
        let p = parse_default(
            "atrace-14446 [000] ...2  1212.465062: sched_switch: a",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!(
            (p.comm, p.pid, p.ts_ns),
            ("atrace", 14446, 1_212_465_062_000)
        );
        assert_eq!(p.flags.migrate_disable(), None);
        let p = parse_default(
            "\t   <...>-15430 [006]  7115.449594: sched_switch: a",
            &mut PrefixParser::default(),
        );
        assert_eq!(p.unwrap().comm, "<...>");
    }

    #[test]
    fn timestamps_without_dot_and_with_ns() {
        assert_eq!(parse_seconds("123456789012"), Some(123_456_789_012));
        assert_eq!(parse_seconds("1.000000001"), Some(1_000_000_001));
        assert_eq!(parse_seconds("1.5"), Some(1_500_000_000));
        assert_eq!(parse_seconds("1."), None);
        assert_eq!(parse_seconds("x"), None);
        let p = parse_default(
            "           sh-1 [001] d..1 123456789012: counter_event: a",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!(p.ts_ns, 123_456_789_012);
    }

    #[test]
    fn rejects_prose_and_console_lines() {
        for line in [
            "hardirqs last  enabled at (79893): [<ffffffff81007bd9>] trace_hardirqs_on",
            "see [1] for details: more",
            "x-1 [002] notflags 1.0: e: p",
            "CPU:2 [LOST 5 EVENTS]",
        ] {
            assert_eq!(
                parse_default(line, &mut PrefixParser::default()),
                None,
                "{line}"
            );
        }
    }

    #[test]
    fn report_with_latency_column() {
        // trace-cmd report -l (formats.md 1.9)
        let p = parse_report_latency(
            "trace-cm-20913   2d..2. 852655.067718: sched_switch: trace-cmd:20913 [120] S ==> x:0 [120]",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!((p.comm, p.pid, p.cpu), ("trace-cm", 20913, 2));
        assert_eq!(p.ts_ns, 852_655_067_718_000);
        assert_eq!(p.flags.irqs_off(), Some(true));
        assert!(p.body.starts_with("sched_switch: "));
        assert_eq!(
            parse_report_latency("a-1 notflags 1.5: x", &mut PrefixParser::default()),
            None
        );
    }

    #[test]
    fn latency_lines() {
        let p = parse_latency(
            "trace-cm-170       0d.h2. 28542us#: hrtimer_expire_entry: hrtimer=ff",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!(
            (p.comm, p.pid, p.cpu, p.ts_ns),
            ("trace-cm", 170, 0, 28_542_000)
        );
        assert_eq!(p.flags.irq_context(), Some(IrqContext::Hardirq));
        assert_eq!(p.body, "hrtimer_expire_entry: hrtimer=ff");
        let p = parse_latency(
            "syz-exec-31490   2...1 413720925us : 0: }D",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!((p.cpu, p.ts_ns, p.body), (2, 413_720_925_000, "0: }D"));
        assert_eq!(p.flags.migrate_disable(), None);
        let p = parse_latency(
            "pgdatini-180      29..... 1546876us : __free_pages_core: will INC",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!((p.cpu, p.flags.migrate_disable()), (29, Some(0)));
        let p = parse_latency(
            "  <idle>-0         3d.h1. 27255us+: hrtimer_expire_entry: x",
            &mut PrefixParser::default(),
        )
        .unwrap();
        assert_eq!((p.comm, p.cpu), ("<idle>", 3));
        assert_eq!(
            parse_latency("took 12us : nothing", &mut PrefixParser::default()),
            None
        );
    }
}
