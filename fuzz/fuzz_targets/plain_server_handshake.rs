//! Fuzz target: `zmq::fuzzing::plain_server_handshake` (seed corpus in fuzz/corpus/plain_server_handshake, replayed by `cargo test`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzzing::plain_server_handshake(data));
