//! The FFI to libsodium (RFC 26 CurveZMQ's primitives, as libzmq uses them), through the
//! maintained `libsodium-sys-stable` binding, which builds the libsodium source it ships and
//! links it statically (no system library needed at build or run time). libsodium picks its
//! SSE2/SSSE3/AVX2 code paths at run time in `sodium_init`, so a generic x86-64 build gets them.
//!
//! This is the one file of `mechanism/` allowed `unsafe` (ARCHITECTURE.md), and only
//! `crypto.rs` calls it. Every function is a safe wrapper: the arrays and slices it takes fix
//! the lengths the C side reads and writes, and libsodium keeps no pointer after returning.
//! Callers own the wiping of the secrets they pass in and get back.
#![allow(
    unsafe_code,
    reason = "FFI calls into libsodium, each checked against its contract"
)]

use std::sync::OnceLock;

use bytes::BytesMut;
use libsodium_sys as ffi;

/// Size of a key (X25519 scalar or point, precomputed box key, secretbox key).
pub(super) const KEY_LEN: usize = 32;
/// Size of a Poly1305 tag (`crypto_secretbox_MACBYTES`).
pub(super) const TAG_LEN: usize = 16;
/// Size of an XSalsa20 nonce (`crypto_secretbox_NONCEBYTES`).
pub(super) const NONCE_LEN: usize = 24;

/// Runs `sodium_init` once per process (it selects the fastest implementations for this CPU);
/// false if libsodium could not initialise and must not be used.
pub(super) fn init() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        // SAFETY: sodium_init takes no arguments, is thread-safe and may be called repeatedly;
        // it returns 0 (done now), 1 (done before) or -1 (failed).
        let rc = unsafe { ffi::sodium_init() };
        rc >= 0
    })
}

/// `crypto_scalarmult_base`: the X25519 public key of `secret` (clamped inside libsodium).
/// False if libsodium refuses the scalar.
pub(super) fn scalarmult_base(public: &mut [u8; KEY_LEN], secret: &[u8; KEY_LEN]) -> bool {
    // SAFETY: `public` is 32 writable bytes and `secret` 32 readable ones, the sizes
    // crypto_scalarmult_BYTES and crypto_scalarmult_SCALARBYTES.
    let rc = unsafe { ffi::crypto_scalarmult_base(public.as_mut_ptr(), secret.as_ptr()) };
    rc == 0
}

/// `crypto_box_beforenm`: HSalsa20 of the X25519 shared point of `their_public` and
/// `our_secret` into `key`. False, as in libzmq, when the peer key is a small-order point
/// (the shared point would be predictable).
pub(super) fn box_beforenm(
    key: &mut [u8; KEY_LEN],
    their_public: &[u8; KEY_LEN],
    our_secret: &[u8; KEY_LEN],
) -> bool {
    // SAFETY: `key` is 32 writable bytes (crypto_box_BEFORENMBYTES); the public and secret
    // keys are 32 readable bytes each (crypto_box_PUBLICKEYBYTES, crypto_box_SECRETKEYBYTES).
    let rc = unsafe {
        ffi::crypto_box_beforenm(key.as_mut_ptr(), their_public.as_ptr(), our_secret.as_ptr())
    };
    rc == 0
}

/// `crypto_secretbox_detached`, in place: encrypts `buf` with XSalsa20 and writes its
/// Poly1305 tag to `tag`. False only for a message longer than libsodium's limit (2^64 bytes
/// less a little), which a `usize` slice cannot reach on the supported platforms.
pub(super) fn secretbox_detached(
    buf: &mut [u8],
    tag: &mut [u8; TAG_LEN],
    nonce: &[u8; NONCE_LEN],
    key: &[u8; KEY_LEN],
) -> bool {
    let Ok(len) = u64::try_from(buf.len()) else {
        return false;
    };
    let p = buf.as_mut_ptr();
    // SAFETY: `p` points to `len` bytes that are both the plaintext read and the ciphertext
    // written; libsodium documents (and its code checks) that the two may be the same buffer.
    // `tag` is 16 writable bytes, `nonce` 24 and `key` 32 readable ones.
    let rc = unsafe {
        ffi::crypto_secretbox_detached(p, tag.as_mut_ptr(), p, len, nonce.as_ptr(), key.as_ptr())
    };
    rc == 0
}

/// `crypto_secretbox_open_detached`, in place: checks `tag` over the ciphertext in `buf` and,
/// only if it is right, decrypts `buf`. False (with `buf` untouched) if the box does not open.
pub(super) fn secretbox_open_detached(
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
    nonce: &[u8; NONCE_LEN],
    key: &[u8; KEY_LEN],
) -> bool {
    let Ok(len) = u64::try_from(buf.len()) else {
        return false;
    };
    let p = buf.as_mut_ptr();
    // SAFETY: `p` points to `len` bytes that are both the ciphertext read and the plaintext
    // written (in place is allowed, as above; nothing is written unless the tag verifies).
    // `tag` is 16, `nonce` 24 and `key` 32 readable bytes.
    let rc = unsafe {
        ffi::crypto_secretbox_open_detached(p, p, tag.as_ptr(), len, nonce.as_ptr(), key.as_ptr())
    };
    rc == 0
}

