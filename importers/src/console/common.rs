//! Scaffolding shared by every splat family: the `CPU:` stack-dump line, the kernel ident,
//! `comm/pid` tokens, lockdep lock lines, held-lock lists and the call trace.

use super::frames::{arm_callee, context_marker, parse_frame};
use super::lines::LogLine;
use trace_model::splat::{Frame, FrameContext, HeldLocks};

/// `CPU: 0 UID: 0 PID: 10 Comm: kworker/0:1 Not tainted 6.15.0-rc5+ #8 ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuLine {
    pub cpu: u32,
    pub pid: i32,
    pub comm: String,
    pub kernel: Option<String>,
}

pub fn parse_cpu_line(text: &str) -> Option<CpuLine> {
    let rest = text.strip_prefix("CPU: ")?;
    let (cpu, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start();
    let rest = match rest.strip_prefix("UID: ") {
        Some(uid) => uid.split_once(' ')?.1.trim_start(),
        None => rest,
    };
    let (pid, rest) = rest.strip_prefix("PID: ")?.split_once(' ')?;
    let rest = rest.trim_start().strip_prefix("Comm: ")?;
    let (comm, taint) = split_taint(rest);
    Some(CpuLine {
        cpu: cpu.parse().ok()?,
        pid: pid.parse().ok()?,
        comm: comm.trim().to_owned(),
        kernel: taint.and_then(release_after_taint),
    })
}

/// Splits `comm Not tainted 6.1 #1` at the taint marker.
fn split_taint(s: &str) -> (&str, Option<&str>) {
    for marker in [" Not tainted", " Tainted: "] {
        if let Some(at) = s.find(marker) {
            return (&s[..at], Some(&s[at..]));
        }
    }
    (s, None)
}

/// The release after `Not tainted` / `Tainted: G        W  O` (single-letter taint flags).
fn release_after_taint(taint: &str) -> Option<String> {
    let rest = taint.trim_start();
    let rest = rest
        .strip_prefix("Not tainted")
        .or_else(|| rest.strip_prefix("Tainted:"))?;
    rest.split_whitespace()
        .find(|t| t.len() > 1)
        .map(str::to_owned)
}

/// The kernel ident line under a lockdep title: `6.11.0-rc3 #0 Not tainted` -> release.
pub fn kernel_from_ident(text: &str) -> Option<String> {
    let (release, rest) = text.split_once(' ')?;
    let tainted = rest.contains("Not tainted") || rest.contains("Tainted:");
    (rest.trim_start().starts_with('#') && tainted).then(|| release.to_owned())
}

/// The release of a hung-task ` Not tainted 5.4.0 #0` line.
pub fn kernel_from_taint_line(text: &str) -> Option<String> {
    let padded = format!(" {text}");
    split_taint(&padded).1.and_then(release_after_taint)
}

/// `comm/pid` (the comm may itself hold `/`: `migration/1/21`).
pub fn task_pid(s: &str) -> Option<(String, i32)> {
    let (comm, pid) = s.trim().rsplit_once('/')?;
    Some((comm.to_owned(), pid.parse().ok()?))
}

/// The lock class name of a lockdep lock line: the text between the `(` after the address and
/// the `){` that opens the usage bits.
pub fn lock_name(text: &str) -> Option<&str> {
    let open = text.find('(')?;
    let rest = &text[open + 1..];
    let close = rest.find("){")?;
    let name = &rest[..close];
    (!name.is_empty()).then_some(name)
}

/// The function after `, at: ` (`[<addr>] ` and offsets removed).
pub fn lock_site(text: &str) -> Option<String> {
    let (_, at) = text.split_once(", at:")?;
    let at = at.trim_start();
    let at = match at.strip_prefix("[<") {
        Some(rest) => rest.split_once(">]")?.1.trim_start(),
        None => at,
    };
    let symbol = at.split_whitespace().next()?;
    Some(symbol.split_once('+').map_or(symbol, |(f, _)| f).to_owned())
}

/// Index of the first line at or after `from` whose text satisfies `pred`.
pub fn find_line(lines: &[LogLine], from: usize, pred: impl Fn(&str) -> bool) -> Option<usize> {
    (from..lines.len()).find(|&i| pred(&lines[i].text))
}

/// Text of the first non-empty line after `index`.
pub fn next_text(lines: &[LogLine], index: usize) -> Option<&str> {
    lines
        .get(index + 1..)?
        .iter()
        .map(|l| l.text.as_str())
        .find(|t| !t.is_empty())
}

/// The line after the line that ends with `phrase`.
pub fn text_after<'a>(lines: &'a [LogLine], phrase: &str) -> Option<&'a str> {
    let at = find_line(lines, 0, |t| t.ends_with(phrase))?;
    next_text(lines, at)
}

