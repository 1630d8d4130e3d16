//! Fuzz target: `zmq::fuzzing::endpoint_parse` (seed corpus in fuzz/corpus/endpoint_parse, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::endpoint_parse(data));
