//! The ZMTP 3 greeting (RFC 23 "Greeting" and "Version Negotiation"): its length, the one we
//! send, and the [`Connection`]'s reading of the peer's greeting, which sends ours in stages as
//! the peer's version shows itself, then starts the mechanism (a ZMTP 1.0/2.0 peer goes to
//! `old_peer` instead).
//!
//! Layer L0: no sockets, no clock, no threads.
#![forbid(unsafe_code)]

use super::*;

/// Length of the ZMTP 3 greeting.
pub(crate) const GREETING_LEN: usize = 64;

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

impl Connection {
    /// Reads the peer's greeting as far as it has come, sending the parts of ours that its
    /// version calls for (RFC 23 "Version Negotiation"); true once a ZMTP 3 greeting is in
    /// and the mechanism started. A 1.0/2.0 peer switches the connection to its framing.
    pub(super) fn read_greeting(&mut self) -> Result<bool, Failure> {
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
}
