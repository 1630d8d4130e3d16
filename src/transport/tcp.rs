//! TCP addresses (`tcp://host:port`, `tcp://*:port`, `tcp://*:*`, `tcp://[v6]:port`, interface
//! names, `tcp://source;destination`), listeners and non-blocking connects.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{ConnectError, Listener, Stream};
use crate::error::{Error, Result};
use crate::options::Options;

/// A parsed TCP address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TcpAddress {
    /// Local address to bind before connecting (`source;destination`).
    pub(crate) source: Option<(String, u16)>,
    /// Host, IP literal (without brackets), interface name or `*`.
    pub(crate) host: String,
    /// Port; 0 = any (bind only).
    pub(crate) port: u16,
}

fn split_host_port(s: &str, for_bind: bool) -> Result<(String, u16)> {
    let (host, port) = s.rsplit_once(':').ok_or(Error::Invalid)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(Error::Invalid);
    }
    let port = match port {
        "*" | "0" if for_bind => 0,
        _ => port.parse::<u16>().map_err(|_| Error::Invalid)?,
    };
    if port == 0 && !for_bind {
        return Err(Error::Invalid);
    }
    Ok((host.to_owned(), port))
}

impl TcpAddress {
    /// Parses the part after `tcp://`.
    pub(crate) fn parse(address: &str, for_bind: bool) -> Result<TcpAddress> {
        let (source, dest) = match address.split_once(';') {
            Some((s, d)) if !for_bind => (Some(split_host_port(s, true)?), d),
            _ => (None, address),
        };
        let (host, port) = split_host_port(dest, for_bind)?;
        if host == "*" && !for_bind {
            return Err(Error::Invalid);
        }
        Ok(TcpAddress { source, host, port })
    }
}

fn local_ip(host: &str, ipv6: bool) -> Result<IpAddr> {
    if host == "*" {
        return Ok(if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        if ip.is_ipv6() && !ipv6 {
            return Err(Error::NoDevice);
        }
        return Ok(ip);
    }
    if let Some(ip) = crate::sys::interface_address(host, ipv6) {
        return Ok(ip);
    }
    (host, 0)
        .to_socket_addrs()
        .map_err(|_| Error::NoDevice)?
        .map(|a| a.ip())
        .find(|ip| ipv6 || ip.is_ipv4())
        .ok_or(Error::NoDevice)
}

/// Applies the socket options libzmq applies to TCP connections.
pub(super) fn configure(s: &std::net::TcpStream, options: &Options) -> Result<()> {
    s.set_nodelay(true)?;
    let sock = socket2::SockRef::from(s);
    if options.sndbuf > 0 {
        sock.set_send_buffer_size(options.sndbuf as usize)?;
    }
    if options.rcvbuf > 0 {
        sock.set_recv_buffer_size(options.rcvbuf as usize)?;
    }
    if options.tos > 0 {
        let _ = sock.set_tos_v4(options.tos as u32);
    }
    if options.tcp_keepalive == 1 {
        let mut ka = socket2::TcpKeepalive::new();
        if options.tcp_keepalive_idle > 0 {
            ka = ka.with_time(std::time::Duration::from_secs(
                options.tcp_keepalive_idle as u64,
            ));
        }
        if options.tcp_keepalive_intvl > 0 {
            ka = ka.with_interval(std::time::Duration::from_secs(
                options.tcp_keepalive_intvl as u64,
            ));
        }
        if options.tcp_keepalive_cnt > 0 {
            ka = ka.with_retries(options.tcp_keepalive_cnt as u32);
        }
        sock.set_tcp_keepalive(&ka)?;
    } else if options.tcp_keepalive == 0 {
        sock.set_keepalive(false)?;
    }
    if options.tcp_maxrt > 0 {
        sock.set_tcp_user_timeout(Some(std::time::Duration::from_millis(
            options.tcp_maxrt as u64,
        )))?;
    }
    Ok(())
}

fn format(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("tcp://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp://[{}]:{}", a.ip(), a.port()),
    }
}

pub(super) fn bind(a: &TcpAddress, options: &Options) -> Result<(Listener, String)> {
    let ip = local_ip(&a.host, options.ipv6)?;
    let addr = SocketAddr::new(ip, a.port);
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_cloexec(true)?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv6() {
        let _ = sock.set_only_v6(false);
    }
    if !options.bindtodevice.is_empty() {
        sock.bind_device(Some(&options.bindtodevice))?;
    }
    sock.bind(&SockAddr::from(addr))?;
    sock.listen(options.backlog.max(1))?;
    sock.set_nonblocking(true)?;
    let listener: std::net::TcpListener = sock.into();
    let bound = listener.local_addr()?;
    Ok((Listener::Tcp(listener), format(bound)))
}

pub(super) fn connect(
    a: &TcpAddress,
    options: &Options,
) -> std::result::Result<Stream, ConnectError> {
    let addr = (a.host.as_str(), a.port)
        .to_socket_addrs()
        .map_err(|_| Error::HostUnreachable)?
        .find(|ad| options.ipv6 || ad.is_ipv4())
        .ok_or(Error::HostUnreachable)?;
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    let fd = sock.as_raw_fd();
    start_connect(sock, addr, a, options).map_err(|e| ConnectError::on(fd, e))
}

/// Sets up `sock` and starts its non-blocking connect to `addr`.
fn start_connect(
    sock: Socket,
    addr: SocketAddr,
    a: &TcpAddress,
    options: &Options,
) -> Result<Stream> {
    sock.set_cloexec(true)?;
    if let Some((host, port)) = &a.source {
        let ip = local_ip(host, addr.is_ipv6())?;
        sock.bind(&SockAddr::from(SocketAddr::new(ip, *port)))?;
    }
    if !options.bindtodevice.is_empty() {
        sock.bind_device(Some(&options.bindtodevice))?;
    }
    sock.set_nonblocking(true)?;
    match sock.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    let stream: std::net::TcpStream = sock.into();
    configure(&stream, options)?;
    Ok(Stream::Tcp(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wildcards_v6_and_sources() {
        let a = TcpAddress::parse("*:*", true).unwrap();
        assert_eq!((a.host.as_str(), a.port), ("*", 0));
        let b = TcpAddress::parse("[::1]:5555", false).unwrap();
        assert_eq!((b.host.as_str(), b.port), ("::1", 5555));
        let c = TcpAddress::parse("127.0.0.1:0;127.0.0.1:6000", false).unwrap();
        assert_eq!(c.source, Some(("127.0.0.1".to_owned(), 0)));
        assert_eq!(TcpAddress::parse("*:5555", false), Err(Error::Invalid));
        assert_eq!(TcpAddress::parse("host:0", false), Err(Error::Invalid));
        assert_eq!(TcpAddress::parse("host:port", true), Err(Error::Invalid));
        assert_eq!(TcpAddress::parse("nocolon", true), Err(Error::Invalid));
    }

    #[test]
    fn ephemeral_bind_reports_the_port() {
        let a = TcpAddress::parse("127.0.0.1:*", true).unwrap();
        let (_l, ep) = bind(&a, &Options::new(crate::consts::ZMQ_PULL)).unwrap();
        assert!(ep.starts_with("tcp://127.0.0.1:"));
        assert!(!ep.ends_with(":0"));
    }
}
