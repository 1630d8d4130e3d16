//! ROUTER (`ZMQ_XREP`) and REP.
//!
//! ROUTER prefixes each received message with the routing id of the pipe it came from and
//! routes each sent message by its first frame. A peer's routing id is the one it announced
//! (`ZMQ_ROUTING_ID`), the one this socket assigned with `ZMQ_CONNECT_ROUTING_ID`, or a
//! generated 5-byte id (a zero byte and a 32-bit counter), as libzmq does. Unroutable messages
//! are dropped, or refused with EHOSTUNREACH under `ZMQ_ROUTER_MANDATORY`.
//!
//! REP is a ROUTER that strips the envelope (everything up to the empty delimiter) from each
//! request, and puts it back on the reply, in strict receive/send lock-step.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use bytes::Bytes;

use super::Pattern;
use crate::consts::{ZMQ_PROBE_ROUTER, ZMQ_ROUTER_HANDOVER, ZMQ_ROUTER_MANDATORY};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::bool_value;
use crate::pipe::{PipeEnd, PipeId};
use crate::socket::routing::closing::ClosingIds;
use crate::socket::routing::fq::FairQueue;
use crate::util::id_map::IdMap;

/// The ROUTER socket type (and the engine of REP).
pub(crate) struct Router {
    fq: FairQueue,
    by_id: HashMap<Bytes, PipeEnd>,
    /// Each attached pipe's routing id and end, by pipe (the reverse of `by_id`).
    ids: IdMap<PipeId, Peer>,
    /// The pipe the last message was received from: a reply to it (the usual case) is routed
    /// by comparing its routing id, without hashing the id frame (SipHash, since a peer may
    /// choose its id).
    last_in: Option<PipeId>,
    /// Pipes whose peer closed with messages still unread, and their routing ids: the
    /// messages are received with the id (as libzmq, where a pipe keeps its id until drained),
    /// but nothing can be sent to it any more.
    closing: ClosingIds,
    /// The body frame read together with the routing id just returned.
    prefetched: Option<Msg>,
    /// True while the frames of a received message are being returned.
    receiving: bool,
    /// Where the frames of the message being sent go (None: dropped).
    out: Option<PipeEnd>,
    sending: bool,
    next_id: u32,
    mandatory: bool,
    handover: bool,
    probe: bool,
    rep: Option<RepState>,
}

/// An attached pipe and the routing id it is known by.
struct Peer {
    rid: Bytes,
    pipe: PipeEnd,
}

struct RepState {
    sending_reply: bool,
    request_begins: bool,
    envelope: Vec<Msg>,
}

impl Router {
    /// A ROUTER socket.
    pub(crate) fn new() -> Router {
        Router {
            fq: FairQueue::default(),
            by_id: HashMap::new(),
            ids: IdMap::default(),
            last_in: None,
            closing: ClosingIds::default(),
            prefetched: None,
            receiving: false,
            out: None,
            sending: false,
            next_id: crate::util::random_u32(),
            mandatory: false,
            handover: false,
            probe: false,
            rep: None,
        }
    }

    /// A REP socket.
    pub(crate) fn new_rep() -> Router {
        Router {
            rep: Some(RepState {
                sending_reply: false,
                request_begins: true,
                envelope: Vec::new(),
            }),
            ..Router::new()
        }
    }

