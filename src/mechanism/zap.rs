//! ZAP, the ZeroMQ Authentication Protocol (RFC 27), from the side of the socket that asks:
//! request encoding, reply decoding, and the wait between them (libzmq's `zap_client_t`).
//!
//! A request is one multipart message, exactly as libzmq 4.3 writes it to the ZAP pipe: the
//! empty delimiter, version "1.0", request id "1", the domain (byte for byte as
//! `ZMQ_ZAP_DOMAIN` was set), the peer's address, our own routing id, the mechanism name, then
//! one frame per credential (PLAIN: user name and password; CURVE: the client's 32-byte public
//! key; NULL: none). The reply is seven frames: the empty delimiter, "1.0", the request id, a
//! status code (200, 300, 400 or 500), a status text, a user id and ZMTP metadata.
#![forbid(unsafe_code)]

use bytes::Bytes;

use super::{HandshakeError, Out, Settings, error_command_named, metadata};
use crate::consts::*;

/// The ZAP version this implementation speaks.
pub(crate) const VERSION: &[u8] = b"1.0";
/// The request id libzmq uses (one request per connection at a time).
pub(crate) const REQUEST_ID: &[u8] = b"1";

/// Builds a request (see the module doc for the frames).
pub(crate) fn request(
    domain: &[u8],
    address: &[u8],
    identity: &[u8],
    mechanism: &[u8],
    credentials: &[&[u8]],
) -> Vec<Bytes> {
    let mut frames = Vec::with_capacity(7 + credentials.len());
    frames.push(Bytes::new());
    frames.push(Bytes::from_static(VERSION));
    frames.push(Bytes::from_static(REQUEST_ID));
    frames.push(Bytes::copy_from_slice(domain));
    frames.push(Bytes::copy_from_slice(address));
    frames.push(Bytes::copy_from_slice(identity));
    frames.push(Bytes::copy_from_slice(mechanism));
    frames.extend(credentials.iter().map(|c| Bytes::copy_from_slice(c)));
    frames
}

/// A decoded reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// 200 (accepted), 300 (temporary failure), 400 (refused) or 500 (internal error).
    pub(crate) status: u16,
    /// The user id the handler gave (becomes the `User-Id` property).
    pub(crate) user_id: Bytes,
    /// The handler's metadata properties.
    pub(crate) metadata: Vec<(String, Bytes)>,
}

/// Decodes a reply (all seven frames, the empty delimiter first), with libzmq's checks in
/// libzmq's order; an error is the `ZMQ_PROTOCOL_ERROR_ZAP_*` code libzmq reports.
pub(crate) fn parse_reply(frames: &[Bytes]) -> Result<Reply, i32> {
    let [delimiter, version, request_id, status, _text, user_id, meta] = frames else {
        return Err(ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY);
    };
    if !delimiter.is_empty() {
        return Err(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED);
    }
    if version.as_ref() != VERSION {
        return Err(ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION);
    }
    if request_id.as_ref() != REQUEST_ID {
        return Err(ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID);
    }
    let status = match status.as_ref() {
        [d @ b'2'..=b'5', b'0', b'0'] => u16::from(d - b'0') * 100,
        _ => return Err(ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE),
    };
    let metadata = metadata::parse(meta).map_err(|_| ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA)?;
    Ok(Reply {
        status,
        user_id: user_id.clone(),
        metadata,
    })
}

