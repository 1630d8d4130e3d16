//! Security options (RFC 24 PLAIN, RFC 25/26 CURVE, RFC 27 ZAP) with libzmq 4.3's exact size
//! and value rules, checked against Debian's libzmq 4.3.4 (built with libsodium):
//!
//! - `ZMQ_PLAIN_SERVER` / `ZMQ_CURVE_SERVER`: an `int` that is exactly 0 or 1; 1 selects the
//!   mechanism in the server role, 0 selects NULL. Reading gives 1 only while that mechanism is
//!   selected in the server role.
//! - `ZMQ_PLAIN_USERNAME` / `ZMQ_PLAIN_PASSWORD`: 1 to 255 bytes, kept byte for byte (NULs
//!   included); selects PLAIN as a client. (NULL, 0) selects NULL and keeps the stored value;
//!   an empty value through a non-NULL pointer is `EINVAL`.
//! - `ZMQ_CURVE_PUBLICKEY` / `ZMQ_CURVE_SECRETKEY` / `ZMQ_CURVE_SERVERKEY`: 32 binary bytes,
//!   or 40 Z85 characters, or 41 (Z85 and a NUL); selects CURVE, and the server key also the
//!   client role. Z85 text ends at its first NUL, as the C string libzmq decodes does. Reading
//!   needs a buffer of exactly 32 (binary) or 41 (Z85 with NUL) bytes.
//! - `ZMQ_ZAP_DOMAIN`: 1 to 255 bytes, kept byte for byte (a trailing NUL too, and ZAP
//!   requests carry it); an empty value is `EINVAL`.
//! - `ZMQ_MECHANISM`: read-only `int`.
//!
//! String options read back with a NUL appended and the rest of the buffer zeroed; the buffer
//! must hold the value and the NUL.
//!
//! Layer L0 (depends on `error`, `consts`, `util::z85`). Secrets are wiped on drop.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    allow(
        dead_code,
        reason = "Options delegates the security options here once it is wired (see the module doc)"
    )
)]

use std::fmt;

use zeroize::Zeroizing;

use super::value::{int_value, put_exact};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::util::z85;

/// Size of a CURVE key in binary.
pub(crate) const CURVE_KEY_LEN: usize = 32;
/// Size of a CURVE key in Z85, without the NUL.
pub(crate) const CURVE_KEY_Z85_LEN: usize = 40;

/// The security options of one socket, with libzmq's defaults (NULL, no keys, no domain).
#[derive(Clone, Default)]
pub(crate) struct Security {
    /// `ZMQ_MECHANISM`: `ZMQ_NULL`, `ZMQ_PLAIN` or `ZMQ_CURVE`.
    pub(crate) mechanism: i32,
    /// Server role for PLAIN and CURVE.
    pub(crate) as_server: bool,
    /// `ZMQ_PLAIN_USERNAME`.
    pub(crate) plain_username: Vec<u8>,
    /// `ZMQ_PLAIN_PASSWORD`; wiped on drop.
    pub(crate) plain_password: Zeroizing<Vec<u8>>,
    /// `ZMQ_CURVE_PUBLICKEY`.
    pub(crate) curve_public_key: [u8; CURVE_KEY_LEN],
    /// `ZMQ_CURVE_SECRETKEY`; wiped on drop.
    pub(crate) curve_secret_key: Zeroizing<[u8; CURVE_KEY_LEN]>,
    /// `ZMQ_CURVE_SERVERKEY`.
    pub(crate) curve_server_key: [u8; CURVE_KEY_LEN],
    /// `ZMQ_ZAP_DOMAIN`, byte for byte.
    pub(crate) zap_domain: Vec<u8>,
}

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Security")
            .field("mechanism", &self.mechanism)
            .field("as_server", &self.as_server)
            .field(
                "plain_username",
                &String::from_utf8_lossy(&self.plain_username),
            )
            .field("plain_password", &"<redacted>")
            .field("curve_public_key", &self.curve_public_key)
            .field("curve_secret_key", &"<redacted>")
            .field("curve_server_key", &self.curve_server_key)
            .field("zap_domain", &String::from_utf8_lossy(&self.zap_domain))
            .finish()
    }
}

