//! Socket options common to every socket type: storage, defaults, and libzmq's exact
//! `zmq_setsockopt`/`zmq_getsockopt` size and range rules.
//!
//! Layer L0 (depends on `error`, `consts`). Values arrive as the caller's raw bytes; integer
//! options need exactly `sizeof(int)` (or 8 bytes for the int64/uint64 ones), as libzmq checks.
//! Pattern-specific options (ROUTER_MANDATORY, SUBSCRIBE, ...) are handled by the socket's
//! pattern before these; transport and security options are stored here for the engines.
#![forbid(unsafe_code)]

mod accept_filter;
mod ipc_filter;
pub(crate) mod security;
mod value;

pub(crate) use accept_filter::AcceptFilter;
pub(crate) use ipc_filter::{IpcFilters, PeerCred};
pub(crate) use value::relaxed_bool_value;
use value::strict_bool_value;
pub(crate) use value::{bool_value, int_value, put_at_least, put_string};

use bytes::Bytes;

use crate::consts::*;
use crate::error::{Error, Result};

/// The options of one socket, with libzmq 4.3's defaults.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Socket type (ZMQ_PAIR ...).
    pub(crate) socket_type: i32,
    pub(crate) sndhwm: i32,
    pub(crate) rcvhwm: i32,
    pub(crate) affinity: u64,
    pub(crate) routing_id: Option<Bytes>,
    pub(crate) rate: i32,
    pub(crate) recovery_ivl: i32,
    pub(crate) sndbuf: i32,
    pub(crate) rcvbuf: i32,
    pub(crate) linger: i32,
    pub(crate) reconnect_ivl: i32,
    pub(crate) reconnect_ivl_max: i32,
    pub(crate) backlog: i32,
    pub(crate) maxmsgsize: i64,
    pub(crate) multicast_hops: i32,
    pub(crate) rcvtimeo: i32,
    pub(crate) sndtimeo: i32,
    pub(crate) ipv6: bool,
    pub(crate) immediate: bool,
    pub(crate) tcp_keepalive: i32,
    pub(crate) tcp_keepalive_cnt: i32,
    pub(crate) tcp_keepalive_idle: i32,
    pub(crate) tcp_keepalive_intvl: i32,
    /// Mechanism, credentials, keys and ZAP domain (`options/security.rs`).
    pub(crate) security: security::Security,
    pub(crate) tos: i32,
    pub(crate) handshake_ivl: i32,
    pub(crate) heartbeat_ivl: i32,
    pub(crate) heartbeat_ttl: i32,
    pub(crate) heartbeat_timeout: i32,
    pub(crate) connect_timeout: i32,
    pub(crate) tcp_maxrt: i32,
    pub(crate) multicast_maxtpdu: i32,
    pub(crate) use_fd: i32,
    pub(crate) conflate: bool,
    pub(crate) invert_matching: bool,
    pub(crate) connect_routing_id: Option<Bytes>,
    pub(crate) socks_proxy: Vec<u8>,
    pub(crate) bindtodevice: Vec<u8>,
    pub(crate) gssapi_server: bool,
    pub(crate) gssapi_plaintext: bool,
    pub(crate) zap_enforce_domain: bool,
    pub(crate) loopback_fastpath: bool,
    pub(crate) reconnect_stop: i32,
    /// STREAM sockets report connects and disconnects as empty frames.
    pub(crate) stream_notify: bool,
    /// `ZMQ_SWAP` budget in bytes (0 = off).
    pub(crate) swap: i64,
    /// `ZMQ_SWAP_DIR`.
    pub(crate) swap_dir: std::path::PathBuf,
    /// `ZMQ_DURABLE`.
    pub(crate) durable: bool,
    /// Raw TCP without ZMTP: STREAM sockets, and ROUTER with `ZMQ_ROUTER_RAW`.
    pub(crate) raw: bool,
    /// `ZMQ_METADATA` (draft): `X-` properties sent in the handshake.
    pub(crate) metadata: Vec<(String, Vec<u8>)>,
    /// `ZMQ_MULTICAST_LOOP` (draft; stored for pgm, which this build lacks).
    pub(crate) multicast_loop: bool,
    /// `ZMQ_IN_BATCH_SIZE` / `ZMQ_OUT_BATCH_SIZE` (draft).
    pub(crate) in_batch_size: i32,
    pub(crate) out_batch_size: i32,
    /// `ZMQ_DURABLE_IVL` in ms (-1 = forever).
    pub(crate) durable_ivl: i32,
    /// `ZMQ_TCP_ACCEPT_FILTER`: a TCP listener accepts only peers matching one (none = all).
    pub(crate) tcp_accept_filters: Vec<AcceptFilter>,
    /// `ZMQ_IPC_FILTER_PID` / `_UID` / `_GID`: the peers an ipc listener accepts (none = all).
    pub(crate) ipc_filters: IpcFilters,
}

