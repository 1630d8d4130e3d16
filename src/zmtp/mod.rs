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
#![forbid(unsafe_code)]

pub(crate) mod command;
pub(crate) mod frame;
pub(crate) mod legacy;
mod old_peer;
#[cfg(feature = "testing")]
pub mod testing_api;

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::consts::*;
use crate::mechanism::curve::{self, Codec};
use crate::mechanism::{self, HandshakeError, Local, Mechanism, Out};
use crate::msg::{Metadata, Msg};

pub(crate) use crate::mechanism::Settings as Security;

/// Message bodies at least this large are written from the message itself, not copied.
const ZERO_COPY_MIN: usize = 8 * 1024;

/// Received data frames up to this size are copied into their `Msg` (inline or into a slab
/// slot of the I/O thread's); larger ones share the receive buffer (see
/// [`Connection::process_with`]). Sharing costs the buffer's reference count an increment
/// here and a decrement on the socket's thread per frame, on one cache line both threads
/// write; copying a small frame costs less than that line moving between cores.
pub(crate) const COPY_MAX: usize = 256;

/// The READY property by which a connection offers the shared-memory side channel (both
/// ends must offer it; libzmq never does): the sender announces its ring (`X-SHM-RING`), and
/// once the peer answers that it mapped it (`X-SHM-READY`: a peer that merely claimed the
/// property, and ignores commands it does not know, never does), `X-SHM-FRAME` commands
/// carry large frames through it, whole or in pieces (see `session::side`; the property's
/// value is the version of these commands).
pub(crate) const SIDE_CHANNEL_PROPERTY: &str = "X-ZmqRs-Shm";

/// Where a connection that offered the side channel gets the frames the peer put in its
/// ring. The session implements it over `sys::shm`; the protocol core only calls it.
pub(crate) trait SideChannel: Send {
    /// Takes a descriptor that came with the stream (the ring and its bell, at or before
    /// their announcement).
    fn add_fd(&mut self, fd: std::os::fd::OwnedFd);
    /// The peer announced its ring of `capacity` octets; false if it cannot be used.
    fn open(&mut self, capacity: u64) -> bool;
    /// True if `len` octets at absolute position `pos` can lie in the ring (one is open, and
    /// they are within it).
    fn holds(&self, pos: u64, len: usize) -> bool;
    /// Copies `piece` out of the ring (the room it took is given back to the peer).
    fn piece(&mut self, piece: SidePiece) -> Copied;
}

/// A frame, or the next piece of one, that the peer put in its ring (`X-SHM-FRAME`): `len`
/// octets at absolute position `pos`, of a frame `total` octets long (all of it when equal).
/// A frame larger than half the ring comes in pieces, so that the sender fills one while the
/// receiver copies out the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SidePiece {
    pub(crate) more: bool,
    pub(crate) pos: u64,
    pub(crate) len: usize,
    pub(crate) total: usize,
}

/// What [`SideChannel::piece`] made of a piece.
#[derive(Debug)]
pub(crate) enum Copied {
    /// The frame's last piece: the whole frame.
    Frame(Msg),
    /// A piece of a frame not complete yet.
    Partial,
    /// Not readable: no ring, outside it, or not the continuation of the frame under way.
    Refused,
}

/// Length of the ZMTP 3 greeting.
pub(crate) const GREETING_LEN: usize = 64;

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

/// The ZMTP name of a socket type.
pub(crate) fn socket_type_name(t: i32) -> &'static str {
    match t {
        ZMQ_PAIR => "PAIR",
        ZMQ_PUB => "PUB",
        ZMQ_SUB => "SUB",
        ZMQ_REQ => "REQ",
        ZMQ_REP => "REP",
        ZMQ_DEALER => "DEALER",
        ZMQ_ROUTER => "ROUTER",
        ZMQ_PULL => "PULL",
        ZMQ_PUSH => "PUSH",
        ZMQ_XPUB => "XPUB",
        ZMQ_XSUB => "XSUB",
        ZMQ_STREAM => "STREAM",
        _ => "",
    }
}

