//! `Socket`: what all socket types share.
//!
//! A socket is used by one application thread at a time (the handle layer serialises calls).
//! Other threads reach it only through its mailbox: pipe events from peers, new inproc pipes,
//! and the context's `Stop`. Every API call first drains the mailbox; a blocking call then
//! sleeps on the mailbox's fd until a command may have changed the answer, so a busy pipe costs
//! no system call per message.
#![forbid(unsafe_code)]

use std::sync::Arc;

use bytes::Bytes;

use super::pattern::{self, Pattern};
use crate::command::{Command, SocketNotify};
use crate::consts::*;
use crate::ctx::{InprocPeer, Shared, SocketId};
use crate::error::{Error, Result};
use crate::mailbox::{Expect, Mailbox};
use crate::monitor::Monitor;
use crate::msg::{Drops, Msg};
use crate::options::Options;
use crate::pipe::{self, PipeEnd, PipeEvent, PipeId, PipeNotify, SwapState};
use crate::reactor::Remote;
use crate::session::{IoCommand, Link};
use crate::transport::{Endpoint, Listener};

/// Frames a socket receives between two waits that make it a stream's reader (see
/// [`Expect::MoreOfAStream`]); a socket woken for a frame or two sleeps at once.
const STREAM_RUN: u8 = 8;

/// What a socket that is about to sleep expects, from what it did since its last wait: a
/// frame sent, a reply may be moments away; a run of frames received, more of the stream may
/// be.
fn expectation(sent: bool, received: u8) -> Expect {
    if sent {
        Expect::Reply
    } else if received >= STREAM_RUN {
        Expect::MoreOfAStream
    } else {
        Expect::Nothing
    }
}

/// A socket of any type.
pub(crate) struct Socket {
    pub(crate) options: Options,
    pub(super) id: SocketId,
    pub(super) shared: Arc<Shared>,
    pub(super) mailbox: Arc<Mailbox<Command>>,
    notify: Arc<dyn PipeNotify>,
    pattern: Box<dyn Pattern>,
    pipes: Vec<PipeEnd>,
    /// Received frames the application is done with (see [`Socket::retire`]).
    drops: Drops,
    /// Inproc connections made with zmq_connect: endpoint name and our pipe end's id.
    pub(super) connects: Vec<(String, PipeId)>,
    /// Inproc names bound with zmq_bind.
    pub(super) binds: Vec<String>,
    terminated: bool,
    rcvmore: bool,
    /// A frame was sent since the socket last waited (see [`Expect::Reply`]).
    sent_since_wait: bool,
    /// Frames received since the socket last waited, up to [`STREAM_RUN`] (see
    /// [`Expect::MoreOfAStream`]).
    received_since_wait: u8,
    pub(super) last_endpoint: String,
    monitor: Arc<Monitor>,
    /// The I/O threads this socket's tcp/ipc endpoints live on (chosen by `ZMQ_AFFINITY`).
    io: Vec<Arc<Remote<IoCommand>>>,
    /// tcp/ipc binds: the endpoint as given and as resolved (`ZMQ_LAST_ENDPOINT`), and the
    /// listener's fd (the value of its monitor events).
    tcp_binds: Vec<(String, String, i32)>,
    /// tcp/ipc connects, as given.
    tcp_connects: Vec<String>,
    /// The pipes tcp/ipc connects made at once (not ROUTER/STREAM, not ZMQ_IMMEDIATE).
    tcp_connect_pipes: Vec<(String, PipeId)>,
}

