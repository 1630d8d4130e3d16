//! The PLAIN mechanism (RFC 24), as libzmq 4.3 runs it: the client sends HELLO with its user
//! name and password; the server asks ZAP (mechanism "PLAIN", credentials user name and
//! password) and answers WELCOME if the handler accepted, or ERROR with the status (none for
//! 300); the client sends INITIATE with its properties and the server answers READY with its
//! own. A PLAIN server with no ZAP handler refuses every client (libzmq's
//! `HANDSHAKE_FAILED_NO_DETAIL`/`EFAULT`), whatever `ZMQ_ZAP_ENFORCE_DOMAIN` says.
#![forbid(unsafe_code)]

use bytes::Bytes;
use zeroize::Zeroizing;

use super::zap::ZapClient;
use super::{
    HandshakeError, LIBZMQ_PLAIN_ERROR, Local, Out, Settings, check_structure, command, is_command,
    peer_error, peer_error_at, peer_properties, tail,
};
use crate::consts::*;

fn unexpected() -> HandshakeError {
    HandshakeError::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    Start,
    WaitWelcome,
    WaitReady,
    Ready,
}

/// The client side.
pub(super) struct Client {
    username: Vec<u8>,
    password: Zeroizing<Vec<u8>>,
    properties: Bytes,
    state: ClientState,
}

/// A length octet and up to 255 octets of `v`.
fn short_field(v: &[u8]) -> (u8, &[u8]) {
    let v = v.get(..v.len().min(255)).unwrap_or_default();
    (u8::try_from(v.len()).unwrap_or(u8::MAX), v)
}

impl Client {
    pub(super) fn new(settings: &Settings, local: Local) -> Client {
        Client {
            username: settings.plain_username.clone(),
            password: settings.plain_password.clone(),
            properties: local.properties,
            state: ClientState::Start,
        }
    }

    pub(super) fn start(&mut self, out: &mut Vec<Out>) {
        let (ul, user) = short_field(&self.username);
        let (pl, pass) = short_field(&self.password);
        out.push(Out::Command(command(b"HELLO", &[&[ul], user, &[pl], pass])));
        self.state = ClientState::WaitWelcome;
    }

    pub(super) fn command(
        &mut self,
        body: &Bytes,
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        if is_command(body, b"WELCOME") {
            if self.state != ClientState::WaitWelcome {
                return Err(unexpected());
            }
            if body.len() != 8 {
                return Err(HandshakeError::Protocol(
                    ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME,
                ));
            }
            out.push(Out::Command(command(b"INITIATE", &[&self.properties])));
            self.state = ClientState::WaitReady;
            Ok(())
        } else if is_command(body, b"READY") {
            if self.state != ClientState::WaitReady {
                return Err(unexpected());
            }
            out.push(Out::PeerProperties(peer_properties(&tail(body, 6))?));
            self.state = ClientState::Ready;
            Ok(())
        } else if is_command(body, b"ERROR") || body.starts_with(LIBZMQ_PLAIN_ERROR) {
            if !matches!(
                self.state,
                ClientState::WaitWelcome | ClientState::WaitReady
            ) {
                return Err(unexpected());
            }
            if body.starts_with(LIBZMQ_PLAIN_ERROR) {
                Err(peer_error_at(body, LIBZMQ_PLAIN_ERROR.len()))
            } else {
                Err(peer_error(body))
            }
        } else {
            Err(unexpected())
        }
    }

    pub(super) fn is_ready(&self) -> bool {
        self.state == ClientState::Ready
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    WaitHello,
    WaitZap,
    WaitInitiate,
    Ready,
}

/// The server side.
pub(super) struct Server {
    properties: Bytes,
    zap: ZapClient,
    state: ServerState,
}

/// The user name and password of a HELLO body (RFC 24), with libzmq's failure codes.
fn parse_hello(body: &[u8]) -> Result<(&[u8], &[u8]), HandshakeError> {
    let malformed = HandshakeError::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO);
    let rest = body.get(6..).ok_or(malformed)?;
    let (&ulen, rest) = rest.split_first().ok_or(malformed)?;
    let (user, rest) = rest.split_at_checked(usize::from(ulen)).ok_or(malformed)?;
    let (&plen, pass) = rest.split_first().ok_or(malformed)?;
    if pass.len() != usize::from(plen) {
        return Err(malformed);
    }
    Ok((user, pass))
}

impl Server {
    pub(super) fn new(properties: Bytes, zap: ZapClient) -> Server {
        Server {
            properties,
            zap: zap.with_libzmq_plain_error(),
            state: ServerState::WaitHello,
        }
    }

    pub(super) fn command(
        &mut self,
        body: &Bytes,
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        match self.state {
            ServerState::WaitHello => {
                check_structure(body)?;
                if !is_command(body, b"HELLO") {
                    return Err(unexpected());
                }
                let (user, pass) = parse_hello(body)?;
                self.zap.send(b"PLAIN", &[user, pass], out);
                self.state = ServerState::WaitZap;
                Ok(())
            }
            ServerState::WaitInitiate => {
                if !is_command(body, b"INITIATE") {
                    return Err(unexpected());
                }
                out.push(Out::PeerProperties(peer_properties(&tail(body, 9))?));
                out.push(Out::Command(command(b"READY", &[&self.properties])));
                self.state = ServerState::Ready;
                Ok(())
            }
            ServerState::WaitZap | ServerState::Ready => Err(HandshakeError::Protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED,
            )),
        }
    }

    pub(super) fn zap_reply(
        &mut self,
        frames: &[Bytes],
        out: &mut Vec<Out>,
    ) -> Result<(), HandshakeError> {
        self.zap.reply(frames, out)?;
        out.push(Out::Command(command(b"WELCOME", &[])));
        self.state = ServerState::WaitInitiate;
        Ok(())
    }

    pub(super) fn zap_unavailable(&mut self) -> Result<(), HandshakeError> {
        self.zap.unavailable(true)
    }

    pub(super) fn awaiting_zap(&self) -> bool {
        self.zap.waiting()
    }

    pub(super) fn is_ready(&self) -> bool {
        self.state == ServerState::Ready
    }
}
