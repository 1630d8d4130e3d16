//! ZMTP 1.0 (RFC 13, libzmq 2.x) and ZMTP 2.0 (RFC 15, libzmq 3.x) for the downgrade libzmq
//! 4.3 performs: how the first octets of a peer's greeting tell its version, and the framing
//! each old version uses for the whole connection.
//!
//! Layer L0, sans-IO. Our greeting opens with a 10-octet signature (0xFF, eight octets, 0x7F)
//! that a 1.0 peer reads as the header of an identity frame (the eight octets hold our
//! identity's length plus one, 0x7F is its flags octet), so nothing past it may be sent until
//! the peer's own first octets show which version it speaks (see [`classify`]).
//!
//! - ZMTP 1.0 frame: length (one octet below 255, else 0xFF and eight octets in network
//!   order) counting the flags octet and the body, then flags (bit 0 MORE, the rest ignored,
//!   as libzmq does), then the body. A length of 0 is malformed.
//! - ZMTP 2.0 frame: flags (bit 0 MORE, bit 1 LONG; libzmq reads bit 2 as a command, which
//!   an old peer never sends and its session drops, and ignores the others), then the body's
//!   size in one octet or, with LONG, eight, then the body.
//!
//! The decoder checks the declared size against the maximum before it reserves anything, and
//! never indexes past what it checked.
#![forbid(unsafe_code)]

use bytes::{BufMut, BytesMut};

/// Octets of the signature that opens every greeting.
pub(crate) const SIGNATURE_LEN: usize = 10;
/// Octets of a versioned pre-3.0 greeting: the signature, the revision, the socket type.
pub(crate) const V2_GREETING_LEN: usize = 12;

/// The framing an old peer speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// ZMTP 1.0: length (flags included), flags, body.
    V1,
    /// ZMTP 2.0: flags, size, body.
    V2,
}

/// What the peer's first greeting octets say about its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Greeting {
    /// Not enough octets to tell yet.
    Incomplete,
    /// ZMTP 1.0 without a greeting: the octets are the start of its identity frame.
    Unversioned,
    /// A versioned greeting; the revision octet once it is in (0 = 1.0, 1 = 2.0, 3 = 3.x).
    Versioned(Option<u8>),
}

/// Our 10-octet signature: 0xFF, our identity's length plus one (network order), 0x7F; to a
/// 1.0 peer, the header of our identity frame.
pub(crate) fn signature(routing_id_len: usize) -> [u8; SIGNATURE_LEN] {
    let mut s = [0u8; SIGNATURE_LEN];
    s[0] = 0xff;
    s[1..9].copy_from_slice(&(routing_id_len as u64 + 1).to_be_bytes());
    s[9] = 0x7f;
    s
}

/// Tells the peer's version from the first octets of its greeting: a first octet other than
/// 0xFF, or a tenth octet with bit 0 clear (the flags of a long identity frame), is a 1.0
/// peer's identity frame; otherwise the greeting is versioned, and its eleventh octet is the
/// revision.
pub(crate) fn classify(input: &[u8]) -> Greeting {
    match (input.first(), input.get(SIGNATURE_LEN - 1)) {
        (None, _) => Greeting::Incomplete,
        (Some(&b), _) if b != 0xff => Greeting::Unversioned,
        (_, None) => Greeting::Incomplete,
        (_, Some(&flags)) if flags & 1 == 0 => Greeting::Unversioned,
        _ => Greeting::Versioned(input.get(SIGNATURE_LEN).copied()),
    }
}

/// The framing a versioned peer of `revision` (below 2) speaks.
pub(crate) fn framing_of(revision: u8) -> Framing {
    if revision == 0 {
        Framing::V1
    } else {
        Framing::V2
    }
}

/// Appends the header of a frame of `size` body octets.
pub(crate) fn encode_header(out: &mut BytesMut, framing: Framing, more: bool, size: usize) {
    let flags = u8::from(more);
    match framing {
        Framing::V1 => {
            let len = size as u64 + 1;
            if len < 255 {
                out.put_slice(&[len as u8, flags]);
            } else {
                out.put_u8(0xff);
                out.put_u64(len);
                out.put_u8(flags);
            }
        }
        Framing::V2 => {
            if size > 255 {
                out.put_u8(flags | 2);
                out.put_u64(size as u64);
            } else {
                out.put_slice(&[flags, size as u8]);
            }
        }
    }
}

