//! CURVE (RFC 25 CurveZMQ, carried by ZMTP as RFC 26): the client and server handshakes and
//! the MESSAGE codec that encrypts every frame afterwards.
//!
//! Handshake (libzmq 4.3's layout, every box is `tag ‖ ciphertext`):
//! - HELLO (200 octets): version 1.0, 72 octets of padding, C', short nonce, Box[64 × 0](C'→S).
//! - WELCOME (168): a 16-octet nonce, Box[S' + cookie](S→C'); the cookie is a 16-octet nonce
//!   and SecretBox[C' + s'](K) with a per-connection key K.
//! - INITIATE (≥ 257): the cookie, short nonce, Box[C + vouch + metadata](C'→S'), where the
//!   vouch is a 16-octet nonce and Box[C' + S](C→S').
//! - READY: short nonce, Box[metadata](S'→C').
//!
//! Afterwards every frame is a MESSAGE: "\x07MESSAGE", short nonce, Box[flags + data](C'↔S')
//! with nonce prefix "CurveZMQMESSAGEC" (client to server) or "CurveZMQMESSAGES"; the flags
//! octet carries MORE (1) and COMMAND (2), so PING/PONG and SUBSCRIBE/CANCEL travel encrypted
//! too. Short nonces count up from 1 per sender (HELLO 1, INITIATE 2, then messages; READY 1,
//! then messages), are never reused, and must strictly increase on receipt.
// Not `forbid`: `sodium.rs`, the FFI to libsodium, is the one file here allowed `unsafe`
// (ARCHITECTURE.md); every other file of `mechanism/` forbids it itself.
#![deny(unsafe_code)]

pub(crate) mod client;
pub(crate) mod crypto;
pub(crate) mod server;
mod sodium;

use bytes::{Buf, BufMut, BytesMut};

use self::crypto::{Cipher, PrefixedCipher};
use super::{HandshakeError, check_structure};
use crate::consts::*;

/// The MESSAGE command's name with its length octet.
pub(crate) const MESSAGE_PREFIX: &[u8] = b"\x07MESSAGE";
/// Octets a MESSAGE adds to its plaintext: the name (8), the short nonce (8), the tag (16) and
/// the flags octet.
pub(crate) const MESSAGE_OVERHEAD: usize = 8 + 8 + crypto::TAG_LEN + 1;
/// Plaintext flag: more frames follow (libzmq's `msg_t::more`).
pub(crate) const FLAG_MORE: u8 = 1;
/// Plaintext flag: the frame is a command (libzmq's `msg_t::command`).
pub(crate) const FLAG_COMMAND: u8 = 2;

/// A MESSAGE body at least this long is decrypted into a buffer of its own rather than in
/// place, so the frame delivered does not keep the receive buffer (which can then be read
/// into past the frame's end, and reused).
pub(crate) const OPEN_APART_MIN: usize = 16 * 1024;

const CLIENT_MESSAGE_NONCE: &[u8; 16] = b"CurveZMQMESSAGEC";
const SERVER_MESSAGE_NONCE: &[u8; 16] = b"CurveZMQMESSAGES";

/// `N` octets of `b` from `at`, if there are that many.
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Compares two secrets without an early exit.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn protocol(code: i32) -> HandshakeError {
    HandshakeError::Protocol(code)
}

/// Encrypts and decrypts the MESSAGE commands of an established CURVE connection.
pub(crate) struct Codec {
    /// The session box keyed for our MESSAGE nonce prefix.
    send: PrefixedCipher,
    /// The session box keyed for the peer's MESSAGE nonce prefix.
    recv: PrefixedCipher,
    next_nonce: u64,
    peer_nonce: u64,
}

impl Codec {
    /// A codec for the client (`client`) or server side, whose next own short nonce is
    /// `next_nonce` and whose peer's last one was `peer_nonce`.
    fn new(cipher: Cipher, client: bool, next_nonce: u64, peer_nonce: u64) -> Codec {
        let (send_prefix, recv_prefix) = if client {
            (CLIENT_MESSAGE_NONCE, SERVER_MESSAGE_NONCE)
        } else {
            (SERVER_MESSAGE_NONCE, CLIENT_MESSAGE_NONCE)
        };
        Codec {
            send: cipher.with_prefix(send_prefix),
            recv: cipher.with_prefix(recv_prefix),
            next_nonce,
            peer_nonce,
        }
    }