impl Security {
    /// True for the options [`Security::set`] and [`Security::get`] answer.
    pub(crate) fn handles(option: i32) -> bool {
        matches!(
            option,
            ZMQ_MECHANISM
                | ZMQ_PLAIN_SERVER
                | ZMQ_PLAIN_USERNAME
                | ZMQ_PLAIN_PASSWORD
                | ZMQ_CURVE_SERVER
                | ZMQ_CURVE_PUBLICKEY
                | ZMQ_CURVE_SECRETKEY
                | ZMQ_CURVE_SERVERKEY
                | ZMQ_ZAP_DOMAIN
        )
    }

    /// `zmq_setsockopt` for a security option. `value` is None when the caller passed a NULL
    /// pointer with length 0, which means "reset" for the PLAIN credentials.
    pub(crate) fn set(&mut self, option: i32, value: Option<&[u8]>) -> Result<()> {
        let v = value.unwrap_or_default();
        match option {
            ZMQ_PLAIN_SERVER => {
                self.as_server = strict_bool(v)?;
                self.mechanism = if self.as_server { ZMQ_PLAIN } else { ZMQ_NULL };
            }
            ZMQ_CURVE_SERVER => {
                self.as_server = strict_bool(v)?;
                self.mechanism = if self.as_server { ZMQ_CURVE } else { ZMQ_NULL };
            }
            ZMQ_PLAIN_USERNAME | ZMQ_PLAIN_PASSWORD => match value {
                None => self.mechanism = ZMQ_NULL,
                Some(v) if (1..=255).contains(&v.len()) => {
                    if option == ZMQ_PLAIN_USERNAME {
                        self.plain_username = v.to_vec();
                    } else {
                        self.plain_password = Zeroizing::new(v.to_vec());
                    }
                    self.as_server = false;
                    self.mechanism = ZMQ_PLAIN;
                }
                Some(_) => return Err(Error::Invalid),
            },
            ZMQ_CURVE_PUBLICKEY => {
                set_curve_key(&mut self.curve_public_key, v)?;
                self.mechanism = ZMQ_CURVE;
            }
            ZMQ_CURVE_SECRETKEY => {
                set_curve_key(&mut self.curve_secret_key, v)?;
                self.mechanism = ZMQ_CURVE;
            }
            ZMQ_CURVE_SERVERKEY => {
                set_curve_key(&mut self.curve_server_key, v)?;
                self.mechanism = ZMQ_CURVE;
                self.as_server = false;
            }
            ZMQ_ZAP_DOMAIN => {
                if !(1..=255).contains(&v.len()) {
                    return Err(Error::Invalid);
                }
                self.zap_domain = v.to_vec();
            }
            _ => return Err(Error::Invalid),
        }
        Ok(())
    }

    /// `zmq_getsockopt` for a security option into `out`; returns the length to report.
    pub(crate) fn get(&self, option: i32, out: &mut [u8]) -> Result<usize> {
        let int = |x: bool, out: &mut [u8]| put_exact(out, &i32::from(x).to_ne_bytes());
        match option {
            ZMQ_MECHANISM => put_exact(out, &self.mechanism.to_ne_bytes()),
            ZMQ_PLAIN_SERVER => int(self.as_server && self.mechanism == ZMQ_PLAIN, out),
            ZMQ_CURVE_SERVER => int(self.as_server && self.mechanism == ZMQ_CURVE, out),
            ZMQ_PLAIN_USERNAME => put_c_string(out, &self.plain_username),
            ZMQ_PLAIN_PASSWORD => put_c_string(out, &self.plain_password),
            ZMQ_ZAP_DOMAIN => put_c_string(out, &self.zap_domain),
            ZMQ_CURVE_PUBLICKEY => put_curve_key(out, &self.curve_public_key),
            ZMQ_CURVE_SECRETKEY => put_curve_key(out, &self.curve_secret_key),
            ZMQ_CURVE_SERVERKEY => put_curve_key(out, &self.curve_server_key),
            _ => Err(Error::Invalid),
        }
    }
}

/// An `int` that must be exactly 0 or 1 (libzmq's strict booleans).
fn strict_bool(v: &[u8]) -> Result<bool> {
    match int_value(v)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Invalid),
    }
}

