//! Deterministic in-memory handshakes for every mechanism (NULL with ZAP, PLAIN, CURVE), their
//! failures, and CURVE's encrypted traffic: two connections wired buffer to buffer, ZAP
//! requests answered by a closure.

use super::*;
use crate::mechanism::Kind;
use crate::mechanism::curve::crypto::SecretKey;
use crate::mechanism::zap;

fn cfg(socket_type: i32, security: Security) -> Config {
    Config {
        handshake_ivl: 30_000,
        ..Config::with_defaults(socket_type, security)
    }
}

/// How the test's ZAP handler answers a request.
enum Zap {
    Reply(Vec<Bytes>),
    Missing,
}

/// What one side saw.
#[derive(Default)]
struct Outcome {
    peer: Option<PeerInfo>,
    failure: Option<Failure>,
    messages: Vec<Msg>,
    zap_requests: Vec<Vec<Bytes>>,
}

fn drain(c: &mut Connection, o: &mut Outcome, zap: &mut dyn FnMut(&[Bytes]) -> Zap) {
    while let Some(ev) = c.poll_event() {
        match ev {
            Event::HandshakeDone(p) => o.peer = Some(p),
            Event::Message(m) => o.messages.push(m),
            Event::ZapRequest(frames) => {
                let r = match zap(&frames) {
                    Zap::Reply(reply) => c.handle_zap_reply(&reply, 0),
                    Zap::Missing => c.zap_handler_missing(0),
                };
                o.zap_requests.push(frames);
                if let Err(f) = r {
                    o.failure = Some(f);
                }
            }
            Event::SideFrame(_) => panic!("no side channel here"),
        }
    }
}

/// Moves `from`'s output into `to` (unless `to` already failed); false if nothing moved.
fn transfer(
    from: &mut Connection,
    to: &mut Connection,
    o: &mut Outcome,
    zap: &mut dyn FnMut(&[Bytes]) -> Zap,
) -> bool {
    let bytes = from.output().split();
    if bytes.is_empty() {
        return false;
    }
    if o.failure.is_none() {
        if let Err(f) = to.input(&bytes, 0) {
            o.failure = Some(f);
        }
        drain(to, o, zap);
    }
    true
}

/// Runs a handshake (and whatever was queued) to quiescence; returns what `a` and `b` saw.
fn exchange(
    a: &mut Connection,
    b: &mut Connection,
    zap: &mut dyn FnMut(&[Bytes]) -> Zap,
) -> (Outcome, Outcome) {
    let (mut oa, mut ob) = (Outcome::default(), Outcome::default());
    drain(a, &mut oa, zap);
    drain(b, &mut ob, zap);
    for _ in 0..20 {
        let moved = transfer(a, b, &mut ob, zap) | transfer(b, a, &mut oa, zap);
        if !moved {
            break;
        }
    }
    (oa, ob)
}

fn no_zap(_: &[Bytes]) -> Zap {
    Zap::Missing
}

fn accept_as(user: &'static [u8]) -> impl FnMut(&[Bytes]) -> Zap {
    move |_| Zap::Reply(zap::reply(b"200", user, &[("X-Foo", b"bar")]))
}

fn refuse(status: &'static [u8]) -> impl FnMut(&[Bytes]) -> Zap {
    move |_| Zap::Reply(zap::reply(status, b"", &[]))
}

fn plain_client(user: &[u8], pass: &[u8]) -> Security {
    Security {
        mechanism: Kind::Plain,
        plain_username: user.to_vec(),
        plain_password: pass.to_vec().into(),
        ..Security::default()
    }
}

fn plain_server() -> Security {
    Security {
        mechanism: Kind::Plain,
        as_server: true,
        zap_domain: b"test".to_vec(),
        peer_address: b"127.0.0.1".to_vec(),
        ..Security::default()
    }
}

struct CurveKeys {
    server_public: [u8; 32],
    server_secret: [u8; 32],
    client_public: [u8; 32],
    client_secret: [u8; 32],
}

fn curve_keys() -> CurveKeys {
    let s = SecretKey::generate().unwrap();
    let c = SecretKey::generate().unwrap();
    CurveKeys {
        server_public: s.public_key(),
        server_secret: *s.to_bytes(),
        client_public: c.public_key(),
        client_secret: *c.to_bytes(),
    }
}

