//! The kernel's stamp on a console line: the printk `[ s.us]` time with the
//! CONFIG_PRINTK_CALLER id (`[T123]` / `[C1]`), a `/dev/kmsg` record header, or a stamp a
//! paster elided as `[...]`. Whatever a capture tool or harness put before it is learned by
//! its shape ([`super::lead`]), not listed here.

/// CONFIG_PRINTK_CALLER: who printed the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// `[T123]`: task context, pid.
    Task(u32),
    /// `[C1]`: interrupt context on this CPU.
    Cpu(u32),
}

/// The kernel's stamp on a line: where it sits and what it says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stamp {
    /// Byte offsets of the stamp in the line (the caller id included).
    pub start: usize,
    pub end: usize,
    /// printk time in seconds (guest `local_clock` since boot); `None` for an elided `[...]`.
    pub time: Option<f64>,
    pub caller: Option<Caller>,
}

/// The first stamp of `line`: a `/dev/kmsg` record header or `[...]` at its start, or a
/// printk time (and caller id) anywhere, also glued after other output.
pub fn find_stamp(line: &str) -> Option<Stamp> {
    let lead = line.len() - line.trim_start().len();
    let start = &line[lead..];
    if let Some(stamp) = kmsg_header(start).or_else(|| elided_stamp(start)) {
        return Some(Stamp {
            start: stamp.start + lead,
            end: stamp.end + lead,
            ..stamp
        });
    }
    next_stamp(line, 0)
}

/// The first printk stamp at or after byte `from`.
pub fn next_stamp(line: &str, from: usize) -> Option<Stamp> {
    memchr::memchr_iter(b'[', line.as_bytes().get(from..)?)
        .find_map(|at| printk_stamp(line, from + at))
}

/// `[ 12.345678]` with an optional caller id at byte `at`, followed by white space, another
/// bracket or the end of the line.
fn printk_stamp(line: &str, at: usize) -> Option<Stamp> {
    let (time, after) = printk_time(&line[at..])?;
    let (caller, after) = match printk_caller(after) {
        Some((caller, after)) => (Some(caller), after),
        None => (None, after),
    };
    let ends = after.is_empty() || after.starts_with(|c: char| c.is_whitespace() || c == '[');
    ends.then(|| Stamp {
        start: at,
        end: line.len() - after.len(),
        time: Some(time),
        caller,
    })
}

/// `[...]`: a stamp elided by whoever pasted the log.
fn elided_stamp(s: &str) -> Option<Stamp> {
    s.starts_with("[...]").then_some(Stamp {
        start: 0,
        end: "[...]".len(),
        time: None,
        caller: None,
    })
}

/// `/dev/kmsg`: `prio,seq,usec,flag[,caller=T123];message`.
fn kmsg_header(s: &str) -> Option<Stamp> {
    let (head, _) = s.split_once(';')?;
    let mut fields = head.split(',');
    let prio = fields.next()?;
    let seq = fields.next()?;
    let usec = fields.next()?;
    let flag = fields.next()?;
    let numeric = |f: &str| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit());
    if !(numeric(prio) && numeric(seq) && numeric(usec) && flag.len() == 1) {
        return None;
    }
    let usec: u64 = usec.parse().ok()?;
    let caller = fields
        .find_map(|f| f.strip_prefix("caller="))
        .and_then(parse_caller_id);
    Some(Stamp {
        start: 0,
        end: head.len() + 1,
        time: Some(usec as f64 / 1e6),
        caller,
    })
}

/// `[   12.345678]` (any padding). Returns seconds and the text after `]`.
fn printk_time(s: &str) -> Option<(f64, &str)> {
    let inner = s.trim_start().strip_prefix('[')?;
    let (stamp, after) = inner.split_once(']')?;
    let stamp = stamp.trim();
    let (secs, frac) = stamp.split_once('.')?;
    let digits = |f: &str| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || !digits(frac) {
        return None;
    }
    Some((stamp.parse().ok()?, after))
}

/// `[ T5820]` / `[    C2]` right after the stamp.
fn printk_caller(s: &str) -> Option<(Caller, &str)> {
    let inner = s.strip_prefix('[')?;
    let (id, after) = inner.split_once(']')?;
    Some((parse_caller_id(id.trim())?, after))
}

fn parse_caller_id(id: &str) -> Option<Caller> {
    if let Some(pid) = id.strip_prefix('T') {
        return pid.parse().ok().map(Caller::Task);
    }
    id.strip_prefix('C')?.parse().ok().map(Caller::Cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(line: &str) -> (Option<f64>, Option<Caller>, &str) {
        let s = find_stamp(line).unwrap();
        (s.time, s.caller, line[s.end..].trim())
    }

    #[test]
    fn printk_time_and_caller() {
        let s = stamped("[  282.214467][ T5820] BUG: sleeping function");
        assert_eq!(
            s,
            (
                Some(282.214467),
                Some(Caller::Task(5820)),
                "BUG: sleeping function"
            )
        );
        let s = stamped("[ 148.995878][ C1] 828529a8 (console_srcu){....}");
        assert_eq!(s.1, Some(Caller::Cpu(1)));
        assert_eq!(
            stamped("[  414.275945][T17509] WARNING: x").1,
            Some(Caller::Task(17509))
        );
    }

    #[test]
    fn stamps_anywhere_a_console_puts_them() {
        let kmsg = stamped("4,1234,63864935,-,caller=T175;BUG: scheduling while atomic");
        assert_eq!(
            kmsg,
            (
                Some(63.864935),
                Some(Caller::Task(175)),
                "BUG: scheduling while atomic"
            )
        );
        assert_eq!(
            stamped("  [...] syz/1 just changed"),
            (None, None, "syz/1 just changed")
        );
        let glued = find_stamp("syzkaller login: [  417.725670][    C1] rcu: INFO").unwrap();
        assert_eq!((glued.start, glued.caller), (17, Some(Caller::Cpu(1))));
        assert_eq!(
            find_stamp("Dec  3 12:00:01 host kernel: [   1.5] x")
                .unwrap()
                .start,
            29
        );
        assert!(find_stamp("[<ffffffff81000000>] f+0x1/0x2").is_none());
        assert!(find_stamp("[Tue Nov 24 19:48:06 2026] BUG: x").is_none());
        assert!(find_stamp("text [1.5]x").is_none());
    }
}
