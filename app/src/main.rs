use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match kctx::run(kctx::Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kctx: {e:#}");
            ExitCode::from(2)
        }
    }
}
