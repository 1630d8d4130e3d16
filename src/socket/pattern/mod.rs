//! Socket patterns: one type per ZeroMQ socket type behind the small [`Pattern`] trait.
//!
//! Layer L3. A pattern owns its pipe ends and decides where each frame goes and where the next
//! one comes from; the socket core (`socket/core.rs`) handles blocking, timeouts, commands and
//! options common to all types. Every method runs on the socket's thread, under the socket's
//! lock, and never blocks: "cannot now" is `Error::Again`.
#![forbid(unsafe_code)]

mod dealer;
mod pair;
mod pubsub;
mod pushpull;
mod req;
mod router;
mod stream;

use bytes::Bytes;

use crate::consts::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::{PipeEnd, PipeId};

/// The behaviour of one socket type.
pub(crate) trait Pattern: Send {
    /// Takes a newly attached pipe. `assigned_id` is the routing id the application chose for
    /// this connection with `ZMQ_CONNECT_ROUTING_ID`, if any.
    fn attach(&mut self, pipe: PipeEnd, assigned_id: Option<Bytes>);
    /// Pipe `id` has messages again.
    fn read_activated(&mut self, id: PipeId);
    /// Pipe `id` can take messages again.
    fn write_activated(&mut self, id: PipeId);
    /// The peer of pipe `id` closed.
    fn terminated(&mut self, id: PipeId);
    /// Sends one frame (MORE flag set on it for all but the last). On success the frame is
    /// taken out of `msg`; on `Again` it is left there.
    fn send(&mut self, msg: &mut Msg) -> Result<()>;
    /// Receives one frame into `out`, which holds nothing (an error leaves it so). Writing
    /// to the caller's frame, rather than returning one, saves a copy per layer.
    fn recv(&mut self, out: &mut Msg) -> Result<()>;
    /// [`Pattern::recv`] into a new frame (tests).
    #[cfg(test)]
    fn recv_msg(&mut self) -> Result<Msg> {
        let mut m = Msg::new();
        self.recv(&mut m).map(|()| m)
    }
    /// True if `recv` would succeed now.
    fn has_in(&mut self) -> bool;
    /// True if `send` would succeed now.
    fn has_out(&mut self) -> bool;
    /// Handles a type-specific option; `None` passes it on to the common options.
    fn set_option(&mut self, _option: i32, _value: &[u8]) -> Option<Result<()>> {
        None
    }
}

/// Creates the pattern for `socket_type`; EINVAL for an unknown type.
pub(crate) fn new(socket_type: i32, options: &Options) -> Result<Box<dyn Pattern>> {
    Ok(match socket_type {
        ZMQ_PAIR => Box::new(pair::Pair::default()),
        ZMQ_PUB => Box::new(pubsub::XPub::new(false, options)),
        ZMQ_XPUB => Box::new(pubsub::XPub::new(true, options)),
        ZMQ_SUB => Box::new(pubsub::XSub::new(false, options)),
        ZMQ_XSUB => Box::new(pubsub::XSub::new(true, options)),
        ZMQ_REQ => Box::new(req::Req::default()),
        ZMQ_REP => Box::new(router::Router::new_rep()),
        ZMQ_DEALER => Box::new(dealer::Dealer::default()),
        ZMQ_ROUTER => Box::new(router::Router::new()),
        ZMQ_PULL => Box::new(pushpull::Pull::default()),
        ZMQ_PUSH => Box::new(pushpull::Push::default()),
        ZMQ_STREAM => Box::new(stream::Stream::new()),
        _ => return Err(Error::Invalid),
    })
}

/// True for the socket types this build implements.
pub(crate) fn is_supported(socket_type: i32) -> bool {
    (ZMQ_PAIR..=ZMQ_STREAM).contains(&socket_type)
}
