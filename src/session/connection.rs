//! One tcp/ipc connection's session: pipe ↔ ZMTP pump, reconnects, linger.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;

use super::read_sizing::{READ_MAX, low_water_for, read_plan};
use super::{IoCtx, Link, side};
use crate::consts::*;
use crate::msg::{Msg, PropsLease, Releases};
use crate::pipe::{self, DirectionConfig, PipeEnd, PipeEvent, WriteError};
use crate::reactor::Registered;
use crate::transport::{Endpoint, Stream};
use crate::zmtp::{self, Connection, Event, Failure};

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
    /// The most octets one write carries (0 = no bound); see `Stream::write_limit`.
    write_limit: usize,
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

/// The shape of a reply as a REQ's session checks it frame by frame, as libzmq's
/// `req_session_t` does over tcp and ipc: an optional 4-byte request id (ZMQ_REQ_CORRELATE),
/// the empty delimiter, then the body. Anything else is a protocol error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReplyShape {
    Bottom,
    RequestId,
    Body,
}

impl ReplyShape {
    /// Takes the next frame of a reply; false if the reply is malformed.
    fn accept(&mut self, more: bool, len: usize) -> bool {
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

/// Where ZAP handlers bind (RFC 27).
const ZAP_ENDPOINT: &str = "zeromq.zap.01";

/// Starts the protocol on `stream`: offers the shared-memory side channel (see `side`) on an
/// ipc connection with the NULL mechanism; returns whether it did.
fn new_protocol(link: &Link, stream: &Stream, now: u64) -> (Connection, bool) {
    let o = &link.options;
    let offer = matches!(stream, Stream::Ipc(_))
        && !o.raw
        && crate::mechanism::Kind::from_option(o.security.mechanism)
            == Some(crate::mechanism::Kind::Null)
        && side::enabled();
    let mut cfg = zmtp_config(link, &stream.peer_address());
    if offer {
        cfg.metadata.push(side::offer());
    }
    let mut zmtp = Connection::new(cfg, now);
    if offer {
        zmtp.set_side_channel(Box::<side::Receiver>::default());
    }
    (zmtp, offer)
}

fn zmtp_config(link: &Link, peer_address: &str) -> zmtp::Config {
    let o = &link.options;
    let s = &o.security;
    let security = zmtp::Security {
        mechanism: crate::mechanism::Kind::from_option(s.mechanism).unwrap_or_default(),
        as_server: s.as_server,
        plain_username: s.plain_username.clone(),
        plain_password: s.plain_password.clone(),
        curve_public_key: s.curve_public_key,
        curve_secret_key: s.curve_secret_key.clone(),
        curve_server_key: s.curve_server_key,
        zap_domain: s.zap_domain.clone(),
        zap_enforce_domain: o.zap_enforce_domain,
        peer_address: peer_address.as_bytes().to_vec(),
    };
    zmtp::Config {
        socket_type: o.socket_type,
        routing_id: o.routing_id.clone(),
        maxmsgsize: o.maxmsgsize,
        handshake_ivl: u64::try_from(o.handshake_ivl).unwrap_or(0),
        heartbeat_ivl: u64::try_from(o.heartbeat_ivl).unwrap_or(0),
        heartbeat_timeout: u64::try_from(o.heartbeat_timeout).ok(),
        heartbeat_ttl: u64::try_from(o.heartbeat_ttl).unwrap_or(0),
        raw: o.raw,
        metadata: o.metadata.clone(),
        security,
    }
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

    /// A durable peer's routing id waiting for the I/O loop's decision.
    pub(crate) fn take_durable_request(&mut self) -> Option<Bytes> {
        self.durable_request.take()
    }

    /// True while a connection is attached (a durable session may be detached).
    pub(crate) fn is_attached(&self) -> bool {
        self.conn.is_some()
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

    fn durable_applies(&self) -> bool {
        let o = &self.link.options;
        self.connect.is_none() && (matches!(o.socket_type, ZMQ_PUB | ZMQ_XPUB) || o.durable)
    }

    fn flush_pending_in(&mut self) {
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

    /// Starts the session: registers its pipe and its stream, or begins connecting.
    pub(crate) fn start(&mut self, ctx: &mut IoCtx<'_>) {
        if let Some(p) = &self.pipe {
            p.set_owner(Arc::clone(ctx.notify));
            ctx.by_pipe.insert(p.id(), self.key);
        }
        if let Some(stream) = self.fresh.take() {
            self.attach_stream(ctx, stream, true);
        } else {
            self.try_connect(ctx);
        }
    }

    fn attach_stream(&mut self, ctx: &mut IoCtx<'_>, stream: Stream, connected: bool) {
        let fd = stream.fd();
        let poller = ctx.remote.poller();
        match Registered::new(poller, stream, self.key, connected, true) {
            Ok(stream) => {
                let write_limit = stream.get().write_limit();
                let may_grow_sndbuf = stream.get().may_grow_send_buffer(&self.link.options);
                let (zmtp, side_offered) = if connected {
                    let (z, offered) = new_protocol(&self.link, stream.get(), ctx.now);
                    (Some(z), offered)
                } else {
                    (None, false)
                };
                self.conn = Some(Conn {
                    stream,
                    zmtp,
                    fd,
                    handshaken: false,
                    write_limit,
                    may_grow_sndbuf,
                    side_offered,
                    side_tx: side::Sender::Off,
                    pass_fds: Vec::new(),
                    bell: None,
                    held: None,
                    ring_pumped: false,
                    low_water: 1,
                });
                if connected {
                    self.handle_events(ctx);
                    self.flush_out(ctx);
                }
            }
            Err(_) => self.disconnected(ctx),
        }
    }

    fn try_connect(&mut self, ctx: &mut IoCtx<'_>) {
        let Some(endpoint) = &self.connect else {
            return;
        };
        match Stream::connect(endpoint, &self.link.options) {
            Ok(stream) => {
                // As libzmq, the value is the errno of the non-blocking connect; an ipc
                // connect has completed already, so (as in libzmq) it is not delayed.
                if stream.completes_later() {
                    self.emit(ZMQ_EVENT_CONNECT_DELAYED, i64::from(libc::EINPROGRESS));
                }
                let timeout = self.link.options.connect_timeout;
                self.connect_deadline = (timeout > 0).then(|| ctx.now + timeout as u64);
                self.attach_stream(ctx, stream, false);
            }
            Err(e) => self.connect_failed(ctx, e.error, e.fd),
        }
    }

    /// A connect attempt failed: retry later, unless `ZMQ_RECONNECT_STOP` says to give up on
    /// a refused connection.
    fn connect_failed(
        &mut self,
        ctx: &mut IoCtx<'_>,
        e: crate::error::Error,
        opened: Option<std::os::fd::RawFd>,
    ) {
        // libzmq reports the failed attempt's socket as closed before retrying, with its fd
        // (`opened`: one the attempt opened and closed at once); an attempt that opened none
        // (its address did not resolve) reports nothing closed.
        if let Some(fd) = self.conn.take().map(|c| c.fd).or(opened) {
            self.emit(ZMQ_EVENT_CLOSED, i64::from(fd));
        }
        self.connect_deadline = None;
        let refused = e == crate::error::Error::Os(libc::ECONNREFUSED);
        let stop = self.link.options.reconnect_stop & draft::ZMQ_RECONNECT_STOP_CONN_REFUSED != 0;
        if refused && stop {
            self.done = true;
            return;
        }
        self.schedule_reconnect(ctx);
    }

    fn schedule_reconnect(&mut self, ctx: &mut IoCtx<'_>) {
        // A lingering session (socket closed, messages queued) keeps trying until
        // ZMQ_LINGER expires.
        if self.link.options.reconnect_ivl < 0 {
            return;
        }
        let ivl = self.reconnect_ivl.max(1);
        // As libzmq: the current interval plus a random share of ZMQ_RECONNECT_IVL, so that
        // many peers of one endpoint do not all come back at once.
        let base = u64::try_from(self.link.options.reconnect_ivl).unwrap_or(0);
        let wait = ivl + u64::from(crate::util::random_u32()) % base.max(1);
        self.reconnect_at = Some(ctx.now + wait);
        self.emit(ZMQ_EVENT_CONNECT_RETRIED, wait as i64);
        let max = u64::try_from(self.link.options.reconnect_ivl_max).unwrap_or(0);
        if max > base {
            self.reconnect_ivl = (ivl * 2).min(max);
        }
    }

    /// The stream is readable and/or writable.
    pub(crate) fn on_ready(&mut self, ctx: &mut IoCtx<'_>, readable: bool, writable: bool) {
        let Some(conn) = &mut self.conn else {
            return;
        };
        if conn.zmtp.is_none() {
            if let Err(e) = conn.stream.get().take_error() {
                self.connect_failed(ctx, e, None);
                return;
            }
            self.connect_deadline = None;
            let (zmtp, offered) = new_protocol(&self.link, conn.stream.get(), ctx.now);
            conn.zmtp = Some(zmtp);
            conn.side_offered = offered;
            let _ = conn.stream.set_interest(true, true);
            let fd = conn.fd;
            self.reconnect_ivl = u64::try_from(self.link.options.reconnect_ivl.max(0)).unwrap_or(0);
            self.emit(ZMQ_EVENT_CONNECTED, i64::from(fd));
            self.handle_events(ctx);
            self.flush_out(ctx);
            return;
        }
        if readable {
            // The peer may have rung our ring's bell (its event comes under our key too).
            if let Some(bell) = &conn.bell {
                bell.get().drain();
            }
            self.read_in(ctx);
        }
        if writable || readable {
            self.flush_out(ctx);
        }
    }

    /// Once what waits for the socket (the backlog, then side frames still in the peer's
    /// ring) is all in its pipe, reads on; otherwise the pipe's `Writable` comes back here.
    fn resume_input(&mut self, ctx: &mut IoCtx<'_>) {
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

    fn read_in(&mut self, ctx: &mut IoCtx<'_>) {
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
    fn wake(&mut self) {
        if std::mem::take(&mut self.wake_reader)
            && let Some(p) = &self.pipe
        {
            p.wake_reader();
        }
    }

    fn handle_events(&mut self, ctx: &mut IoCtx<'_>) {
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

    /// Carries a ZAP request to the handler bound at `inproc://zeromq.zap.01` over a pipe of
    /// its own (the reply comes back as pipe events). False if no handler is bound.
    fn send_zap_request(&mut self, ctx: &mut IoCtx<'_>, frames: Vec<Bytes>) -> bool {
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
    fn on_zap_pipe(&mut self, ctx: &mut IoCtx<'_>) {
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
                    let r = self
                        .conn
                        .as_mut()
                        .and_then(|c| c.zmtp.as_mut())
                        .map(|z| z.handle_zap_reply(&reply, ctx.now));
                    match r {
                        Some(Err(f)) => self.failed(ctx, f),
                        Some(Ok(())) => {
                            self.handle_events(ctx);
                            self.flush_out(ctx);
                        }
                        None => {}
                    }
                    return;
                }
                pipe::Read::Empty => return,
                pipe::Read::Closed => {
                    // The handler went away without answering: as if none were bound.
                    self.end_zap(ctx);
                    let r = self
                        .conn
                        .as_mut()
                        .and_then(|c| c.zmtp.as_mut())
                        .map(|z| z.zap_handler_missing(ctx.now));
                    match r {
                        Some(Err(f)) => self.failed(ctx, f),
                        Some(Ok(())) => {
                            self.handle_events(ctx);
                            self.flush_out(ctx);
                        }
                        None => {}
                    }
                    return;
                }
            }
        }
    }

    fn end_zap(&mut self, ctx: &mut IoCtx<'_>) {
        if let Some(z) = self.zap.take() {
            ctx.by_pipe.remove(&z.id());
            z.close();
        }
        self.zap_reply.clear();
    }

    fn on_handshake(&mut self, ctx: &mut IoCtx<'_>, peer: zmtp::PeerInfo) {
        let peer_address = self
            .conn
            .as_ref()
            .map(|c| c.stream.get().peer_address())
            .unwrap_or_default();
        // A ZMTP 1.0/2.0 peer's messages carry no properties, as with libzmq 4.3 (which
        // compiles them only when a mechanism completes).
        if !peer.legacy {
            let mut md = peer.metadata.clone();
            md.insert("Peer-Address", peer_address.as_bytes());
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

    fn flush_out(&mut self, ctx: &mut IoCtx<'_>) {
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
            let n = zmtp.output_slices(&mut slices, conn.write_limit);
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
                Ok(n) => zmtp.consume_output(n),
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

    fn failed(&mut self, ctx: &mut IoCtx<'_>, f: Failure) {
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
    fn disconnected(&mut self, ctx: &mut IoCtx<'_>) {
        self.end_connection(ctx, Some(libc::EPIPE));
    }

    /// The connection failed with the OS error `e`.
    fn broken(&mut self, ctx: &mut IoCtx<'_>, e: &std::io::Error) {
        self.end_connection(ctx, Some(e.raw_os_error().unwrap_or(libc::EPIPE)));
    }

    /// Ends the connection: DISCONNECTED, then reconnecting, keeping a durable peer's pipe, or
    /// ending the session. With `lost` (an errno: the peer or the OS ended it, not a protocol
    /// failure reported already), a connection whose handshake had not finished, and any raw
    /// (ZMQ_STREAM) connection, which has none, first reports HANDSHAKE_FAILED_NO_DETAIL with
    /// that errno, as libzmq does.
    fn end_connection(&mut self, ctx: &mut IoCtx<'_>, lost: Option<i32>) {
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

#[cfg(test)]
mod tests {
    use super::{READ_AHEAD_BYTES, ReplyShape, WAKE_BYTES, pipe_directions};
    use crate::consts::ZMQ_PULL;
    use crate::options::Options;

    #[test]
    fn a_session_bounds_its_read_ahead_unless_the_receive_queue_is_unbounded() {
        let mut o = Options::new(ZMQ_PULL);
        o.sndhwm = 7;
        o.rcvhwm = 9;
        let (to_peer, from_peer) = pipe_directions(&o);
        assert_eq!((to_peer.hwm, to_peer.byte_limit), (7, 0));
        assert_eq!((to_peer.wake_bytes, from_peer.wake_bytes), (WAKE_BYTES, 0));
        assert_eq!((from_peer.hwm, from_peer.byte_limit), (9, READ_AHEAD_BYTES));
        o.rcvhwm = 0;
        let (_, from_peer) = pipe_directions(&o);
        assert_eq!((from_peer.hwm, from_peer.byte_limit), (0, 0));
        o.rcvhwm = 9;
        o.conflate = true;
        let (to_peer, from_peer) = pipe_directions(&o);
        assert_eq!(
            (to_peer.hwm, from_peer.hwm, from_peer.byte_limit),
            (0, 0, 0)
        );
    }

    fn check(frames: &[(bool, usize)]) -> bool {
        let mut shape = ReplyShape::Bottom;
        frames.iter().all(|&(more, len)| shape.accept(more, len))
    }

    #[test]
    fn a_req_accepts_replies_shaped_as_libzmq_requires() {
        assert!(check(&[(true, 0), (false, 5)]));
        assert!(check(&[(true, 0), (true, 1), (true, 0), (false, 0)]));
        assert!(check(&[(true, 4), (true, 0), (false, 3)])); // with a request id
        assert!(check(&[(true, 0), (false, 2), (true, 0), (false, 2)])); // two replies
        assert!(!check(&[(false, 3)])); // no delimiter
        assert!(!check(&[(false, 0)])); // a delimiter with nothing after it
        assert!(!check(&[(true, 3), (false, 3)])); // a non-empty first frame
        assert!(!check(&[(true, 4), (false, 3)])); // a request id without the delimiter
        assert!(!check(&[(true, 4), (true, 4), (true, 0), (false, 1)]));
    }
}
