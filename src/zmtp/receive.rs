//! The receive path of an established [`Connection`]: data frames (all the complete ones at the
//! front of the input at once, or one at a time), CURVE MESSAGEs (RFC 26), and the commands
//! that may follow the handshake (RFC 37 PING/PONG and SUBSCRIBE/CANCEL, ERROR, the side
//! channel's), handed to the session's sink or queued as events.
//!
//! Layer L0: no sockets, no clock, no threads.
#![forbid(unsafe_code)]

use super::*;

impl Connection {
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
    pub(super) fn push_message(
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
    pub(super) fn decode_data(
        &mut self,
        max: Option<u64>,
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) {
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
    pub(super) fn curve_frame(
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

    /// A command after the handshake (RFC 37 heartbeats and subscriptions).
    pub(super) fn command(
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

    /// Delivers a SUBSCRIBE (`kind` 1) or CANCEL (`kind` 0) as the `kind`-prefixed message the
    /// pub/sub patterns expect.
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
}
