//! The sans-IO ZMTP 3.x protocol core (RFC 23 ZMTP 3.0, RFC 37 ZMTP 3.1) with the NULL, PLAIN
//! and CURVE security mechanisms (`crate::mechanism`), and libzmq 4.3's downgrade to ZMTP 1.0
//! and 2.0 peers (`legacy`): bytes in, bytes and events out, time passed in.
//!
//! Layer L0: no sockets, no clock, no threads. The engine drives a [`Connection`] like this:
//! - after reading, append the bytes to [`Connection::input_buffer`] and call
//!   [`Connection::process`]; then drain [`Connection::poll_event`] and write out
//!   [`Connection::output`] (advancing it by what the socket took);
//! - queue outgoing frames with [`Connection::send`] once [`Connection::is_active`], then write
//!   out [`Connection::output`];
//! - call [`Connection::handle_timeout`] at [`Connection::poll_timeout`], then write out
//!   [`Connection::output`];
//! - on [`Event::ZapRequest`], carry the request to the ZAP handler at
//!   `inproc://zeromq.zap.01` and give its reply to [`Connection::handle_zap_reply`], or call
//!   [`Connection::zap_handler_missing`] if nothing is bound there; then drain
//!   [`Connection::poll_event`] (the handshake may complete) and write out the output.
//!
//! Any `Err(Failure)` is final: write out what [`Connection::output`] still holds (an ERROR
//! command may be queued), report the failure and close. Times are milliseconds on the
//! caller's monotonic clock.
//!
//! Handshake: both sides send the 64-octet greeting (signature, version 3.1, the mechanism's
//! name, as-server) in stages (the signature; the major version once the peer's signature
//! shows it versioned; the rest once its revision is known), then the mechanism's commands.
//! The peer's mechanism must be ours ([`Failure::MechanismMismatch`]). READY/INITIATE carry
//! `Socket-Type` (and `Identity` for REQ, DEALER and ROUTER); the peer's socket type must be
//! compatible (RFC 23 table) or the connection fails with an ERROR command. A ZMTP 1.0/2.0
//! peer instead gets our identity frame in its framing, and its own identity frame ends the
//! handshake (no mechanism, no metadata, no commands, no heartbeats); it is refused when a
//! mechanism other than NULL or a ZAP domain is set, as libzmq 4.3 does (`legacy`,
//! `old_peer`). After a ZMTP 3 handshake, data frames become [`Event::Message`]s;
//! SUBSCRIBE/CANCEL commands become the 0x01/0x00-prefixed messages the pub/sub patterns
//! expect; PING is answered with PONG. With CURVE every frame after the handshake, commands
//! included, travels as an encrypted MESSAGE (RFC 26).
//!
//! Files: this one holds the connection's state, its configuration, events and failures, and
//! its input loop and timers; further `impl Connection` blocks hold `greeting` (ours, and the
//! peer's read in stages), `handshake` (the mechanism's steps and ZAP), `receive` (frames and
//! commands once established), `output` (sending and the output queue), `side` (the
//! shared-memory side channel) and `old_peer` (the ZMTP 1.0/2.0 downgrade). `socket_types`
//! holds the socket-type names and RFC 23's compatibility table; `frame`, `command` and
//! `legacy` are the codecs.
#![forbid(unsafe_code)]

pub(crate) mod command;
pub(crate) mod frame;
mod greeting;
mod handshake;
pub(crate) mod legacy;
mod old_peer;
mod output;
mod receive;
mod side;
mod socket_types;
#[cfg(feature = "testing")]
pub mod testing_api;

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::consts::*;
use crate::mechanism::curve::{self, Codec};
use crate::mechanism::{self, HandshakeError, Local, Mechanism, Out};
use crate::msg::{Metadata, Msg};

pub(crate) use crate::mechanism::Settings as Security;
pub(crate) use greeting::GREETING_LEN;
// Only the fuzz targets and tests build a whole greeting outside `greeting`.
#[cfg(any(test, fuzzing))]
pub(crate) use greeting::greeting;
pub(crate) use side::{Copied, SIDE_CHANNEL_PROPERTY, SideChannel, SidePiece};
use socket_types::socket_type_from_name;
pub(crate) use socket_types::{compatible, socket_type_name};

/// Message bodies at least this large are written from the message itself, not copied.
const ZERO_COPY_MIN: usize = 8 * 1024;