fn curve_server(k: &CurveKeys) -> Security {
    Security {
        mechanism: Kind::Curve,
        as_server: true,
        curve_secret_key: k.server_secret.into(),
        ..Security::default()
    }
}

fn curve_client(k: &CurveKeys) -> Security {
    Security {
        mechanism: Kind::Curve,
        curve_public_key: k.client_public,
        curve_secret_key: k.client_secret.into(),
        curve_server_key: k.server_public,
        ..Security::default()
    }
}

fn pair(client: Security, server: Security) -> (Connection, Connection) {
    let mut ccfg = cfg(ZMQ_DEALER, client);
    ccfg.routing_id = Some(Bytes::from_static(b"client-id"));
    let mut scfg = cfg(ZMQ_ROUTER, server);
    scfg.routing_id = Some(Bytes::from_static(b"SRV"));
    (Connection::new(ccfg, 0), Connection::new(scfg, 0))
}

fn md(p: &PeerInfo, name: &str) -> Option<String> {
    p.metadata
        .get(name)
        .map(|v| v.to_string_lossy().into_owned())
}

/// Sends `parts` (a multipart message) from `a`; returns what `b` received.
fn send_multipart(a: &mut Connection, b: &mut Connection, parts: &[&[u8]]) -> Vec<Msg> {
    for (i, p) in parts.iter().enumerate() {
        let mut m = Msg::copy_from(p);
        m.set_more(i + 1 < parts.len());
        a.send(&m, false);
    }
    let (_, ob) = exchange(a, b, &mut no_zap);
    assert!(ob.failure.is_none(), "{:?}", ob.failure);
    ob.messages
}

// ---------------------------------------------------------------------------------------------
// NULL

#[test]
fn null_with_zap_domain_asks_zap_and_exposes_user_id_and_metadata() {
    let server = Security {
        zap_domain: b"global".to_vec(),
        peer_address: b"10.0.0.7".to_vec(),
        ..Security::default()
    };
    let (mut c, mut s) = pair(Security::default(), server);
    let (oc, os) = exchange(&mut c, &mut s, &mut accept_as(b"user-7"));
    let req = &os.zap_requests[0];
    let want: [&[u8]; 7] = [b"", b"1.0", b"1", b"global", b"10.0.0.7", b"SRV", b"NULL"];
    assert_eq!(req.len(), 7, "NULL has no credentials");
    for (got, want) in req.iter().zip(want) {
        assert_eq!(got.as_ref(), want);
    }
    let ps = os.peer.expect("server done");
    assert_eq!(md(&ps, "User-Id").as_deref(), Some("user-7"));
    assert_eq!(md(&ps, "X-Foo").as_deref(), Some("bar"));
    assert_eq!(md(&ps, "Socket-Type").as_deref(), Some("DEALER"));
    assert_eq!(ps.routing_id.as_deref(), Some(&b"client-id"[..]));
    let pc = oc.peer.expect("client done");
    assert_eq!(md(&pc, "User-Id"), None);
}

#[test]
fn null_zap_refusal_sends_error_and_both_sides_report_auth() {
    let server = Security {
        zap_domain: b"global".to_vec(),
        ..Security::default()
    };
    let (mut c, mut s) = pair(Security::default(), server);
    let (oc, os) = exchange(&mut c, &mut s, &mut refuse(b"400"));
    assert_eq!(os.failure, Some(Failure::Auth(400)));
    assert_eq!(oc.failure, Some(Failure::Auth(400)));
    assert!(oc.peer.is_none() && os.peer.is_none());
}

