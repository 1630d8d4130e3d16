//! PUB/XPUB and SUB/XSUB: topic-filtered fan-out.
//!
//! Subscribers send subscription messages upstream (first byte 1 = subscribe, 0 = cancel, then
//! the topic), as ZMTP 3.0 and libzmq's inproc pipes carry them. XPUB/PUB apply them per pipe
//! as soon as they arrive (when the pipe is activated, not when the application calls recv)
//! and deliver each message only to pipes with a matching prefix; XPUB also hands new (or, with
//! `ZMQ_XPUB_VERBOSE`/`_VERBOSER`, every) subscription to the application. SUB filters what it
//! receives by its own topics; XSUB passes everything and lets the application send raw
//! subscription messages.
#![forbid(unsafe_code)]

use std::collections::VecDeque;

use bytes::Bytes;

use super::Pattern;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{Options, bool_value, relaxed_bool_value};
use crate::pipe::{PipeEnd, PipeId, Read};
use crate::socket::routing::dist::Distributor;
use crate::socket::routing::fq::FairQueue;
use crate::socket::routing::trie::TopicSet;
use crate::util::id_map::IdMap;

fn subscription(subscribe: bool, topic: &[u8]) -> Msg {
    let mut v = Vec::with_capacity(topic.len() + 1);
    v.push(u8::from(subscribe));
    v.extend_from_slice(topic);
    Msg::copy_from(&v)
}

/// PUB (`is_xpub == false`) and XPUB.
pub(crate) struct XPub {
    is_xpub: bool,
    dist: Distributor,
    pipes: IdMap<PipeId, PipeEnd>,
    subs: IdMap<PipeId, TopicSet>,
    all: TopicSet,
    pending: VecDeque<Msg>,
    last_pipe: Option<PipeId>,
    verbose: bool,
    verboser: bool,
    manual: bool,
    nodrop: bool,
    invert: bool,
    welcome: Option<Bytes>,
}

impl XPub {
    /// A PUB or XPUB socket.
    pub(crate) fn new(is_xpub: bool, options: &Options) -> XPub {
        XPub {
            is_xpub,
            dist: Distributor::default(),
            pipes: IdMap::default(),
            subs: IdMap::default(),
            all: TopicSet::default(),
            pending: VecDeque::new(),
            last_pipe: None,
            verbose: false,
            verboser: false,
            manual: false,
            nodrop: false,
            invert: options.invert_matching,
            welcome: None,
        }
    }

    fn subscribe(&mut self, pipe: PipeId, topic: &[u8]) -> bool {
        self.subs.entry(pipe).or_default().add(topic);
        self.all.add(topic)
    }

    fn unsubscribe(&mut self, pipe: PipeId, topic: &[u8]) -> Option<bool> {
        let set = self.subs.get_mut(&pipe)?;
        if !set.topics().any(|t| t.as_ref() == topic) {
            return None;
        }
        set.remove(topic);
        Some(self.all.remove(topic))
    }

    fn process_upstream(&mut self, pipe: PipeId, msg: Msg) {
        let data = msg.data();
        let (kind, topic) = match data.split_first() {
            Some((&k, t)) if k <= 1 && !msg.more() => (k, t),
            _ => {
                if self.is_xpub {
                    self.pending.push_back(msg);
                }
                return;
            }
        };
        if self.manual {
            self.last_pipe = Some(pipe);
            if self.is_xpub {
                self.pending.push_back(msg);
            }
            return;
        }
        let report = if kind == 1 {
            let unique = self.subscribe(pipe, topic);
            unique || self.verbose || self.verboser
        } else {
            match self.unsubscribe(pipe, topic) {
                Some(last) => last || self.verboser,
                None => false,
            }
        };
        if report && self.is_xpub {
            self.pending.push_back(msg);
        }
    }

    fn drain(&mut self, id: PipeId) {
        let Some(pipe) = self.pipes.get(&id).cloned() else {
            return;
        };
        while let Read::Msg(m) = pipe.read() {
            self.process_upstream(id, m);
        }
    }
}

impl Pattern for XPub {
    fn attach(&mut self, pipe: PipeEnd, _assigned_id: Option<Bytes>) {
        if let Some(w) = &self.welcome {
            let _ = pipe.write(Msg::from_bytes(w.clone()));
        }
        let id = pipe.id();
        self.pipes.insert(id, pipe.clone());
        self.subs.entry(id).or_default();
        self.dist.attach(pipe);
        self.drain(id);
    }

    fn read_activated(&mut self, id: PipeId) {
        self.drain(id);
    }

    fn write_activated(&mut self, id: PipeId) {
        self.dist.activated(id);
    }