/// Sets a CURVE key from 32 binary bytes or Z85 text (40 characters, or 41 with the NUL).
/// Like libzmq, the text is read as a C string: it ends at its first NUL, must then be a
/// non-empty multiple of 5 characters, and only the bytes it decodes to are replaced.
fn set_curve_key(key: &mut [u8; CURVE_KEY_LEN], v: &[u8]) -> Result<()> {
    match v.len() {
        CURVE_KEY_LEN => key.copy_from_slice(v),
        40 | 41 => {
            let text = v.split(|&b| b == 0).next().unwrap_or_default();
            let decoded = Zeroizing::new(z85::decode(text)?);
            let dst = key.get_mut(..decoded.len()).ok_or(Error::Invalid)?;
            dst.copy_from_slice(&decoded);
        }
        _ => return Err(Error::Invalid),
    }
    Ok(())
}

/// Reads a CURVE key: binary into exactly 32 bytes, Z85 with a NUL into exactly 41.
fn put_curve_key(out: &mut [u8], key: &[u8; CURVE_KEY_LEN]) -> Result<usize> {
    match out.len() {
        CURVE_KEY_LEN => {
            out.copy_from_slice(key);
            Ok(CURVE_KEY_LEN)
        }
        41 => {
            let text = Zeroizing::new(z85::encode(key)?);
            let (body, nul) = out.split_at_mut(CURVE_KEY_Z85_LEN);
            body.copy_from_slice(&text);
            nul.fill(0);
            Ok(41)
        }
        _ => Err(Error::Invalid),
    }
}

