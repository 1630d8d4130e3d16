//! Sessions and the I/O thread: each tcp/ipc connection is a [`Session`] that moves frames
//! between its pipe (to the socket) and its ZMTP connection (to the network); listeners accept
//! new connections; connecters reconnect with backoff.
//!
//! Layer L3 (uses `reactor`, `transport`, `zmtp`, `pipe`, `monitor`). Everything here runs on
//! one I/O thread; sockets talk to it only through [`IoCommand`]s and pipes. A session whose
//! socket has closed lingers until its queued messages are written or `ZMQ_LINGER` expires; the
//! thread exits once it has been told to stop and nothing lingers any more.
#![forbid(unsafe_code)]

mod connection;
mod read_sizing;
mod side;
mod write_sizing;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

pub(crate) use connection::{Session, pipe_directions};

use crate::command::Command;
use crate::ctx::SocketId;
use crate::error::Result;
use crate::mailbox::Mailbox;
use crate::monitor::Monitor;
use crate::options::Options;
use crate::pipe::{PipeEnd, PipeEvent, PipeId, PipeNotify};
use crate::reactor::{Reactor, Registered, Remote, Turn};
use crate::transport::{Accepted, Endpoint, Listener};

/// What a session or listener knows about its socket (options as at bind/connect time).
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) socket_id: SocketId,
    pub(crate) mailbox: Arc<Mailbox<Command>>,
    pub(crate) options: Options,
    pub(crate) monitor: Arc<Monitor>,
    /// The context (for the ZAP handler's inproc endpoint).
    pub(crate) shared: Arc<crate::ctx::Shared>,
}

/// Hashes the I/O thread's own integer keys (entry keys, pipe ids): they are ours, not a
/// peer's, so a multiplicative hash is enough and much cheaper than SipHash on the path of
/// every pipe and fd event.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing: the high bits, which hashbrown uses, depend on every input bit.
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A map keyed by the I/O thread's own integer ids (see [`IdHasher`]).
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// What sockets (and the context) tell an I/O thread.
pub(crate) enum IoCommand {
    /// Accept connections on a bound listener.
    Listen {
        listener: Listener,
        endpoint: String,
        link: Link,
    },
    /// Connect (and keep reconnecting) to an endpoint; `pipe` is the session's end when the
    /// socket attached its end already (messages queue before the connection exists).
    Connect {
        endpoint: Endpoint,
        endpoint_str: String,
        link: Link,
        pipe: Option<PipeEnd>,
    },
    /// A session pipe's event.
    Pipe(PipeId, PipeEvent),
    /// `zmq_unbind` / `zmq_disconnect` of a tcp/ipc endpoint. Unbinding also closes the
    /// connections the listener accepted, as libzmq does.
    CloseEndpoint { socket: SocketId, endpoint: String },
    /// The socket closed: its listeners go, its sessions linger for `linger` ms (its
    /// `ZMQ_LINGER` at close time, which may differ from the one at bind/connect time).
    SocketClosed { socket: SocketId, linger: i32 },
    /// The context is terminating: exit once nothing lingers.
    Stop,
}

struct IoNotify(Arc<Remote<IoCommand>>);

impl PipeNotify for IoNotify {
    fn notify(&self, id: PipeId, event: PipeEvent) {
        self.0.send(IoCommand::Pipe(id, event));
    }
}

struct ListenerEntry {
    listener: Registered<Listener>,
    endpoint: String,
    link: Link,
}

enum Entry {
    Listener(Box<ListenerEntry>),
    Session(Box<Session>),
}

/// What session code may use of the I/O thread while handling an event.
pub(crate) struct IoCtx<'a> {
    pub(crate) reactor: &'a mut Reactor<IoCommand>,
    pub(crate) remote: &'a Arc<Remote<IoCommand>>,
    pub(crate) notify: &'a Arc<dyn PipeNotify>,
    pub(crate) by_pipe: &'a mut IdMap<PipeId, usize>,
    pub(crate) now: u64,
}

/// A running I/O thread.
pub(crate) struct IoThread {
    remote: Arc<Remote<IoCommand>>,
    join: Option<std::thread::JoinHandle<()>>,
}

