//! A connection's session (L3 objects), the write path: pumping the pipe from the socket into
//! the protocol's output (or the ipc side channel's ring), gathering a one-way stream's frames
//! into bigger writes, and writing the stream.
#![forbid(unsafe_code)]

use super::*;

impl Session {
    /// Encodes what the pipe holds, at most one hand-over from its writer (see
    /// `PipeEnd::read_each`) and up to [`OUTPUT_HIGH`] waiting bytes; returns how many frames
    /// it took. [`Session::flush_out`] pumps again after each write until a pump takes none.
    fn pump_out(&mut self, ctx: &mut IoCtx<'_>) -> usize {
        let is_sub = matches!(self.link.options.socket_type, ZMQ_SUB | ZMQ_XSUB);
        let Some(Conn {
            zmtp: Some(zmtp),
            side_tx,
            held,
            ring_pumped,
            ..
        }) = self.conn.as_mut()
        else {
            return 0;
        };
        if !zmtp.is_active() || zmtp.output_len() >= OUTPUT_HIGH {
            return 0;
        }
        if zmtp.take_side_ready() {
            side_tx.peer_ready();
        }
        // A frame waiting for room in the ring goes first (the pipe may be gone meanwhile),
        // and nothing passes it.
        *ring_pumped = false;
        if let Some(m) = held.take() {
            match side_tx.send(zmtp, &m) {
                side::Sent::Ring => *ring_pumped = true,
                side::Sent::Socket => zmtp.send(&m, is_sub),
                side::Sent::Held | side::Sent::Broken => {
                    *held = Some(m);
                    return 0;
                }
            }
        }
        let Some(p) = &self.pipe else {
            return 0;
        };
        // Frames are encoded under one lock of the pipe's reader cache, and their slab slots
        // released together (one atomic operation per chunk, not per frame).
        let mut releases = Releases::default();
        let out_incomplete = &mut self.out_incomplete;
        let mut taken = 0;
        let end = p.read_each(|m| {
            *out_incomplete = m.more();
            taken += 1;
            match if is_sub {
                side::Sent::Socket
            } else {
                side_tx.send(zmtp, &m)
            } {
                side::Sent::Ring => *ring_pumped = true,
                side::Sent::Socket => zmtp.send(&m, is_sub),
                side::Sent::Held | side::Sent::Broken => {
                    *held = Some(m);
                    return false;
                }
            }
            m.release_into(&mut releases);
            zmtp.output_len() < OUTPUT_HIGH
        });
        drop(releases);
        if end == pipe::Drained::Closed {
            ctx.by_pipe.remove(&p.id());
            self.pipe = None;
            self.socket_gone = true;
        }
        self.take_new_ring(ctx);
        taken
    }

    /// A ring the last pump made: keeps its descriptors for the next write and watches its
    /// bell under this session's key. A bell that cannot be watched would leave a held frame
    /// waiting for ever, so the connection is dropped instead (and made again).
    fn take_new_ring(&mut self, ctx: &mut IoCtx<'_>) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let Some((fds, bell)) = conn.side_tx.take_new() else {
            return;
        };
        conn.pass_fds = fds;
        match Registered::new(ctx.remote.poller(), bell, self.key, true, false) {
            Ok(bell) => conn.bell = Some(bell),
            Err(_) => self.disconnected(ctx),
        }
    }

    /// Lets a one-way stream build a bigger write: after a pump that took more than one frame
    /// while the peer sent nothing since the last write, the thread yields (the application
    /// thread filling the pipe may be waiting for this core) and pumps again, a few times,
    /// while that adds frames and the output stays small. One write then carries the frames
    /// of several pumps: each write costs the kernel a segment, a receive pass and a wake-up
    /// of the peer, which dominate a stream of small messages. Request-reply traffic (the peer
    /// sent something) and single messages are written at once.
    fn gather_out(&mut self, ctx: &mut IoCtx<'_>, first_pump: usize) {
        let ring_pumped = self.conn.as_ref().is_some_and(|c| c.ring_pumped);
        if first_pump < 2 || std::mem::take(&mut self.peer_sent) || ring_pumped {
            return;
        }
        for _ in 0..GATHER_TRIES {
            let waiting = self.output_len();
            if waiting == 0 || waiting >= GATHER_BYTES {
                return;
            }
            std::thread::yield_now();
            if self.pump_out(ctx) == 0 {
                return;
            }
        }
    }

    fn output_len(&self) -> usize {
        self.conn
            .as_ref()
            .and_then(|c| c.zmtp.as_ref())
            .map_or(0, zmtp::Connection::output_len)
    }

    pub(super) fn flush_out(&mut self, ctx: &mut IoCtx<'_>) {
        loop {
            let taken = self.pump_out(ctx);
            if self.conn.as_ref().is_some_and(|c| c.side_tx.is_broken()) {
                // The peer broke our ring with a frame half through it.
                self.failed(ctx, Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED));
                return;
            }
            self.gather_out(ctx, taken);
            let Some(conn) = &mut self.conn else {
                break;
            };
            let Some(zmtp) = &mut conn.zmtp else {
                break;
            };
            if zmtp.output_len() == 0 {
                if zmtp.close_requested() {
                    self.end_connection(ctx, None);
                    return;
                }
                if taken > 0 {
                    // Frames that made no output (a pump takes one hand-over): look again
                    // until a pump finds the pipe empty, which re-arms its Readable.
                    continue;
                }
                let r = conn.stream.interest().0;
                let _ = conn.stream.set_interest(r, false);
                break;
            }
            if conn.may_grow_sndbuf && zmtp.output_len() >= GROW_SNDBUF_AT {
                conn.stream.get().grow_send_buffer();
                conn.may_grow_sndbuf = false;
            }
            let mut slices = [std::io::IoSlice::new(&[]); MAX_IOV];
            let front = zmtp.front_output_len();
            let n = zmtp.output_slices(&mut slices, conn.writes.limit(front));
            let written = if conn.pass_fds.is_empty() {
                conn.stream.get_mut().write_vectored(&slices[..n])
            } else {
                // The ring's descriptors go with these octets, which reach the peer before (or
                // with) the ring's announcement queued behind them.
                let r = crate::sys::shm::write_with_fds(conn.fd, &slices[..n], &conn.pass_fds);
                if r.is_ok() {
                    conn.pass_fds.clear();
                }
                r
            };
            match written {
                Ok(n) => {
                    conn.writes.wrote(front, n);
                    zmtp.consume_output(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let r = conn.stream.interest().0;
                    let _ = conn.stream.set_interest(r, true);
                    return;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.broken(ctx, &e);
                    return;
                }
            }
        }
        let held = self.conn.as_ref().is_some_and(|c| c.held.is_some());
        if self.socket_gone && self.pipe.is_none() && !held {
            self.done = true;
        }
    }
}
