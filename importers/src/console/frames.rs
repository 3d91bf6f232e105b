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
    // s390 prints the frame it could not vouch for in parentheses: `([<addr>] f+0x1/0x2)`.
    let mut parenthesized = false;
    if let Some(inner) = rest.strip_prefix("([<").and_then(|r| r.strip_suffix(')')) {
        rest = &rest[1..=inner.len() + 2];
        parenthesized = true;
    }
    // x86 / riscv / s390 `[<addr>] `, powerpc `[sp] [pc] ` (stack pointer and address).
    for _ in 0..2 {
        match bracketed_address(rest) {
            Some(after) => {
                rest = after;
                had_address = true;
            }
            None => break,
        }
    }
    let mut frame = Frame {
        unreliable: parenthesized,
        ..Frame::default()
    };
    if let Some(after) = rest.strip_prefix("? ") {
        frame.unreliable = true;
        rest = after.trim_start();
    }
    // ARM unwinder: `callee [mod] from caller+0x1a/0x50 [mod]` or, with addresses,
    // `(callee) from [<addr>] (caller+0x28/0x2c)`: the frame is the caller.
    if let Some((_, caller)) = rest.split_once(" from ") {
        rest = caller.trim_start();
        if let Some(after) = bracketed_address(rest) {
            rest = after;
        }
        if let Some(inner) = rest.strip_prefix('(') {
            let (symbol, after) = inner.split_once(')')?;
            let mut frame = parse_frame(symbol)?;
            frame.module = module_token(after.trim()).or(frame.module);
            return Some(frame);
        }
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
        // decode_stacktrace.sh: `(file:line file:line (discriminator 1))`; powerpc
        // `(unreliable)`; arm64 `(T)` / `(P)` / `(L)` (which register gave the frame).
        if rest.starts_with('(') {
            let (group, after) = parenthesized_group(rest)?;
            if group == "unreliable" {
                frame.unreliable = true;
            } else if frame.source.is_none() {
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
        } else if let Some(module) = module_token(token) {
            frame.module = Some(module);
        } else if let Some(source) = source_location(token) {
            frame.source = Some(source.to_owned());
        } else {
            return None;
        }
    }
    (has_offset || frame.source.is_some() || had_address).then_some(frame)
}

/// The callee of an ARM unwinder line (`[<pc>] (callee) from [<lr>] (caller+..)`): the line
/// names two frames, and the first line of a trace is the only one whose callee is not the
/// previous line's caller.
pub fn arm_callee(text: &str) -> Option<Frame> {
    let (callee, _) = text.trim().split_once(" from ")?;
    let callee = bracketed_address(callee).unwrap_or(callee).trim();
    let callee = callee
        .strip_prefix('(')
        .and_then(|c| c.strip_suffix(')'))
        .unwrap_or(callee);
    let mut frame = Frame::default();
    parse_symbol(callee.split_whitespace().next()?, &mut frame);
    is_identifier(&frame.function).then_some(frame)
}

/// `[<ffffffff81000000>] rest` / `[c000000001bb3530] rest` -> `rest`.
fn bracketed_address(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('[')?;
    let (address, after) = inner.split_once(']')?;
    let address = address
        .strip_prefix('<')
        .and_then(|a| a.strip_suffix('>'))
        .unwrap_or(address);
    let address = address.strip_prefix("0x").unwrap_or(address);
    let hex = !address.is_empty() && address.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && address.len() >= 4).then(|| after.trim_start())
}

/// `[module]` (a loadable module's name) -> `module`.
fn module_token(token: &str) -> Option<String> {
    token
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
}

/// Splits `(a (b)) rest` into the group's inside `a (b)` and ` rest`.
fn parenthesized_group(text: &str) -> Option<(&str, &str)> {
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

    #[test]
    fn other_architectures() {
        // arm32 with addresses: the line's caller, and its callee for the first line.
        let line = "[<80de0078>] (dump_backtrace) from [<80de0574>] (show_stack+0x28/0x2c)";
        let f = parse_frame(line).unwrap();
        assert_eq!((f.function.as_str(), f.offset), ("show_stack", Some(0x28)));
        assert_eq!(arm_callee(line).unwrap().function, "dump_backtrace");
        // Old arm: offsets on both sides.
        let f = parse_frame(
            "[<c0013c4c>] (unwind_backtrace+0x0/0xe0) from [<c0011118>] (show_stack+0x10/0x14)",
        )
        .unwrap();
        assert_eq!(f.function, "show_stack");
        // powerpc: stack pointer, address, `(unreliable)`.
        let f =
            parse_frame("[c000000001bb3710] [c0000000000286fc] __switch_to+0x43c/0x6d0").unwrap();
        assert_eq!((f.function.as_str(), f.unreliable), ("__switch_to", false));
        let f = parse_frame(
            "[c000000001bb3530] [c000000001bb35a0] __rela_dyn_start+0x308828/0x345288 (unreliable)",
        )
        .unwrap();
        assert!(f.unreliable);
        // s390: the parenthesised frame is the unreliable one.
        let f = parse_frame("([<000000000011a3c8>] show_trace+0x108/0x148)").unwrap();
        assert_eq!((f.function.as_str(), f.unreliable), ("show_trace", true));
        // riscv: `[<pc>] func+off/size`, also with a module.
        let f = parse_frame("[<ffffffff80003a7c>] dump_backtrace+0x1c/0x24").unwrap();
        assert_eq!(
            (f.function.as_str(), f.offset),
            ("dump_backtrace", Some(0x1c))
        );
        let f = parse_frame("[<ffffffff01234567>] drv_probe+0x10/0x80 [drv]").unwrap();
        assert_eq!(f.module.as_deref(), Some("drv"));
        // arm64 6.x: which register gave the frame.
        let f = parse_frame("__switch_to+0x2b0/0x6e0 (T)").unwrap();
        assert_eq!(f.function, "__switch_to");
    }
}
