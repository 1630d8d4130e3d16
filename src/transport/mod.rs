//! Transports: endpoint parsing (`tcp://`, `ipc://`, `inproc://`) and the tcp/ipc listeners and
//! streams the I/O threads drive.
//!
//! Layer L2 (depends on `error`, `options`). Everything here is non-blocking once created; name
//! resolution for connects happens on the I/O thread at each attempt, so a changed DNS answer is
//! picked up on reconnect as libzmq does.
#![forbid(unsafe_code)]

mod ipc;
mod socks;
mod tcp;

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

pub(crate) use ipc::IpcAddress;
pub(crate) use socks::SocksClient;
pub(crate) use tcp::TcpAddress;

use crate::error::{Error, Result};
use crate::options::Options;
use crate::sys::AdoptionGuard;

/// A parsed endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `tcp://[source;]host:port`
    Tcp(TcpAddress),
    /// `ipc://path`, `ipc://@abstract`, `ipc://*`
    Ipc(IpcAddress),
    /// `inproc://name`
    Inproc(String),
}

/// The SOCKS5 exchange a connect to `endpoint` needs first: one for a tcp endpoint when
/// `ZMQ_SOCKS_PROXY` is set (an error when its target cannot be named), none otherwise.
pub(crate) fn socks_exchange(
    endpoint: &Endpoint,
    options: &Options,
) -> Result<Option<SocksClient>> {
    match endpoint {
        Endpoint::Tcp(a) if !options.socks_proxy.is_empty() => {
            let (host, port) = tcp::socks_target(a)?;
            SocksClient::new(&host, port).map(Some)
        }
        _ => Ok(None),
    }
}

/// The resolved name (`ZMQ_LAST_ENDPOINT` form) of a `tcp://` endpoint, for `zmq_unbind`; see
/// [`tcp::resolved_name`].
pub(crate) fn resolved_tcp_name(endpoint: &str, ipv6: bool) -> Option<String> {
    let address = endpoint.strip_prefix("tcp://")?;
    tcp::resolved_name(address, ipv6)
}

impl Endpoint {
    /// Parses `scheme://address`. EINVAL for a malformed endpoint, EPROTONOSUPPORT for an
    /// unknown transport.
    pub(crate) fn parse(endpoint: &str, for_bind: bool) -> Result<Endpoint> {
        let (scheme, address) = endpoint.split_once("://").ok_or(Error::Invalid)?;
        if address.is_empty() {
            return Err(Error::Invalid);
        }
        match scheme {
            "tcp" => Ok(Endpoint::Tcp(TcpAddress::parse(address, for_bind)?)),
            "ipc" => Ok(Endpoint::Ipc(IpcAddress::parse(address)?)),
            "inproc" => Ok(Endpoint::Inproc(address.to_owned())),
            "pgm" | "epgm" | "tipc" | "vmci" | "norm" | "udp" | "ws" | "wss" => {
                Err(Error::ProtocolNotSupported)
            }
            _ => Err(Error::ProtocolNotSupported),
        }
    }
}

/// What [`Listener::accept`] took from the queue of pending connections.
pub(crate) enum Accepted {
    /// A connection to serve.
    Stream(Stream),
    /// A peer the accept filters rejected, already closed (reported as
    /// `ZMQ_EVENT_ACCEPT_FAILED` with value 0, as libzmq does over ipc; over tcp its value is
    /// whatever errno was left).
    Refused,
}

/// A bound, listening, non-blocking socket. The last field of each variant is set when the
/// application handed the socket over (`ZMQ_USE_FD`): it keeps the fd registered as adopted
/// until the listener has closed it.
pub(crate) enum Listener {
    /// TCP.
    Tcp(
        std::net::TcpListener,
        #[expect(dead_code, reason = "held for its Drop only")] Option<AdoptionGuard>,
    ),
    /// Unix domain socket; its socket file (none for an abstract name, or a socket the
    /// application handed over) is removed when the listener is dropped, unless another bind
    /// has replaced it since.
    Ipc(
        std::os::unix::net::UnixListener,
        Option<ipc::SocketFile>,
        #[expect(dead_code, reason = "held for its Drop only")] Option<AdoptionGuard>,
    ),
}

impl Listener {
    /// Binds `endpoint`, or adopts the listening socket `ZMQ_USE_FD` names; returns the
    /// listener and the endpoint as `ZMQ_LAST_ENDPOINT` reports it (resolved port, generated
    /// ipc path; for an adopted tcp socket its own address, for an ipc one the endpoint given).
    pub(crate) fn bind(endpoint: &Endpoint, options: &Options) -> Result<(Listener, String)> {
        match endpoint {
            Endpoint::Tcp(a) => tcp::bind(a, options),
            Endpoint::Ipc(a) => ipc::bind(a, options),
            Endpoint::Inproc(_) => Err(Error::Invalid),
        }
    }

