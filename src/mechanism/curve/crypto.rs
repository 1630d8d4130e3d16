//! The only door to the CURVE primitives (RFC 26 CurveZMQ): X25519 key agreement,
//! XSalsa20-Poly1305 boxes and the HSalsa20 key derivation, all from libsodium (the library
//! libzmq uses) through `sodium.rs`, and OS randomness (`getrandom`). Nothing here is
//! home-made: a [`Cipher`] for a key pair is `crypto_box_beforenm` (HSalsa20 of the X25519
//! shared point, refused for a small-order peer key), and sealing is
//! `crypto_secretbox_detached`, in place: a 16-byte Poly1305 tag, then the ciphertext, exactly
//! the bytes libzmq puts on the wire (`crypto_box_easy_afternm` / `crypto_secretbox_easy`).
//!
//! Every secret (long- and short-term secret keys, precomputed keys, derived keys) is wiped when
//! it is dropped.
#![forbid(unsafe_code)]

use bytes::{BufMut, BytesMut};
use zeroize::Zeroizing;

use super::sodium;

/// Size of a CURVE public or secret key.
pub(crate) const KEY_LEN: usize = sodium::KEY_LEN;
/// Size of a box's authentication tag (libsodium's `crypto_box_MACBYTES`).
pub(crate) const TAG_LEN: usize = sodium::TAG_LEN;
/// Size of a full nonce (`crypto_box_NONCEBYTES`).
pub(crate) const NONCE_LEN: usize = sodium::NONCE_LEN;

/// A cryptographic operation failed: a box did not authenticate, a peer key was a small-order
/// point, libsodium could not initialise, or the OS had no randomness to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CryptoError;

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random(buf: &mut [u8]) -> Result<(), CryptoError> {
    getrandom::fill(buf).map_err(|_| CryptoError)
}

/// A secret key (long-term or short-term); wiped on drop.
pub(crate) struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    /// The key with these 32 bytes (X25519 clamps them when used, as libsodium does).
    pub(crate) fn from_bytes(bytes: &[u8; KEY_LEN]) -> SecretKey {
        SecretKey(Zeroizing::new(*bytes))
    }

    /// A fresh random key.
    pub(crate) fn generate() -> Result<SecretKey, CryptoError> {
        let mut key = SecretKey(Zeroizing::new([0u8; KEY_LEN]));
        random(key.0.as_mut_slice())?;
        if key.try_public_key().is_none() {
            return Err(CryptoError);
        }
        Ok(key)
    }

    fn try_public_key(&self) -> Option<[u8; KEY_LEN]> {
        let mut public = [0u8; KEY_LEN];
        (sodium::init() && sodium::scalarmult_base(&mut public, &self.0)).then_some(public)
    }

    /// The matching public key (`crypto_scalarmult_base`). Should libsodium fail (it does not
    /// for any 32 bytes once initialised), this is the all-zero point, which every box
    /// operation refuses, so a handshake fails rather than goes on with a wrong key.
    pub(crate) fn public_key(&self) -> [u8; KEY_LEN] {
        self.try_public_key().unwrap_or([0u8; KEY_LEN])
    }

    /// The secret bytes, in a buffer wiped on drop.
    pub(crate) fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        self.0.clone()
    }
}

/// An XSalsa20-Poly1305 key ready to seal and open boxes; wiped on drop.
pub(crate) struct Cipher(Zeroizing<[u8; KEY_LEN]>);

impl Cipher {
    /// A secret-box cipher with a symmetric key (CurveZMQ's cookie key).
    pub(crate) fn from_key(key: &[u8; KEY_LEN]) -> Cipher {
        // Without sodium_init libsodium still works, on its portable code paths.
        sodium::init();
        Cipher(Zeroizing::new(*key))
    }