    fn generate_id(&mut self) -> Bytes {
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            let mut id = vec![0u8];
            id.extend_from_slice(&self.next_id.to_be_bytes());
            let id = Bytes::from(id);
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    fn forget(&mut self, id: PipeId) {
        if let Some(peer) = self.ids.remove(&id) {
            self.by_id.remove(&peer.rid);
        }
        if self.out.as_ref().is_some_and(|p| p.id() == id) {
            self.out = None;
        }
    }

    fn router_send(&mut self, msg: &mut Msg) -> Result<()> {
        if !self.sending {
            // The first frame names the peer.
            let more = msg.more();
            self.out = None;
            if !more {
                // A routing id with no message after it: libzmq drops it silently, even
                // under ZMQ_ROUTER_MANDATORY and for an unknown peer.
                *msg = Msg::new();
                return Ok(());
            }
            if let Some(pipe) = self.route(msg.data()) {
                if !pipe.check_write() {
                    if self.mandatory {
                        return Err(Error::Again);
                    }
                } else {
                    self.out = Some(pipe.clone());
                }
            } else if self.mandatory {
                return Err(Error::HostUnreachable);
            }
            self.sending = more;
            *msg = Msg::new();
            return Ok(());
        }
        let more = msg.more();
        if let Some(pipe) = &self.out {
            if pipe.write_from(msg).is_err() {
                *msg = Msg::new();
                pipe.rollback();
                self.out = None;
            }
        } else {
            *msg = Msg::new();
        }
        if !more {
            self.sending = false;
            self.out = None;
        }
        Ok(())
    }

    /// The pipe routing id `rid` names, if one is attached.
    #[inline]
    fn route(&self, rid: &[u8]) -> Option<&PipeEnd> {
        let last = self.last_in.and_then(|p| self.ids.get(&p));
        match last {
            Some(peer) if peer.rid[..] == *rid => Some(&peer.pipe),
            _ => self.by_id.get(rid),
        }
    }

    fn router_recv(&mut self, out: &mut Msg) -> Result<()> {
        if let Some(m) = self.prefetched.take() {
            self.receiving = m.more();
            *out = m;
            return Ok(());
        }
        if self.receiving {
            let pipe = self.fq.recv_into(out)?;
            self.receiving = out.more();
            if !out.more() {
                self.closing.reap(pipe);
            }
            return Ok(());
        }
        let pipe = self.fq.recv_into(out)?;
        let body = &*out;
        self.last_in = Some(pipe);
        // Copied: a routing id is short (5 bytes when generated) and fits inline in the frame,
        // where sharing it would cost a reference count round trip per message.
        let mut id = match self.ids.get(&pipe) {
            Some(peer) => Msg::copy_from(&peer.rid),
            None => self
                .closing
                .id(pipe)
                .map(|r| Msg::copy_from(r))
                .unwrap_or_default(),
        };
        if !body.more() {
            self.closing.reap(pipe);
        }
        id.set_more(true);
        // The routing id frame carries the connection's properties too (zmq_msg_gets).
        if let Some(md) = body.props() {
            id.set_metadata(md.clone());
        }
        self.prefetched = Some(std::mem::replace(out, id));
        Ok(())
    }

    fn rep_recv(&mut self, out: &mut Msg) -> Result<()> {
        let Some(rep) = &self.rep else {
            return Err(Error::State);
        };
        if rep.sending_reply {
            return Err(Error::State);
        }
        if rep.request_begins {
            'request: loop {
                let mut envelope = Vec::new();
                loop {
                    let mut frame = Msg::new();
                    self.router_recv(&mut frame)?;
                    let (more, empty) = (frame.more(), frame.is_empty());
                    envelope.push(frame);
                    if !more {
                        // Malformed: no delimiter. Drop it and wait for the next request.
                        continue 'request;
                    }
                    if empty && envelope.len() > 1 {
                        break;
                    }
                }
                if let Some(rep) = &mut self.rep {
                    rep.envelope = envelope;
                    rep.request_begins = false;
                }
                break;
            }
        }
        self.router_recv(out)?;
        if !out.more()
            && let Some(rep) = &mut self.rep
        {
            rep.sending_reply = true;
            rep.request_begins = true;
        }
        Ok(())
    }

    fn rep_send(&mut self, msg: &mut Msg) -> Result<()> {
        let envelope = match &mut self.rep {
            Some(rep) if rep.sending_reply => std::mem::take(&mut rep.envelope),
            _ => return Err(Error::State),
        };
        for mut frame in envelope {
            frame.set_more(true);
            self.router_send(&mut frame)?;
        }
        let more = msg.more();
        self.router_send(msg)?;
        if !more && let Some(rep) = &mut self.rep {
            rep.sending_reply = false;
        }
        Ok(())
    }
}