    /// Accepts one pending connection (Again when none). A TCP peer that matches none of the
    /// `ZMQ_TCP_ACCEPT_FILTER`s, or an ipc peer the `ZMQ_IPC_FILTER_*`s do not admit, is closed
    /// at once and reported as [`Accepted::Refused`].
    pub(crate) fn accept(&self, options: &Options) -> Result<Accepted> {
        match self {
            Listener::Tcp(l, _) => {
                let (s, peer) = l.accept()?;
                let filters = &options.tcp_accept_filters;
                if !filters.is_empty() && !filters.iter().any(|f| f.matches(peer.ip())) {
                    return Ok(Accepted::Refused);
                }
                tcp::configure(&s, options)?;
                s.set_nonblocking(true)?;
                Ok(Accepted::Stream(Stream::Tcp(s)))
            }
            Listener::Ipc(l, _, _) => {
                let (s, _) = l.accept()?;
                if !ipc::admitted(&s, &options.ipc_filters) {
                    return Ok(Accepted::Refused);
                }
                ipc::configure(&s, options)?;
                s.set_nonblocking(true)?;
                Ok(Accepted::Stream(Stream::Ipc(s)))
            }
        }
    }

    /// The listening fd.
    pub(crate) fn fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l, _) => l.as_raw_fd(),
            Listener::Ipc(l, _, _) => l.as_raw_fd(),
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(l, _) => l.as_fd(),
            Listener::Ipc(l, _, _) => l.as_fd(),
        }
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Ipc(s) => s.as_fd(),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Ipc(_, Some(file), _) = self {
            file.remove();
        }
    }
}

/// A connect attempt that failed: why, and the fd of the socket it had opened (and closed
/// again) if it got that far: libzmq reports that socket as CLOSED (with this fd) before
/// retrying, and reports nothing closed when no socket was opened (an address that did not
/// resolve).
#[derive(Debug)]
pub(crate) struct ConnectError {
    /// Why the attempt failed.
    pub(crate) error: Error,
    /// The number the attempt's socket had, if one was opened (it is closed by now).
    pub(crate) fd: Option<RawFd>,
}

impl From<Error> for ConnectError {
    fn from(error: Error) -> ConnectError {
        ConnectError { error, fd: None }
    }
}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> ConnectError {
        Error::from(e).into()
    }
}

impl ConnectError {
    /// The error `e` of an attempt whose socket was `fd`.
    pub(super) fn on(fd: RawFd, e: impl Into<Error>) -> ConnectError {
        ConnectError {
            error: e.into(),
            fd: Some(fd),
        }
    }
}

/// A connected (or connecting) non-blocking stream.
pub(crate) enum Stream {
    /// TCP.
    Tcp(std::net::TcpStream),
    /// Unix domain socket.
    Ipc(std::os::unix::net::UnixStream),
}

impl Stream {
    /// Starts a non-blocking connect; completion shows as writability (then check
    /// [`Stream::take_error`]).
    pub(crate) fn connect(
        endpoint: &Endpoint,
        options: &Options,
    ) -> std::result::Result<Stream, ConnectError> {
        match endpoint {
            Endpoint::Tcp(a) => tcp::connect(a, options),
            Endpoint::Ipc(a) => ipc::connect(a, options),
            Endpoint::Inproc(_) => Err(Error::Invalid.into()),
        }
    }

    /// True for a connect still in progress when [`Stream::connect`] returns (tcp: a
    /// non-blocking connect); an ipc connect has completed (or failed) by then.
    pub(crate) fn completes_later(&self) -> bool {
        matches!(self, Stream::Tcp(_))
    }

    /// The pending socket error of a finished connect, if any.
    pub(crate) fn take_error(&self) -> Result<()> {
        let e = match self {
            Stream::Tcp(s) => s.take_error()?,
            Stream::Ipc(s) => s.take_error()?,
        };
        match e {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// The stream's fd.
    pub(crate) fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Ipc(s) => s.as_raw_fd(),
        }
    }

    /// Whether [`Stream::grow_send_buffer`] applies: an ipc connection whose `ZMQ_SNDBUF` is
    /// left at -1.
    pub(crate) fn may_grow_send_buffer(&self, options: &Options) -> bool {
        matches!(self, Stream::Ipc(_)) && options.sndbuf == -1
    }