    fn terminated(&mut self, id: PipeId) {
        self.drain(id);
        self.pipes.remove(&id);
        self.dist.terminated(id);
        if let Some(set) = self.subs.remove(&id) {
            for (topic, count) in set.into_counts() {
                let mut last = false;
                for _ in 0..count {
                    last = self.all.remove(&topic);
                }
                if (last || self.verboser) && self.is_xpub && !self.manual {
                    self.pending.push_back(subscription(false, &topic));
                }
            }
        }
        if self.last_pipe == Some(id) {
            self.last_pipe = None;
        }
    }

    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        let invert = self.invert;
        let subs = &self.subs;
        let matches =
            |p: &PipeEnd, data: &[u8]| subs.get(&p.id()).is_some_and(|s| s.matches(data)) != invert;
        if self.nodrop && !self.dist.in_message() {
            let data = msg.data();
            if !self.dist.all_writable(|p| matches(p, data)) {
                return Err(Error::Again);
            }
        }
        self.dist.send(msg, matches);
        Ok(())
    }

    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        if !self.is_xpub {
            return Err(Error::NotSupported);
        }
        *out = self.pending.pop_front().ok_or(Error::Again)?;
        Ok(())
    }

    fn has_in(&mut self) -> bool {
        self.is_xpub && !self.pending.is_empty()
    }

    fn has_out(&mut self) -> bool {
        if !self.nodrop || self.dist.in_message() {
            return true;
        }
        let subs = &self.subs;
        let invert = self.invert;
        self.dist
            .all_writable(|p| subs.get(&p.id()).is_some_and(|s| !s.is_empty()) != invert)
    }

    fn set_option(&mut self, option: i32, value: &[u8]) -> Option<Result<()>> {
        // PUB is an XPUB in libzmq and takes every XPUB option (most change nothing there).
        let flag = |slot: &mut bool| Some(bool_value(value).map(|v| *slot = v));
        match option {
            ZMQ_XPUB_VERBOSE => flag(&mut self.verbose),
            ZMQ_XPUB_VERBOSER => flag(&mut self.verboser),
            ZMQ_XPUB_MANUAL => flag(&mut self.manual),
            ZMQ_XPUB_NODROP => flag(&mut self.nodrop),
            ZMQ_XPUB_WELCOME_MSG => {
                self.welcome = (!value.is_empty()).then(|| Bytes::copy_from_slice(value));
                Some(Ok(()))
            }
            ZMQ_INVERT_MATCHING => {
                // Also stored in the common options (readable with getsockopt).
                if let Ok(v) = relaxed_bool_value(value) {
                    self.invert = v;
                }
                None
            }
            ZMQ_SUBSCRIBE | ZMQ_UNSUBSCRIBE if self.manual => {
                let Some(pipe) = self.last_pipe else {
                    return Some(Ok(()));
                };
                if option == ZMQ_SUBSCRIBE {
                    self.subscribe(pipe, value);
                } else {
                    self.unsubscribe(pipe, value);
                }
                Some(Ok(()))
            }
            _ => None,
        }
    }
}

/// SUB (`is_xsub == false`) and XSUB.
pub(crate) struct XSub {
    is_xsub: bool,
    fq: FairQueue,
    dist: Distributor,
    subs: TopicSet,
    invert: bool,
    more_in: bool,
    more_out: bool,
    prefetched: Option<Msg>,
}

impl XSub {
    /// A SUB or XSUB socket.
    pub(crate) fn new(is_xsub: bool, options: &Options) -> XSub {
        XSub {
            is_xsub,
            fq: FairQueue::default(),
            dist: Distributor::default(),
            subs: TopicSet::default(),
            invert: options.invert_matching,
            more_in: false,
            more_out: false,
            prefetched: None,
        }
    }

    fn accepts(&self, first: &Msg) -> bool {
        self.is_xsub || self.subs.matches(first.data()) != self.invert
    }

    /// Forwards a frame sent by the application upstream, tracking subscriptions.
    fn upstream(&mut self, mut msg: Msg) {
        if !self.more_out
            && let Some((&kind, topic)) = msg.data().split_first()
            && kind <= 1
        {
            if kind == 1 {
                self.subs.add(topic);
            } else if !self.subs.remove(topic) {
                // Unknown, or still held by an earlier subscribe: libzmq sends the
                // cancellation upstream only when the last reference goes.
                return;
            }
        }
        self.more_out = msg.more();
        self.dist.send(&mut msg, |_, _| true);
    }

