//! Fuzz target: `zmq::fuzzing::setsockopt_value` (seed corpus in fuzz/corpus/setsockopt_value, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::setsockopt_value(data));
