//! Stack-trace lines: frames in every printed dialect, and the context markers around them.
//!
//! ` func+0x1a/0x50 [module]`, with `? ` for unreliable frames, ` file:line` / ` [inline]`
//! from syzbot's symbolizer, ` (file:line)` from decode_stacktrace, `[<addr>] ` before the
//! frame (<= 4.x), and ARM's `callee from caller+0x1a/0x50`.

use trace_model::splat::{Frame, FrameContext};

/// A `<IRQ>`-style marker at the start of the line: the context it opens (or closes, back to
/// `Task`) and the rest of the line.
pub fn context_marker(text: &str) -> Option<(FrameContext, &str)> {
    let inner = text.strip_prefix('<')?;
    let (marker, rest) = inner.split_once('>')?;
    let (closing, name) = match marker.strip_prefix('/') {
        Some(name) => (true, name),
        None => (false, marker),
    };
    let context = match name {
        "TASK" => FrameContext::Task,
        "IRQ" => FrameContext::Irq,
        "SOFTIRQ" => FrameContext::Softirq,
        "NMI" => FrameContext::Nmi,
        "EOI" => FrameContext::Task,
        _ if name.starts_with('#') => FrameContext::Exception,
        _ => return None,
    };
    let context = if closing { FrameContext::Task } else { context };
    Some((context, rest.trim_start()))
}

/// Parses one frame line (already stripped of console prefixes); `None` for anything else.
pub fn parse_frame(text: &str) -> Option<Frame> {
    let mut rest = text.trim();
    let mut had_address = false;
    if let Some(after) = rest.strip_prefix("[<") {
        let (_, after) = after.split_once(">]")?;
        rest = after.trim_start();
        had_address = true;
    }
    let mut frame = Frame::default();
    if let Some(after) = rest.strip_prefix("? ") {
        frame.unreliable = true;
        rest = after.trim_start();
    }
    // ARM unwinder: `callee [mod] from caller+0x1a/0x50 [mod]`: the frame is the caller.
    if let Some((_, caller)) = rest.split_once(" from ") {
        rest = caller.trim_start();
    }
    let (symbol, mut rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let has_offset = parse_symbol(symbol, &mut frame);
    let bare_address = had_address && frame.function.starts_with("0x");
    if !(is_identifier(&frame.function) || bare_address) {
        return None;
    }
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        // decode_stacktrace.sh: `(file:line file:line (discriminator 1))`.
        if rest.starts_with('(') {
            let (group, after) = parenthesized(rest)?;
            if frame.source.is_none() {
                frame.source = group
                    .split_whitespace()
                    .find_map(source_location)
                    .map(str::to_owned);
            }
            rest = after;
            continue;
        }
        let (token, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        rest = after;
        if token == "[inline]" {
            frame.inline = true;
        } else if let Some(module) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            frame.module = Some(module.to_owned());
        } else if let Some(source) = source_location(token) {
            frame.source = Some(source.to_owned());
        } else {
            return None;
        }
    }
    (has_offset || frame.source.is_some() || had_address).then_some(frame)
}

/// Splits `(a (b)) rest` into the group's inside `a (b)` and ` rest`.
fn parenthesized(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[1..at], &text[at + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `func+0x1a/0x50` or bare `func`; fills function / offset / size. True if an offset was there.
fn parse_symbol(symbol: &str, frame: &mut Frame) -> bool {
    if let Some((function, offsets)) = symbol.rsplit_once('+')
        && let Some((offset, size)) = offsets.split_once('/')
        && let (Some(offset), Some(size)) = (parse_hex(offset), parse_hex(size))
    {
        frame.function = function.to_owned();
        frame.offset = Some(offset);
        frame.size = Some(size);
        return true;
    }
    frame.function = symbol.to_owned();
    false
}

fn parse_hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// `file.c:123`.
fn source_location(token: &str) -> Option<&str> {
    let (file, line) = token.rsplit_once(':')?;
    let is_source =
        file.contains('.') && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit());
    is_source.then_some(token)
}

/// C / Rust symbol names as kallsyms prints them (`.cold`, `.part.0`, `.isra.61` suffixes).
fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_dialects() {
        let f = parse_frame("? lab_clean_hrtimer_fn+0x33/0x33 [ctxlab]").unwrap();
        assert_eq!(f.function, "lab_clean_hrtimer_fn");
        assert_eq!((f.offset, f.size), (Some(0x33), Some(0x33)));
        assert_eq!(f.module.as_deref(), Some("ctxlab"));
        assert!(f.unreliable);
        let f = parse_frame("__dump_stack lib/dump_stack.c:77 [inline]").unwrap();
        assert!(f.inline);
        assert_eq!(f.source.as_deref(), Some("lib/dump_stack.c:77"));
        let f = parse_frame("[<ffffffff81429500>] ? rcu_barrier_func+0x90/0x90").unwrap();
        assert_eq!(f.function, "rcu_barrier_func");
        let f =
            parse_frame("wilc_setup [hci_wilc] from hci_dev_open_sync+0x330/0x203c [bluetooth]")
                .unwrap();
        assert_eq!(f.function, "hci_dev_open_sync");
        assert_eq!(f.module.as_deref(), Some("bluetooth"));
        let f = parse_frame("synchronize_srcu_expedited (kernel/rcu/srcutree.c:1386)").unwrap();
        assert_eq!(f.source.as_deref(), Some("kernel/rcu/srcutree.c:1386"));
        let f = parse_frame("ext4_getblk (include/linux/buffer_head.h:327 fs/ext4/inode.c:855) ")
            .unwrap();
        assert_eq!(f.source.as_deref(), Some("include/linux/buffer_head.h:327"));
        let f = parse_frame("dump_stack_lvl (lib/dump_stack.c:107 (discriminator 1))").unwrap();
        assert_eq!(f.source.as_deref(), Some("lib/dump_stack.c:107"));
        assert!(parse_frame("func (unbalanced").is_none());
        assert!(parse_frame("Hi folks, hit this with lockdep").is_none());
        assert!(parse_frame("Call Trace:").is_none());
        assert!(parse_frame("RIP: 0010:rcu_is_watching+0xc4/0x140").is_none());
    }

    #[test]
    fn markers() {
        assert_eq!(context_marker("<IRQ>"), Some((FrameContext::Irq, "")));
        assert_eq!(context_marker("</IRQ>"), Some((FrameContext::Task, "")));
        let (ctx, rest) =
            context_marker("<#DB>  [<ffffffff8124e883>] dump_stack+0x85/0xc2").unwrap();
        assert_eq!(ctx, FrameContext::Exception);
        assert!(parse_frame(rest).is_some());
        assert!(context_marker("<none>/-1").is_none());
    }
}