impl Options {
    /// Defaults for a socket of `socket_type`.
    pub(crate) fn new(socket_type: i32) -> Options {
        Options {
            socket_type,
            sndhwm: 1000,
            rcvhwm: 1000,
            affinity: 0,
            routing_id: None,
            rate: 100,
            recovery_ivl: 10_000,
            sndbuf: -1,
            rcvbuf: -1,
            // libzmq lets SUB/XSUB sockets drop pending subscriptions at close.
            linger: if matches!(socket_type, ZMQ_SUB | ZMQ_XSUB) {
                0
            } else {
                -1
            },
            reconnect_ivl: 100,
            reconnect_ivl_max: 0,
            backlog: 100,
            maxmsgsize: -1,
            multicast_hops: 1,
            rcvtimeo: -1,
            sndtimeo: -1,
            ipv6: false,
            immediate: false,
            tcp_keepalive: -1,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            security: security::Security::default(),
            tos: 0,
            handshake_ivl: 30_000,
            heartbeat_ivl: 0,
            heartbeat_ttl: 0,
            heartbeat_timeout: -1,
            connect_timeout: 0,
            tcp_maxrt: 0,
            multicast_maxtpdu: 1500,
            use_fd: -1,
            conflate: false,
            invert_matching: false,
            connect_routing_id: None,
            socks_proxy: Vec::new(),
            bindtodevice: Vec::new(),
            gssapi_server: false,
            gssapi_plaintext: false,
            zap_enforce_domain: false,
            loopback_fastpath: false,
            reconnect_stop: 0,
            stream_notify: true,
            swap: 0,
            swap_dir: crate::pipe::swap::default_dir(),
            durable: false,
            durable_ivl: -1,
            raw: socket_type == ZMQ_STREAM,
            metadata: Vec::new(),
            multicast_loop: true,
            in_batch_size: 8192,
            out_batch_size: 8192,
            tcp_accept_filters: Vec::new(),
            ipc_filters: IpcFilters::default(),
        }
    }

    /// Applies `zmq_setsockopt(option, value)` for the common options.
    pub(crate) fn set(&mut self, option: i32, v: &[u8]) -> Result<()> {
        self.set_value(option, Some(v))
    }

    /// True for the options where a NULL value of length 0 means something of its own (it
    /// resets or clears them) and a non-NULL empty one is not the same; see [`Self::set_value`].
    pub(crate) fn null_is_distinct(option: i32) -> bool {
        security::Security::handles(option)
            || IpcFilters::handles(option)
            || matches!(
                option,
                ZMQ_TCP_ACCEPT_FILTER | ZMQ_SOCKS_PROXY | ZMQ_BINDTODEVICE
            )
    }

