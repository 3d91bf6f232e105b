//! A command's output on stdout. A reader that stops early (`kctx latency ... | head`) closes
//! the pipe: that ends the output quietly, as it does for other Unix tools, instead of the
//! panic `print!` gives.

use std::io::Write;

/// Writes `text` to stdout; a closed pipe is not an error.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => Ok(written?),
    }
}

/// [`emit`] with a newline after `text`.
pub fn emit_line(text: &str) -> anyhow::Result<()> {
    emit(&format!("{text}\n"))
}