impl Socket {
    /// Creates a socket of `socket_type` in the context behind `shared`.
    /// Errors: EINVAL (unknown type), ETERM, EMFILE.
    pub(crate) fn new(shared: Arc<Shared>, socket_type: i32) -> Result<Socket> {
        if !pattern::is_supported(socket_type) {
            return Err(Error::Invalid);
        }
        let options = Options::new(socket_type);
        let pattern = pattern::new(socket_type, &options)?;
        let mailbox = Arc::new(Mailbox::new()?);
        let id = shared.register(Arc::clone(&mailbox))?;
        let (ipv6, blocky) = {
            let o = shared.options();
            (o.ipv6, o.blocky)
        };
        let mut socket = Socket {
            options,
            id,
            notify: Arc::new(SocketNotify(Arc::clone(&mailbox))),
            shared,
            mailbox,
            pattern,
            pipes: Vec::new(),
            connects: Vec::new(),
            binds: Vec::new(),
            terminated: false,
            rcvmore: false,
            sent_since_wait: false,
            received_since_wait: 0,
            drops: Drops::default(),
            last_endpoint: String::new(),
            monitor: Arc::new(Monitor::default()),
            io: Vec::new(),
            tcp_binds: Vec::new(),
            tcp_connects: Vec::new(),
            tcp_connect_pipes: Vec::new(),
        };
        socket.options.ipv6 = ipv6;
        // ZMQ_BLOCKY off: new sockets start with ZMQ_LINGER 0, so zmq_ctx_term never waits.
        if !blocky {
            socket.options.linger = 0;
        }
        Ok(socket)
    }

    /// Handles every pending command without blocking.
    pub(crate) fn process_commands(&mut self) {
        while let Some(cmd) = self.mailbox.try_recv() {
            match cmd {
                Command::Pipe(id, PipeEvent::Readable) => self.pattern.read_activated(id),
                Command::Pipe(id, PipeEvent::Writable) => self.pattern.write_activated(id),
                Command::Pipe(_, PipeEvent::Swap(state)) => {
                    let event = match state {
                        SwapState::Started => ZMQ_EVENT_SWAP_STARTED,
                        SwapState::Stopped => ZMQ_EVENT_SWAP_STOPPED,
                        SwapState::Full => ZMQ_EVENT_SWAP_FULL,
                        SwapState::Failed => ZMQ_EVENT_SWAP_ERROR,
                    };
                    self.monitor.emit(event, 0, &self.last_endpoint);
                }
                Command::Pipe(id, PipeEvent::PeerClosed) => {
                    self.pipes.retain(|p| p.id() != id);
                    self.connects.retain(|(_, p)| *p != id);
                    self.tcp_connect_pipes.retain(|(_, p)| *p != id);
                    self.pattern.terminated(id);
                }
                Command::Attach { pipe, assigned_id } => self.attach(pipe, assigned_id),
                Command::Stop => self.terminated = true,
            }
        }
    }

    /// Takes ownership of one end of a new pipe.
    pub(super) fn attach(&mut self, pipe: PipeEnd, assigned_id: Option<Bytes>) {
        self.pipes.push(pipe.clone());
        self.pattern.attach(pipe.clone(), assigned_id);
        pipe.set_owner(Arc::clone(&self.notify));
    }

    /// Closes our end of pipe `id` (a disconnect) and forgets it.
    pub(super) fn detach(&mut self, id: PipeId) {
        if let Some(i) = self.pipes.iter().position(|p| p.id() == id) {
            let pipe = self.pipes.swap_remove(i);
            self.pattern.terminated(id);
            pipe.close();
        }
    }

    /// What this socket contributes to an inproc connection.
    pub(super) fn inproc_peer(&self) -> InprocPeer {
        InprocPeer {
            socket_id: self.id,
            mailbox: Arc::clone(&self.mailbox),
            sndhwm: self.options.sndhwm,
            rcvhwm: self.options.rcvhwm,
            conflate: self.options.conflate,
            routing_id: self.options.routing_id.clone(),
            swap: self.options.out_swap(),
        }
    }

    #[inline]
    fn check_alive(&mut self) -> Result<()> {
        if self.mailbox.maybe_pending() {
            self.process_commands();
        }
        if self.terminated {
            return Err(Error::Term);
        }
        Ok(())
    }