    /// Raises an ipc connection's send buffer to [`ipc::LARGE_FRAME_SNDBUF`] (for a session
    /// that writes large frames). A Unix stream sender may have only its send buffer's worth
    /// of data unread by the peer: at the usual 208 KiB a 1 MiB frame crosses in five
    /// hand-offs, each a wake-up on both sides. Measured here (PUSH -> PULL, 1 MiB frames):
    /// 4.5-5.4 k msg/s -> 5.75-5.85 k. Small frames keep the small buffer: with 8 MiB in flight
    /// their data falls out of the caches (ipc 64 B 15 -> 7 M msg/s). Tcp tunes its own.
    /// Failing to grow is harmless, so errors are ignored.
    pub(crate) fn grow_send_buffer(&self) {
        if let Stream::Ipc(s) = self {
            let _ = socket2::SockRef::from(s).set_send_buffer_size(ipc::LARGE_FRAME_SNDBUF);
        }
    }

    /// Asks a TCP stream to report readable only once `octets` are queued (1 = at the first
    /// octet, the default); see [`crate::sys::set_recv_low_water`]. Unix sockets ignore the
    /// mark in poll, so ipc is left alone. Errors are ignored: the mark only saves wake-ups.
    pub(crate) fn set_read_low_water(&self, octets: usize) {
        if let Stream::Tcp(s) = self {
            let _ = crate::sys::set_recv_low_water(s.as_fd(), octets.max(1));
        }
    }

    /// The most octets one write should carry, 0 for no bound. TCP: 56 KiB, so that a write
    /// stays one offload unit (64 KiB with headers) whatever the connection's segment size
    /// (loopback's MSS here moves between 32741 and 65483 as the window grows; Ethernet's is
    /// 1448). A write past one unit sends it and then a short remainder, and the receiving side
    /// pays per unit: over loopback here, writes of 64 KiB ran tcp 64 KiB PUSH -> PULL at
    /// 32 k msg/s, of 256 KiB at 80 k, of 56 KiB at 104 k; tcp 1 KiB 2.1, 3.3 and 3.5 M/s;
    /// PUB -> 4 SUB 1 KiB 0.70 M/s unbounded against 0.92 M/s. Unix sockets have no segments.
    /// The session lifts the bound through the body of a very large frame
    /// (`session::write_sizing`).
    pub(crate) fn write_limit(&self) -> usize {
        const TCP_WRITE_LIMIT: usize = 56 * 1024;
        match self {
            Stream::Tcp(_) => TCP_WRITE_LIMIT,
            Stream::Ipc(_) => 0,
        }
    }

