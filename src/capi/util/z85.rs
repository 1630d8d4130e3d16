//! Z85 text (ZeroMQ RFC 32) and CURVE keys: `zmq_z85_encode`, `zmq_z85_decode`,
//! `zmq_curve_keypair` and `zmq_curve_public`. The codec is `crate::util::z85` and the key
//! arithmetic `mechanism::curve::crypto`; this file checks the caller's buffers, writes the
//! results with their NUL, and wipes secret material before returning. No handles.

use std::ffi::{c_char, c_int};

use zeroize::Zeroizing;

use crate::capi::boundary::ffi;
use crate::capi::slice;
use crate::error::Error;
use crate::mechanism::curve::crypto::SecretKey;
use crate::util::z85;

/// Encodes `size` bytes at `data` as Z85 text (ZeroMQ RFC 32) into `dest`, which must hold
/// `size * 5 / 4 + 1` bytes (the text and a NUL). Returns `dest`, or NULL with errno EINVAL
/// when `size` is not a multiple of 4, EFAULT when `dest` is NULL or `data` is NULL with a
/// non-zero `size`. Neither buffer is retained. Thread-safe, never blocks.
///
/// # Safety
/// `data` must be NULL (with `size` 0) or readable for `size` bytes; `dest` must be NULL or
/// writable for `size * 5 / 4 + 1` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_z85_encode(
    dest: *mut c_char,
    data: *const u8,
    size: usize,
) -> *mut c_char {
    ffi!({
        z85::encoded_len(size)?;
        // SAFETY: forwarded contract.
        let text = z85::encode(unsafe { slice::bytes(data.cast(), size) }?)?;
        if dest.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: dest is writable for text.len() + 1 bytes per the contract; ptr::copy allows
        // dest to overlap the caller's data, which `text` no longer borrows.
        unsafe { std::ptr::copy(text.as_ptr(), dest.cast::<u8>(), text.len()) };
        // SAFETY: text.len() + 1 bytes at dest are writable, so the offset stays in bounds.
        let nul = unsafe { dest.add(text.len()) };
        // SAFETY: the NUL goes in the last of the size * 5 / 4 + 1 writable bytes.
        unsafe { nul.write(0) };
        Ok(dest)
    })
}

/// Decodes the NUL-terminated Z85 `string` into `dest`, which must hold `strlen(string) * 4 / 5`
/// bytes. Returns `dest`, or NULL with errno EINVAL when `string` is NULL, empty, not a multiple
/// of 5 characters long, contains a character outside the Z85 alphabet or a 5-character group
/// above 0xFFFFFFFF, and EFAULT when `dest` is NULL. Nothing is written on failure and nothing
/// is retained. Thread-safe, never blocks.
///
/// # Safety
/// `string` must be NULL or NUL-terminated; `dest` must be NULL or writable for
/// `strlen(string) * 4 / 5` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8 {
    ffi!({
        // SAFETY: forwarded contract.
        let bytes = z85::decode(unsafe { slice::c_str(string) }?.to_bytes())?;
        if dest.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: dest is writable for strlen * 4 / 5 == bytes.len() bytes per the contract;
        // ptr::copy tolerates overlap with the caller's string, which is no longer borrowed.
        unsafe { std::ptr::copy(bytes.as_ptr(), dest, bytes.len()) };
        Ok(dest)
    })
}

/// Writes a 40-character Z85 key and its NUL to `dest`.
///
/// # Safety
/// `dest` must be non-null and writable for 41 bytes.
unsafe fn put_z85_key(dest: *mut c_char, text: &[u8]) {
    let len = text.len().min(40);
    // SAFETY: dest is writable for 41 bytes per the contract and len <= 40; ptr::copy allows
    // dest to overlap the caller's other buffer, which `text` no longer borrows.
    unsafe { std::ptr::copy(text.as_ptr(), dest.cast::<u8>(), len) };
    // SAFETY: len <= 40, so the offset stays within the 41 writable bytes.
    let nul = unsafe { dest.add(len) };
    // SAFETY: the NUL goes in one of the 41 writable bytes.
    unsafe { nul.write(0) };
}

/// Generates a new CURVE key pair from the operating system's randomness and writes both keys
/// as Z85 text (40 characters and a NUL) to the two 41-byte buffers. Returns 0, or -1 with
/// errno EFAULT when a buffer is NULL (or, practically never, when the OS has no randomness
/// to give). The secret key is wiped from this library's memory before returning; nothing is
/// retained. Thread-safe, never blocks once the OS random source is initialised.
///
/// # Safety
/// Each pointer must be NULL or writable for 41 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key: *mut c_char,
    z85_secret_key: *mut c_char,
) -> c_int {
    ffi!({
        if z85_public_key.is_null() || z85_secret_key.is_null() {
            return Err(Error::Fault);
        }
        let secret = SecretKey::generate().map_err(|_| Error::Fault)?;
        let public = z85::encode(&secret.public_key())?;
        let secret_text = Zeroizing::new(z85::encode(secret.to_bytes().as_slice())?);
        // SAFETY: both are non-null and writable for 41 bytes per the contract.
        unsafe { put_z85_key(z85_public_key, &public) };
        // SAFETY: as above.
        unsafe { put_z85_key(z85_secret_key, &secret_text) };
        Ok(0)
    })
}

