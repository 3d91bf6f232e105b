//! Small text helpers shared by the payload parsers: numbers, symbols, `key=value` lookup.

use crate::ftrace_text::scan::first_word;

/// Hex with or without `0x` (`ffff88803ebdda40`, `0xffff...`). A loop of its own: every lock
/// and timer event carries addresses, and `from_str_radix` costs twice as much (sign, radix).
pub(super) fn hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x").unwrap_or(s).as_bytes();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &c| {
        let nibble = char::from(c).to_digit(16)?;
        // Leading zeros are fine; a 17th significant digit overflows.
        (acc >> 60 == 0).then(|| acc << 4 | u64::from(nibble))
    })
}

/// Decimal, possibly negative.
pub(super) fn int(s: &str) -> Option<i32> {
    s.trim().parse().ok()
}

/// Unsigned decimal.
pub(super) fn uint(s: &str) -> Option<u32> {
    s.trim().parse().ok()
}

/// A symbol as `%pS` / `%ps` / libtraceevent print it, reduced to the function name:
/// `lab_fn+0x22/0x26 [ctxlab]`, `lab_fn+0x22`, `tick_sched_timer/0x0` → `lab_fn`,
/// `tick_sched_timer`. Addresses (`0x0`) stay as they are.
pub(super) fn symbol(s: &str) -> &str {
    let s = first_word(s);
    match s.bytes().position(|c| c == b'+' || c == b'/') {
        Some(i) if i > 0 => &s[..i],
        _ => s,
    }
}

/// The value of `key=` in a space-separated payload, up to the next space. Inlined so that
/// the key's comparison is specialised to the literal key of each call.
#[inline]
pub(super) fn value<'a>(payload: &'a str, key: &str) -> Option<&'a str> {
    // Token by token: the key is usually among the first, so this stops after a few bytes.
    let mut rest = payload;
    loop {
        if let Some(v) = rest.strip_prefix(key).and_then(|r| r.strip_prefix('=')) {
            return Some(first_word(v));
        }
        let space = rest.bytes().position(|c| c == b' ')?;
        rest = &rest[space + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_lose_offsets_and_modules() {
        assert_eq!(symbol("lab_fn+0x22/0x26 [ctxlab]"), "lab_fn");
        assert_eq!(symbol("lab_fn+0x22"), "lab_fn");
        assert_eq!(symbol("tick_sched_timer/0x0"), "tick_sched_timer");
        assert_eq!(symbol("0x0"), "0x0");
        assert_eq!(symbol("lab_spawn.constprop.0"), "lab_spawn.constprop.0");
    }

    #[test]
    fn values_match_whole_keys() {
        let p = "next_pid=5 pid=7 xpid=9";
        assert_eq!(value(p, "pid"), Some("7"));
        assert_eq!(value(p, "next_pid"), Some("5"));
        assert_eq!(value(p, "tid"), None);
        assert_eq!(hex("0xff"), Some(255));
        assert_eq!(hex("ff11"), Some(0xff11));
        assert_eq!(hex("0000ffffffffffffffff"), Some(u64::MAX));
        assert_eq!(
            (hex("1ffffffffffffffff"), hex("0x"), hex("fg")),
            (None, None, None)
        );
        assert_eq!(int("-4553"), Some(-4553));
    }
}
