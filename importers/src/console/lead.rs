//! Learning what precedes the kernel's message on each line, by shape and by consistency over
//! the lines around it, never from a list of tools.
//!
//! A line gives evidence of its own lead in two ways: a printk stamp (everything before it is
//! lead), and kernel-report-shaped text (a splat title, `Call Trace:`, a frame, a `CPU:` line,
//! a `<IRQ>` marker), before which everything is lead. Each such line proposes a [`Lead`]; for
//! each line the lead that most evidence lines within [`WINDOW`] lines agree with wins, the
//! more specific one on a tie. So a harness counter, a syslog or journal header, a host name,
//! a serial-console tag or mail quoting is learned from the run it prefixes, also when the
//! kernel prints no stamps, while output glued before a stamp on a single line is not.

use super::common::parse_cpu_line;
use super::frames::{arm_callee, context_marker, parse_frame};
use super::header::classify;
use super::prefix::{Stamp, find_stamp};
use super::shape::{MAX_PREFIX_BYTES, Shape};
use rustc_hash::FxHashMap;

/// Lines on each side that vote on a line's lead.
const WINDOW: usize = 8;

/// What one raw line shows of its lead.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evidence {
    pub stamp: Option<Stamp>,
    /// Where the first kernel-report-shaped text starts (after the stamp, if any).
    pub anchor: Option<usize>,
}

impl Evidence {
    pub fn of(line: &str) -> Evidence {
        let stamp = find_stamp(line);
        let from = stamp.map_or(0, |s| s.end);
        Evidence {
            stamp,
            anchor: anchor(line, from),
        }
    }
}

/// A lead: the shape before the stamp, and the shape between the stamp and the message
/// (`journalctl -o short-monotonic` puts `host kernel: ` there).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lead {
    pub before: Shape,
    pub after: Shape,
}

impl Lead {
    fn specificity(&self) -> usize {
        self.before.len() + self.after.len()
    }

    /// Where the message starts when `line` carries this lead: its shapes match, and a stamp
    /// the line holds sits right after `before`.
    pub fn message_start(&self, line: &str, evidence: &Evidence) -> Option<usize> {
        let mut at = self.before.match_end(line)?;
        if let Some(stamp) = evidence.stamp {
            if stamp.start != at {
                return None;
            }
            at = stamp.end;
        }
        Some(at + self.after.match_end(&line[at..])?)
    }

    /// How much one evidence line supports this lead: 2 when the message starts exactly at
    /// its report-shaped text, 1 when it is consistent, 0 otherwise or without evidence.
    fn vote(&self, line: &str, evidence: &Evidence) -> u32 {
        if evidence.stamp.is_none() && evidence.anchor.is_none() {
            return 0;
        }
        match (self.message_start(line, evidence), evidence.anchor) {
            (None, _) => 0,
            (Some(start), Some(anchor)) if start == anchor => 2,
            (Some(start), Some(anchor)) if start > anchor => 0,
            _ => 1,
        }
    }

    /// The leads this line proposes.
    fn proposals(line: &str, evidence: &Evidence) -> Vec<Lead> {
        let lead_text = |end: usize| (end <= MAX_PREFIX_BYTES).then(|| Shape::of(&line[..end]));
        match (evidence.stamp, evidence.anchor) {
            (Some(stamp), anchor) => {
                let Some(before) = lead_text(stamp.start) else {
                    return Vec::new();
                };
                let mut out = vec![Lead {
                    before: before.clone(),
                    after: Shape::default(),
                }];
                if let Some(anchor) = anchor
                    && anchor > stamp.end
                {
                    let after = Shape::of(&line[stamp.end..anchor]);
                    if !after.is_empty() {
                        out.push(Lead { before, after });
                    }
                }
                out
            }
            (None, Some(anchor)) => lead_text(anchor)
                .map(|before| Lead {
                    before,
                    after: Shape::default(),
                })
                .into_iter()
                .collect(),
            (None, None) => Vec::new(),
        }
    }
}