    /// The box between `their_public` and `our_secret` (`crypto_box_beforenm`): HSalsa20 of the
    /// X25519 shared point. Fails, as libsodium does, when the peer key is a small-order point
    /// that would make the box key predictable.
    pub(crate) fn for_keys(
        their_public: &[u8; KEY_LEN],
        our_secret: &SecretKey,
    ) -> Result<Cipher, CryptoError> {
        if !sodium::init() {
            return Err(CryptoError);
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if !sodium::box_beforenm(&mut key, their_public, &our_secret.0) {
            return Err(CryptoError);
        }
        Ok(Cipher(key))
    }

    /// Encrypts `buf` in place and returns its tag (the tag goes before the ciphertext on the
    /// wire).
    pub(crate) fn seal_in_place(&self, nonce: &[u8; NONCE_LEN], buf: &mut [u8]) -> [u8; TAG_LEN] {
        let mut tag = [0u8; TAG_LEN];
        // Fails only beyond libsodium's 2^64-byte limit; the zero tag then never opens.
        if !sodium::secretbox_detached(buf, &mut tag, nonce, &self.0) {
            tag = [0u8; TAG_LEN];
        }
        tag
    }

    /// Checks `tag` and decrypts `buf` in place; on failure `buf` is left encrypted.
    pub(crate) fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), CryptoError> {
        if sodium::secretbox_open_detached(buf, tag, nonce, &self.0) {
            Ok(())
        } else {
            Err(CryptoError)
        }
    }

    /// Seals `plaintext` into a new `tag ‖ ciphertext` buffer.
    pub(crate) fn seal(&self, nonce: &[u8; NONCE_LEN], plaintext: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; TAG_LEN + plaintext.len()];
        let (tag, body) = out.split_at_mut(TAG_LEN);
        body.copy_from_slice(plaintext);
        tag.copy_from_slice(&self.seal_in_place(nonce, body));
        out
    }

    /// Opens a `tag ‖ ciphertext` box into a plaintext buffer that is wiped on drop.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (tag, body) = sealed.split_at_checked(TAG_LEN).ok_or(CryptoError)?;
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| CryptoError)?;
        let mut plain = Zeroizing::new(body.to_vec());
        self.open_in_place(nonce, &mut plain, tag)?;
        Ok(plain)
    }
}

/// A [`Cipher`] narrowed to the boxes whose 24-octet nonce starts with one fixed 16-octet
/// prefix, as CurveZMQ's MESSAGE nonces do ("CurveZMQMESSAGEC" and an 8-octet counter).
/// XSalsa20 with key k and nonce n is Salsa20 with the subkey HSalsa20(k, n[0..16]) and the
/// nonce n[16..24]; `crypto_secretbox_detached` computes that subkey for every box, and here it
/// is computed once. The rest is the secretbox construction as `crypto_secretbox_detached`
/// and `crypto_secretbox_open_detached` carry it out, with libsodium's Salsa20 and Poly1305:
/// Salsa20 block 0 gives the Poly1305 key and encrypts the first 32 octets, blocks 1.. the
/// rest, and the tag covers the ciphertext (opening takes block 0 once where libsodium takes
/// it twice). A test checks that the boxes are byte for byte libsodium's over many lengths.
/// The subkey is wiped on drop.
pub(crate) struct PrefixedCipher {
    subkey: Zeroizing<[u8; KEY_LEN]>,
    /// False if HSalsa20 failed (libsodium's never does): then nothing is encrypted under the
    /// unset subkey, and every box fails.
    usable: bool,
}

impl Cipher {
    /// This cipher for nonces that start with `prefix`.
    pub(crate) fn with_prefix(&self, prefix: &[u8; 16]) -> PrefixedCipher {
        let mut subkey = Zeroizing::new([0u8; KEY_LEN]);
        let usable = sodium::hsalsa20(&mut subkey, prefix, &self.0);
        PrefixedCipher { subkey, usable }
    }
}

/// Size of the Poly1305 one-time key taken from the start of Salsa20's block 0.
const POLY_KEY_LEN: usize = 32;
/// Size of a Salsa20 block.
const BLOCK_LEN: usize = 64;

