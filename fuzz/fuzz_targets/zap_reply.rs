//! Fuzz target: `zmq::fuzzing::zap_reply` (seed corpus in fuzz/corpus/zap_reply, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::zap_reply(data));