    /// The size of the MESSAGE body that carries `len` octets.
    pub(crate) fn sealed_len(len: usize) -> usize {
        len.saturating_add(MESSAGE_OVERHEAD)
    }

    /// Reserves the next short nonce; None once they are used up, and the connection must then
    /// close rather than reuse one.
    pub(crate) fn take_nonce(&mut self) -> Option<u64> {
        let n = self.next_nonce;
        self.next_nonce = n.checked_add(1)?;
        Some(n)
    }

    /// Appends the MESSAGE body carrying `flags` and the concatenation of `parts`, sealed with
    /// `nonce` (from [`Codec::take_nonce`]); exactly [`Codec::sealed_len`] octets. The parts
    /// are encrypted from where they lie into `out`: the plaintext is not copied anywhere.
    pub(crate) fn seal_into(&self, out: &mut BytesMut, nonce: u64, flags: u8, parts: &[&[u8]]) {
        out.extend_from_slice(MESSAGE_PREFIX);
        out.put_u64(nonce);
        let tag_at = out.len();
        out.put_bytes(0, crypto::TAG_LEN);
        let flags = [flags];
        let plain = std::iter::once(&flags[..]).chain(parts.iter().copied());
        let tag = self.send.seal_append(nonce, out, plain);
        if let Some(slot) = out.get_mut(tag_at..tag_at + crypto::TAG_LEN) {
            slot.copy_from_slice(&tag);
        }
    }

    /// Decrypts one received MESSAGE body and returns its flags octet and data, with libzmq's
    /// failure codes: not a command or not MESSAGE, too short, a short nonce not above the last
    /// one (`INVALID_SEQUENCE`), or a box that does not open (`CRYPTOGRAPHIC`). A body shorter
    /// than [`OPEN_APART_MIN`] is decrypted in place; a longer one into a buffer of its own.
    pub(crate) fn open(&mut self, mut body: BytesMut) -> Result<(u8, BytesMut), HandshakeError> {
        check_structure(&body)?;
        if !body.starts_with(MESSAGE_PREFIX) {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND));
        }
        if body.len() < MESSAGE_OVERHEAD {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE));
        }
        let nonce = array::<8>(&body, 8)
            .map(u64::from_be_bytes)
            .ok_or(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE))?;
        if nonce <= self.peer_nonce {
            return Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE));
        }
        let tag = array::<{ crypto::TAG_LEN }>(&body, 16)
            .ok_or(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE))?;
        body.advance(16 + crypto::TAG_LEN);
        let opened = if body.len() >= OPEN_APART_MIN {
            let mut plain = BytesMut::with_capacity(body.len());
            let r = self.recv.open_append(nonce, &body, &tag, &mut plain);
            body = plain;
            r
        } else {
            self.recv.open_in_place(nonce, &mut body, &tag)
        };
        opened.map_err(|_| protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))?;
        self.peer_nonce = nonce;
        let flags = body.first().copied().unwrap_or(0);
        body.advance(1);
        Ok((flags, body))
    }
}

#[cfg(test)]
mod tests {
    use super::crypto::SecretKey;
    use super::*;

    fn pair() -> (Codec, Codec) {
        let c = SecretKey::generate().unwrap();
        let s = SecretKey::generate().unwrap();
        let to_server = Cipher::for_keys(&s.public_key(), &c).unwrap();
        let to_client = Cipher::for_keys(&c.public_key(), &s).unwrap();
        (
            Codec::new(to_server, true, 3, 1),
            Codec::new(to_client, false, 2, 2),
        )
    }