    /// `zmq_setsockopt` with the caller's pointer state kept: `None` is a NULL value with
    /// length 0, which resets the PLAIN credentials and clears the accept filters, the SOCKS
    /// proxy and the device (libzmq's rule; a non-NULL empty value is EINVAL for those).
    pub(crate) fn set_value(&mut self, option: i32, value: Option<&[u8]>) -> Result<()> {
        if security::Security::handles(option) {
            return self.security.set(option, value);
        }
        if IpcFilters::handles(option) {
            return self.ipc_filters.set(option, value);
        }
        if value.is_some_and(<[u8]>::is_empty)
            && matches!(
                option,
                ZMQ_TCP_ACCEPT_FILTER | ZMQ_SOCKS_PROXY | ZMQ_BINDTODEVICE
            )
        {
            return Err(Error::Invalid);
        }
        let v = value.unwrap_or_default();
        let nonneg = |v: &[u8]| -> Result<i32> {
            let x = int_value(v)?;
            if x < 0 { Err(Error::Invalid) } else { Ok(x) }
        };
        let from_minus_one = |v: &[u8]| -> Result<i32> {
            let x = int_value(v)?;
            if x < -1 { Err(Error::Invalid) } else { Ok(x) }
        };
        match option {
            ZMQ_SNDHWM => self.sndhwm = nonneg(v)?,
            ZMQ_RCVHWM => self.rcvhwm = nonneg(v)?,
            ZMQ_HWM => {
                let hwm = match v.len() {
                    4 => i64::from(int_value(v)?),
                    8 => value::i64_value(v)?,
                    _ => return Err(Error::Invalid),
                };
                let hwm = i32::try_from(hwm).map_err(|_| Error::Invalid)?;
                if hwm < 0 {
                    return Err(Error::Invalid);
                }
                self.sndhwm = hwm;
                self.rcvhwm = hwm;
            }
            ZMQ_AFFINITY => self.affinity = value::u64_value(v)?,
            ZMQ_ROUTING_ID => {
                if v.is_empty() || v.len() > 255 {
                    return Err(Error::Invalid);
                }
                self.routing_id = Some(Bytes::copy_from_slice(v));
            }
            // libzmq takes it on the routing sockets only (ROUTER, REP, STREAM).
            ZMQ_CONNECT_ROUTING_ID
                if matches!(self.socket_type, ZMQ_ROUTER | ZMQ_REP | ZMQ_STREAM) =>
            {
                if v.is_empty() || v.len() > 255 {
                    return Err(Error::Invalid);
                }
                self.connect_routing_id = Some(Bytes::copy_from_slice(v));
            }
            ZMQ_RATE => self.rate = positive(v)?,
            ZMQ_RECOVERY_IVL => self.recovery_ivl = nonneg(v)?,
            ZMQ_SNDBUF => self.sndbuf = from_minus_one(v)?,
            ZMQ_RCVBUF => self.rcvbuf = from_minus_one(v)?,
            ZMQ_LINGER => self.linger = from_minus_one(v)?,
            ZMQ_RECONNECT_IVL => self.reconnect_ivl = from_minus_one(v)?,
            ZMQ_RECONNECT_IVL_MAX => self.reconnect_ivl_max = nonneg(v)?,
            ZMQ_BACKLOG => self.backlog = nonneg(v)?,
            ZMQ_MAXMSGSIZE => self.maxmsgsize = value::i64_value(v)?,
            ZMQ_MULTICAST_HOPS => self.multicast_hops = positive(v)?,
            ZMQ_RCVTIMEO => self.rcvtimeo = from_minus_one(v)?,
            ZMQ_SNDTIMEO => self.sndtimeo = from_minus_one(v)?,
            ZMQ_IPV6 => self.ipv6 = strict_bool_value(v)?,
            ZMQ_IPV4ONLY => self.ipv6 = !strict_bool_value(v)?,
            ZMQ_IMMEDIATE => self.immediate = strict_bool_value(v)?,
            ZMQ_TCP_KEEPALIVE => {
                let x = int_value(v)?;
                if !(-1..=1).contains(&x) {
                    return Err(Error::Invalid);
                }
                self.tcp_keepalive = x;
            }
            ZMQ_TCP_KEEPALIVE_CNT => self.tcp_keepalive_cnt = from_minus_one(v)?,
            ZMQ_TCP_KEEPALIVE_IDLE => self.tcp_keepalive_idle = from_minus_one(v)?,
            ZMQ_TCP_KEEPALIVE_INTVL => self.tcp_keepalive_intvl = from_minus_one(v)?,
            ZMQ_TOS => self.tos = nonneg(v)?,
            ZMQ_HANDSHAKE_IVL => self.handshake_ivl = nonneg(v)?,
            ZMQ_HEARTBEAT_IVL => self.heartbeat_ivl = nonneg(v)?,
            ZMQ_HEARTBEAT_TTL => {
                // libzmq keeps it in deciseconds, rounded toward zero, and reads back that:
                // -99..-1 pass as 0 (no TTL), 250 reads back as 200.
                let ds = int_value(v)? / 100;
                if !(0..=0xffff).contains(&ds) {
                    return Err(Error::Invalid);
                }
                self.heartbeat_ttl = ds * 100;
            }
            // -1 (use ZMQ_HEARTBEAT_IVL) is the default, but not a value one may set.
            ZMQ_HEARTBEAT_TIMEOUT => self.heartbeat_timeout = nonneg(v)?,
            ZMQ_CONNECT_TIMEOUT => self.connect_timeout = nonneg(v)?,
            ZMQ_TCP_MAXRT => self.tcp_maxrt = nonneg(v)?,
            ZMQ_MULTICAST_MAXTPDU => self.multicast_maxtpdu = positive(v)?,
            ZMQ_USE_FD => self.use_fd = from_minus_one(v)?,
            ZMQ_CONFLATE => self.conflate = strict_bool_value(v)?,
            ZMQ_INVERT_MATCHING => self.invert_matching = relaxed_bool_value(v)?,
            ZMQ_STREAM_NOTIFY if self.socket_type == ZMQ_STREAM => {
                self.stream_notify = strict_bool_value(v)?
            }
            ZMQ_SWAP => {
                // int64 as in 2.x; a plain int is accepted too, as for ZMQ_HWM.
                let budget = match v.len() {
                    4 => i64::from(int_value(v)?),
                    _ => value::i64_value(v)?,
                };
                if budget < 0 {
                    return Err(Error::Invalid);
                }
                self.swap = budget;
            }
            ZMQ_SWAP_DIR => {
                let dir = short_string(v)?;
                let dir = if dir.is_empty() {
                    crate::pipe::swap::default_dir()
                } else {
                    let s = String::from_utf8(dir).map_err(|_| Error::Invalid)?;
                    std::path::PathBuf::from(s)
                };
                crate::pipe::swap::check_dir(&dir)?;
                self.swap_dir = dir;
            }
            ZMQ_DURABLE => self.durable = bool_value(v)?,
            ZMQ_DURABLE_IVL => self.durable_ivl = from_minus_one(v)?,
            ZMQ_SOCKS_PROXY => self.socks_proxy = v.to_vec(),
            // An interface name: at most 16 bytes, kept as given (libzmq's BINDDEVSIZ).
            ZMQ_BINDTODEVICE if v.len() > 16 => return Err(Error::Invalid),
            ZMQ_BINDTODEVICE => self.bindtodevice = v.to_vec(),
            // Each call adds a filter; a NULL value clears them (no getsockopt, as libzmq).
            ZMQ_TCP_ACCEPT_FILTER => {
                if v.is_empty() {
                    self.tcp_accept_filters.clear();
                } else if v.len() >= 255 {
                    return Err(Error::Invalid);
                } else {
                    let s = String::from_utf8(short_string(v)?).map_err(|_| Error::Invalid)?;
                    let f = AcceptFilter::parse(&s, self.ipv6)?;
                    self.tcp_accept_filters.push(f);
                }
            }
            ZMQ_GSSAPI_SERVER
            | ZMQ_GSSAPI_PLAINTEXT
            | ZMQ_GSSAPI_PRINCIPAL
            | ZMQ_GSSAPI_SERVICE_PRINCIPAL
            | ZMQ_GSSAPI_PRINCIPAL_NAMETYPE
            | ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE => return Err(Error::Invalid),
            crate::consts::draft::ZMQ_ZAP_ENFORCE_DOMAIN => {
                self.zap_enforce_domain = relaxed_bool_value(v)?
            }
            crate::consts::draft::ZMQ_LOOPBACK_FASTPATH => {
                self.loopback_fastpath = relaxed_bool_value(v)?
            }
            crate::consts::draft::ZMQ_RECONNECT_STOP => self.reconnect_stop = int_value(v)?,
            crate::consts::draft::ZMQ_MULTICAST_LOOP => {
                self.multicast_loop = relaxed_bool_value(v)?
            }
            crate::consts::draft::ZMQ_METADATA => {
                // "X-Name:value", as libzmq: the name starts with "X-" and fits in 255 octets.
                let text = std::str::from_utf8(v).map_err(|_| Error::Invalid)?;
                let text = text.trim_end_matches('\0');
                let (name, value) = text.split_once(':').ok_or(Error::Invalid)?;
                if !name.starts_with("X-") || name.len() > 255 || value.is_empty() {
                    return Err(Error::Invalid);
                }
                match self.metadata.iter_mut().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = value.as_bytes().to_vec(),
                    None => self
                        .metadata
                        .push((name.to_owned(), value.as_bytes().to_vec())),
                }
            }
            crate::consts::draft::ZMQ_IN_BATCH_SIZE => self.in_batch_size = positive(v)?,
            crate::consts::draft::ZMQ_OUT_BATCH_SIZE => self.out_batch_size = positive(v)?,
            _ => return Err(Error::Invalid),
        }
        Ok(())
    }

    /// Answers `zmq_getsockopt(option)` for the common options into `out`, returning the
    /// number of bytes written.
    pub(crate) fn get(&self, option: i32, out: &mut [u8]) -> Result<usize> {
        if security::Security::handles(option) {
            return self.security.get(option, out);
        }
        let int = |x: i32, out: &mut [u8]| value::put_exact(out, &x.to_ne_bytes());
        match option {
            ZMQ_TYPE => int(self.socket_type, out),
            // The 2.x options read back in either size they may be set with.
            ZMQ_HWM if out.len() == 8 => {
                value::put_exact(out, &i64::from(self.sndhwm).to_ne_bytes())
            }
            ZMQ_SNDHWM | ZMQ_HWM => int(self.sndhwm, out),
            ZMQ_RCVHWM => int(self.rcvhwm, out),
            ZMQ_AFFINITY => value::put_exact(out, &self.affinity.to_ne_bytes()),
            ZMQ_ROUTING_ID => value::put_binary(out, self.routing_id.as_deref().unwrap_or(&[])),
            ZMQ_RATE => int(self.rate, out),
            ZMQ_RECOVERY_IVL => int(self.recovery_ivl, out),
            ZMQ_SNDBUF => int(self.sndbuf, out),
            ZMQ_RCVBUF => int(self.rcvbuf, out),
            ZMQ_LINGER => int(self.linger, out),
            ZMQ_RECONNECT_IVL => int(self.reconnect_ivl, out),
            ZMQ_RECONNECT_IVL_MAX => int(self.reconnect_ivl_max, out),
            ZMQ_BACKLOG => int(self.backlog, out),
            ZMQ_MAXMSGSIZE => value::put_exact(out, &self.maxmsgsize.to_ne_bytes()),
            ZMQ_MULTICAST_HOPS => int(self.multicast_hops, out),
            ZMQ_RCVTIMEO => int(self.rcvtimeo, out),
            ZMQ_SNDTIMEO => int(self.sndtimeo, out),
            ZMQ_IPV6 => int(i32::from(self.ipv6), out),
            ZMQ_IPV4ONLY => int(i32::from(!self.ipv6), out),
            ZMQ_IMMEDIATE => int(i32::from(self.immediate), out),
            ZMQ_TCP_KEEPALIVE => int(self.tcp_keepalive, out),
            ZMQ_TCP_KEEPALIVE_CNT => int(self.tcp_keepalive_cnt, out),
            ZMQ_TCP_KEEPALIVE_IDLE => int(self.tcp_keepalive_idle, out),
            ZMQ_TCP_KEEPALIVE_INTVL => int(self.tcp_keepalive_intvl, out),
            ZMQ_TOS => int(self.tos, out),
            ZMQ_HANDSHAKE_IVL => int(self.handshake_ivl, out),
            ZMQ_HEARTBEAT_IVL => int(self.heartbeat_ivl, out),
            ZMQ_HEARTBEAT_TTL => int(self.heartbeat_ttl, out),
            ZMQ_HEARTBEAT_TIMEOUT => int(self.heartbeat_timeout, out),
            ZMQ_CONNECT_TIMEOUT => int(self.connect_timeout, out),
            ZMQ_TCP_MAXRT => int(self.tcp_maxrt, out),
            ZMQ_MULTICAST_MAXTPDU => int(self.multicast_maxtpdu, out),
            ZMQ_USE_FD => int(self.use_fd, out),
            ZMQ_CONFLATE => int(i32::from(self.conflate), out),
            ZMQ_INVERT_MATCHING => int(i32::from(self.invert_matching), out),
            ZMQ_SOCKS_PROXY => value::put_string(out, &self.socks_proxy),
            ZMQ_SWAP if out.len() == 4 => {
                int(i32::try_from(self.swap).map_err(|_| Error::Invalid)?, out)
            }
            ZMQ_SWAP => value::put_exact(out, &self.swap.to_ne_bytes()),
            ZMQ_SWAP_DIR => value::put_string(out, self.swap_dir.as_os_str().as_encoded_bytes()),
            ZMQ_DURABLE => int(i32::from(self.durable), out),
            ZMQ_DURABLE_IVL => int(self.durable_ivl, out),
            ZMQ_BINDTODEVICE => value::put_string(out, &self.bindtodevice),
            ZMQ_GSSAPI_SERVER => int(i32::from(self.gssapi_server), out),
            ZMQ_GSSAPI_PLAINTEXT => int(i32::from(self.gssapi_plaintext), out),
            crate::consts::draft::ZMQ_ZAP_ENFORCE_DOMAIN => {
                int(i32::from(self.zap_enforce_domain), out)
            }
            crate::consts::draft::ZMQ_LOOPBACK_FASTPATH => {
                int(i32::from(self.loopback_fastpath), out)
            }
            crate::consts::draft::ZMQ_RECONNECT_STOP => int(self.reconnect_stop, out),
            crate::consts::draft::ZMQ_MULTICAST_LOOP => int(i32::from(self.multicast_loop), out),
            crate::consts::draft::ZMQ_IN_BATCH_SIZE => int(self.in_batch_size, out),
            crate::consts::draft::ZMQ_OUT_BATCH_SIZE => int(self.out_batch_size, out),
            _ => Err(Error::Invalid),
        }
    }
}

