//! STREAM: raw TCP with routing ids. Each received chunk arrives as [routing id, data]; a
//! connection and a disconnection each arrive as [routing id, empty] (unless
//! `ZMQ_STREAM_NOTIFY` is 0). Sending [routing id, data] writes raw bytes to that connection;
//! [routing id, empty] closes it. An unknown routing id gives EHOSTUNREACH.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use bytes::Bytes;

use super::Pattern;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::{PipeEnd, PipeId, WriteError};
use crate::socket::routing::closing::ClosingIds;
use crate::socket::routing::fq::FairQueue;
use crate::util::id_map::IdMap;

/// The STREAM socket type.
pub(crate) struct Stream {
    fq: FairQueue,
    by_id: HashMap<Bytes, PipeEnd>,
    ids: IdMap<PipeId, Bytes>,
    /// Pipes whose peer closed with messages still unread (the disconnect notification at
    /// least), and their routing ids: those messages still arrive with the id.
    closing: ClosingIds,
    prefetched: Option<Msg>,
    out: Option<PipeEnd>,
    /// True after the routing-id frame of an outgoing message.
    sending: bool,
    next_id: u32,
}

impl Stream {
    /// A STREAM socket.
    pub(crate) fn new() -> Stream {
        Stream {
            fq: FairQueue::default(),
            by_id: HashMap::new(),
            ids: IdMap::default(),
            closing: ClosingIds::default(),
            prefetched: None,
            out: None,
            sending: false,
            next_id: crate::util::random_u32(),
        }
    }
}

impl Pattern for Stream {
    fn attach(&mut self, pipe: PipeEnd, assigned_id: Option<Bytes>) {
        let rid = assigned_id
            .filter(|id| !self.by_id.contains_key(id))
            .unwrap_or_else(|| {
                loop {
                    self.next_id = self.next_id.wrapping_add(1);
                    let mut v = vec![0u8];
                    v.extend_from_slice(&self.next_id.to_be_bytes());
                    let id = Bytes::from(v);
                    if !self.by_id.contains_key(&id) {
                        break id;
                    }
                }
            });
        self.ids.insert(pipe.id(), rid.clone());
        self.by_id.insert(rid, pipe.clone());
        self.fq.attach(pipe);
    }

    fn read_activated(&mut self, id: PipeId) {
        self.fq.activated(id);
    }

    fn write_activated(&mut self, _id: PipeId) {}

    fn terminated(&mut self, id: PipeId) {
        // The routing id stays known until the disconnect notification has been read; nothing
        // can be sent to the connection any more.
        if let Some(rid) = self.ids.remove(&id)
            && let Some(end) = self.by_id.remove(&rid)
        {
            self.closing.keep_if_unread(end, rid);
        }
        if self.out.as_ref().is_some_and(|p| p.id() == id) {
            self.out = None;
        }
        self.fq.terminated(id);
    }

    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        if !self.sending {
            let pipe = self.by_id.get(msg.data()).ok_or(Error::HostUnreachable)?;
            if !msg.more() {
                return Err(Error::Invalid);
            }
            self.out = Some(pipe.clone());
            self.sending = true;
            *msg = Msg::new();
            return Ok(());
        }
        self.sending = false;
        let mut frame = std::mem::take(msg);
        frame.set_more(false);
        if let Some(pipe) = self.out.take() {
            match pipe.write(frame) {
                Ok(()) => {}
                Err(WriteError::Full(m)) => {
                    self.out = Some(pipe);
                    self.sending = true;
                    *msg = m;
                    return Err(Error::Again);
                }
                Err(WriteError::Closed) => {}
            }
        }
        Ok(())
    }

    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        *out = self.recv_frame()?;
        Ok(())
    }

    fn has_in(&mut self) -> bool {
        self.prefetched.is_some() || self.fq.has_in()
    }

    fn has_out(&mut self) -> bool {
        true
    }
}

impl Stream {
    /// The next frame: a peer's routing id, then the data that came from it.
    fn recv_frame(&mut self) -> Result<Msg> {
        if let Some(m) = self.prefetched.take() {
            return Ok(m);
        }
        let (body, pipe) = self.fq.recv()?;
        let rid = match self.ids.get(&pipe) {
            Some(rid) => rid.clone(),
            None => {
                // A closed connection's message: its id is forgotten with the last of them.
                let rid = self.closing.id(pipe).cloned().unwrap_or_default();
                self.closing.reap(pipe);
                rid
            }
        };
        let mut id = Msg::from_bytes(rid);
        id.set_more(true);
        let mut body = body;
        body.set_more(false);
        self.prefetched = Some(body);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{DirectionConfig, pair};

    #[test]
    fn a_closed_connections_notifications_keep_its_routing_id() {
        let mut s = Stream::new();
        let (mine, theirs) = pair(DirectionConfig::default(), DirectionConfig::default());
        s.attach(mine.clone(), Some(Bytes::from_static(b"conn")));
        // The session's connect notice, data, and its disconnect notice, then the close.
        theirs.write(Msg::new()).unwrap();
        theirs.write(Msg::copy_from(b"data")).unwrap();
        theirs.write(Msg::new()).unwrap();
        theirs.close();
        s.terminated(mine.id());
        let mut id = Msg::copy_from(b"conn");
        id.set_more(true);
        assert_eq!(s.send(&mut id), Err(Error::HostUnreachable), "gone");
        for want in [&b"conn"[..], b"", b"conn", b"data", b"conn", b""] {
            assert_eq!(s.recv_msg().unwrap().data(), want);
        }
        assert!(s.closing.is_empty(), "forgotten once drained");
        assert_eq!(s.recv_msg().unwrap_err(), Error::Again);
    }
}