/// A held-locks header: `3 locks held by comm/pid:` / `no locks held by comm/pid.`
fn held_header(text: &str) -> Option<(u32, &str)> {
    if let Some(holder) = text.strip_prefix("no locks held by ") {
        return Some((0, holder.strip_suffix('.').unwrap_or(holder)));
    }
    let (count, rest) = text.split_once(' ')?;
    let holder = rest
        .strip_prefix("locks held by ")
        .or_else(|| rest.strip_prefix("lock held by "))?;
    Some((
        count.parse().ok()?,
        holder.strip_suffix(':').unwrap_or(holder),
    ))
}

/// The held-locks list of `holder` (any holder when `None`): the first one in `lines`.
/// Symbolizer repeats of one `#i` (one line per inlined frame) count once.
pub fn held_locks(lines: &[LogLine], holder: Option<&str>) -> Option<HeldLocks> {
    let start = find_line(lines, 0, |t| {
        held_header(t).is_some_and(|(_, h)| holder.is_none_or(|want| want == h))
    })?;
    let (count, by) = held_header(&lines[start].text)?;
    let mut held = HeldLocks {
        count,
        holder: Some(by.to_owned()),
        ..HeldLocks::default()
    };
    let mut last_index = None;
    for line in &lines[start + 1..] {
        let Some(entry) = line.text.strip_prefix('#') else {
            break;
        };
        let Some((index, rest)) = entry.split_once(':') else {
            break;
        };
        if last_index == Some(index) {
            continue;
        }
        last_index = Some(index);
        if let Some(name) = lock_name(rest) {
            held.names.push(name.to_owned());
            held.at.push(lock_site(rest).unwrap_or_default());
        }
    }
    Some(held)
}

/// Frames of the trace printed right after `lines[start]` (a `Call Trace:` or `-> #N` line,
/// whose own text may already hold the first frame), up to the first line that is neither
/// frame, marker, register dump nor blank. A stray line of other output inside the trace is
/// skipped when frames follow it.
pub fn frames_after(lines: &[LogLine], start: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut context = FrameContext::Task;
    let first = lines
        .get(start)
        .map(|l| after_trace_marker(&l.text).unwrap_or(""))
        .map(str::trim)
        .filter(|rest| parse_frame(rest).is_some());
    let texts = first
        .into_iter()
        .chain(lines.iter().skip(start + 1).map(|l| l.text.as_str()));
    let texts: Vec<&str> = texts.take(MAX_TRACE_LINES).collect();
    let mut i = 0;
    while i < texts.len() {
        let mut text = texts[i];
        i += 1;
        if let Some((marker_context, rest)) = context_marker(text) {
            context = marker_context;
            text = rest;
        }
        if text.is_empty() {
            continue;
        }
        if let Some(mut frame) = parse_frame(text) {
            if frames.is_empty()
                && let Some(mut callee) = arm_callee(text)
            {
                callee.context = context;
                frames.push(callee);
            }
            frame.context = context;
            frames.push(frame);
            continue;
        }
        if let Some(mut frame) = interrupted_at(text) {
            frame.context = context;
            frames.push(frame);
            continue;
        }
        let stray = !frames.is_empty() && frames_resume(&texts[i..]) && !is_section(text);
        if !(is_register_dump(text) || stray) {
            break;
        }
    }
    frames
}