/// Received data frames up to this size are copied into their `Msg` (inline or into a slab
/// slot of the I/O thread's); larger ones share the receive buffer (see
/// [`Connection::process_with`]). Sharing costs the buffer's reference count an increment
/// here and a decrement on the socket's thread per frame, on one cache line both threads
/// write; copying a small frame costs less than that line moving between cores.
pub(crate) const COPY_MAX: usize = 256;

/// Everything a connection needs to know about its own side.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// Our socket type (ZMQ_*).
    pub(crate) socket_type: i32,
    /// Our routing id, announced as `Identity`.
    pub(crate) routing_id: Option<Bytes>,
    /// Largest accepted message (`ZMQ_MAXMSGSIZE`, negative = unlimited).
    pub(crate) maxmsgsize: i64,
    /// `ZMQ_HANDSHAKE_IVL` in ms (0 = no limit).
    pub(crate) handshake_ivl: u64,
    /// `ZMQ_HEARTBEAT_IVL` in ms (0 = off).
    pub(crate) heartbeat_ivl: u64,
    /// `ZMQ_HEARTBEAT_TIMEOUT` in ms (None = the interval).
    pub(crate) heartbeat_timeout: Option<u64>,
    /// `ZMQ_HEARTBEAT_TTL` in ms, sent to the peer in PINGs.
    pub(crate) heartbeat_ttl: u64,
    /// Raw bytes, no ZMTP (STREAM, ROUTER_RAW).
    pub(crate) raw: bool,
    /// Application metadata (`ZMQ_METADATA`) sent with the handshake properties.
    pub(crate) metadata: Vec<(String, Vec<u8>)>,
    /// The security mechanism, its keys or credentials, and the ZAP settings.
    pub(crate) security: Security,
}

impl Config {
    /// A `socket_type` side with `security` and every other setting at libzmq's default (no
    /// handshake limit): for tests and the testing peer.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn with_defaults(socket_type: i32, security: Security) -> Config {
        Config {
            socket_type,
            routing_id: None,
            maxmsgsize: -1,
            handshake_ivl: 0,
            heartbeat_ivl: 0,
            heartbeat_timeout: None,
            heartbeat_ttl: 0,
            raw: false,
            metadata: Vec::new(),
            security,
        }
    }
}

/// What the handshake learned about the peer.
#[derive(Clone, Debug)]
pub(crate) struct PeerInfo {
    /// The peer's socket type.
    #[cfg_attr(not(test), allow(dead_code, reason = "kept for STREAM/PEER patterns"))]
    pub(crate) socket_type: i32,
    /// The routing id the peer announced (empty = none).
    pub(crate) routing_id: Option<Bytes>,
    /// The peer speaks ZMTP 1.0 or 2.0: no handshake, no metadata, no commands (libzmq 4.3
    /// reports no handshake event for it and gives its messages no properties).
    pub(crate) legacy: bool,
    /// The peer's ZMTP minor version (0 = 3.0, 1 = 3.1; 0 for older peers).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "kept for the 3.0 subscription format")
    )]
    pub(crate) minor: u8,
    /// The peer's READY/INITIATE properties, then `User-Id` and the ZAP handler's metadata
    /// (ZAP's win on a clash, as in libzmq), for `zmq_msg_gets`.
    pub(crate) metadata: Metadata,
}

