//! The connection's side of libzmq 4.3's downgrade to a ZMTP 1.0 or 2.0 peer: switching to
//! its framing once its greeting shows its version, or refusing it, and decoding its frames
//! (the framing itself is in `legacy`).
#![forbid(unsafe_code)]

use super::*;

impl Connection {
    /// Switches to the framing of a ZMTP 1.0 peer (`revision` None: it sent no greeting, or
    /// 0) or 2.0 peer (1), or refuses it where libzmq 4.3 does: with a mechanism other than
    /// NULL or a ZAP domain (such a peer cannot be authenticated). Queues our identity frame
    /// (for an unversioned peer, the rest of the one our signature began); the peer's
    /// identity frame ends the handshake ([`Connection::process_legacy`]).
    pub(super) fn old_peer(&mut self, revision: Option<u8>) -> Result<(), Failure> {
        if self.refuses_old_peers() {
            self.state = State::Failed;
            return Err(Failure::OldPeerRefused);
        }
        let id = self.cfg.routing_id.clone().unwrap_or_default();
        let framing = match revision {
            None => {
                self.output.extend_from_slice(&id);
                // A 1.0 peer sends no subscriptions, so it is subscribed to everything.
                self.phantom_subscription = matches!(self.cfg.socket_type, ZMQ_PUB | ZMQ_XPUB);
                legacy::Framing::V1
            }
            Some(r) => {
                let framing = legacy::framing_of(r);
                legacy::encode(&mut self.output, framing, false, &id);
                framing
            }
        };
        self.legacy = Some(framing);
        self.greeting_sent = GREETING_LEN;
        self.state = State::Handshake;
        self.peer_minor = 0;
        Ok(())
    }

    /// True if ZMTP 1.0/2.0 peers are refused: libzmq 4.3 refuses them whenever ZAP would be
    /// asked (a mechanism other than NULL, or a ZAP domain).
    pub(super) fn refuses_old_peers(&self) -> bool {
        let sec = &self.cfg.security;
        sec.mechanism != mechanism::Kind::Null || !sec.zap_domain.is_empty()
    }

    /// Decodes a ZMTP 1.0/2.0 peer's frames: the first is its identity (the routing id a
    /// ROUTER gives it; empty for none), which ends the handshake; every later one is a
    /// message frame (a 2.0 frame flagged as a command is dropped, as libzmq's session does).
    pub(super) fn process_legacy(
        &mut self,
        framing: legacy::Framing,
        max: Option<u64>,
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) -> Result<(), Failure> {
        loop {
            let frame = match legacy::decode(&mut self.input, framing, max) {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(()),
                Err(legacy::LegacyError::TooLarge) => {
                    return self.fail(Failure::MessageTooLarge, "");
                }
                Err(legacy::LegacyError::Malformed) => {
                    return self.fail(Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED), "");
                }
            };
            if self.state != State::Active {
                self.state = State::Active;
                self.handshake_deadline = None;
                self.events.push_back(Event::HandshakeDone(PeerInfo {
                    socket_type: self.legacy_type,
                    routing_id: (!frame.body.is_empty()).then(|| frame.body.freeze()),
                    legacy: true,
                    minor: 0,
                    metadata: Metadata::default(),
                }));
                if std::mem::take(&mut self.phantom_subscription) {
                    self.events.push_back(Event::Message(Msg::copy_from(&[1])));
                }
            } else if !frame.command {
                self.push_message(frame.body, frame.more, sink);
            }
        }
    }
}
