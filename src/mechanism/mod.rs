//! ZMTP security mechanisms as a sans-IO layer: NULL (RFC 23 §"The NULL Security Mechanism"),
//! PLAIN (RFC 24), CURVE (RFC 25 CurveZMQ carried as RFC 26 ZMTP-CURVE), and the client side of
//! ZAP (RFC 27), all as libzmq 4.3 speaks them.
//!
//! Layer L0: may depend on `msg`, `error`, `util`, `consts`, `bytes` and the crypto libraries
//! (only through `curve/crypto.rs`, which reaches libsodium through `curve/sodium.rs`); no I/O,
//! no clock, no threads. `zmtp::Connection` owns one
//! [`Mechanism`] from the end of the greeting to the end of the handshake: it calls
//! [`Mechanism::start`], feeds every handshake command body to [`Mechanism::command`] and every
//! ZAP reply to [`Mechanism::zap_reply`] (or [`Mechanism::zap_unavailable`] when no handler is
//! bound), and carries out the [`Out`]s each call pushes, in order: commands to send, a ZAP
//! request to hand to the I/O side, and peer or ZAP properties to check and keep. Once
//! [`Mechanism::is_ready`], CURVE leaves behind a [`curve::Codec`] that encrypts every frame.
//!
//! Invariants: peer input never reaches a panic, an unchecked index or an allocation whose size
//! the peer chose beyond the frame it already sent (frames are bounded by the ZMTP decoder);
//! failures are values ([`HandshakeError`]) carrying the `ZMQ_PROTOCOL_ERROR_*` code or ZAP
//! status libzmq reports; secrets are wiped on drop.
//!
//! `unsafe` is denied here and forbidden in every file but `curve/sodium.rs`, the FFI to
//! libsodium (a `forbid` here would reach into it).
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::indexing_slicing, clippy::cast_possible_truncation)
)]

pub(crate) mod curve;
pub(crate) mod metadata;
mod null;
mod plain;
pub(crate) mod zap;

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};
use zeroize::Zeroizing;

use crate::consts::*;

/// Which mechanism a socket uses (`ZMQ_MECHANISM`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Kind {
    /// `ZMQ_NULL`: no security (ZAP only when a domain is set).
    #[default]
    Null,
    /// `ZMQ_PLAIN`: clear-text user name and password (RFC 24).
    Plain,
    /// `ZMQ_CURVE`: CurveZMQ (RFC 25, RFC 26).
    Curve,
}

impl Kind {
    /// The kind for a `ZMQ_MECHANISM` value.
    pub(crate) fn from_option(mechanism: i32) -> Option<Kind> {
        match mechanism {
            ZMQ_NULL => Some(Kind::Null),
            ZMQ_PLAIN => Some(Kind::Plain),
            ZMQ_CURVE => Some(Kind::Curve),
            _ => None,
        }
    }

    /// The mechanism's name as the greeting carries it.
    pub(crate) fn name(self) -> &'static [u8] {
        match self {
            Kind::Null => b"NULL",
            Kind::Plain => b"PLAIN",
            Kind::Curve => b"CURVE",
        }
    }

    /// The greeting's 20-octet mechanism field: the name padded with NULs (RFC 23).
    pub(crate) fn greeting_field(self) -> [u8; 20] {
        let mut field = [0u8; 20];
        let name = self.name();
        if let Some(dst) = field.get_mut(..name.len()) {
            dst.copy_from_slice(name);
        }
        field
    }
}

