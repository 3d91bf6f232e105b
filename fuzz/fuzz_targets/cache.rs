#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trace_cache::fuzzing::run(data));