/// Appends a whole frame.
pub(crate) fn encode(out: &mut BytesMut, framing: Framing, more: bool, body: &[u8]) {
    encode_header(out, framing, more, body.len());
    out.extend_from_slice(body);
}

/// Why old-version input is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LegacyError {
    /// A 1.0 frame whose length (which counts the flags octet) is 0.
    Malformed,
    /// Larger than `ZMQ_MAXMSGSIZE` or than memory can address.
    TooLarge,
}

/// A decoded old-version frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    /// More frames of this message follow.
    pub(crate) more: bool,
    /// A 2.0 frame with the command bit, which libzmq's session drops.
    pub(crate) command: bool,
    /// The body, split off the receive buffer.
    pub(crate) body: BytesMut,
}

/// The header length, flags octet and body size of the frame at the front of `buf`, once its
/// header is complete.
fn header_of(buf: &[u8], framing: Framing) -> Result<Option<(usize, u8, u64)>, LegacyError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    match framing {
        Framing::V1 => {
            let (len_octets, len) = if first == 0xff {
                let Some(raw) = buf.get(1..9).and_then(|r| <[u8; 8]>::try_from(r).ok()) else {
                    return Ok(None);
                };
                (9, u64::from_be_bytes(raw))
            } else {
                (1, u64::from(first))
            };
            if len == 0 {
                return Err(LegacyError::Malformed);
            }
            let Some(&flags) = buf.get(len_octets) else {
                return Ok(None);
            };
            Ok(Some((len_octets + 1, flags, len - 1)))
        }
        Framing::V2 => {
            if first & 2 != 0 {
                let Some(raw) = buf.get(1..9).and_then(|r| <[u8; 8]>::try_from(r).ok()) else {
                    return Ok(None);
                };
                Ok(Some((9, first, u64::from_be_bytes(raw))))
            } else {
                Ok(buf.get(1).map(|&s| (2, first, u64::from(s))))
            }
        }
    }
}

/// Decodes one frame from the front of `buf`, if complete; `max` is the largest accepted body
/// (`None` = unlimited). An incomplete frame reserves room for its rest (in bounded steps).
pub(crate) fn decode(
    buf: &mut BytesMut,
    framing: Framing,
    max: Option<u64>,
) -> Result<Option<Frame>, LegacyError> {
    let Some((header, flags, size)) = header_of(buf, framing)? else {
        return Ok(None);
    };
    let body = super::frame::split_body(buf, header, size, max)
        .map_err(|super::frame::BodyTooLarge| LegacyError::TooLarge)?;
    Ok(body.map(|body| Frame {
        more: flags & 1 != 0,
        command: framing == Framing::V2 && flags & 4 != 0,
        body,
    }))
}