    /// Runs `attempt` until it stops answering `Again`, sleeping on the mailbox in between,
    /// for at most `timeout_ms` (-1 = forever; 0 or `dontwait` = one attempt).
    fn blocking<T>(
        &mut self,
        dontwait: bool,
        timeout_ms: i32,
        mut attempt: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.check_alive()?;
        match attempt(self) {
            Err(Error::Again) if !dontwait && timeout_ms != 0 => {}
            other => return other,
        }
        let deadline = (timeout_ms > 0).then(|| crate::sys::now_ms() + timeout_ms as u64);
        loop {
            let wait = match deadline {
                None => -1,
                Some(d) => {
                    let now = crate::sys::now_ms();
                    if now >= d {
                        return Err(Error::Again);
                    }
                    i32::try_from(d - now).unwrap_or(i32::MAX)
                }
            };
            let expect = expectation(
                std::mem::take(&mut self.sent_since_wait),
                std::mem::take(&mut self.received_since_wait),
            );
            self.mailbox.wait(wait, expect)?;
            self.check_alive()?;
            match attempt(self) {
                Err(Error::Again) => {}
                other => return other,
            }
        }
    }

    /// Sends one frame; `more` marks that further frames of the same message follow.
    /// On success the frame is taken out of `msg`.
    pub(crate) fn send(&mut self, msg: &mut Msg, more: bool, dontwait: bool) -> Result<()> {
        msg.set_more(more);
        let timeout = self.options.sndtimeo;
        self.blocking(dontwait, timeout, |s| s.pattern.send(msg))?;
        self.sent_since_wait = true;
        Ok(())
    }

    /// Receives one frame.
    pub(crate) fn recv(&mut self, dontwait: bool) -> Result<Msg> {
        let mut msg = Msg::new();
        self.recv_empty(&mut msg, dontwait)?;
        Ok(msg)
    }

    /// Receives one frame into `slot`, whose old content this socket retires (see
    /// [`Socket::retire`]); returns the new frame's size. On error `slot` is unchanged.
    pub(crate) fn recv_into(&mut self, slot: &mut Msg, dontwait: bool) -> Result<usize> {
        let old = std::mem::take(slot);
        match self.recv_empty(slot, dontwait) {
            Ok(()) => {
                self.retire(old);
                Ok(slot.len())
            }
            // A receive that found nothing leaves the message empty, as libzmq's (it closes
            // the message before looking); one the socket refuses outright (EFSM, ENOTSUP)
            // leaves it as it was.
            Err(e @ (Error::Again | Error::Interrupted)) => {
                self.retire(old);
                Err(e)
            }
            Err(e) => {
                *slot = old;
                Err(e)
            }
        }
    }

    /// Receives one frame into `out`, which holds nothing.
    fn recv_empty(&mut self, out: &mut Msg, dontwait: bool) -> Result<()> {
        let timeout = self.options.rcvtimeo;
        self.blocking(dontwait, timeout, |s| s.pattern.recv(out))?;
        self.rcvmore = out.more();
        self.received_since_wait = self.received_since_wait.saturating_add(1);
        Ok(())
    }

    /// Drops a frame the application is done with, batching the release of slab slots and
    /// properties over consecutive frames (a receive loop reusing one `zmq_msg_t`).
    pub(crate) fn retire(&mut self, msg: Msg) {
        msg.drop_into(&mut self.drops);
    }

    /// `ZMQ_EVENTS`: POLLIN if a frame can be received now, POLLOUT if one can be sent.
    pub(crate) fn events(&mut self) -> Result<i16> {
        self.check_alive()?;
        let mut ev = 0;
        if self.pattern.has_in() {
            ev |= ZMQ_POLLIN as i16;
        }
        if self.pattern.has_out() {
            ev |= ZMQ_POLLOUT as i16;
        }
        Ok(ev)
    }

    /// `ZMQ_FD`: readable whenever `events` may have changed.
    pub(crate) fn fd(&self) -> i32 {
        self.mailbox.expose();
        self.mailbox.fd()
    }

    /// `zmq_setsockopt` with a NULL value of length 0 (resets the PLAIN credentials, clears
    /// the accept filters, the SOCKS proxy and the device; for other options the same as an
    /// empty value).
    pub(crate) fn set_option_null(&mut self, option: i32) -> Result<()> {
        self.check_alive()?;
        if crate::options::Options::null_is_distinct(option) {
            return self.options.set_value(option, None);
        }
        self.set_option(option, &[])
    }