/// A trace longer than this is a runaway (a recursion printed in full): the rest is dropped.
const MAX_TRACE_LINES: usize = 2_000;

/// True when a frame comes within the next few lines (an unrelated printk in between).
fn frames_resume(next: &[&str]) -> bool {
    next.iter()
        .take(3)
        .find(|t| !t.is_empty())
        .is_some_and(|t| parse_frame(t).is_some() || context_marker(t).is_some())
}

/// A line that opens another part of a report (`Call Trace:`, `-> #0 (lock){....}:`,
/// `CPU: 1 PID: ...`, a new title): it ends the trace even when frames follow.
fn is_section(text: &str) -> bool {
    text.ends_with(':')
        || text.starts_with("-> ")
        || text.starts_with("CPU: ")
        || text.starts_with("NMI backtrace")
        || super::header::classify(text).is_some()
}

/// The kernel-mode instruction pointer of a register dump inside a trace (`RIP: 0010:f+0x1/0x2`,
/// arm64 `pc : f+0x1/0x2`, powerpc `NIP [c0..] f+0x1/0x2`): the frame the interrupt stopped.
fn interrupted_at(text: &str) -> Option<Frame> {
    let rest = text
        .strip_prefix("RIP: 0010:")
        .or_else(|| text.strip_prefix("pc : "))
        .or_else(|| text.strip_prefix("NIP:"))
        .or_else(|| text.strip_prefix("NIP "))?;
    let frame = parse_frame(rest.trim())?;
    (!frame.function.starts_with("0x")).then_some(frame)
}

/// `RIP: 0010:...`, `RAX: ...`, `Code: ...`, `FS:  0000`, arm `r10:8336a068 r9:00000000`,
/// `Exception stack(0x83381bc0 to 0x83381c08)` and its `1bc0: 00000001 ...` words:
/// register and stack dumps inside a trace.
fn is_register_dump(text: &str) -> bool {
    if text.starts_with("Exception stack(") || text.starts_with("---") {
        return true;
    }
    let hex = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_hexdigit());
    let pairs = text.split_whitespace().all(|word| {
        word.split_once(':')
            .is_some_and(|(name, value)| name.len() <= 4 && hex(value) && !name.is_empty())
    });
    if pairs && !text.is_empty() {
        return true;
    }
    if let Some((offset, words)) = text.split_once(": ")
        && hex(offset)
        && words.split_whitespace().all(hex)
    {
        return true;
    }
    let Some((name, _)) = text.split_once(':') else {
        return false;
    };
    name == "Code"
        || (!matches!(name, "CPU" | "INFO" | "BUG" | "NMI")
            && !name.is_empty()
            && name.len() <= 4
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' '))
}

/// Index of the `Call Trace:` line to use: the first after `from` (`Backtrace:` on arm,
/// `Call Trace: [<..>] f+..` with the first frame on the same line on m68k).
pub fn call_trace_line(lines: &[LogLine], from: usize) -> Option<usize> {
    find_line(lines, from, |t| after_trace_marker(t).is_some())
}

