//! A connection's session (L3 objects), ending: a failed or lost connection (its monitor
//! events, then reconnecting, detaching a durable peer or ending), dropping a half-sent
//! message, and releasing the session.
#![forbid(unsafe_code)]

use super::*;

impl Session {
    pub(super) fn failed(&mut self, ctx: &mut IoCtx<'_>, f: Failure) {
        let handshaken = self.conn.as_ref().is_some_and(|c| c.handshaken);
        self.end_zap(ctx);
        // A peer's ERROR command gets no event of its own, as in libzmq, nor does refusing a
        // ZMTP 1.0/2.0 peer (libzmq 4.3.4 was seen to report only the disconnection).
        if !handshaken
            && f.during_handshake()
            && f != Failure::PeerError
            && f != Failure::OldPeerRefused
        {
            let (event, value) = match f {
                Failure::Protocol(code) => (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, i64::from(code)),
                Failure::Auth(code) => (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, i64::from(code)),
                Failure::NoZapHandler => (
                    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                    i64::from(libc::EFAULT),
                ),
                Failure::MechanismMismatch => (
                    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL,
                    i64::from(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH),
                ),
                // libzmq's value is the errno its timer finds: EAGAIN, left by the last
                // read that found nothing.
                Failure::HandshakeTimeout => (
                    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                    i64::from(libc::EAGAIN),
                ),
                _ => (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, 0),
            };
            self.emit(event, value);
            let stop = draft::ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED;
            if self.connect.is_some() && self.link.options.reconnect_stop & stop != 0 {
                self.socket_gone = true;
            }
        }
        // A connecting session ends, rather than reconnects, when its handshake fails on a
        // protocol error (a refusal, an ERROR from the peer, a malformed or mismatched
        // handshake), as libzmq's session does on its engine's protocol_error; a handshake
        // that timed out is retried.
        if !handshaken
            && self.connect.is_some()
            && f.during_handshake()
            && f != Failure::HandshakeTimeout
        {
            self.socket_gone = true;
        }
        // Say why (an ERROR command may be queued), best effort.
        if let Some(c) = &mut self.conn
            && let Some(z) = &mut c.zmtp
        {
            let mut slices = [std::io::IoSlice::new(&[]); MAX_IOV];
            let n = z.output_slices(&mut slices, 0);
            if n > 0
                && let Ok(w) = c.stream.get_mut().write_vectored(&slices[..n])
            {
                z.consume_output(w);
            }
        }
        self.end_connection(ctx, None);
    }

    /// The peer closed the connection (or it broke): [`Session::end_connection`] with EPIPE,
    /// libzmq's errno for a read that found the end.
    pub(super) fn disconnected(&mut self, ctx: &mut IoCtx<'_>) {
        self.end_connection(ctx, Some(libc::EPIPE));
    }

    /// The connection failed with the OS error `e`.
    pub(super) fn broken(&mut self, ctx: &mut IoCtx<'_>, e: &std::io::Error) {
        self.end_connection(ctx, Some(e.raw_os_error().unwrap_or(libc::EPIPE)));
    }

    /// Ends the connection: DISCONNECTED, then reconnecting, keeping a durable peer's pipe, or
    /// ending the session. With `lost` (an errno: the peer or the OS ended it, not a protocol
    /// failure reported already), a connection whose handshake had not finished, and any raw
    /// (ZMQ_STREAM) connection, which has none, first reports HANDSHAKE_FAILED_NO_DETAIL with
    /// that errno, as libzmq does.
    pub(super) fn end_connection(&mut self, ctx: &mut IoCtx<'_>, lost: Option<i32>) {
        self.reply_shape = ReplyShape::Bottom;
        self.last_large = 0;
        if let Some(c) = self.conn.take() {
            if c.zmtp.is_some() {
                if let Some(errno) = lost
                    && (!c.handshaken || self.link.options.raw)
                {
                    self.emit(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, i64::from(errno));
                    let stop = draft::ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED;
                    if self.connect.is_some()
                        && !self.link.options.raw
                        && self.link.options.reconnect_stop & stop != 0
                    {
                        self.socket_gone = true;
                    }
                }
                self.emit(ZMQ_EVENT_DISCONNECTED, i64::from(c.fd));
            }
            drop(c);
        }
        self.pending_in.clear();
        self.metadata = None;
        self.drop_half_sent();
        if self.durable_id.is_some() && !self.socket_gone && self.pipe.is_some() {
            // A durable peer: keep the pipe, its subscriptions and its backlog.
            if let Some(p) = &self.pipe {
                p.rollback();
            }
            let ivl = self.link.options.durable_ivl;
            self.detached_deadline = u64::try_from(ivl).ok().map(|ivl| ctx.now + ivl);
            self.emit(ZMQ_EVENT_DURABLE_DETACHED, 0);
            return;
        }
        if let Some(p) = &self.pipe {
            p.rollback();
            let o = &self.link.options;
            if o.raw && o.stream_notify {
                let _ = p.write(Msg::new());
            }
        }
        let keep_pipe = self.connect.is_some()
            && !matches!(self.link.options.socket_type, ZMQ_ROUTER | ZMQ_STREAM);
        if !keep_pipe && let Some(p) = self.pipe.take() {
            ctx.by_pipe.remove(&p.id());
            p.close();
        }
        if self.connect.is_some() && !self.socket_gone {
            self.schedule_reconnect(ctx);
        } else {
            self.done = true;
        }
    }

    /// The connection is gone with the head of a message: drop the rest of it from the pipe
    /// (as libzmq's `clean_pipes`), so that a kept pipe (a reconnecting connecter's, a durable
    /// peer's) never starts the next connection in the middle of a message.
    fn drop_half_sent(&mut self) {
        if !std::mem::take(&mut self.out_incomplete) {
            return;
        }
        if let Some(p) = &self.pipe {
            // A message is readable only once complete, so its remaining frames are there.
            while let pipe::Read::Msg(m) = p.read() {
                if !m.more() {
                    break;
                }
            }
        }
    }

    /// Releases everything: the connection, the pipe, the timer. `local`: the socket ended
    /// the session itself (zmq_disconnect, zmq_unbind, zmq_close): as in libzmq, that is no
    /// DISCONNECTED, which reports a connection lost unexpectedly (the peer sees one).
    pub(crate) fn end(&mut self, ctx: &mut IoCtx<'_>, local: bool) {
        self.end_zap(ctx);
        if let Some(d) = self.armed.take() {
            ctx.reactor.cancel_timer(d, self.key);
        }
        if let Some(c) = self.conn.take()
            && c.zmtp.is_some()
            && !self.socket_gone
            && !local
        {
            self.emit(ZMQ_EVENT_DISCONNECTED, i64::from(c.fd));
        }
        if let Some(p) = self.pipe.take() {
            ctx.by_pipe.remove(&p.id());
            p.close();
        }
        self.done = true;
    }
}
