//! The sans-IO ZMTP 3.x protocol core (RFC 23 ZMTP 3.0, RFC 37 ZMTP 3.1) with the NULL
//! mechanism: bytes in, bytes and events out, time passed in.
//!
//! Layer L0: no sockets, no clock, no threads. The engine feeds received bytes to
//! [`Connection::input`] (and reads into [`Connection::input_buffer`]), takes bytes to send from
//! [`Connection::output`], drains [`Connection::poll_event`] after every input, queues
//! outgoing frames with [`Connection::send`], and calls [`Connection::handle_timeout`] at
//! [`Connection::poll_timeout`]. Times are milliseconds on the caller's monotonic clock.
//!
//! Handshake: both sides send the 64-octet greeting (signature, version 3.1, mechanism "NULL",
//! as-server), then READY with `Socket-Type` (and `Identity` when the socket has a routing id);
//! the peer's socket type must be compatible (RFC 23 table) or the connection fails with an
//! ERROR command. After that, data frames become [`Event::Message`]s; SUBSCRIBE/CANCEL commands
//! become the 0x01/0x00-prefixed messages the pub/sub patterns expect; PING is answered with PONG.
#![forbid(unsafe_code)]

pub(crate) mod command;
pub(crate) mod frame;

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::consts::*;
use crate::msg::{Metadata, Msg};

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
}

/// What the handshake learned about the peer.
#[derive(Clone, Debug)]
pub(crate) struct PeerInfo {
    /// The peer's socket type.
    #[cfg_attr(not(test), allow(dead_code, reason = "kept for STREAM/PEER patterns"))]
    pub(crate) socket_type: i32,
    /// The routing id the peer announced (empty = none).
    pub(crate) routing_id: Option<Bytes>,
    /// The peer's ZMTP minor version (0 = 3.0, 1 = 3.1).
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "kept for the 3.0 subscription format")
    )]
    pub(crate) minor: u8,
    /// All READY properties, for `zmq_msg_gets`.
    pub(crate) metadata: Metadata,
}

/// Why a connection failed; the engine reports it through the monitor and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Malformed greeting, frame or command (a `ZMQ_PROTOCOL_ERROR_ZMTP_*` code).
    Protocol(i32),
    /// The peer speaks a ZMTP version older than 3.0.
    UnsupportedVersion,
    /// The peer's socket type cannot talk to ours.
    IncompatibleSocketType,
    /// The peer uses another security mechanism.
    MechanismMismatch,
    /// The peer sent an ERROR command.
    PeerError,
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

/// What the connection tells its engine.
#[derive(Debug)]
pub(crate) enum Event {
    /// The handshake succeeded.
    HandshakeDone(PeerInfo),
    /// A message frame (MORE flag set on all but the last frame of a message).
    Message(Msg),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Ready,
    Active,
    Failed,
}

