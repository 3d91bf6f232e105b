//! Line splitting and unwrapping: the trace text may sit inside a mail quote (`> `), a
//! JavaScript string literal (systrace: every line ends in `\n\`), or a console log whose
//! lines carry printk prefixes (`[ 1100.12][    C2] `, ftrace_dump_on_oops).

use memchr::memchr;

/// Yields `(line number, line)` with `\n` / `\r\n` removed; line numbers are 1-based.
pub(super) fn numbered_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    let mut rest = text;
    let mut n = 0u64;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        n += 1;
        let (line, tail) = match memchr(b'\n', rest.as_bytes()) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = tail;
        Some((n, line.strip_suffix('\r').unwrap_or(line)))
    })
}

/// Function-tracer lines whose function, or its parent, a mail or terminal wrapped onto the
/// next line (`... 64.411945:` / `mutex_unlock <-rb_simple_write`, or `... mutex_unlock <-` /
/// `rb_simple_write`): (the first line's number, the line joined). The continuation must be
/// a bare function (`name`, `name <-parent`), never an event line of its own.
pub(super) fn wrapped_functions(text: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut previous: Option<(u64, &str)> = None;
    for (n, line) in numbered_lines(text) {
        if let Some((p, head)) = previous.take()
            && let Some(joined) = join_function(head, line)
        {
            out.push((p, joined));
            continue;
        }
        previous = Some((n, line));
    }
    out
}

fn join_function(head: &str, next: &str) -> Option<String> {
    let head = head.trim_end();
    let next_text = unwrap(next).text.trim();
    let words: Vec<&str> = next_text.split(' ').collect();
    let symbol = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'/'))
    };
    if head.ends_with(" <-") && words.len() == 1 && symbol(words[0]) {
        return Some(format!("{head}{next_text}"));
    }
    // The body went to the next line whole: the head ends with the timestamp's colon.
    let after_time = head
        .strip_suffix(':')
        .is_some_and(|h| h.ends_with(|c: char| c.is_ascii_digit()));
    let function_body = match words.as_slice() {
        [f] => symbol(f),
        [f, parent] => symbol(f) && parent.strip_prefix("<-").is_some_and(symbol),
        _ => false,
    };
    (after_time && function_body).then(|| format!("{head} {next_text}"))
}

/// A line with its wrappers removed, and which wrappers there were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Unwrapped<'a> {
    pub text: &'a str,
    /// A printk `[ time]` prefix was removed: the line comes from a console log.
    pub console: bool,
    /// Mail quote marks were removed.
    pub quoted: bool,
}

/// Removes mail quotes, the JavaScript string-literal escapes and a printk prefix.
pub(super) fn unwrap(line: &str) -> Unwrapped<'_> {
    let mut text = strip_js_escape(line);
    let mut quoted = false;
    while let Some(rest) = text.strip_prefix('>') {
        text = rest.strip_prefix(' ').unwrap_or(rest);
        quoted = true;
    }
    let mut console = false;
    if let Some(rest) = strip_printk_prefix(text) {
        text = rest;
        console = true;
    }
    Unwrapped {
        text,
        console,
        quoted,
    }
}

/// systrace stores the trace in a JS string literal: `...\n\` per line, `\n";` at the end.
fn strip_js_escape(line: &str) -> &str {
    if !line.ends_with('\\') && !line.ends_with(';') && !line.ends_with('n') {
        return line;
    }
    for suffix in ["\\n\\", "\\n\";", "\\n"] {
        if let Some(s) = line.strip_suffix(suffix) {
            return s;
        }
    }
    line
}

/// Strips `[    1.329836] ` and an optional caller id `[    C2] ` / `[  T123] `.
fn strip_printk_prefix(text: &str) -> Option<&str> {
    let rest = bracketed(text, |b| b.is_ascii_digit() || b == b'.' || b == b' ', true)?;
    let rest = bracketed(rest, |b| b.is_ascii_alphanumeric() || b == b' ', false).unwrap_or(rest);
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// `[...]` at the start of `text` whose bytes all satisfy `ok`; returns what follows.
fn bracketed(text: &str, ok: impl Fn(u8) -> bool, need_dot: bool) -> Option<&str> {
    let inner = text.strip_prefix('[')?;
    let end = memchr(b']', inner.as_bytes())?;
    let body = &inner.as_bytes()[..end];
    let valid = !body.is_empty()
        && body.iter().all(|&b| ok(b))
        && body.iter().any(|b| b.is_ascii_alphanumeric())
        && (!need_dot || body.contains(&b'.'));
    valid.then(|| &inner[end + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_without_trailing_newline() {
        let lines: Vec<_> = numbered_lines("a\r\nb\n\nc").collect();
        assert_eq!(lines, [(1, "a"), (2, "b"), (3, ""), (4, "c")]);
    }

    #[test]
    fn removes_console_and_caller_prefix() {
        let u = unwrap("[ 1100.126341][    C2] syz-exec-31490   2...1 413720925us : 0: }D");
        assert!(u.console);
        assert_eq!(u.text, "syz-exec-31490   2...1 413720925us : 0: }D");
        let u = unwrap("[    1.329836]  => kthread");
        assert_eq!(u.text, " => kthread");
    }

    #[test]
    fn removes_mail_quotes_and_js_escapes() {
        let u = unwrap(">         sync-15708 [005] 59290.134496: ext4_sync_fs: dev 7,5");
        assert!(u.quoted);
        assert_eq!(
            u.text,
            "        sync-15708 [005] 59290.134496: ext4_sync_fs: dev 7,5"
        );
        assert_eq!(unwrap("> > x").text, "x");
        assert_eq!(unwrap("# tracer: nop\\n\\").text, "# tracer: nop");
        assert_eq!(unwrap("  \\n\";").text, "  ");
    }

    #[test]
    fn joins_function_names_wrapped_onto_the_next_line() {
        let text = "  sh-267 [003] ...1.  64.411945:\n  mutex_unlock <-rb_simple_write\n\
                    \x20 sh-267 [003] ...1.  64.413997: mutex_lock <-\n  perf_event_exit_task\n\
                    \x20 sh-267 [003] ...1.  64.414026: mutex_unlock <-exit_mm_release\n";
        let joined = wrapped_functions(text);
        assert_eq!(joined.len(), 2);
        assert_eq!(
            joined[0],
            (
                1,
                "  sh-267 [003] ...1.  64.411945: mutex_unlock <-rb_simple_write".to_owned()
            )
        );
        assert!(joined[1].1.ends_with("mutex_lock <-perf_event_exit_task"));
    }

    #[test]
    fn keeps_event_lines_that_start_with_brackets_of_other_shapes() {
        assert!(!unwrap("[003] x").console);
        assert!(!unwrap("[<ffffffff81007bd9>] foo").console);
    }
}