/// The text after `Call Trace:` / `Call trace:` (anywhere: a console may glue it after stack
/// words) or a leading `Backtrace:`.
fn after_trace_marker(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_prefix("Backtrace:") {
        return Some(rest);
    }
    let at = text
        .find("Call Trace:")
        .or_else(|| text.find("Call trace:"))?;
    Some(&text[at + "Call Trace:".len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lines() {
        let l = parse_cpu_line(
            "CPU: 1 PID: 175 Comm: lab_s1 Tainted: G        W  O       6.1.192-lablockdep #1",
        )
        .unwrap();
        assert_eq!((l.cpu, l.pid, l.comm.as_str()), (1, 175, "lab_s1"));
        assert_eq!(l.kernel.as_deref(), Some("6.1.192-lablockdep"));
        let l = parse_cpu_line(
            "CPU: 1 UID: 0 PID: 7060 Comm: syz.5.286 Not tainted syzkaller #0 PREEMPT(full)",
        )
        .unwrap();
        assert_eq!(l.kernel.as_deref(), Some("syzkaller"));
        let l =
            parse_cpu_line("CPU: 0 PID: 1289 Comm: (mount) Not tainted 6.1.0-rc7-rt5 #17").unwrap();
        assert_eq!(l.comm, "(mount)");
    }

    #[test]
    fn lock_names() {
        let n = lock_name(
            "ffff8880b913ea58 (&rq->__lock){-.-.}-{2:2}, at: raw_spin_rq_lock_nested+0x2a/0x140",
        );
        assert_eq!(n, Some("&rq->__lock"));
        assert_eq!(
            lock_name(" ((work_completion)(&lo->rootcg_work)){+.+.}-{0:0}:"),
            Some("(work_completion)(&lo->rootcg_work)")
        );
        assert_eq!(
            lock_name("ffff ((console_sem).lock){-.-.}, at: x"),
            Some("(console_sem).lock")
        );
        assert_eq!(
            lock_name("-> #4 (&q->q_usage_counter(io)#2){++++}-{0:0}:"),
            Some("&q->q_usage_counter(io)#2")
        );
        assert_eq!(
            kernel_from_ident("6.18.0-rc2-g #97 Tainted: G S          E").as_deref(),
            Some("6.18.0-rc2-g")
        );
    }

    fn log(text: &str) -> Vec<LogLine> {
        super::super::lines::logical_lines(text.as_bytes())
    }

    #[test]
    fn traces_skip_stray_lines_and_dumps() {
        let lines = log("\
 dffffc0000000000Call Trace:
  [<ffffffff81d90889>] dump_stack+0xc1/0x128
 tc_dump_action: action bad kind
  [<ffffffff833f3f78>] ipcomp_init_state+0x188/0x930
 RIP: 0010:fuse_abort_conn+0xb1f/0x1580
 RSP: 0018:ffff880198357618 EFLAGS: 00000246
  fuse_put_super+0x123/0x440
 other info that might help us debug this:
  later_fn+0x1/0x2
");
        let trace = call_trace_line(&lines, 0).unwrap();
        let names: Vec<String> = frames_after(&lines, trace)
            .into_iter()
            .map(|f| f.function)
            .collect();
        assert_eq!(
            names,
            [
                "dump_stack",
                "ipcomp_init_state",
                "fuse_abort_conn",
                "fuse_put_super"
            ]
        );
        // riscv prints `Call Trace:` with pr_cont: a console may glue it to the line before.
        let riscv = log("\
[    2.1] Hardware name: riscv-virtio,qemu (DT)Call Trace:
[    2.1] [<ffffffff80003a7c>] dump_backtrace+0x1c/0x24
[    2.1] [<ffffffff80881a5e>] show_stack+0x2c/0x38
");
        let trace = call_trace_line(&riscv, 0).unwrap();
        let names: Vec<String> = frames_after(&riscv, trace)
            .into_iter()
            .map(|f| f.function)
            .collect();
        assert_eq!(names, ["dump_backtrace", "show_stack"]);
        let arm = log("\
Backtrace:
[<80de0078>] (dump_backtrace) from [<80de0574>] (show_stack+0x28/0x2c)
 r9:400f0193 r8:ffffffff r7:00000001
[<80de054c>] (show_stack) from [<80de7c10>] (dump_stack+0x154/0x1a8)
Exception stack(0x83381bc0 to 0x83381c08)
1bc0: 00000001 00000001 83369b00 00000000
[<80dee90c>] (_raw_spin_unlock) from [<803e3050>] (kfree+0x1/0x2)
");
        let names: Vec<String> = frames_after(&arm, 0)
            .into_iter()
            .map(|f| f.function)
            .collect();
        assert_eq!(
            names,
            ["dump_backtrace", "show_stack", "dump_stack", "kfree"]
        );
    }
}