impl PrefixedCipher {
    /// Appends to `out` the concatenation of `parts` encrypted under the nonce
    /// `prefix ‖ counter`, and returns its tag: the box [`Cipher::seal_in_place`] makes of that
    /// concatenation with the full nonce. Whole key-stream blocks are encrypted straight from where
    /// the parts lie; only the octets around block and part boundaries pass through a wiped
    /// 64-octet block. If sealing fails (never with libsodium), zeros and the zero tag,
    /// which never opens, are appended instead.
    pub(crate) fn seal_append<'a>(
        &self,
        counter: u64,
        out: &mut BytesMut,
        parts: impl IntoIterator<Item = &'a [u8]> + Clone,
    ) -> [u8; TAG_LEN] {
        let nonce = counter.to_be_bytes();
        let start = out.len();
        let mut tag = [0u8; TAG_LEN];
        let sealed = self.block0(&nonce).is_some_and(|block0| {
            split_block0(&block0).is_some_and(|(poly_key, rest)| {
                self.xor_append(&nonce, rest, out, parts.clone())
                    && out
                        .get(start..)
                        .is_some_and(|sealed| sodium::poly1305(&mut tag, sealed, poly_key))
            })
        });
        if !sealed {
            let len = parts.into_iter().map(<[u8]>::len).sum();
            out.truncate(start);
            out.put_bytes(0, len);
            tag = [0u8; TAG_LEN];
        }
        tag
    }

    /// Appends `parts` XORed with the key stream from octet 32 on (`rest`, the end of block 0,
    /// then blocks 1..), as [`PrefixedCipher::xor`] would over their concatenation.
    fn xor_append<'a>(
        &self,
        nonce: &[u8; 8],
        rest: &[u8],
        out: &mut BytesMut,
        parts: impl IntoIterator<Item = &'a [u8]>,
    ) -> bool {
        // The block being put together: octets `from..fill` are plaintext still to encrypt.
        let mut staged = Zeroizing::new([0u8; BLOCK_LEN]);
        let mut from = POLY_KEY_LEN;
        let mut fill = POLY_KEY_LEN;
        let mut block = 0u64;
        for mut part in parts {
            while !part.is_empty() {
                if fill == 0 && part.len() >= BLOCK_LEN {
                    let (whole, after) = part.split_at(part.len() - part.len() % BLOCK_LEN);
                    if !sodium::salsa20_xor_ic_append(out, whole, nonce, block, &self.subkey) {
                        return false;
                    }
                    block += (whole.len() / BLOCK_LEN) as u64;
                    part = after;
                    continue;
                }
                let (now, after) = part.split_at(part.len().min(BLOCK_LEN - fill));
                if let Some(slot) = staged.get_mut(fill..fill + now.len()) {
                    slot.copy_from_slice(now);
                }
                fill += now.len();
                part = after;
                if fill == BLOCK_LEN {
                    let plain = staged.get_mut(from..).unwrap_or_default();
                    if !self.flush_staged(nonce, rest, block, plain, out) {
                        return false;
                    }
                    (block, from, fill) = (block + 1, 0, 0);
                }
            }
        }
        let plain = staged.get_mut(from..fill).unwrap_or_default();
        plain.is_empty() || self.flush_staged(nonce, rest, block, plain, out)
    }

    /// Encrypts `plain`, the octets of key-stream block `block` from its start (from octet 32
    /// in block 0, whose key stream there is `rest`), and appends them to `out`.
    fn flush_staged(
        &self,
        nonce: &[u8; 8],
        rest: &[u8],
        block: u64,
        plain: &mut [u8],
        out: &mut BytesMut,
    ) -> bool {
        let ok = if block == 0 {
            for (b, k) in plain.iter_mut().zip(rest) {
                *b ^= k;
            }
            true
        } else {
            sodium::salsa20_xor_ic(plain, nonce, block, &self.subkey)
        };
        out.extend_from_slice(plain);
        ok
    }

    /// Checks `tag` and decrypts `buf` in place, as [`Cipher::open_in_place`] with the nonce
    /// `prefix ‖ counter` would; on failure `buf` is left encrypted.
    pub(crate) fn open_in_place(
        &self,
        counter: u64,
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), CryptoError> {
        let nonce = counter.to_be_bytes();
        let block0 = self.block0(&nonce).ok_or(CryptoError)?;
        let (poly_key, rest) = split_block0(&block0).ok_or(CryptoError)?;
        if sodium::poly1305_verify(tag, buf, poly_key) && self.xor(&nonce, rest, buf) {
            Ok(())
        } else {
            Err(CryptoError)
        }
    }

    /// Checks `tag` over `sealed` and appends its decryption to `out`, as
    /// [`PrefixedCipher::open_in_place`] would decrypt it, reading the box where it lies; on
    /// failure `out` is left as it was.
    pub(crate) fn open_append(
        &self,
        counter: u64,
        sealed: &[u8],
        tag: &[u8; TAG_LEN],
        out: &mut BytesMut,
    ) -> Result<(), CryptoError> {
        let nonce = counter.to_be_bytes();
        let block0 = self.block0(&nonce).ok_or(CryptoError)?;
        let (poly_key, rest) = split_block0(&block0).ok_or(CryptoError)?;
        let start = out.len();
        if sodium::poly1305_verify(tag, sealed, poly_key)
            && self.xor_append(&nonce, rest, out, [sealed])
        {
            Ok(())
        } else {
            out.truncate(start);
            Err(CryptoError)
        }
    }

    /// Block 0 of the Salsa20 key stream for `nonce` (wiped on drop): its first 32 octets are
    /// the box's Poly1305 key, the other 32 encrypt the first 32 octets of the message.
    fn block0(&self, nonce: &[u8; 8]) -> Option<Zeroizing<[u8; BLOCK_LEN]>> {
        let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
        (self.usable && sodium::salsa20_xor_ic(block.as_mut_slice(), nonce, 0, &self.subkey))
            .then_some(block)
    }

    /// XORs `buf` with the key stream from octet 32 on: `rest` (the end of block 0) over its
    /// first 32 octets, blocks 1.. over the others.
    fn xor(&self, nonce: &[u8; 8], rest: &[u8], buf: &mut [u8]) -> bool {
        let (head, tail) = buf.split_at_mut(buf.len().min(rest.len()));
        for (b, k) in head.iter_mut().zip(rest) {
            *b ^= k;
        }
        tail.is_empty() || sodium::salsa20_xor_ic(tail, nonce, 1, &self.subkey)
    }
}

