//! One tcp/ipc connection's session: pipe ↔ ZMTP pump, reconnects, linger.
//!
//! This file holds the session's state, its tunables, its pipe directions, its constructors and
//! the entry points for pipe events and timers. The rest is in `connection/`: `connect.rs`
//! (connecting and reconnecting), `handshake.rs` (the peer's pipe and durable peers), `read.rs`
//! (the read path and protocol events), `write.rs` (the write path), `zap.rs` (ZAP requests)
//! and `end.rs` (failures, disconnection and the session's end).
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;

use super::read_sizing::{READ_MAX, low_water_for, read_plan};
use super::write_sizing::WriteSizing;
use super::{IoCtx, Link, side};
use crate::consts::*;
use crate::msg::{Msg, PropsLease, Releases};
use crate::pipe::{self, DirectionConfig, PipeEnd, PipeEvent, WriteError};
use crate::reactor::Registered;
use crate::transport::{Endpoint, Stream};
use crate::zmtp::{self, Connection, Event, Failure};

mod connect;
mod end;
mod handshake;
mod read;
#[cfg(test)]
mod tests;
mod write;
mod zap;

use read::ReplyShape;

/// Buffers per vectored write.
const MAX_IOV: usize = 64;
/// Extra pumps a one-way stream may make before a write (see `Session::gather_out`).
const GATHER_TRIES: usize = 4;
/// Waiting output past which a stream is written without gathering more.
const GATHER_BYTES: usize = 16 * 1024;
/// Stop pulling from the pipe while this much is waiting to be written.
const OUTPUT_HIGH: usize = 256 * 1024;
/// Waiting output at which an ipc connection grows its send buffer
/// (`Stream::grow_send_buffer`): pumping stops at [`OUTPUT_HIGH`], so only a frame longer
/// than that brings the output here.
const GROW_SNDBUF_AT: usize = 2 * OUTPUT_HIGH;
/// Reads per readiness event before yielding to other connections.
const READS_PER_EVENT: usize = 16;

struct Conn {
    stream: Registered<Stream>,
    /// None while a connect is in progress.
    zmtp: Option<Connection>,
    fd: i32,
    handshaken: bool,
    /// How large each write may be (see `Stream::write_limit` and [`WriteSizing`]).
    writes: WriteSizing,
    /// The send buffer may still grow for large frames (see [`GROW_SNDBUF_AT`]).
    may_grow_sndbuf: bool,
    /// We offered the shared-memory side channel (`side`): reads take descriptors too.
    side_offered: bool,
    /// Where large frames go once the peer offered the side channel too.
    side_tx: side::Sender,
    /// Our ring's descriptor and its bell's, passed with the next write.
    pass_fds: Vec<std::os::fd::OwnedFd>,
    /// The bell the peer rings when it frees room in our ring (registered under our key).
    bell: Option<Registered<crate::sys::shm::Bell>>,
    /// A frame taken from the pipe that waits for room in our ring (`side::Sent::Held`).
    held: Option<Msg>,
    /// The last pump put a frame in the ring: its output understates the work it took, so
    /// there is nothing to gather (`Session::gather_out`).
    ring_pumped: bool,
    /// The stream's receive low-water mark now (see [`low_water_for`]).
    low_water: usize,
    /// The SOCKS5 exchange with `ZMQ_SOCKS_PROXY` still to run once the connect completes.
    socks: Option<crate::transport::SocksClient>,
}

/// Octets a session may have delivered to its socket and not yet read before it stops
/// reading its connection (the kernel's buffers and then the peer's HWM take the rest): bounds
/// the receiver's memory when frames are large, as the HWM in messages does when they are
/// small. A message that starts below the bound goes in whole.
pub(crate) const READ_AHEAD_BYTES: u64 = 1 << 20;

/// Octets the session consumes from its socket's queue after which a sender stopped at its
/// SNDHWM may go on, before the queue is down to the low-water mark (the HWM itself is
/// unchanged). With 1 MiB messages the mark is 500 MiB away: the sender then refilled its
/// queue with hundreds of fresh buffers at once, more than the buffer pool keeps, and each was
/// faulted in page by page inside the I/O thread's writes (100 faults per message). Refilled
/// 4 MiB at a time it reuses the buffers it sent: tcp 1 MiB PUSH -> PULL 5.6-6.0 -> 6.6-6.9 k
/// msg/s (paired runs of 7500 messages), with the larger pool (`msg::slab`).
pub(crate) const WAKE_BYTES: u64 = 4 << 20;