/// Derives the public key of the Z85 secret key `z85_secret_key` (40 characters and a NUL)
/// and writes it as Z85 text and a NUL to the 41-byte buffer `z85_public_key`. Returns 0, or -1
/// with errno EINVAL when the secret is NULL, not 40 characters or not valid Z85, and EFAULT
/// when `z85_public_key` is NULL. Nothing is retained; the decoded secret is wiped.
/// Thread-safe, never blocks.
///
/// # Safety
/// `z85_public_key` must be NULL or writable for 41 bytes; `z85_secret_key` must be NULL or a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key: *mut c_char,
    z85_secret_key: *const c_char,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let text = unsafe { slice::c_str(z85_secret_key) }?.to_bytes();
        if text.len() != 40 {
            return Err(Error::Invalid);
        }
        let decoded = Zeroizing::new(z85::decode(text)?);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(decoded.get(..32).ok_or(Error::Invalid)?);
        let public = z85::encode(&SecretKey::from_bytes(&bytes).public_key())?;
        if z85_public_key.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-null and writable for 41 bytes per the contract.
        unsafe { put_z85_key(z85_public_key, &public) };
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::util::errno_after;
    use std::ptr::{null, null_mut};

    #[test]
    fn z85_rejects_null_pointers() {
        let mut out = [0u8; 16];
        // SAFETY: NULL and valid buffers only.
        unsafe {
            let (r, e) = errno_after(|| zmq_z85_decode(out.as_mut_ptr(), null()));
            assert!(r.is_null() && e == libc::EINVAL);
            let (r, e) = errno_after(|| zmq_z85_decode(null_mut(), c"HelloWorld".as_ptr()));
            assert!(r.is_null() && e == libc::EFAULT);
            let (r, e) = errno_after(|| zmq_z85_encode(null_mut(), out.as_ptr(), 4));
            assert!(r.is_null() && e == libc::EFAULT);
            let (r, e) = errno_after(|| zmq_z85_encode(out.as_mut_ptr().cast(), null(), 4));
            assert!(r.is_null() && e == libc::EFAULT);
        }
    }

    fn c_text(buf: &[c_char; 41]) -> String {
        // SAFETY: the buffer is NUL-terminated by the function under test.
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn curve_keypair_gives_a_z85_pair_whose_public_key_derives_from_the_secret() {
        let mut public = [0x7f as c_char; 41];
        let mut secret = [0x7f as c_char; 41];
        let mut derived = [0x7f as c_char; 41];
        // SAFETY: valid 41-byte buffers; secret is NUL-terminated after the first call.
        unsafe {
            assert_eq!(
                zmq_curve_keypair(public.as_mut_ptr(), secret.as_mut_ptr()),
                0
            );
            assert_eq!(zmq_curve_public(derived.as_mut_ptr(), secret.as_ptr()), 0);
        }
        let (public, secret, derived) = (c_text(&public), c_text(&secret), c_text(&derived));
        assert_eq!(public.len(), 40);
        assert_eq!(secret.len(), 40);
        assert_eq!(public, derived);
        assert_ne!(public, secret);
        assert_eq!(z85::decode(public.as_bytes()).unwrap().len(), 32);
    }

    #[test]
    fn curve_public_matches_rfc7748() {
        // RFC 7748 section 6.1, Alice's key pair, in Z85.
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len() / 2)
                .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        };
        let sk = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let pk = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let mut sk_text = z85::encode(&sk).unwrap();
        sk_text.push(0);
        let mut out = [0 as c_char; 41];
        // SAFETY: a 41-byte buffer and a NUL-terminated string.
        let rc = unsafe { zmq_curve_public(out.as_mut_ptr(), sk_text.as_ptr().cast()) };
        assert_eq!(rc, 0);
        assert_eq!(c_text(&out).as_bytes(), z85::encode(&pk).unwrap());
    }

    #[test]
    fn curve_functions_check_their_arguments() {
        let mut a = [0 as c_char; 41];
        let mut b = [0 as c_char; 41];
        // SAFETY: valid buffers, NULL pointers and NUL-terminated strings only.
        unsafe {
            let k = errno_after(|| zmq_curve_keypair(null_mut(), b.as_mut_ptr()));
            assert_eq!(k, (-1, libc::EFAULT));
            let k = errno_after(|| zmq_curve_keypair(a.as_mut_ptr(), null_mut()));
            assert_eq!(k, (-1, libc::EFAULT));
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), null()));
            assert_eq!(p, (-1, libc::EINVAL));
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), c"abc".as_ptr()));
            assert_eq!(p, (-1, libc::EINVAL));
            let hashes = c"########################################";
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), hashes.as_ptr()));
            assert_eq!(p, (-1, libc::EINVAL), "groups above 2^32 - 1");
            let twenty = c"00000000000000000000";
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), twenty.as_ptr()));
            assert_eq!(p, (-1, libc::EINVAL), "only whole 40-character keys");
            let zeros = c"0000000000000000000000000000000000000000";
            let p = errno_after(|| zmq_curve_public(null_mut(), zeros.as_ptr()));
            assert_eq!(p, (-1, libc::EFAULT));
        }
    }
}
