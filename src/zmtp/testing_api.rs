//! A byte-level ZMTP peer for interop tests (feature `testing`, hidden, not for users): wraps
//! a [`Connection`] with owned types so `tests/curve_interop.rs` can drive it over a real
//! socket against libzmq. Still sans-IO: the test moves the bytes.
#![forbid(unsafe_code)]

use bytes::Bytes;

use super::{Config, Connection, Event, Failure, Security};
use crate::mechanism::Kind;
use crate::mechanism::curve::crypto::SecretKey;
use crate::msg::Msg;

/// What the peer reports.
#[derive(Debug)]
pub enum PeerEvent {
    /// The handshake completed; the peer's properties (values cut at a NUL).
    Handshake(Vec<(String, String)>),
    /// One message frame.
    Message {
        /// Its bytes.
        data: Vec<u8>,
        /// More frames of the same message follow.
        more: bool,
    },
    /// ZAP is asked about the peer: these frames (the empty delimiter first).
    ZapRequest(Vec<Vec<u8>>),
}

/// One side of a ZMTP connection with a chosen mechanism.
pub struct Peer {
    conn: Connection,
}

/// Z85 text of `data` (a multiple of 4 bytes; empty otherwise).
pub fn z85_encode(data: &[u8]) -> String {
    crate::util::z85::encode(data)
        .map(|t| String::from_utf8_lossy(&t).into_owned())
        .unwrap_or_default()
}

/// A fresh CURVE key pair: (public, secret).
pub fn curve_keypair() -> ([u8; 32], [u8; 32]) {
    let sk = SecretKey::generate().unwrap_or_else(|_| SecretKey::from_bytes(&[7; 32]));
    (sk.public_key(), *sk.to_bytes())
}

impl Peer {
    fn new(socket_type: i32, security: Security) -> Peer {
        let cfg = Config::with_defaults(socket_type, security);
        Peer {
            conn: Connection::new(cfg, 0),
        }
    }

    /// A NULL peer.
    pub fn null(socket_type: i32) -> Peer {
        Peer::new(socket_type, Security::default())
    }

    /// A PLAIN client with these credentials.
    pub fn plain_client(socket_type: i32, username: &[u8], password: &[u8]) -> Peer {
        Peer::new(
            socket_type,
            Security {
                mechanism: Kind::Plain,
                plain_username: username.to_vec(),
                plain_password: password.to_vec().into(),
                ..Security::default()
            },
        )
    }

    /// A PLAIN server (it asks ZAP with `domain`, the peer at `address`).
    pub fn plain_server(socket_type: i32, domain: &[u8], address: &[u8]) -> Peer {
        Peer::new(
            socket_type,
            Security {
                mechanism: Kind::Plain,
                as_server: true,
                zap_domain: domain.to_vec(),
                peer_address: address.to_vec(),
                ..Security::default()
            },
        )
    }

    /// A CURVE client with its long-term key pair and the server's public key.
    pub fn curve_client(
        socket_type: i32,
        server_public: [u8; 32],
        public: [u8; 32],
        secret: [u8; 32],
    ) -> Peer {
        Peer::new(
            socket_type,
            Security {
                mechanism: Kind::Curve,
                curve_public_key: public,
                curve_secret_key: secret.into(),
                curve_server_key: server_public,
                ..Security::default()
            },
        )
    }

    /// A CURVE server with its long-term secret key.
    pub fn curve_server(socket_type: i32, secret: [u8; 32], domain: &[u8]) -> Peer {
        Peer::new(
            socket_type,
            Security {
                mechanism: Kind::Curve,
                as_server: true,
                curve_secret_key: secret.into(),
                zap_domain: domain.to_vec(),
                peer_address: b"127.0.0.1".to_vec(),
                ..Security::default()
            },
        )
    }

    /// Feeds received bytes.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        self.conn.input_buffer().extend_from_slice(data);
        self.conn.process(0).map_err(describe)
    }

    /// Takes the bytes to send.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.conn.output().split().to_vec()
    }

    /// The next event.
    pub fn poll(&mut self) -> Option<PeerEvent> {
        Some(match self.conn.poll_event()? {
            Event::HandshakeDone(p) => {
                let mut props = Vec::new();
                for name in ["Socket-Type", "Identity", "User-Id"] {
                    if let Some(v) = p.metadata.get(name) {
                        props.push((name.to_owned(), v.to_string_lossy().into_owned()));
                    }
                }
                PeerEvent::Handshake(props)
            }
            Event::Message(m) => PeerEvent::Message {
                data: m.data().to_vec(),
                more: m.more(),
            },
            Event::ZapRequest(frames) => {
                PeerEvent::ZapRequest(frames.iter().map(|f| f.to_vec()).collect())
            }
            // Only a connection given a side channel (never one of these) gets side frames.
            Event::SideFrame(piece) => {
                let m = self.conn.side_frame(piece).ok()??;
                PeerEvent::Message {
                    data: m.data().to_vec(),
                    more: m.more(),
                }
            }
        })
    }

    /// Queues one message frame (only once the handshake is done).
    pub fn send(&mut self, data: &[u8], more: bool) {
        let mut m = Msg::copy_from(data);
        m.set_more(more);
        self.conn.send(&m, false);
    }

    /// Answers the pending ZAP request.
    pub fn zap_reply(&mut self, frames: &[&[u8]]) -> Result<(), String> {
        let frames: Vec<Bytes> = frames.iter().map(|f| Bytes::copy_from_slice(f)).collect();
        self.conn.handle_zap_reply(&frames, 0).map_err(describe)
    }

    /// Says no ZAP handler is bound.
    pub fn zap_missing(&mut self) -> Result<(), String> {
        self.conn.zap_handler_missing(0).map_err(describe)
    }

    /// True once the handshake is done.
    pub fn is_active(&self) -> bool {
        self.conn.is_active()
    }
}

fn describe(f: Failure) -> String {
    format!("{f:?}")
}
