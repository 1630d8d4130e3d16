//! The send path of a [`Connection`]: queuing message frames and commands (in the clear, or as
//! encrypted MESSAGEs once CURVE is established; large bodies by reference, not copied), and
//! handing the queued bytes to the engine for vectored writes.
//!
//! Layer L0: no sockets, no clock, no threads.
#![forbid(unsafe_code)]

use super::*;

impl Connection {
    /// Bytes waiting to be sent; the engine removes what it wrote (`advance`).
    #[cfg(any(test, fuzzing, feature = "testing"))]
    pub(crate) fn output(&mut self) -> &mut BytesMut {
        self.flatten_output();
        &mut self.output
    }

    /// Moves the by-reference queue into `output`, so that the waiting bytes are one buffer.
    #[cfg(any(test, fuzzing, feature = "testing"))]
    fn flatten_output(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let mut all = BytesMut::with_capacity(self.output_len());
        for q in self.queued.drain(..) {
            all.extend_from_slice(&q);
        }
        all.extend_from_slice(&self.output);
        self.output = all;
    }

    /// The length of the first waiting run of bytes: a large body queued by reference, the
    /// staged bytes queued ahead of one (headers, small frames), or the staged bytes after all
    /// of them.
    pub(crate) fn front_output_len(&self) -> usize {
        self.queued
            .iter()
            .map(Bytes::len)
            .find(|&n| n > 0)
            .unwrap_or(self.output.len())
    }

    /// Bytes waiting to be sent.
    pub(crate) fn output_len(&self) -> usize {
        self.queued.iter().map(Bytes::len).sum::<usize>() + self.output.len()
    }

    /// Fills `dst` with the waiting bytes, in order, for a vectored write, at most `limit`
    /// octets of them (0 = no limit); returns how many slices were used. Call
    /// [`Connection::consume_output`] with what was written.
    pub(crate) fn output_slices<'a>(
        &'a self,
        dst: &mut [std::io::IoSlice<'a>],
        limit: usize,
    ) -> usize {
        let mut n = 0;
        let mut left = if limit == 0 { usize::MAX } else { limit };
        let parts = self
            .queued
            .iter()
            .map(|b| &b[..])
            .chain(std::iter::once(&self.output[..]));
        for part in parts.filter(|p| !p.is_empty()) {
            if left == 0 {
                break;
            }
            let Some(slot) = dst.get_mut(n) else {
                break;
            };
            let part = &part[..part.len().min(left)];
            left -= part.len();
            *slot = std::io::IoSlice::new(part);
            n += 1;
        }
        n
    }

    /// Drops the first `n` waiting bytes (they were written).
    pub(crate) fn consume_output(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.queued.front_mut() else {
                break;
            };
            if front.len() > n {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.queued.pop_front();
        }
        let n = n.min(self.output.len());
        self.output.advance(n);
    }

    /// Queues a large body by reference after what is already waiting.
    fn queue_body(&mut self, body: Bytes) {
        if !self.output.is_empty() {
            self.queued.push_back(self.output.split().freeze());
        }
        self.queued.push_back(body);
    }

    /// Queues one frame: in the clear, or as an encrypted MESSAGE once CURVE is established.
    pub(super) fn emit(&mut self, flags: u8, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let Some(codec) = self.codec.as_mut() else {
            frame::encode_header(&mut self.output, flags, len);
            for p in parts {
                self.output.extend_from_slice(p);
            }
            return;
        };
        let Some(nonce) = codec.take_nonce() else {
            // Nonces are used up: never reuse one; the next call reports the failure.
            self.state = State::Failed;
            return;
        };
        let mut inner = 0;
        if flags & frame::MORE != 0 {
            inner |= curve::FLAG_MORE;
        }
        if flags & frame::COMMAND != 0 {
            inner |= curve::FLAG_COMMAND;
        }
        // libzmq sends MESSAGE as a plain data frame; MORE travels inside the box.
        frame::encode_header(&mut self.output, 0, Codec::sealed_len(len));
        codec.seal_into(&mut self.output, nonce, inner, parts);
    }

    /// Queues one message frame for sending (only once active). Subscription messages from
    /// SUB/XSUB sockets go to ZMTP 3.1 peers as SUBSCRIBE/CANCEL commands.
    pub(crate) fn send(&mut self, msg: &Msg, subscription_source: bool) {
        let data = msg.data();
        if self.raw {
            if data.is_empty() {
                self.close_requested = true;
            } else if data.len() >= ZERO_COPY_MIN {
                self.queue_body(msg.bytes());
            } else {
                self.output.extend_from_slice(data);
            }
            return;
        }
        if let Some(framing) = self.legacy {
            // Old peers take subscriptions as the messages they are.
            if data.len() >= ZERO_COPY_MIN {
                legacy::encode_header(&mut self.output, framing, msg.more(), data.len());
                self.queue_body(msg.bytes());
            } else {
                legacy::encode(&mut self.output, framing, msg.more(), data);
            }
            return;
        }
        if subscription_source
            && self.peer_minor >= 1
            && !msg.more()
            && let Some((&kind, topic)) = data.split_first()
            && kind <= 1
        {
            let body = command::subscription(kind == 1, topic);
            self.emit(frame::COMMAND, &[&body]);
            return;
        }
        let flags = if msg.more() { frame::MORE } else { 0 };
        if self.codec.is_none() {
            if data.len() >= ZERO_COPY_MIN {
                frame::encode_header(&mut self.output, flags, data.len());
                self.queue_body(msg.bytes());
            } else {
                frame::encode(&mut self.output, flags, data);
            }
            return;
        }
        self.emit(flags, &[data]);
    }
}
