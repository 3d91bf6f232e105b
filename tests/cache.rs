//! The cache of imported traces, through the binary as users run it: every command prints
//! the same with and without it, a trace changed after caching is never served from it, and a
//! damaged, cut or older entry is detected, reported, rebuilt.

use corpus_tests::{corpus, kctx_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

/// A private cache directory and a copy of a lab trace beside it (a copy, so the test may
/// change it), removed at the end.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("kctx-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    fn cache_dir(&self) -> PathBuf {
        self.dir.join("cache")
    }

    fn copy(&self, rel: &str) -> PathBuf {
        let to = self.dir.join(Path::new(rel).file_name().unwrap());
        std::fs::copy(corpus(rel), &to).unwrap();
        to
    }

    /// `kctx ARGS` with this cache, every trace cached whatever its size.
    fn kctx(&self, args: &[&str]) -> Output {
        Command::new(kctx_bin())
            .args(args)
            .env("KCTX_CACHE_DIR", self.cache_dir())
            .env("KCTX_CACHE_MIN_EVENTS", "0")
            .output()
            .expect("run kctx")
    }

    /// The one cached store.
    fn entry(&self) -> PathBuf {
        self.file("store")
    }

    /// The one cache file named `*.extension` (`store`, `model`, `findings`).
    fn file(&self, extension: &str) -> PathBuf {
        let entries: Vec<PathBuf> = std::fs::read_dir(self.cache_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries.into_iter().next().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_command_prints_the_same_from_the_cache_as_from_the_trace() {
    let s = Scratch::new("same");
    let trace = s.copy("lab/lockdep-s1_spin_sleep/trace.dat");
    let trace = trace.to_str().unwrap();
    let first = s.kctx(&["stats", "--format", "json", trace]);
    assert!(first.status.success(), "{}", stderr(&first));
    let entry = s.entry();
    let stats: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let at = stats["first_ts"].as_f64().unwrap() + 0.5;
    let at = format!("{at}");
    let commands: [&[&str]; 13] = [
        &["stats", "--format", "json"],
        &["context", "--at", &at],
        &["context", "--at", &at, "--format", "json"],
        &["check", "--format", "json"],
        &["check", "--format", "text"],
        &["check", "--format", "sarif"],
        &["check", "--format", "markdown"],
        &["check", "--format", "html"],
        &["locks"],
        &["locks", "--deps"],
        &["latency"],
        &["latency", "--format", "json"],
        &["coverage"],
    ];
    // Twice: the first cached run of a command that needs the context model builds and
    // keeps it (and `check` its findings), the second reads them back.
    for args in commands.iter().chain(&commands) {
        // Before the subcommand here, after it in the other tests: both spellings work.
        let fresh = s.kctx(&[&["--no-cache"], *args, &[trace]].concat());
        // Marked unused long ago: reading the entry marks it used now.
        std::fs::File::options()
            .write(true)
            .open(&entry)
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH)
            .unwrap();
        let cached = s.kctx(&[*args, &[trace]].concat());
        assert_eq!(stdout(&cached), stdout(&fresh), "kctx {args:?}");
        assert_eq!(cached.status.code(), fresh.status.code(), "kctx {args:?}");
        assert!(stderr(&cached).is_empty(), "{}", stderr(&cached));
        let used = std::fs::metadata(&entry).unwrap().modified().unwrap();
        assert!(
            used > SystemTime::UNIX_EPOCH + Duration::from_secs(1),
            "kctx {args:?} did not read the cache"
        );
    }
    // The model and findings were kept beside the store.
    s.file("model");
    s.file("findings");
}

/// A cache entry's context model or findings damaged, cut or from an older schema: told,
/// not used, built again and kept again, and every output as without the cache.
#[test]
fn a_damaged_cut_or_older_model_or_findings_file_is_reported_and_rebuilt() {
    let s = Scratch::new("derived");
    let trace = s.copy("lab/lockdep-s1_spin_sleep/trace.dat");
    let trace = trace.to_str().unwrap();
    let fresh_check = s.kctx(&["check", "--no-cache", "--format", "json", trace]);
    let fresh_locks = s.kctx(&["locks", "--deps", "--no-cache", trace]);
    // The store, then the model and findings beside it.
    s.kctx(&["stats", trace]);
    s.kctx(&["check", "--format", "json", trace]);
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage, &str); 4] = [
        ("cut", |b| b.truncate(b.len() / 2), "truncated"),
        (
            "cut in its header",
            |b| b.truncate(30),
            "not a kctx column file",
        ),
        (
            "flipped",
            |b| {
                let at = b.len() * 2 / 3;
                b[at] ^= 0x10;
            },
            "checksum",
        ),
        ("older", |b| b[12] = b[12].wrapping_sub(1), "schema version"),
    ];
    for (file, what, command) in [
        (
            "findings",
            "cached findings not used",
            &["check", "--format", "json"][..],
        ),
        (
            "model",
            "cached context model not used",
            &["locks", "--deps"][..],
        ),
    ] {
        let fresh = if file == "findings" {
            &fresh_check
        } else {
            &fresh_locks
        };
        let path = s.file(file);
        let good = std::fs::read(&path).unwrap();
        for (how, damage, reason) in damages {
            let mut bad = good.clone();
            damage(&mut bad);
            std::fs::write(&path, &bad).unwrap();
            let out = s.kctx(&[command, &[trace]].concat());
            assert_eq!(stdout(&out), stdout(fresh), "{file} {how}");
            assert_eq!(out.status.code(), fresh.status.code(), "{file} {how}");
            let told = stderr(&out);
            assert!(
                told.contains(what) && told.contains(reason),
                "{file} {how}: {told}"
            );
            // Built again and kept: the next run reads it without a word.
            assert_eq!(std::fs::read(s.file(file)).unwrap(), good, "{file} {how}");
            let again = s.kctx(&[command, &[trace]].concat());
            assert_eq!(stdout(&again), stdout(fresh), "{file} {how}");
            assert!(
                stderr(&again).is_empty(),
                "{file} {how}: {}",
                stderr(&again)
            );
        }
    }
}