#[test]
fn null_zap_domain_without_handler_proceeds_unless_enforced() {
    let server = Security {
        zap_domain: b"global".to_vec(),
        ..Security::default()
    };
    let (mut c, mut s) = pair(Security::default(), server.clone());
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert!(oc.peer.is_some() && os.peer.is_some());
    assert_eq!(os.zap_requests.len(), 1);

    let enforced = Security {
        zap_enforce_domain: true,
        ..server
    };
    let (mut c, mut s) = pair(Security::default(), enforced);
    let (_, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert_eq!(os.failure, Some(Failure::NoZapHandler));
}

#[test]
fn input_that_arrives_while_zap_is_pending_is_held_then_processed() {
    let server = Security {
        zap_domain: b"global".to_vec(),
        ..Security::default()
    };
    let (mut c, mut s) = pair(Security::default(), server);
    // The client's greeting and READY reach the server before its ZAP handler answers.
    super::tests::greet(&mut c, &mut s);
    let Some(Event::ZapRequest(_)) = s.poll_event() else {
        panic!("ZAP request expected")
    };
    let bytes = s.output().split();
    c.input(&bytes, 0).unwrap();
    let bytes = c.output().split();
    s.input(&bytes, 0).unwrap();
    assert!(s.poll_event().is_none(), "held while ZAP is pending");
    assert!(
        !s.output().windows(5).any(|w| w == b"READY"),
        "no READY before ZAP"
    );
    s.handle_zap_reply(&zap::reply(b"200", b"", &[]), 0)
        .unwrap();
    assert!(matches!(s.poll_event(), Some(Event::HandshakeDone(_))));
}

#[test]
fn zap_answers_nobody_asked_for_fail() {
    let (mut c, _) = pair(Security::default(), Security::default());
    assert_eq!(
        c.handle_zap_reply(&zap::reply(b"200", b"", &[]), 0),
        Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED))
    );
}

#[test]
fn malformed_zap_replies_fail_with_zap_protocol_codes() {
    let server = Security {
        zap_domain: b"d".to_vec(),
        ..Security::default()
    };
    type Mangle = fn(&mut Vec<Bytes>);
    let cases: [(Mangle, i32); 3] = [
        (
            |f| f[1] = Bytes::from_static(b"9.9"),
            ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION,
        ),
        (
            |f| f[2] = Bytes::from_static(b"7"),
            ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID,
        ),
        (
            |f| f[3] = Bytes::from_static(b"201"),
            ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE,
        ),
    ];
    for (mangle, code) in cases {
        let (mut c, mut s) = pair(Security::default(), server.clone());
        let (_, os) = exchange(&mut c, &mut s, &mut |_| {
            let mut r = zap::reply(b"200", b"", &[]);
            mangle(&mut r);
            Zap::Reply(r)
        });
        assert_eq!(os.failure, Some(Failure::Protocol(code)));
    }
}

// ---------------------------------------------------------------------------------------------
// PLAIN

#[test]
fn plain_handshake_asks_zap_with_credentials_and_exchanges_messages() {
    let (mut c, mut s) = pair(plain_client(b"admin", b"secret"), plain_server());
    let (oc, os) = exchange(&mut c, &mut s, &mut accept_as(b"admin-user"));
    assert!(oc.failure.is_none() && os.failure.is_none());
    let req = &os.zap_requests[0];
    let want: [&[u8]; 9] = [
        b"",
        b"1.0",
        b"1",
        b"test",
        b"127.0.0.1",
        b"SRV",
        b"PLAIN",
        b"admin",
        b"secret",
    ];
    assert_eq!(req.len(), want.len());
    for (got, want) in req.iter().zip(want) {
        assert_eq!(got.as_ref(), want);
    }
    let ps = os.peer.unwrap();
    assert_eq!(md(&ps, "User-Id").as_deref(), Some("admin-user"));
    assert_eq!(ps.routing_id.as_deref(), Some(&b"client-id"[..]));
    assert_eq!(
        md(&oc.peer.unwrap(), "Socket-Type").as_deref(),
        Some("ROUTER")
    );
    let got = send_multipart(&mut c, &mut s, &[b"one", b"two"]);
    assert_eq!(got.len(), 2);
    assert!(got[0].more() && !got[1].more());
    assert_eq!(got[1].data(), b"two");
}

#[test]
fn plain_wrong_password_refused_by_zap_with_400() {
    let (mut c, mut s) = pair(plain_client(b"admin", b"wrong"), plain_server());
    let (oc, os) = exchange(&mut c, &mut s, &mut |req: &[Bytes]| {
        let ok = req.get(8).is_some_and(|p| p.as_ref() == b"secret");
        Zap::Reply(zap::reply(if ok { b"200" } else { b"400" }, b"", &[]))
    });
    assert_eq!(os.failure, Some(Failure::Auth(400)));
    assert_eq!(
        oc.failure,
        Some(Failure::Auth(400)),
        "client learns from ERROR"
    );
}

