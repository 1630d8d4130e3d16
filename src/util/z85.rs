//! Z85, the ASCII encoding of binary blocks defined by ZeroMQ RFC 32 (used for CURVE keys).
//!
//! Every 4 bytes (read as a big-endian `u32`) become 5 characters of an 85-letter alphabet.
//! Encoding accepts only lengths that are a multiple of 4; decoding accepts only non-empty
//! lengths that are a multiple of 5, characters of the alphabet, and 5-character groups whose
//! value fits in 32 bits. Every rejection is [`Error::Invalid`] (`EINVAL`), as in libzmq.
#![forbid(unsafe_code)]

use crate::error::{Error, Result};

/// The 85 characters, in digit order (RFC 32).
const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Marks a byte that is not a Z85 digit in [`DIGITS`].
const NOT_A_DIGIT: u8 = 0xFF;

/// The digit value of every byte, or [`NOT_A_DIGIT`]; built from [`ALPHABET`] at compile time.
const DIGITS: [u8; 256] = {
    let mut table = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The number of characters `len` bytes encode to (without a terminating NUL), or
/// [`Error::Invalid`] when `len` is not a multiple of 4.
pub(crate) fn encoded_len(len: usize) -> Result<usize> {
    if !len.is_multiple_of(4) {
        return Err(Error::Invalid);
    }
    Ok(len / 4 * 5)
}

/// Encodes `data` (a multiple of 4 bytes long) as Z85 text.
pub(crate) fn encode(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded_len(data.len())?);
    for chunk in data.chunks_exact(4) {
        let mut value = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let mut group = [0u8; 5];
        for slot in group.iter_mut().rev() {
            *slot = ALPHABET[(value % 85) as usize];
            value /= 85;
        }
        out.extend_from_slice(&group);
    }
    Ok(out)
}

/// Decodes Z85 `text` (no NUL) into bytes; 4 bytes per 5 characters.
///
/// Rejects an empty text or one whose length is not a multiple of 5, any character outside the
/// alphabet, and any group whose value exceeds `u32::MAX` (the top group "%nSc0" is the largest
/// allowed), all with [`Error::Invalid`].
pub(crate) fn decode(text: &[u8]) -> Result<Vec<u8>> {
    // libzmq refuses the empty string even though 0 is a multiple of 5.
    if text.is_empty() || !text.len().is_multiple_of(5) {
        return Err(Error::Invalid);
    }
    let mut out = Vec::with_capacity(text.len() / 5 * 4);
    for group in text.chunks_exact(5) {
        let mut value: u64 = 0;
        for &c in group {
            let digit = DIGITS[usize::from(c)];
            if digit == NOT_A_DIGIT {
                return Err(Error::Invalid);
            }
            value = value * 85 + u64::from(digit);
        }
        let value = u32::try_from(value).map_err(|_| Error::Invalid)?;
        out.extend_from_slice(&value.to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: [u8; 8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];

    #[test]
    fn rfc32_test_vector_encodes_to_hello_world() {
        assert_eq!(encode(&HELLO).unwrap(), b"HelloWorld");
    }

    #[test]
    fn rfc32_test_vector_decodes_from_hello_world() {
        assert_eq!(decode(b"HelloWorld").unwrap(), HELLO);
    }

    #[test]
    fn curve_key_round_trips() {
        let key = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
        let raw = decode(key).unwrap();
        assert_eq!(raw.len(), 32);
        assert_eq!(encode(&raw).unwrap(), key);
    }

    #[test]
    fn every_byte_value_round_trips() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&data).unwrap()).unwrap(), data);
    }

    #[test]
    fn encode_rejects_length_not_multiple_of_four() {
        for len in [1, 2, 3, 5, 7] {
            assert_eq!(encode(&vec![0; len]), Err(Error::Invalid), "len {len}");
            assert_eq!(encoded_len(len), Err(Error::Invalid));
        }
    }

    #[test]
    fn encode_of_nothing_is_empty() {
        assert_eq!(encode(&[]).unwrap(), b"");
        assert_eq!(encoded_len(0), Ok(0));
        assert_eq!(encoded_len(32), Ok(40));
    }

    #[test]
    fn decode_rejects_length_not_multiple_of_five() {
        for text in [&b"abc"[..], b"Hello World", b"HelloWorld0"] {
            assert_eq!(decode(text), Err(Error::Invalid));
        }
    }

    #[test]
    fn quirk_decode_rejects_the_empty_string() {
        assert_eq!(decode(b""), Err(Error::Invalid));
    }

    #[test]
    fn decode_rejects_characters_outside_the_alphabet() {
        for bad in [
            b' ', b'"', b'\'', b',', b';', b'\\', b'_', b'`', b'|', b'~', 0x7F, 0x80, 0xFF, 0,
        ] {
            let mut text = *b"Hello";
            text[2] = bad;
            assert_eq!(decode(&text), Err(Error::Invalid), "byte {bad:#x}");
        }
    }

    #[test]
    fn decode_rejects_groups_above_u32_max() {
        // "%nSc0" is exactly 0xFFFFFFFF; one more overflows.
        assert_eq!(decode(b"%nSc0").unwrap(), [0xFF; 4]);
        assert_eq!(decode(b"%nSc1"), Err(Error::Invalid));
        assert_eq!(decode(b"#####"), Err(Error::Invalid));
        assert_eq!(decode(b"HelloWorld%%%%%"), Err(Error::Invalid));
    }

    #[test]
    fn alphabet_has_85_distinct_digits() {
        let distinct = DIGITS.iter().filter(|&&d| d != NOT_A_DIGIT).count();
        assert_eq!(distinct, 85);
    }
}