/// The security settings of one connection, built by the session from the socket's options.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    /// The mechanism (both peers must use the same one).
    pub(crate) mechanism: Kind,
    /// Server role for PLAIN and CURVE (`ZMQ_PLAIN_SERVER` / `ZMQ_CURVE_SERVER`).
    pub(crate) as_server: bool,
    /// `ZMQ_PLAIN_USERNAME` (at most 255 bytes; the options enforce it).
    pub(crate) plain_username: Vec<u8>,
    /// `ZMQ_PLAIN_PASSWORD` (at most 255 bytes); wiped on drop.
    pub(crate) plain_password: Zeroizing<Vec<u8>>,
    /// `ZMQ_CURVE_PUBLICKEY`: our long-term public key (a CURVE client's C).
    pub(crate) curve_public_key: [u8; 32],
    /// `ZMQ_CURVE_SECRETKEY`: our long-term secret key; wiped on drop.
    pub(crate) curve_secret_key: Zeroizing<[u8; 32]>,
    /// `ZMQ_CURVE_SERVERKEY`: the server's long-term public key (a CURVE client's S).
    pub(crate) curve_server_key: [u8; 32],
    /// `ZMQ_ZAP_DOMAIN`, byte for byte as set (libzmq keeps a trailing NUL if one was passed).
    pub(crate) zap_domain: Vec<u8>,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN` (draft): a missing ZAP handler fails the handshake.
    pub(crate) zap_enforce_domain: bool,
    /// The ZAP request's Address frame: the peer's IP address without the port for tcp (as
    /// libzmq sends it), empty when unknown.
    pub(crate) peer_address: Vec<u8>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("mechanism", &self.mechanism)
            .field("as_server", &self.as_server)
            .field(
                "plain_username",
                &String::from_utf8_lossy(&self.plain_username),
            )
            .field("plain_password", &"<redacted>")
            .field("curve_public_key", &self.curve_public_key)
            .field("curve_secret_key", &"<redacted>")
            .field("curve_server_key", &self.curve_server_key)
            .field("zap_domain", &String::from_utf8_lossy(&self.zap_domain))
            .field("zap_enforce_domain", &self.zap_enforce_domain)
            .field("peer_address", &String::from_utf8_lossy(&self.peer_address))
            .finish()
    }
}

/// Why a handshake failed; `zmtp` maps it onto its `Failure` and the monitor event libzmq
/// emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandshakeError {
    /// A malformed or unexpected command, a failed decryption, or a malformed ZAP reply:
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` with this `ZMQ_PROTOCOL_ERROR_*` code.
    Protocol(i32),
    /// Authentication failed with this ZAP status code (300, 400 or 500), either from our ZAP
    /// handler or from the peer's ERROR command: `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`.
    Auth(u16),
    /// The mechanism needs a ZAP handler and none is bound to `inproc://zeromq.zap.01`:
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL` with `EFAULT`, as libzmq.
    NoZapHandler,
    /// The peer sent an ERROR command whose reason is not a ZAP status code (libzmq emits no
    /// event for it).
    PeerError,
}

impl HandshakeError {
    fn protocol(code: i32) -> HandshakeError {
        HandshakeError::Protocol(code)
    }
}

/// One thing a mechanism asks its connection to do; carried out in the order pushed.
#[derive(Debug)]
pub(crate) enum Out {
    /// Send this command body as a ZMTP command frame.
    Command(Bytes),
    /// Hand this ZAP request (a multipart message, MORE on all but the last frame, starting
    /// with the empty delimiter) to the ZAP handler; the mechanism waits for the reply.
    ZapRequest(Vec<Bytes>),
    /// The peer's ZMTP properties (READY or INITIATE metadata): check `Socket-Type`, keep
    /// `Identity` and the rest.
    PeerProperties(Vec<(String, Bytes)>),
    /// Properties from the ZAP reply: `User-Id` first, then the reply's metadata.
    ZapProperties(Vec<(String, Bytes)>),
}

/// What a mechanism needs to know about its own socket.
#[derive(Clone, Debug, Default)]
pub(crate) struct Local {
    /// Our properties (Socket-Type, Identity) encoded as READY/INITIATE metadata.
    pub(crate) properties: Bytes,
    /// Our routing id (the ZAP request's Identity frame; empty if none).
    pub(crate) routing_id: Bytes,
}

/// One connection's mechanism, from the end of the greeting to the end of the handshake.
pub(crate) struct Mechanism(Inner);

enum Inner {
    Null(null::Null),
    PlainClient(plain::Client),
    PlainServer(plain::Server),
    CurveClient(Box<curve::client::Client>),
    CurveServer(Box<curve::server::Server>),
}

impl Mechanism {
    /// The mechanism for `settings` (client or server side as `as_server` says).
    pub(crate) fn new(settings: &Settings, local: Local) -> Mechanism {
        let zap = zap::ZapClient::new(settings, &local.routing_id);
        Mechanism(match (settings.mechanism, settings.as_server) {
            (Kind::Null, _) => Inner::Null(null::Null::new(local.properties, zap)),
            (Kind::Plain, false) => Inner::PlainClient(plain::Client::new(settings, local)),
            (Kind::Plain, true) => Inner::PlainServer(plain::Server::new(local.properties, zap)),
            (Kind::Curve, false) => Inner::CurveClient(Box::new(curve::client::Client::new(
                settings,
                local.properties,
            ))),
            (Kind::Curve, true) => Inner::CurveServer(Box::new(curve::server::Server::new(
                settings,
                local.properties,
                zap,
            ))),
        })
    }

    /// Called once the greeting is exchanged: pushes the first commands (HELLO for clients,
    /// READY or a ZAP request for NULL).
    pub(crate) fn start(&mut self, out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        match &mut self.0 {
            Inner::Null(m) => {
                m.start(out);
                Ok(())
            }
            Inner::PlainClient(m) => {
                m.start(out);
                Ok(())
            }
            Inner::PlainServer(_) | Inner::CurveServer(_) => Ok(()),
            Inner::CurveClient(m) => m.start(out),
        }
    }

    /// Handles one handshake command body.
    pub(crate) fn command(
        &mut self,
        body: &Bytes,
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        match &mut self.0 {
            Inner::Null(m) => m.command(body, out),
            Inner::PlainClient(m) => m.command(body, out),
            Inner::PlainServer(m) => m.command(body, out),
            Inner::CurveClient(m) => m.command(body, out),
            Inner::CurveServer(m) => m.command(body, out),
        }
    }

    /// Handles the ZAP handler's reply to the request pushed last (all of its frames, starting
    /// with the empty delimiter).
    pub(crate) fn zap_reply(
        &mut self,
        frames: &[Bytes],
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        match &mut self.0 {
            Inner::Null(m) => m.zap_reply(frames, out),
            Inner::PlainServer(m) => m.zap_reply(frames, out),
            Inner::CurveServer(m) => m.zap_reply(frames, out),
            Inner::PlainClient(_) | Inner::CurveClient(_) => {
                Err(HandshakeError::Protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED))
            }
        }
    }

    /// The I/O side found no ZAP handler for the request pushed last: go on as libzmq does
    /// without one (NULL and CURVE accept unless `ZMQ_ZAP_ENFORCE_DOMAIN`; PLAIN fails).
    pub(crate) fn zap_unavailable(&mut self, out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        match &mut self.0 {
            Inner::Null(m) => m.zap_unavailable(out),
            Inner::PlainServer(m) => m.zap_unavailable(),
            Inner::CurveServer(m) => m.zap_unavailable(out),
            Inner::PlainClient(_) | Inner::CurveClient(_) => {
                Err(HandshakeError::Protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED))
            }
        }
    }

    /// True while a ZAP request is out and its reply has not come back.
    pub(crate) fn awaiting_zap(&self) -> bool {
        match &self.0 {
            Inner::Null(m) => m.awaiting_zap(),
            Inner::PlainServer(m) => m.awaiting_zap(),
            Inner::CurveServer(m) => m.awaiting_zap(),
            Inner::PlainClient(_) | Inner::CurveClient(_) => false,
        }
    }

    /// True once the handshake is complete on our side (all our commands are out and the
    /// peer's last one is in).
    pub(crate) fn is_ready(&self) -> bool {
        match &self.0 {
            Inner::Null(m) => m.is_ready(),
            Inner::PlainClient(m) => m.is_ready(),
            Inner::PlainServer(m) => m.is_ready(),
            Inner::CurveClient(m) => m.is_ready(),
            Inner::CurveServer(m) => m.is_ready(),
        }
    }

    /// After the handshake: the CURVE message codec (None for NULL and PLAIN, whose frames go
    /// in the clear).
    pub(crate) fn into_codec(self) -> Option<curve::Codec> {
        match self.0 {
            Inner::CurveClient(m) => m.into_codec(),
            Inner::CurveServer(m) => m.into_codec(),
            Inner::Null(_) | Inner::PlainClient(_) | Inner::PlainServer(_) => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Command helpers shared by the mechanisms (RFC 23 §"Commands").

/// True if `body` is the command `name` (a length octet, then the name).
pub(crate) fn is_command(body: &[u8], name: &[u8]) -> bool {
    body.split_first()
        .is_some_and(|(&n, rest)| usize::from(n) == name.len() && rest.starts_with(name))
}

/// libzmq's `check_basic_command_structure`: a command is more than one octet and longer than
/// its name.
pub(crate) fn check_structure(body: &[u8]) -> Result<(), HandshakeError> {
    match body.first() {
        Some(&n) if body.len() > 1 && body.len() > usize::from(n) => Ok(()),
        _ => Err(HandshakeError::protocol(
            ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        )),
    }
}

/// A command body: the name, then `data`.
pub(crate) fn command(name: &[u8], data: &[&[u8]]) -> Bytes {
    let len: usize = data.iter().map(|d| d.len()).sum();
    let mut out = BytesMut::with_capacity(1 + name.len() + len);
    out.put_u8(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name);
    for d in data {
        out.extend_from_slice(d);
    }
    out.freeze()
}

/// An ERROR command body with a reason of at most 255 octets.
#[cfg(test)]
pub(crate) fn error_command(reason: &[u8]) -> Bytes {
    error_command_named(b"\x05ERROR", reason)
}

/// What libzmq 4.3's PLAIN mechanism sends and expects instead of "\x05ERROR": its C literal
/// `"\x05ERROR"` parses as the single escape `\x05E` (0x5E, '^') followed by "RROR", so the
/// name octet is gone and the command reads "^RROR", the reason's length octet, the reason.
/// libzmq's PLAIN client only recognises this form, so our PLAIN server sends it (a libzmq
/// client then reports the ZAP status as libzmq would) and our PLAIN client accepts both.
pub(crate) const LIBZMQ_PLAIN_ERROR: &[u8] = b"^RROR";

/// An ERROR command whose name (with any length octet) is `name`.
pub(crate) fn error_command_named(name: &[u8], reason: &[u8]) -> Bytes {
    let reason = reason.get(..reason.len().min(255)).unwrap_or_default();
    let mut out = BytesMut::with_capacity(name.len() + 1 + reason.len());
    out.extend_from_slice(name);
    out.put_u8(u8::try_from(reason.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(reason);
    out.freeze()
}

/// What the peer's ERROR command means (libzmq's `handle_error_reason`): a reason that is a
/// ZAP status code 300, 400 or 500 is an authentication failure with that status.
pub(crate) fn peer_error(body: &[u8]) -> HandshakeError {
    peer_error_at(body, 6)
}

/// As [`peer_error`] for an ERROR whose reason length octet is at `at`.
pub(crate) fn peer_error_at(body: &[u8], at: usize) -> HandshakeError {
    let malformed = HandshakeError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR);
    let Some(rest) = body.get(at..) else {
        return malformed;
    };
    let Some((&len, reason)) = rest.split_first() else {
        return malformed;
    };
    let Some(reason) = reason.get(..usize::from(len)) else {
        return malformed;
    };
    match reason {
        [d @ b'3'..=b'5', b'0', b'0'] => HandshakeError::Auth(u16::from(d - b'0') * 100),
        _ => HandshakeError::PeerError,
    }
}

/// `body` from octet `from` on, zero-copy (empty if it is shorter).
pub(crate) fn tail(body: &Bytes, from: usize) -> Bytes {
    if from <= body.len() {
        body.slice(from..)
    } else {
        Bytes::new()
    }
}

/// Parses READY/INITIATE metadata into properties, with libzmq's failure code for it.
pub(crate) fn peer_properties(data: &Bytes) -> Result<Vec<(String, Bytes)>, HandshakeError> {
    metadata::parse(data)
        .map_err(|_| HandshakeError::protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA))
}

#[cfg(test)]
mod tests;
