//! Connections with ZMTP 1.0 and 2.0 peers, driven byte for byte as an old peer would.

use super::legacy::{self, Framing};
use super::*;

fn cfg(socket_type: i32, id: &'static [u8]) -> Config {
    Config {
        handshake_ivl: 30_000,
        heartbeat_ivl: 100,
        routing_id: (!id.is_empty()).then(|| Bytes::from_static(id)),
        ..Config::with_defaults(socket_type, Security::default())
    }
}

/// A versioned old peer's greeting: signature, `revision`, socket type.
fn old_greeting(revision: u8, socket_type: i32, id_len: usize) -> Vec<u8> {
    let mut g = legacy::signature(id_len).to_vec();
    g.extend_from_slice(&[revision, socket_type as u8]);
    g
}

fn frames(framing: Framing, parts: &[(&[u8], bool)]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for (body, more) in parts {
        legacy::encode(&mut out, framing, *more, body);
    }
    out.to_vec()
}

fn next_message(c: &mut Connection) -> (Vec<u8>, bool) {
    match c.poll_event() {
        Some(Event::Message(m)) => (m.data().to_vec(), m.more()),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn handshake_done(c: &mut Connection) -> PeerInfo {
    match c.poll_event() {
        Some(Event::HandshakeDone(p)) => p,
        other => panic!("expected the handshake, got {other:?}"),
    }
}

#[test]
fn a_3x_peer_gets_our_greeting_in_stages() {
    let mut c = Connection::new(cfg(ZMQ_DEALER, b"me"), 0);
    assert_eq!(&c.output().split()[..], &legacy::signature(2)[..]);
    let peer = greeting(&Security::default());
    c.input(&peer[..10], 0).unwrap();
    assert_eq!(
        &c.output().split()[..],
        &[3],
        "the major version, once versioned"
    );
    c.input(&peer[10..11], 0).unwrap();
    assert_eq!(
        &c.output().split()[..],
        &greeting(&Security::default())[11..]
    );
    c.input(&peer[11..], 0).unwrap();
    let ready = c.output().split();
    assert!(
        ready.windows(5).any(|w| w == b"READY"),
        "READY once the greeting is in"
    );
}

#[test]
fn a_2_0_peer_exchanges_identities_and_multipart_messages() {
    let mut c = Connection::new(cfg(ZMQ_ROUTER, b"me"), 0);
    c.output().clear();
    let mut input = old_greeting(1, ZMQ_DEALER, 4);
    input.extend(frames(Framing::V2, &[(b"peer", false)]));
    let long = vec![b'L'; 300];
    input.extend(frames(
        Framing::V2,
        &[(b"a", true), (b"", true), (&long, false)],
    ));
    c.input(&input, 0).unwrap();
    let mut want = vec![3u8, ZMQ_ROUTER as u8];
    want.extend(frames(Framing::V2, &[(b"me", false)]));
    assert_eq!(
        &c.output().split()[..],
        &want[..],
        "major, socket type, identity"
    );
    let p = handshake_done(&mut c);
    assert!(p.legacy);
    assert_eq!(p.socket_type, ZMQ_DEALER);
    assert_eq!(p.routing_id.as_deref(), Some(&b"peer"[..]));
    assert!(p.metadata.get("Socket-Type").is_none());
    assert_eq!(next_message(&mut c), (b"a".to_vec(), true));
    assert_eq!(next_message(&mut c), (Vec::new(), true));
    assert_eq!(next_message(&mut c), (long.clone(), false));
    assert!(c.poll_event().is_none());
    // Both ways, in 2.0 framing, and never a PING.
    let mut m = Msg::copy_from(b"x");
    m.set_more(true);
    c.send(&m, false);
    c.send(&Msg::copy_from(&long), false);
    let big = vec![b'B'; ZERO_COPY_MIN];
    c.send(&Msg::copy_from(&big), false);
    let want = frames(Framing::V2, &[(b"x", true), (&long, false), (&big, false)]);
    assert_eq!(&c.output().split()[..], &want[..]);
    assert_eq!(
        c.poll_timeout(),
        None,
        "no heartbeats, no handshake deadline"
    );
    assert!(c.handle_timeout(1_000_000).is_ok());
    assert!(c.output().is_empty());
    assert!(!c.watches_liveness());
}

#[test]
fn a_1_0_peer_without_greeting_is_answered_in_1_0_framing_byte_by_byte() {
    let mut c = Connection::new(cfg(ZMQ_ROUTER, b"me"), 0);
    let mut sent = c.output().split().to_vec();
    let mut input = frames(Framing::V1, &[(b"old", false)]);
    let long = vec![b'L'; 300];
    input.extend(frames(Framing::V1, &[(b"a", true), (&long, false)]));
    for byte in &input {
        c.input(&[*byte], 0).unwrap();
        sent.extend_from_slice(&c.output().split());
    }
    // Our signature was the header of our identity frame: its body follows, nothing else.
    let mut want = legacy::signature(2).to_vec();
    want.extend_from_slice(b"me");
    assert_eq!(sent, want);
    let p = handshake_done(&mut c);
    assert!(p.legacy);
    assert_eq!(p.routing_id.as_deref(), Some(&b"old"[..]));
    assert_eq!(next_message(&mut c), (b"a".to_vec(), true));
    assert_eq!(next_message(&mut c), (long, false));
    c.send(&Msg::copy_from(b"reply"), false);
    assert_eq!(
        &c.output().split()[..],
        &frames(Framing::V1, &[(b"reply", false)])[..]
    );
}

#[test]
fn a_revision_0_peer_speaks_1_0_framing_and_an_empty_identity_is_none() {
    let mut c = Connection::new(cfg(ZMQ_PULL, b""), 0);
    c.output().clear();
    let mut input = old_greeting(0, ZMQ_PUSH, 0);
    input.extend(frames(Framing::V1, &[(b"", false), (b"m", false)]));
    c.input(&input, 0).unwrap();
    let mut want = vec![3u8, ZMQ_PULL as u8];
    want.extend(frames(Framing::V1, &[(b"", false)]));
    assert_eq!(&c.output().split()[..], &want[..]);
    assert_eq!(handshake_done(&mut c).routing_id, None);
    assert_eq!(next_message(&mut c), (b"m".to_vec(), false));
}

#[test]
fn publishers_subscribe_a_1_0_peer_to_everything_but_not_a_2_0_peer() {
    for t in [ZMQ_PUB, ZMQ_XPUB] {
        let mut c = Connection::new(cfg(t, b""), 0);
        c.input(&frames(Framing::V1, &[(b"", false)]), 0).unwrap();
        handshake_done(&mut c);
        assert_eq!(next_message(&mut c), (vec![1u8], false));
        assert!(c.poll_event().is_none());
    }
    let mut c = Connection::new(cfg(ZMQ_PUB, b""), 0);
    let mut input = old_greeting(1, ZMQ_SUB, 0);
    input.extend(frames(Framing::V2, &[(b"", false), (b"\x01A", false)]));
    c.input(&input, 0).unwrap();
    handshake_done(&mut c);
    assert_eq!(
        next_message(&mut c),
        (b"\x01A".to_vec(), false),
        "its own subscription"
    );
}

#[test]
fn subscriptions_go_to_old_peers_as_messages() {
    let mut c = Connection::new(cfg(ZMQ_SUB, b""), 0);
    let mut input = old_greeting(1, ZMQ_PUB, 0);
    input.extend(frames(Framing::V2, &[(b"", false)]));
    c.input(&input, 0).unwrap();
    handshake_done(&mut c);
    c.output().clear();
    c.send(&Msg::copy_from(b"\x01A"), true);
    assert_eq!(
        &c.output().split()[..],
        &frames(Framing::V2, &[(b"\x01A", false)])[..]
    );
}

#[test]
fn a_2_0_peer_command_frame_is_dropped() {
    let mut c = Connection::new(cfg(ZMQ_PULL, b""), 0);
    let mut input = old_greeting(1, ZMQ_PUSH, 0);
    input.extend(frames(Framing::V2, &[(b"", false)]));
    input.extend_from_slice(&[4, 4, b'P', b'I', b'N', b'G']);
    input.extend(frames(Framing::V2, &[(b"m", false)]));
    c.input(&input, 0).unwrap();
    handshake_done(&mut c);
    assert_eq!(next_message(&mut c), (b"m".to_vec(), false));
}

#[test]
fn old_peers_are_refused_under_a_mechanism_or_a_zap_domain() {
    let securities = [
        Security {
            mechanism: mechanism::Kind::Plain,
            as_server: true,
            ..Security::default()
        },
        Security {
            mechanism: mechanism::Kind::Plain,
            plain_username: b"u".to_vec(),
            plain_password: b"p".to_vec().into(),
            ..Security::default()
        },
        Security {
            zap_domain: b"global".to_vec(),
            ..Security::default()
        },
    ];
    let inputs = [
        frames(Framing::V1, &[(b"id", false)]),
        old_greeting(0, ZMQ_PUSH, 0),
        old_greeting(1, ZMQ_PUSH, 0),
    ];
    for security in &securities {
        for input in &inputs {
            let mut c = Connection::new(Config::with_defaults(ZMQ_PULL, security.clone()), 0);
            c.output().clear();
            assert_eq!(c.input(input, 0), Err(Failure::OldPeerRefused));
            let said = c.output().split();
            assert!(
                said.len() <= 1,
                "at most the major version, never an ERROR command"
            );
            assert!(c.poll_event().is_none());
            assert!(c.process(0).is_err(), "final");
        }
    }
}

#[test]
fn a_2_0_peer_of_any_socket_type_is_accepted_as_libzmq_4_3_does() {
    let mut c = Connection::new(cfg(ZMQ_PULL, b""), 0);
    let mut input = old_greeting(1, ZMQ_PUB, 0);
    input.extend(frames(Framing::V2, &[(b"", false)]));
    c.input(&input, 0).unwrap();
    assert_eq!(handshake_done(&mut c).socket_type, ZMQ_PUB);
}

#[test]
fn malformed_or_oversized_old_input_fails_cleanly() {
    let mut c = Connection::new(cfg(ZMQ_PULL, b""), 0);
    assert_eq!(
        c.input(&[0u8], 0),
        Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED))
    );
    let mut c = Connection::new(cfg(ZMQ_PULL, b""), 0);
    c.output().clear();
    // An HTTP request reads as a 1.0 identity frame of 70 octets: we wait for them.
    c.input(b"GET / HTTP/1.1\r\n", 0).unwrap();
    assert!(c.poll_event().is_none());
    assert_eq!(
        c.poll_timeout(),
        Some(30_000),
        "the handshake deadline still holds"
    );
    assert_eq!(c.handle_timeout(30_000), Err(Failure::HandshakeTimeout));
    let mut small = cfg(ZMQ_PULL, b"");
    small.maxmsgsize = 10;
    for input in [
        [
            old_greeting(1, ZMQ_PUSH, 0),
            frames(Framing::V2, &[(b"", false), (&[0u8; 11], false)]),
        ]
        .concat(),
        frames(Framing::V1, &[(b"", false), (&[0u8; 11], false)]),
        [0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0].to_vec(),
    ] {
        let mut c = Connection::new(small.clone(), 0);
        assert_eq!(c.input(&input, 0), Err(Failure::MessageTooLarge));
        assert!(
            c.output().len() <= legacy::SIGNATURE_LEN + 4,
            "no ERROR command"
        );
    }
}