/// `crypto_core_hsalsa20` with Salsa20's standard constants: XSalsa20's subkey for `key` and
/// the first 16 octets of a 24-octet nonce (what `crypto_secretbox` computes first).
pub(super) fn hsalsa20(subkey: &mut [u8; KEY_LEN], input: &[u8; 16], key: &[u8; KEY_LEN]) -> bool {
    // SAFETY: `subkey` is 32 writable bytes (crypto_core_hsalsa20_OUTPUTBYTES), `input` 16 and
    // `key` 32 readable ones; a NULL constant selects the default "expand 32-byte k".
    let rc = unsafe {
        ffi::crypto_core_hsalsa20(
            subkey.as_mut_ptr(),
            input.as_ptr(),
            key.as_ptr(),
            std::ptr::null(),
        )
    };
    rc == 0
}

/// `crypto_stream_salsa20_xor_ic`, in place: XORs `buf` with the Salsa20 key stream of `key`
/// and the 8-octet `nonce`, starting at 64-octet block `block`.
pub(super) fn salsa20_xor_ic(
    buf: &mut [u8],
    nonce: &[u8; 8],
    block: u64,
    key: &[u8; KEY_LEN],
) -> bool {
    let Ok(len) = u64::try_from(buf.len()) else {
        return false;
    };
    let p = buf.as_mut_ptr();
    // SAFETY: `p` points to `len` bytes read and written in place (libsodium's own
    // crypto_secretbox_open_detached calls this with the same input and output buffer);
    // `nonce` is 8 readable bytes (crypto_stream_salsa20_NONCEBYTES) and `key` 32.
    let rc = unsafe {
        ffi::crypto_stream_salsa20_xor_ic(p, p, len, nonce.as_ptr(), block, key.as_ptr())
    };
    rc == 0
}

/// `crypto_stream_salsa20_xor_ic` from `input` to `input.len()` new octets appended to `out`:
/// `input` XORed with the Salsa20 key stream of `key` and the 8-octet `nonce` from 64-octet
/// block `block`. The input is read where it lies, not copied first.
pub(super) fn salsa20_xor_ic_append(
    out: &mut BytesMut,
    input: &[u8],
    nonce: &[u8; 8],
    block: u64,
    key: &[u8; KEY_LEN],
) -> bool {
    let Ok(len) = u64::try_from(input.len()) else {
        return false;
    };
    out.reserve(input.len());
    let dst = out.spare_capacity_mut();
    if dst.len() < input.len() {
        return false;
    }
    let p = dst.as_mut_ptr().cast::<u8>();
    // SAFETY: `p` points to at least `len` writable bytes of `out`'s spare capacity (checked
    // above), which `input` (a shared borrow) cannot overlap; libsodium reads `len` bytes of
    // `input` and writes `len` bytes at `p`; `nonce` is 8 readable bytes
    // (crypto_stream_salsa20_NONCEBYTES) and `key` 32.
    let rc = unsafe {
        ffi::crypto_stream_salsa20_xor_ic(
            p,
            input.as_ptr(),
            len,
            nonce.as_ptr(),
            block,
            key.as_ptr(),
        )
    };
    if rc != 0 {
        return false;
    }
    let filled = out.len() + input.len();
    // SAFETY: the `input.len()` bytes after the old length were all written by the call above,
    // and `reserve` made them part of the allocation.
    unsafe { out.set_len(filled) };
    true
}

/// `crypto_onetimeauth_poly1305`: the Poly1305 tag of `msg` under the one-time `key`.
pub(super) fn poly1305(tag: &mut [u8; TAG_LEN], msg: &[u8], key: &[u8; KEY_LEN]) -> bool {
    let Ok(len) = u64::try_from(msg.len()) else {
        return false;
    };
    // SAFETY: `tag` is 16 writable bytes (crypto_onetimeauth_poly1305_BYTES), `msg` `len`
    // readable ones and `key` 32 (crypto_onetimeauth_poly1305_KEYBYTES).
    let rc = unsafe {
        ffi::crypto_onetimeauth_poly1305(tag.as_mut_ptr(), msg.as_ptr(), len, key.as_ptr())
    };
    rc == 0
}

/// `crypto_onetimeauth_poly1305_verify`: whether `tag` is the tag of `msg` under the one-time
/// `key` (compared in constant time by libsodium).
pub(super) fn poly1305_verify(tag: &[u8; TAG_LEN], msg: &[u8], key: &[u8; KEY_LEN]) -> bool {
    let Ok(len) = u64::try_from(msg.len()) else {
        return false;
    };
    // SAFETY: `tag` is 16 readable bytes, `msg` `len` and `key` 32.
    let rc = unsafe {
        ffi::crypto_onetimeauth_poly1305_verify(tag.as_ptr(), msg.as_ptr(), len, key.as_ptr())
    };
    rc == 0
}
