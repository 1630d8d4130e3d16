//! DEALER (`ZMQ_XREQ`): load-balanced sends, fair-queued receives, no envelopes of its own.
//! `ZMQ_PROBE_ROUTER` sends an empty message to each new peer.
#![forbid(unsafe_code)]

use bytes::Bytes;

use super::Pattern;
use crate::consts::ZMQ_PROBE_ROUTER;
use crate::error::Result;
use crate::msg::Msg;
use crate::options::bool_value;
use crate::pipe::{PipeEnd, PipeId};
use crate::socket::routing::fq::FairQueue;
use crate::socket::routing::lb::LoadBalancer;

/// The DEALER socket type.
#[derive(Default)]
pub(crate) struct Dealer {
    pub(super) lb: LoadBalancer,
    pub(super) fq: FairQueue,
    probe_router: bool,
}

impl Pattern for Dealer {
    fn attach(&mut self, pipe: PipeEnd, _assigned_id: Option<Bytes>) {
        if self.probe_router {
            let _ = pipe.write(Msg::new());
        }
        self.fq.attach(pipe.clone());
        self.lb.attach(pipe);
    }
    fn read_activated(&mut self, id: PipeId) {
        self.fq.activated(id);
    }
    fn write_activated(&mut self, id: PipeId) {
        self.lb.activated(id);
    }
    fn terminated(&mut self, id: PipeId) {
        self.fq.terminated(id);
        self.lb.terminated(id);
    }
    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        self.lb.send(msg).map(|_| ())
    }
    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        self.fq.recv_into(out).map(drop)
    }
    fn has_in(&mut self) -> bool {
        self.fq.has_in()
    }
    fn has_out(&mut self) -> bool {
        self.lb.has_out()
    }
    fn set_option(&mut self, option: i32, value: &[u8]) -> Option<Result<()>> {
        (option == ZMQ_PROBE_ROUTER).then(|| bool_value(value).map(|v| self.probe_router = v))
    }
}
