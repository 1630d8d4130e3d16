//! The CURVE server (RFC 26 §"The CurveZMQ handshake", server side): HELLO opens under our
//! long-term key and is answered by WELCOME with a cookie; INITIATE must bring the cookie back,
//! open under the short-term keys and carry a vouch for the client's long-term key C; then ZAP
//! is asked (mechanism "CURVE", credential C) unless `ZMQ_ZAP_ENFORCE_DOMAIN` is set with no
//! domain, and READY ends the handshake. Without a ZAP handler the client is accepted unless
//! the domain is enforced, as in libzmq ("Stonehouse": encryption without authentication).
#![forbid(unsafe_code)]

use bytes::Bytes;
use zeroize::Zeroizing;

use super::crypto::{self, Cipher, SecretKey};
use super::{Codec, array, protocol, same};
use crate::consts::*;
use crate::mechanism::zap::ZapClient;
use crate::mechanism::{
    HandshakeError, Out, Settings, check_structure, command, is_command, peer_properties,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    WaitHello,
    WaitInitiate,
    WaitZap,
    Ready,
}

/// The server side of one CURVE handshake.
pub(crate) struct Server {
    /// s and S.
    secret: SecretKey,
    public: [u8; 32],
    /// s' and S' (the secret is dropped with the cookie key once READY is out).
    short: Option<SecretKey>,
    short_public: [u8; 32],
    /// K, the key of this connection's cookie.
    cookie_key: Option<Zeroizing<[u8; 32]>>,
    /// C' and C.
    client_short: [u8; 32],
    client: [u8; 32],
    /// Box(S'→C'), the session key.
    session: Option<Cipher>,
    properties: Bytes,
    zap: ZapClient,
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

impl Server {
    pub(crate) fn new(settings: &Settings, properties: Bytes, zap: ZapClient) -> Server {
        let secret = SecretKey::from_bytes(&settings.curve_secret_key);
        Server {
            public: secret.public_key(),
            secret,
            short: None,
            short_public: [0; 32],
            cookie_key: None,
            client_short: [0; 32],
            client: [0; 32],
            session: None,
            properties,
            zap,
            next_nonce: 1,
            peer_nonce: 0,
            state: State::WaitHello,
        }
    }