    /// Reads the next frame of an accepted message into `out` (which holds nothing), skipping
    /// rejected messages whole.
    fn next_frame(&mut self, out: &mut Msg) -> Result<()> {
        if let Some(m) = self.prefetched.take() {
            *out = m;
            return Ok(());
        }
        loop {
            self.fq.recv_into(out)?;
            if self.more_in || self.accepts(out) {
                return Ok(());
            }
            let mut more = std::mem::take(out).more();
            while more {
                more = self.fq.recv().map(|(m, _)| m.more()).unwrap_or(false);
            }
        }
    }
}

impl Pattern for XSub {
    fn attach(&mut self, pipe: PipeEnd, _assigned_id: Option<Bytes>) {
        for t in self.subs.topics() {
            let _ = pipe.write(subscription(true, t));
        }
        self.fq.attach(pipe.clone());
        self.dist.attach(pipe);
    }

    fn read_activated(&mut self, id: PipeId) {
        self.fq.activated(id);
    }

    fn write_activated(&mut self, id: PipeId) {
        self.dist.activated(id);
    }

    fn terminated(&mut self, id: PipeId) {
        self.fq.terminated(id);
        self.dist.terminated(id);
    }

    fn send(&mut self, msg: &mut Msg) -> Result<()> {
        if !self.is_xsub {
            return Err(Error::NotSupported);
        }
        self.upstream(std::mem::take(msg));
        Ok(())
    }

    fn recv(&mut self, out: &mut Msg) -> Result<()> {
        self.next_frame(out)?;
        self.more_in = out.more();
        Ok(())
    }

    fn has_in(&mut self) -> bool {
        if self.more_in || self.prefetched.is_some() {
            return true;
        }
        let mut m = Msg::new();
        match self.next_frame(&mut m) {
            Ok(()) => {
                self.prefetched = Some(m);
                true
            }
            Err(_) => false,
        }
    }

    fn has_out(&mut self) -> bool {
        self.is_xsub
    }

    fn set_option(&mut self, option: i32, value: &[u8]) -> Option<Result<()>> {
        match option {
            ZMQ_SUBSCRIBE | ZMQ_UNSUBSCRIBE if !self.is_xsub => {
                self.upstream(subscription(option == ZMQ_SUBSCRIBE, value));
                Some(Ok(()))
            }
            ZMQ_INVERT_MATCHING => {
                if let Ok(v) = relaxed_bool_value(value) {
                    self.invert = v;
                }
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{DirectionConfig, pair};

    fn upstream_frames(peer: &PipeEnd) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Read::Msg(m) = peer.read() {
            out.push(m.data().to_vec());
        }
        out
    }

    #[test]
    fn pub_takes_the_xpub_options() {
        let mut publ = XPub::new(false, &Options::new(ZMQ_PUB));
        let one = 1i32.to_ne_bytes();
        for opt in [
            ZMQ_XPUB_VERBOSE,
            ZMQ_XPUB_VERBOSER,
            ZMQ_XPUB_NODROP,
            ZMQ_XPUB_MANUAL,
        ] {
            assert!(matches!(publ.set_option(opt, &one), Some(Ok(()))));
        }
        assert!(matches!(
            publ.set_option(ZMQ_XPUB_WELCOME_MSG, b"w"),
            Some(Ok(()))
        ));
        assert!(matches!(publ.set_option(ZMQ_SUBSCRIBE, b"a"), Some(Ok(()))));
        // A manual PUB keeps no subscription messages for an application that cannot read.
        let (mine, peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        publ.attach(mine, None);
        peer.write(Msg::copy_from(b"\x01topic")).unwrap();
        publ.read_activated(peer.peer_id());
        assert!(publ.pending.is_empty());
        assert!(!publ.has_in());
    }

    #[test]
    fn sub_cancels_upstream_only_when_last_reference_goes() {
        let mut sub = XSub::new(false, &Options::new(ZMQ_SUB));
        let (mine, peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        sub.attach(mine, None);
        for (opt, topic) in [
            (ZMQ_SUBSCRIBE, &b"t"[..]),
            (ZMQ_SUBSCRIBE, b"t"),
            (ZMQ_UNSUBSCRIBE, b"t"),
            (ZMQ_UNSUBSCRIBE, b"never"),
            (ZMQ_UNSUBSCRIBE, b"t"),
            (ZMQ_UNSUBSCRIBE, b"t"),
        ] {
            assert!(matches!(sub.set_option(opt, topic), Some(Ok(()))));
        }
        assert_eq!(
            upstream_frames(&peer),
            vec![b"\x01t".to_vec(), b"\x01t".to_vec(), b"\x00t".to_vec()]
        );
    }
}
