//! Logical console lines: raw lines with prefixes stripped and mail-wrapped lines joined.

use super::prefix::{self, Caller};

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
    let mut out: Vec<LogLine> = Vec::new();
    // The previous raw line ended in a soft wrap (format=flowed mail, trailing spaces).
    let mut open_wrap = false;
    for (index, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut stripped = prefix::strip(raw);
        let continues = open_wrap && stripped.time.is_none() && !stripped.text.is_empty();
        open_wrap = raw.ends_with("  ") && !stripped.text.is_empty();
        // A record glued after unterminated output (`syzkaller login: [  417.7][ C1] rcu: ...`,
        // `** 12 printk messages dropped ** [ 50.9] ...`): each stamp starts a line.
        let mut glued = Vec::new();
        while let Some(at) = prefix::glued_stamp(stripped.text) {
            let (head, tail) = stripped.text.split_at(at);
            glued.push(prefix::strip(tail));
            stripped.text = head.trim_end();
        }
        match out.last_mut() {
            Some(last) if continues => {
                last.text.push(' ');
                last.text.push_str(stripped.text);
            }
            _ => out.push(LogLine::new(number, &stripped)),
        }
        out.extend(glued.iter().rev().map(|s| LogLine::new(number, s)));
    }
    out
}

impl LogLine {
    fn new(number: u32, stripped: &prefix::Stripped<'_>) -> Self {
        LogLine {
            number,
            time: stripped.time,
            caller: stripped.caller,
            text: stripped.text.to_owned(),
        }
    }
}

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
