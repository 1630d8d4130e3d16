//! Mechanism-level tests: the shared command helpers and each mechanism driven directly,
//! without ZMTP framing (the in-memory connection tests live in `zmtp::security_tests`).
#![forbid(unsafe_code)]

use super::*;

fn commands(out: &[Out]) -> Vec<Bytes> {
    out.iter()
        .filter_map(|o| match o {
            Out::Command(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn kinds_map_to_options_and_greeting_names() {
    assert_eq!(Kind::from_option(ZMQ_NULL), Some(Kind::Null));
    assert_eq!(Kind::from_option(ZMQ_PLAIN), Some(Kind::Plain));
    assert_eq!(Kind::from_option(ZMQ_CURVE), Some(Kind::Curve));
    assert_eq!(Kind::from_option(ZMQ_GSSAPI), None);
    let f = Kind::Curve.greeting_field();
    assert_eq!(&f[..5], b"CURVE");
    assert!(f[5..].iter().all(|&b| b == 0));
}

#[test]
fn command_helpers_check_names_and_structure() {
    assert!(is_command(b"\x05READYxx", b"READY"));
    assert!(!is_command(b"\x06READYxx", b"READY"));
    assert!(!is_command(b"", b"READY"));
    assert!(check_structure(b"\x05READY").is_ok());
    for bad in [&b""[..], b"\x05", b"\x05READ", b"\xff"] {
        assert_eq!(
            check_structure(bad),
            Err(HandshakeError::Protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED
            ))
        );
    }
    assert_eq!(&error_command(b"400")[..], b"\x05ERROR\x03400");
    assert_eq!(error_command(&[b'x'; 300]).len(), 7 + 255);
}

#[test]
fn peer_errors_with_zap_status_codes_are_auth_failures() {
    assert_eq!(peer_error(b"\x05ERROR\x03300"), HandshakeError::Auth(300));
    assert_eq!(peer_error(b"\x05ERROR\x03400"), HandshakeError::Auth(400));
    assert_eq!(peer_error(b"\x05ERROR\x03500"), HandshakeError::Auth(500));
    assert_eq!(peer_error(b"\x05ERROR\x03200"), HandshakeError::PeerError);
    assert_eq!(peer_error(b"\x05ERROR\x03401"), HandshakeError::PeerError);
    assert_eq!(peer_error(b"\x05ERROR\x00"), HandshakeError::PeerError);
    let malformed = HandshakeError::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR);
    assert_eq!(peer_error(b"\x05ERROR"), malformed);
    assert_eq!(peer_error(b"\x05ERROR\x05abc"), malformed);
}

#[test]
fn settings_debug_hides_secrets() {
    let s = Settings {
        plain_password: b"hunter2".to_vec().into(),
        curve_secret_key: [0x42; 32].into(),
        ..Settings::default()
    };
    let text = format!("{s:?}");
    assert!(!text.contains("hunter2") && !text.contains("66, 66"));
}

#[test]
fn plain_client_and_server_talk_directly() {
    let local = |t: &[u8]| Local {
        properties: metadata::encode(&[("Socket-Type", t)]),
        routing_id: Bytes::new(),
    };
    let client_settings = Settings {
        mechanism: Kind::Plain,
        plain_username: b"u".to_vec(),
        plain_password: b"p".to_vec().into(),
        ..Settings::default()
    };
    let server_settings = Settings {
        mechanism: Kind::Plain,
        as_server: true,
        ..Settings::default()
    };
    let mut c = Mechanism::new(&client_settings, local(b"DEALER"));
    let mut s = Mechanism::new(&server_settings, local(b"ROUTER"));
    let mut out = Vec::new();
    c.start(&mut out).unwrap();
    let hello = commands(&out);
    assert_eq!(&hello[0][..], b"\x05HELLO\x01u\x01p");
    out.clear();
    s.command(&hello[0], &mut out).unwrap();
    assert!(s.awaiting_zap() && matches!(&out[0], Out::ZapRequest(f) if f.len() == 9));
    out.clear();
    s.zap_reply(&zap::reply(b"200", b"uid", &[]), &mut out)
        .unwrap();
    assert!(matches!(&out[0], Out::ZapProperties(p) if p[0].0 == "User-Id"));
    let welcome = commands(&out);
    assert_eq!(&welcome[0][..], b"\x07WELCOME");
    out.clear();
    c.command(&welcome[0], &mut out).unwrap();
    let initiate = commands(&out);
    out.clear();
    s.command(&initiate[0], &mut out).unwrap();
    assert!(s.is_ready());
    let ready = commands(&out);
    out.clear();
    c.command(&ready[0], &mut out).unwrap();
    assert!(c.is_ready());
    assert!(matches!(&out[0], Out::PeerProperties(p) if &p[0].1[..] == b"ROUTER"));
    assert!(c.into_codec().is_none() && s.into_codec().is_none());
    // A second WELCOME is out of order.
    let mut c = Mechanism::new(&client_settings, local(b"DEALER"));
    c.start(&mut out).unwrap();
    c.command(&welcome[0], &mut out).unwrap();
    assert_eq!(
        c.command(&welcome[0], &mut out),
        Err(HandshakeError::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND
        ))
    );
    // WELCOME with trailing data is malformed.
    let mut c = Mechanism::new(&client_settings, local(b"DEALER"));
    c.start(&mut out).unwrap();
    assert_eq!(
        c.command(&Bytes::from_static(b"\x07WELCOMEx"), &mut out),
        Err(HandshakeError::Protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME
        ))
    );
}

#[test]
fn clients_never_ask_zap() {
    let settings = Settings {
        mechanism: Kind::Plain,
        ..Settings::default()
    };
    let mut c = Mechanism::new(&settings, Local::default());
    let mut out = Vec::new();
    assert!(
        c.zap_reply(&zap::reply(b"200", b"", &[]), &mut out)
            .is_err()
    );
    assert!(c.zap_unavailable(&mut out).is_err());
    assert!(!c.awaiting_zap());
}

#[test]
fn quirk_plain_error_is_libzmqs_caret_rror() {
    let server_settings = Settings {
        mechanism: Kind::Plain,
        as_server: true,
        ..Settings::default()
    };
    let mut s = Mechanism::new(&server_settings, Local::default());
    let mut out = Vec::new();
    s.command(&Bytes::from_static(b"\x05HELLO\x01u\x01p"), &mut out)
        .unwrap();
    out.clear();
    assert_eq!(
        s.zap_reply(&zap::reply(b"400", b"", &[]), &mut out),
        Err(HandshakeError::Auth(400))
    );
    assert_eq!(&commands(&out)[0][..], b"^RROR\x03400");

    // Our PLAIN client understands both spellings.
    let client_settings = Settings {
        mechanism: Kind::Plain,
        ..Settings::default()
    };
    for error in [&b"^RROR\x03500"[..], b"\x05ERROR\x03500"] {
        let mut c = Mechanism::new(&client_settings, Local::default());
        c.start(&mut out).unwrap();
        assert_eq!(
            c.command(&Bytes::copy_from_slice(error), &mut out),
            Err(HandshakeError::Auth(500))
        );
    }
}
