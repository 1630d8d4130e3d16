//! ZMTP commands (RFC 23 §"Commands", RFC 37): a name (one length octet, then the name), then
//! command data. READY and the metadata it carries (names of one length octet, values of four),
//! ERROR, PING/PONG (RFC 37 heartbeats) and SUBSCRIBE/CANCEL (RFC 37); and our own
//! side-channel commands (`X-SHM-RING`, `X-SHM-READY`, `X-SHM-FRAME`), sent only to a peer that offered
//! them in its READY (see `zmtp::SIDE_CHANNEL_PROPERTY`).
#![forbid(unsafe_code)]

use bytes::{BufMut, Bytes, BytesMut};

/// A parsed command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// READY with its properties.
    Ready(Vec<(String, Bytes)>),
    /// ERROR with its reason.
    Error(Bytes),
    /// PING: TTL in deciseconds and context.
    Ping { ttl: u16, context: Bytes },
    /// PONG: the context of the PING it answers.
    Pong(Bytes),
    /// SUBSCRIBE with its topic.
    Subscribe(Bytes),
    /// CANCEL with its topic.
    Cancel(Bytes),
    /// `X-SHM-RING`: the descriptor passed with the stream is a shared ring of this many
    /// octets of frames.
    SideRing(u64),
    /// `X-SHM-READY`: the peer mapped our ring; frames may go through it now.
    SideReady,
    /// `X-SHM-FRAME`: the next message frame, or its next piece, lies in the peer's shared
    /// ring.
    SideFrame {
        more: bool,
        pos: u64,
        len: u64,
        total: u64,
    },
    /// A command this implementation does not know (ignored).
    Unknown,
}

/// Name of the side-channel ring announcement.
const SIDE_RING: &str = "X-SHM-RING";
/// Name of the side-channel ring's acknowledgement.
const SIDE_READY: &str = "X-SHM-READY";
/// Name of the side-channel frame reference.
const SIDE_FRAME: &str = "X-SHM-FRAME";

/// Why a command body is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Parses a command frame body.
pub(crate) fn parse(body: &Bytes) -> Result<Command, Malformed> {
    let (&name_len, rest) = body.split_first().ok_or(Malformed)?;
    let name_len = usize::from(name_len);
    let name = rest.get(..name_len).ok_or(Malformed)?;
    let data = body.slice(1 + name_len..);
    Ok(match name {
        b"READY" => Command::Ready(parse_properties(&data)?),
        b"ERROR" => {
            let (&n, reason) = data.split_first().ok_or(Malformed)?;
            let reason = reason.get(..usize::from(n)).ok_or(Malformed)?;
            Command::Error(Bytes::copy_from_slice(reason))
        }
        b"PING" => {
            let ttl = data.get(..2).ok_or(Malformed)?;
            let context = data.slice(2..);
            if context.len() > 16 {
                return Err(Malformed);
            }
            Command::Ping {
                ttl: u16::from_be_bytes([ttl[0], ttl[1]]),
                context,
            }
        }
        b"PONG" => Command::Pong(data),
        b"SUBSCRIBE" => Command::Subscribe(data),
        b"CANCEL" => Command::Cancel(data),
        b"X-SHM-RING" => {
            let v: [u8; 8] = data.as_ref().try_into().map_err(|_| Malformed)?;
            Command::SideRing(u64::from_be_bytes(v))
        }
        b"X-SHM-READY" if data.is_empty() => Command::SideReady,
        b"X-SHM-READY" => return Err(Malformed),
        b"X-SHM-FRAME" => {
            let v: [u8; 25] = data.as_ref().try_into().map_err(|_| Malformed)?;
            let word = |at: usize| -> Result<u64, Malformed> {
                let b = v.get(at..at + 8).ok_or(Malformed)?;
                Ok(u64::from_be_bytes(b.try_into().map_err(|_| Malformed)?))
            };
            if v[0] > 1 {
                return Err(Malformed);
            }
            Command::SideFrame {
                more: v[0] == 1,
                pos: word(1)?,
                len: word(9)?,
                total: word(17)?,
            }
        }
        _ => Command::Unknown,
    })
}

/// Parses READY/INITIATE metadata properties (the codec lives with the mechanisms, which
/// also need it for INITIATE and ZAP replies).
pub(crate) fn parse_properties(data: &Bytes) -> Result<Vec<(String, Bytes)>, Malformed> {
    crate::mechanism::metadata::parse(data).map_err(|_| Malformed)
}