/// The two directions of a tcp/ipc connection's pipe, `(to_peer, from_peer)`: what the socket
/// writes (its ZMQ_SNDHWM, swap, [`WAKE_BYTES`]) and what the session delivers (ZMQ_RCVHWM and
/// [`READ_AHEAD_BYTES`]); no HWM with ZMQ_CONFLATE. A ZMQ_RCVHWM of 0 asks for an unbounded
/// receive queue, so it gets no byte bound either.
pub(crate) fn pipe_directions(o: &crate::options::Options) -> (DirectionConfig, DirectionConfig) {
    let hwm = |v: i32| {
        if o.conflate {
            0
        } else {
            u64::try_from(v).unwrap_or(0)
        }
    };
    let rcvhwm = hwm(o.rcvhwm);
    (
        DirectionConfig {
            hwm: hwm(o.sndhwm),
            conflate: o.conflate,
            swap: o.out_swap(),
            byte_limit: 0,
            wake_bytes: WAKE_BYTES,
        },
        DirectionConfig {
            hwm: rcvhwm,
            conflate: o.conflate,
            swap: None,
            byte_limit: if rcvhwm > 0 { READ_AHEAD_BYTES } else { 0 },
            wake_bytes: 0,
        },
    )
}

/// A connection's session (see the module doc).
pub(crate) struct Session {
    key: usize,
    link: Link,
    endpoint: String,
    connect: Option<Endpoint>,
    fresh: Option<Stream>,
    conn: Option<Conn>,
    pipe: Option<PipeEnd>,
    metadata: Option<PropsLease>,
    pending_in: VecDeque<Msg>,
    /// The frames of the read being decoded, on their way to the pipe (kept for its capacity).
    in_batch: VecDeque<Msg>,
    /// Messages were delivered to a sleeping socket: wake it at the end of the batch.
    wake_reader: bool,
    /// The size of the large frame the last read completed (0 = none): the next read asks
    /// for a little only, into a buffer of that size.
    last_large: usize,
    socket_gone: bool,
    /// Where a REQ is in the reply coming in (see [`ReplyShape`]).
    reply_shape: ReplyShape,
    linger_deadline: Option<u64>,
    reconnect_at: Option<u64>,
    reconnect_ivl: u64,
    armed: Option<u64>,
    done: bool,
    /// The peer's routing id while this session is durable (see `durable_applies`).
    durable_id: Option<Bytes>,
    /// A durable peer finished its handshake: the I/O loop decides (adopt, create, refuse).
    durable_request: Option<Bytes>,
    /// When a detached durable session gives up (`ZMQ_DURABLE_IVL`).
    detached_deadline: Option<u64>,
    /// The last frame taken from the pipe for sending had MORE: the rest of its message is
    /// still in the pipe.
    out_incomplete: bool,
    /// The peer sent messages since the last write (request-reply traffic: no gathering).
    peer_sent: bool,
    /// When a connect in progress is abandoned (`ZMQ_CONNECT_TIMEOUT`).
    connect_deadline: Option<u64>,
    /// The pipe to the ZAP handler while a request is outstanding.
    zap: Option<PipeEnd>,
    zap_reply: Vec<Bytes>,
}

impl Session {
    /// A session that connects to `endpoint` (and reconnects when the connection drops).
    pub(crate) fn connecter(
        key: usize,
        endpoint: Endpoint,
        endpoint_str: String,
        link: Link,
        pipe: Option<PipeEnd>,
    ) -> Session {
        let ivl = u64::try_from(link.options.reconnect_ivl.max(0)).unwrap_or(0);
        Session {
            connect: Some(endpoint),
            pipe,
            reconnect_ivl: ivl,
            ..Session::base(key, link, endpoint_str)
        }
    }

    /// A session for a connection a listener accepted.
    pub(crate) fn accepted(key: usize, stream: Stream, endpoint: String, link: Link) -> Session {
        Session {
            fresh: Some(stream),
            ..Session::base(key, link, endpoint)
        }
    }

    fn base(key: usize, link: Link, endpoint: String) -> Session {
        Session {
            key,
            link,
            endpoint,
            connect: None,
            fresh: None,
            conn: None,
            pipe: None,
            metadata: None,
            pending_in: VecDeque::new(),
            in_batch: VecDeque::new(),
            wake_reader: false,
            last_large: 0,
            socket_gone: false,
            reply_shape: ReplyShape::Bottom,
            linger_deadline: None,
            reconnect_at: None,
            reconnect_ivl: 0,
            armed: None,
            done: false,
            durable_id: None,
            durable_request: None,
            detached_deadline: None,
            out_incomplete: false,
            peer_sent: false,
            connect_deadline: None,
            zap: None,
            zap_reply: Vec::new(),
        }
    }

    /// True while a connection is attached (a durable session may be detached).
    pub(crate) fn is_attached(&self) -> bool {
        self.conn.is_some()
    }

    /// True once the session should be removed.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// True if the session has nothing left to deliver: no pipe to its socket and no bytes
    /// waiting to be written (a session that drained its pipe may still be flushing).
    pub(crate) fn is_idle(&self) -> bool {
        self.pipe.is_none()
            && self.conn.as_ref().is_none_or(|c| {
                c.held.is_none() && c.zmtp.as_ref().is_none_or(|z| z.output_len() == 0)
            })
    }

    /// The owning socket.
    pub(crate) fn socket_id(&self) -> crate::ctx::SocketId {
        self.link.socket_id
    }

