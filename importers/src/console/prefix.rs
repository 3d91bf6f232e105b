//! Line prefixes that capture tools, printk and harnesses put before the kernel's message:
//! mail quoting, syslog levels, `/dev/kmsg` records, journal and `dmesg -T` stamps, harness
//! counters, the printk `[ s.us]` time and the CONFIG_PRINTK_CALLER id.

/// CONFIG_PRINTK_CALLER: who printed the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// `[T123]`: task context, pid.
    Task(u32),
    /// `[C1]`: interrupt context on this CPU.
    Cpu(u32),
}

/// A line with its prefixes removed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stripped<'a> {
    /// printk time in seconds (guest `local_clock` since boot).
    pub time: Option<f64>,
    pub caller: Option<Caller>,
    /// The message, without leading or trailing white space.
    pub text: &'a str,
}

/// Removes every known prefix from one raw line (no line terminator).
pub fn strip(line: &str) -> Stripped<'_> {
    let mut rest = strip_quoting(line);
    rest = strip_syslog_level(rest);
    if let Some(kmsg) = kmsg_record(rest) {
        return kmsg;
    }
    rest = strip_journal(rest);
    rest = strip_wall_clock(rest);
    rest = strip_harness_counter(rest);
    let mut out = Stripped {
        time: None,
        caller: None,
        text: rest.trim(),
    };
    let Some((time, after)) = printk_time(rest) else {
        return out;
    };
    out.time = Some(time);
    let (caller, after) = match printk_caller(after) {
        Some((caller, after)) => (Some(caller), after),
        None => (None, after),
    };
    out.caller = caller;
    // journalctl -k -o short-monotonic puts `host kernel: ` after the stamp.
    out.text = strip_host_kernel(after).trim();
    out
}

/// Mail quoting: any number of `>` (or `|`, `/ `) levels, each with optional spaces.
fn strip_quoting(line: &str) -> &str {
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start();
        let quoted = trimmed
            .strip_prefix('>')
            .or_else(|| trimmed.strip_prefix('|'))
            .or_else(|| trimmed.strip_prefix("/ "))
            // `[...]`: a stamp elided by whoever pasted the log.
            .or_else(|| trimmed.strip_prefix("[...]"));
        match quoted {
            Some(after) => rest = after,
            None => return rest,
        }
    }
}

/// `<4>` levels of `dmesg -r` / raw console captures.
fn strip_syslog_level(s: &str) -> &str {
    let t = s.trim_start();
    if let Some(after) = t.strip_prefix('<')
        && let Some((level, after)) = after.split_once('>')
        && !level.is_empty()
        && level.len() <= 3
        && level.bytes().all(|b| b.is_ascii_digit())
    {
        return after;
    }
    s
}

/// `/dev/kmsg`: `prio,seq,usec,flag[,caller=T123];message`.
fn kmsg_record(s: &str) -> Option<Stripped<'_>> {
    let (head, message) = s.split_once(';')?;
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
    Some(Stripped {
        time: Some(usec as f64 / 1e6),
        caller,
        text: message.trim(),
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// syslog / journal `Mmm dd hh:mm:ss host kernel: ` (the stamp is wall clock: dropped).
fn strip_journal(s: &str) -> &str {
    let t = s.trim_start();
    if t.len() < 16 || !MONTHS.iter().any(|m| t.starts_with(m)) {
        return s;
    }
    match t.find(" kernel: ") {
        Some(at) if at < 64 => &t[at + " kernel: ".len()..],
        _ => s,
    }
}

/// `host kernel: ` after a monotonic stamp.
fn strip_host_kernel(s: &str) -> &str {
    let t = s.trim_start();
    match t.split_once(' ') {
        Some((host, after)) if !host.contains(':') && after.starts_with("kernel: ") => {
            &after["kernel: ".len()..]
        }
        _ => s,
    }
}

/// `dmesg -T`: `[Tue Nov 24 19:48:06 2026] ` (wall clock: dropped).
fn strip_wall_clock(s: &str) -> &str {
    let t = s.trim_start();
    let Some(inner) = t.strip_prefix('[') else {
        return s;
    };
    let Some((stamp, after)) = inner.split_once(']') else {
        return s;
    };
    let day_name = stamp
        .get(..3)
        .is_some_and(|d| d.bytes().all(|b| b.is_ascii_alphabetic()));
    if day_name && stamp.len() >= 20 && stamp.contains(':') {
        after
    } else {
        s
    }
}

/// Harness counters before the printk stamp (ktest `00515 `, a seconds counter `12.5 `).
fn strip_harness_counter(s: &str) -> &str {
    let t = s.trim_start();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    if end == 0 {
        return s;
    }
    let after = &t[end..];
    if after.starts_with(' ') && after.trim_start().starts_with('[') {
        after
    } else {
        s
    }
}

/// Where the last printk stamp starts inside `text` after other output (never at 0): a record
/// the console glued to an unterminated line.
pub fn glued_stamp(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (1..bytes.len())
        .rev()
        .filter(|&i| bytes[i] == b'[')
        .find(|&i| printk_time(&text[i..]).is_some_and(|(_, after)| after.starts_with([' ', '['])))
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

    #[test]
    fn printk_time_and_caller() {
        let s = strip("[  282.214467][ T5820] BUG: sleeping function");
        assert_eq!(s.time, Some(282.214467));
        assert_eq!(s.caller, Some(Caller::Task(5820)));
        assert_eq!(s.text, "BUG: sleeping function");
        let s = strip("[ 148.995878][ C1] 828529a8 (console_srcu){....}");
        assert_eq!(s.caller, Some(Caller::Cpu(1)));
        assert_eq!(s.text, "828529a8 (console_srcu){....}");
        let s = strip("[  414.275945][T17509] WARNING: x");
        assert_eq!(s.caller, Some(Caller::Task(17509)));
    }

    #[test]
    fn harness_prefixes() {
        assert_eq!(strip("> > [    1.000000] hello").text, "hello");
        assert_eq!(strip(">> |[ INFO: x ]").text, "[ INFO: x ]");
        assert_eq!(strip("[...] syz/1 just changed").text, "syz/1 just changed");
        assert_eq!(strip("<4>[    1.500000] hi").time, Some(1.5));
        let kmsg = strip("4,1234,63864935,-,caller=T175;BUG: scheduling while atomic");
        assert_eq!(kmsg.time, Some(63.864935));
        assert_eq!(kmsg.caller, Some(Caller::Task(175)));
        assert_eq!(kmsg.text, "BUG: scheduling while atomic");
        assert_eq!(strip("Nov 24 19:48:06 lab kernel: BUG: x").text, "BUG: x");
        assert_eq!(strip("[Tue Nov 24 19:48:06 2026] BUG: x").text, "BUG: x");
        let ktest = strip("00515 [   63.864935] BUG: x");
        assert_eq!((ktest.time, ktest.text), (Some(63.864935), "BUG: x"));
        assert_eq!(strip("    [ 6146.992159] rcu: INFO").text, "rcu: INFO");
        assert_eq!(strip("  #0: ffff (a){....}").text, "#0: ffff (a){....}");
    }
}