/// Builds a reply as a ZAP handler sends it (for tests and fuzzing).
#[cfg(any(test, fuzzing))]
pub(crate) fn reply(status: &[u8], user_id: &[u8], metadata: &[(&str, &[u8])]) -> Vec<Bytes> {
    vec![
        Bytes::new(),
        Bytes::from_static(VERSION),
        Bytes::from_static(REQUEST_ID),
        Bytes::copy_from_slice(status),
        Bytes::from_static(b"status text"),
        Bytes::copy_from_slice(user_id),
        super::metadata::encode(metadata),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Waiting,
    Done,
}

/// The ZAP steps of a mechanism that authenticates its peer.
pub(crate) struct ZapClient {
    domain: Vec<u8>,
    address: Vec<u8>,
    identity: Bytes,
    enforce: bool,
    state: State,
    /// The ERROR command's name (see `LIBZMQ_PLAIN_ERROR`).
    error_name: &'static [u8],
}

impl ZapClient {
    /// A client for a connection with these settings and our routing id.
    pub(crate) fn new(settings: &Settings, identity: &Bytes) -> ZapClient {
        ZapClient {
            domain: settings.zap_domain.clone(),
            address: settings.peer_address.clone(),
            identity: identity.clone(),
            enforce: settings.zap_enforce_domain,
            state: State::Idle,
            error_name: b"\x05ERROR",
        }
    }

    /// Sends refusals as libzmq's PLAIN server does ([`super::LIBZMQ_PLAIN_ERROR`]).
    pub(crate) fn with_libzmq_plain_error(mut self) -> ZapClient {
        self.error_name = super::LIBZMQ_PLAIN_ERROR;
        self
    }

    /// True when `ZMQ_ZAP_DOMAIN` is set (libzmq's `zap_required`).
    pub(crate) fn has_domain(&self) -> bool {
        !self.domain.is_empty()
    }

    /// True when `ZMQ_ZAP_ENFORCE_DOMAIN` is set.
    pub(crate) fn enforce(&self) -> bool {
        self.enforce
    }

    /// Pushes a request for `mechanism` with `credentials`, and waits for the reply.
    pub(crate) fn send(&mut self, mechanism: &[u8], credentials: &[&[u8]], out: &mut Vec<Out>) {
        out.push(Out::ZapRequest(request(
            &self.domain,
            &self.address,
            &self.identity,
            mechanism,
            credentials,
        )));
        self.state = State::Waiting;
    }

    /// True while the request is out and unanswered.
    pub(crate) fn waiting(&self) -> bool {
        self.state == State::Waiting
    }

    /// Handles the reply: on 200 pushes the `User-Id` and metadata properties; on 400 and 500
    /// pushes an ERROR command carrying the status; 300 fails without ERROR (the CurveZMQ RFC
    /// asks for a silent disconnect). Every refusal is [`HandshakeError::Auth`] with its status.
    pub(crate) fn reply(
        &mut self,
        frames: &[Bytes],
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        if self.state != State::Waiting {
            return Err(HandshakeError::Protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED));
        }
        self.state = State::Done;
        let reply = parse_reply(frames).map_err(HandshakeError::Protocol)?;
        match reply.status {
            200 => {
                let mut props = Vec::with_capacity(1 + reply.metadata.len());
                props.push((draft::ZMQ_MSG_PROPERTY_USER_ID.to_owned(), reply.user_id));
                props.extend(reply.metadata);
                out.push(Out::ZapProperties(props));
                Ok(())
            }
            300 => Err(HandshakeError::Auth(300)),
            status => {
                let text = status.to_string();
                out.push(Out::Command(error_command_named(
                    self.error_name,
                    text.as_bytes(),
                )));
                Err(HandshakeError::Auth(status))
            }
        }
    }

    /// No handler is bound: fails with [`HandshakeError::NoZapHandler`] if `required`, else lets
    /// the handshake go on unauthenticated.
    pub(crate) fn unavailable(&mut self, required: bool) -> Result<(), HandshakeError> {
        if self.state != State::Waiting {
            return Err(HandshakeError::Protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED));
        }
        self.state = State::Done;
        if required {
            Err(HandshakeError::NoZapHandler)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(v: &[&[u8]]) -> Vec<Bytes> {
        v.iter().map(|f| Bytes::copy_from_slice(f)).collect()
    }

    #[test]
    fn request_frames_are_libzmqs() {
        let r = request(
            b"TEST\0",
            b"127.0.0.1",
            b"SRV",
            b"PLAIN",
            &[b"admin", b"pw"],
        );
        assert_eq!(
            r,
            frames(&[
                b"",
                b"1.0",
                b"1",
                b"TEST\0",
                b"127.0.0.1",
                b"SRV",
                b"PLAIN",
                b"admin",
                b"pw"
            ])
        );
        let r = request(b"global", b"", b"", b"NULL", &[]);
        assert_eq!(r.len(), 7);
        assert_eq!(r.last().unwrap().as_ref(), b"NULL");
    }

    #[test]
    fn replies_decode_with_user_id_and_metadata() {
        let r = parse_reply(&reply(b"200", b"user-7", &[("X-Foo", b"bar")])).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.user_id.as_ref(), b"user-7");
        assert_eq!(r.metadata[0].0, "X-Foo");
        for (status, n) in [(&b"300"[..], 300), (b"400", 400), (b"500", 500)] {
            assert_eq!(parse_reply(&reply(status, b"", &[])).unwrap().status, n);
        }
    }

    #[test]
    fn bad_replies_map_to_libzmqs_codes() {
        let good = reply(b"200", b"u", &[]);
        assert_eq!(
            parse_reply(&good[..6]),
            Err(ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY)
        );
        let mut long = good.clone();
        long.push(Bytes::new());
        assert_eq!(
            parse_reply(&long),
            Err(ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY)
        );
        let with = |i: usize, v: &'static [u8]| {
            let mut f = good.clone();
            f[i] = Bytes::from_static(v);
            parse_reply(&f)
        };
        assert_eq!(with(0, b"x"), Err(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED));
        assert_eq!(with(1, b"2.0"), Err(ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION));
        assert_eq!(with(2, b"2"), Err(ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID));
        for bad in [&b"201"[..], b"600", b"100", b"20", b"2000", b""] {
            assert_eq!(
                with(3, bad),
                Err(ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE)
            );
        }
        assert_eq!(
            with(6, b"\x05X-Foo\x00\x00"),
            Err(ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA)
        );
    }

    #[test]
    fn client_waits_then_applies_status() {
        let settings = Settings {
            zap_domain: b"d".to_vec(),
            ..Settings::default()
        };
        let mut z = ZapClient::new(&settings, &Bytes::new());
        let mut out = Vec::new();
        assert!(
            z.reply(&reply(b"200", b"", &[]), &mut out).is_err(),
            "nothing asked"
        );
        let mut z = ZapClient::new(&settings, &Bytes::new());
        z.send(b"NULL", &[], &mut out);
        assert!(z.waiting());
        assert_eq!(
            z.reply(&reply(b"400", b"", &[]), &mut out),
            Err(HandshakeError::Auth(400))
        );
        assert!(matches!(out.last(), Some(Out::Command(c)) if c.ends_with(b"\x03400")));
        let mut z = ZapClient::new(&settings, &Bytes::new());
        out.clear();
        z.send(b"NULL", &[], &mut out);
        assert_eq!(
            z.reply(&reply(b"300", b"", &[]), &mut out),
            Err(HandshakeError::Auth(300))
        );
        assert_eq!(out.len(), 1, "no ERROR for 300");
        let mut z = ZapClient::new(&settings, &Bytes::new());
        z.send(b"NULL", &[], &mut out);
        assert_eq!(z.unavailable(true), Err(HandshakeError::NoZapHandler));
    }
}
