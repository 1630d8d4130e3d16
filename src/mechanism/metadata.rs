//! ZMTP metadata (RFC 23 §"Command metadata", RFC 37): properties carried by READY,
//! INITIATE and ZAP replies. Each is a name of one length octet (1 to 255 octets), then a value
//! of four length octets (network order), then the value.
//!
//! The parser checks every length against what is left before slicing, never allocates more
//! than the names it returns (values are zero-copy slices of the input), and never panics.
#![forbid(unsafe_code)]

use bytes::{BufMut, Bytes, BytesMut};

/// The metadata is malformed: a truncated property, an empty or non-UTF-8 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Parses a metadata block into `(name, value)` pairs, in order.
pub(crate) fn parse(data: &Bytes) -> Result<Vec<(String, Bytes)>, Malformed> {
    let mut props = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let name_len = usize::from(*data.get(pos).ok_or(Malformed)?);
        pos += 1;
        let name_end = pos.checked_add(name_len).ok_or(Malformed)?;
        let name = data.get(pos..name_end).ok_or(Malformed)?;
        if name.is_empty() {
            return Err(Malformed);
        }
        let name = std::str::from_utf8(name).map_err(|_| Malformed)?.to_owned();
        pos = name_end;
        let len_end = pos.checked_add(4).ok_or(Malformed)?;
        let len_bytes: [u8; 4] = data
            .get(pos..len_end)
            .ok_or(Malformed)?
            .try_into()
            .map_err(|_| Malformed)?;
        let value_len = usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| Malformed)?;
        pos = len_end;
        let end = pos.checked_add(value_len).ok_or(Malformed)?;
        if end > data.len() {
            return Err(Malformed);
        }
        props.push((name, data.slice(pos..end)));
        pos = end;
    }
    Ok(props)
}

/// Appends one property. Names longer than 255 octets and values longer than `u32::MAX` cannot
/// be encoded; callers only pass fixed names and option values bounded well below that.
pub(crate) fn put(out: &mut BytesMut, name: &str, value: &[u8]) {
    let name = name.as_bytes();
    let name = name.get(..name.len().min(255)).unwrap_or_default();
    out.put_u8(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name);
    out.put_u32(u32::try_from(value.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(value);
}

/// Encodes properties as a metadata block.
pub(crate) fn encode(props: &[(&str, &[u8])]) -> Bytes {
    let mut out = BytesMut::new();
    for (n, v) in props {
        put(&mut out, n, v);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip() {
        let block = encode(&[("Socket-Type", b"DEALER"), ("Identity", b"")]);
        let props = parse(&block).unwrap();
        assert_eq!(props.len(), 2);
        assert_eq!(props[0].0, "Socket-Type");
        assert_eq!(&props[0].1[..], b"DEALER");
        assert!(props[1].1.is_empty());
        assert!(parse(&Bytes::new()).unwrap().is_empty());
    }

    #[test]
    fn truncated_empty_and_huge_properties_are_malformed() {
        let block = encode(&[("Socket-Type", b"DEALER")]);
        for cut in 1..block.len() {
            assert_eq!(parse(&block.slice(..cut)), Err(Malformed), "cut at {cut}");
        }
        assert_eq!(
            parse(&Bytes::from_static(b"\x00\x00\x00\x00\x00")),
            Err(Malformed)
        );
        let huge = Bytes::from_static(&[1, b'x', 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(parse(&huge), Err(Malformed));
        assert_eq!(
            parse(&Bytes::from_static(&[1, 0xff, 0, 0, 0, 0])),
            Err(Malformed)
        );
    }
}
