//! Fuzz target bodies (cargo-fuzz in `fuzz/` calls these), and a test that replays the
//! committed seed corpus on stable Rust so every CI run exercises them.
//!
//! Each function takes arbitrary bytes and must neither panic nor allocate without bound.
#![forbid(unsafe_code)]

use crate::consts::*;
use crate::zmtp::{self, Connection};

fn cfg(socket_type: i32) -> zmtp::Config {
    zmtp::Config {
        socket_type,
        routing_id: None,
        maxmsgsize: 1 << 20,
        handshake_ivl: 30_000,
        heartbeat_ivl: 1000,
        heartbeat_timeout: None,
        heartbeat_ttl: 0,
        security: zmtp::Security::default(),
    }
}

/// Raw bytes as the very first input of a connection (greeting parsing).
pub fn greeting(data: &[u8]) {
    let mut c = Connection::new(cfg(ZMQ_PULL), 0);
    c.input_buffer().extend_from_slice(data);
    let _ = c.process(0);
    while c.poll_event().is_some() {}
}

/// Bytes after a valid greeting and READY from a PUSH peer (frame and command decoding).
pub fn zmtp_frames(data: &[u8]) {
    let mut peer = Connection::new(cfg(ZMQ_PUSH), 0);
    let mut c = Connection::new(cfg(ZMQ_PULL), 0);
    let hello = peer.output().split();
    c.input_buffer().extend_from_slice(&hello);
    if c.process(0).is_err() {
        return;
    }
    let reply = c.output().split();
    peer.input_buffer().extend_from_slice(&reply);
    let _ = peer.process(0);
    let ready = peer.output().split();
    c.input_buffer().extend_from_slice(&ready);
    let _ = c.process(0);
    for chunk in data.chunks(7) {
        c.input_buffer().extend_from_slice(chunk);
        if c.process(1).is_err() {
            break;
        }
        while c.poll_event().is_some() {}
        let _ = c.handle_timeout(5000);
    }
}

/// READY/INITIATE metadata properties.
pub fn command_metadata(data: &[u8]) {
    let _ = zmtp::command::parse_properties(&bytes::Bytes::copy_from_slice(data));
    let _ = zmtp::command::parse(&bytes::Bytes::copy_from_slice(data));
}

/// Z85 text decoding.
pub fn z85_decode(data: &[u8]) {
    let _ = crate::util::z85::decode(data);
}

/// Endpoint strings, for bind and for connect.
pub fn endpoint_parse(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = crate::transport::Endpoint::parse(s, true);
        let _ = crate::transport::Endpoint::parse(s, false);
    }
}

/// `zmq_setsockopt` values: the first byte picks the option, the rest is the value.
pub fn setsockopt_value(data: &[u8]) {
    let Some((&opt, value)) = data.split_first() else {
        return;
    };
    let mut o = crate::options::Options::new(ZMQ_DEALER);
    let _ = o.set(i32::from(opt), value);
    let mut out = [0u8; 256];
    let _ = o.get(i32::from(opt), &mut out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(target: &str, f: fn(&[u8])) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut n = 0;
        for e in entries {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            f(&data);
            n += 1;
        }
        assert!(n > 0, "empty corpus for {target}");
    }

    #[test]
    fn seed_corpora_replay_without_panics() {
        replay("greeting", greeting);
        replay("zmtp_frames", zmtp_frames);
        replay("command_metadata", command_metadata);
        replay("z85_decode", z85_decode);
        replay("endpoint_parse", endpoint_parse);
        replay("setsockopt_value", setsockopt_value);
    }
}
