//! Byte-level string scanning for the per-line hot path. `str::split_once(&str)` builds a
//! two-way searcher per call, which costs more than the short lines it searches; these scan
//! with `memchr` for the needle's first byte instead.

use memchr::memchr_iter;

/// Position of `needle` in `haystack`.
pub(super) fn find_str(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let (&first, rest) = n.split_first()?;
    memchr_iter(first, h).find(|&i| h[i + 1..].starts_with(rest))
}

/// `split_once` for a string needle.
pub(super) fn split_str<'a>(s: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let i = find_str(s, needle)?;
    Some((&s[..i], &s[i + needle.len()..]))
}

/// Text up to the first space. Words are short: a loop beats a `memchr` call.
pub(super) fn first_word(s: &str) -> &str {
    s.bytes().position(|c| c == b' ').map_or(s, |i| &s[..i])
}

/// `s` without leading spaces.
pub(super) fn skip_spaces(s: &str) -> &str {
    &s[skip_spaces_at(s.as_bytes(), 0)..]
}

/// Position of the first byte at or after `at` that is not a space. Column padding runs to a
/// dozen spaces per field, so whole 8-byte words of spaces go at once.
pub(super) fn skip_spaces_at(b: &[u8], mut at: usize) -> usize {
    while b.get(at..at + 8) == Some(b"        ") {
        at += 8;
    }
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// `s` without leading ASCII whitespace (spaces skipped word-wise first).
pub(super) fn trim_start(s: &str) -> &str {
    s[skip_spaces_at(s.as_bytes(), 0)..].trim_ascii_start()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_like_std() {
        for (h, n) in [
            ("a prev_pid=1", " prev_pid="),
            ("xx", "y"),
            ("ab", "abc"),
            ("", "a"),
        ] {
            assert_eq!(find_str(h, n), h.find(n), "{h} {n}");
            assert_eq!(split_str(h, n), h.split_once(n), "{h} {n}");
        }
        assert_eq!(first_word("ab cd"), "ab");
        assert_eq!(skip_spaces("  x "), "x ");
        assert_eq!(skip_spaces("            x"), "x");
        assert_eq!(skip_spaces("        "), "");
        assert_eq!(trim_start("         \t x"), "x");
    }
}