impl Pattern for Router {
    fn attach(&mut self, pipe: PipeEnd, assigned_id: Option<Bytes>) {
        let rid = match assigned_id.or_else(|| pipe.peer_routing_id()) {
            Some(id) => id,
            None => self.generate_id(),
        };
        if let Some(old) = self.by_id.get(&rid).cloned() {
            if !self.handover {
                pipe.close();
                return;
            }
            self.forget(old.id());
            self.fq.terminated(old.id());
            old.close();
        }
        if self.probe {
            let _ = pipe.write(Msg::new());
        }
        self.ids.insert(
            pipe.id(),
            Peer {
                rid: rid.clone(),
                pipe: pipe.clone(),
            },
        );
        self.by_id.insert(rid, pipe.clone());
        self.fq.attach(pipe);
    }

    fn read_activated(&mut self, id: PipeId) {
        self.fq.activated(id);
    }

    fn write_activated(&mut self, _id: PipeId) {}

    fn terminated(&mut self, id: PipeId) {
        if let Some(peer) = self.ids.get(&id) {
            self.closing
                .keep_if_unread(peer.pipe.clone(), peer.rid.clone());
        }
        self.forget(id);
        self.fq.terminated(id);
    }

    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        if self.rep.is_some() {
            self.rep_send(msg)
        } else {
            self.router_send(msg)
        }
    }

    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        if self.rep.is_some() {
            self.rep_recv(out)
        } else {
            self.router_recv(out)
        }
    }

    fn has_in(&mut self) -> bool {
        match &self.rep {
            Some(rep) if rep.sending_reply => false,
            _ => self.prefetched.is_some() || self.receiving || self.fq.has_in(),
        }
    }

    fn has_out(&mut self) -> bool {
        match &self.rep {
            Some(rep) => rep.sending_reply,
            None => true,
        }
    }

    /// REP is a ROUTER in libzmq and takes the ROUTER options too.
    fn set_option(&mut self, option: i32, value: &[u8]) -> Option<Result<()>> {
        let slot = match option {
            ZMQ_ROUTER_MANDATORY => &mut self.mandatory,
            ZMQ_ROUTER_HANDOVER => &mut self.handover,
            ZMQ_PROBE_ROUTER => &mut self.probe,
            _ => return None,
        };
        Some(bool_value(value).map(|v| *slot = v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rep_takes_the_router_options() {
        let mut rep = Router::new_rep();
        let one = 1i32.to_ne_bytes();
        for opt in [ZMQ_ROUTER_MANDATORY, ZMQ_ROUTER_HANDOVER, ZMQ_PROBE_ROUTER] {
            assert!(matches!(rep.set_option(opt, &one), Some(Ok(()))));
        }
        assert!(rep.mandatory && rep.handover && rep.probe);
    }
}

#[cfg(test)]
mod send_tests {
    use super::*;
    use crate::pipe::{DirectionConfig, pair};

    fn frame(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::copy_from(data);
        m.set_more(more);
        m
    }

    #[test]
    fn the_routing_id_frame_carries_the_peers_metadata() {
        let mut r = Router::new();
        let (mine, theirs) = pair(DirectionConfig::default(), DirectionConfig::default());
        r.attach(mine.clone(), Some(Bytes::from_static(b"peer")));
        let mut body = frame(b"hello", false);
        body.set_metadata(crate::msg::Props::new(crate::msg::Metadata::from_pairs([
            ("Socket-Type", "DEALER"),
        ])));
        theirs.write(body).unwrap();
        let id = r.recv_msg().unwrap();
        assert_eq!(id.data(), b"peer");
        assert_eq!(
            id.metadata().and_then(|m| m.get("Socket-Type")),
            Some(c"DEALER")
        );
        assert_eq!(r.recv_msg().unwrap().data(), b"hello");
    }

    #[test]
    fn a_closed_peers_last_messages_keep_its_routing_id() {
        let mut r = Router::new();
        let (mine, theirs) = pair(DirectionConfig::default(), DirectionConfig::default());
        r.attach(mine.clone(), Some(Bytes::from_static(b"leaver")));
        theirs.write(frame(b"one", true)).unwrap();
        theirs.write(frame(b"two", false)).unwrap();
        theirs.write(frame(b"bye", false)).unwrap();
        theirs.close();
        r.terminated(mine.id());
        // Not addressable any more...
        r.mandatory = true;
        assert_eq!(
            r.send(&mut frame(b"leaver", true)),
            Err(Error::HostUnreachable)
        );
        // ...but what it sent arrives under its id.
        for want in [&b"leaver"[..], b"one", b"two", b"leaver", b"bye"] {
            assert_eq!(r.recv_msg().unwrap().data(), want);
        }
        assert!(r.closing.is_empty(), "forgotten once drained");
        assert_eq!(r.recv_msg().unwrap_err(), Error::Again);
    }

    /// The next frame's bytes on the far end of a pipe.
    fn next_frame(p: &PipeEnd) -> Vec<u8> {
        match p.read() {
            crate::pipe::Read::Msg(m) => m.data().to_vec(),
            _ => panic!("no frame to read"),
        }
    }

    /// Sends `body` to the peer named `rid` (two frames).
    fn reply(r: &mut Router, rid: &[u8], body: &[u8]) -> Result<()> {
        r.send(&mut frame(rid, true))?;
        r.send(&mut frame(body, false))
    }

    #[test]
    fn replies_reach_the_last_sender_other_peers_and_a_handed_over_id() {
        let mut r = Router::new();
        r.mandatory = true;
        r.handover = true;
        let (a, a_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        let (b, b_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        r.attach(a, Some(Bytes::from_static(b"a")));
        r.attach(b, Some(Bytes::from_static(b"b")));
        a_peer.write(frame(b"from a", false)).unwrap();
        assert_eq!(r.recv_msg().unwrap().data(), b"a");
        assert_eq!(r.recv_msg().unwrap().data(), b"from a");
        // To the peer just heard from, to another one, and to nobody.
        reply(&mut r, b"a", b"to a").unwrap();
        reply(&mut r, b"b", b"to b").unwrap();
        assert_eq!(r.send(&mut frame(b"c", true)), Err(Error::HostUnreachable));
        assert_eq!(next_frame(&a_peer), b"to a");
        assert_eq!(next_frame(&b_peer), b"to b");
        // A new pipe takes "a" over: replies to "a" go to it, not to the pipe heard from.
        let (a2, a2_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        r.attach(a2, Some(Bytes::from_static(b"a")));
        reply(&mut r, b"a", b"to the new a").unwrap();
        assert_eq!(next_frame(&a2_peer), b"to the new a");
        assert!(!a_peer.check_read(), "the old pipe gets nothing more");
    }

    #[test]
    fn a_lone_routing_id_frame_is_dropped_even_when_mandatory() {
        let mut r = Router::new();
        r.mandatory = true;
        let (mine, theirs) = pair(DirectionConfig::default(), DirectionConfig::default());
        r.attach(mine, Some(Bytes::from_static(b"peer")));
        assert_eq!(r.send(&mut frame(b"nobody", false)), Ok(()));
        assert_eq!(r.send(&mut frame(b"peer", false)), Ok(()));
        assert!(!theirs.check_read(), "nothing delivered");
        // The next frame starts a new message, routed as usual.
        assert_eq!(
            r.send(&mut frame(b"nobody", true)),
            Err(Error::HostUnreachable)
        );
        assert_eq!(r.send(&mut frame(b"peer", true)), Ok(()));
        assert_eq!(r.send(&mut frame(b"body", false)), Ok(()));
        assert!(theirs.check_read());
    }
}
