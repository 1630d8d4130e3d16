//! The NULL mechanism (RFC 23 §"The NULL Security Mechanism"): each side sends READY with its
//! properties. When `ZMQ_ZAP_DOMAIN` is set, libzmq first asks ZAP (mechanism "NULL", no
//! credentials) and sends READY only once the handler accepted; a refusal sends ERROR with the
//! status instead (none for 300). Without a handler the handshake goes on unless
//! `ZMQ_ZAP_ENFORCE_DOMAIN` is set.
#![forbid(unsafe_code)]

use bytes::Bytes;

use super::zap::ZapClient;
use super::{HandshakeError, Out, command, is_command, peer_error, peer_properties, tail};
use crate::consts::*;

/// One side of a NULL handshake.
pub(super) struct Null {
    properties: Bytes,
    zap: ZapClient,
    ready_sent: bool,
    peer_ready: bool,
}

impl Null {
    pub(super) fn new(properties: Bytes, zap: ZapClient) -> Null {
        Null {
            properties,
            zap,
            ready_sent: false,
            peer_ready: false,
        }
    }

    pub(super) fn start(&mut self, out: &mut Vec<Out>) {
        if self.zap.has_domain() {
            self.zap.send(b"NULL", &[], out);
        } else {
            self.send_ready(out);
        }
    }

    fn send_ready(&mut self, out: &mut Vec<Out>) {
        out.push(Out::Command(command(b"READY", &[&self.properties])));
        self.ready_sent = true;
    }

    pub(super) fn command(
        &mut self,
        body: &Bytes,
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        if self.peer_ready {
            return Err(HandshakeError::Protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
            ));
        }
        if is_command(body, b"READY") {
            let props = peer_properties(&tail(body, 6))?;
            out.push(Out::PeerProperties(props));
            self.peer_ready = true;
            Ok(())
        } else if is_command(body, b"ERROR") {
            Err(peer_error(body))
        } else {
            Err(HandshakeError::Protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND,
            ))
        }
    }

    pub(super) fn zap_reply(
        &mut self,
        frames: &[Bytes],
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        self.zap.reply(frames, out)?;
        self.send_ready(out);
        Ok(())
    }

    pub(super) fn zap_unavailable(&mut self, out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        let required = self.zap.enforce();
        self.zap.unavailable(required)?;
        self.send_ready(out);
        Ok(())
    }

    pub(super) fn awaiting_zap(&self) -> bool {
        self.zap.waiting()
    }

    pub(super) fn is_ready(&self) -> bool {
        self.ready_sent && self.peer_ready
    }
}
