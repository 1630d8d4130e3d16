//! A connection's session (L3 objects), the read path: reading the stream, decoding frames
//! into the pipe to the socket (or its backlog while the pipe is full), a REQ's check of each
//! reply's shape, and the events the protocol returns.
#![forbid(unsafe_code)]

use super::*;

/// The shape of a reply as a REQ's session checks it frame by frame, as libzmq's
/// `req_session_t` does over tcp and ipc: an optional 4-byte request id (ZMQ_REQ_CORRELATE),
/// the empty delimiter, then the body. Anything else is a protocol error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ReplyShape {
    Bottom,
    RequestId,
    Body,
}

impl ReplyShape {
    /// Takes the next frame of a reply; false if the reply is malformed.
    pub(super) fn accept(&mut self, more: bool, len: usize) -> bool {
        *self = match (*self, more, len) {
            (ReplyShape::Bottom, true, 4) => ReplyShape::RequestId,
            (ReplyShape::Bottom | ReplyShape::RequestId, true, 0) => ReplyShape::Body,
            (ReplyShape::Body, true, _) => ReplyShape::Body,
            (ReplyShape::Body, false, _) => ReplyShape::Bottom,
            _ => return false,
        };
        true
    }
}

/// Where received frames go: the session's pipe to its socket, or its backlog while the
/// pipe is full (or not there yet, for a durable peer awaiting the I/O loop's decision).
struct Inbox<'a> {
    pipe: Option<&'a PipeEnd>,
    metadata: Option<&'a PropsLease>,
    pending_in: &'a mut VecDeque<Msg>,
    /// Frames for the pipe, written under one lock by [`Inbox::flush`] (empty between reads).
    batch: &'a mut VecDeque<Msg>,
    /// Set when a write found the socket asleep: wake it once, after the batch.
    wake_reader: &'a mut bool,
    /// Keep frames in the backlog: a durable peer's pipe is not decided yet.
    hold: bool,
    /// A REQ checks the shape of each reply (see [`ReplyShape`]).
    reply_shape: Option<&'a mut ReplyShape>,
    /// A REQ got a malformed reply: the rest is dropped and the session must disconnect.
    malformed: bool,
}

/// The session's [`Inbox`], built from its fields one by one so that it can coexist with a
/// borrow of the session's connection (a method taking `&mut self` could not).
macro_rules! inbox {
    ($s:ident) => {
        Inbox {
            pipe: $s.pipe.as_ref(),
            metadata: $s.metadata.as_ref(),
            pending_in: &mut $s.pending_in,
            batch: &mut $s.in_batch,
            wake_reader: &mut $s.wake_reader,
            hold: $s.pipe.is_none() && $s.durable_request.is_some(),
            reply_shape: ($s.link.options.socket_type == ZMQ_REQ).then_some(&mut $s.reply_shape),
            malformed: false,
        }
    };
}

impl Inbox<'_> {
    fn take(&mut self, mut m: Msg) {
        if self.malformed {
            return;
        }
        if let Some(shape) = self.reply_shape.as_deref_mut()
            && !shape.accept(m.more(), m.len())
        {
            self.malformed = true;
            return;
        }
        if let Some(md) = self.metadata {
            m.set_metadata(md.stamp());
        }
        if !self.pending_in.is_empty() || self.hold {
            self.pending_in.push_back(m);
            return;
        }
        if self.pipe.is_some() {
            self.batch.push_back(m);
        }
    }

    /// Writes the batch into the pipe; what the pipe refuses at its HWM goes to the backlog.
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        if let Some(p) = self.pipe {
            *self.wake_reader |= p.write_batch(self.batch);
        }
        self.pending_in.append(self.batch);
    }
}

impl Session {
    pub(super) fn flush_pending_in(&mut self) {
        let Some(p) = &self.pipe else {
            return;
        };
        while let Some(m) = self.pending_in.pop_front() {
            match p.write(m) {
                Ok(()) => {}
                Err(WriteError::Full(m)) => {
                    self.pending_in.push_front(m);
                    return;
                }
                Err(WriteError::Closed) => {
                    self.pending_in.clear();
                    return;
                }
            }
        }
    }

    /// Once what waits for the socket (the backlog, then side frames still in the peer's
    /// ring) is all in its pipe, reads on; otherwise the pipe's `Writable` comes back here.
    pub(super) fn resume_input(&mut self, ctx: &mut IoCtx<'_>) {
        self.handle_events(ctx);
        if self.input_waits() {
            return;
        }
        if let Some(c) = &mut self.conn {
            let w = c.stream.interest().1;
            let _ = c.stream.set_interest(true, w);
        }
        self.read_in(ctx);
    }

    /// True while received frames wait for room in the pipe (the backlog, or side frames left
    /// in the peer's ring): the connection is not read meanwhile.
    fn input_waits(&self) -> bool {
        !self.pending_in.is_empty()
            || self
                .conn
                .as_ref()
                .and_then(|c| c.zmtp.as_ref())
                .is_some_and(|z| z.has_events())
    }

    /// True if a side frame may be copied out of the peer's ring now: nothing waits before it
    /// and the pipe takes it (if not, the pipe's `Writable` follows; a socket that has gone
    /// takes nothing, and the frame is dropped as any other would be).
    fn room_for_side_frame(&self) -> bool {
        self.pending_in.is_empty()
            && self
                .pipe
                .as_ref()
                .is_none_or(|p| p.check_write() || p.peer_closed())
    }

    pub(super) fn read_in(&mut self, ctx: &mut IoCtx<'_>) {
        self.read_batch(ctx);
        self.update_low_water();
    }

