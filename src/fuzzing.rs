//! Fuzz target bodies (cargo-fuzz in `fuzz/` calls these), and a test that replays the
//! committed seed corpus on stable Rust so every CI run exercises them.
//!
//! Each function takes arbitrary bytes and must neither panic nor allocate without bound.
#![forbid(unsafe_code)]

use bytes::{Bytes, BytesMut};

use crate::consts::*;
use crate::mechanism::Kind;
use crate::mechanism::curve::crypto::SecretKey;
use crate::mechanism::zap;
use crate::zmtp::legacy::{self, Framing, LegacyError};
use crate::zmtp::{self, Connection, Event, Security};

fn cfg(socket_type: i32) -> zmtp::Config {
    cfg_with(socket_type, Security::default())
}

fn cfg_with(socket_type: i32, security: Security) -> zmtp::Config {
    zmtp::Config {
        socket_type,
        routing_id: None,
        maxmsgsize: 1 << 20,
        handshake_ivl: 30_000,
        heartbeat_ivl: 1000,
        heartbeat_timeout: None,
        heartbeat_ttl: 0,
        raw: false,
        metadata: Vec::new(),
        security,
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
    if greet(&mut peer, &mut c).is_none() {
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
    let mut s = crate::options::security::Security::default();
    let _ = s.set(i32::from(opt), Some(value));
    let _ = s.set(i32::from(opt), None);
    for len in [0, 4, 32, 41, 256] {
        let _ = s.get(i32::from(opt), &mut out[..len]);
    }
}

/// Feeds `data` to `c` in 7-byte pieces, answering ZAP requests with `zap` (None: no
/// handler); stops at the first failure.
fn feed(c: &mut Connection, data: &[u8], zap: &dyn Fn() -> Option<Vec<Bytes>>) {
    for chunk in data.chunks(7) {
        c.input_buffer().extend_from_slice(chunk);
        if c.process(1).is_err() {
            return;
        }
        while let Some(ev) = c.poll_event() {
            if let Event::ZapRequest(_) = ev {
                let r = match zap() {
                    Some(reply) => c.handle_zap_reply(&reply, 1),
                    None => c.zap_handler_missing(1),
                };
                if r.is_err() {
                    return;
                }
            }
        }
        c.output().clear();
    }
}

/// The ZAP answer a fuzz input's mode byte picks.
fn zap_answer(mode: u8) -> Option<Vec<Bytes>> {
    match mode % 4 {
        0 => Some(zap::reply(b"200", b"fuzz-user", &[("X-Fuzz", b"1")])),
        1 => Some(zap::reply(b"400", b"", &[])),
        2 => Some(zap::reply(b"300", b"", &[])),
        _ => None,
    }
}

/// The whole greeting an anonymous ZMTP 3 peer with `security` sends (in stages).
fn greeting_of(security: Security) -> [u8; zmtp::GREETING_LEN] {
    zmtp::greeting(&security)
}

/// Moves the greetings' first stages between two connections (signature, major version,
/// then the rest of `a`'s): `b` has then read `a`'s whole greeting and queued the rest of its
/// own and its first commands. None if either fails.
fn greet(a: &mut Connection, b: &mut Connection) -> Option<()> {
    fn pass(from: &mut Connection, to: &mut Connection) -> Option<()> {
        let bytes = from.output().split();
        to.input_buffer().extend_from_slice(&bytes);
        to.process(0).ok()
    }
    pass(a, b)?;
    pass(b, a)?;
    pass(a, b)
}

/// A PLAIN server's handshake: the first byte picks the ZAP answer (200, 400, 300, or no
/// handler), the rest arrives after a PLAIN client's greeting (HELLO, INITIATE, then frames).
pub fn plain_server_handshake(data: &[u8]) {
    plain_server(data);
}

/// [`plain_server_handshake`], returning the connection for the seed checks.
fn plain_server(data: &[u8]) -> Option<Connection> {
    let (&mode, rest) = data.split_first()?;
    let server = Security {
        mechanism: Kind::Plain,
        as_server: true,
        zap_domain: b"fuzz".to_vec(),
        ..Security::default()
    };
    let client = Security {
        mechanism: Kind::Plain,
        ..Security::default()
    };
    let mut c = Connection::new(cfg_with(ZMQ_ROUTER, server), 0);
    let greeting = greeting_of(client);
    c.input_buffer().extend_from_slice(&greeting);
    c.process(0).ok()?;
    feed(&mut c, rest, &|| zap_answer(mode));
    Some(c)
}

/// The fixed long-term key of the fuzzed CURVE server.
const FUZZ_SERVER_SECRET: [u8; 32] = [0x5a; 32];

/// A CURVE server's handshake. The first byte picks where the fuzz data starts: 0 right after
/// a client's greeting (HELLO onward), 1 after a genuine HELLO was answered (INITIATE onward),
/// 2 after a whole genuine handshake (MESSAGE frames); its upper bits pick the ZAP answer.
pub fn curve_server_handshake(data: &[u8]) {
    curve_server(data);
}

/// [`curve_server_handshake`], returning the server and whether the genuine steps left it
/// active, for the seed checks.
fn curve_server(data: &[u8]) -> Option<(Connection, bool)> {
    let (&mode, rest) = data.split_first()?;
    let server_key = SecretKey::from_bytes(&FUZZ_SERVER_SECRET);
    let server = Security {
        mechanism: Kind::Curve,
        as_server: true,
        curve_secret_key: FUZZ_SERVER_SECRET.into(),
        zap_domain: b"fuzz".to_vec(),
        ..Security::default()
    };
    let client_key = SecretKey::generate().ok()?;
    let client = Security {
        mechanism: Kind::Curve,
        curve_public_key: client_key.public_key(),
        curve_secret_key: client_key.to_bytes(),
        curve_server_key: server_key.public_key(),
        ..Security::default()
    };
    let mut s = Connection::new(cfg_with(ZMQ_ROUTER, server), 0);
    let mut c = Connection::new(cfg_with(ZMQ_DEALER, client), 0);
    let zap = move || zap_answer(mode >> 2);
    // Genuine steps: each round moves the server's bytes to the client and the client's
    // answer back. One round leaves the server waiting for INITIATE; four finish the handshake.
    let rounds = match mode % 3 {
        0 => 0,
        1 => 1,
        _ => 4,
    };
    greet(&mut c, &mut s)?;
    if rounds > 0 {
        for _ in 0..rounds {
            let to_client = s.output().split();
            c.input_buffer().extend_from_slice(&to_client);
            c.process(0).ok()?;
            while c.poll_event().is_some() {}
            let to_server = c.output().split();
            s.input_buffer().extend_from_slice(&to_server);
            s.process(0).ok()?;
            while let Some(ev) = s.poll_event() {
                if let Event::ZapRequest(_) = ev {
                    s.zap_handler_missing(0).ok()?;
                }
            }
        }
    } else {
        s.output().clear();
    }
    let genuine_active = s.is_active();
    feed(&mut s, rest, &zap);
    Some((s, genuine_active))
}

/// ZAP replies: the data is a sequence of frames, each a length octet then that many bytes.
/// Decoded on its own, then given to a NULL server waiting for its ZAP answer.
pub fn zap_reply(data: &[u8]) {
    let mut frames = Vec::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let n = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(n);
        frames.push(Bytes::copy_from_slice(frame));
        rest = next;
    }
    let _ = zap::parse_reply(&frames);
    let server = Security {
        zap_domain: b"fuzz".to_vec(),
        ..Security::default()
    };
    let mut c = Connection::new(cfg_with(ZMQ_ROUTER, server), 0);
    let greeting = greeting_of(Security::default());
    c.input_buffer().extend_from_slice(&greeting);
    if c.process(0).is_err() {
        return;
    }
    while let Some(ev) = c.poll_event() {
        if let Event::ZapRequest(_) = ev {
            let _ = c.handle_zap_reply(&frames, 0);
        }
    }
}

/// The `ZMQ_MAXMSGSIZE` values [`legacy_frames`] decodes under: 255 (the largest body a ZMTP
/// 2.0 short header can declare), 1 MiB, and none.
const LEGACY_LIMITS: [Option<u64>; 3] = [Some(255), Some(1 << 20), None];

/// ZMTP 1.0/2.0 framing (`zmtp::legacy`): the first byte picks how the rest is cut into
/// pieces ([`chunks_of`]); the rest is decoded as each version's frames, under each of
/// [`LEGACY_LIMITS`], at once and in those pieces, and given in those pieces to a connection
/// after an old peer's greeting. Checks that no frame exceeds the limit, that both decodings
/// agree (frames, error, bytes left), that `legacy::pending_len` announces what
/// `legacy::decode` takes, that the frames re-encode to themselves, and that the connection
/// delivers the frames after the peer's identity.
pub fn legacy_frames(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let pieces = chunks_of(rest, 1 + usize::from(mode % 64));
    for framing in [Framing::V1, Framing::V2] {
        for max in LEGACY_LIMITS {
            let whole = decode_legacy(framing, max, &[rest]);
            let split = decode_legacy(framing, max, &pieces);
            assert_eq!(whole, split, "{framing:?} {max:?}: at once and in pieces");
            reencode_legacy(framing, max, &whole);
            legacy_connection(framing, max, &pieces, &whole);
        }
    }
}

/// Cuts `data` into pieces whose lengths the data picks: each piece is one more than its
/// first byte modulo `span` long (`span` 1: byte by byte).
fn chunks_of(data: &[u8], span: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    while let Some(&first) = rest.first() {
        let n = (1 + usize::from(first) % span.max(1)).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// What decoding a stream of old-version frames gave: each frame's MORE and command bits and
/// body, the error that stopped it (if any), and the bytes not decoded (after an error, the
/// failing frame and everything after it).
#[derive(Debug, PartialEq, Eq)]
struct LegacyDecoded {
    frames: Vec<(bool, bool, BytesMut)>,
    error: Option<LegacyError>,
    rest: BytesMut,
}

/// Decodes `pieces`, appended one after the other, as `framing` frames under `max`, as a
/// connection does: every complete frame after each piece, up to the first error. Checks
/// that no body exceeds `max`, that 1.0 frames carry no command bit, and that
/// `legacy::pending_len` announces what each decode takes (or, for an incomplete frame, more
/// than the input holds).
fn decode_legacy(framing: Framing, max: Option<u64>, pieces: &[&[u8]]) -> LegacyDecoded {
    let mut out = LegacyDecoded {
        frames: Vec::new(),
        error: None,
        rest: BytesMut::new(),
    };
    let mut pieces = pieces.iter();
    'pieces: for piece in pieces.by_ref() {
        out.rest.extend_from_slice(piece);
        loop {
            let announced = legacy::pending_len(&out.rest, framing);
            let before = out.rest.len();
            match legacy::decode(&mut out.rest, framing, max) {
                Ok(Some(f)) => {
                    assert!(
                        max.is_none_or(|m| f.body.len() as u64 <= m),
                        "over the limit"
                    );
                    assert_eq!(announced, Some(before - out.rest.len()), "pending_len");
                    assert!(framing == Framing::V2 || !f.command, "a 1.0 command");
                    out.frames.push((f.more, f.command, f.body));
                }
                Ok(None) => {
                    assert!(announced.is_none_or(|n| n > out.rest.len()), "pending_len");
                    break;
                }
                Err(e) => {
                    out.error = Some(e);
                    break 'pieces;
                }
            }
        }
    }
    for piece in pieces {
        out.rest.extend_from_slice(piece);
    }
    out
}

/// Encodes `decoded`'s frames again (without the command bit, which the encoder never sets)
/// and checks that they decode, whole and without error, to the same MORE flags and bodies.
fn reencode_legacy(framing: Framing, max: Option<u64>, decoded: &LegacyDecoded) {
    let mut buf = BytesMut::new();
    for (more, _, body) in &decoded.frames {
        legacy::encode(&mut buf, framing, *more, body);
    }
    let again = decode_legacy(framing, max, &[&buf]);
    assert_eq!(again.error, None, "re-encoded frames decode");
    assert!(again.rest.is_empty(), "re-encoded frames decode whole");
    let bodies = |d: &LegacyDecoded| -> Vec<(bool, BytesMut)> {
        d.frames.iter().map(|(m, _, b)| (*m, b.clone())).collect()
    };
    assert_eq!(bodies(&again), bodies(decoded), "re-encoded frames");
}

/// Gives a PULL connection with `ZMQ_MAXMSGSIZE` `max` a PUSH peer's greeting of `framing`'s
/// revision, then `pieces`, and checks that its messages are `decoded`'s frames after the
/// first (the peer's identity), less 2.0 commands (dropped, as libzmq's session does).
fn legacy_connection(
    framing: Framing,
    max: Option<u64>,
    pieces: &[&[u8]],
    decoded: &LegacyDecoded,
) {
    let mut config = cfg(ZMQ_PULL);
    config.maxmsgsize = max.and_then(|m| i64::try_from(m).ok()).unwrap_or(-1);
    let mut c = Connection::new(config, 0);
    let mut peer_greeting = legacy::signature(0).to_vec();
    peer_greeting.extend_from_slice(&[u8::from(framing == Framing::V2), ZMQ_PUSH as u8]);
    c.input_buffer().extend_from_slice(&peer_greeting);
    assert!(c.process(0).is_ok(), "an old peer's greeting");
    let mut messages = Vec::new();
    for piece in pieces {
        c.input_buffer().extend_from_slice(piece);
        let _ = c.input_frame();
        let r = c.process(1);
        while let Some(ev) = c.poll_event() {
            if let Event::Message(m) = ev {
                messages.push((m.more(), m.data().to_vec()));
            }
        }
        c.output().clear();
        if r.is_err() {
            break;
        }
    }
    let expected: Vec<(bool, Vec<u8>)> = decoded
        .frames
        .iter()
        .skip(1)
        .filter(|(_, command, _)| !command)
        .map(|(more, _, body)| (*more, body.to_vec()))
        .collect();
    assert_eq!(
        messages, expected,
        "{framing:?} {max:?}: the connection's messages"
    );
}

/// Encodes frames as [`zap_reply`] reads them (for building seeds).
#[cfg(test)]
fn zap_seed(frames: &[Bytes]) -> Vec<u8> {
    use bytes::BufMut;
    let mut out = BytesMut::new();
    for f in frames {
        out.put_u8(u8::try_from(f.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(f);
    }
    out.to_vec()
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
        replay("plain_server_handshake", plain_server_handshake);
        replay("curve_server_handshake", curve_server_handshake);
        replay("zap_reply", zap_reply);
        replay("legacy_frames", legacy_frames);
    }

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target)
            .join(name);
        std::fs::read(path).unwrap()
    }

    #[test]
    fn security_seeds_reach_the_stages_they_are_for() {
        let ok = plain_server(&seed("plain_server_handshake", "ok")).unwrap();
        assert!(ok.is_active(), "PLAIN seed completes the handshake");
        for name in [
            "refused_400",
            "refused_300",
            "no_handler",
            "malformed_hello",
        ] {
            let c = plain_server(&seed("plain_server_handshake", name)).unwrap();
            assert!(!c.is_active(), "{name}");
        }
        let (_, genuine) =
            curve_server(&seed("curve_server_handshake", "message_bad_box")).unwrap();
        assert!(genuine, "stage 2 runs a whole genuine CURVE handshake");
        let (s, genuine) =
            curve_server(&seed("curve_server_handshake", "initiate_bad_cookie")).unwrap();
        assert!(!genuine && !s.is_active());
    }

    #[test]
    fn legacy_seeds_decode_as_named() {
        let decode = |name: &str, framing: Framing, max: Option<u64>| {
            let data = seed("legacy_frames", name);
            decode_legacy(framing, max, &[&data[1..]])
        };
        let large = LEGACY_LIMITS[1];
        let v1 = decode("v1_message", Framing::V1, large);
        assert_eq!((v1.frames.len(), v1.error), (3, None));
        let v2 = decode("v2_message", Framing::V2, large);
        assert_eq!((v2.frames.len(), v2.error), (4, None));
        assert!(v2.frames[3].1, "the last 2.0 frame is a command");
        for (name, framing) in [("v1_long", Framing::V1), ("v2_long", Framing::V2)] {
            let ok = decode(name, framing, large);
            assert!(ok.error.is_none() && ok.rest.is_empty(), "{name}");
            let small = decode(name, framing, LEGACY_LIMITS[0]);
            assert_eq!(small.error, Some(LegacyError::TooLarge), "{name}");
        }
        let over = decode("oversized", Framing::V2, large);
        assert_eq!(
            (over.frames.len(), over.error),
            (1, Some(LegacyError::TooLarge))
        );
        let unlimited = decode("oversized", Framing::V2, None);
        assert_eq!(unlimited.error, None, "within memory: waits for the body");
        let huge = decode("huge_length", Framing::V1, None);
        assert_eq!(huge.error, Some(LegacyError::TooLarge));
        let zero = decode("v1_zero_length", Framing::V1, large);
        assert_eq!(
            (zero.frames.len(), zero.error),
            (1, Some(LegacyError::Malformed))
        );
        for framing in [Framing::V1, Framing::V2] {
            let cut = decode("truncated", framing, large);
            assert!(cut.error.is_none() && !cut.rest.is_empty(), "{framing:?}");
        }
    }

    /// Mutated seeds (a fixed pseudo-random sequence of byte changes, insertions and cuts)
    /// keep `legacy_frames`'s invariants: a small stand-in for the fuzzer on stable
    /// (`LEGACY_ROUNDS` sets the rounds per seed, 200 by default).
    #[test]
    fn legacy_frames_holds_on_mutated_seeds() {
        let rounds: usize = std::env::var("LEGACY_ROUNDS").map_or(200, |v| v.parse().unwrap());
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/legacy_frames");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound.max(1) as u64) as usize
        };
        for entry in std::fs::read_dir(dir).unwrap() {
            let seed = std::fs::read(entry.unwrap().path()).unwrap();
            for _ in 0..rounds {
                let mut data = seed.clone();
                for _ in 0..=next(4) {
                    let at = next(data.len() + 1);
                    match next(4) {
                        0 if at < data.len() => data[at] = next(256) as u8,
                        1 => data.insert(at, next(256) as u8),
                        2 => data.truncate(at.max(1)),
                        _ => data
                            .splice(at..at, [0xff, 0, 0, 0, 0, 0, 0, 0, next(256) as u8])
                            .for_each(drop),
                    }
                }
                legacy_frames(&data);
            }
        }
    }

    /// Writes the seeds of `legacy_frames` (run with `--ignored` after changing them): a mode
    /// byte (how the rest is cut), then old-version frames.
    #[test]
    #[ignore = "regenerates fuzz/corpus; run by hand"]
    fn write_legacy_seeds() {
        use bytes::BufMut;
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/legacy_frames");
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, mode: u8, frames: &[u8]| {
            let mut data = vec![mode];
            data.extend_from_slice(frames);
            std::fs::write(dir.join(name), data).unwrap();
        };
        let encode = |framing: Framing, frames: &[(bool, &[u8])]| {
            let mut out = BytesMut::new();
            for (more, body) in frames {
                legacy::encode(&mut out, framing, *more, body);
            }
            out
        };
        // An identity frame, then a two-frame message.
        let v1 = encode(
            Framing::V1,
            &[(false, b""), (true, b"hello"), (false, b"world")],
        );
        write("v1_message", 0, &v1);
        let mut v2 = encode(
            Framing::V2,
            &[(false, b"peer"), (true, b"part"), (false, b"last")],
        );
        v2.extend_from_slice(&[4, 2, b'c', b'm']); // a command frame, dropped
        write("v2_message", 3, &v2);
        // Long headers: 1.0 from 254 body octets, 2.0 from 256 (after the longest short one).
        let v1_long = encode(Framing::V1, &[(false, b"id"), (false, &[7; 300])]);
        write("v1_long", 7, &v1_long);
        let v2_long = encode(Framing::V2, &[(true, &[5; 255]), (false, &[6; 256])]);
        write("v2_long", 16, &v2_long);
        // A 2.0 long header over the large limit (but addressable), after an identity.
        let mut oversized = encode(Framing::V2, &[(false, b"id")]);
        oversized.put_u8(2);
        oversized.put_u64(1 << 40);
        oversized.extend_from_slice(b"body");
        write("oversized", 1, &oversized);
        // A 1.0 length no memory can hold.
        let mut huge = vec![0xff; 9];
        huge.push(0);
        write("huge_length", 2, &huge);
        let mut zero = encode(Framing::V1, &[(false, b"id")]);
        zero.extend_from_slice(&[0, 0]);
        write("v1_zero_length", 5, &zero);
        // A 1.0 long frame cut short in its body (to 2.0: a long header, then a short body).
        let mut truncated = encode(Framing::V1, &[(false, &[1; 300])]);
        truncated.truncate(100);
        write("truncated", 0, &truncated);
    }

    /// Writes the seeds of the security targets (run with `--ignored` after changing them).
    #[test]
    #[ignore = "regenerates fuzz/corpus; run by hand"]
    fn write_security_seeds() {
        use bytes::BufMut;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let write = |target: &str, name: &str, data: &[u8]| {
            let d = dir.join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(name), data).unwrap();
        };
        let frame = |flags: u8, body: &[u8]| {
            let mut out = BytesMut::new();
            if body.len() > 255 {
                out.put_u8(flags | 2);
                out.put_u64(body.len() as u64);
            } else {
                out.put_u8(flags);
                out.put_u8(body.len() as u8);
            }
            out.extend_from_slice(body);
            out.to_vec()
        };
        let ready_props = crate::mechanism::metadata::encode(&[
            ("Socket-Type", b"DEALER"),
            ("Identity", b"fuzz"),
        ]);
        let mut initiate = b"\x08INITIATE".to_vec();
        initiate.extend_from_slice(&ready_props);
        let hello = b"\x05HELLO\x05admin\x06secret".to_vec();
        for (mode, name) in [
            (0u8, "ok"),
            (1, "refused_400"),
            (2, "refused_300"),
            (3, "no_handler"),
        ] {
            let mut seed = vec![mode];
            seed.extend(frame(4, &hello));
            seed.extend(frame(4, &initiate));
            seed.extend(frame(1, b"part"));
            seed.extend(frame(0, b"last"));
            write("plain_server_handshake", name, &seed);
        }
        let mut bad = vec![0u8];
        bad.extend(frame(4, b"\x05HELLO\x09adm"));
        write("plain_server_handshake", "malformed_hello", &bad);
        let mut early = vec![0u8];
        early.extend(frame(4, &initiate));
        write("plain_server_handshake", "initiate_first", &early);

        let mut hello = vec![0u8];
        let mut body = b"\x05HELLO\x01\x00".to_vec();
        body.resize(200, 0);
        body[119] = 1; // short nonce 1
        hello.extend(frame(4, &body));
        write("curve_server_handshake", "hello_bad_box", &hello);
        let mut initiate_stage = vec![1u8];
        let mut body = b"\x08INITIATE".to_vec();
        body.resize(300, 0x11);
        initiate_stage.extend(frame(4, &body));
        write(
            "curve_server_handshake",
            "initiate_bad_cookie",
            &initiate_stage,
        );
        let mut message_stage = vec![2u8];
        let mut body = b"\x07MESSAGE".to_vec();
        body.extend_from_slice(&9u64.to_be_bytes());
        body.resize(60, 0x22);
        message_stage.extend(frame(0, &body));
        message_stage.extend(frame(4, b"\x05ERROR\x03400"));
        write("curve_server_handshake", "message_bad_box", &message_stage);
        write(
            "curve_server_handshake",
            "short_message",
            &[2, 0, 9, 7, b'M'],
        );

        let reply =
            |status: &[u8], meta: &[(&str, &[u8])]| zap_seed(&zap::reply(status, b"user", meta));
        write("zap_reply", "ok", &reply(b"200", &[("X-Foo", b"bar")]));
        write("zap_reply", "refused", &reply(b"400", &[]));
        write("zap_reply", "bad_status", &reply(b"201", &[]));
        let mut short = zap::reply(b"200", b"", &[]);
        short.pop();
        write("zap_reply", "six_frames", &zap_seed(&short));
        write(
            "zap_reply",
            "bad_metadata",
            &zap_seed(&[
                Bytes::new(),
                Bytes::from_static(b"1.0"),
                Bytes::from_static(b"1"),
                Bytes::from_static(b"200"),
                Bytes::new(),
                Bytes::new(),
                Bytes::from_static(b"\x05X-Foo\xff\xff"),
            ]),
        );
    }
}