#[test]
fn plain_zap_300_disconnects_silently_and_500_reports() {
    let (mut c, mut s) = pair(plain_client(b"u", b"p"), plain_server());
    let (oc, os) = exchange(&mut c, &mut s, &mut refuse(b"300"));
    assert_eq!(os.failure, Some(Failure::Auth(300)));
    assert_eq!(oc.failure, None, "no ERROR for a temporary failure");
    assert!(oc.peer.is_none());

    let (mut c, mut s) = pair(plain_client(b"u", b"p"), plain_server());
    let (oc, os) = exchange(&mut c, &mut s, &mut refuse(b"500"));
    assert_eq!(os.failure, Some(Failure::Auth(500)));
    assert_eq!(oc.failure, Some(Failure::Auth(500)));
}

#[test]
fn plain_server_without_zap_handler_refuses_as_libzmq() {
    let (mut c, mut s) = pair(plain_client(b"u", b"p"), plain_server());
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert_eq!(os.failure, Some(Failure::NoZapHandler));
    assert!(oc.peer.is_none());
}

/// Feeds a greeting for `kind` and then `commands` to a fresh connection with `security`;
/// returns the first failure.
fn feed_commands(security: Security, kind: Kind, commands: &[&[u8]]) -> Option<Failure> {
    let mut s = Connection::new(cfg(ZMQ_ROUTER, security), 0);
    let peer = Security {
        mechanism: kind,
        ..Security::default()
    };
    let mut bytes = BytesMut::from(&greeting(&peer)[..]);
    for c in commands {
        frame::encode(&mut bytes, frame::COMMAND, c);
    }
    let r = s.input(&bytes, 0).err();
    if let Some(Event::ZapRequest(_)) = s.poll_event() {
        return s.handle_zap_reply(&zap::reply(b"200", b"", &[]), 0).err();
    }
    r
}

#[test]
fn malformed_plain_hello_and_unexpected_commands_fail_with_libzmq_codes() {
    let malformed = Some(Failure::Protocol(
        ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO,
    ));
    for hello in [
        &b"\x05HELLO"[..],
        b"\x05HELLO\x05adm",
        b"\x05HELLO\x01a",
        b"\x05HELLO\x01a\x02p",
        b"\x05HELLO\x01a\x01pX",
    ] {
        assert_eq!(
            feed_commands(plain_server(), Kind::Plain, &[hello]),
            malformed,
            "{hello:?}"
        );
    }
    assert_eq!(
        feed_commands(plain_server(), Kind::Plain, &[b"\x05HE"]),
        Some(Failure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED
        ))
    );
    assert_eq!(
        feed_commands(plain_server(), Kind::Plain, &[b"\x05READY"]),
        Some(Failure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
        ))
    );
    // After WELCOME, anything but INITIATE is unexpected.
    assert_eq!(
        feed_commands(
            plain_server(),
            Kind::Plain,
            &[b"\x05HELLO\x01a\x01p", b"\x05HELLO\x00\x00"]
        ),
        Some(Failure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
        ))
    );
}

#[test]
fn data_frames_during_the_handshake_are_refused() {
    let mut s = Connection::new(cfg(ZMQ_ROUTER, plain_server()), 0);
    let mut bytes = BytesMut::from(&greeting(&plain_client(b"", b""))[..]);
    frame::encode(&mut bytes, 0, b"sneaky");
    assert_eq!(
        s.input(&bytes, 0),
        Err(Failure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
        ))
    );
}

#[test]
fn mechanisms_must_match() {
    let k = curve_keys();
    let (mut c, mut s) = pair(curve_client(&k), plain_server());
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert_eq!(oc.failure, Some(Failure::MechanismMismatch));
    assert_eq!(os.failure, Some(Failure::MechanismMismatch));
    // "NULL" followed by something other than NUL padding is not NULL.
    let mut a = Connection::new(cfg(ZMQ_PULL, Security::default()), 0);
    let mut g = greeting(&Security::default());
    g[20] = b'x';
    assert_eq!(a.input(&g, 0), Err(Failure::MechanismMismatch));
}

