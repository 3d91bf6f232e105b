//! The context prefix of an event line: task, pid, optional TGID, CPU, optional flags,
//! timestamp. Two shapes:
//!
//! * default (tracefs `trace`, `trace_pipe`, `trace-cmd report`):
//!   `<comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>: <body>`
//! * latency format (`options/latency-format`, ftrace_dump_on_oops):
//!   `<comm:8>-<pid> <cpu><flags> <usecs>us<mark>: <body>` with µs relative to the buffer start.
//!
//! Byte-level parsing, no allocation: this runs once per line.

use super::flags::{FlagLayout, decode};
use super::scan::{find_str, first_word, skip_spaces};
use memchr::{memchr, memchr_iter, memrchr};
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

/// Parses the default prefix (`... [003] d..2. 123.456789: body`).
pub(super) fn parse_default(line: &str, layout: FlagLayout) -> Option<Prefix<'_>> {
    let b = line.as_bytes();
    let open = cpu_bracket(b)?;
    let close = open + 1 + memchr(b']', &b[open + 1..])?;
    let cpu = parse_u32(&b[open + 1..close])?;
    let (comm, pid, tgid) = task(&line[..open])?;

    let mut rest = skip_spaces(&line[close + 1..]);
    let mut token = first_word(rest);
    let mut flags = ContextFlags::NOT_RECORDED;
    if !token.ends_with(':') {
        flags = decode(token.as_bytes(), layout)?;
        rest = skip_spaces(&rest[token.len()..]);
        token = first_word(rest);
    }
    let ts_ns = parse_seconds(token.strip_suffix(':')?)?;
    let body = skip_spaces(&rest[token.len()..]);
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

/// Parses the latency prefix (`trace-cm-170       0d.h2. 28542us#: body`).
pub(super) fn parse_latency(line: &str, layout: FlagLayout) -> Option<Prefix<'_>> {
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
    glued_cpu_prefix(line, digits_start, ts_ns, colon, layout)
}

/// `trace-cmd report -l`: the latency layout (CPU glued to the flags, no brackets) with an
/// absolute timestamp: `trace-cm-20913   2d..2. 852655.067718: sched_switch: ...`.
pub(super) fn parse_report_latency(line: &str, layout: FlagLayout) -> Option<Prefix<'_>> {
    let colon = find_str(line, ": ")?;
    let ts_start = memrchr(b' ', &line.as_bytes()[..colon])? + 1;
    let ts_ns = parse_seconds(&line[ts_start..colon])?;
    glued_cpu_prefix(line, ts_start, ts_ns, colon, layout)
}

/// The part before the timestamp of the latency layouts: `comm-pid <cpu><flags> `.
fn glued_cpu_prefix(
    line: &str,
    ts_start: usize,
    ts_ns: u64,
    colon: usize,
    layout: FlagLayout,
) -> Option<Prefix<'_>> {
    let head = line[..ts_start].trim_end_matches(' ');
    let token_start = memrchr(b' ', head.as_bytes())? + 1;
    let cpu_flags = &head.as_bytes()[token_start..];
    let cpu_len = cpu_flags.iter().take_while(|c| c.is_ascii_digit()).count();
    let cpu = parse_u32(&cpu_flags[..cpu_len])?;
    let flags = decode(&cpu_flags[cpu_len..], layout)?;
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

/// Position of the `[` of the CPU field: the first `[digits] `.
fn cpu_bracket(b: &[u8]) -> Option<usize> {
    memchr_iter(b'[', b).find(|&i| {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        (1..=5).contains(&digits)
            && b.get(i + 1 + digits) == Some(&b']')
            && b.get(i + 2 + digits) == Some(&b' ')
            && i > 0
    })
}