/// One ZMTP connection's protocol state.
pub(crate) struct Connection {
    cfg: Config,
    state: State,
    input: BytesMut,
    output: BytesMut,
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

fn greeting(as_server: bool) -> [u8; GREETING_LEN] {
    let mut g = [0u8; GREETING_LEN];
    g[0] = 0xff;
    g[8] = 1;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    g[12..16].copy_from_slice(b"NULL");
    g[32] = u8::from(as_server);
    g
}

impl Connection {
    /// Starts a connection at time `now`: the greeting is queued for sending.
    pub(crate) fn new(cfg: Config, now: u64) -> Connection {
        let raw = cfg.raw;
        let mut output = BytesMut::with_capacity(8192);
        if !raw {
            output.extend_from_slice(&greeting(false));
        }
        let handshake_deadline = (cfg.handshake_ivl > 0 && !raw).then(|| now + cfg.handshake_ivl);
        let mut events = VecDeque::new();
        if raw {
            events.push_back(Event::HandshakeDone(PeerInfo {
                socket_type: ZMQ_STREAM,
                routing_id: None,
                minor: 1,
                metadata: Metadata::default(),
            }));
        }
        Connection {
            cfg,
            state: if raw { State::Active } else { State::Greeting },
            input: BytesMut::with_capacity(8192),
            output,
            events,
            peer_minor: 0,
            handshake_deadline,
            next_ping: None,
            pong_deadline: None,
            ttl: None,
            ttl_deadline: None,
            raw,
            close_requested: false,
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

    /// Appends received bytes and processes them.
    #[cfg(test)]
    pub(crate) fn input(&mut self, data: &[u8], now: u64) -> Result<(), Failure> {
        self.input.extend_from_slice(data);
        self.process(now)
    }

    /// Bytes waiting to be sent; the engine removes what it wrote (`advance`).
    pub(crate) fn output(&mut self) -> &mut BytesMut {
        &mut self.output
    }

    /// The next event, if any.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn fail(&mut self, why: Failure, reason: &str) -> Result<(), Failure> {
        if self.state != State::Failed && matches!(self.state, State::Ready) {
            frame::encode(&mut self.output, frame::COMMAND, &command::error(reason));
        }
        self.state = State::Failed;
        Err(why)
    }

    /// Processes buffered input received at `now`.
    pub(crate) fn process(&mut self, now: u64) -> Result<(), Failure> {
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
        if self.state == State::Greeting && !self.read_greeting()? {
            return Ok(());
        }
        let max = u64::try_from(self.cfg.maxmsgsize).ok();
        loop {
            let f = match frame::decode(&mut self.input, max) {
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
            if f.flags & frame::COMMAND != 0 {
                self.command(&f.body, now)?;
            } else if self.state == State::Active {
                let mut msg = if f.body.len() <= crate::msg::INLINE_CAP {
                    Msg::copy_from(&f.body)
                } else {
                    Msg::from_bytes(f.body)
                };
                msg.set_more(f.flags & frame::MORE != 0);
                self.events.push_back(Event::Message(msg));
            } else {
                return self.fail(
                    Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                    "Expected READY",
                );
            }
        }
    }

    fn read_greeting(&mut self) -> Result<bool, Failure> {
        // Reject non-ZMTP-3 peers as soon as the first bytes show it.
        if self.input.first().is_some_and(|&b| b != 0xff) {
            return self.fail(Failure::UnsupportedVersion, "").map(|_| false);
        }
        if self.input.len() >= 10 && self.input[9] & 1 == 0 {
            return self.fail(Failure::UnsupportedVersion, "").map(|_| false);
        }
        if self.input.len() >= 11 && self.input[10] < 3 {
            return self.fail(Failure::UnsupportedVersion, "").map(|_| false);
        }
        if self.input.len() < GREETING_LEN {
            return Ok(false);
        }
        let g = self.input.split_to(GREETING_LEN);
        self.peer_minor = if g[10] > 3 { 1 } else { g[11].min(1) };
        let mechanism = &g[12..32];
        let end = mechanism.iter().position(|&b| b == 0).unwrap_or(20);
        if &mechanism[..end] != b"NULL" {
            self.state = State::Ready;
            return self
                .fail(Failure::MechanismMismatch, "Mechanism mismatch")
                .map(|_| false);
        }
        self.state = State::Ready;
        let mut props: Vec<(&str, &[u8])> = vec![(
            "Socket-Type",
            socket_type_name(self.cfg.socket_type).as_bytes(),
        )];
        let id = self.cfg.routing_id.clone();
        // Announced for every socket type (durable peers are recognised by it).
        if let Some(id) = &id {
            props.push(("Identity", id));
        }
        frame::encode(&mut self.output, frame::COMMAND, &command::ready(&props));
        Ok(true)
    }

    fn command(&mut self, body: &Bytes, now: u64) -> Result<(), Failure> {
        let Ok(cmd) = command::parse(body) else {
            return self.fail(
                Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
                "Malformed command",
            );
        };
        match (self.state, cmd) {
            (State::Ready, command::Command::Ready(props)) => self.peer_ready(props, now),
            (_, command::Command::Error(_)) => {
                self.state = State::Failed;
                Err(Failure::PeerError)
            }
            (State::Active, command::Command::Ping { ttl, context }) => {
                frame::encode(&mut self.output, frame::COMMAND, &command::pong(&context));
                if ttl > 0 {
                    self.ttl = Some(u64::from(ttl) * 100);
                    self.ttl_deadline = Some(now + u64::from(ttl) * 100);
                }
                Ok(())
            }
            (State::Active, command::Command::Pong(_)) => Ok(()),
            (State::Active, command::Command::Subscribe(topic)) => {
                self.push_subscription(1, &topic);
                Ok(())
            }
            (State::Active, command::Command::Cancel(topic)) => {
                self.push_subscription(0, &topic);
                Ok(())
            }
            (State::Active, command::Command::Unknown) => Ok(()),
            _ => self.fail(
                Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                "Unexpected command",
            ),
        }
    }

    fn push_subscription(&mut self, kind: u8, topic: &[u8]) {
        let mut v = Vec::with_capacity(topic.len() + 1);
        v.push(kind);
        v.extend_from_slice(topic);
        self.events.push_back(Event::Message(Msg::copy_from(&v)));
    }

    fn peer_ready(&mut self, props: Vec<(String, Bytes)>, now: u64) -> Result<(), Failure> {
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
        let routing_id = find("Identity").filter(|id| !id.is_empty());
        let metadata = Metadata::from_pairs(
            props
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>(),
        );
        self.state = State::Active;
        self.handshake_deadline = None;
        if self.cfg.heartbeat_ivl > 0 {
            self.next_ping = Some(now + self.cfg.heartbeat_ivl);
        }
        self.events.push_back(Event::HandshakeDone(PeerInfo {
            socket_type: peer_type,
            routing_id,
            minor: self.peer_minor,
            metadata,
        }));
        Ok(())
    }

    /// Queues one message frame for sending (only once active). Subscription messages from
    /// SUB/XSUB sockets go to ZMTP 3.1 peers as SUBSCRIBE/CANCEL commands.
    pub(crate) fn send(&mut self, msg: &Msg, subscription_source: bool) {
        let data = msg.data();
        if self.raw {
            if data.is_empty() {
                self.close_requested = true;
            } else {
                self.output.extend_from_slice(data);
            }
            return;
        }
        if subscription_source
            && self.peer_minor >= 1
            && !msg.more()
            && let Some((&kind, topic)) = data.split_first()
            && kind <= 1
        {
            frame::encode(
                &mut self.output,
                frame::COMMAND,
                &command::subscription(kind == 1, topic),
            );
            return;
        }
        let flags = if msg.more() { frame::MORE } else { 0 };
        frame::encode(&mut self.output, flags, data);
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
            frame::encode(&mut self.output, frame::COMMAND, &command::ping(ttl, b""));
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
mod tests;