    /// Sets how long the session lingers once its socket has closed (`ZMQ_LINGER` at close).
    pub(crate) fn set_linger(&mut self, linger: i32) {
        self.link.options.linger = linger;
    }

    /// True for a connection `socket`'s listener on `endpoint` accepted.
    pub(crate) fn is_accepted_on(&self, socket: crate::ctx::SocketId, endpoint: &str) -> bool {
        self.connect.is_none() && self.link.socket_id == socket && self.endpoint == endpoint
    }

    /// True for the connecter `socket` made to `endpoint`.
    pub(crate) fn is_connecter_for(&self, socket: crate::ctx::SocketId, endpoint: &str) -> bool {
        self.connect.is_some() && self.link.socket_id == socket && self.endpoint == endpoint
    }

    fn emit(&self, event: i32, value: i64) {
        self.link.monitor.emit(event, value as u32, &self.endpoint);
    }

    /// An event on the session's pipe.
    pub(crate) fn on_pipe(
        &mut self,
        ctx: &mut IoCtx<'_>,
        id: crate::pipe::PipeId,
        event: PipeEvent,
    ) {
        if self.zap.as_ref().is_some_and(|z| z.id() == id) {
            if event != PipeEvent::Writable {
                self.on_zap_pipe(ctx);
            }
            return;
        }
        match event {
            PipeEvent::Readable => self.flush_out(ctx),
            PipeEvent::Writable => {
                // The backlog goes in as one batch, under one lock: the socket is woken once.
                match &self.pipe {
                    Some(p) => self.wake_reader |= p.write_batch(&mut self.pending_in),
                    None => self.pending_in.clear(),
                }
                self.wake();
                if !self.pending_in.is_empty() {
                    // Full again: the rest waits for the next Writable.
                    return;
                }
                self.resume_input(ctx);
                self.flush_out(ctx);
            }
            // Sessions write to their socket without swap: nothing to report.
            PipeEvent::Swap(_) => {}
            PipeEvent::PeerClosed => {
                self.socket_gone = true;
                let linger = self.link.options.linger;
                let active = self
                    .conn
                    .as_ref()
                    .and_then(|c| c.zmtp.as_ref())
                    .is_some_and(|z| z.is_active());
                if linger == 0 {
                    self.done = true;
                    return;
                }
                if !active {
                    // Not connected: linger only if something is still queued (a connecter
                    // keeps trying to deliver it until ZMQ_LINGER expires, as libzmq does).
                    let queued = self.pipe.as_ref().is_some_and(|p| p.check_read());
                    if !queued || self.connect.is_none() {
                        self.done = true;
                        return;
                    }
                    if linger > 0 {
                        self.linger_deadline = Some(ctx.now + linger as u64);
                    }
                    return;
                }
                if linger > 0 {
                    self.linger_deadline = Some(ctx.now + linger as u64);
                }
                self.flush_out(ctx);
            }
        }
    }

    /// The session's timer fired.
    pub(crate) fn on_timer(&mut self, ctx: &mut IoCtx<'_>) {
        self.armed = None;
        if self.conn.is_none() && self.detached_deadline.is_some_and(|d| ctx.now >= d) {
            self.done = true;
            return;
        }
        if self.linger_deadline.is_some_and(|d| ctx.now >= d) {
            self.done = true;
            return;
        }
        if self.connect_deadline.is_some_and(|d| ctx.now >= d)
            && self.conn.as_ref().is_some_and(|c| c.zmtp.is_none())
        {
            self.connect_failed(ctx, crate::error::Error::Os(libc::ETIMEDOUT), None);
            return;
        }
        if self.reconnect_at.is_some_and(|d| ctx.now >= d) {
            self.reconnect_at = None;
            self.try_connect(ctx);
            return;
        }
        let result = match self.conn.as_mut().and_then(|c| c.zmtp.as_mut()) {
            Some(z) => z.handle_timeout(ctx.now),
            None => Ok(()),
        };
        match result {
            Ok(()) => self.flush_out(ctx),
            Err(f) => self.failed(ctx, f),
        }
    }

    /// Arms the reactor timer for the earliest deadline this session has.
    pub(crate) fn rearm(&mut self, ctx: &mut IoCtx<'_>) {
        let zt = self
            .conn
            .as_ref()
            .and_then(|c| c.zmtp.as_ref())
            .and_then(|z| z.poll_timeout());
        let detached = if self.conn.is_none() {
            self.detached_deadline
        } else {
            None
        };
        let want = crate::util::earliest([
            self.reconnect_at,
            self.linger_deadline,
            zt,
            detached,
            self.connect_deadline,
        ]);
        if want == self.armed {
            return;
        }
        if let Some(d) = self.armed.take() {
            ctx.reactor.cancel_timer(d, self.key);
        }
        if let Some(d) = want {
            ctx.reactor.add_timer(d, self.key);
            self.armed = Some(d);
        }
    }
}
