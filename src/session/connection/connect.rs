//! A connection's session (L3 objects), connecting and reconnecting: starting the protocol on
//! a stream (offering the shared-memory side channel on ipc), connect attempts (through a
//! SOCKS5 proxy when `ZMQ_SOCKS_PROXY` is set: its exchange runs before ZMTP, within
//! `ZMQ_CONNECT_TIMEOUT`), their failures and the reconnect interval, and the stream's
//! readiness.
#![forbid(unsafe_code)]

use super::*;

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
                let writes = WriteSizing::new(stream.get().write_limit());
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
                    writes,
                    may_grow_sndbuf,
                    side_offered,
                    side_tx: side::Sender::Off,
                    pass_fds: Vec::new(),
                    bell: None,
                    held: None,
                    ring_pumped: false,
                    low_water: 1,
                    socks: None,
                });
                if connected {
                    self.handle_events(ctx);
                    self.flush_out(ctx);
                }
            }
            Err(_) => self.disconnected(ctx),
        }
    }

    pub(super) fn try_connect(&mut self, ctx: &mut IoCtx<'_>) {
        let Some(endpoint) = &self.connect else {
            return;
        };
        let socks = match crate::transport::socks_exchange(endpoint, &self.link.options) {
            Ok(socks) => socks,
            Err(e) => return self.connect_failed(ctx, e, None),
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
                if let Some(c) = &mut self.conn {
                    c.socks = socks;
                }
            }
            Err(e) => self.connect_failed(ctx, e.error, e.fd),
        }
    }

    /// A connect attempt failed: retry later, unless `ZMQ_RECONNECT_STOP` says to give up on
    /// a refused connection.
    pub(super) fn connect_failed(
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

    pub(super) fn schedule_reconnect(&mut self, ctx: &mut IoCtx<'_>) {
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
            // Through a SOCKS5 proxy: the exchange first (the peer is reached once it ends).
            if conn.socks.is_some() {
                match socks_step(conn) {
                    Ok(false) => return,
                    Ok(true) => conn.socks = None,
                    Err(e) => {
                        self.connect_failed(ctx, e, None);
                        return;
                    }
                }
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
}

/// Moves the SOCKS5 exchange on as far as the stream allows: true once it is done, false
/// while it waits for the proxy (the stream's interest then follows what it waits for).
fn socks_step(conn: &mut Conn) -> crate::error::Result<bool> {
    use std::io::{ErrorKind, Read, Write};
    let Some(socks) = conn.socks.as_mut() else {
        return Ok(true);
    };
    let mut buf = [0u8; 262];
    loop {
        if !socks.output().is_empty() {
            match conn.stream.get_mut().write(socks.output()) {
                Ok(n) => socks.sent(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        }
        if socks.is_done() {
            return Ok(true);
        }
        let want = socks.wanted().min(buf.len());
        let progressed = if want > 0 {
            match conn.stream.get_mut().read(&mut buf[..want]) {
                Ok(0) => return Err(crate::error::Error::Os(libc::ECONNRESET)),
                Ok(n) => {
                    socks.received(&buf[..n])?;
                    true
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => false,
                Err(e) => return Err(e.into()),
            }
        } else {
            false
        };
        if !progressed && (socks.output().is_empty() || want > 0) {
            let interest = (socks.wanted() > 0, !socks.output().is_empty());
            let _ = conn.stream.set_interest(interest.0, interest.1);
            return Ok(false);
        }
    }
}
