//! Fuzz target: `zmq::fuzzing::z85_decode` (seed corpus in fuzz/corpus/z85_decode, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::z85_decode(data));