impl IoThread {
    /// Starts an I/O thread named `name` (the OS keeps 15 bytes of it), scheduled as
    /// `settings` say.
    pub(crate) fn start(name: String, settings: crate::sys::ThreadSettings) -> Result<IoThread> {
        let (reactor, remote) = Reactor::new()?;
        let r = Arc::clone(&remote);
        #[allow(
            clippy::disallowed_methods,
            reason = "I/O threads are the library's own"
        )]
        let join = std::thread::Builder::new().name(name).spawn(move || {
            crate::sys::block_all_signals();
            crate::sys::apply_settings(&settings);
            // Policy (as libzmq's zmq_assert): a panic here is a bug that leaves connections
            // without a thread to serve them, so say so and abort rather than hang silently.
            let run = std::panic::AssertUnwindSafe(|| IoLoop::new(reactor, r).run());
            if std::panic::catch_unwind(run).is_err() {
                eprintln!("libzmq-rs: internal error in an I/O thread; aborting");
                std::process::abort();
            }
        })?;
        Ok(IoThread {
            remote,
            join: Some(join),
        })
    }

    /// The handle for sending commands.
    pub(crate) fn remote(&self) -> &Arc<Remote<IoCommand>> {
        &self.remote
    }

    /// Tells the thread to stop and waits until its lingering sessions are done.
    pub(crate) fn stop(mut self) {
        self.remote.send(IoCommand::Stop);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

struct IoLoop {
    reactor: Reactor<IoCommand>,
    remote: Arc<Remote<IoCommand>>,
    notify: Arc<dyn PipeNotify>,
    entries: IdMap<usize, Entry>,
    by_pipe: IdMap<PipeId, usize>,
    /// Durable peers by socket and routing id: the session that holds their pipe.
    durable: HashMap<(SocketId, bytes::Bytes), usize>,
    next_key: usize,
    stopping: bool,
    /// The reactor's output buffers, kept from turn to turn.
    turn: Turn<IoCommand>,
}

impl IoLoop {
    fn new(reactor: Reactor<IoCommand>, remote: Arc<Remote<IoCommand>>) -> IoLoop {
        IoLoop {
            reactor,
            notify: Arc::new(IoNotify(Arc::clone(&remote))),
            remote,
            entries: IdMap::default(),
            by_pipe: IdMap::default(),
            durable: HashMap::new(),
            next_key: 1,
            stopping: false,
            turn: Turn::default(),
        }
    }

    fn key(&mut self) -> usize {
        self.next_key += 1;
        self.next_key
    }

    fn run(mut self) {
        loop {
            if self.stopping && self.entries.is_empty() {
                return;
            }
            let now = crate::sys::now_ms();
            let mut turn = std::mem::take(&mut self.turn);
            if self.reactor.wait(now, &mut turn).is_err() {
                // The poller failed: nothing more can be done on this thread.
                eprintln!("libzmq-rs: I/O thread poller failed; connections on it stop");
                return;
            }
            while let Some(cmd) = turn.cmds.pop_front() {
                self.command(cmd);
            }
            for r in turn.ready.drain(..) {
                self.ready(r.key, r.readable, r.writable);
            }
            for key in turn.due.drain(..) {
                self.with_session(key, |s, ctx| s.on_timer(ctx));
            }
            self.turn = turn;
        }
    }

    fn with_session(&mut self, key: usize, f: impl FnOnce(&mut Session, &mut IoCtx<'_>)) {
        let Some(Entry::Session(mut s)) = self.entries.remove(&key) else {
            return;
        };
        let mut ctx = IoCtx {
            reactor: &mut self.reactor,
            remote: &self.remote,
            notify: &self.notify,
            by_pipe: &mut self.by_pipe,
            now: crate::sys::now_ms(),
        };
        f(&mut s, &mut ctx);
        if let Some(id) = s.take_durable_request() {
            let k = (s.socket_id(), id.clone());
            match self.durable.get(&k).copied() {
                Some(old_key) if old_key != key => match self.entries.get(&old_key) {
                    Some(Entry::Session(old)) if old.is_attached() => s.refuse(&mut ctx),
                    Some(Entry::Session(_)) => {
                        if let Some(Entry::Session(mut old)) = self.entries.remove(&old_key) {
                            let pipe = old.take_pipe(&mut ctx);
                            old.end(&mut ctx, false);
                            self.durable.insert(k, key);
                            match pipe {
                                Some(p) => s.adopt(&mut ctx, id, p),
                                None => s.begin_durable(&mut ctx, id),
                            }
                        }
                    }
                    _ => {
                        self.durable.insert(k, key);
                        s.begin_durable(&mut ctx, id);
                    }
                },
                _ => {
                    self.durable.insert(k, key);
                    s.begin_durable(&mut ctx, id);
                }
            }
        }
        if s.is_done() {
            self.durable.retain(|_, v| *v != key);
            s.end(&mut ctx, false);
        } else {
            s.rearm(&mut ctx);
            self.entries.insert(key, Entry::Session(s));
        }
    }

    fn command(&mut self, cmd: IoCommand) {
        match cmd {
            IoCommand::Listen {
                listener,
                endpoint,
                link,
            } => {
                let key = self.key();
                match Registered::new(self.remote.poller(), listener, key, true, false) {
                    Ok(listener) => {
                        self.entries.insert(
                            key,
                            Entry::Listener(Box::new(ListenerEntry {
                                listener,
                                endpoint,
                                link,
                            })),
                        );
                    }
                    Err(e) => link.monitor.emit(
                        crate::consts::ZMQ_EVENT_BIND_FAILED,
                        e.errno() as u32,
                        &endpoint,
                    ),
                }
            }
            IoCommand::Connect {
                endpoint,
                endpoint_str,
                link,
                pipe,
            } => {
                let key = self.key();
                let session = Session::connecter(key, endpoint, endpoint_str, link, pipe);
                self.entries.insert(key, Entry::Session(Box::new(session)));
                self.with_session(key, |s, ctx| s.start(ctx));
            }
            IoCommand::Pipe(id, event) => {
                if let Some(&key) = self.by_pipe.get(&id) {
                    self.with_session(key, |s, ctx| s.on_pipe(ctx, id, event));
                }
            }
            IoCommand::CloseEndpoint { socket, endpoint } => {
                let is_listener =
                    |l: &ListenerEntry| l.link.socket_id == socket && l.endpoint == endpoint;
                let unbinding = self
                    .entries
                    .values()
                    .any(|e| matches!(e, Entry::Listener(l) if is_listener(l)));
                let keys: Vec<usize> = self
                    .entries
                    .iter()
                    .filter(|(_, e)| match e {
                        Entry::Listener(l) => is_listener(l),
                        Entry::Session(s) => {
                            s.is_connecter_for(socket, &endpoint)
                                || (unbinding && s.is_accepted_on(socket, &endpoint))
                        }
                    })
                    .map(|(k, _)| *k)
                    .collect();
                for key in keys {
                    self.close_entry(key);
                }
            }
            IoCommand::SocketClosed { socket, linger } => {
                for e in self.entries.values_mut() {
                    if let Entry::Session(s) = e
                        && s.socket_id() == socket
                    {
                        s.set_linger(linger);
                    }
                }
                let keys: Vec<usize> = self
                    .entries
                    .iter()
                    .filter(|(_, e)| match e {
                        Entry::Listener(l) => l.link.socket_id == socket,
                        Entry::Session(s) => s.socket_id() == socket && s.is_idle(),
                    })
                    .map(|(k, _)| *k)
                    .collect();
                for key in keys {
                    self.close_entry(key);
                }
            }
            IoCommand::Stop => {
                self.stopping = true;
                let keys: Vec<usize> = self
                    .entries
                    .iter()
                    .filter(|(_, e)| match e {
                        Entry::Listener(_) => true,
                        Entry::Session(s) => s.is_idle(),
                    })
                    .map(|(k, _)| *k)
                    .collect();
                for key in keys {
                    self.close_entry(key);
                }
            }
        }
    }

    fn close_entry(&mut self, key: usize) {
        match self.entries.remove(&key) {
            Some(Entry::Listener(l)) => {
                let fd = l.listener.get().fd();
                let ListenerEntry {
                    listener,
                    endpoint,
                    link,
                } = *l;
                drop(listener);
                link.monitor
                    .emit(crate::consts::ZMQ_EVENT_CLOSED, fd as u32, &endpoint);
            }
            Some(Entry::Session(mut s)) => {
                self.durable.retain(|_, v| *v != key);
                let mut ctx = IoCtx {
                    reactor: &mut self.reactor,
                    remote: &self.remote,
                    notify: &self.notify,
                    by_pipe: &mut self.by_pipe,
                    now: crate::sys::now_ms(),
                };
                s.end(&mut ctx, true);
            }
            None => {}
        }
    }

    fn ready(&mut self, key: usize, readable: bool, writable: bool) {
        match self.entries.get(&key) {
            Some(Entry::Listener(_)) => self.accept(key),
            Some(Entry::Session(_)) => {
                self.with_session(key, |s, ctx| s.on_ready(ctx, readable, writable))
            }
            None => {}
        }
    }

    fn accept(&mut self, key: usize) {
        loop {
            let Some(Entry::Listener(l)) = self.entries.get(&key) else {
                return;
            };
            match l.listener.get().accept(&l.link.options) {
                Ok(Accepted::Refused) => {
                    l.link
                        .monitor
                        .emit(crate::consts::ZMQ_EVENT_ACCEPT_FAILED, 0, &l.endpoint);
                }
                Ok(Accepted::Stream(stream)) => {
                    let link = l.link.clone();
                    let endpoint = l.endpoint.clone();
                    link.monitor.emit(
                        crate::consts::ZMQ_EVENT_ACCEPTED,
                        stream.fd() as u32,
                        &endpoint,
                    );
                    let skey = self.key();
                    let session = Session::accepted(skey, stream, endpoint, link);
                    self.entries.insert(skey, Entry::Session(Box::new(session)));
                    self.with_session(skey, |s, ctx| s.start(ctx));
                }
                Err(crate::error::Error::Again) => return,
                Err(e) => {
                    l.link.monitor.emit(
                        crate::consts::ZMQ_EVENT_ACCEPT_FAILED,
                        e.errno() as u32,
                        &l.endpoint,
                    );
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::consts::*;
    use crate::ctx::Context;
    use crate::error::Error;
    use crate::msg::Msg;
    use crate::socket::Socket;

    fn int(v: i32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    fn sub(ctx: &Context, endpoint: &str, extra: &[(i32, i32)]) -> Socket {
        let mut s = Socket::new(ctx.shared().clone(), ZMQ_SUB).unwrap();
        s.set_option(ZMQ_ROUTING_ID, b"Hello").unwrap();
        s.set_option(ZMQ_SUBSCRIBE, b"").unwrap();
        s.set_option(ZMQ_LINGER, &int(0)).unwrap();
        for &(o, v) in extra {
            s.set_option(o, &int(v)).unwrap();
        }
        s.connect(endpoint).unwrap();
        s
    }

    /// Frames of every size, small and large mixed (the decoder's inline, sliced and
    /// read-straight-into-the-frame paths, and the read sizes that switch between them),
    /// arrive intact and in order over tcp and ipc.
    #[test]
    fn mixed_frame_sizes_arrive_intact_over_tcp_and_ipc() {
        let sizes = [
            0usize,
            1,
            crate::msg::INLINE_CAP,
            crate::msg::INLINE_CAP + 1,
            64,
            255,
            256,
            1024,
            8191,
            8192,
            40_000,
            65_536,
            65_545,
            3,
            1 << 20,
            70_000,
            70_000,
            100,
            2 << 20,
            65_536,
            5,
            33_000,
            9000,
        ];
        for endpoint in ["tcp://127.0.0.1:*", "ipc://*"] {
            let ctx = Context::new();
            let mut pull = Socket::new(ctx.shared().clone(), ZMQ_PULL).unwrap();
            pull.set_option(ZMQ_RCVTIMEO, &int(10_000)).unwrap();
            pull.bind(endpoint).unwrap();
            let mut buf = [0u8; 256];
            let n = pull.get_option(ZMQ_LAST_ENDPOINT, &mut buf).unwrap();
            let bound = String::from_utf8(buf[..n - 1].to_vec()).unwrap();
            let mut push = Socket::new(ctx.shared().clone(), ZMQ_PUSH).unwrap();
            push.connect(&bound).unwrap();
            let body = |round: usize, i: usize, n: usize| -> Vec<u8> {
                (0..n).map(|k| (k * 7 + i * 13 + round) as u8).collect()
            };
            for round in 0..3 {
                for (i, &n) in sizes.iter().enumerate() {
                    let more = i % 5 == 1;
                    push.send(&mut Msg::copy_from(&body(round, i, n)), more, false)
                        .unwrap();
                }
                // A message never ends with MORE: close the last one.
                push.send(&mut Msg::new(), false, false).unwrap();
            }
            for round in 0..3 {
                for (i, &n) in sizes.iter().enumerate() {
                    let m = pull.recv(false).unwrap();
                    assert_eq!(m.len(), n, "{endpoint} round {round} frame {i}");
                    assert!(
                        m.data() == body(round, i, n).as_slice(),
                        "{endpoint} frame {i}"
                    );
                    assert_eq!(m.more(), i % 5 == 1);
                }
                assert_eq!(pull.recv(false).unwrap().len(), 0);
            }
            push.set_option(ZMQ_LINGER, &int(0)).unwrap();
            push.close();
            pull.close();
            ctx.terminate();
        }
    }

    /// A durable peer's connection drops after the session sent the head of a message: the
    /// next connection must not start with the rest of it (libzmq's `clean_pipes`).
    #[test]
    fn reattached_durable_peer_never_gets_the_tail_of_a_half_sent_message() {
        let ctx = Context::new();
        let mut publisher = Socket::new(ctx.shared().clone(), ZMQ_PUB).unwrap();
        publisher.set_option(ZMQ_SNDBUF, &int(16384)).unwrap();
        publisher.bind("tcp://127.0.0.1:*").unwrap();
        let mut buf = [0u8; 64];
        let n = publisher.get_option(ZMQ_LAST_ENDPOINT, &mut buf).unwrap();
        let endpoint = String::from_utf8(buf[..n - 1].to_vec()).unwrap();

        // A subscriber that reads nothing, with little buffering on the way.
        let mut first = sub(&ctx, &endpoint, &[(ZMQ_RCVHWM, 1), (ZMQ_RCVBUF, 16384)]);
        let mut attached = false;
        for _ in 0..500 {
            publisher
                .send(&mut Msg::copy_from(b"hi"), false, true)
                .unwrap();
            if first.recv(true).is_ok() {
                attached = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(attached);
        while first.recv(true).is_ok() {}
        // Messages of a big frame then a small one: the session stops pulling from the pipe
        // right after a big frame, in the middle of a message, once the connection stalls.
        for i in 0..20u8 {
            publisher
                .send(&mut Msg::copy_from(&[i; 300_000]), true, false)
                .unwrap();
            publisher
                .send(&mut Msg::copy_from(&[i]), false, false)
                .unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        first.close();
        std::thread::sleep(std::time::Duration::from_millis(300));

        let mut second = sub(&ctx, &endpoint, &[(ZMQ_RCVTIMEO, 2000)]);
        let mut messages = 0;
        loop {
            let head = match second.recv(false) {
                Ok(m) => m,
                Err(Error::Again) => break,
                Err(e) => panic!("recv: {e:?}"),
            };
            assert_eq!(head.len(), 300_000, "a message starts with its first frame");
            assert!(head.more());
            let tail = second.recv(false).unwrap();
            assert_eq!(tail.data(), &head.data()[..1]);
            assert!(!tail.more());
            messages += 1;
        }
        assert!(messages > 0, "the backlog arrives");
        second.close();
        publisher.close();
        ctx.terminate();
    }
}
