//! The allowlist of `kctx check --allow FILE`: rules of `key=glob` terms that hide known
//! findings (format in `kctx check --help`).

use anyhow::{Context as _, bail};
use globset::{Glob, GlobMatcher};
use std::path::Path;
use trace_model::Finding;

/// What a term matches against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Id,
    Kind,
    Function,
    Lock,
    Confidence,
}

#[derive(Clone, Debug)]
struct Term {
    field: Field,
    glob: GlobMatcher,
}

impl Term {
    fn matches(&self, f: &Finding) -> bool {
        let any = |names: &[String]| names.iter().any(|n| self.glob.is_match(n));
        match self.field {
            Field::Id => self.glob.is_match(&f.id),
            Field::Kind => self.glob.is_match(f.kind.name()),
            Field::Function => any(&f.functions),
            Field::Lock => any(&f.locks),
            Field::Confidence => self.glob.is_match(f.confidence.name()),
        }
    }
}

#[derive(Clone, Debug)]
struct Rule {
    line: usize,
    text: String,
    terms: Vec<Term>,
}

/// Parsed allowlist rules, in file order.
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    rules: Vec<Rule>,
}

impl Allowlist {
    /// Reads and parses an allowlist file.
    pub fn read(path: &Path) -> anyhow::Result<Allowlist> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read the allowlist", path.display()))?;
        Allowlist::parse(&text).with_context(|| format!("{}", path.display()))
    }

    /// Parses allowlist text; errors name the line.
    pub fn parse(text: &str) -> anyhow::Result<Allowlist> {
        let mut rules = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            let terms = line
                .split_whitespace()
                .map(parse_term)
                .collect::<anyhow::Result<Vec<_>>>()
                .with_context(|| format!("line {}", n + 1))?;
            rules.push(Rule {
                line: n + 1,
                text: line.to_owned(),
                terms,
            });
        }
        Ok(Allowlist { rules })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the file holds no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// `(line, rule text)` of each rule, in file order.
    pub fn rules(&self) -> impl Iterator<Item = (usize, &str)> {
        self.rules.iter().map(|r| (r.line, r.text.as_str()))
    }

    /// The index of the first rule that hides `finding`.
    pub fn matching_rule(&self, finding: &Finding) -> Option<usize> {
        self.rules
            .iter()
            .position(|r| r.terms.iter().all(|t| t.matches(finding)))
    }
}

/// `#` starts a comment at the start of a line or after whitespace (lockdep class names
/// such as `sb_writers#3` contain it).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let at = (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()));
    at.map_or(line, |i| &line[..i])
}

fn parse_term(term: &str) -> anyhow::Result<Term> {
    let (field, pattern) = match term.split_once('=') {
        None => (Field::Id, term),
        Some((key, pattern)) => {
            let field = match key {
                "id" => Field::Id,
                "kind" => Field::Kind,
                "function" => Field::Function,
                "lock" => Field::Lock,
                "confidence" => Field::Confidence,
                _ => bail!("unknown key `{key}` (expected id, kind, function, lock or confidence)"),
            };
            (field, pattern)
        }
    };
    if pattern.is_empty() {
        bail!("empty pattern in `{term}`");
    }
    // Ids contain `>` and lock names `&`, `->`: only glob metacharacters are special.
    let glob = Glob::new(pattern)
        .with_context(|| format!("bad glob `{pattern}`"))?
        .compile_matcher();
    Ok(Term { field, glob })
}

/// An allowlist that hides exactly `findings`, one `id=` rule each with its summary as a
/// comment: the baseline a project adopts kctx with, so that later runs fail only on new
/// findings.
pub fn baseline(findings: &[&Finding]) -> String {
    let mut out = String::from(
        "# kctx allowlist (kctx check --write-allowlist): each rule hides one known finding by\n\
         # its id. Delete a rule to make its finding fail the check again.\n",
    );
    let mut written: Vec<&str> = Vec::new();
    for f in findings {
        if written.contains(&f.id.as_str()) {
            continue;
        }
        written.push(&f.id);
        let summary = shorten(f.summary.lines().next().unwrap_or_default(), 120);
        out.push_str(&format!(
            "\n# {} {}: {summary}\nid={}\n",
            f.confidence.name(),
            f.kind.name(),
            escape_glob(&f.id)
        ));
    }
    out
}

