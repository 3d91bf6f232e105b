//! Logical console lines: each raw line's lead (learned, [`super::lead`]) and stamp removed,
//! lines of other programs inside a prefixed run skipped, records glued into one line split,
//! and wrapped lines joined (a console cutting lines at a fixed width, a mail's soft wraps).

use super::lead::{self, Evidence, Lead};
use super::prefix::{self, Caller, Stamp};

/// One logical console line.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    /// 1-based number of the (first) raw line.
    pub number: u32,
    pub time: Option<f64>,
    pub caller: Option<Caller>,
    /// The message without prefixes, trimmed.
    pub text: String,
}

/// Splits input into logical lines. Invalid UTF-8 is replaced, never an error.
pub fn logical_lines(bytes: &[u8]) -> Vec<LogLine> {
    let text = String::from_utf8_lossy(bytes);
    let raw: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let evidence: Vec<Evidence> = raw.iter().map(|l| Evidence::of(l)).collect();
    let (leads, chosen) = lead::learn(&raw, &evidence);
    let width = wrap_width(&raw);
    let mut out: Vec<LogLine> = Vec::new();
    // The previous raw line ended in a soft wrap (format=flowed mail, trailing spaces).
    let mut open_wrap = false;
    // The line the last logical line started on had a stamp.
    let mut record_stamped = false;
    for (index, line) in raw.iter().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let lead = &leads[chosen[index]];
        let evidence = &evidence[index];
        let start = lead.message_start(line, evidence);
        // Another program's line inside a prefixed run: skipped, it interrupts nothing.
        let foreign = start.is_none()
            && evidence.stamp.is_none()
            && !lead.before.is_empty()
            && !line.trim().is_empty();
        let cut_before = index > 0 && width.is_some_and(|w| raw[index - 1].chars().count() == w);
        if foreign && !cut_before {
            continue;
        }
        let soft_wrapped = std::mem::replace(
            &mut open_wrap,
            line.ends_with("  ") && !line.trim().is_empty(),
        );
        let Some(last) = out.last_mut() else {
            push_record(&mut out, number, line, lead, evidence, start);
            record_stamped = evidence.stamp.is_some();
            continue;
        };
        // A console cut the previous line at its width: this one goes on with it when it
        // visibly starts no record: it lacks the stamp of a stamped run, or the run's lead.
        let own_record = start.is_some() && evidence.stamp.is_some();
        let lacks_lead = start.is_none() && !lead.before.is_empty();
        if cut_before && !own_record && (record_stamped || lacks_lead) {
            let from = continuation_start(line, lead, evidence);
            let head_end = evidence.stamp.map_or(line.len(), |s| s.start.max(from));
            let head = &line[from..head_end];
            let gap = raw[index - 1].ends_with(char::is_whitespace)
                || head.starts_with(char::is_whitespace);
            if gap && !head.trim().is_empty() {
                last.text.push(' ');
            }
            last.text.push_str(head.trim());
            if let Some(stamp) = evidence.stamp {
                push_message(&mut out, number, line, stamp, lead);
                record_stamped = true;
            }
            continue;
        }
        if soft_wrapped && evidence.stamp.is_none() && start.is_some() {
            let rest = &line[start.unwrap_or(0)..];
            if !rest.trim().is_empty() {
                last.text.push(' ');
                last.text.push_str(rest.trim());
                continue;
            }
        }
        push_record(&mut out, number, line, lead, evidence, start);
        record_stamped = evidence.stamp.is_some();
    }
    out
}

/// A line that starts its own record: its message, or the output glued before a stamp and
/// the message after it; nothing for a line of another program in a prefixed run.
fn push_record(
    out: &mut Vec<LogLine>,
    number: u32,
    line: &str,
    lead: &Lead,
    evidence: &Evidence,
    start: Option<usize>,
) {
    match (start, evidence.stamp) {
        (Some(start), stamp) => {
            let (time, caller) = stamp.map_or((None, None), |s| (s.time, s.caller));
            push_split(out, number, &line[start..], time, caller);
        }
        (None, Some(stamp)) => {
            // Output glued before the stamp: its own line, without the run's lead.
            let head = &line[..stamp.start];
            let head = lead.before.match_end(head).map_or(head, |at| &head[at..]);
            if !head.trim().is_empty() {
                push_split(out, number, head, None, None);
            }
            push_message(out, number, line, stamp, lead);
        }
        // Blank lines separate report sections: kept whatever their prefix.
        (None, None) if line.trim().is_empty() => push_split(out, number, "", None, None),
        (None, None) => {}
    }
}

/// The message after `stamp` (the run's `after` lead removed where it matches).
fn push_message(out: &mut Vec<LogLine>, number: u32, line: &str, stamp: Stamp, lead: &Lead) {
    let rest = &line[stamp.end..];
    let rest = lead.after.match_end(rest).map_or(rest, |at| &rest[at..]);
    push_split(out, number, rest, stamp.time, stamp.caller);
}