/// Why a connection failed; the engine reports it through the monitor and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Malformed greeting, frame or command (a `ZMQ_PROTOCOL_ERROR_ZMTP_*` code).
    Protocol(i32),
    /// The peer speaks ZMTP 1.0 or 2.0, which our security settings rule out (a mechanism
    /// other than NULL, or a ZAP domain), as libzmq 4.3 refuses it: the connection just
    /// closes, with no handshake-failed event.
    OldPeerRefused,
    /// The peer's socket type cannot talk to ours.
    IncompatibleSocketType,
    /// The peer uses another security mechanism.
    MechanismMismatch,
    /// The peer sent an ERROR command (whose reason is not a ZAP status code).
    PeerError,
    /// Authentication failed with this ZAP status code (300, 400 or 500): our ZAP handler
    /// refused the peer, or the peer's ERROR said its handler refused us
    /// (`ZMQ_EVENT_HANDSHAKE_FAILED_AUTH` with the code).
    Auth(u16),
    /// The mechanism needs a ZAP handler and none is bound (a PLAIN server, or
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`): `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL` with `EFAULT`.
    NoZapHandler,
    /// A frame exceeded `ZMQ_MAXMSGSIZE`.
    MessageTooLarge,
    /// The handshake did not finish within `ZMQ_HANDSHAKE_IVL`.
    HandshakeTimeout,
    /// Heartbeats went unanswered.
    HeartbeatTimeout,
}

impl Failure {
    /// True for failures that happen before the handshake completes.
    pub(crate) fn during_handshake(self) -> bool {
        !matches!(self, Failure::HeartbeatTimeout | Failure::MessageTooLarge)
    }
}

impl From<HandshakeError> for Failure {
    fn from(e: HandshakeError) -> Failure {
        match e {
            HandshakeError::Protocol(code) => Failure::Protocol(code),
            HandshakeError::Auth(status) => Failure::Auth(status),
            HandshakeError::NoZapHandler => Failure::NoZapHandler,
            HandshakeError::PeerError => Failure::PeerError,
        }
    }
}

/// What the connection tells its engine.
#[derive(Debug)]
pub(crate) enum Event {
    /// The handshake succeeded.
    HandshakeDone(PeerInfo),
    /// A message frame (MORE flag set on all but the last frame of a message).
    Message(Msg),
    /// The mechanism asks ZAP (RFC 27) about the peer: send these frames as one multipart
    /// message (MORE on all but the last; the first is the empty delimiter) to the handler
    /// bound at `inproc://zeromq.zap.01`, and pass its reply to
    /// [`Connection::handle_zap_reply`], or call [`Connection::zap_handler_missing`] if nothing
    /// is bound there. The connection reads no further input until then.
    ZapRequest(Vec<Bytes>),
    /// A message frame (or a piece of one) the peer put in its ring, still there:
    /// [`Connection::side_frame`] copies it out when the socket has room for it. Until then
    /// the ring holds it, and the sender waits for room rather than this side piling copies
    /// up; every later frame queues behind it.
    SideFrame(SidePiece),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Handshake,
    Active,
    Failed,
}

/// One ZMTP connection's protocol state.
pub(crate) struct Connection {
    cfg: Config,
    state: State,
    input: BytesMut,
    output: BytesMut,
    /// Frozen output that goes before `output`: large message bodies are queued here by
    /// reference instead of being copied (with the bytes encoded before them).
    queued: VecDeque<Bytes>,
    events: VecDeque<Event>,
    peer_minor: u8,
    handshake_deadline: Option<u64>,
    next_ping: Option<u64>,
    pong_deadline: Option<u64>,
    ttl: Option<u64>,
    ttl_deadline: Option<u64>,
    /// STREAM sockets speak raw bytes: no greeting, no framing.
    raw: bool,
    close_requested: bool,
    /// The mechanism, from the greeting to the end of the handshake.
    mechanism: Option<Mechanism>,
    /// CURVE's message codec once the handshake is done.
    codec: Option<Codec>,
    /// The peer's socket type and routing id, from its READY/INITIATE.
    peer_type: Option<i32>,
    peer_routing_id: Option<Bytes>,
    /// Properties for `PeerInfo::metadata`: the peer's, then ZAP's.
    peer_props: Vec<(String, Bytes)>,
    zap_props: Vec<(String, Bytes)>,
    /// The side channel, when this connection offered it (see [`SIDE_CHANNEL_PROPERTY`]).
    side: Option<Box<dyn SideChannel>>,
    /// Octets of our greeting queued so far: the signature first, the major version once the
    /// peer's signature shows it versioned, the rest once its revision is known.
    greeting_sent: usize,
    /// The framing of a ZMTP 1.0/2.0 peer, from its greeting on.
    legacy: Option<legacy::Framing>,
    /// A 2.0 peer's socket type octet (-1 for 1.0).
    legacy_type: i32,
    /// A PUB/XPUB side owes a 1.0 peer the subscription to everything that peer never sends
    /// (libzmq injects it after the peer's identity).
    phantom_subscription: bool,
    /// The peer said it mapped our ring (`X-SHM-READY`), not yet taken by the session.
    side_ready: bool,
}

/// Octets a peer may send while a ZAP request is pending: at most one command (NULL's READY).
const ZAP_WAIT_INPUT: usize = frame::MAX_COMMAND as usize + 9;