fn name(out: &mut BytesMut, name: &str) {
    out.put_u8(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
}

/// A READY body with the given properties.
#[cfg(test)]
pub(crate) fn ready(props: &[(&str, &[u8])]) -> BytesMut {
    let mut out = BytesMut::new();
    name(&mut out, "READY");
    for (n, v) in props {
        out.put_u8(n.len() as u8);
        out.extend_from_slice(n.as_bytes());
        out.put_u32(v.len() as u32);
        out.extend_from_slice(v);
    }
    out
}

/// An ERROR body (the reason is cut to 255 bytes).
pub(crate) fn error(reason: &str) -> BytesMut {
    let mut out = BytesMut::new();
    name(&mut out, "ERROR");
    let r = &reason.as_bytes()[..reason.len().min(255)];
    out.put_u8(r.len() as u8);
    out.extend_from_slice(r);
    out
}

/// A PING body.
pub(crate) fn ping(ttl: u16, context: &[u8]) -> BytesMut {
    let mut out = BytesMut::new();
    name(&mut out, "PING");
    out.put_u16(ttl);
    out.extend_from_slice(context);
    out
}

/// A PONG body.
pub(crate) fn pong(context: &[u8]) -> BytesMut {
    let mut out = BytesMut::new();
    name(&mut out, "PONG");
    out.extend_from_slice(context);
    out
}

/// A SUBSCRIBE or CANCEL body.
pub(crate) fn subscription(subscribe: bool, topic: &[u8]) -> BytesMut {
    let mut out = BytesMut::new();
    name(&mut out, if subscribe { "SUBSCRIBE" } else { "CANCEL" });
    out.extend_from_slice(topic);
    out
}

/// An `X-SHM-RING` body.
pub(crate) fn side_ring(capacity: u64) -> BytesMut {
    let mut out = BytesMut::new();
    name(&mut out, SIDE_RING);
    out.put_u64(capacity);
    out
}

/// An `X-SHM-READY` body.
pub(crate) fn side_ready() -> BytesMut {
    let mut out = BytesMut::new();
    name(&mut out, SIDE_READY);
    out
}

/// An `X-SHM-FRAME` body: `len` octets at `pos` in the ring, the next piece of a frame of
/// `total` octets (all of it when they are equal).
pub(crate) fn side_frame(more: bool, pos: u64, len: u64, total: u64) -> BytesMut {
    let mut out = BytesMut::with_capacity(1 + SIDE_FRAME.len() + 25);
    name(&mut out, SIDE_FRAME);
    out.put_u8(u8::from(more));
    out.put_u64(pos);
    out.put_u64(len);
    out.put_u64(total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_round_trips() {
        let body = ready(&[("Socket-Type", b"DEALER"), ("Identity", b"")]).freeze();
        let Command::Ready(props) = parse(&body).unwrap() else {
            panic!("not READY");
        };
        assert_eq!(props[0].0, "Socket-Type");
        assert_eq!(&props[0].1[..], b"DEALER");
        assert!(props[1].1.is_empty());
    }

    #[test]
    fn truncated_properties_are_malformed() {
        let mut body = ready(&[("Socket-Type", b"DEALER")]).to_vec();
        body.truncate(body.len() - 2);
        assert_eq!(parse(&Bytes::from(body)), Err(Malformed));
        let huge = [
            5, b'R', b'E', b'A', b'D', b'Y', 1, b'x', 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(parse(&Bytes::copy_from_slice(&huge)), Err(Malformed));
    }

    #[test]
    fn ping_pong_and_subscriptions() {
        let p = parse(&ping(30, b"ctx").freeze()).unwrap();
        assert_eq!(
            p,
            Command::Ping {
                ttl: 30,
                context: Bytes::from_static(b"ctx")
            }
        );
        assert_eq!(
            parse(&subscription(true, b"topic").freeze()).unwrap(),
            Command::Subscribe(Bytes::from_static(b"topic"))
        );
        assert_eq!(parse(&Bytes::from_static(b"")), Err(Malformed));
        assert_eq!(
            parse(&Bytes::from_static(b"\x05HELLOx")).unwrap(),
            Command::Unknown
        );
    }

    #[test]
    fn side_channel_commands_round_trip_and_reject_bad_lengths() {
        assert_eq!(
            parse(&side_ring(1 << 22).freeze()).unwrap(),
            Command::SideRing(1 << 22)
        );
        let f = side_frame(true, 5 << 30, 1 << 18, 1 << 20).freeze();
        assert_eq!(
            parse(&f).unwrap(),
            Command::SideFrame {
                more: true,
                pos: 5 << 30,
                len: 1 << 18,
                total: 1 << 20
            }
        );
        assert_eq!(parse(&f.slice(..f.len() - 1)), Err(Malformed));
        let mut bad = f.to_vec();
        bad[1 + SIDE_FRAME.len()] = 2;
        assert_eq!(parse(&Bytes::from(bad)), Err(Malformed));
        let r = side_ring(7).freeze();
        assert_eq!(parse(&r.slice(..r.len() - 1)), Err(Malformed));
        assert_eq!(parse(&side_ready().freeze()).unwrap(), Command::SideReady);
        let mut ready = side_ready().to_vec();
        ready.push(0);
        assert_eq!(parse(&Bytes::from(ready)), Err(Malformed));
    }
}