/// Pushes `text` as a line, and each record glued after it (`** 12 printk messages dropped
/// ** [ 50.9] ...`, `ffff ffff[   45.871305] tc_dump: ...`) as a line of its own.
fn push_split(
    out: &mut Vec<LogLine>,
    number: u32,
    text: &str,
    time: Option<f64>,
    caller: Option<Caller>,
) {
    let mut text = text;
    let (mut time, mut caller) = (time, caller);
    loop {
        let glued = prefix::next_stamp(text, 1).filter(|s| !text[..s.start].trim().is_empty());
        let end = glued.map_or(text.len(), |s| s.start);
        out.push(LogLine {
            number,
            time,
            caller,
            text: text[..end].trim().to_owned(),
        });
        let Some(stamp) = glued else {
            return;
        };
        (time, caller) = (stamp.time, stamp.caller);
        text = &text[stamp.end..];
    }
}

/// Where a cut line goes on: after the run's lead, when a capture tool put it before each
/// physical line.
fn continuation_start(line: &str, lead: &Lead, evidence: &Evidence) -> usize {
    let at = if lead.before.is_empty() {
        None
    } else {
        lead.before.match_end(line)
    };
    at.filter(|&at| evidence.stamp.is_none_or(|s| s.start >= at))
        .unwrap_or(0)
}

/// The width a console cut long lines at: the longest line length, when it is a spike of
/// the length distribution: at least [`MIN_CUT_LINES`] different lines and a fiftieth of all
/// have exactly that length, [`SPIKE`] times as many as one column less. A mail's word wrap
/// spreads its lengths below the limit, and a log's longest lines (`Code:` dumps) are few.
fn wrap_width(raw: &[&str]) -> Option<usize> {
    let lengths: Vec<usize> = raw.iter().map(|l| l.chars().count()).collect();
    let width = *lengths.iter().max()?;
    if width < MIN_WRAP_WIDTH {
        return None;
    }
    let count = |w: usize| lengths.iter().filter(|&&l| l == w).count();
    let mut at_width: Vec<&str> = raw
        .iter()
        .zip(&lengths)
        .filter(|&(_, &l)| l == width)
        .map(|(line, _)| *line)
        .collect();
    at_width.sort_unstable();
    at_width.dedup();
    let non_blank = raw.iter().filter(|l| !l.trim().is_empty()).count();
    let spike = at_width.len() >= MIN_CUT_LINES
        && count(width) * 50 >= non_blank
        && count(width) >= SPIKE * count(width - 1);
    spike.then_some(width)
}

const MIN_WRAP_WIDTH: usize = 40;
const MIN_CUT_LINES: usize = 3;
const SPIKE: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_soft_wrapped_lines_only() {
        let input = b"ffff (&port_lock_key){-.-.}, at: uart_write+0x1e1/0x6f0  \r\n\
drivers/tty/serial/serial_core.c:592\r\n\
[  1.0] 6.1 #1 Tainted: G S   \n\
[  1.1] -----\n";
        let lines = logical_lines(input);
        // The final line terminator leaves an empty last line.
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0].text,
            "ffff (&port_lock_key){-.-.}, at: uart_write+0x1e1/0x6f0 drivers/tty/serial/serial_core.c:592"
        );
        assert_eq!(lines[1].number, 3);
        assert_eq!(lines[2].text, "-----");
    }

    fn texts(input: &str) -> Vec<String> {
        logical_lines(input.as_bytes())
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    #[test]
    fn leads_learned_from_their_run() {
        let ktest = "00515 [   63.864935] BUG: scheduling while atomic: x/1/0x2\n\
                     00516 [   63.864936] Modules linked in:\n\
                     00517 [   63.864937] Call Trace:\n";
        assert_eq!(texts(ktest)[0], "BUG: scheduling while atomic: x/1/0x2");
        let dmesg_t = "[Tue Nov 24 19:48:06 2026] BUG: x\n\
                       [Tue Nov 24 19:48:06 2026] Call Trace:\n\
                       [Tue Nov 24 19:48:06 2026]  f+0x1/0x2\n";
        assert_eq!(texts(dmesg_t)[..3], ["BUG: x", "Call Trace:", "f+0x1/0x2"]);
        let raw_levels = "<4>[    1.500000] hi\n<4>[    1.600000] there\n";
        assert_eq!(logical_lines(raw_levels.as_bytes())[0].time, Some(1.5));
        assert_eq!(texts(raw_levels)[..2], ["hi", "there"]);
    }

    #[test]
    fn lines_cut_at_a_console_width_are_joined() {
        let mut log = String::new();
        for i in 0..6 {
            let tail = "x".repeat(3 * i);
            let line =
                format!("[   1.00000{i}] a message long enough to be cut by the console {tail}");
            for piece in line.as_bytes().chunks(40) {
                log.push_str(std::str::from_utf8(piece).unwrap());
                log.push('\n');
            }
        }
        let lines = logical_lines(log.as_bytes());
        let t: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines.len(), 7, "{t:?}");
        assert_eq!(
            lines[2].text,
            "a message long enough to be cut by the console xxxxxx"
        );
    }

    #[test]
    fn splits_records_glued_into_a_line() {
        let input = b"syzkaller login: [  417.725670][    C1] rcu: INFO: x\n\
[ 45.0]  ffff ffff[   45.871305] tc_dump: bad kind[   45.9] third\n";
        let lines = logical_lines(input);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "syzkaller login:",
                "rcu: INFO: x",
                "ffff ffff",
                "tc_dump: bad kind",
                "third",
                ""
            ]
        );
        assert_eq!(lines[1].caller, Some(Caller::Cpu(1)));
        assert_eq!((lines[3].time, lines[3].number), (Some(45.871305), 2));
    }
}