    pub(crate) fn command(
        &mut self,
        body: &Bytes,
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        match self.state {
            State::WaitHello => {
                check_structure(body)?;
                if !is_command(body, b"HELLO") {
                    return Err(unexpected());
                }
                self.hello(body, out)
            }
            State::WaitInitiate => {
                check_structure(body)?;
                if !is_command(body, b"INITIATE") {
                    return Err(unexpected());
                }
                self.initiate(body, out)
            }
            State::WaitZap | State::Ready => Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED)),
        }
    }

    /// Opens HELLO's signature box and answers WELCOME.
    fn hello(&mut self, body: &[u8], out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        let malformed = protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO);
        if body.len() != 200 || body.get(6..8) != Some(&[1, 0][..]) {
            return Err(malformed);
        }
        let client_short = array::<32>(body, 80).ok_or(malformed)?;
        let n = array::<8>(body, 112)
            .map(u64::from_be_bytes)
            .ok_or(malformed)?;
        let signature = body.get(120..).ok_or(malformed)?;
        // A small-order C' cannot open the box either: libzmq reports both as CRYPTOGRAPHIC.
        let to_client =
            Cipher::for_keys(&client_short, &self.secret).map_err(|_| crypto_failed())?;
        to_client
            .open(&crypto::short_nonce(b"CurveZMQHELLO---", n), signature)
            .map_err(|_| crypto_failed())?;
        self.client_short = client_short;
        self.peer_nonce = n;

        let short = SecretKey::generate().map_err(|_| crypto_failed())?;
        self.short_public = short.public_key();
        let mut cookie_key = Zeroizing::new([0u8; 32]);
        crypto::random(cookie_key.as_mut_slice()).map_err(|_| crypto_failed())?;
        let mut cookie_nonce = [0u8; 16];
        crypto::random(&mut cookie_nonce).map_err(|_| crypto_failed())?;
        let mut cookie_plain = Zeroizing::new([0u8; 64]);
        {
            let (a, b) = cookie_plain.split_at_mut(32);
            a.copy_from_slice(&client_short);
            b.copy_from_slice(short.to_bytes().as_slice());
        }
        let cookie = Cipher::from_key(&cookie_key).seal(
            &crypto::long_nonce(b"COOKIE--", &cookie_nonce),
            cookie_plain.as_slice(),
        );
        let mut welcome_plain = Zeroizing::new(Vec::with_capacity(128));
        welcome_plain.extend_from_slice(&self.short_public);
        welcome_plain.extend_from_slice(&cookie_nonce);
        welcome_plain.extend_from_slice(&cookie);
        let mut welcome_nonce = [0u8; 16];
        crypto::random(&mut welcome_nonce).map_err(|_| crypto_failed())?;
        let sealed = to_client.seal(
            &crypto::long_nonce(b"WELCOME-", &welcome_nonce),
            &welcome_plain,
        );
        out.push(Out::Command(command(
            b"WELCOME",
            &[&welcome_nonce, &sealed],
        )));
        self.short = Some(short);
        self.cookie_key = Some(cookie_key);
        self.state = State::WaitInitiate;
        Ok(())
    }

    /// Checks the cookie, opens INITIATE and its vouch, then asks ZAP or answers READY.
    fn initiate(&mut self, body: &[u8], out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        if body.len() < 257 {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE));
        }
        let (Some(short), Some(cookie_key)) = (&self.short, &self.cookie_key) else {
            return Err(unexpected());
        };
        let cookie_nonce = array::<16>(body, 9).ok_or_else(crypto_failed)?;
        let cookie = body.get(25..105).ok_or_else(crypto_failed)?;
        let cookie_plain = Cipher::from_key(cookie_key)
            .open(&crypto::long_nonce(b"COOKIE--", &cookie_nonce), cookie)
            .map_err(|_| crypto_failed())?;
        let (cookie_client, cookie_secret) = cookie_plain
            .split_at_checked(32)
            .ok_or_else(crypto_failed)?;
        if !same(cookie_client, &self.client_short)
            || !same(cookie_secret, short.to_bytes().as_slice())
        {
            return Err(crypto_failed());
        }
        let n = array::<8>(body, 105)
            .map(u64::from_be_bytes)
            .ok_or_else(crypto_failed)?;
        if n <= self.peer_nonce {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE));
        }
        let session = Cipher::for_keys(&self.client_short, short).map_err(|_| crypto_failed())?;
        let sealed = body.get(113..).ok_or_else(crypto_failed)?;
        let plain = session
            .open(&crypto::short_nonce(b"CurveZMQINITIATE", n), sealed)
            .map_err(|_| crypto_failed())?;
        let client = array::<32>(&plain, 0).ok_or_else(crypto_failed)?;
        let vouch_nonce = array::<16>(&plain, 32).ok_or_else(crypto_failed)?;
        let vouch = plain.get(48..128).ok_or_else(crypto_failed)?;
        let metadata = Bytes::copy_from_slice(plain.get(128..).unwrap_or_default());

        let vouch_key = Cipher::for_keys(&client, short).map_err(|_| crypto_failed())?;
        let vouched = vouch_key
            .open(&crypto::long_nonce(b"VOUCH---", &vouch_nonce), vouch)
            .map_err(|_| crypto_failed())?;
        let (vouched_short, vouched_server) =
            vouched.split_at_checked(32).ok_or_else(crypto_failed)?;
        if !same(vouched_short, &self.client_short) || !same(vouched_server, &self.public) {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE));
        }
        let props = peer_properties(&metadata)?;
        self.peer_nonce = n;
        self.client = client;
        self.session = Some(session);
        out.push(Out::PeerProperties(props));
        if self.zap.has_domain() || !self.zap.enforce() {
            let client = self.client;
            self.zap.send(b"CURVE", &[&client], out);
            self.state = State::WaitZap;
            Ok(())
        } else {
            self.send_ready(out)
        }
    }

    fn send_ready(&mut self, out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        let session = self.session.as_ref().ok_or_else(unexpected)?;
        let n = self.next_nonce;
        let sealed = session.seal(
            &crypto::short_nonce(b"CurveZMQREADY---", n),
            &self.properties,
        );
        out.push(Out::Command(command(
            b"READY",
            &[&n.to_be_bytes(), &sealed],
        )));
        self.next_nonce = n.checked_add(1).ok_or_else(crypto_failed)?;
        self.short = None;
        self.cookie_key = None;
        self.state = State::Ready;
        Ok(())
    }

    pub(crate) fn zap_reply(
        &mut self,
        frames: &[Bytes],
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        self.zap.reply(frames, out)?;
        self.send_ready(out)
    }

    pub(crate) fn zap_unavailable(&mut self, out: &mut Vec<Out>) -> Result<(), HandshakeError> {
        let required = self.zap.enforce();
        self.zap.unavailable(required)?;
        self.send_ready(out)
    }

    pub(crate) fn awaiting_zap(&self) -> bool {
        self.zap.waiting()
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    pub(crate) fn into_codec(self) -> Option<Codec> {
        let session = self.session.filter(|_| self.state == State::Ready)?;
        Some(Codec::new(session, false, self.next_nonce, self.peer_nonce))
    }
}