/// Reads a string option as libzmq does: value and NUL, the rest of the buffer zeroed.
fn put_c_string(out: &mut [u8], v: &[u8]) -> Result<usize> {
    if out.len() <= v.len() {
        return Err(Error::Invalid);
    }
    let (head, rest) = out.split_at_mut(v.len());
    head.copy_from_slice(v);
    rest.fill(0);
    Ok(v.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &Security, option: i32) -> i32 {
        let mut b = [0u8; 4];
        assert_eq!(s.get(option, &mut b).unwrap(), 4);
        i32::from_ne_bytes(b)
    }

    fn set_int(s: &mut Security, option: i32, v: i32) -> Result<()> {
        s.set(option, Some(&v.to_ne_bytes()))
    }

    const KEY: [u8; 32] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31,
    ];
    // zmq_z85_encode of KEY, from Debian's libzmq 4.3.4.
    const KEY_Z85: &[u8; 40] = b"009c61o!#m2NH?C3>iWS5d]J*6CRx17-skh9337x";

    #[test]
    fn server_flags_take_exactly_0_or_1_and_pick_the_mechanism() {
        let mut s = Security::default();
        assert_eq!(set_int(&mut s, ZMQ_PLAIN_SERVER, 2), Err(Error::Invalid));
        assert_eq!(
            s.set(ZMQ_PLAIN_SERVER, Some(&1i64.to_ne_bytes())),
            Err(Error::Invalid)
        );
        set_int(&mut s, ZMQ_PLAIN_SERVER, 1).unwrap();
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_PLAIN);
        assert_eq!(
            (int(&s, ZMQ_PLAIN_SERVER), int(&s, ZMQ_CURVE_SERVER)),
            (1, 0)
        );
        set_int(&mut s, ZMQ_PLAIN_SERVER, 0).unwrap();
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_NULL);
        set_int(&mut s, ZMQ_CURVE_SERVER, 1).unwrap();
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_CURVE);
        assert_eq!(
            (int(&s, ZMQ_PLAIN_SERVER), int(&s, ZMQ_CURVE_SERVER)),
            (0, 1)
        );
        assert_eq!(set_int(&mut s, ZMQ_CURVE_SERVER, -1), Err(Error::Invalid));
    }

    #[test]
    fn mechanism_is_read_only_and_an_exact_int() {
        let mut s = Security::default();
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_NULL);
        assert_eq!(set_int(&mut s, ZMQ_MECHANISM, 1), Err(Error::Invalid));
        assert_eq!(s.get(ZMQ_MECHANISM, &mut [0u8; 8]), Err(Error::Invalid));
    }

    #[test]
    fn plain_credentials_select_the_client_role() {
        let mut s = Security::default();
        set_int(&mut s, ZMQ_PLAIN_SERVER, 1).unwrap();
        s.set(ZMQ_PLAIN_USERNAME, Some(b"user")).unwrap();
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_PLAIN);
        assert_eq!(int(&s, ZMQ_PLAIN_SERVER), 0);
        assert_eq!(
            s.set(ZMQ_PLAIN_USERNAME, Some(&[b'x'; 256])),
            Err(Error::Invalid)
        );
        s.set(ZMQ_PLAIN_USERNAME, Some(&[b'x'; 255])).unwrap();
        s.set(ZMQ_PLAIN_PASSWORD, Some(b"pw")).unwrap();
        let mut out = [b'?'; 8];
        assert_eq!(s.get(ZMQ_PLAIN_PASSWORD, &mut out).unwrap(), 3);
        assert_eq!(&out, b"pw\0\0\0\0\0\0");
        assert_eq!(
            s.get(ZMQ_PLAIN_PASSWORD, &mut [0u8; 2]),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn quirk_plain_credential_null_resets_the_mechanism_only() {
        let mut s = Security::default();
        s.set(ZMQ_PLAIN_USERNAME, Some(b"user")).unwrap();
        s.set(ZMQ_PLAIN_USERNAME, None).unwrap();
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_NULL);
        let mut out = [0u8; 16];
        assert_eq!(
            s.get(ZMQ_PLAIN_USERNAME, &mut out).unwrap(),
            5,
            "value kept"
        );
        // After CURVE_SERVER, a NULL reset keeps the server role for the next mechanism.
        set_int(&mut s, ZMQ_CURVE_SERVER, 1).unwrap();
        s.set(ZMQ_PLAIN_PASSWORD, None).unwrap();
        assert_eq!(int(&s, ZMQ_CURVE_SERVER), 0);
        s.set(ZMQ_CURVE_PUBLICKEY, Some(&KEY)).unwrap();
        assert_eq!(int(&s, ZMQ_CURVE_SERVER), 1);
    }

    #[test]
    fn quirk_plain_credential_empty_through_a_pointer_is_einval() {
        let mut s = Security::default();
        assert_eq!(s.set(ZMQ_PLAIN_USERNAME, Some(b"")), Err(Error::Invalid));
        assert_eq!(s.set(ZMQ_PLAIN_PASSWORD, Some(b"")), Err(Error::Invalid));
    }

    #[test]
    fn quirk_strings_keep_embedded_and_trailing_nuls() {
        let mut s = Security::default();
        s.set(ZMQ_PLAIN_USERNAME, Some(b"us\0er")).unwrap();
        let mut out = [0u8; 16];
        assert_eq!(s.get(ZMQ_PLAIN_USERNAME, &mut out).unwrap(), 6);
        s.set(ZMQ_ZAP_DOMAIN, Some(b"TEST\0")).unwrap();
        assert_eq!(s.zap_domain, b"TEST\0");
        assert_eq!(s.get(ZMQ_ZAP_DOMAIN, &mut out).unwrap(), 6);
        assert_eq!(s.get(ZMQ_ZAP_DOMAIN, &mut [0u8; 5]), Err(Error::Invalid));
    }

    #[test]
    fn zap_domain_is_1_to_255_bytes() {
        let mut s = Security::default();
        assert_eq!(s.set(ZMQ_ZAP_DOMAIN, Some(b"")), Err(Error::Invalid));
        assert_eq!(s.set(ZMQ_ZAP_DOMAIN, None), Err(Error::Invalid));
        assert_eq!(
            s.set(ZMQ_ZAP_DOMAIN, Some(&[b'a'; 256])),
            Err(Error::Invalid)
        );
        s.set(ZMQ_ZAP_DOMAIN, Some(&[b'a'; 255])).unwrap();
        assert_eq!(s.get(ZMQ_ZAP_DOMAIN, &mut [0u8; 0]), Err(Error::Invalid));
        let fresh = Security::default();
        assert_eq!(fresh.get(ZMQ_ZAP_DOMAIN, &mut [7u8; 1]).unwrap(), 1);
    }

    #[test]
    fn curve_keys_accept_binary_z85_and_z85_with_nul() {
        let mut s = Security::default();
        s.set(ZMQ_CURVE_SERVERKEY, Some(&KEY)).unwrap();
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_CURVE);
        assert_eq!(s.curve_server_key, KEY);
        s.set(ZMQ_CURVE_PUBLICKEY, Some(KEY_Z85)).unwrap();
        assert_eq!(s.curve_public_key, KEY);
        let mut with_nul = KEY_Z85.to_vec();
        with_nul.push(0);
        s.set(ZMQ_CURVE_SECRETKEY, Some(&with_nul)).unwrap();
        assert_eq!(*s.curve_secret_key, KEY);
        for bad_len in [0, 31, 33, 39, 42] {
            assert_eq!(
                s.set(ZMQ_CURVE_PUBLICKEY, Some(&vec![b'0'; bad_len])),
                Err(Error::Invalid),
                "{bad_len}"
            );
        }
        // 41 characters without a NUL are not a 40-character key.
        let mut forty_one = KEY_Z85.to_vec();
        forty_one.push(b'a');
        assert_eq!(
            s.set(ZMQ_CURVE_PUBLICKEY, Some(&forty_one)),
            Err(Error::Invalid)
        );
        // Characters outside the alphabet, and groups above 2^32 - 1.
        let mut bad = *KEY_Z85;
        bad[3] = b'"';
        assert_eq!(s.set(ZMQ_CURVE_PUBLICKEY, Some(&bad)), Err(Error::Invalid));
        assert_eq!(
            s.set(ZMQ_CURVE_SECRETKEY, Some(&[b'#'; 40])),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn curve_server_key_selects_the_client_role() {
        let mut s = Security::default();
        set_int(&mut s, ZMQ_CURVE_SERVER, 1).unwrap();
        s.set(ZMQ_CURVE_SERVERKEY, Some(&KEY)).unwrap();
        assert_eq!(int(&s, ZMQ_CURVE_SERVER), 0);
        assert_eq!(int(&s, ZMQ_MECHANISM), ZMQ_CURVE);
    }

    #[test]
    fn quirk_z85_key_stops_at_the_first_nul_and_keeps_the_rest() {
        let mut s = Security::default();
        s.set(ZMQ_CURVE_PUBLICKEY, Some(&KEY)).unwrap();
        // 20 characters, a NUL, garbage: only the first 16 bytes are replaced.
        let mut text = [b'x'; 41];
        text[..20].copy_from_slice(b"00000000000000000000");
        text[20] = 0;
        s.set(ZMQ_CURVE_PUBLICKEY, Some(&text)).unwrap();
        assert_eq!(s.curve_public_key[..16], [0u8; 16]);
        assert_eq!(s.curve_public_key[16..], KEY[16..]);
        // Fewer than 5 characters before the NUL is no key at all.
        text[2] = 0;
        assert_eq!(
            s.set(ZMQ_CURVE_PUBLICKEY, Some(&text[..40])),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn curve_keys_read_as_binary_into_32_and_z85_into_41() {
        let mut s = Security::default();
        s.set(ZMQ_CURVE_PUBLICKEY, Some(&KEY)).unwrap();
        let mut bin = [0u8; 32];
        assert_eq!(s.get(ZMQ_CURVE_PUBLICKEY, &mut bin).unwrap(), 32);
        assert_eq!(bin, KEY);
        let mut text = [b'?'; 41];
        assert_eq!(s.get(ZMQ_CURVE_PUBLICKEY, &mut text).unwrap(), 41);
        assert_eq!(&text[..40], KEY_Z85);
        assert_eq!(text[40], 0);
        for len in [0, 31, 40, 42, 100] {
            assert_eq!(
                s.get(ZMQ_CURVE_PUBLICKEY, &mut vec![0u8; len]),
                Err(Error::Invalid)
            );
        }
        let mut zeros = [0u8; 41];
        Security::default()
            .get(ZMQ_CURVE_SERVERKEY, &mut zeros)
            .unwrap();
        assert_eq!(&zeros[..40], &[b'0'; 40]);
    }

    #[test]
    fn handles_exactly_the_security_options() {
        assert!(Security::handles(ZMQ_CURVE_SERVERKEY));
        assert!(Security::handles(ZMQ_MECHANISM));
        assert!(!Security::handles(ZMQ_LINGER));
        assert!(!Security::handles(ZMQ_GSSAPI_SERVER));
        assert_eq!(
            Security::default().get(ZMQ_LINGER, &mut [0u8; 4]),
            Err(Error::Invalid)
        );
        assert_eq!(
            Security::default().set(ZMQ_LINGER, Some(&[0u8; 4])),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let mut s = Security::default();
        s.set(ZMQ_PLAIN_PASSWORD, Some(b"hunter2")).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