fn socket_type_from_name(name: &[u8]) -> Option<i32> {
    (ZMQ_PAIR..=ZMQ_STREAM).find(|&t| socket_type_name(t).as_bytes() == name)
}

/// RFC 23's compatibility table.
pub(crate) fn compatible(ours: i32, peer: i32) -> bool {
    let ok: &[i32] = match ours {
        ZMQ_PAIR => &[ZMQ_PAIR],
        ZMQ_PUB | ZMQ_XPUB => &[ZMQ_SUB, ZMQ_XSUB],
        ZMQ_SUB | ZMQ_XSUB => &[ZMQ_PUB, ZMQ_XPUB],
        ZMQ_REQ => &[ZMQ_REP, ZMQ_ROUTER],
        ZMQ_REP => &[ZMQ_REQ, ZMQ_DEALER],
        ZMQ_DEALER => &[ZMQ_REP, ZMQ_DEALER, ZMQ_ROUTER],
        ZMQ_ROUTER => &[ZMQ_REQ, ZMQ_DEALER, ZMQ_ROUTER],
        ZMQ_PULL => &[ZMQ_PUSH],
        ZMQ_PUSH => &[ZMQ_PULL],
        _ => &[],
    };
    ok.contains(&peer)
}

/// Our ZMTP 3 greeting for an anonymous side: signature, version 3.1, the mechanism's name,
/// and as-server (set for PLAIN and CURVE servers; libzmq 4.3 always sends 0 and ignores the
/// peer's, so it is not checked). The signature's padding carries the identity's length plus
/// one ([`legacy::signature`]); octets from the version on are the same for every identity.
pub(crate) fn greeting(security: &Security) -> [u8; GREETING_LEN] {
    let mut g = [0u8; GREETING_LEN];
    g[..legacy::SIGNATURE_LEN].copy_from_slice(&legacy::signature(0));
    g[10] = 3;
    g[11] = 1;
    g[12..32].copy_from_slice(&security.mechanism.greeting_field());
    g[32] = u8::from(security.as_server && security.mechanism != mechanism::Kind::Null);
    g
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

    /// Accepts `X-SHM-*` commands from the peer, served by `side` (the session offers the
    /// channel in its READY through [`Config::metadata`]). Without it they fail the
    /// connection.
    pub(crate) fn set_side_channel(&mut self, side: Box<dyn SideChannel>) {
        self.side = Some(side);
    }

    /// The side channel, to hand it descriptors received with the stream.
    pub(crate) fn side_channel(&mut self) -> Option<&mut (dyn SideChannel + 'static)> {
        self.side.as_deref_mut()
    }

    /// True once after the peer said it mapped our ring (`X-SHM-READY`): frames may go
    /// through it from now on.
    pub(crate) fn take_side_ready(&mut self) -> bool {
        std::mem::take(&mut self.side_ready)
    }

    /// Queues the announcement of our ring of `capacity` octets (the session passes its
    /// descriptor with the stream, at or before these octets). Only to a peer that offered
    /// the side channel, once active.
    pub(crate) fn send_side_ring(&mut self, capacity: u64) {
        self.emit(frame::COMMAND, &[&command::side_ring(capacity)]);
    }

    /// Queues a message frame, or a piece of one, that the session put in our ring.
    pub(crate) fn send_side_frame(&mut self, piece: SidePiece) {
        let body = command::side_frame(piece.more, piece.pos, piece.len as u64, piece.total as u64);
        self.emit(frame::COMMAND, &[&body]);
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

    /// Bytes waiting to be sent; the engine removes what it wrote (`advance`).
    #[cfg(any(test, fuzzing, feature = "testing"))]
    pub(crate) fn output(&mut self) -> &mut BytesMut {
        self.flatten_output();
        &mut self.output
    }

    #[cfg(any(test, fuzzing, feature = "testing"))]
    fn flatten_output(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let mut all = BytesMut::with_capacity(self.output_len());
        for q in self.queued.drain(..) {
            all.extend_from_slice(&q);
        }
        all.extend_from_slice(&self.output);
        self.output = all;
    }

    /// Bytes waiting to be sent.
    pub(crate) fn output_len(&self) -> usize {
        self.queued.iter().map(Bytes::len).sum::<usize>() + self.output.len()
    }

    /// Fills `dst` with the waiting bytes, in order, for a vectored write, at most `limit`
    /// octets of them (0 = no limit); returns how many slices were used. Call
    /// [`Connection::consume_output`] with what was written.
    pub(crate) fn output_slices<'a>(
        &'a self,
        dst: &mut [std::io::IoSlice<'a>],
        limit: usize,
    ) -> usize {
        let mut n = 0;
        let mut left = if limit == 0 { usize::MAX } else { limit };
        let parts = self
            .queued
            .iter()
            .map(|b| &b[..])
            .chain(std::iter::once(&self.output[..]));
        for part in parts.filter(|p| !p.is_empty()) {
            if left == 0 {
                break;
            }
            let Some(slot) = dst.get_mut(n) else {
                break;
            };
            let part = &part[..part.len().min(left)];
            left -= part.len();
            *slot = std::io::IoSlice::new(part);
            n += 1;
        }
        n
    }

    /// Drops the first `n` waiting bytes (they were written).
    pub(crate) fn consume_output(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.queued.front_mut() else {
                break;
            };
            if front.len() > n {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.queued.pop_front();
        }
        let n = n.min(self.output.len());
        self.output.advance(n);
    }

    /// Queues a large body by reference after what is already waiting.
    fn queue_body(&mut self, body: Bytes) {
        if !self.output.is_empty() {
            self.queued.push_back(self.output.split().freeze());
        }
        self.queued.push_back(body);
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

    /// Copies out the side frame or piece of an [`Event::SideFrame`], giving its room back to
    /// the peer: the frame once complete, `None` after a piece that does not complete it. One
    /// that cannot be read fails the connection.
    pub(crate) fn side_frame(&mut self, piece: SidePiece) -> Result<Option<Msg>, Failure> {
        match self.side.as_mut().map(|s| s.piece(piece)) {
            Some(Copied::Frame(mut msg)) => {
                msg.set_more(piece.more);
                Ok(Some(msg))
            }
            Some(Copied::Partial) => Ok(None),
            Some(Copied::Refused) | None => self
                .fail(
                    Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                    "Unexpected command",
                )
                .map(|()| None),
        }
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

    fn awaiting_zap(&self) -> bool {
        self.state == State::Handshake && self.mechanism.as_ref().is_some_and(|m| m.awaiting_zap())
    }

    /// Hands `msg` to `sink`, or queues it when an event is already waiting (or `sink`
    /// declines it).
    fn deliver(&mut self, msg: Msg, sink: &mut impl FnMut(Msg) -> Result<(), Msg>) {
        if !self.events.is_empty() {
            self.events.push_back(Event::Message(msg));
            return;
        }
        if let Err(m) = sink(msg) {
            self.events.push_back(Event::Message(m));
        }
    }

    /// Delivers one message frame; small bodies are copied so the receive buffer is not held.
    fn push_message(
        &mut self,
        body: BytesMut,
        more: bool,
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) {
        let mut msg = if body.len() <= COPY_MAX {
            Msg::copy_from(&body)
        } else {
            Msg::from_bytes(body.freeze())
        };
        msg.set_more(more);
        self.deliver(msg, sink);
    }

    /// The fast path of an established connection without CURVE: takes all the complete data
    /// frames at the front of the input at once (one header scan, then one `split_to` for
    /// all of them when any must be shared, else one `advance`) and gives them to `sink`.
    /// Stops before anything else (a command, an incomplete frame, an invalid or oversized
    /// header), which the general path then decodes or reports.
    fn decode_data(&mut self, max: Option<u64>, sink: &mut impl FnMut(Msg) -> Result<(), Msg>) {
        if !self.events.is_empty() {
            return;
        }
        let mut end = 0usize;
        let mut shared = false;
        while let Some((_, header, size)) =
            self.input.get(end..).and_then(|b| frame::peek_data(b, max))
        {
            end += header + size;
            shared |= size > COPY_MAX;
        }
        if end == 0 {
            return;
        }
        // Shared bodies are slices of one frozen chunk; small ones are copied into their Msg.
        let chunk = shared.then(|| self.input.split_to(end).freeze());
        let mut declined: Vec<Msg> = Vec::new();
        {
            let view: &[u8] = match &chunk {
                Some(c) => c,
                None => self.input.get(..end).unwrap_or_default(),
            };
            let mut at = 0usize;
            while let Some((flags, header, size)) =
                view.get(at..).and_then(|b| frame::peek_data(b, None))
            {
                let start = at + header;
                at = start + size;
                let mut msg = match &chunk {
                    Some(c) if size > COPY_MAX => Msg::from_bytes(c.slice(start..at)),
                    _ => Msg::copy_from(view.get(start..at).unwrap_or_default()),
                };
                msg.set_more(flags & frame::MORE != 0);
                if !declined.is_empty() {
                    declined.push(msg);
                } else if let Err(m) = sink(msg) {
                    declined.push(m);
                }
            }
        }
        if chunk.is_none() {
            self.input.advance(end);
        }
        self.events.extend(declined.into_iter().map(Event::Message));
    }

    /// One frame of an established CURVE connection: an encrypted MESSAGE carrying a message
    /// frame or a command.
    fn curve_frame(
        &mut self,
        body: BytesMut,
        now: u64,
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) -> Result<(), Failure> {
        let Some(codec) = self.codec.as_mut() else {
            return Ok(());
        };
        let (flags, data) = match codec.open(body) {
            Ok(opened) => opened,
            Err(e) => {
                self.state = State::Failed;
                return Err(e.into());
            }
        };
        if flags & curve::FLAG_COMMAND != 0 {
            self.command(&data.freeze(), now, sink)
        } else {
            self.push_message(data, flags & curve::FLAG_MORE != 0, sink);
            Ok(())
        }
    }

    /// Reads the peer's greeting as far as it has come, sending the parts of ours that its
    /// version calls for (RFC 23 "Version Negotiation"); true once a ZMTP 3 greeting is in
    /// and the mechanism started. A 1.0/2.0 peer switches the connection to its framing.
    fn read_greeting(&mut self) -> Result<bool, Failure> {
        let revision = match legacy::classify(&self.input) {
            legacy::Greeting::Incomplete => return Ok(false),
            legacy::Greeting::Unversioned => return self.old_peer(None).map(|()| false),
            legacy::Greeting::Versioned(revision) => revision,
        };
        if self.greeting_sent == legacy::SIGNATURE_LEN {
            self.output.put_u8(3);
            self.greeting_sent += 1;
        }
        let Some(revision) = revision else {
            return Ok(false);
        };
        if revision < 2 {
            if self.refuses_old_peers() {
                // Before our socket type goes out, as libzmq closes at once.
                return self.old_peer(Some(revision)).map(|()| false);
            }
            if self.greeting_sent == legacy::SIGNATURE_LEN + 1 {
                // Our socket type; libzmq sends its ZMQ_* number.
                self.output
                    .put_u8(u8::try_from(self.cfg.socket_type).unwrap_or(0));
                self.greeting_sent = legacy::V2_GREETING_LEN;
            }
            let Some(&peer_type) = self.input.get(legacy::V2_GREETING_LEN - 1) else {
                return Ok(false);
            };
            self.input.advance(legacy::V2_GREETING_LEN);
            self.legacy_type = i32::from(peer_type);
            return self.old_peer(Some(revision)).map(|()| false);
        }
        if self.greeting_sent == legacy::SIGNATURE_LEN + 1 {
            let g = greeting(&self.cfg.security);
            self.output
                .extend_from_slice(g.get(legacy::SIGNATURE_LEN + 1..).unwrap_or_default());
            self.greeting_sent = GREETING_LEN;
        }
        if self.input.len() < GREETING_LEN {
            return Ok(false);
        }
        let g = self.input.split_to(GREETING_LEN);
        self.peer_minor = if g[10] > 3 { 1 } else { g[11].min(1) };
        self.state = State::Handshake;
        // The whole 20-octet field must match, NUL padding included (as libzmq compares it).
        if g[12..32] != self.cfg.security.mechanism.greeting_field() {
            return self
                .fail(Failure::MechanismMismatch, "Mechanism mismatch")
                .map(|_| false);
        }
        let id = self.cfg.routing_id.clone().unwrap_or_default();
        let mut props: Vec<(&str, &[u8])> = vec![(
            "Socket-Type",
            socket_type_name(self.cfg.socket_type).as_bytes(),
        )];
        // Announced for every socket type (durable peers are recognised by it).
        if !id.is_empty() {
            props.push(("Identity", &id));
        }
        for (name, value) in &self.cfg.metadata {
            props.push((name.as_str(), value.as_slice()));
        }
        let local = Local {
            properties: mechanism::metadata::encode(&props),
            routing_id: id.clone(),
        };
        let mut m = Mechanism::new(&self.cfg.security, local);
        let mut outs = Vec::new();
        let r = m.start(&mut outs);
        self.mechanism = Some(m);
        self.step(r, outs)?;
        Ok(true)
    }

    /// One handshake command for the mechanism.
    fn handshake_command(&mut self, body: &Bytes, now: u64) -> Result<(), Failure> {
        let Some(m) = self.mechanism.as_mut() else {
            return self.fail(
                Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED),
                "Unexpected command",
            );
        };
        let mut outs = Vec::new();
        let r = m.command(body, &mut outs);
        self.step(r, outs)?;
        self.check_ready(now);
        Ok(())
    }

    /// Carries out what a mechanism step asked for, or fails the connection (still sending the
    /// ERROR command the mechanism queued, if any).
    fn step(&mut self, r: Result<(), HandshakeError>, outs: Vec<Out>) -> Result<(), Failure> {
        if let Err(e) = r {
            for out in outs {
                if let Out::Command(body) = out {
                    frame::encode(&mut self.output, frame::COMMAND, &body);
                }
            }
            self.state = State::Failed;
            return Err(e.into());
        }
        for out in outs {
            match out {
                Out::Command(body) => frame::encode(&mut self.output, frame::COMMAND, &body),
                Out::ZapRequest(frames) => self.events.push_back(Event::ZapRequest(frames)),
                Out::PeerProperties(props) => self.peer_properties(props)?,
                Out::ZapProperties(props) => self.zap_props = props,
            }
        }
        Ok(())
    }

    /// Checks and keeps the peer's READY/INITIATE properties.
    fn peer_properties(&mut self, props: Vec<(String, Bytes)>) -> Result<(), Failure> {
        let find = |n: &str| {
            props
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let Some(peer_type) = find("Socket-Type").and_then(|t| socket_type_from_name(&t)) else {
            return self.fail(
                Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA),
                "Invalid Socket-Type",
            );
        };
        if !compatible(self.cfg.socket_type, peer_type) {
            return self.fail(Failure::IncompatibleSocketType, "Invalid socket type");
        }
        self.peer_type = Some(peer_type);
        self.peer_routing_id = find("Identity").filter(|id| !id.is_empty());
        self.peer_props = props;
        Ok(())
    }

    /// Ends the handshake once the mechanism is done.
    fn check_ready(&mut self, now: u64) {
        if self.state != State::Handshake || !self.mechanism.as_ref().is_some_and(|m| m.is_ready())
        {
            return;
        }
        let (Some(m), Some(peer_type)) = (self.mechanism.take(), self.peer_type) else {
            return;
        };
        self.codec = m.into_codec();
        let mut metadata = Metadata::from_pairs(std::mem::take(&mut self.peer_props));
        for (k, v) in std::mem::take(&mut self.zap_props) {
            metadata.insert(&k, &v);
        }
        self.state = State::Active;
        self.handshake_deadline = None;
        if self.cfg.heartbeat_ivl > 0 {
            self.next_ping = Some(now + self.cfg.heartbeat_ivl);
        }
        self.events.push_back(Event::HandshakeDone(PeerInfo {
            socket_type: peer_type,
            routing_id: self.peer_routing_id.take(),
            legacy: false,
            minor: self.peer_minor,
            metadata,
        }));
    }

    /// Gives the ZAP handler's reply (its frames, the empty delimiter first) to the
    /// connection's pending [`Event::ZapRequest`], then processes any input held meanwhile.
    /// Drain [`Connection::poll_event`] and write out [`Connection::output`] afterwards.
    pub(crate) fn handle_zap_reply(&mut self, frames: &[Bytes], now: u64) -> Result<(), Failure> {
        self.zap_answer(now, |m, outs| m.zap_reply(frames, outs))
    }

    /// Says that no ZAP handler is bound for the pending [`Event::ZapRequest`]: NULL and CURVE
    /// go on unauthenticated (unless `ZMQ_ZAP_ENFORCE_DOMAIN`), PLAIN fails with
    /// [`Failure::NoZapHandler`], as libzmq 4.3 does. Then as
    /// [`Connection::handle_zap_reply`].
    pub(crate) fn zap_handler_missing(&mut self, now: u64) -> Result<(), Failure> {
        self.zap_answer(now, |m, outs| m.zap_unavailable(outs))
    }

    fn zap_answer(
        &mut self,
        now: u64,
        f: impl FnOnce(&mut Mechanism, &mut Vec<Out>) -> Result<(), HandshakeError>,
    ) -> Result<(), Failure> {
        if self.state == State::Failed {
            return Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED));
        }
        let Some(m) = self.mechanism.as_mut().filter(|m| m.awaiting_zap()) else {
            self.state = State::Failed;
            return Err(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED));
        };
        let mut outs = Vec::new();
        let r = f(m, &mut outs);
        self.step(r, outs)?;
        self.check_ready(now);
        self.process(now)
    }

    /// A command after the handshake (RFC 37 heartbeats and subscriptions).
    fn command(
        &mut self,
        body: &Bytes,
        now: u64,
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) -> Result<(), Failure> {
        let Ok(cmd) = command::parse(body) else {
            return self.fail(
                Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
                "Malformed command",
            );
        };
        match cmd {
            command::Command::Error(_) => {
                self.state = State::Failed;
                Err(Failure::PeerError)
            }
            command::Command::Ping { ttl, context } => {
                self.emit(frame::COMMAND, &[&command::pong(&context)]);
                if ttl > 0 {
                    self.ttl = Some(u64::from(ttl) * 100);
                    self.ttl_deadline = Some(now + u64::from(ttl) * 100);
                }
                Ok(())
            }
            command::Command::Pong(_) => Ok(()),
            command::Command::Subscribe(topic) => {
                self.push_subscription(1, &topic, sink);
                Ok(())
            }
            command::Command::Cancel(topic) => {
                self.push_subscription(0, &topic, sink);
                Ok(())
            }
            command::Command::SideRing(capacity) => {
                if self.side.as_mut().is_some_and(|s| s.open(capacity)) {
                    self.emit(frame::COMMAND, &[&command::side_ready()]);
                    return Ok(());
                }
                self.fail(
                    Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                    "Unexpected command",
                )
            }
            command::Command::SideReady => {
                self.side_ready = self.side.is_some();
                Ok(())
            }
            command::Command::SideFrame {
                more,
                pos,
                len,
                total,
            } => {
                if u64::try_from(self.cfg.maxmsgsize).is_ok_and(|max| total > max) {
                    return self.fail(Failure::MessageTooLarge, "Message too large");
                }
                let side = self.side.as_ref();
                let piece = usize::try_from(len)
                    .ok()
                    .zip(usize::try_from(total).ok())
                    .filter(|&(len, total)| {
                        len > 0 && len <= total && side.is_some_and(|s| s.holds(pos, len))
                    })
                    .map(|(len, total)| SidePiece {
                        more,
                        pos,
                        len,
                        total,
                    });
                let Some(piece) = piece else {
                    return self.fail(
                        Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                        "Unexpected command",
                    );
                };
                self.events.push_back(Event::SideFrame(piece));
                Ok(())
            }
            command::Command::Unknown => Ok(()),
            command::Command::Ready(_) => self.fail(
                Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                "Unexpected command",
            ),
        }
    }

    /// Queues one frame: in the clear, or as an encrypted MESSAGE once CURVE is established.
    fn emit(&mut self, flags: u8, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let Some(codec) = self.codec.as_mut() else {
            frame::encode_header(&mut self.output, flags, len);
            for p in parts {
                self.output.extend_from_slice(p);
            }
            return;
        };
        let Some(nonce) = codec.take_nonce() else {
            // Nonces are used up: never reuse one; the next call reports the failure.
            self.state = State::Failed;
            return;
        };
        let mut inner = 0;
        if flags & frame::MORE != 0 {
            inner |= curve::FLAG_MORE;
        }
        if flags & frame::COMMAND != 0 {
            inner |= curve::FLAG_COMMAND;
        }
        // libzmq sends MESSAGE as a plain data frame; MORE travels inside the box.
        frame::encode_header(&mut self.output, 0, Codec::sealed_len(len));
        codec.seal_into(&mut self.output, nonce, inner, parts);
    }

    fn push_subscription(
        &mut self,
        kind: u8,
        topic: &[u8],
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) {
        let mut v = Vec::with_capacity(topic.len() + 1);
        v.push(kind);
        v.extend_from_slice(topic);
        self.deliver(Msg::copy_from(&v), sink);
    }

    /// Queues one message frame for sending (only once active). Subscription messages from
    /// SUB/XSUB sockets go to ZMTP 3.1 peers as SUBSCRIBE/CANCEL commands.
    pub(crate) fn send(&mut self, msg: &Msg, subscription_source: bool) {
        let data = msg.data();
        if self.raw {
            if data.is_empty() {
                self.close_requested = true;
            } else if data.len() >= ZERO_COPY_MIN {
                self.queue_body(msg.bytes());
            } else {
                self.output.extend_from_slice(data);
            }
            return;
        }
        if let Some(framing) = self.legacy {
            // Old peers take subscriptions as the messages they are.
            if data.len() >= ZERO_COPY_MIN {
                legacy::encode_header(&mut self.output, framing, msg.more(), data.len());
                self.queue_body(msg.bytes());
            } else {
                legacy::encode(&mut self.output, framing, msg.more(), data);
            }
            return;
        }
        if subscription_source
            && self.peer_minor >= 1
            && !msg.more()
            && let Some((&kind, topic)) = data.split_first()
            && kind <= 1
        {
            let body = command::subscription(kind == 1, topic);
            self.emit(frame::COMMAND, &[&body]);
            return;
        }
        let flags = if msg.more() { frame::MORE } else { 0 };
        if self.codec.is_none() {
            if data.len() >= ZERO_COPY_MIN {
                frame::encode_header(&mut self.output, flags, data.len());
                self.queue_body(msg.bytes());
            } else {
                frame::encode(&mut self.output, flags, data);
            }
            return;
        }
        self.emit(flags, &[data]);
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
