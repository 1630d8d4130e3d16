//! Fuzz target: `zmq::fuzzing::curve_server_handshake` (seed corpus in fuzz/corpus/curve_server_handshake, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::curve_server_handshake(data));