    /// `zmq_setsockopt`.
    pub(crate) fn set_option(&mut self, option: i32, value: &[u8]) -> Result<()> {
        self.check_alive()?;
        if option == ZMQ_ROUTER_RAW && self.options.socket_type == ZMQ_ROUTER {
            // A raw ROUTER is a STREAM socket under another name (libzmq's deprecated mode).
            if crate::options::bool_value(value)? {
                if !self.pipes.is_empty() {
                    return Err(Error::Invalid);
                }
                self.pattern = pattern::new(ZMQ_STREAM, &self.options)?;
                self.options.raw = true;
            }
            return Ok(());
        }
        if let Some(r) = self.pattern.set_option(option, value) {
            return r;
        }
        self.options.set(option, value)
    }

    /// `zmq_getsockopt`: writes into `out` and returns the length.
    pub(crate) fn get_option(&mut self, option: i32, out: &mut [u8]) -> Result<usize> {
        let int = |v: i32, out: &mut [u8]| crate::options::put_at_least(out, &v.to_ne_bytes());
        if option == ZMQ_FD {
            // Like libzmq, reading ZMQ_FD processes no commands: it must not consume the
            // readability a bind or connect left on the fd (see Mailbox::wake).
            if self.terminated {
                return Err(Error::Term);
            }
            return int(self.fd(), out);
        }
        self.check_alive()?;
        match option {
            ZMQ_RCVMORE => int(i32::from(self.rcvmore), out),
            ZMQ_EVENTS => {
                let ev = self.events()?;
                int(i32::from(ev), out)
            }
            ZMQ_THREAD_SAFE => int(0, out),
            ZMQ_LAST_ENDPOINT => crate::options::put_string(out, self.last_endpoint.as_bytes()),
            _ => self.options.get(option, out),
        }
    }

    fn io(&mut self) -> Result<Arc<Remote<IoCommand>>> {
        let io = self.shared.io_thread(self.options.affinity)?;
        if !self.io.iter().any(|t| Arc::ptr_eq(t, &io)) {
            self.io.push(Arc::clone(&io));
        }
        Ok(io)
    }

    /// Sends `cmd` (built per thread) to every I/O thread this socket uses.
    fn tell_io(&self, cmd: impl Fn() -> IoCommand) {
        for io in &self.io {
            io.send(cmd());
        }
    }

    fn link(&self) -> Link {
        Link {
            socket_id: self.id,
            mailbox: Arc::clone(&self.mailbox),
            options: self.options.clone(),
            monitor: Arc::clone(&self.monitor),
            shared: Arc::clone(&self.shared),
        }
    }

    /// `zmq_bind`.
    pub(crate) fn bind(&mut self, endpoint: &str) -> Result<()> {
        self.check_alive()?;
        match Endpoint::parse(endpoint, true)? {
            Endpoint::Inproc(name) => {
                super::inproc::bind(self, &name)?;
                self.last_endpoint = endpoint.to_owned();
            }
            ep => {
                let io = self.io()?;
                let (listener, resolved) = match Listener::bind(&ep, &self.options) {
                    Ok(x) => x,
                    Err(e) => {
                        self.monitor
                            .emit(ZMQ_EVENT_BIND_FAILED, e.errno() as u32, endpoint);
                        return Err(e);
                    }
                };
                let fd = listener.fd();
                self.monitor.emit(ZMQ_EVENT_LISTENING, fd as u32, &resolved);
                io.send(IoCommand::Listen {
                    listener,
                    endpoint: resolved.clone(),
                    link: self.link(),
                });
                self.tcp_binds
                    .push((endpoint.to_owned(), resolved.clone(), fd));
                self.last_endpoint = resolved;
                // ZMQ_FD is readable after a tcp/ipc bind, as in libzmq (see Mailbox::wake).
                self.mailbox.wake();
            }
        }
        Ok(())
    }

