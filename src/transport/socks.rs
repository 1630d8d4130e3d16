//! The client side of a SOCKS5 CONNECT (RFC 1928, no authentication), for tcp connects made
//! through `ZMQ_SOCKS_PROXY`: sans-IO, the session moves the bytes.
//!
//! The client sends its greeting (one method: no authentication) and, once the proxy accepts
//! it, a CONNECT request naming the target as an IPv4 or IPv6 address, or as a domain name the
//! proxy resolves (as libzmq sends it); the proxy's reply ends the exchange, and the stream
//! then carries the target's bytes. The reply is read exactly ([`SocksClient::wanted`]), so
//! that none of the target's first bytes is taken with it.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use crate::error::{Error, Result};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

#[derive(Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for the proxy's choice of method (2 octets).
    Choice,
    /// Waiting for the reply's first 5 octets (up to the address length of a domain).
    ReplyHead,
    /// Waiting for the rest of the reply (address and port).
    ReplyTail(usize),
    Done,
}

/// One SOCKS5 exchange.
#[derive(Debug)]
pub(crate) struct SocksClient {
    stage: Stage,
    request: Vec<u8>,
    out: Vec<u8>,
    input: Vec<u8>,
}

impl SocksClient {
    /// An exchange that will ask the proxy to connect to `host`:`port`; EINVAL for a host name
    /// longer than SOCKS can carry (255 octets) or empty.
    pub(crate) fn new(host: &str, port: u16) -> Result<SocksClient> {
        let mut request = vec![VERSION, CONNECT, 0];
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => {
                request.push(ATYP_IPV4);
                request.extend_from_slice(&ip.octets());
            }
            Ok(IpAddr::V6(ip)) => {
                request.push(ATYP_IPV6);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                let len = u8::try_from(host.len()).map_err(|_| Error::Invalid)?;
                if len == 0 {
                    return Err(Error::Invalid);
                }
                request.push(ATYP_DOMAIN);
                request.push(len);
                request.extend_from_slice(host.as_bytes());
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        Ok(SocksClient {
            stage: Stage::Choice,
            request,
            out: vec![VERSION, 1, NO_AUTH],
            input: Vec::new(),
        })
    }

    /// Octets to send now.
    pub(crate) fn output(&self) -> &[u8] {
        &self.out
    }

    /// `n` octets of [`Self::output`] were sent.
    pub(crate) fn sent(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// How many octets to read next (never more than the exchange needs); 0 once done.
    pub(crate) fn wanted(&self) -> usize {
        let need = match self.stage {
            Stage::Choice => 2,
            Stage::ReplyHead => 5,
            Stage::ReplyTail(total) => total,
            Stage::Done => return 0,
        };
        need - self.input.len()
    }

    /// True once the proxy has connected to the target and all output is sent.
    pub(crate) fn is_done(&self) -> bool {
        self.stage == Stage::Done && self.out.is_empty()
    }

    /// Takes octets read from the proxy (at most [`Self::wanted`]). An error ends the
    /// exchange: EPROTO for a reply that is not SOCKS5 or a method we did not offer,
    /// ECONNREFUSED when the proxy could not (or would not) connect.
    pub(crate) fn received(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.len() > self.wanted() {
            return Err(Error::Os(libc::EPROTO));
        }
        self.input.extend_from_slice(bytes);
        if self.wanted() > 0 {
            return Ok(());
        }
        match self.stage {
            Stage::Choice => {
                if self.input != [VERSION, NO_AUTH] {
                    return Err(Error::Os(libc::EPROTO));
                }
                self.input.clear();
                self.out.append(&mut self.request);
                self.stage = Stage::ReplyHead;
            }
            Stage::ReplyHead => {
                if self.input[0] != VERSION || self.input[2] != 0 {
                    return Err(Error::Os(libc::EPROTO));
                }
                if self.input[1] != 0 {
                    return Err(Error::Os(libc::ECONNREFUSED));
                }
                // VER REP RSV ATYP, the address, then the 2-octet port; a domain's address
                // starts with its length (the fifth octet already read).
                let total = match self.input[3] {
                    ATYP_IPV4 => 4 + 4 + 2,
                    ATYP_IPV6 => 4 + 16 + 2,
                    ATYP_DOMAIN => 4 + 1 + usize::from(self.input[4]) + 2,
                    _ => return Err(Error::Os(libc::EPROTO)),
                };
                self.stage = Stage::ReplyTail(total);
            }
            Stage::ReplyTail(_) => self.stage = Stage::Done,
            Stage::Done => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs an exchange against canned proxy answers fed `chunk` octets at a time; returns the
    /// bytes the client sent.
    fn run(host: &str, port: u16, answers: &[u8], chunk: usize) -> Result<Vec<u8>> {
        let mut c = SocksClient::new(host, port)?;
        let mut sent = Vec::new();
        let mut answers = answers;
        while !c.is_done() {
            sent.extend_from_slice(c.output());
            let n = c.output().len();
            c.sent(n);
            let take = c.wanted().min(chunk).min(answers.len());
            if take == 0 && !c.is_done() {
                return Err(Error::Again);
            }
            c.received(&answers[..take])?;
            answers = &answers[take..];
        }
        assert!(answers.is_empty(), "read exactly the exchange");
        Ok(sent)
    }

    const OK_V4: [u8; 12] = [5, 0, 5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90];

    #[test]
    fn an_ipv4_target_goes_as_four_octets() {
        let sent = run("127.0.0.1", 5555, &OK_V4, 64).unwrap();
        assert_eq!(sent, [5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0x15, 0xb3]);
    }

    #[test]
    fn names_and_ipv6_targets_and_split_reads() {
        let sent = run("example.org", 80, &OK_V4, 1).unwrap();
        let mut want = vec![5, 1, 0, 5, 1, 0, 3, 11];
        want.extend_from_slice(b"example.org");
        want.extend_from_slice(&[0, 80]);
        assert_eq!(sent, want);
        let sent = run("::1", 1, &OK_V4, 3).unwrap();
        assert_eq!(sent[6], 4);
        assert_eq!(sent.len(), 3 + 4 + 16 + 2);
        // A reply naming a domain is read to its end.
        let mut reply = vec![5, 0, 5, 0, 0, 3, 3];
        reply.extend_from_slice(b"abc\0\x01");
        run("h", 1, &reply, 2).unwrap();
    }

    #[test]
    fn refusals_and_strangers_end_the_exchange() {
        assert_eq!(
            run("h", 1, &[5, 0xff], 8),
            Err(Error::Os(libc::EPROTO)),
            "no acceptable method"
        );
        assert_eq!(run("h", 1, &[4, 0], 8), Err(Error::Os(libc::EPROTO)));
        assert_eq!(
            run("h", 1, &[5, 0, 5, 5, 0, 1, 0], 8),
            Err(Error::Os(libc::ECONNREFUSED)),
            "connection refused by the target"
        );
        assert_eq!(
            run("h", 1, &[5, 0, 5, 0, 0, 9, 0], 8),
            Err(Error::Os(libc::EPROTO))
        );
        assert_eq!(SocksClient::new("", 1).unwrap_err(), Error::Invalid);
        assert_eq!(
            SocksClient::new(&"x".repeat(256), 1).unwrap_err(),
            Error::Invalid
        );
    }
}
