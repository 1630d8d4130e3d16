//! ZMTP 3.x framing (RFC 23 §"Framing", RFC 37): a flags octet (MORE = 1, LONG = 2,
//! COMMAND = 4; the other bits are reserved and must be zero), then the body size in one octet
//! or, with LONG, eight octets in network order, then the body.
//!
//! The decoder checks the declared size against the configured maximum and `usize` before it
//! reserves anything, never indexes past what it has checked, and slices bodies out of the
//! receive buffer without copying (small bodies are copied inline into the `Msg`).
#![forbid(unsafe_code)]

#[cfg(test)]
use bytes::Bytes;
use bytes::{Buf, BufMut, BytesMut};

/// More frames follow.
pub(crate) const MORE: u8 = 1;
/// Eight-octet size.
pub(crate) const LONG: u8 = 2;
/// The frame is a command.
pub(crate) const COMMAND: u8 = 4;

/// Largest command frame accepted (commands carry handshake data, never user payloads).
pub(crate) const MAX_COMMAND: u64 = 1 << 20;
const RESERVE_STEP: usize = 4 << 20;

/// A decoded frame.
#[cfg(test)]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The flags octet (MORE / COMMAND).
    pub(crate) flags: u8,
    /// The body.
    pub(crate) body: Bytes,
}

/// Why the byte stream is not valid ZMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// A reserved flag bit was set.
    ReservedFlags,
    /// The frame is larger than `ZMQ_MAXMSGSIZE` (or than memory can address).
    TooLarge,
}

/// Decodes one frame from the front of `buf`, if complete. `max` is the largest accepted
/// body (`None` = unlimited).
#[cfg(test)]
pub(crate) fn decode(buf: &mut BytesMut, max: Option<u64>) -> Result<Option<Frame>, FrameError> {
    Ok(decode_mut(buf, max)?.map(|(flags, body)| Frame {
        flags,
        body: body.freeze(),
    }))
}

/// As [`decode`], but returns the flags and the body still mutable (split off the receive
/// buffer without copying), so CURVE can decrypt it in place.
pub(crate) fn decode_mut(
    buf: &mut BytesMut,
    max: Option<u64>,
) -> Result<Option<(u8, BytesMut)>, FrameError> {
    let Some(&flags) = buf.first() else {
        return Ok(None);
    };
    if flags & !(MORE | LONG | COMMAND) != 0 {
        return Err(FrameError::ReservedFlags);
    }
    let Some((header, size)) = header_of(buf) else {
        return Ok(None);
    };
    // ZMQ_MAXMSGSIZE limits messages; commands get a fixed ceiling of their own.
    let limit = if flags & COMMAND != 0 {
        Some(MAX_COMMAND)
    } else {
        max
    };
    let body = split_body(buf, header, size, limit).map_err(|BodyTooLarge| FrameError::TooLarge)?;
    Ok(body.map(|body| (flags & (MORE | COMMAND), body)))
}

/// A frame body above the limit, or larger than memory can address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyTooLarge;

/// Takes the body of the frame at the front of `buf`, whose header is `header` octets and
/// announces `size` body octets (`limit`: the largest accepted, `None` = unlimited), once all
/// of it is in. Until then it makes room for the rest, in steps, so that a peer's claimed
/// size alone cannot make us allocate much more than it actually sends. Shared by every
/// framing (ZMTP 3, and 1.0/2.0 in `legacy`).
pub(crate) fn split_body(
    buf: &mut BytesMut,
    header: usize,
    size: u64,
    limit: Option<u64>,
) -> Result<Option<BytesMut>, BodyTooLarge> {
    if limit.is_some_and(|m| size > m) {
        return Err(BodyTooLarge);
    }
    let size = usize::try_from(size).map_err(|_| BodyTooLarge)?;
    let total = header.checked_add(size).ok_or(BodyTooLarge)?;
    if total > isize::MAX as usize {
        return Err(BodyTooLarge);
    }
    if buf.len() < total {
        buf.reserve((total - buf.len()).min(RESERVE_STEP));
        return Ok(None);
    }
    buf.advance(header);
    Ok(Some(buf.split_to(size)))
}