    /// `zmq_connect`.
    pub(crate) fn connect(&mut self, endpoint: &str) -> Result<()> {
        self.check_alive()?;
        let ep = match Endpoint::parse(endpoint, false)? {
            Endpoint::Inproc(name) => {
                super::inproc::connect(self, &name)?;
                // libzmq records connected endpoints too (bound or not yet).
                self.last_endpoint = endpoint.to_owned();
                return Ok(());
            }
            ep => ep,
        };
        let io = self.io()?;
        let link = self.link();
        let assigned_id = self.options.connect_routing_id.take();
        let o = &self.options;
        // Messages queue before the connection exists, unless ZMQ_IMMEDIATE; ROUTER learns
        // its peer's routing id in the handshake, so its pipe waits for it, unless
        // ZMQ_CONNECT_ROUTING_ID names the peer now (then, as in libzmq, the peer can be
        // addressed at once).
        let deferred =
            o.socket_type == ZMQ_STREAM || (o.socket_type == ZMQ_ROUTER && assigned_id.is_none());
        let pipe = if o.immediate || deferred {
            None
        } else {
            let (to_peer, from_peer) = crate::session::pipe_directions(o);
            let (mine, theirs) = pipe::pair(to_peer, from_peer);
            self.tcp_connect_pipes
                .push((endpoint.to_owned(), mine.id()));
            self.attach(mine, assigned_id);
            Some(theirs)
        };
        io.send(IoCommand::Connect {
            endpoint: ep,
            endpoint_str: endpoint.to_owned(),
            link,
            pipe,
        });
        self.tcp_connects.push(endpoint.to_owned());
        self.last_endpoint = endpoint.to_owned();
        // ZMQ_FD is readable after a tcp/ipc connect, as in libzmq (see Mailbox::wake).
        self.mailbox.wake();
        Ok(())
    }

    /// `zmq_unbind`. A tcp/ipc bind is named by its resolved endpoint (`ZMQ_LAST_ENDPOINT`),
    /// or a tcp one by an address that resolves to it (`tcp://127.0.0.1:00080`), as in libzmq:
    /// `tcp://127.0.0.1:*` or `ipc://*` names none (ENOENT).
    pub(crate) fn unbind(&mut self, endpoint: &str) -> Result<()> {
        self.check_alive()?;
        if let Endpoint::Inproc(name) = Endpoint::parse(endpoint, true)? {
            return super::inproc::unbind(self, &name);
        }
        let find = |name: &str| {
            self.tcp_binds
                .iter()
                .position(|(_, resolved, _)| resolved == name)
        };
        let i = find(endpoint)
            .or_else(|| {
                crate::transport::resolved_tcp_name(endpoint, self.options.ipv6)
                    .and_then(|name| find(&name))
            })
            .ok_or(Error::NotFound)?;
        let (_, resolved, _) = self.tcp_binds.remove(i);
        self.tell_io(|| IoCommand::CloseEndpoint {
            socket: self.id,
            endpoint: resolved.clone(),
        });
        Ok(())
    }

    /// `zmq_disconnect`.
    pub(crate) fn disconnect(&mut self, endpoint: &str) -> Result<()> {
        self.check_alive()?;
        if let Endpoint::Inproc(name) = Endpoint::parse(endpoint, false)? {
            return super::inproc::disconnect(self, &name);
        }
        if !self.tcp_connects.iter().any(|c| c == endpoint) {
            return Err(Error::NotFound);
        }
        self.tcp_connects.retain(|c| c != endpoint);
        self.tell_io(|| IoCommand::CloseEndpoint {
            socket: self.id,
            endpoint: endpoint.to_owned(),
        });
        // As in libzmq, the connections' pipes go at once: nothing more is routed to them.
        // (After CloseEndpoint, so that their sessions end rather than linger.)
        let (gone, kept) = std::mem::take(&mut self.tcp_connect_pipes)
            .into_iter()
            .partition(|(c, _)| c == endpoint);
        self.tcp_connect_pipes = kept;
        for (_, id) in gone {
            self.detach(id);
        }
        Ok(())
    }