/// The lead of every line (an index into the returned table; 0 is the empty lead).
pub fn learn(lines: &[&str], evidence: &[Evidence]) -> (Vec<Lead>, Vec<usize>) {
    let mut table = vec![Lead::default()];
    let mut ids: FxHashMap<Lead, usize> = FxHashMap::default();
    ids.insert(Lead::default(), 0);
    let proposed: Vec<Vec<usize>> = lines
        .iter()
        .zip(evidence)
        .map(|(line, e)| {
            Lead::proposals(line, e)
                .into_iter()
                .map(|lead| {
                    *ids.entry(lead.clone()).or_insert_with(|| {
                        table.push(lead);
                        table.len() - 1
                    })
                })
                .collect()
        })
        .collect();
    // Votes are memoised per line: windows overlap.
    let mut votes: Vec<Vec<(usize, u32)>> = vec![Vec::new(); lines.len()];
    let mut vote = |j: usize, id: usize| -> u32 {
        if let Some(&(_, v)) = votes[j].iter().find(|(i, _)| *i == id) {
            return v;
        }
        let v = table[id].vote(lines[j], &evidence[j]);
        votes[j].push((id, v));
        v
    };
    // A prefix is consistent over a run: a lead only one line proposes (output glued before
    // a stamp, text before a frame in a lock line) is none, unless that line is all there is.
    let mut proposers = vec![0usize; table.len()];
    for &id in proposed.iter().flatten() {
        proposers[id] += 1;
    }
    let evidence_lines = evidence
        .iter()
        .filter(|e| e.stamp.is_some() || e.anchor.is_some())
        .count();
    let eligible = |id: usize| proposers[id] >= 2 || evidence_lines <= 1;
    let mut chosen = Vec::with_capacity(lines.len());
    for i in 0..lines.len() {
        let window = i.saturating_sub(WINDOW)..(i + WINDOW + 1).min(lines.len());
        // The previous line's lead carries a run over stretches with little evidence (a
        // lockdep report's prose).
        let mut candidates = vec![0];
        candidates.extend(chosen.last().filter(|&&id| id != 0));
        for j in window.clone() {
            for &id in &proposed[j] {
                if eligible(id) && !candidates.contains(&id) {
                    candidates.push(id);
                }
            }
        }
        let best = candidates
            .into_iter()
            .max_by_key(|&id| {
                let (mut score, mut support) = (0u32, 0usize);
                for j in window.clone() {
                    let v = vote(j, id);
                    score += v;
                    support += usize::from(v > 0);
                }
                (score, support, table[id].specificity())
            })
            .unwrap_or(0);
        chosen.push(best);
    }
    (table, chosen)
}

/// The first place at or after byte `from` (at the start of a word, within a prefix's
/// reach) where kernel-report-shaped text starts.
fn anchor(line: &str, from: usize) -> Option<usize> {
    let bytes = line.as_bytes();
    let limit = (from + MAX_PREFIX_BYTES).min(line.len());
    let mut at = from;
    while at < limit {
        if bytes[at].is_ascii_whitespace() {
            at += 1;
            continue;
        }
        if line.is_char_boundary(at) && report_shaped(&line[at..]) {
            return Some(at);
        }
        // The next word.
        while at < limit && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
    }
    None
}

/// Text only a kernel report prints at the start of a message.
fn report_shaped(text: &str) -> bool {
    const OPENERS: [&str; 6] = [
        "Call Trace:",
        "Call trace:",
        "Backtrace:",
        "Hardware name: ",
        "Modules linked in:",
        "---[ end trace",
    ];
    OPENERS.iter().any(|o| text.starts_with(o))
        || classify(text).is_some()
        || parse_cpu_line(text).is_some()
        || context_marker(text).is_some()
        || frame_starts(text)
}

/// A stack frame starts here (for ARM's `callee from caller`, the callee too: the frame
/// parser reads the caller after whatever precedes ` from `).
fn frame_starts(text: &str) -> bool {
    let opens =
        text.starts_with(|c: char| matches!(c, '[' | '(' | '?' | '_') || c.is_ascii_alphabetic());
    opens
        && text.contains("+0x")
        && parse_frame(text).is_some()
        && text.split_once(" from ").is_none_or(|(callee, _)| {
            // `[<pc>] (callee)`, `callee [module]`: a word or three, never a prefix.
            callee.split_whitespace().count() <= 3 && arm_callee(text).is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(log: &str) -> Vec<Option<String>> {
        let lines: Vec<&str> = log.lines().collect();
        let evidence: Vec<Evidence> = lines.iter().map(|l| Evidence::of(l)).collect();
        let (table, chosen) = learn(&lines, &evidence);
        lines
            .iter()
            .zip(&evidence)
            .zip(chosen)
            .map(|((line, e), id)| {
                table[id]
                    .message_start(line, e)
                    .map(|at| line[at..].to_owned())
            })
            .collect()
    }

    #[test]
    fn learns_a_syslog_header_without_stamps() {
        let m = messages(
            "Dec  3 12:00:01 host kernel: BUG: sleeping function called from invalid context\n\
             Dec  3 12:00:01 host kernel: in_atomic(): 1, irqs_disabled(): 0\n\
             Dec  3 12:00:01 host sshd[71]: Accepted publickey\n\
             Dec  3 12:00:01 host kernel: Call Trace:\n\
             Dec  3 12:00:02 host kernel:  dump_stack+0x1/0x2\n",
        );
        assert_eq!(m[1].as_deref(), Some("in_atomic(): 1, irqs_disabled(): 0"));
        assert_eq!(m[2], None, "another program's line");
        assert_eq!(m[4].as_deref(), Some("dump_stack+0x1/0x2"));
    }

    #[test]
    fn learns_text_between_stamp_and_message() {
        let m = messages(
            "[   12.000001] host kernel: WARNING: CPU: 1 PID: 7 at x.c:1 f+0x1/0x2\n\
             [   12.000002] host kernel: Modules linked in:\n\
             [   12.000003] host kernel: some message\n",
        );
        assert_eq!(m[2].as_deref(), Some("some message"));
    }

    #[test]
    fn output_glued_before_one_stamp_is_no_lead() {
        let m = messages(
            "[  417.1][ C1] a\n\
             syzkaller login: [  417.7][ C1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n\
             [  417.8][ C1] b\n",
        );
        assert_eq!(m[0].as_deref(), Some("a"));
        assert_eq!(m[1], None);
    }
}