/// The header length and the body length the frame header at the front of `buf` announces,
/// once the header is complete (flags are the caller's to check).
fn header_of(buf: &[u8]) -> Option<(usize, u64)> {
    let &flags = buf.first()?;
    if flags & LONG != 0 {
        let raw: [u8; 8] = buf.get(1..9)?.try_into().ok()?;
        Some((9, u64::from_be_bytes(raw)))
    } else {
        Some((2, u64::from(*buf.get(1)?)))
    }
}

/// The flags, header length and body length of the data frame at the front of `buf`, if it
/// is complete, valid (no reserved flag) and within `max`; None for anything else (a command,
/// an incomplete or invalid frame), which [`decode_mut`] then handles or reports.
pub(crate) fn peek_data(buf: &[u8], max: Option<u64>) -> Option<(u8, usize, usize)> {
    let &flags = buf.first()?;
    if flags & !(MORE | LONG) != 0 {
        return None;
    }
    let (header, size) = header_of(buf)?;
    if max.is_some_and(|m| size > m) {
        return None;
    }
    let size = usize::try_from(size).ok()?;
    // The body is in `buf`, so header + size cannot overflow.
    (buf.len().checked_sub(header)? >= size).then_some((flags & MORE, header, size))
}

/// The total length (header and body) of the frame whose header is at the front of `buf`,
/// if the header is complete and the length fits in `usize`.
pub(crate) fn pending_len(buf: &[u8]) -> Option<usize> {
    let (header, size) = header_of(buf)?;
    usize::try_from(size).ok()?.checked_add(header)
}

/// Appends the header of a frame with `flags` and `size` body bytes.
pub(crate) fn encode_header(out: &mut BytesMut, flags: u8, size: usize) {
    if size > 255 {
        out.put_u8(flags | LONG);
        out.put_u64(size as u64);
    } else {
        out.put_slice(&[flags, size as u8]);
    }
}

/// Appends a whole frame.
pub(crate) fn encode(out: &mut BytesMut, flags: u8, body: &[u8]) {
    encode_header(out, flags, body.len());
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_frames_round_trip() {
        let mut buf = BytesMut::new();
        encode(&mut buf, MORE, b"abc");
        let big = vec![7u8; 300];
        encode(&mut buf, 0, &big);
        assert_eq!(buf[0], MORE);
        assert_eq!(buf[5], LONG);
        assert_eq!(peek_data(&buf, None), Some((MORE, 2, 3)));
        let f1 = decode(&mut buf, None).unwrap().unwrap();
        assert_eq!((f1.flags, &f1.body[..]), (MORE, &b"abc"[..]));
        assert_eq!(pending_len(&buf), Some(309));
        assert_eq!(peek_data(&buf, None), Some((0, 9, 300)));
        assert_eq!(peek_data(&buf, Some(299)), None);
        assert_eq!(peek_data(&buf[..308], None), None);
        assert_eq!(pending_len(&buf[..8]), None);
        let f2 = decode(&mut buf, None).unwrap().unwrap();
        assert_eq!(f2.body.len(), 300);
        assert!(buf.is_empty());
        assert_eq!(pending_len(&buf), None);
    }

    #[test]
    fn partial_input_waits() {
        let mut full = BytesMut::new();
        encode(&mut full, 0, &[1u8; 1000]);
        let mut buf = BytesMut::from(&full[..5]);
        assert_eq!(decode(&mut buf, None).unwrap(), None);
        buf.extend_from_slice(&full[5..]);
        assert_eq!(decode(&mut buf, None).unwrap().unwrap().body.len(), 1000);
    }

    #[test]
    fn oversized_and_reserved_are_errors_before_allocation() {
        let mut buf = BytesMut::from(&[LONG, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..]);
        assert_eq!(decode(&mut buf, None), Err(FrameError::TooLarge));
        let mut buf = BytesMut::from(&[0u8, 10][..]);
        assert_eq!(decode(&mut buf, Some(5)), Err(FrameError::TooLarge));
        let mut buf = BytesMut::from(&[0x80u8, 0][..]);
        assert_eq!(decode(&mut buf, None), Err(FrameError::ReservedFlags));
    }
}
