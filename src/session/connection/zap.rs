//! A connection's session (L3 objects), ZAP (RFC 27): carrying a request to the handler bound
//! at `inproc://zeromq.zap.01` over a pipe of its own, and its reply back to the connection.
#![forbid(unsafe_code)]

use super::*;

/// Where ZAP handlers bind (RFC 27).
const ZAP_ENDPOINT: &str = "zeromq.zap.01";

impl Session {
    /// Carries a ZAP request to the handler bound at `inproc://zeromq.zap.01` over a pipe of
    /// its own (the reply comes back as pipe events). False if no handler is bound.
    pub(super) fn send_zap_request(&mut self, ctx: &mut IoCtx<'_>, frames: Vec<Bytes>) -> bool {
        let handler = self.link.shared.inproc.lock().lookup(ZAP_ENDPOINT).cloned();
        let Some(handler) = handler else {
            return false;
        };
        let (ours, theirs) = pipe::pair(DirectionConfig::default(), DirectionConfig::default());
        if !crate::command::attach(&handler.mailbox, theirs, None) {
            // The handler closed after the lookup: treat it as not bound.
            return false;
        }
        let n = frames.len();
        for (i, f) in frames.into_iter().enumerate() {
            let mut m = Msg::from_bytes(f);
            m.set_more(i + 1 < n);
            let _ = ours.write(m);
        }
        ours.set_owner(Arc::clone(ctx.notify));
        ctx.by_pipe.insert(ours.id(), self.key);
        self.zap = Some(ours);
        self.zap_reply.clear();
        true
    }

    /// Reads the ZAP handler's reply; once whole, hands it to the connection.
    pub(super) fn on_zap_pipe(&mut self, ctx: &mut IoCtx<'_>) {
        let Some(zap) = self.zap.clone() else {
            return;
        };
        loop {
            match zap.read() {
                pipe::Read::Msg(m) => {
                    let last = !m.more();
                    self.zap_reply.push(Bytes::copy_from_slice(m.data()));
                    if !last {
                        continue;
                    }
                    let reply = std::mem::take(&mut self.zap_reply);
                    self.end_zap(ctx);
                    self.zap_answered(ctx, |z, now| z.handle_zap_reply(&reply, now));
                    return;
                }
                pipe::Read::Empty => return,
                pipe::Read::Closed => {
                    // The handler went away without answering: as if none were bound.
                    self.end_zap(ctx);
                    self.zap_answered(ctx, |z, now| z.zap_handler_missing(now));
                    return;
                }
            }
        }
    }

    /// Gives the connection (if it is still there) the ZAP outcome through `answer`, then
    /// fails it or carries on with the events and output the answer made.
    fn zap_answered(
        &mut self,
        ctx: &mut IoCtx<'_>,
        answer: impl FnOnce(&mut Connection, u64) -> Result<(), Failure>,
    ) {
        let now = ctx.now;
        let r = self
            .conn
            .as_mut()
            .and_then(|c| c.zmtp.as_mut())
            .map(|z| answer(z, now));
        match r {
            Some(Err(f)) => self.failed(ctx, f),
            Some(Ok(())) => {
                self.handle_events(ctx);
                self.flush_out(ctx);
            }
            None => {}
        }
    }

    /// Closes the pipe to the ZAP handler, if one is open, and drops any partial reply.
    pub(super) fn end_zap(&mut self, ctx: &mut IoCtx<'_>) {
        if let Some(z) = self.zap.take() {
            ctx.by_pipe.remove(&z.id());
            z.close();
        }
        self.zap_reply.clear();
    }
}