    fn seal(c: &mut Codec, flags: u8, data: &[u8]) -> BytesMut {
        let mut out = BytesMut::new();
        let n = c.take_nonce().unwrap();
        c.seal_into(&mut out, n, flags, &[data]);
        assert_eq!(out.len(), Codec::sealed_len(data.len()));
        out
    }

    #[test]
    fn messages_round_trip_with_flags() {
        let (mut client, mut server) = pair();
        let wire = seal(&mut client, FLAG_MORE, b"hello");
        assert!(!wire.windows(5).any(|w| w == b"hello"), "encrypted");
        let (flags, data) = server.open(wire).unwrap();
        assert_eq!((flags, &data[..]), (FLAG_MORE, &b"hello"[..]));
        let wire = seal(&mut server, FLAG_COMMAND, b"\x04PING\x00\x00");
        let (flags, data) = client.open(wire).unwrap();
        assert_eq!((flags, &data[..]), (FLAG_COMMAND, &b"\x04PING\x00\x00"[..]));
        let (_, empty) = server.open(seal(&mut client, 0, b"")).unwrap();
        assert!(empty.is_empty());
    }

    /// Bodies from [`OPEN_APART_MIN`] on are opened into a buffer of their own (the receive
    /// buffer is not kept by the message), shorter ones in place; both decrypt alike, and a
    /// tampered large box is refused.
    #[test]
    fn large_bodies_open_apart_from_the_receive_buffer() {
        let (mut client, mut server) = pair();
        for len in [
            OPEN_APART_MIN - MESSAGE_OVERHEAD,
            OPEN_APART_MIN,
            65536,
            65536 + 33,
        ] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let wire = seal(&mut client, FLAG_MORE, &data);
            let span = wire.as_ptr_range();
            let (flags, opened) = server.open(wire).unwrap();
            assert_eq!((flags, &opened[..]), (FLAG_MORE, &data[..]), "length {len}");
            let apart = !span.contains(&opened.as_ptr());
            assert_eq!(apart, len + 1 >= OPEN_APART_MIN, "length {len}");
        }
        let mut wire = seal(&mut client, 0, &[5u8; 70000]);
        wire[40000] ^= 1;
        assert_eq!(
            server.open(wire).map(|_| ()),
            Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
        );
    }

    #[test]
    fn replayed_and_reordered_nonces_are_refused() {
        let (mut client, mut server) = pair();
        let first = seal(&mut client, 0, b"1");
        let second = seal(&mut client, 0, b"2");
        server.open(second.clone()).unwrap();
        assert_eq!(
            server.open(first).map(|_| ()),
            Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE))
        );
        assert_eq!(
            server.open(second).map(|_| ()),
            Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE))
        );
    }

    #[test]
    fn tampered_truncated_and_foreign_bodies_are_refused() {
        let (mut client, mut server) = pair();
        let mut wire = seal(&mut client, 0, b"payload");
        let last = wire.len() - 1;
        wire[last] ^= 1;
        assert_eq!(
            server.open(wire).map(|_| ()),
            Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC))
        );
        let short = BytesMut::from(&b"\x07MESSAGE\x00\x00\x00\x00\x00\x00\x00\x09"[..]);
        assert_eq!(
            server.open(short).map(|_| ()),
            Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE))
        );
        let other = BytesMut::from(&b"\x05READY........................................"[..]);
        assert_eq!(
            server.open(other).map(|_| ()),
            Err(protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND))
        );
        assert_eq!(
            server.open(BytesMut::from(&b"\x09MESS"[..])).map(|_| ()),
            Err(protocol(
                ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED
            ))
        );
        // The server's own messages do not open as the client's (other nonce prefix).
        let (mut client2, _) = pair();
        let _ = &mut client2;
        let mine = seal(&mut server, 0, b"x");
        assert!(server.open(mine).is_err());
    }

    #[test]
    fn nonces_are_never_reused_when_exhausted() {
        let (mut client, _) = pair();
        client.next_nonce = u64::MAX - 1;
        assert_eq!(client.take_nonce(), Some(u64::MAX - 1));
        assert_eq!(client.take_nonce(), None);
        assert_eq!(client.take_nonce(), None);
    }
}
