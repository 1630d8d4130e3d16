//! Fuzz target: `zmq::fuzzing::command_metadata` (seed corpus in fuzz/corpus/command_metadata, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::command_metadata(data));