impl Connection {
    /// Starts a connection at time `now`: the greeting is queued for sending.
    pub(crate) fn new(cfg: Config, now: u64) -> Connection {
        let raw = cfg.raw;
        let mut output = BytesMut::with_capacity(8192);
        if !raw {
            // Only the signature: what follows depends on the peer's version.
            let id_len = cfg.routing_id.as_ref().map_or(0, Bytes::len);
            output.extend_from_slice(&legacy::signature(id_len));
        }
        let handshake_deadline = (cfg.handshake_ivl > 0 && !raw).then(|| now + cfg.handshake_ivl);
        let mut events = VecDeque::new();
        if raw {
            events.push_back(Event::HandshakeDone(PeerInfo {
                socket_type: ZMQ_STREAM,
                routing_id: None,
                legacy: false,
                minor: 1,
                metadata: Metadata::default(),
            }));
        }
        Connection {
            cfg,
            state: if raw { State::Active } else { State::Greeting },
            input: BytesMut::with_capacity(8192),
            output,
            queued: VecDeque::new(),
            events,
            peer_minor: 0,
            handshake_deadline,
            next_ping: None,
            pong_deadline: None,
            ttl: None,
            ttl_deadline: None,
            raw,
            close_requested: false,
            mechanism: None,
            codec: None,
            peer_type: None,
            peer_routing_id: None,
            peer_props: Vec::new(),
            zap_props: Vec::new(),
            side: None,
            side_ready: false,
            greeting_sent: if raw {
                GREETING_LEN
            } else {
                legacy::SIGNATURE_LEN
            },
            legacy: None,
            legacy_type: -1,
            phantom_subscription: false,
        }
    }

    /// True once a raw (STREAM) connection was asked to close by an empty frame.
    pub(crate) fn close_requested(&self) -> bool {
        self.close_requested
    }

    /// True once the handshake is done and messages flow.
    pub(crate) fn is_active(&self) -> bool {
        self.state == State::Active
    }

    /// The buffer received bytes are appended to (call [`Connection::process`] after).
    pub(crate) fn input_buffer(&mut self) -> &mut BytesMut {
        &mut self.input
    }

    /// The frame at the front of the input, once its header is in: its length (header and
    /// body) and how many of its octets have not arrived yet; `(0, 0)` before that (and
    /// outside the established framed state). A hint for the size of the next read, so that a
    /// large frame arrives with few reads straight into its buffer.
    pub(crate) fn input_frame(&self) -> (usize, usize) {
        if self.state != State::Active || self.raw {
            return (0, 0);
        }
        let total = match self.legacy {
            Some(framing) => legacy::pending_len(&self.input, framing),
            None => frame::pending_len(&self.input),
        }
        .unwrap_or(0);
        (total, total.saturating_sub(self.input.len()))
    }

    /// True if large frames are decoded into buffers of their own rather than delivered as
    /// slices of the input (CURVE decrypts every body of `curve::OPEN_APART_MIN` octets or
    /// more apart), so the input can be read past a frame's end at no cost.
    pub(crate) fn decodes_apart(&self) -> bool {
        self.codec.is_some()
    }

    /// True if a deadline rides on input arriving (we send heartbeats, or the peer asked for a
    /// TTL): input must then be read as it comes, since any of it proves the peer alive.
    pub(crate) fn watches_liveness(&self) -> bool {
        (self.cfg.heartbeat_ivl > 0 && self.legacy.is_none()) || self.ttl.is_some()
    }

    /// Appends received bytes and processes them.
    #[cfg(test)]
    pub(crate) fn input(&mut self, data: &[u8], now: u64) -> Result<(), Failure> {
        self.input.extend_from_slice(data);
        self.process(now)
    }

    /// The next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Puts back an event just polled, to be polled first again (a side frame the socket has
    /// no room for yet).
    pub(crate) fn unpoll_event(&mut self, event: Event) {
        self.events.push_front(event);
    }

    /// True while events wait to be polled.
    pub(crate) fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Fails the connection; during a ZMTP 3 handshake an ERROR command with `reason` is
    /// queued.
    fn fail(&mut self, why: Failure, reason: &str) -> Result<(), Failure> {
        if self.state == State::Handshake && self.legacy.is_none() {
            frame::encode(&mut self.output, frame::COMMAND, &command::error(reason));
        }
        self.state = State::Failed;
        Err(why)
    }

