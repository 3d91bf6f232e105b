//! Generic `key=value` payloads. A value runs until the next token that starts a new key, so
//! values keep spaces and `=` (`expires=4294908345 [timeout=25]`, `my_field=foo=bar`);
//! text before the first key (`(mutex_lock+0x0/0x30) lock=0x...`) is kept under the empty key.

/// Splits `payload` into `(key, value)` pairs into `out`; `false` (and `out` empty) when the
/// payload has no `key=value` shape at all.
pub(super) fn split<'a>(payload: &'a str, out: &mut Vec<(&'a str, &'a str)>) -> bool {
    out.clear();
    let base = payload.as_ptr() as usize;
    let offset = |s: &str| s.as_ptr() as usize - base;
    // (key, value start, value end) of the field being read
    let mut current: Option<(&'a str, usize, usize)> = None;
    let mut leading_end = 0;
    for token in payload.split_ascii_whitespace() {
        let start = offset(token);
        let end = start + token.len();
        match key_of(token) {
            Some(key) => {
                if let Some((k, vs, ve)) = current.take() {
                    out.push((k, &payload[vs..ve]));
                }
                current = Some((key, start + key.len() + 1, end));
            }
            None => match current.as_mut() {
                Some((_, _, ve)) => *ve = end,
                None => leading_end = end,
            },
        }
    }
    let Some((k, vs, ve)) = current else {
        return false;
    };
    out.push((k, &payload[vs..ve.max(vs)]));
    if leading_end > 0 {
        out.insert(0, ("", payload[..leading_end].trim_start()));
    }
    true
}

/// The key of a `key=value` token: an identifier before the first `=`.
fn key_of(token: &str) -> Option<&str> {
    let eq = token.find('=')?;
    let key = &token[..eq];
    let ident = !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.');
    ident.then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(p: &str) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        split(p, &mut out);
        out
    }

    #[test]
    fn values_keep_spaces_brackets_and_equals() {
        assert_eq!(
            fields("timer=ff function=f expires=42 [timeout=25] cpu=1 flags=D"),
            [
                ("timer", "ff"),
                ("function", "f"),
                ("expires", "42 [timeout=25]"),
                ("cpu", "1"),
                ("flags", "D")
            ]
        );
        assert_eq!(
            fields("equals_event: my_field=foo=bar"),
            [("", "equals_event:"), ("my_field", "foo=bar")]
        );
        assert_eq!(fields("overutilized=0\t  "), [("overutilized", "0")]);
        assert_eq!(fields("cpu_id=7 empty="), [("cpu_id", "7"), ("empty", "")]);
    }

    #[test]
    fn leading_text_and_raw_payloads() {
        assert_eq!(
            fields("(mutex_lock+0x0/0x30) lock=0xffffffffc023a1e8"),
            [
                ("", "(mutex_lock+0x0/0x30)"),
                ("lock", "0xffffffffc023a1e8")
            ]
        );
        let mut out = Vec::new();
        assert!(!split("dev 8,13 ino 5898483 pos 0", &mut out));
        assert!(out.is_empty());
    }
}