#[test]
fn a_trace_changed_after_caching_is_imported_again() {
    let s = Scratch::new("changed");
    let path = s.dir.join("trace.txt");
    let text = corpus_tests::read_gz_text(&corpus("lab/lockdep-s1_spin_sleep/trace.txt.gz"));
    std::fs::write(&path, &text).unwrap();
    let trace = path.to_str().unwrap();
    let events = |out: &Output| -> u64 {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["events"].as_u64().unwrap()
    };
    let before = events(&s.kctx(&["stats", "--format", "json", trace]));
    // Its model and findings kept too.
    s.kctx(&["check", "--format", "json", trace]);
    s.file("findings");
    // The same file cut by its last 100 lines, written back at once.
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, lines[..lines.len() - 100].join("\n") + "\n").unwrap();
    let after = s.kctx(&["stats", "--format", "json", trace]);
    let fresh = s.kctx(&["stats", "--no-cache", "--format", "json", trace]);
    assert_eq!(stdout(&after), stdout(&fresh));
    assert!(
        events(&after) < before,
        "{} events, {before} before",
        events(&after)
    );
    // Nor are its findings.
    let checked = |out: &Output| -> u64 {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["inputs"][0]["events"].as_u64().unwrap()
    };
    let check = ["check", "--format", "json", trace];
    let cached_check = s.kctx(&check);
    assert_eq!(
        stdout(&cached_check),
        stdout(&s.kctx(&[&["--no-cache"], &check[..]].concat()))
    );
    assert_eq!(checked(&cached_check), events(&fresh));
}

#[test]
fn a_damaged_cut_or_older_entry_is_reported_and_rebuilt() {
    let s = Scratch::new("damaged");
    let trace = s.copy("lab/lockdep-s1_spin_sleep/trace.dat");
    let trace = trace.to_str().unwrap();
    let fresh = s.kctx(&["stats", "--no-cache", trace]);
    s.kctx(&["stats", trace]);
    let entry = s.entry();
    let good = std::fs::read(&entry).unwrap();
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage, &str); 3] = [
        ("cut", |b| b.truncate(b.len() / 2), "truncated"),
        (
            "flipped",
            |b| {
                let at = b.len() * 2 / 3;
                b[at] ^= 0x10;
            },
            "checksum",
        ),
        ("older", |b| b[12] = b[12].wrapping_sub(1), "schema version"),
    ];
    for (what, damage, reason) in damages {
        let mut bad = good.clone();
        damage(&mut bad);
        std::fs::write(&entry, &bad).unwrap();
        let out = s.kctx(&["stats", trace]);
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert_eq!(stdout(&out), stdout(&fresh), "{what}");
        let told = stderr(&out);
        assert!(
            told.contains("cache entry not used") && told.contains(reason),
            "{what}: {told}"
        );
        // Rebuilt: the next run reads it without a word.
        assert_eq!(std::fs::read(s.entry()).unwrap(), good, "{what}");
        let again = s.kctx(&["stats", trace]);
        assert!(stderr(&again).is_empty(), "{what}: {}", stderr(&again));
    }
}

#[test]
fn cache_lists_and_clears_its_entries() {
    let s = Scratch::new("clear");
    let trace = s.copy("lab/lockdep-s1_spin_sleep/trace.dat");
    s.kctx(&["stats", trace.to_str().unwrap()]);
    let list = stdout(&s.kctx(&["cache"]));
    assert!(
        list.contains("1 imported trace,") && list.contains(".store"),
        "{list}"
    );
    let cleared = stdout(&s.kctx(&["cache", "clear"]));
    assert!(cleared.contains("removed 1 file"), "{cleared}");
    assert!(stdout(&s.kctx(&["cache"])).contains("0 imported traces,"));
}

/// Issue 22: the window opens a trace it has cached with its model and findings at once: no
/// preview drawn from the events alone (that is for a trace whose model must be built), the
/// whole trace complete, the same findings panel.
#[test]
fn the_window_opens_a_cached_trace_without_a_preview() {
    if Command::new("xvfb-run").arg("--help").output().is_err() {
        eprintln!("SKIPPED: xvfb-run is not installed (scripts/install-deps installs it)");
        return;
    }
    let s = Scratch::new("window");
    let trace = s.copy("lab/lockdep-s1_spin_sleep/trace.dat");
    let open = |name: &str| {
        let shot = s.dir.join(name);
        let out = Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1600x960x24"])
            .arg(kctx_bin())
            .arg("--screenshot")
            .arg(&shot)
            .arg(&trace)
            .env("KCTX_CACHE_DIR", s.cache_dir())
            .env("KCTX_CACHE_MIN_EVENTS", "0")
            .env("KCTX_LOAD_TIMES", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .output()
            .expect("run xvfb-run");
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(shot.exists());
        stderr(&out)
    };
    let first = open("first.png");
    assert!(first.contains("timeline shown after"), "{first}");
    assert!(first.contains("complete after"), "{first}");
    // The first window kept the model and the findings beside the store.
    s.file("model");
    s.file("findings");
    let again = open("again.png");
    assert!(!again.contains("timeline shown"), "{again}");
    assert!(again.contains("complete after"), "{again}");
    assert!(again.contains("resident"), "{again}");
}