impl Options {
    /// The overflow store for this socket's outbound pipes, if `ZMQ_SWAP` is on.
    pub(crate) fn out_swap(&self) -> Option<crate::pipe::swap::SwapConfig> {
        (self.swap > 0).then(|| crate::pipe::swap::SwapConfig {
            budget: self.swap as u64,
            dir: self.swap_dir.clone(),
        })
    }
}

fn positive(v: &[u8]) -> Result<i32> {
    let x = int_value(v)?;
    if x <= 0 { Err(Error::Invalid) } else { Ok(x) }
}

fn short_string(v: &[u8]) -> Result<Vec<u8>> {
    if v.len() > 255 {
        return Err(Error::Invalid);
    }
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    Ok(v[..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_int(o: &Options, opt: i32) -> i32 {
        let mut b = [0u8; 4];
        assert_eq!(o.get(opt, &mut b).unwrap(), 4);
        i32::from_ne_bytes(b)
    }

    #[test]
    fn defaults_match_libzmq() {
        let o = Options::new(ZMQ_DEALER);
        assert_eq!(get_int(&o, ZMQ_SNDHWM), 1000);
        assert_eq!(get_int(&o, ZMQ_LINGER), -1);
        assert_eq!(get_int(&o, ZMQ_HANDSHAKE_IVL), 30000);
        assert_eq!(get_int(&Options::new(ZMQ_SUB), ZMQ_LINGER), 0);
    }

    #[test]
    fn int_options_need_exact_size() {
        let mut o = Options::new(ZMQ_PUSH);
        assert_eq!(o.set(ZMQ_SNDHWM, &5i64.to_ne_bytes()), Err(Error::Invalid));
        let mut big = [0u8; 8];
        assert_eq!(o.get(ZMQ_SNDHWM, &mut big), Err(Error::Invalid));
        o.set(ZMQ_SNDHWM, &5i32.to_ne_bytes()).unwrap();
        assert_eq!(get_int(&o, ZMQ_SNDHWM), 5);
    }

    #[test]
    fn legacy_hwm_accepts_4_or_8_bytes_and_sets_both() {
        let mut o = Options::new(ZMQ_PUB);
        o.set(ZMQ_HWM, &7i64.to_ne_bytes()).unwrap();
        assert_eq!((o.sndhwm, o.rcvhwm), (7, 7));
        o.set(ZMQ_HWM, &9i32.to_ne_bytes()).unwrap();
        assert_eq!(get_int(&o, ZMQ_HWM), 9);
        assert_eq!(o.set(ZMQ_HWM, &[1, 2]), Err(Error::Invalid));
        assert_eq!(o.set(ZMQ_HWM, &(-1i32).to_ne_bytes()), Err(Error::Invalid));
    }

    #[test]
    fn legacy_hwm_and_swap_read_back_as_4_or_8_bytes() {
        let mut o = Options::new(ZMQ_PUB);
        o.set(ZMQ_HWM, &7i32.to_ne_bytes()).unwrap();
        let mut b8 = [0u8; 8];
        assert_eq!(o.get(ZMQ_HWM, &mut b8), Ok(8));
        assert_eq!(i64::from_ne_bytes(b8), 7);
        o.set(ZMQ_SWAP, &25_000_000i32.to_ne_bytes()).unwrap();
        assert_eq!(get_int(&o, ZMQ_SWAP), 25_000_000);
        assert_eq!(o.get(ZMQ_SWAP, &mut b8), Ok(8));
        assert_eq!(i64::from_ne_bytes(b8), 25_000_000);
        // A budget an int cannot hold is read as an int64 only.
        o.set(ZMQ_SWAP, &(5i64 << 32).to_ne_bytes()).unwrap();
        assert_eq!(o.get(ZMQ_SWAP, &mut [0u8; 4]), Err(Error::Invalid));
        assert_eq!(o.get(ZMQ_SWAP, &mut b8), Ok(8));
        assert_eq!(i64::from_ne_bytes(b8), 5 << 32);
        assert_eq!(o.get(ZMQ_SWAP, &mut [0u8; 2]), Err(Error::Invalid));
        assert_eq!(o.get(ZMQ_HWM, &mut [0u8; 2]), Err(Error::Invalid));
    }

    #[test]
    fn routing_id_is_1_to_255_bytes() {
        let mut o = Options::new(ZMQ_DEALER);
        assert_eq!(o.set(ZMQ_ROUTING_ID, b""), Err(Error::Invalid));
        assert_eq!(o.set(ZMQ_ROUTING_ID, &[1u8; 256]), Err(Error::Invalid));
        o.set(ZMQ_ROUTING_ID, b"abc").unwrap();
        let mut out = [0u8; 255];
        assert_eq!(o.get(ZMQ_ROUTING_ID, &mut out).unwrap(), 3);
    }

    #[test]
    fn connect_routing_id_is_for_routing_sockets_only() {
        for t in [ZMQ_ROUTER, ZMQ_REP, ZMQ_STREAM] {
            Options::new(t).set(ZMQ_CONNECT_ROUTING_ID, b"id").unwrap();
        }
        for t in [ZMQ_DEALER, ZMQ_REQ, ZMQ_PAIR, ZMQ_PUB, ZMQ_PUSH] {
            let r = Options::new(t).set(ZMQ_CONNECT_ROUTING_ID, b"id");
            assert_eq!(r, Err(Error::Invalid));
        }
    }

    #[test]
    fn linger_and_timeouts_reject_below_minus_one() {
        let mut o = Options::new(ZMQ_REQ);
        assert_eq!(
            o.set(ZMQ_LINGER, &(-2i32).to_ne_bytes()),
            Err(Error::Invalid)
        );
        o.set(ZMQ_RCVTIMEO, &(-1i32).to_ne_bytes()).unwrap();
    }

    #[test]
    fn unknown_option_is_einval() {
        let mut o = Options::new(ZMQ_REQ);
        assert_eq!(o.set(9999, &0i32.to_ne_bytes()), Err(Error::Invalid));
        assert_eq!(o.get(9999, &mut [0u8; 4]), Err(Error::Invalid));
    }
}
