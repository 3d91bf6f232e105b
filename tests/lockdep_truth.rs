//! `kctx locks --deps` against lockdep itself: on the lockdep kernel's whole-kernel recording,
//! every dependency and every irq usage bit kctx derives from the trace must be one lockdep
//! recorded in its own `/proc/lockdep` (lockdep.txt, read right after tracing stopped).
//! lockdep ran since boot, so it knows more than the traced window: kctx's graph must be a
//! subset of it. `/proc/lockdep` lists the dependencies of distance 1 (taken right on top
//! of each other); one across a held trylock or an unvalidated lock (distance > 1) is checked
//! against lockdep's lock chains (`/proc/lockdep_chains`), which hold every held stack.

use corpus_tests::{corpus, kctx_json};
use std::collections::{HashMap, HashSet};

/// A class name as the trace prints it: lockdep's `#N` key suffix and `/N` subclass suffix
/// are not in `lock:*` events.
fn trace_name(lockdep_name: &str) -> &str {
    let mut name = lockdep_name;
    if let Some((base, sub)) = name.rsplit_once('/')
        && !sub.is_empty()
        && sub.bytes().all(|b| b.is_ascii_digit())
    {
        name = base;
    }
    if let Some((base, key)) = name.rsplit_once('#')
        && !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_digit())
    {
        name = base;
    }
    name
}

/// lockdep.txt: per trace name, the union of its classes' usage characters' bits, and the
/// set of (from, to) dependencies by trace name.
struct Lockdep {
    /// Per name and usage position (hardirq, hardirq-read, softirq, softirq-read): was
    /// USED_IN (`-`/`?`) / ENABLED (`+`/`?`) seen on any class of that name.
    usage: HashMap<String, [(bool, bool); 4]>,
    deps: HashSet<(String, String)>,
}

fn read_lockdep(text: &str) -> Lockdep {
    let mut usage: HashMap<String, [(bool, bool); 4]> = HashMap::new();
    let mut deps = HashSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(" -> [") {
            let (_, name) = rest.split_once("] ").expect("dependency line");
            let from = current.clone().expect("dependency after its class");
            deps.insert((from, trace_name(name).to_owned()));
        } else if line.contains(" FD:") && line.contains(" BD:") {
            // `ADDR FD: n BD: n USAGE: NAME`
            let after_bd = line.split(" BD:").nth(1).expect("BD field");
            let (_, rest) = after_bd.trim_start().split_once(' ').expect("usage");
            let (chars, name) = rest.split_once(": ").expect("usage: name");
            let name = trace_name(name).to_owned();
            let bits = usage.entry(name.clone()).or_insert([(false, false); 4]);
            for (slot, c) in bits.iter_mut().zip(chars.chars()) {
                slot.0 |= matches!(c, '-' | '?');
                slot.1 |= matches!(c, '+' | '?');
            }
            current = Some(name);
        }
    }
    Lockdep { usage, deps }
}

/// lockdep_chains.txt: every (held, acquired last) pair of names of every chain.
fn chain_pairs(text: &str) -> HashSet<(String, String)> {
    let mut pairs = HashSet::new();
    for chain in text.split("irq_context:") {
        let names: Vec<&str> = chain
            .lines()
            .filter_map(|l| {
                l.strip_prefix('[')?
                    .split_once("] ")
                    .map(|(_, n)| trace_name(n))
            })
            .collect();
        if let Some((last, held)) = names.split_last() {
            for h in held {
                pairs.insert(((*h).to_owned(), (*last).to_owned()));
            }
        }
    }
    pairs
}

#[test]
fn derived_dependencies_and_usage_are_lockdeps_own() {
    let dir = corpus("wholekernel/wk-lockdep-a");
    let lockdep_txt = std::fs::read_to_string(dir.join("lockdep.txt")).expect("lockdep.txt");
    let lockdep = read_lockdep(&lockdep_txt);
    assert!(lockdep.deps.len() > 1000, "lockdep.txt parsed");
    let chains = std::fs::read_to_string(dir.join("lockdep_chains.txt")).expect("chains");
    let chains = chain_pairs(&chains);

    let args = ["locks", "--deps", "--format", "json"];
    let (status, derived) = kctx_json(&args, &dir.join("trace.dat"));
    assert!(status.success());

    let mut wrong_usage = Vec::new();
    let classes = derived["classes"].as_array().expect("classes");
    for c in classes {
        let name = c["name"].as_str().expect("name");
        let Some(known) = lockdep.usage.get(name) else {
            wrong_usage.push(format!("{name}: no such class in lockdep.txt"));
            continue;
        };
        let bits = [
            ("hardirq", 0),
            ("hardirq_read", 1),
            ("softirq", 2),
            ("softirq_read", 3),
        ];
        for (prefix, slot) in bits {
            let (used, enabled) = known[slot];
            if c[format!("{prefix}_safe")] == true && !used {
                wrong_usage.push(format!("{name}: {prefix}_safe"));
            }
            if c[format!("{prefix}_unsafe")] == true && !enabled {
                wrong_usage.push(format!("{name}: {prefix}_unsafe"));
            }
        }
    }

    let deps = derived["dependencies"].as_array().expect("dependencies");
    let mut wrong_deps = Vec::new();
    let mut found = HashSet::new();
    for d in deps {
        let pair = (
            d["from"].as_str().expect("from").to_owned(),
            d["to"].as_str().expect("to").to_owned(),
        );
        let direct = d["distance"] == 1;
        if lockdep.deps.contains(&pair) {
            found.insert(pair);
        } else if !direct && chains.contains(&pair) {
            // A dependency /proc/lockdep does not list, in one of lockdep's chains.
        } else {
            wrong_deps.push(format!(
                "{} -> {} (distance {})",
                pair.0, pair.1, d["distance"]
            ));
        }
    }
    let traced: HashSet<&str> = classes.iter().filter_map(|c| c["name"].as_str()).collect();
    let among_traced = lockdep
        .deps
        .iter()
        .filter(|(a, b)| traced.contains(a.as_str()) && traced.contains(b.as_str()))
        .count();
    println!(
        "kctx derived {} classes and {} dependencies; {} of lockdep's {} dependencies among \
         the traced classes found ({} in lockdep.txt in all)",
        classes.len(),
        deps.len(),
        found.len(),
        among_traced,
        lockdep.deps.len()
    );
    assert!(
        wrong_usage.is_empty(),
        "usage bits lockdep never set: {wrong_usage:#?}"
    );
    assert!(
        wrong_deps.is_empty(),
        "dependencies lockdep never recorded: {wrong_deps:#?}"
    );
    assert!(deps.len() > 100, "a busy kernel's trace gives a real graph");
}