/// Block 0 as the Poly1305 key and the 32 key-stream octets after it (always `Some`).
fn split_block0(block0: &[u8; BLOCK_LEN]) -> Option<(&[u8; POLY_KEY_LEN], &[u8])> {
    block0.split_first_chunk::<POLY_KEY_LEN>()
}

/// A full nonce of a 16-byte prefix and an 8-byte counter (network order), as HELLO,
/// INITIATE, READY and MESSAGE use ("CurveZMQHELLO---" ...).
pub(crate) fn short_nonce(prefix: &[u8; 16], counter: u64) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    let (a, b) = n.split_at_mut(16);
    a.copy_from_slice(prefix);
    b.copy_from_slice(&counter.to_be_bytes());
    n
}

/// A full nonce of an 8-byte prefix and 16 more bytes, as WELCOME, the cookie and the vouch use
/// ("WELCOME-" ...).
pub(crate) fn long_nonce(prefix: &[u8; 8], rest: &[u8; 16]) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    let (a, b) = n.split_at_mut(8);
    a.copy_from_slice(prefix);
    b.copy_from_slice(rest);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let mut out = [0u8; N];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn unhex_vec(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    // RFC 7748 §6.1's key pairs; the boxes were produced with libsodium 1.0.18
    // (crypto_box_easy / crypto_secretbox_easy, nonce 00 01 .. 17).
    const ALICE_SK: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    const ALICE_PK: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    const BOB_SK: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    const BOB_PK: &str = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    const BOX: &str = "8d082f8177cac1e6e752fcf79324f160463b22d37e2c182c60ecf611d4e498bf8fb1ae8507";
    const SECRETBOX: &str =
        "f02e89155d778c72aed82bc241a9601e47fefbf9029165c674937e3b3d2ab3f4ceee655f85";
    const MSG: &[u8] = b"CurveZMQ known answer";

    fn counting_nonce() -> [u8; NONCE_LEN] {
        let mut n = [0u8; NONCE_LEN];
        for (i, b) in n.iter_mut().enumerate() {
            *b = i as u8;
        }
        n
    }

    #[test]
    fn public_keys_match_rfc7748() {
        let alice = SecretKey::from_bytes(&unhex(ALICE_SK));
        assert_eq!(alice.public_key(), unhex::<32>(ALICE_PK));
        let bob = SecretKey::from_bytes(&unhex(BOB_SK));
        assert_eq!(bob.public_key(), unhex::<32>(BOB_PK));
    }

    #[test]
    fn box_matches_libsodium_both_ways() {
        let alice = SecretKey::from_bytes(&unhex(ALICE_SK));
        let bob = SecretKey::from_bytes(&unhex(BOB_SK));
        let n = counting_nonce();
        let sealed = Cipher::for_keys(&unhex(BOB_PK), &alice)
            .unwrap()
            .seal(&n, MSG);
        assert_eq!(sealed, unhex_vec(BOX));
        let opened = Cipher::for_keys(&unhex(ALICE_PK), &bob)
            .unwrap()
            .open(&n, &sealed)
            .unwrap();
        assert_eq!(&opened[..], MSG);
    }

    #[test]
    fn prefixed_box_matches_libsodium_known_answer() {
        let alice = SecretKey::from_bytes(&unhex(ALICE_SK));
        let n = counting_nonce();
        let prefix: [u8; 16] = n[..16].try_into().unwrap();
        let counter = u64::from_be_bytes(n[16..].try_into().unwrap());
        let c = Cipher::for_keys(&unhex(BOB_PK), &alice).unwrap();
        let p = c.with_prefix(&prefix);
        let (tag, mut buf) = seal_parts(&p, counter, &[MSG]);
        let mut sealed = tag.to_vec();
        sealed.extend_from_slice(&buf);
        assert_eq!(sealed, unhex_vec(BOX));
        p.open_in_place(counter, &mut buf, &tag).unwrap();
        assert_eq!(buf, MSG);
    }

    fn seal_parts(p: &PrefixedCipher, counter: u64, parts: &[&[u8]]) -> ([u8; TAG_LEN], Vec<u8>) {
        let mut out = BytesMut::from(&b"kept"[..]);
        let tag = p.seal_append(counter, &mut out, parts.iter().copied());
        assert_eq!(&out[..4], b"kept", "what was in the buffer stays");
        (tag, out[4..].to_vec())
    }

    /// The prefixed cipher makes exactly crypto_secretbox_detached's boxes, around the 32-octet
    /// split of Salsa20's block 0, the block boundaries and for large messages, whether the
    /// plaintext comes in one part or in parts split anywhere (empty ones included).
    #[test]
    fn prefixed_boxes_equal_secretbox_at_every_length() {
        let mut key = [0u8; 32];
        random(&mut key).unwrap();
        let c = Cipher::from_key(&key);
        let prefix = b"CurveZMQMESSAGEC";
        let p = c.with_prefix(prefix);
        let lens = (0..=300).chain([511, 512, 513, 4096, 65536, 65536 + 7]);
        for (i, len) in lens.enumerate() {
            let counter = 0x0102_0304_0506_0000 + i as u64;
            let mut plain = vec![0u8; len];
            random(&mut plain).unwrap();
            let full = short_nonce(prefix, counter);
            let mut a = plain.clone();
            let tag_a = c.seal_in_place(&full, &mut a);
            let (tag_b, mut b) = seal_parts(&p, counter, &[&plain]);
            assert_eq!((tag_a, &a), (tag_b, &b), "length {len}");
            for cuts in [
                [0, 1, 1],
                [1, 32, 95],
                [31, 33, 64],
                [7, 70, 200],
                [len / 3, len / 2, len],
            ] {
                let [x, y, z] = cuts.map(|c| c.min(len));
                let (x, y) = (x.min(y), x.max(y));
                let (y, z) = (y.min(z), y.max(z));
                let parts = [
                    &plain[..x],
                    &plain[x..y],
                    &[][..],
                    &plain[y..z],
                    &plain[z..],
                ];
                assert_eq!(
                    seal_parts(&p, counter, &parts),
                    (tag_a, a.clone()),
                    "{len} {cuts:?}"
                );
            }
            // Each opens the other's box.
            c.open_in_place(&full, &mut b, &tag_b).unwrap();
            p.open_in_place(counter, &mut a, &tag_a).unwrap();
            assert_eq!((&a, &b), (&plain, &plain), "length {len}");
        }
    }

    #[test]
    fn prefixed_open_refuses_tampering_and_leaves_the_box() {
        let c = Cipher::from_key(&[9u8; 32]);
        let p = c.with_prefix(b"CurveZMQMESSAGES");
        let payload =
            b"some payload that spans more than one salsa20 block..........................";
        let (tag, mut buf) = seal_parts(&p, 5, &[payload]);
        let sealed = buf.clone();
        let mut bad_tag = tag;
        bad_tag[0] ^= 1;
        assert_eq!(p.open_in_place(5, &mut buf, &bad_tag), Err(CryptoError));
        assert_eq!(p.open_in_place(6, &mut buf, &tag), Err(CryptoError));
        buf[40] ^= 1;
        assert_eq!(p.open_in_place(5, &mut buf, &tag), Err(CryptoError));
        buf[40] ^= 1;
        assert_eq!(buf, sealed, "a refused box stays as it was");
        let other = c.with_prefix(b"CurveZMQMESSAGEC");
        assert_eq!(other.open_in_place(5, &mut buf, &tag), Err(CryptoError));
        p.open_in_place(5, &mut buf, &tag).unwrap();
    }

    #[test]
    fn secretbox_matches_libsodium() {
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = 0x80 + i as u8;
        }
        let c = Cipher::from_key(&key);
        assert_eq!(c.seal(&counting_nonce(), MSG), unhex_vec(SECRETBOX));
    }

    #[test]
    fn tampering_and_wrong_nonce_fail() {
        let alice = SecretKey::from_bytes(&unhex(ALICE_SK));
        let c = Cipher::for_keys(&unhex(BOB_PK), &alice).unwrap();
        let n = counting_nonce();
        let mut sealed = c.seal(&n, MSG);
        let mut other = n;
        other[23] ^= 1;
        assert_eq!(c.open(&other, &sealed).map(|_| ()), Err(CryptoError));
        sealed[20] ^= 0x40;
        assert_eq!(c.open(&n, &sealed).map(|_| ()), Err(CryptoError));
        assert_eq!(c.open(&n, &sealed[..10]).map(|_| ()), Err(CryptoError));
    }

    #[test]
    fn small_order_peer_keys_are_refused() {
        let alice = SecretKey::from_bytes(&unhex(ALICE_SK));
        assert!(Cipher::for_keys(&[0u8; 32], &alice).is_err());
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(Cipher::for_keys(&one, &alice).is_err());
    }

    #[test]
    fn generated_keys_differ() {
        let a = SecretKey::generate().unwrap();
        let b = SecretKey::generate().unwrap();
        assert_ne!(a.public_key(), b.public_key());
        assert_ne!(*a.to_bytes(), [0u8; 32]);
    }
}
