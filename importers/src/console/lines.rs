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
        let stripped = prefix::strip(raw);
        let continues = open_wrap && stripped.time.is_none() && !stripped.text.is_empty();
        open_wrap = raw.ends_with("  ") && !stripped.text.is_empty();
        match out.last_mut() {
            Some(last) if continues => {
                last.text.push(' ');
                last.text.push_str(stripped.text);
            }
            _ => out.push(LogLine {
                number: u32::try_from(index + 1).unwrap_or(u32::MAX),
                time: stripped.time,
                caller: stripped.caller,
                text: stripped.text.to_owned(),
            }),
        }
    }
    out
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
}