#[test]
fn greeting_names_the_mechanism_and_server_role() {
    let g = greeting(&plain_server());
    assert_eq!(&g[12..18], b"PLAIN\0");
    assert_eq!(g[32], 1);
    let k = curve_keys();
    let g = greeting(&curve_client(&k));
    assert_eq!(&g[12..18], b"CURVE\0");
    assert_eq!(g[32], 0);
}

// ---------------------------------------------------------------------------------------------
// CURVE

#[test]
fn curve_handshake_without_zap_handler_encrypts_messages_both_ways() {
    let k = curve_keys();
    let (mut c, mut s) = pair(curve_client(&k), curve_server(&k));
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert!(
        oc.failure.is_none() && os.failure.is_none(),
        "{:?} {:?}",
        oc.failure,
        os.failure
    );
    assert_eq!(os.zap_requests.len(), 1, "asked; nobody answered");
    let ps = os.peer.unwrap();
    assert_eq!(ps.routing_id.as_deref(), Some(&b"client-id"[..]));
    assert_eq!(md(&ps, "User-Id"), None);
    assert_eq!(
        md(&oc.peer.unwrap(), "Socket-Type").as_deref(),
        Some("ROUTER")
    );

    // Client to server, multipart, with a plaintext that must not appear on the wire.
    c.send(&Msg::copy_from(b"top secret"), false);
    assert!(!c.output().windows(10).any(|w| w == b"top secret"));
    assert_eq!(
        c.output()[0],
        0,
        "MESSAGE goes as a data frame, like libzmq"
    );
    let got = send_multipart(&mut c, &mut s, &[b"part1", b"part2"]);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].data(), b"top secret");
    assert!(!got[0].more() && got[1].more() && !got[2].more());
    // Server to client, a large one.
    let big = vec![0x5a_u8; 70_000];
    let got = send_multipart(&mut s, &mut c, &[&big]);
    assert_eq!(got[0].data(), &big[..]);
}

#[test]
fn curve_zap_sees_the_client_key_and_sets_user_id() {
    let k = curve_keys();
    let mut server = curve_server(&k);
    server.zap_domain = b"d".to_vec();
    let (mut c, mut s) = pair(curve_client(&k), server);
    let (oc, os) = exchange(&mut c, &mut s, &mut accept_as(b"alice"));
    assert!(oc.failure.is_none());
    let req = &os.zap_requests[0];
    assert_eq!(req[6].as_ref(), b"CURVE");
    assert_eq!(req[7].as_ref(), &k.client_public[..]);
    assert_eq!(req.len(), 8);
    assert_eq!(md(&os.peer.unwrap(), "User-Id").as_deref(), Some("alice"));
}

#[test]
fn curve_zap_refusals() {
    for (status, client_sees) in [
        (&b"400"[..], Some(Failure::Auth(400))),
        (b"500", Some(Failure::Auth(500))),
        (b"300", None),
    ] {
        let k = curve_keys();
        let (mut c, mut s) = pair(curve_client(&k), curve_server(&k));
        let (oc, os) = exchange(&mut c, &mut s, &mut |_| {
            Zap::Reply(zap::reply(status, b"", &[]))
        });
        let code = u16::from(status[0] - b'0') * 100;
        assert_eq!(os.failure, Some(Failure::Auth(code)));
        assert_eq!(oc.failure, client_sees);
    }
}