    /// Processes buffered input received at `now`; every event, messages included, is queued
    /// for [`Connection::poll_event`].
    pub(crate) fn process(&mut self, now: u64) -> Result<(), Failure> {
        self.process_with(now, &mut Err)
    }

    /// Processes buffered input received at `now`, offering each message frame to `sink` as
    /// it is decoded while no other event is queued (a frame `sink` declines, by handing it
    /// back as `Err`, and every event after it are queued for [`Connection::poll_event`] instead), so
    /// that drained in that order, events keep the order of the stream. Drain
    /// [`Connection::poll_event`] afterwards as after [`Connection::process`].
    ///
    /// Data frames of up to [`COPY_MAX`] octets are copied into their `Msg` (inline or a slab
    /// slot, no allocation); larger ones are slices of the receive buffer, without copying.
    pub(crate) fn process_with(
        &mut self,
        now: u64,
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) -> Result<(), Failure> {
        if self.state == State::Failed {
            return Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED));
        }
        if !self.input.is_empty() && self.ttl.is_some() {
            self.ttl_deadline = self.ttl.map(|t| now + t);
        }
        if !self.input.is_empty() {
            self.pong_deadline = None;
        }
        if self.raw {
            if !self.input.is_empty() {
                let chunk = self.input.split().freeze();
                self.events
                    .push_back(Event::Message(Msg::from_bytes(chunk)));
            }
            return Ok(());
        }
        if self.state == State::Greeting && !self.read_greeting()? && self.legacy.is_none() {
            return Ok(());
        }
        let max = u64::try_from(self.cfg.maxmsgsize).ok();
        if let Some(framing) = self.legacy {
            return self.process_legacy(framing, max, sink);
        }
        loop {
            if self.state == State::Failed {
                return Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED));
            }
            if self.state == State::Active && self.codec.is_none() {
                self.decode_data(max, sink);
            }
            if self.awaiting_zap() {
                // The peer has nothing to send until we answer; hold its input (bounded).
                if self.input.len() > ZAP_WAIT_INPUT {
                    return self.fail(
                        Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                        "Unexpected command",
                    );
                }
                return Ok(());
            }
            let (flags, body) = match frame::decode_mut(&mut self.input, max) {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(frame::FrameError::TooLarge) => {
                    return self.fail(Failure::MessageTooLarge, "Message too large");
                }
                Err(frame::FrameError::ReservedFlags) => {
                    return self.fail(
                        Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED),
                        "Invalid frame",
                    );
                }
            };
            match self.state {
                State::Active if self.codec.is_some() => self.curve_frame(body, now, sink)?,
                State::Active if flags & frame::COMMAND != 0 => {
                    self.command(&body.freeze(), now, sink)?;
                }
                State::Active => self.push_message(body, flags & frame::MORE != 0, sink),
                _ if flags & frame::COMMAND != 0 => self.handshake_command(&body.freeze(), now)?,
                _ => {
                    return self.fail(
                        Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                        "Expected a command",
                    );
                }
            }
        }
    }

    /// The earliest time [`Connection::handle_timeout`] must be called, if any.
    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        crate::util::earliest([
            self.handshake_deadline,
            self.next_ping,
            self.pong_deadline,
            self.ttl_deadline,
        ])
    }

    /// Handles timers due at `now`: handshake timeout, PING sending, heartbeat expiry.
    pub(crate) fn handle_timeout(&mut self, now: u64) -> Result<(), Failure> {
        if self.handshake_deadline.is_some_and(|d| now >= d) {
            self.state = State::Failed;
            return Err(Failure::HandshakeTimeout);
        }
        if self.pong_deadline.is_some_and(|d| now >= d)
            || self.ttl_deadline.is_some_and(|d| now >= d)
        {
            self.state = State::Failed;
            return Err(Failure::HeartbeatTimeout);
        }
        if let Some(p) = self.next_ping
            && now >= p
        {
            let ttl = u16::try_from(self.cfg.heartbeat_ttl / 100).unwrap_or(u16::MAX);
            self.emit(frame::COMMAND, &[&command::ping(ttl, b"")]);
            self.next_ping = Some(now + self.cfg.heartbeat_ivl);
            if self.pong_deadline.is_none() {
                let timeout = self.cfg.heartbeat_timeout.unwrap_or(self.cfg.heartbeat_ivl);
                self.pong_deadline = Some(now + timeout);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod legacy_tests;
#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;