    /// `zmq_socket_monitor`: publish `events` on `inproc://` `endpoint`, or stop (None).
    pub(crate) fn monitor(&mut self, endpoint: Option<&str>, events: i32) -> Result<()> {
        self.check_alive()?;
        // The version 1 events fit in 16 bits (libzmq: EINVAL for any other bit, a negative
        // mask too, even when stopping); ours add ZMQ_EVENT_EXTENSIONS.
        if events & !(0xffff | ZMQ_EVENT_EXTENSIONS) != 0 {
            return Err(Error::Invalid);
        }
        let Some(endpoint) = endpoint else {
            self.monitor.stop(&self.shared);
            return Ok(());
        };
        match Endpoint::parse(endpoint, true)? {
            Endpoint::Inproc(name) => self.monitor.start(&self.shared, &name, events, self.id),
            _ => Err(Error::ProtocolNotSupported),
        }
    }

    /// `zmq_close`: releases every pipe and endpoint. Complete messages already sent stay
    /// readable by inproc peers; unread incoming ones are dropped.
    pub(crate) fn close(self) {
        // As in libzmq, the listeners report CLOSED before the monitor stops (the I/O thread
        // closes them after the monitor is gone, too late to say so itself).
        for (_, resolved, fd) in &self.tcp_binds {
            self.monitor.emit(ZMQ_EVENT_CLOSED, *fd as u32, resolved);
        }
        self.monitor.stop(&self.shared);
        self.tell_io(|| IoCommand::SocketClosed {
            socket: self.id,
            linger: self.options.linger,
        });
        self.shared.inproc.lock().remove_socket(self.id);
        // Pipes still on their way in are closed too; an I/O thread that finishes a handshake
        // after this point gets its Attach back and closes the pipe itself (otherwise its
        // session would wait forever for a socket that never took the pipe).
        crate::command::close_mailbox(&self.mailbox);
        for pipe in &self.pipes {
            pipe.close();
        }
        self.shared.unregister(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_endpoint(s: &mut Socket) -> String {
        let mut buf = [0u8; 64];
        let n = s.get_option(ZMQ_LAST_ENDPOINT, &mut buf).unwrap();
        String::from_utf8(buf[..n - 1].to_vec()).unwrap()
    }

    #[test]
    fn sockets_of_a_context_that_does_not_block_start_with_no_linger() {
        let ctx = crate::ctx::Context::new();
        let before = Socket::new(ctx.shared().clone(), ZMQ_PUSH).unwrap();
        ctx.set(ZMQ_BLOCKY, 0).unwrap();
        let after = Socket::new(ctx.shared().clone(), ZMQ_PUSH).unwrap();
        assert_eq!((before.options.linger, after.options.linger), (-1, 0));
    }

    #[test]
    fn monitor_masks_take_the_low_16_bits_and_the_extensions() {
        let ctx = crate::ctx::Context::new();
        let mut s = Socket::new(ctx.shared().clone(), ZMQ_PAIR).unwrap();
        assert_eq!(
            s.monitor(Some("inproc://core-mon"), -1),
            Err(Error::Invalid)
        );
        assert_eq!(s.monitor(None, 0x1_0000), Err(Error::Invalid));
        s.monitor(
            Some("inproc://core-mon"),
            ZMQ_EVENT_ALL | ZMQ_EVENT_EXTENSIONS,
        )
        .unwrap();
        s.monitor(None, 0).unwrap();
    }

    #[test]
    fn last_endpoint_follows_binds_and_connects() {
        let ctx = crate::ctx::Context::new();
        let mut s = Socket::new(ctx.shared().clone(), ZMQ_DEALER).unwrap();
        assert_eq!(last_endpoint(&mut s), "");
        s.bind("inproc://core-le-bound").unwrap();
        assert_eq!(last_endpoint(&mut s), "inproc://core-le-bound");
        s.connect("inproc://core-le-pending").unwrap();
        assert_eq!(last_endpoint(&mut s), "inproc://core-le-pending");
        assert_eq!(s.connect("inproc://"), Err(Error::Invalid));
        assert_eq!(last_endpoint(&mut s), "inproc://core-le-pending");
        s.close();
        ctx.terminate();
    }

    #[test]
    fn a_sender_expects_a_reply_and_a_run_of_receives_more_of_the_stream() {
        assert_eq!(expectation(true, 0), Expect::Reply);
        assert_eq!(expectation(true, STREAM_RUN), Expect::Reply, "sent wins");
        assert_eq!(expectation(false, STREAM_RUN), Expect::MoreOfAStream);
        assert_eq!(expectation(false, u8::MAX), Expect::MoreOfAStream);
        assert_eq!(expectation(false, STREAM_RUN - 1), Expect::Nothing);
        assert_eq!(expectation(false, 0), Expect::Nothing);
    }

    #[test]
    fn received_frames_are_counted_until_the_next_wait() {
        let ctx = crate::ctx::Context::new();
        let mut rx = Socket::new(ctx.shared().clone(), ZMQ_PULL).unwrap();
        let mut tx = Socket::new(ctx.shared().clone(), ZMQ_PUSH).unwrap();
        rx.bind("inproc://core-stream-run").unwrap();
        tx.connect("inproc://core-stream-run").unwrap();
        for _ in 0..300 {
            tx.send(&mut Msg::copy_from(b"x"), false, false).unwrap();
        }
        for _ in 0..300 {
            rx.recv(false).unwrap();
        }
        assert_eq!(rx.received_since_wait, u8::MAX, "saturates, never wraps");
        rx.options.rcvtimeo = 1;
        assert_eq!(rx.recv(false).err(), Some(Error::Again));
        assert_eq!(rx.received_since_wait, 0, "a wait starts the count again");
        tx.close();
        rx.close();
        ctx.terminate();
    }

    fn fd_readable(s: &mut Socket) -> bool {
        let mut b = [0u8; 4];
        s.get_option(ZMQ_FD, &mut b).unwrap();
        let mut fds = [crate::sys::PollFd {
            fd: i32::from_ne_bytes(b),
            events: libc::POLLIN,
            revents: 0,
        }];
        crate::sys::poll_fds(&mut fds, 0).unwrap() == 1
    }

    #[test]
    fn zmq_fd_is_readable_after_tcp_bind_and_connect_until_events_is_read() {
        let ctx = crate::ctx::Context::new();
        let mut s = Socket::new(ctx.shared().clone(), ZMQ_PULL).unwrap();
        s.bind("tcp://127.0.0.1:*").unwrap();
        assert!(fd_readable(&mut s), "after bind");
        assert!(fd_readable(&mut s), "reading ZMQ_FD keeps it readable");
        s.events().unwrap();
        assert!(
            !fd_readable(&mut s),
            "ZMQ_EVENTS processed the pending wake-up"
        );
        let ep = last_endpoint(&mut s);
        let mut c = Socket::new(ctx.shared().clone(), ZMQ_PUSH).unwrap();
        c.connect(&ep).unwrap();
        assert!(fd_readable(&mut c), "after connect");
        c.close();
        s.close();
        ctx.terminate();
    }

    #[test]
    fn closing_a_socket_reports_its_listeners_closed_before_the_monitor_stops() {
        let ctx = crate::ctx::Context::new();
        let mut s = Socket::new(ctx.shared().clone(), ZMQ_DEALER).unwrap();
        s.monitor(Some("inproc://core-mon-close"), ZMQ_EVENT_ALL)
            .unwrap();
        let mut m = Socket::new(ctx.shared().clone(), ZMQ_PAIR).unwrap();
        m.connect("inproc://core-mon-close").unwrap();
        s.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&mut s);
        s.close();
        let mut events = Vec::new();
        while let Ok(head) = m.recv(true) {
            let addr = m.recv(true).unwrap();
            let event = u16::from_ne_bytes([head.data()[0], head.data()[1]]);
            events.push((
                i32::from(event),
                String::from_utf8_lossy(addr.data()).into_owned(),
            ));
        }
        let want = [
            (ZMQ_EVENT_LISTENING, ep.clone()),
            (ZMQ_EVENT_CLOSED, ep),
            (ZMQ_EVENT_MONITOR_STOPPED, String::new()),
        ];
        assert_eq!(events, want);
        m.close();
        ctx.terminate();
    }
}
