//! REQ: strict request/reply lock-step over a DEALER, adding the empty envelope delimiter
//! ("bottom") to each request and accepting only the reply from the pipe the request went to.
//! `ZMQ_REQ_RELAXED` allows a new request before the reply; `ZMQ_REQ_CORRELATE` prefixes
//! requests with an id the reply must echo.
#![forbid(unsafe_code)]

use bytes::Bytes;

use super::Pattern;
use super::dealer::Dealer;
use crate::consts::{ZMQ_REQ_CORRELATE, ZMQ_REQ_RELAXED};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::bool_value;
use crate::pipe::{PipeEnd, PipeId};

/// The REQ socket type.
pub(crate) struct Req {
    dealer: Dealer,
    receiving_reply: bool,
    message_begins: bool,
    reply_pipe: Option<PipeId>,
    relaxed: bool,
    correlate: bool,
    request_id: u32,
}

impl Default for Req {
    fn default() -> Self {
        Req {
            dealer: Dealer::default(),
            receiving_reply: false,
            message_begins: true,
            reply_pipe: None,
            relaxed: false,
            correlate: false,
            request_id: crate::util::random_u32(),
        }
    }
}

impl Req {
    fn more_frame(data: &[u8]) -> Msg {
        let mut m = Msg::copy_from(data);
        m.set_more(true);
        m
    }

    /// Reads and drops the rest of a message whose first frame was `first`.
    fn discard_rest(&mut self, first: &Msg) {
        let mut more = first.more();
        while more {
            match self.dealer.fq.recv() {
                Ok((m, _)) => more = m.more(),
                Err(_) => break,
            }
        }
    }

    /// Reads frames until a reply header from the reply pipe has been consumed.
    fn read_reply_header(&mut self) -> Result<()> {
        loop {
            let (first, pipe) = self.dealer.fq.recv()?;
            // As libzmq: once the request's pipe is gone (its peer closed, possibly right
            // after replying), a reply is taken from any pipe.
            if self.reply_pipe.is_some_and(|p| p != pipe) {
                self.discard_rest(&first);
                continue;
            }
            if self.correlate {
                let ok = first.more() && first.data() == self.request_id.to_be_bytes();
                if !ok {
                    self.discard_rest(&first);
                    continue;
                }
                let (bottom, _) = self.dealer.fq.recv()?;
                if !(bottom.more() && bottom.is_empty()) {
                    self.discard_rest(&bottom);
                    continue;
                }
                return Ok(());
            }
            if first.more() && first.is_empty() {
                return Ok(());
            }
            self.discard_rest(&first);
        }
    }
}

impl Pattern for Req {
    fn attach(&mut self, pipe: PipeEnd, assigned_id: Option<Bytes>) {
        self.dealer.attach(pipe, assigned_id);
    }
    fn read_activated(&mut self, id: PipeId) {
        self.dealer.read_activated(id);
    }
    fn write_activated(&mut self, id: PipeId) {
        self.dealer.write_activated(id);
    }
    fn terminated(&mut self, id: PipeId) {
        if self.reply_pipe == Some(id) {
            self.reply_pipe = None;
        }
        self.dealer.terminated(id);
    }

    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        if self.receiving_reply {
            if !self.relaxed {
                return Err(Error::State);
            }
            self.receiving_reply = false;
            self.message_begins = true;
        }
        if self.message_begins {
            self.reply_pipe = None;
            if self.correlate {
                self.request_id = self.request_id.wrapping_add(1);
                let mut id = Req::more_frame(&self.request_id.to_be_bytes());
                self.reply_pipe = self.dealer.lb.send(&mut id)?;
                let mut bottom = Req::more_frame(b"");
                self.dealer.lb.send(&mut bottom)?;
            } else {
                let mut bottom = Req::more_frame(b"");
                self.reply_pipe = self.dealer.lb.send(&mut bottom)?;
            }
            self.message_begins = false;
            // Drop replies that arrived for earlier requests.
            while let Ok((m, _)) = self.dealer.fq.recv() {
                drop(m);
            }
        }
        let more = msg.more();
        self.dealer.lb.send(msg)?;
        if !more {
            self.receiving_reply = true;
            self.message_begins = true;
        }
        Ok(())
    }

    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        if !self.receiving_reply {
            return Err(Error::State);
        }
        if self.message_begins {
            self.read_reply_header()?;
            self.message_begins = false;
        }
        self.dealer.fq.recv_into(out)?;
        if !out.more() {
            self.receiving_reply = false;
            self.message_begins = true;
        }
        Ok(())
    }

    fn has_in(&mut self) -> bool {
        self.receiving_reply && self.dealer.has_in()
    }

    fn has_out(&mut self) -> bool {
        (!self.receiving_reply || self.relaxed) && self.dealer.has_out()
    }

    fn set_option(&mut self, option: i32, value: &[u8]) -> Option<Result<()>> {
        match option {
            ZMQ_REQ_RELAXED => Some(bool_value(value).map(|v| self.relaxed = v)),
            ZMQ_REQ_CORRELATE => Some(bool_value(value).map(|v| self.correlate = v)),
            _ => self.dealer.set_option(option, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{DirectionConfig, Read, pair};

    fn frame(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::copy_from(data);
        m.set_more(more);
        m
    }

    #[test]
    fn a_reply_sent_just_before_the_peer_closed_is_received() {
        let mut req = Req::default();
        let (mine, theirs) = pair(DirectionConfig::default(), DirectionConfig::default());
        req.attach(mine.clone(), None);
        req.send(&mut frame(b"q", false)).unwrap();
        for want in [&b""[..], b"q"] {
            assert!(matches!(theirs.read(), Read::Msg(m) if m.data() == want));
        }
        theirs.write(frame(b"", true)).unwrap();
        theirs.write(frame(b"a", false)).unwrap();
        theirs.close();
        // What the socket would do on its Readable and PeerClosed commands, in that order.
        req.read_activated(mine.id());
        req.terminated(mine.id());
        assert_eq!(req.recv_msg().unwrap().data(), b"a");
    }
}
