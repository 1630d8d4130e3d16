//! The CURVE client (RFC 26 §"The CurveZMQ handshake", client side): HELLO, then INITIATE
//! once WELCOME opens under the server's long-term key, then READY completes the handshake.
#![forbid(unsafe_code)]

use bytes::Bytes;
use zeroize::Zeroizing;

use super::crypto::{self, Cipher, SecretKey};
use super::{Codec, array, protocol};
use crate::consts::*;
use crate::mechanism::{
    HandshakeError, Out, Settings, command, is_command, peer_error, peer_properties,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    WaitWelcome,
    WaitReady,
    Ready,
}

/// The client side of one CURVE handshake.
pub(crate) struct Client {
    /// C, c and S.
    public: [u8; 32],
    secret: SecretKey,
    server: [u8; 32],
    /// c' (dropped once READY is in) and C'.
    short: Option<SecretKey>,
    short_public: [u8; 32],
    /// Box(C'→S), kept from HELLO to open WELCOME.
    to_server: Option<Cipher>,
    /// Box(C'→S'), the session key.
    session: Option<Cipher>,
    properties: Bytes,
    next_nonce: u64,
    peer_nonce: u64,
    state: State,
}

fn crypto_failed() -> HandshakeError {
    protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
}

fn unexpected() -> HandshakeError {
    protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND)
}

impl Client {
    pub(crate) fn new(settings: &Settings, properties: Bytes) -> Client {
        Client {
            public: settings.curve_public_key,
            secret: SecretKey::from_bytes(&settings.curve_secret_key),
            server: settings.curve_server_key,
            short: None,
            short_public: [0; 32],
            to_server: None,
            session: None,
            properties,
            next_nonce: 1,
            peer_nonce: 0,
            state: State::Start,
        }
    }

    fn take_nonce(&mut self) -> Result<u64, HandshakeError> {
        let n = self.next_nonce;
        self.next_nonce = n.checked_add(1).ok_or_else(crypto_failed)?;
        Ok(n)
    }

    /// Sends HELLO with a fresh short-term key pair.
    pub(crate) fn start(&mut self, out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        let short = SecretKey::generate().map_err(|_| crypto_failed())?;
        self.short_public = short.public_key();
        let to_server = Cipher::for_keys(&self.server, &short).map_err(|_| crypto_failed())?;
        let n = self.take_nonce()?;
        let signature = to_server.seal(&crypto::short_nonce(b"CurveZMQHELLO---", n), &[0u8; 64]);
        out.push(Out::Command(command(
            b"HELLO",
            &[
                &[1, 0],
                &[0u8; 72],
                &self.short_public,
                &n.to_be_bytes(),
                &signature,
            ],
        )));
        self.short = Some(short);
        self.to_server = Some(to_server);
        self.state = State::WaitWelcome;
        Ok(())
    }

    pub(crate) fn command(
        &mut self,
        body: &Bytes,
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        if is_command(body, b"WELCOME") {
            if self.state != State::WaitWelcome {
                return Err(unexpected());
            }
            self.welcome(body, out)
        } else if is_command(body, b"READY") {
            if self.state != State::WaitReady {
                return Err(unexpected());
            }
            self.ready(body, out)
        } else if is_command(body, b"ERROR") {
            if !matches!(self.state, State::WaitWelcome | State::WaitReady) {
                return Err(unexpected());
            }
            Err(peer_error(body))
        } else {
            Err(unexpected())
        }
    }

    /// Opens WELCOME (S' and the cookie) and answers INITIATE.
    fn welcome(&mut self, body: &[u8], out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        if body.len() != 168 {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME));
        }
        let (Some(short), Some(to_server)) = (&self.short, self.to_server.take()) else {
            return Err(unexpected());
        };
        let nonce = array::<16>(body, 8).ok_or_else(crypto_failed)?;
        let sealed = body.get(24..).ok_or_else(crypto_failed)?;
        let plain = to_server
            .open(&crypto::long_nonce(b"WELCOME-", &nonce), sealed)
            .map_err(|_| crypto_failed())?;
        let server_short = array::<32>(&plain, 0).ok_or_else(crypto_failed)?;
        let cookie = plain.get(32..128).ok_or_else(crypto_failed)?;
        let session = Cipher::for_keys(&server_short, short).map_err(|_| crypto_failed())?;

        // The vouch: Box[C' + S](C→S'), proving we hold c for this short-term key.
        let mut vouch_nonce = [0u8; 16];
        crypto::random(&mut vouch_nonce).map_err(|_| crypto_failed())?;
        let vouch_key =
            Cipher::for_keys(&server_short, &self.secret).map_err(|_| crypto_failed())?;
        let mut vouch_plain = [0u8; 64];
        let (a, b) = vouch_plain.split_at_mut(32);
        a.copy_from_slice(&self.short_public);
        b.copy_from_slice(&self.server);
        let vouch = vouch_key.seal(&crypto::long_nonce(b"VOUCH---", &vouch_nonce), &vouch_plain);

        let mut plain_initiate = Zeroizing::new(Vec::with_capacity(128 + self.properties.len()));
        plain_initiate.extend_from_slice(&self.public);
        plain_initiate.extend_from_slice(&vouch_nonce);
        plain_initiate.extend_from_slice(&vouch);
        plain_initiate.extend_from_slice(&self.properties);
        let n = self.take_nonce()?;
        let sealed = session.seal(
            &crypto::short_nonce(b"CurveZMQINITIATE", n),
            &plain_initiate,
        );
        out.push(Out::Command(command(
            b"INITIATE",
            &[cookie, &n.to_be_bytes(), &sealed],
        )));
        self.session = Some(session);
        self.state = State::WaitReady;
        Ok(())
    }

    /// Opens READY (the server's properties): the handshake is done.
    fn ready(&mut self, body: &[u8], out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        if body.len() < 30 {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY));
        }
        let n = array::<8>(body, 6)
            .map(u64::from_be_bytes)
            .ok_or_else(crypto_failed)?;
        if n <= self.peer_nonce {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE));
        }
        let session = self.session.as_ref().ok_or_else(unexpected)?;
        let sealed = body.get(14..).ok_or_else(crypto_failed)?;
        let plain = session
            .open(&crypto::short_nonce(b"CurveZMQREADY---", n), sealed)
            .map_err(|_| crypto_failed())?;
        let props = peer_properties(&Bytes::copy_from_slice(&plain))?;
        self.peer_nonce = n;
        out.push(Out::PeerProperties(props));
        self.short = None;
        self.state = State::Ready;
        Ok(())
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    pub(crate) fn into_codec(self) -> Option<Codec> {
        let session = self.session.filter(|_| self.state == State::Ready)?;
        Some(Codec::new(session, true, self.next_nonce, self.peer_nonce))
    }
}