#[test]
fn curve_enforced_domain_without_handler_fails_and_without_domain_skips_zap() {
    let k = curve_keys();
    let mut server = curve_server(&k);
    server.zap_enforce_domain = true;
    server.zap_domain = b"d".to_vec();
    let (mut c, mut s) = pair(curve_client(&k), server.clone());
    let (_, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert_eq!(os.failure, Some(Failure::NoZapHandler));
    server.zap_domain.clear();
    let (mut c, mut s) = pair(curve_client(&k), server);
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert!(os.zap_requests.is_empty() && oc.peer.is_some() && os.peer.is_some());
}

#[test]
fn curve_wrong_server_key_fails_cryptographically() {
    let k = curve_keys();
    let other = curve_keys();
    let mut client = curve_client(&k);
    client.curve_server_key = other.server_public;
    let (mut c, mut s) = pair(client, curve_server(&k));
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert_eq!(
        os.failure,
        Some(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
    );
    assert!(oc.peer.is_none());
}

#[test]
fn curve_client_with_mismatched_long_term_keys_fails_on_the_vouch() {
    let k = curve_keys();
    let other = curve_keys();
    let mut client = curve_client(&k);
    client.curve_public_key = other.client_public; // C does not belong to c
    let (mut c, mut s) = pair(client, curve_server(&k));
    let (_, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert_eq!(
        os.failure,
        Some(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
    );
}

/// A CURVE pair after the handshake.
fn curve_established() -> (Connection, Connection) {
    let k = curve_keys();
    let (mut c, mut s) = pair(curve_client(&k), curve_server(&k));
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert!(oc.peer.is_some() && os.peer.is_some());
    (c, s)
}

#[test]
fn curve_replayed_and_reordered_messages_are_refused() {
    let (mut c, mut s) = curve_established();
    c.send(&Msg::copy_from(b"first"), false);
    let first = c.output().split();
    c.send(&Msg::copy_from(b"second"), false);
    let second = c.output().split();
    s.input(&second, 0).unwrap();
    assert!(matches!(s.poll_event(), Some(Event::Message(_))));
    assert_eq!(
        s.input(&first, 0),
        Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE))
    );

    let (mut c, mut s) = curve_established();
    c.send(&Msg::copy_from(b"once"), false);
    let once = c.output().split();
    s.input(&once, 0).unwrap();
    assert_eq!(
        s.input(&once, 0),
        Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE))
    );
}

#[test]
fn curve_tampered_box_is_refused() {
    let (mut c, mut s) = curve_established();
    c.send(&Msg::copy_from(b"payload"), false);
    let mut wire = c.output().split();
    let last = wire.len() - 1;
    wire[last] ^= 0x01;
    assert_eq!(
        s.input(&wire, 0),
        Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
    );
}

#[test]
fn curve_plaintext_frames_after_the_handshake_are_refused() {
    let (_, mut s) = curve_established();
    let mut wire = BytesMut::new();
    frame::encode(&mut wire, 0, b"clear text");
    assert!(matches!(s.input(&wire, 0), Err(Failure::Protocol(_))));
}

