//! PUSH (load-balanced sends, no receive) and PULL (fair-queued receives, no send).
#![forbid(unsafe_code)]

use bytes::Bytes;

use super::Pattern;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::{PipeEnd, PipeId};
use crate::socket::routing::fq::FairQueue;
use crate::socket::routing::lb::LoadBalancer;

/// The PUSH socket type.
#[derive(Default)]
pub(crate) struct Push {
    lb: LoadBalancer,
}

impl Pattern for Push {
    fn attach(&mut self, pipe: PipeEnd, _assigned_id: Option<Bytes>) {
        self.lb.attach(pipe);
    }
    fn read_activated(&mut self, _id: PipeId) {}
    fn write_activated(&mut self, id: PipeId) {
        self.lb.activated(id);
    }
    fn terminated(&mut self, id: PipeId) {
        self.lb.terminated(id);
    }
    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        self.lb.send(msg).map(|_| ())
    }
    fn recv(&mut self, _out: &mut Msg) -> Result<()> {
        Err(Error::NotSupported)
    }
    fn has_in(&mut self) -> bool {
        false
    }
    fn has_out(&mut self) -> bool {
        self.lb.has_out()
    }
}

/// The PULL socket type.
#[derive(Default)]
pub(crate) struct Pull {
    fq: FairQueue,
}

impl Pattern for Pull {
    fn attach(&mut self, pipe: PipeEnd, _assigned_id: Option<Bytes>) {
        self.fq.attach(pipe);
    }
    fn read_activated(&mut self, id: PipeId) {
        self.fq.activated(id);
    }
    fn write_activated(&mut self, _id: PipeId) {}
    fn terminated(&mut self, id: PipeId) {
        self.fq.terminated(id);
    }
    fn send(&mut self, _msg: &mut Msg) -> Result<()> {
        Err(Error::NotSupported)
    }
    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        self.fq.recv_into(out).map(drop)
    }
    fn has_in(&mut self) -> bool {
        self.fq.has_in()
    }
    fn has_out(&mut self) -> bool {
        false
    }
}