/// The total length (header and body) of the frame whose header is at the front of `buf`,
/// once the header is complete.
pub(crate) fn pending_len(buf: &[u8], framing: Framing) -> Option<usize> {
    let (header, _, size) = header_of(buf, framing).ok()??;
    usize::try_from(size).ok()?.checked_add(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framing: Framing, input: &[u8]) -> Vec<(bool, Vec<u8>)> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(f) = decode(&mut buf, framing, None).unwrap() {
            out.push((f.more, f.body.to_vec()));
        }
        assert!(buf.is_empty(), "all input decoded");
        out
    }

    #[test]
    fn greetings_are_told_apart_by_their_first_octets() {
        assert_eq!(classify(b""), Greeting::Incomplete);
        // A 1.0 peer's short identity frame: length 3, flags 0, "id".
        assert_eq!(classify(&[3, 0, b'i', b'd']), Greeting::Unversioned);
        // A 1.0 peer's long identity frame: 0xFF, eight octets, flags 0.
        let mut long_id = [0u8; 10];
        long_id[0] = 0xff;
        long_id[8] = 0xff;
        assert_eq!(classify(&long_id[..9]), Greeting::Incomplete);
        assert_eq!(classify(&long_id), Greeting::Unversioned);
        let sig = signature(0);
        assert_eq!(classify(&sig), Greeting::Versioned(None));
        let mut v2 = sig.to_vec();
        v2.push(1);
        assert_eq!(classify(&v2), Greeting::Versioned(Some(1)));
        v2[10] = 3;
        assert_eq!(classify(&v2), Greeting::Versioned(Some(3)));
        assert_eq!(framing_of(0), Framing::V1);
        assert_eq!(framing_of(1), Framing::V2);
    }

    #[test]
    fn our_signature_reads_as_a_1_0_identity_frame_header() {
        let mut buf = BytesMut::from(&signature(2)[..]);
        buf.extend_from_slice(b"me");
        assert_eq!(frames(Framing::V1, &buf), vec![(true, b"me".to_vec())]);
        assert_eq!(&signature(0)[..], &[0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f]);
    }

    #[test]
    fn v1_short_long_empty_and_more_frames_round_trip() {
        let mut buf = BytesMut::new();
        encode(&mut buf, Framing::V1, true, b"abc");
        encode(&mut buf, Framing::V1, true, b"");
        let edge = vec![5u8; 253];
        encode(&mut buf, Framing::V1, true, &edge);
        let big = vec![7u8; 254];
        encode(&mut buf, Framing::V1, false, &big);
        assert_eq!(&buf[..7], &[4, 1, b'a', b'b', b'c', 1, 1]);
        assert_eq!(buf[7], 254, "253 octets + flags: still short");
        assert_eq!(
            &buf[7 + 255..7 + 255 + 10],
            &[0xff, 0, 0, 0, 0, 0, 0, 0, 255, 0]
        );
        assert_eq!(
            frames(Framing::V1, &buf),
            vec![
                (true, b"abc".to_vec()),
                (true, Vec::new()),
                (true, edge),
                (false, big)
            ]
        );
    }

    #[test]
    fn v2_short_long_empty_and_more_frames_round_trip() {
        let mut buf = BytesMut::new();
        encode(&mut buf, Framing::V2, true, b"abc");
        encode(&mut buf, Framing::V2, true, b"");
        let edge = vec![5u8; 255];
        encode(&mut buf, Framing::V2, true, &edge);
        let big = vec![7u8; 256];
        encode(&mut buf, Framing::V2, false, &big);
        assert_eq!(&buf[..7], &[1, 3, b'a', b'b', b'c', 1, 0]);
        assert_eq!(&buf[7..9], &[1, 255]);
        assert_eq!(&buf[264..273], &[2, 0, 0, 0, 0, 0, 0, 1, 0]);
        assert_eq!(
            frames(Framing::V2, &buf),
            vec![
                (true, b"abc".to_vec()),
                (true, Vec::new()),
                (true, edge),
                (false, big)
            ]
        );
    }

    #[test]
    fn a_frame_split_across_inputs_waits_for_its_rest() {
        for framing in [Framing::V1, Framing::V2] {
            let mut whole = BytesMut::new();
            encode(&mut whole, framing, false, &[9u8; 1000]);
            let mut buf = BytesMut::new();
            for (i, byte) in whole.iter().enumerate() {
                assert_eq!(
                    decode(&mut buf, framing, None).unwrap(),
                    None,
                    "{framing:?} {i}"
                );
                buf.put_u8(*byte);
            }
            let f = decode(&mut buf, framing, None).unwrap().unwrap();
            assert_eq!(f.body.len(), 1000);
            assert!(!f.more && !f.command);
        }
    }

    #[test]
    fn malformed_and_oversized_frames_are_errors_before_allocation() {
        let mut zero = BytesMut::from(&[0u8, 0][..]);
        assert_eq!(
            decode(&mut zero, Framing::V1, None),
            Err(LegacyError::Malformed)
        );
        let mut zero_long = BytesMut::from(&[0xffu8, 0, 0, 0, 0, 0, 0, 0, 0][..]);
        assert_eq!(
            decode(&mut zero_long, Framing::V1, None),
            Err(LegacyError::Malformed)
        );
        let huge = [0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0];
        let mut b = BytesMut::from(&huge[..]);
        assert_eq!(
            decode(&mut b, Framing::V1, None),
            Err(LegacyError::TooLarge)
        );
        let mut b = BytesMut::from(&[2u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..]);
        assert_eq!(
            decode(&mut b, Framing::V2, None),
            Err(LegacyError::TooLarge)
        );
        let mut b = BytesMut::from(&[12u8, 0][..]);
        assert_eq!(
            decode(&mut b, Framing::V1, Some(10)),
            Err(LegacyError::TooLarge)
        );
        let mut b = BytesMut::from(&[11u8, 0][..]);
        assert_eq!(
            decode(&mut b, Framing::V1, Some(10)),
            Ok(None),
            "10 octets fit"
        );
        let mut b = BytesMut::from(&[0u8, 11][..]);
        assert_eq!(
            decode(&mut b, Framing::V2, Some(10)),
            Err(LegacyError::TooLarge)
        );
    }

    #[test]
    fn reserved_bits_are_ignored_and_the_command_bit_is_reported() {
        let mut b = BytesMut::from(&[0xf0u8 | 1, 1, b'x', 4, 0, 0xfe, 1, b'y'][..]);
        let f = decode(&mut b, Framing::V2, None).unwrap().unwrap();
        assert!(f.more && !f.command && &f.body[..] == b"x");
        let f = decode(&mut b, Framing::V2, None).unwrap().unwrap();
        assert!(f.command && f.body.is_empty());
        let f = decode(&mut b, Framing::V2, None).unwrap();
        assert_eq!(f, None, "0xfe has LONG set: waits for eight size octets");
        let mut b = BytesMut::from(&[2u8, 0xfe, b'z'][..]);
        let f = decode(&mut b, Framing::V1, None).unwrap().unwrap();
        assert!(!f.more && !f.command && &f.body[..] == b"z");
    }

    /// Frames decoded from `input` cut at `cut`, decoding after each half as a connection does
    /// (up to the first error), and that error.
    fn decode_cut(
        framing: Framing,
        input: &[u8],
        cut: usize,
        max: Option<u64>,
    ) -> (Vec<Frame>, Option<LegacyError>) {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for half in [&input[..cut], &input[cut..]] {
            buf.extend_from_slice(half);
            loop {
                match decode(&mut buf, framing, max) {
                    Ok(Some(f)) => out.push(f),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }

    #[test]
    fn decoding_in_pieces_gives_what_decoding_at_once_gives() {
        for framing in [Framing::V1, Framing::V2] {
            let mut input = BytesMut::new();
            encode(&mut input, framing, true, b"abc");
            encode(&mut input, framing, false, &[2u8; 11]);
            encode(&mut input, framing, false, &[1u8; 300]);
            for max in [None, Some(10), Some(299)] {
                let whole = decode_cut(framing, &input, input.len(), max);
                for cut in 0..input.len() {
                    assert_eq!(
                        decode_cut(framing, &input, cut, max),
                        whole,
                        "{framing:?} {max:?} {cut}"
                    );
                }
                let expected = match max {
                    None => (3, None),
                    Some(10) => (1, Some(LegacyError::TooLarge)),
                    _ => (2, Some(LegacyError::TooLarge)),
                };
                assert_eq!((whole.0.len(), whole.1), expected, "{framing:?} {max:?}");
            }
        }
    }

    #[test]
    fn pending_len_is_what_decode_takes() {
        for framing in [Framing::V1, Framing::V2] {
            for size in [0, 1, 253, 254, 255, 256, 1000] {
                let mut buf = BytesMut::new();
                encode(&mut buf, framing, false, &vec![3u8; size]);
                buf.extend_from_slice(b"next");
                let announced = pending_len(&buf, framing);
                let before = buf.len();
                decode(&mut buf, framing, None).unwrap().unwrap();
                assert_eq!(announced, Some(before - buf.len()), "{framing:?} {size}");
            }
        }
    }

    #[test]
    fn pending_len_counts_header_and_body() {
        let mut buf = BytesMut::new();
        encode(&mut buf, Framing::V1, false, &[0u8; 300]);
        assert_eq!(pending_len(&buf[..10], Framing::V1), Some(310));
        assert_eq!(pending_len(&buf[..9], Framing::V1), None);
        let mut buf = BytesMut::new();
        encode(&mut buf, Framing::V2, false, &[0u8; 300]);
        assert_eq!(pending_len(&buf[..9], Framing::V2), Some(309));
    }
}