#[test]
fn curve_commands_travel_encrypted() {
    let k = curve_keys();
    let mut scfg = cfg(ZMQ_PUB, curve_server(&k));
    scfg.heartbeat_ivl = 100;
    scfg.heartbeat_ttl = 1000;
    let mut s = Connection::new(scfg, 0);
    let mut c = Connection::new(cfg(ZMQ_SUB, curve_client(&k)), 0);
    let (oc, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert!(oc.peer.is_some() && os.peer.is_some());
    // SUBSCRIBE inside a MESSAGE.
    c.send(&Msg::copy_from(b"\x01weather"), true);
    assert!(!c.output().windows(9).any(|w| w == b"SUBSCRIBE"));
    let (_, os) = exchange(&mut c, &mut s, &mut no_zap);
    assert_eq!(os.messages[0].data(), b"\x01weather");
    // PING goes out encrypted; the PONG comes back encrypted and is accepted.
    s.handle_timeout(100).unwrap();
    assert!(!s.output().windows(4).any(|w| w == b"PING"));
    let (oc, os) = exchange(&mut s, &mut c, &mut no_zap);
    assert!(oc.failure.is_none() && os.failure.is_none());
    assert_eq!(
        c.poll_timeout(),
        Some(1000),
        "client learned the TTL from the PING"
    );
}

/// Exchanges the greetings; returns the client's first command frame (HELLO).
fn greetings_then_hello(c: &mut Connection, s: &mut Connection) -> BytesMut {
    super::tests::greet(c, s);
    let g = s.output().split();
    c.input(&g, 0).unwrap();
    c.output().split()
}

/// The server's half of a CURVE handshake driven by hand: returns the server and the client,
/// with the client's HELLO already fed and WELCOME back at the client.
fn curve_until_initiate() -> (Connection, Connection, BytesMut) {
    let k = curve_keys();
    let (mut c, mut s) = pair(curve_client(&k), curve_server(&k));
    let hello = greetings_then_hello(&mut c, &mut s);
    s.input(&hello, 0).unwrap();
    let welcome = s.output().split();
    c.input(&welcome, 0).unwrap();
    let initiate = c.output().split();
    (c, s, initiate)
}

#[test]
fn curve_malformed_hello_fails_with_malformed_hello() {
    let k = curve_keys();
    let malformed = Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO);
    let (mut c, mut s) = pair(curve_client(&k), curve_server(&k));
    let hello_frame = greetings_then_hello(&mut c, &mut s);
    let hello = &hello_frame[2..];
    assert_eq!(hello.len(), 200);
    // One octet short.
    assert_eq!(
        feed_commands(curve_server(&k), Kind::Curve, &[&hello[..199]]),
        Some(malformed)
    );
    // Unknown version.
    let mut v2 = hello.to_vec();
    v2[6] = 2;
    assert_eq!(
        feed_commands(curve_server(&k), Kind::Curve, &[&v2]),
        Some(malformed)
    );
    // A signature box that does not open.
    let mut bad = hello.to_vec();
    bad[150] ^= 1;
    assert_eq!(
        feed_commands(curve_server(&k), Kind::Curve, &[&bad]),
        Some(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
    );
    // A small-order client key.
    let mut zero = hello.to_vec();
    zero[80..112].fill(0);
    assert_eq!(
        feed_commands(curve_server(&k), Kind::Curve, &[&zero]),
        Some(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
    );
}

#[test]
fn curve_malformed_and_tampered_initiate_fail() {
    // Too short.
    let (_, mut s, initiate) = curve_until_initiate();
    let body = &initiate[9..]; // long frame header
    let mut short = BytesMut::new();
    frame::encode(&mut short, frame::COMMAND, &body[..256]);
    assert_eq!(
        s.input(&short, 0),
        Err(Failure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE
        ))
    );
    // A cookie that does not open, a box that does not open, a replayed nonce.
    for (at, code) in [
        (30, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC),
        (200, ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC),
    ] {
        let (_, mut s, initiate) = curve_until_initiate();
        let mut tampered = initiate.clone();
        tampered[9 + at] ^= 1;
        assert_eq!(
            s.input(&tampered, 0),
            Err(Failure::Protocol(code)),
            "at {at}"
        );
    }
    let (_, mut s, initiate) = curve_until_initiate();
    let mut replay = initiate.clone();
    replay[9 + 105..9 + 113].copy_from_slice(&1u64.to_be_bytes()); // HELLO's nonce again
    assert_eq!(
        s.input(&replay, 0),
        Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE))
    );
}

#[test]
fn curve_oversize_command_is_refused_before_allocation() {
    let k = curve_keys();
    let mut s = Connection::new(cfg(ZMQ_ROUTER, curve_server(&k)), 0);
    let peer = curve_client(&k);
    let mut bytes = BytesMut::from(&greeting(&peer)[..]);
    bytes.extend_from_slice(&[frame::COMMAND | frame::LONG]);
    bytes.extend_from_slice(&(frame::MAX_COMMAND + 1).to_be_bytes());
    assert_eq!(s.input(&bytes, 0), Err(Failure::MessageTooLarge));
    assert!(s.input_buffer().capacity() < 1 << 20);
}

#[test]
fn curve_error_from_server_during_handshake_is_reported() {
    let (mut c, _, _) = curve_until_initiate();
    let mut err = BytesMut::new();
    frame::encode(&mut err, frame::COMMAND, b"\x05ERROR\x03400");
    assert_eq!(c.input(&err, 0), Err(Failure::Auth(400)));
    let (mut c, _, _) = curve_until_initiate();
    let mut err = BytesMut::new();
    frame::encode(&mut err, frame::COMMAND, b"\x05ERROR\x04nope");
    assert_eq!(c.input(&err, 0), Err(Failure::PeerError));
    let (mut c, _, _) = curve_until_initiate();
    let mut err = BytesMut::new();
    frame::encode(&mut err, frame::COMMAND, b"\x05ERROR\x09no");
    assert_eq!(
        c.input(&err, 0),
        Err(Failure::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR
        ))
    );
}
