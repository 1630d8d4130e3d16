//! The [`Connection`]'s mechanism handshake after the greeting (RFC 23, with RFC 24 and 26 for
//! PLAIN and CURVE): handshake commands, carrying out each mechanism step (commands to send,
//! ZAP requests, the peer's properties checked against the socket-type table), the ZAP handler's
//! answer (RFC 27), and the end of the handshake ([`Event::HandshakeDone`]).
//!
//! Layer L0: no sockets, no clock, no threads.
#![forbid(unsafe_code)]

use super::*;

impl Connection {
    /// True while the handshake waits for the ZAP handler's answer.
    pub(super) fn awaiting_zap(&self) -> bool {
        self.state == State::Handshake && self.mechanism.as_ref().is_some_and(|m| m.awaiting_zap())
    }

    /// One handshake command for the mechanism.
    pub(super) fn handshake_command(&mut self, body: &Bytes, now: u64) -> Result<(), Failure> {
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
    pub(super) fn step(
        &mut self,
        r: Result<(), HandshakeError>,
        outs: Vec<Out>,
    ) -> Result<(), Failure> {
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

    /// Gives the mechanism the answer `f` carries for its pending ZAP request, ends the
    /// handshake if that completes it, then processes the input held meanwhile.
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
}
