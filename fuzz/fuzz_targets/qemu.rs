#![no_main]
use importers::fuzzing::{Target, run};

libfuzzer_sys::fuzz_target!(|data: &[u8]| run(Target::Qemu, data));
