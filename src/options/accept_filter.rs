//! `ZMQ_TCP_ACCEPT_FILTER`: `address[/bits]` masks a TCP listener checks its peers against.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use crate::error::{Error, Result};

/// One accept filter: a numeric IP address and how many leading bits of it must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AcceptFilter {
    network: IpAddr,
    bits: u8,
}

impl AcceptFilter {
    /// Parses `address[/bits]` as libzmq's `tcp_address_mask_t` does: a numeric address (no
    /// names, an IPv6 one only when `ipv6`), then an optional mask of 0 up to the address's
    /// width; no mask means the whole address. EINVAL otherwise.
    pub(crate) fn parse(s: &str, ipv6: bool) -> Result<AcceptFilter> {
        let (addr, mask) = match s.rsplit_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (s, None),
        };
        let addr = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr);
        let network: IpAddr = addr.parse().map_err(|_| Error::Invalid)?;
        if network.is_ipv6() && !ipv6 {
            return Err(Error::Invalid);
        }
        let width: u8 = if network.is_ipv4() { 32 } else { 128 };
        let bits = match mask {
            None => width,
            Some(m) => {
                let b: u8 = m.parse().map_err(|_| Error::Invalid)?;
                if b > width {
                    return Err(Error::Invalid);
                }
                b
            }
        };
        Ok(AcceptFilter { network, bits })
    }

    /// True if `peer` lies in this filter's network (IPv4-mapped IPv6 peers count as IPv4).
    pub(crate) fn matches(&self, peer: IpAddr) -> bool {
        let bits = u32::from(self.bits);
        match (self.network, peer.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(p)) => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(n) & mask == u32::from(p) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(p)) => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(n) & mask == u128::from(p) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_like_libzmq() {
        let f = AcceptFilter::parse("127.0.0.1", false).unwrap();
        assert!(f.matches(ip("127.0.0.1")));
        assert!(!f.matches(ip("127.0.0.2")));
        for bad in [
            "",
            "localhost",
            "127.0.0.1/",
            "127.0.0.1/33",
            "10.0.0.0/x",
            "::1",
        ] {
            assert_eq!(
                AcceptFilter::parse(bad, false),
                Err(Error::Invalid),
                "{bad}"
            );
        }
        assert!(AcceptFilter::parse("::1", true).is_ok());
        assert!(AcceptFilter::parse("[::1]/128", true).is_ok());
        assert_eq!(AcceptFilter::parse("::1/129", true), Err(Error::Invalid));
    }

    #[test]
    fn masks_leading_bits() {
        let f = AcceptFilter::parse("10.1.0.0/16", false).unwrap();
        assert!(f.matches(ip("10.1.200.3")));
        assert!(!f.matches(ip("10.2.0.1")));
        assert!(f.matches(ip("::ffff:10.1.0.9")), "IPv4-mapped peer");
        assert!(!f.matches(ip("::1")));
        let any = AcceptFilter::parse("0.0.0.0/0", false).unwrap();
        assert!(any.matches(ip("192.0.2.1")));
        let v6 = AcceptFilter::parse("fe80::/10", true).unwrap();
        assert!(v6.matches(ip("fe80::1")));
        assert!(!v6.matches(ip("127.0.0.1")));
    }
}