/// `text` cut at a word boundary to about `max` characters.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let head = &text[..cut];
            format!("{} ...", head.rsplit_once(' ').map_or(head, |(h, _)| h))
        }
    }
}

/// The id as a glob that matches only itself: metacharacters escaped, and white space (which
/// separates terms) matched by `?`.
fn escape_glob(id: &str) -> String {
    let mut glob = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '*' | '?' | '[' | ']' | '{' | '}' | '\\' => {
                glob.push('\\');
                glob.push(c);
            }
            c if c.is_whitespace() => glob.push('?'),
            c => glob.push(c),
        }
    }
    glob
}

#[cfg(test)]
mod tests {
    use super::*;
    use trace_model::{Confidence, FindingKind};

    fn finding(id: &str, kind: FindingKind, functions: &[&str], locks: &[&str]) -> Finding {
        Finding {
            id: id.into(),
            kind,
            confidence: Confidence::Definite,
            cpu: None,
            task: None,
            pid: None,
            ts: [0, 0],
            functions: functions.iter().map(|s| s.to_string()).collect(),
            locks: locks.iter().map(|s| s.to_string()).collect(),
            why: None,
            summary: String::new(),
            evidence: Vec::new(),
            count: 1,
            instances: Vec::new(),
        }
    }

    #[test]
    fn rules_match_by_id_or_by_all_their_terms() {
        let allow = Allowlist::parse(
            "# known\n\
             lock-order-cycle:a>b>a   # exact id\n\
             \n\
             kind=irq-inversion lock=&rq->*\n\
             lock=sb_writers#3\n\
             function=drv_* confidence=probable\n",
        )
        .unwrap();
        assert_eq!(allow.len(), 4);
        let cycle = finding(
            "lock-order-cycle:a>b>a",
            FindingKind::LockOrderCycle,
            &[],
            &["a", "b"],
        );
        assert_eq!(allow.matching_rule(&cycle), Some(0));
        let inv = finding(
            "irq-inversion:softirq>&rq->lock",
            FindingKind::IrqInversion,
            &[],
            &["&rq->lock"],
        );
        assert_eq!(allow.matching_rule(&inv), Some(1));
        let other_kind = finding("x", FindingKind::SleepInAtomic, &[], &["&rq->lock"]);
        assert_eq!(
            allow.matching_rule(&other_kind),
            None,
            "every term must match"
        );
        let definite = finding("y", FindingKind::SleepInAtomic, &["drv_probe"], &[]);
        assert_eq!(allow.matching_rule(&definite), None, "confidence term");
        let sb = finding("z", FindingKind::LockOrderCycle, &[], &["sb_writers#3"]);
        assert_eq!(
            allow.matching_rule(&sb),
            Some(2),
            "`#` inside a name is not a comment"
        );
        assert_eq!(
            allow.rules().map(|(l, _)| l).collect::<Vec<_>>(),
            [2, 4, 5, 6]
        );
    }

    #[test]
    fn bad_rules_name_their_line() {
        let e = Allowlist::parse("ok\nfrobnicate=x\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 2"), "{e:#}");
        let e = Allowlist::parse("lock=[unclosed\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 1"), "{e:#}");
    }

    #[test]
    fn a_baseline_hides_exactly_its_findings() {
        let odd = finding(
            "lock-order-cycle:&a[0]{x}>b*>&a[0]{x}",
            FindingKind::LockOrderCycle,
            &[],
            &[],
        );
        let spaced = finding(
            "sleep-in-atomic:f:g (inlined)",
            FindingKind::SleepInAtomic,
            &[],
            &[],
        );
        let other = finding(
            "lock-order-cycle:&a[1]{x}>b>&a[1]{x}",
            FindingKind::LockOrderCycle,
            &[],
            &[],
        );
        let text = baseline(&[&odd, &spaced, &odd]);
        let allow = Allowlist::parse(&text).expect("a baseline parses");
        assert_eq!(allow.len(), 2, "{text}");
        assert_eq!(allow.matching_rule(&odd), Some(0));
        assert_eq!(allow.matching_rule(&spaced), Some(1));
        assert_eq!(allow.matching_rule(&other), None);
    }
}
