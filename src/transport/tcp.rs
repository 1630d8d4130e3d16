//! TCP addresses (`tcp://host:port`, `tcp://*:port`, `tcp://*:*`, `tcp://[v6]:port`, interface
//! names, `tcp://source;destination`), listeners and non-blocking connects.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{ConnectError, Listener, Stream};
use crate::error::{Error, Result};
use crate::options::Options;

/// A TCP address. A bind address is checked when parsed (`zmq_bind` fails at once, as in
/// libzmq); a connect address only passes libzmq's quick syntax check and is resolved at each
/// attempt, so one that cannot resolve is retried like an unreachable host (libzmq accepts
/// `tcp://host:0` or `tcp://:5555` in `zmq_connect` the same way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TcpAddress {
    /// A bind's: host (`*`, an IP literal without brackets or an interface name) and port
    /// (0 = any), checked.
    Bind { host: String, port: u16 },
    /// A connect's, as written after `tcp://`: the local address to bind first (the `source;`
    /// part) and the destination `host:port`.
    Connect {
        source: Option<String>,
        dest: String,
    },
}

/// A port as libzmq reads one: `*` (only where bindable) and `0` are 0, anything else is read
/// like C's `atoi` (leading blanks, a sign, digits up to the first non-digit) and truncated to
/// 16 bits; a result of 0 is EINVAL. So `5555x` is 5555 and `99999` is 34463, as in libzmq.
fn parse_port(port: &str, bindable: bool) -> Result<u16> {
    match port {
        "*" if bindable => return Ok(0),
        "0" => return Ok(0),
        _ => {}
    }
    let t = port.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut value: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    let value = if negative { -value } else { value };
    match value as i32 as u16 {
        0 => Err(Error::Invalid),
        p => Ok(p),
    }
}

/// Splits `host:port` at the last colon; brackets around the host are dropped.
fn split_host_port(s: &str) -> Result<(&str, &str)> {
    let (host, port) = s.rsplit_once(':').ok_or(Error::Invalid)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok((host, port))
}

/// libzmq's quick check of a connect address: the characters of host names and IP literals
/// (with `[]`, `%zone`, `;` and `*`), and a port after the last colon that starts with a digit.
fn passes_connect_check(address: &str) -> bool {
    let b = address.as_bytes();
    let first_ok = b
        .first()
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'[' || c == b':');
    let body_ok = b
        .iter()
        .skip(1)
        .all(|&c| c.is_ascii_alphanumeric() || b".-:%;[]_*".contains(&c));
    let port_ok = address
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.as_bytes().first().is_some_and(u8::is_ascii_digit));
    first_ok && body_ok && port_ok
}

impl TcpAddress {
    /// Parses the part after `tcp://` for a bind (checked now) or a connect (checked at each
    /// attempt, after libzmq's quick syntax check).
    pub(crate) fn parse(address: &str, for_bind: bool) -> Result<TcpAddress> {
        if !for_bind {
            if !passes_connect_check(address) {
                return Err(Error::Invalid);
            }
            let (source, dest) = match address.rsplit_once(';') {
                Some((s, d)) => (Some(s.to_owned()), d),
                None => (None, address),
            };
            return Ok(TcpAddress::Connect {
                source,
                dest: dest.to_owned(),
            });
        }
        if address.contains(';') {
            return Err(Error::Invalid);
        }
        let (host, port) = split_host_port(address)?;
        let port = parse_port(port, true)?;
        Ok(TcpAddress::Bind {
            host: host.to_owned(),
            port,
        })
    }
}

/// The local address `host` names for a bind: `*`, an IP literal or an interface name; no DNS,
/// as in libzmq (ENODEV otherwise). The family follows `ZMQ_IPV6`, as libzmq's resolver makes
/// it: while it is on, an IPv4 literal binds its IPv4-mapped IPv6 address (a dual-stack
/// socket) and an interface its IPv6 address; while it is off, an IPv4-mapped IPv6 literal
/// binds its IPv4 address and an interface its IPv4 one.
fn local_ip(host: &str, ipv6: bool) -> Result<IpAddr> {
    if host == "*" {
        return Ok(if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match ip {
            IpAddr::V6(v6) if !ipv6 => v6.to_ipv4_mapped().map(IpAddr::V4).ok_or(Error::NoDevice),
            IpAddr::V4(v4) if ipv6 => Ok(IpAddr::V6(v4.to_ipv6_mapped())),
            _ => Ok(ip),
        };
    }
    if let Some(ip) = crate::sys::interface_address(host, ipv6) {
        return Ok(ip);
    }
    // The short IPv4 forms libzmq's numeric getaddrinfo takes ("127.1", "0x7f000001").
    match inet_aton(host) {
        Some(v4) if ipv6 => Ok(IpAddr::V6(v4.to_ipv6_mapped())),
        Some(v4) => Ok(IpAddr::V4(v4)),
        None => Err(Error::NoDevice),
    }
}

/// An IPv4 address in any form `inet_aton(3)` reads: one to four parts separated by dots, each
/// decimal, octal (leading 0) or hexadecimal (0x), the last part filling the octets left.
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u32> = s
        .split('.')
        .map(|p| {
            let (digits, radix) = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                Some(hex) => (hex, 16),
                None if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
                None => (p, 10),
            };
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            u32::from_str_radix(digits, radix).ok()
        })
        .collect::<Option<_>>()?;
    let (last, leading) = parts.split_last()?;
    if leading.len() > 3 || leading.iter().any(|&p| p > 0xff) {
        return None;
    }
    let last_bits = 8 * (4 - leading.len() as u32);
    if last_bits < 32 && *last >> last_bits != 0 {
        return None;
    }
    let head = leading
        .iter()
        .enumerate()
        .fold(0u32, |acc, (i, &p)| acc | p << (24 - 8 * i as u32));
    Some(Ipv4Addr::from(head | last))
}

