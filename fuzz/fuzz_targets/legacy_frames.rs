//! Fuzz target: `zmq::fuzzing::legacy_frames` (seed corpus in fuzz/corpus/legacy_frames, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::legacy_frames(data));
