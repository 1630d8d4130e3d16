//! Fuzz target: `zmq::fuzzing::zmtp_frames` (seed corpus in fuzz/corpus/zmtp_frames, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::zmtp_frames(data));
