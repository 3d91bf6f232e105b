//! Small text helpers shared by the payload parsers: numbers, symbols, `key=value` lookup.

/// Hex with or without `0x` (`ffff88803ebdda40`, `0xffff...`).
pub(super) fn hex(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    u64::from_str_radix(digits, 16).ok()
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
    let s = s.split(' ').next().unwrap_or(s);
    match s.find(['+', '/']) {
        Some(i) if i > 0 => &s[..i],
        _ => s,
    }
}

/// The value of `key=` in a space-separated payload, up to the next space.
pub(super) fn value<'a>(payload: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = payload[from..].find(key) {
        let at = from + i;
        let after = at + key.len();
        let starts_word = at == 0 || payload.as_bytes()[at - 1] == b' ';
        if starts_word && payload.as_bytes().get(after) == Some(&b'=') {
            let v = &payload[after + 1..];
            return Some(v.split(' ').next().unwrap_or(v));
        }
        from = after;
    }
    None
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
        assert_eq!(int("-4553"), Some(-4553));
    }
}
