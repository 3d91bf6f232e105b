//! The shape of a line prefix: its text with every digit run made one class and every white
//! space run made one flexible gap, so that a harness counter (`12.5 `, `13.25 `), a syslog
//! header (`Dec  3 12:00:01 host kernel: `) or a quote mark (`> `) has one shape on every
//! line it starts, while the words in it (the host, the tag) must stay the same.

/// One token of a shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Token {
    /// One or more ASCII digits.
    Digits,
    /// White space: matches any run of it (or the end of the line).
    Gap,
    /// Any other character, as printed.
    Char(char),
}

/// A prefix shape; the empty shape matches at the start of every line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Shape(Vec<Token>);

/// Prefixes longer than this are not prefixes (a syslog header with a long host name is ~60).
pub const MAX_PREFIX_BYTES: usize = 96;

impl Shape {
    /// The shape of `text` (leading white space ignored: indentation is no part of a prefix).
    pub fn of(text: &str) -> Shape {
        let mut tokens = Vec::new();
        for c in text.trim_start().chars() {
            let token = if c.is_ascii_digit() {
                Token::Digits
            } else if c.is_whitespace() {
                Token::Gap
            } else {
                Token::Char(c)
            };
            // Runs of digits and of white space are one token each.
            let run = matches!(token, Token::Digits | Token::Gap) && tokens.last() == Some(&token);
            if !run {
                tokens.push(token);
            }
        }
        Shape(tokens)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many tokens: the more, the more specific.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Where a prefix of this shape ends in `text` (white space after it included), or `None`
    /// when `text` does not start with it. Leading white space is skipped first.
    pub fn match_end(&self, text: &str) -> Option<usize> {
        let bytes = text.as_bytes();
        let mut at = skip_space(bytes, 0);
        for token in &self.0 {
            match token {
                Token::Digits => {
                    let start = at;
                    while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                        at += 1;
                    }
                    if at == start {
                        return None;
                    }
                }
                Token::Gap => {
                    // A gap is white space, or the end of a line that holds only the prefix.
                    let end = skip_space(bytes, at);
                    if end == at && at < bytes.len() {
                        return None;
                    }
                    at = end;
                }
                Token::Char(c) => {
                    let rest = text.get(at..)?;
                    if !rest.starts_with(*c) {
                        return None;
                    }
                    at += c.len_utf8();
                }
            }
        }
        Some(skip_space(bytes, at))
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_gaps_vary_words_do_not() {
        let syslog = Shape::of("Dec  3 12:00:01 host kernel: ");
        assert_eq!(syslog, Shape::of("Dec 13 09:10:59 host kernel: "));
        assert_ne!(syslog, Shape::of("Dec 13 09:10:59 other kernel: "));
        let line = "Dec 13 09:10:59 host kernel:   dump_stack+0x1/0x2";
        assert_eq!(
            &line[syslog.match_end(line).unwrap()..],
            "dump_stack+0x1/0x2"
        );
        assert_eq!(syslog.match_end("Dec 13 09:10:59 host sshd[1]: x"), None);
        let counter = Shape::of("12.5 ");
        assert_eq!(counter.match_end("  131.25 [ 1.0] x"), Some(9));
        assert_eq!(counter.match_end("[ 1.0] x"), None);
        assert_eq!(counter.match_end("0.0-next-20190102+ #1"), None, "no gap");
        assert_eq!(Shape::of("> > ").match_end("> >"), Some(3));
        assert_eq!(Shape::default().match_end("  x"), Some(2));
        assert!(Shape::of("   ").is_empty());
        assert_ne!(Shape::of("12.5 "), Shape::of("12.5"));
    }
}