/// `   comm-pid  (tgid) ` → comm, pid, tgid. The pid follows the LAST `-` (comms hold dashes).
fn task(head: &str) -> Option<(&str, i32, Option<i32>)> {
    let mut head = head.trim_ascii_end();
    let mut tgid = None;
    if let Some(inner_end) = head.strip_suffix(')') {
        let open = memrchr(b'(', inner_end.as_bytes())?;
        let inner = inner_end[open + 1..].trim_ascii();
        if !inner.bytes().all(|c| c == b'-') {
            tgid = Some(parse_u32(inner.as_bytes())? as i32);
        }
        head = inner_end[..open].trim_ascii_end();
    }
    let dash = memrchr(b'-', head.as_bytes())?;
    let pid = parse_u32(&head.as_bytes()[dash + 1..])? as i32;
    let comm = head[..dash].trim_ascii_start();
    Some((comm, pid, tgid))
}

/// `123.456789` (seconds with µs or ns) or a raw counter without a dot.
pub(super) fn parse_seconds(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    match memchr(b'.', b) {
        None => parse_u64(b),
        Some(dot) => {
            let secs = parse_u64(&b[..dot])?;
            let frac = &b[dot + 1..];
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            let scale = 10u64.pow(9 - frac.len() as u32);
            secs.checked_mul(1_000_000_000)?
                .checked_add(parse_u64(frac)? * scale)
        }
    }
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
            FlagLayout::Unknown,
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
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!((p.comm, p.pid, p.tgid), ("<idle>", 0, None));
        assert_eq!(p.flags.irq_context(), Some(IrqContext::Hardirq));
    }

    #[test]
    fn report_without_flags_and_comm_with_dash_and_space() {
        let p = parse_default(
            " irq/409-inv_irq-99    [000] 50260.767463: sched_wakeup: comm=x",
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!((p.comm, p.pid, p.cpu), ("irq/409-inv_irq", 99, 0));
        assert!(!p.flags.recorded());
        let p = parse_default(
            "Binder 1-280 [000] d..5 514769.086330: x: y",
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!(p.comm, "Binder 1");
    }

    #[test]
    fn unpadded_atrace_line_and_tab() {
        let p = parse_default(
            "atrace-14446 [000] ...2  1212.465062: sched_switch: a",
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!(
            (p.comm, p.pid, p.ts_ns),
            ("atrace", 14446, 1_212_465_062_000)
        );
        assert_eq!(p.flags.migrate_disable(), None);
        let p = parse_default(
            "\t   <...>-15430 [006]  7115.449594: sched_switch: a",
            FlagLayout::Unknown,
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
            FlagLayout::Unknown,
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
            assert_eq!(parse_default(line, FlagLayout::Unknown), None, "{line}");
        }
    }

    #[test]
    fn report_with_latency_column() {
        // trace-cmd report -l (formats.md 1.9)
        let p = parse_report_latency(
            "trace-cm-20913   2d..2. 852655.067718: sched_switch: trace-cmd:20913 [120] S ==> x:0 [120]",
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!((p.comm, p.pid, p.cpu), ("trace-cm", 20913, 2));
        assert_eq!(p.ts_ns, 852_655_067_718_000);
        assert_eq!(p.flags.irqs_off(), Some(true));
        assert!(p.body.starts_with("sched_switch: "));
        assert_eq!(
            parse_report_latency("a-1 notflags 1.5: x", FlagLayout::Unknown),
            None
        );
    }

    #[test]
    fn latency_lines() {
        let p = parse_latency(
            "trace-cm-170       0d.h2. 28542us#: hrtimer_expire_entry: hrtimer=ff",
            FlagLayout::Unknown,
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
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!((p.cpu, p.ts_ns, p.body), (2, 413_720_925_000, "0: }D"));
        assert_eq!(p.flags.migrate_disable(), None);
        let p = parse_latency(
            "pgdatini-180      29..... 1546876us : __free_pages_core: will INC",
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!((p.cpu, p.flags.migrate_disable()), (29, Some(0)));
        let p = parse_latency(
            "  <idle>-0         3d.h1. 27255us+: hrtimer_expire_entry: x",
            FlagLayout::Unknown,
        )
        .unwrap();
        assert_eq!((p.comm, p.cpu), ("<idle>", 3));
        assert_eq!(
            parse_latency("took 12us : nothing", FlagLayout::Unknown),
            None
        );
    }
}
