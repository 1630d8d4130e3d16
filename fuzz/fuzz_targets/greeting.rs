//! Fuzz target: `zmq::fuzzing::greeting` (seed corpus in fuzz/corpus/greeting, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::greeting(data));