    /// The peer's address as `Peer-Address` metadata gives it.
    pub(crate) fn peer_address(&self) -> String {
        match self {
            Stream::Tcp(s) => s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            // libzmq: getnameinfo's numeric name for a unix socket ("localhost"), then the
            // peer's SO_PEERCRED as ":uid:gid:pid".
            Stream::Ipc(s) => match crate::sys::peer_credentials(s.as_fd()) {
                Ok(c) => format!("localhost:{}:{}:{}", c.uid, c.gid, c.pid),
                Err(_) => "localhost".to_owned(),
            },
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Ipc(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Ipc(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Ipc(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_recognised() {
        assert!(matches!(
            Endpoint::parse("tcp://127.0.0.1:5555", false),
            Ok(Endpoint::Tcp(_))
        ));
        assert!(matches!(
            Endpoint::parse("ipc:///tmp/x", true),
            Ok(Endpoint::Ipc(_))
        ));
        assert_eq!(
            Endpoint::parse("inproc://a", true),
            Ok(Endpoint::Inproc("a".into()))
        );
        assert_eq!(
            Endpoint::parse("foo://a", true),
            Err(Error::ProtocolNotSupported)
        );
        assert_eq!(Endpoint::parse("tcp:/a", true), Err(Error::Invalid));
        assert_eq!(Endpoint::parse("tcp://", true), Err(Error::Invalid));
    }

    #[test]
    fn tcp_writes_stay_within_one_offload_unit_and_ipc_writes_are_unbounded() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let limit = Stream::Tcp(client).write_limit();
        assert!(limit > 0 && limit < 64 * 1024 - 128, "limit {limit}");
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(Stream::Ipc(a).write_limit(), 0);
    }

    fn send_buffer(s: &Stream) -> usize {
        socket2::SockRef::from(s).send_buffer_size().unwrap()
    }

    #[test]
    fn ipc_send_buffer_grows_for_large_frames_unless_the_user_chose_one() {
        let mut o = Options::new(crate::consts::ZMQ_PUSH);
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let ipc = Stream::Ipc(a);
        assert!(ipc.may_grow_send_buffer(&o));
        let before = send_buffer(&ipc);
        ipc.grow_send_buffer();
        let after = send_buffer(&ipc);
        // The kernel caps the request at net.core.wmem_max (and doubles what it grants).
        let wmem_max: usize = std::fs::read_to_string("/proc/sys/net/core/wmem_max")
            .map_or(0, |v| v.trim().parse().unwrap_or(0));
        if wmem_max > before {
            assert!(after > before, "{before} -> {after}");
        }

        let (c, _d) = std::os::unix::net::UnixStream::pair().unwrap();
        o.sndbuf = 65536;
        ipc::configure(&c, &o).unwrap();
        let chosen = Stream::Ipc(c);
        assert_eq!(send_buffer(&chosen), 2 * 65536, "ZMQ_SNDBUF applies to ipc");
        assert!(!chosen.may_grow_send_buffer(&o));

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        o.sndbuf = -1;
        assert!(
            !Stream::Tcp(client).may_grow_send_buffer(&o),
            "tcp tunes its own"
        );
    }

    #[test]
    fn ipc_peer_address_names_the_peer_process_as_libzmq_does() {
        use std::os::unix::fs::MetadataExt;
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        // /proc/self belongs to this process's effective uid and gid, which SO_PEERCRED reports.
        let me = std::fs::metadata("/proc/self").unwrap();
        let want = format!("localhost:{}:{}:{}", me.uid(), me.gid(), std::process::id());
        assert_eq!(Stream::Ipc(a).peer_address(), want);
    }

    /// Accepts within a second, retrying while the connection is still on its way.
    fn accept_soon(l: &Listener, o: &Options) -> Result<Accepted> {
        for _ in 0..100 {
            match l.accept(o) {
                Err(Error::Again) => std::thread::sleep(std::time::Duration::from_millis(10)),
                other => return other,
            }
        }
        Err(Error::Again)
    }

    #[test]
    fn tcp_accept_filter_closes_unmatched_peers() {
        let mut o = Options::new(crate::consts::ZMQ_PULL);
        o.set(crate::consts::ZMQ_TCP_ACCEPT_FILTER, b"192.0.2.1")
            .unwrap();
        let ep = Endpoint::parse("tcp://127.0.0.1:*", true).unwrap();
        let (l, name) = Listener::bind(&ep, &o).unwrap();
        let addr = name.trim_start_matches("tcp://").to_owned();
        let mut rejected = std::net::TcpStream::connect(&addr).unwrap();
        assert!(matches!(accept_soon(&l, &o), Ok(Accepted::Refused)));
        assert!(
            matches!(l.accept(&o), Err(Error::Again)),
            "nothing else pending"
        );
        let mut b = [0u8; 1];
        assert!(
            matches!(rejected.read(&mut b), Ok(0) | Err(_)),
            "closed by the listener"
        );

        o.set(crate::consts::ZMQ_TCP_ACCEPT_FILTER, b"127.0.0.0/8")
            .unwrap();
        let _ok = std::net::TcpStream::connect(&addr).unwrap();
        assert!(matches!(accept_soon(&l, &o), Ok(Accepted::Stream(_))));

        assert_eq!(
            o.set(crate::consts::ZMQ_TCP_ACCEPT_FILTER, b""),
            Err(Error::Invalid),
            "only a NULL value clears"
        );
        o.set_value(crate::consts::ZMQ_TCP_ACCEPT_FILTER, None)
            .unwrap();
        assert!(o.tcp_accept_filters.is_empty());
    }

    #[test]
    fn ipc_filters_close_peers_they_do_not_admit() {
        use crate::consts::{ZMQ_IPC_FILTER_PID, ZMQ_IPC_FILTER_UID};
        let dir = std::env::temp_dir().join(format!("zmq-rs-filter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.ipc");
        let ep = Endpoint::parse(&format!("ipc://{}", path.display()), true).unwrap();
        let mut o = Options::new(crate::consts::ZMQ_PULL);
        let other_pid = std::process::id().wrapping_add(1) as i32;
        o.set(ZMQ_IPC_FILTER_PID, &other_pid.to_ne_bytes()).unwrap();
        let (l, _) = Listener::bind(&ep, &o).unwrap();
        let mut rejected = std::os::unix::net::UnixStream::connect(&path).unwrap();
        assert!(matches!(accept_soon(&l, &o), Ok(Accepted::Refused)));
        let mut b = [0u8; 1];
        assert!(
            matches!(rejected.read(&mut b), Ok(0) | Err(_)),
            "closed by the listener"
        );

        // /proc/self belongs to this process's uid, which SO_PEERCRED reports.
        let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap());
        o.set(ZMQ_IPC_FILTER_UID, &uid.to_ne_bytes()).unwrap();
        let _ok = std::os::unix::net::UnixStream::connect(&path).unwrap();
        assert!(
            matches!(accept_soon(&l, &o), Ok(Accepted::Stream(_))),
            "our own uid is admitted"
        );
        drop(l);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
