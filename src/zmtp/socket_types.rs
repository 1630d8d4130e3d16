//! Socket types on the wire: their ZMTP names (the `Socket-Type` property of READY and
//! INITIATE) and RFC 23's table of which types may talk to which.
//!
//! Layer L0: no sockets, no clock, no threads.
#![forbid(unsafe_code)]

use super::*;

/// The ZMTP name of a socket type.
pub(crate) fn socket_type_name(t: i32) -> &'static str {
    match t {
        ZMQ_PAIR => "PAIR",
        ZMQ_PUB => "PUB",
        ZMQ_SUB => "SUB",
        ZMQ_REQ => "REQ",
        ZMQ_REP => "REP",
        ZMQ_DEALER => "DEALER",
        ZMQ_ROUTER => "ROUTER",
        ZMQ_PULL => "PULL",
        ZMQ_PUSH => "PUSH",
        ZMQ_XPUB => "XPUB",
        ZMQ_XSUB => "XSUB",
        ZMQ_STREAM => "STREAM",
        _ => "",
    }
}

pub(super) fn socket_type_from_name(name: &[u8]) -> Option<i32> {
    (ZMQ_PAIR..=ZMQ_STREAM).find(|&t| socket_type_name(t).as_bytes() == name)
}

/// RFC 23's compatibility table.
pub(crate) fn compatible(ours: i32, peer: i32) -> bool {
    let ok: &[i32] = match ours {
        ZMQ_PAIR => &[ZMQ_PAIR],
        ZMQ_PUB | ZMQ_XPUB => &[ZMQ_SUB, ZMQ_XSUB],
        ZMQ_SUB | ZMQ_XSUB => &[ZMQ_PUB, ZMQ_XPUB],
        ZMQ_REQ => &[ZMQ_REP, ZMQ_ROUTER],
        ZMQ_REP => &[ZMQ_REQ, ZMQ_DEALER],
        ZMQ_DEALER => &[ZMQ_REP, ZMQ_DEALER, ZMQ_ROUTER],
        ZMQ_ROUTER => &[ZMQ_REQ, ZMQ_DEALER, ZMQ_ROUTER],
        ZMQ_PULL => &[ZMQ_PUSH],
        ZMQ_PUSH => &[ZMQ_PULL],
        _ => &[],
    };
    ok.contains(&peer)
}
