//! QEMU logs (formats.md §3.5, §3.6): the x86 `-d int` log and trace-event `log` backend lines.
//! Guest serial captures are console logs ([`crate::console`]).

mod int_log;
mod trace_log;

use trace_model::qemu::QemuLog;

/// True when the bytes look like a QEMU log: an interrupt record or a trace-backend line among
/// the first lines.
pub fn looks_like_qemu(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    String::from_utf8_lossy(head)
        .lines()
        .take(200)
        .any(|l| int_log::parse_record(l, 0).is_some() || trace_log::parse_line(l, 0).is_some())
}

/// Reads a QEMU log. Never fails: lines it does not know are counted.
pub fn parse(bytes: &[u8]) -> QemuLog {
    let text = String::from_utf8_lossy(bytes);
    let mut log = QemuLog::default();
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some(interrupt) = int_log::parse_record(line, number) {
            log.interrupts.push(interrupt);
        } else if let Some(event) = trace_log::parse_line(line, number) {
            log.trace_events.push(event);
        } else if let Some(rflags) = int_log::rflags(line) {
            // The register dump of the last record.
            if let Some(last) = log.interrupts.last_mut() {
                last.rflags.get_or_insert(rflags);
            }
        } else if line.starts_with("check_exception ") {
            log.check_exceptions += 1;
        } else if !int_log::is_dump_line(line) {
            log.other_lines += 1;
        }
    }
    log
}
