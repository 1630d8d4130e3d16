//! A connection's session (L3 objects), once the handshake is done: the peer's properties,
//! the pipe to the socket, and durable peers (held for the I/O loop's decision, adopted,
//! begun or refused).
#![forbid(unsafe_code)]

use super::*;

impl Session {
    pub(super) fn on_handshake(&mut self, ctx: &mut IoCtx<'_>, peer: zmtp::PeerInfo) {
        let (peer_address, fd) = self
            .conn
            .as_ref()
            .map(|c| (c.stream.get().peer_address(), Some(c.stream.get().fd())))
            .unwrap_or_default();
        // A ZMTP 1.0/2.0 peer's messages carry no properties, as with libzmq 4.3 (which
        // compiles them only when a mechanism completes).
        if !peer.legacy {
            let mut md = peer.metadata.clone();
            md.insert("Peer-Address", peer_address.as_bytes());
            if let Some(fd) = fd {
                md.set_source_fd(fd);
            }
            self.metadata = Some(PropsLease::new(md));
        }
        if let Some(c) = &mut self.conn {
            c.handshaken = true;
            if c.side_offered && side::peer_offers(&peer.metadata) {
                c.side_tx = side::Sender::Offered;
            }
        }
        // libzmq 4.3 reports no handshake with a ZMTP 1.0/2.0 peer (it has no mechanism).
        let report = !self.link.options.raw && !peer.legacy;
        if self.pipe.is_none() && self.durable_applies() {
            if let Some(id) = peer.routing_id {
                self.durable_request = Some(id);
                if report {
                    self.emit(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
                }
                return;
            }
        }
        if self.pipe.is_none() {
            self.create_pipe(ctx, peer.routing_id);
        } else if let Some(p) = &self.pipe {
            p.set_own_routing_id(peer.routing_id);
        }
        // After the pipe is on its way to the socket, as libzmq (engine_ready, then the
        // event): whoever sees the event can make the socket take the peer in (ZMQ_EVENTS).
        // A raw (ZMQ_STREAM) connection has no handshake, and libzmq reports none.
        if report {
            self.emit(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0);
        }
    }

    fn create_pipe(&mut self, ctx: &mut IoCtx<'_>, peer_routing_id: Option<Bytes>) {
        let o = &self.link.options;
        {
            let (to_peer, from_peer) = pipe_directions(o);
            let (ours, theirs) = pipe::pair(from_peer, to_peer);
            ours.set_own_routing_id(peer_routing_id);
            let assigned_id = if self.connect.is_some() {
                o.connect_routing_id.clone()
            } else {
                None
            };
            // If the socket closed meanwhile, its end is closed here, and set_owner below tells
            // this session at once.
            crate::command::attach(&self.link.mailbox, theirs, assigned_id);
            if o.raw && o.stream_notify {
                let _ = ours.write(Msg::new());
            }
            ours.set_owner(Arc::clone(ctx.notify));
            ctx.by_pipe.insert(ours.id(), self.key);
            self.pipe = Some(ours);
        }
    }

    fn durable_applies(&self) -> bool {
        let o = &self.link.options;
        self.connect.is_none() && (matches!(o.socket_type, ZMQ_PUB | ZMQ_XPUB) || o.durable)
    }

    /// A durable peer's routing id waiting for the I/O loop's decision.
    pub(crate) fn take_durable_request(&mut self) -> Option<Bytes> {
        self.durable_request.take()
    }

    /// Gives up the pipe (to a session taking over a durable peer) and ends.
    pub(crate) fn take_pipe(&mut self, ctx: &mut IoCtx<'_>) -> Option<PipeEnd> {
        let p = self.pipe.take();
        if let Some(p) = &p {
            ctx.by_pipe.remove(&p.id());
        }
        self.durable_id = None;
        self.done = true;
        p
    }

    /// Takes over a detached durable peer's pipe: its backlog flows first.
    pub(crate) fn adopt(&mut self, ctx: &mut IoCtx<'_>, id: Bytes, pipe: PipeEnd) {
        pipe.set_owner(Arc::clone(ctx.notify));
        ctx.by_pipe.insert(pipe.id(), self.key);
        self.pipe = Some(pipe);
        self.durable_id = Some(id);
        self.emit(ZMQ_EVENT_DURABLE_REATTACHED, 0);
        self.flush_pending_in();
        self.resume_input(ctx);
        self.flush_out(ctx);
    }

    /// Starts a new durable peer.
    pub(crate) fn begin_durable(&mut self, ctx: &mut IoCtx<'_>, id: Bytes) {
        self.create_pipe(ctx, Some(id.clone()));
        self.durable_id = Some(id);
        self.flush_pending_in();
        self.resume_input(ctx);
        self.flush_out(ctx);
    }

    /// Refuses a second live connection with an attached durable peer's routing id.
    pub(crate) fn refuse(&mut self, ctx: &mut IoCtx<'_>) {
        self.emit(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 0);
        self.pending_in.clear();
        self.end_connection(ctx, None);
        self.done = true;
    }
}