/// The local address of a connect's `source` part (`host:port`, port `*` or `0` for any).
fn source_addr(source: &str, ipv6: bool) -> Result<SocketAddr> {
    let (host, port) = split_host_port(source)?;
    Ok(SocketAddr::new(
        local_ip(host, ipv6)?,
        parse_port(port, true)?,
    ))
}

/// The remote address of a connect attempt: host names are looked up now, so a changed DNS
/// answer is picked up on reconnect; anything that does not resolve is EHOSTUNREACH.
fn remote_addr(dest: &str, ipv6: bool) -> Result<SocketAddr> {
    let (host, port) = split_host_port(dest).map_err(|_| Error::HostUnreachable)?;
    let port = parse_port(port, false).map_err(|_| Error::HostUnreachable)?;
    if host.is_empty() {
        return Err(Error::HostUnreachable);
    }
    (host, port)
        .to_socket_addrs()
        .map_err(|_| Error::HostUnreachable)?
        .find(|ad| ipv6 || ad.is_ipv4())
        .ok_or(Error::HostUnreachable)
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

/// The name `ZMQ_LAST_ENDPOINT` would give the address after `tcp://` once resolved as a
/// remote one (`127.0.0.1:00080` is `tcp://127.0.0.1:80`): how `zmq_unbind` finds a bind named
/// in another spelling, as libzmq does. None when it does not resolve.
pub(crate) fn resolved_name(address: &str, ipv6: bool) -> Option<String> {
    let mut addr = remote_addr(address, ipv6).ok()?;
    // As a bind with ZMQ_IPV6 names an IPv4 address (see `local_ip`).
    if let (true, IpAddr::V4(v4)) = (ipv6, addr.ip()) {
        addr.set_ip(IpAddr::V6(v4.to_ipv6_mapped()));
    }
    Some(format(addr))
}

pub(super) fn bind(a: &TcpAddress, options: &Options) -> Result<(Listener, String)> {
    if options.use_fd >= 0 {
        // ZMQ_USE_FD: the application's listening socket, already bound (the address given is
        // not used, as in libzmq).
        let (fd, guard) = crate::sys::adopt_listener(options.use_fd, libc::AF_INET)?;
        let listener = std::net::TcpListener::from(fd);
        listener.set_nonblocking(true)?;
        let bound = listener.local_addr()?;
        return Ok((Listener::Tcp(listener, Some(guard)), format(bound)));
    }
    let TcpAddress::Bind { host, port } = a else {
        return Err(Error::Invalid);
    };
    let addr = SocketAddr::new(local_ip(host, options.ipv6)?, *port);
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
    Ok((Listener::Tcp(listener, None), format(bound)))
}

/// The target of a connect as a SOCKS5 request names it (host as written, port), for a
/// connect made through `ZMQ_SOCKS_PROXY`; EHOSTUNREACH when it has no valid port.
pub(crate) fn socks_target(a: &TcpAddress) -> Result<(String, u16)> {
    let TcpAddress::Connect { dest, .. } = a else {
        return Err(Error::Invalid);
    };
    let (host, port) = split_host_port(dest).map_err(|_| Error::HostUnreachable)?;
    let port = parse_port(port, false).map_err(|_| Error::HostUnreachable)?;
    Ok((host.to_owned(), port))
}

/// Starts a non-blocking connect to the address, or to the SOCKS5 proxy `ZMQ_SOCKS_PROXY`
/// names (`host:port`), which the session then asks for the address.
pub(super) fn connect(
    a: &TcpAddress,
    options: &Options,
) -> std::result::Result<Stream, ConnectError> {
    let TcpAddress::Connect { source, dest } = a else {
        return Err(Error::Invalid.into());
    };
    let addr = if options.socks_proxy.is_empty() {
        remote_addr(dest, options.ipv6)?
    } else {
        let proxy =
            std::str::from_utf8(&options.socks_proxy).map_err(|_| Error::HostUnreachable)?;
        remote_addr(proxy, options.ipv6)?
    };
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    let fd = sock.as_raw_fd();
    start_connect(sock, addr, source.as_deref(), options).map_err(|e| ConnectError::on(fd, e))
}

/// Sets up `sock` (bound first to `source`, when given) and starts its non-blocking connect
/// to `addr`.
fn start_connect(
    sock: Socket,
    addr: SocketAddr,
    source: Option<&str>,
    options: &Options,
) -> Result<Stream> {
    sock.set_cloexec(true)?;
    if let Some(source) = source {
        sock.bind(&SockAddr::from(source_addr(source, addr.is_ipv6())?))?;
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
    fn bind_addresses_are_checked_at_once() {
        let bind = |s| TcpAddress::parse(s, true);
        let at = |host: &str, port| TcpAddress::Bind {
            host: host.to_owned(),
            port,
        };
        assert_eq!(bind("*:*"), Ok(at("*", 0)));
        assert_eq!(bind("[::1]:5555"), Ok(at("::1", 5555)));
        for bad in ["host:port", "nocolon", "127.0.0.1;127.0.0.1:1", "h:65536"] {
            assert_eq!(bind(bad), Err(Error::Invalid), "{bad}");
        }
    }

    #[test]
    fn ports_read_as_libzmq_reads_them() {
        assert_eq!(parse_port("5555", false), Ok(5555));
        assert_eq!(parse_port("*", true), Ok(0));
        assert_eq!(parse_port("*", false), Err(Error::Invalid));
        assert_eq!(parse_port("0", false), Ok(0));
        assert_eq!(parse_port("00080", false), Ok(80));
        assert_eq!(parse_port("5555x", true), Ok(5555), "atoi stops at the x");
        assert_eq!(parse_port(" 5555\n", true), Ok(5555));
        assert_eq!(parse_port("99999", true), Ok(34463), "truncated to 16 bits");
        assert_eq!(parse_port("-1", true), Ok(65535));
        assert_eq!(parse_port("65536", true), Err(Error::Invalid));
        assert_eq!(parse_port("abc", true), Err(Error::Invalid));
        assert_eq!(parse_port("", true), Err(Error::Invalid));
    }

    #[test]
    fn connect_addresses_pass_a_quick_check_and_resolve_per_attempt() {
        assert_eq!(
            TcpAddress::parse("127.0.0.1:0;127.0.0.1:6000", false),
            Ok(TcpAddress::Connect {
                source: Some("127.0.0.1:0".to_owned()),
                dest: "127.0.0.1:6000".to_owned(),
            })
        );
        // Refused at once: a port that does not start with a digit, characters outside the
        // quick check's set.
        for bad in [
            "*:5555",
            "host:port",
            "h:*",
            "nocolon",
            "127.0.0.1:5555 ",
            "a/b:1",
        ] {
            assert_eq!(TcpAddress::parse(bad, false), Err(Error::Invalid), "{bad}");
        }
        // Taken, then unresolvable at every attempt.
        for late in [":5555", "127.0.0.1:65536", "127.0.0.1:5555;"] {
            let Ok(TcpAddress::Connect { dest, .. }) = TcpAddress::parse(late, false) else {
                panic!("{late} is taken");
            };
            assert_eq!(
                remote_addr(&dest, false),
                Err(Error::HostUnreachable),
                "{late}"
            );
        }
        assert_eq!(remote_addr("[::ffff:127.0.0.1]:7", true).unwrap().port(), 7);
        assert!(
            remote_addr("127.0.0.1:0", false).is_ok(),
            "port 0: refused by the kernel"
        );
    }

    #[test]
    fn short_ipv4_forms_read_as_inet_aton_reads_them() {
        let v4 = |s| inet_aton(s).map(|a| a.to_string());
        assert_eq!(v4("127.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("2130706433").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("010.0.0.1").as_deref(), Some("8.0.0.1"), "octal");
        assert_eq!(v4("1.2.3.4").as_deref(), Some("1.2.3.4"));
        for bad in [
            "",
            "1.2.3.4.5",
            "256.1",
            "1.2.65536",
            "08",
            "0x",
            "a.b",
            "1..2",
            "localhost",
        ] {
            assert_eq!(v4(bad), None, "{bad}");
        }
        assert_eq!(
            local_ip("127.1", false),
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
    }

    #[test]
    fn local_addresses_take_no_dns() {
        assert_eq!(local_ip("localhost", false), Err(Error::NoDevice));
        assert_eq!(local_ip("", false), Err(Error::NoDevice));
        assert_eq!(
            local_ip("::ffff:127.0.0.1", false),
            Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        assert_eq!(local_ip("::1", false), Err(Error::NoDevice));
        assert_eq!(local_ip("lo", false), Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        // With ZMQ_IPV6 on: the IPv4-mapped address, the interface's IPv6 one.
        assert_eq!(
            local_ip("127.0.0.1", true),
            Ok(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()))
        );
        if crate::sys::interface_address("lo", true).is_some() {
            assert_eq!(local_ip("lo", true), Ok(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        }
    }

    #[test]
    fn ephemeral_bind_reports_the_port() {
        let a = TcpAddress::parse("127.0.0.1:*", true).unwrap();
        let (_l, ep) = bind(&a, &Options::new(crate::consts::ZMQ_PULL)).unwrap();
        assert!(ep.starts_with("tcp://127.0.0.1:"));
        assert!(!ep.ends_with(":0"));
    }
}
