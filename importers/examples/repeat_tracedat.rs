//! `cargo run --release -p importers --example repeat_tracedat -- IN OUT TIMES`: writes OUT, a
//! trace-cmd v7 zstd recording with IN's CPU pages repeated TIMES times, each copy after the
//! previous one ends (the benchmarks' big real traces; see tools/repeat_pages.rs).

#[path = "../tools/repeat_pages.rs"]
mod repeat_pages;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, times] = args.as_slice() else {
        eprintln!("usage: repeat_tracedat IN OUT TIMES");
        return ExitCode::from(2);
    };
    let run = || -> Result<(), String> {
        let times: u64 = times.parse().map_err(|e| format!("TIMES: {e}"))?;
        let file = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
        let (first, last) = importers::tracedat::import(&file)
            .map_err(|e| format!("{input}: {e}"))?
            .time_span()
            .ok_or_else(|| format!("{input}: no events"))?;
        let big = repeat_pages::repeat_pages(&file, times, last - first + 1_000_000)
            .map_err(|e| format!("{input}: {e}"))?;
        std::fs::write(output, big).map_err(|e| format!("{output}: {e}"))
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("repeat_tracedat: {e}");
            ExitCode::FAILURE
        }
    }
}
