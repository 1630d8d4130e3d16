//! Decoding and encoding option values with libzmq's size rules.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// An `int` option value: exactly 4 bytes.
pub(crate) fn int_value(v: &[u8]) -> Result<i32> {
    let b: [u8; 4] = v.try_into().map_err(|_| Error::Invalid)?;
    Ok(i32::from_ne_bytes(b))
}

/// A boolean carried in an `int`: negative values are invalid, non-zero is true.
pub(crate) fn bool_value(v: &[u8]) -> Result<bool> {
    let x = int_value(v)?;
    if x < 0 {
        return Err(Error::Invalid);
    }
    Ok(x != 0)
}

/// A boolean that must be exactly 0 or 1 (libzmq's rule for `ZMQ_IPV6`, `ZMQ_IPV4ONLY`,
/// `ZMQ_IMMEDIATE`, `ZMQ_CONFLATE`, `ZMQ_STREAM_NOTIFY`).
pub(crate) fn strict_bool_value(v: &[u8]) -> Result<bool> {
    match int_value(v)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Invalid),
    }
}

/// A boolean where any non-zero `int`, negative ones included, is true (libzmq's rule for
/// `ZMQ_INVERT_MATCHING`, `ZMQ_ZAP_ENFORCE_DOMAIN`, `ZMQ_LOOPBACK_FASTPATH`,
/// `ZMQ_MULTICAST_LOOP`).
pub(crate) fn relaxed_bool_value(v: &[u8]) -> Result<bool> {
    Ok(int_value(v)? != 0)
}

/// An `int64_t` option value: exactly 8 bytes.
pub(crate) fn i64_value(v: &[u8]) -> Result<i64> {
    let b: [u8; 8] = v.try_into().map_err(|_| Error::Invalid)?;
    Ok(i64::from_ne_bytes(b))
}

/// A `uint64_t` option value: exactly 8 bytes.
pub(crate) fn u64_value(v: &[u8]) -> Result<u64> {
    let b: [u8; 8] = v.try_into().map_err(|_| Error::Invalid)?;
    Ok(u64::from_ne_bytes(b))
}

/// Writes a fixed-size value; the caller's buffer must be exactly that size.
pub(crate) fn put_exact(out: &mut [u8], v: &[u8]) -> Result<usize> {
    if out.len() != v.len() {
        return Err(Error::Invalid);
    }
    out.copy_from_slice(v);
    Ok(v.len())
}

/// Writes a value into a buffer at least as large and zeroes the rest of the buffer, as
/// libzmq's `do_getsockopt` does; returns the length written.
pub(crate) fn put_at_least(out: &mut [u8], v: &[u8]) -> Result<usize> {
    if out.len() < v.len() {
        return Err(Error::Invalid);
    }
    let (dst, rest) = out.split_at_mut(v.len());
    dst.copy_from_slice(v);
    rest.fill(0);
    Ok(v.len())
}

/// Writes binary data (no terminator); the buffer must be large enough.
pub(crate) fn put_binary(out: &mut [u8], v: &[u8]) -> Result<usize> {
    put_at_least(out, v)
}

/// Writes a NUL-terminated string (zeroing the rest of the buffer); the returned length counts
/// the NUL.
pub(crate) fn put_string(out: &mut [u8], v: &[u8]) -> Result<usize> {
    if out.len() < v.len() + 1 {
        return Err(Error::Invalid);
    }
    let (dst, rest) = out.split_at_mut(v.len());
    dst.copy_from_slice(v);
    rest.fill(0);
    Ok(v.len() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_libzmqs_three_rules() {
        let b = |x: i32| x.to_ne_bytes();
        assert_eq!(strict_bool_value(&b(1)), Ok(true));
        assert_eq!(strict_bool_value(&b(0)), Ok(false));
        assert_eq!(strict_bool_value(&b(2)), Err(Error::Invalid));
        assert_eq!(strict_bool_value(&b(-1)), Err(Error::Invalid));
        assert_eq!(relaxed_bool_value(&b(-2)), Ok(true));
        assert_eq!(relaxed_bool_value(&b(0)), Ok(false));
        assert_eq!(bool_value(&b(2)), Ok(true));
        assert_eq!(bool_value(&b(-1)), Err(Error::Invalid));
        assert_eq!(
            relaxed_bool_value(&[1, 0]),
            Err(Error::Invalid),
            "not an int"
        );
    }

    #[test]
    fn string_needs_room_for_nul() {
        let mut small = [0u8; 3];
        assert_eq!(put_string(&mut small, b"abc"), Err(Error::Invalid));
        let mut ok = [9u8; 4];
        assert_eq!(put_string(&mut ok, b"abc").unwrap(), 4);
        assert_eq!(&ok, b"abc\0");
    }

    #[test]
    fn variable_size_values_zero_the_rest_of_the_buffer() {
        let mut buf = [b'x'; 8];
        assert_eq!(put_binary(&mut buf, b"\0ab").unwrap(), 3);
        assert_eq!(&buf, b"\0ab\0\0\0\0\0");
        let mut buf = [b'x'; 8];
        assert_eq!(put_string(&mut buf, b"ab").unwrap(), 3);
        assert_eq!(&buf, b"ab\0\0\0\0\0\0");
        let mut buf = [b'x'; 8];
        assert_eq!(put_at_least(&mut buf, &7i32.to_ne_bytes()).unwrap(), 4);
        assert_eq!(buf[4..], [0; 4]);
        assert_eq!(put_at_least(&mut buf[..2], b"abc"), Err(Error::Invalid));
    }

    #[test]
    fn bool_rejects_negative() {
        assert_eq!(bool_value(&(-1i32).to_ne_bytes()), Err(Error::Invalid));
        assert!(bool_value(&5i32.to_ne_bytes()).unwrap());
    }
}