    /// Reads until the stream is drained, input must wait, or [`READS_PER_EVENT`] reads.
    fn read_batch(&mut self, ctx: &mut IoCtx<'_>) {
        for _ in 0..READS_PER_EVENT {
            if self.input_waits() {
                if let Some(c) = &mut self.conn {
                    let w = c.stream.interest().1;
                    let _ = c.stream.set_interest(false, w);
                }
                return;
            }
            let Some(conn) = &mut self.conn else {
                return;
            };
            let Some(zmtp) = &mut conn.zmtp else {
                return;
            };
            let fd = conn.stream.get().fd();
            let (total, wanted) = zmtp.input_frame();
            let apart = zmtp.decodes_apart();
            let (room, ask) = read_plan(total, wanted.min(READ_MAX), &mut self.last_large, apart);
            let read = if conn.side_offered {
                let mut fds = Vec::new();
                let r =
                    crate::sys::shm::read_with_fds(fd, zmtp.input_buffer(), room, ask, &mut fds);
                if let Some(side) = zmtp.side_channel() {
                    fds.into_iter().for_each(|f| side.add_fd(f));
                }
                r
            } else {
                crate::sys::read_into(fd, zmtp.input_buffer(), room, ask)
            };
            let n = match read {
                Ok(0) => {
                    self.disconnected(ctx);
                    return;
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.broken(ctx, &e);
                    return;
                }
            };
            // Frames go straight to the pipe as they are decoded; the handshake and whatever
            // follows it in the same read come back as events (handle_events).
            let mut inbox = inbox!(self);
            let mut delivered = false;
            let r = zmtp.process_with(ctx.now, &mut |m| {
                inbox.take(m);
                delivered = true;
                Ok(())
            });
            self.peer_sent |= delivered;
            inbox.flush();
            if inbox.malformed {
                // A malformed reply is a protocol error: libzmq's REQ session drops the
                // connection for good (no reconnect), and nothing of the reply reaches the
                // socket (its frames so far are rolled back).
                self.wake();
                self.socket_gone = true;
                self.end_connection(ctx, None);
                return;
            }
            if let Err(f) = r {
                self.wake();
                self.failed(ctx, f);
                return;
            }
            self.handle_events(ctx);
            if n < room.min(ask) {
                return;
            }
        }
    }

    /// Sets the stream's receive low-water mark for what the front frame still lacks.
    fn update_low_water(&mut self) {
        let Some(conn) = &mut self.conn else {
            return;
        };
        let Some(zmtp) = &conn.zmtp else {
            return;
        };
        let (total, wanted) = zmtp.input_frame();
        let mark = if zmtp.watches_liveness() {
            1
        } else {
            low_water_for(total, wanted)
        };
        if mark != conn.low_water {
            conn.stream.get().set_read_low_water(mark);
            conn.low_water = mark;
        }
    }

    /// Wakes the socket once for what the last batch delivered.
    pub(super) fn wake(&mut self) {
        if std::mem::take(&mut self.wake_reader)
            && let Some(p) = &self.pipe
        {
            p.wake_reader();
        }
    }

    pub(super) fn handle_events(&mut self, ctx: &mut IoCtx<'_>) {
        self.handle_events_batch(ctx);
        // The messages of one read reach the socket together, as libzmq flushes its pipe once
        // per read: woken at the first, the socket could look before the rest are in.
        self.wake();
    }

    fn handle_events_batch(&mut self, ctx: &mut IoCtx<'_>) {
        loop {
            let Some(ev) = self
                .conn
                .as_mut()
                .and_then(|c| c.zmtp.as_mut())
                .and_then(|z| z.poll_event())
            else {
                return;
            };
            match ev {
                Event::HandshakeDone(peer) => self.on_handshake(ctx, peer),
                Event::Message(m) => {
                    if !self.deliver(ctx, m) {
                        return;
                    }
                }
                Event::SideFrame(piece) => {
                    if !self.room_for_side_frame() {
                        if let Some(z) = self.conn.as_mut().and_then(|c| c.zmtp.as_mut()) {
                            z.unpoll_event(Event::SideFrame(piece));
                        }
                        return;
                    }
                    let copied = self
                        .conn
                        .as_mut()
                        .and_then(|c| c.zmtp.as_mut())
                        .map(|z| z.side_frame(piece));
                    match copied {
                        Some(Ok(Some(m))) => {
                            if !self.deliver(ctx, m) {
                                return;
                            }
                        }
                        Some(Ok(None)) => {}
                        Some(Err(f)) => {
                            self.failed(ctx, f);
                            return;
                        }
                        None => return,
                    }
                }
                Event::ZapRequest(frames) => {
                    if !self.send_zap_request(ctx, frames) {
                        // Nothing bound at inproc://zeromq.zap.01: libzmq's rules apply.
                        let r = self
                            .conn
                            .as_mut()
                            .and_then(|c| c.zmtp.as_mut())
                            .map(|z| z.zap_handler_missing(ctx.now));
                        if let Some(Err(f)) = r {
                            self.failed(ctx, f);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Delivers a frame that came as an event; false if it was a malformed reply, which ends
    /// the connection (as in `read_in`).
    fn deliver(&mut self, ctx: &mut IoCtx<'_>, m: Msg) -> bool {
        self.peer_sent = true;
        let mut inbox = inbox!(self);
        inbox.take(m);
        inbox.flush();
        if inbox.malformed {
            self.socket_gone = true;
            self.end_connection(ctx, None);
            return false;
        }
        true
    }
}
