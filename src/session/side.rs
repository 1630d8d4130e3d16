//! The shared-memory side channel of an ipc connection between two processes on this
//! library: large frames are copied into a ring the sender shares with its peer
//! (`sys::shm`), and only a reference to them crosses the socket.
//!
//! A Unix stream copies each frame twice in the kernel (into its buffers, then out), in
//! 32 KiB pieces it allocates and queues under a lock; at 1 MiB that work caps one
//! connection's sender near 6 k msg/s here. Through the ring the same frame costs one copy on
//! each side and no system call: PUSH -> PULL 1 MiB over ipc 5.8 -> see the README's
//! features table for the measurement.
//!
//! Both ends offer the channel in their READY ([`zmtp::SIDE_CHANNEL_PROPERTY`]) when the
//! connection is ipc, its mechanism NULL and `LIBZMQ_RS_SHM` is not `0`; a libzmq peer never
//! offers it, so the wire stays ZMTP 3.1 with it. The sender makes its ring at its first
//! large frame and passes the descriptor with the stream; when the ring has no room (the
//! peer reads slowly) a frame goes through the socket as usual, in order with the rest.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::os::fd::OwnedFd;

use crate::msg::Msg;
use crate::sys::shm::{RecvRing, Refused, SendRing};
use crate::zmtp::{self, SideChannel};

/// Frames from this size up go through the ring.
pub(super) const SIDE_MIN: usize = 32 * 1024;
/// Room for frames in a sender's ring: four frames as large as the first one sent through it,
/// within these bounds. Its pages become resident in both processes, so it is no larger
/// than the frames need.
const RING_MIN: usize = 256 << 10;
const RING_MAX: usize = 4 << 20;
/// Frames a ring is sized for.
const RING_FRAMES: usize = 4;

/// The capacity of a ring whose first frame is `len` octets long.
fn ring_capacity(len: usize) -> usize {
    len.saturating_mul(RING_FRAMES)
        .checked_next_power_of_two()
        .unwrap_or(RING_MAX)
        .clamp(RING_MIN, RING_MAX)
}
/// Descriptors a receiver holds before the announcement that claims them; a peer sending
/// more gets them closed.
const MAX_PENDING_FDS: usize = 2;

/// Whether connections of this process offer the side channel (`LIBZMQ_RS_SHM=0` turns it
/// off, to compare or to rule it out).
pub(super) fn enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("LIBZMQ_RS_SHM").is_none_or(|v| v != "0"))
}

/// The READY property that offers the channel.
pub(super) fn offer() -> (String, Vec<u8>) {
    (zmtp::SIDE_CHANNEL_PROPERTY.to_owned(), b"1".to_vec())
}

/// True when the peer's handshake metadata offers the channel.
pub(super) fn peer_offers(metadata: &crate::msg::Metadata) -> bool {
    metadata
        .get(zmtp::SIDE_CHANNEL_PROPERTY)
        .is_some_and(|v| v.to_bytes() == b"1")
}

/// The sending half: nothing until the first large frame, then the ring (or `Off` if it
/// could not be made).
#[derive(Default)]
pub(super) enum Sender {
    /// The peer did not offer the channel (or it is not ours to offer).
    #[default]
    Off,
    /// The peer offered it; no ring yet.
    Offered,
    /// Our ring, announced to the peer.
    Ring(SendRing),
}

/// What became of a frame offered to [`Sender::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    /// In the ring, its reference queued.
    Ring,
    /// Not for the ring: send it through the socket.
    Socket,
    /// The ring is full: hold the frame (nothing after it may be sent) until the peer's
    /// `X-SHM-ROOM`, then offer it again.
    Held,
}

impl Sender {
    /// Puts `frame` in the ring and queues its reference on `zmtp`, or says where it goes
    /// instead. The first call makes the ring, queues its announcement and returns the
    /// descriptor to pass with the next write in `pass`.
    pub(super) fn send(
        &mut self,
        zmtp: &mut zmtp::Connection,
        frame: &Msg,
        pass: &mut Option<OwnedFd>,
    ) -> Sent {
        if frame.len() < SIDE_MIN {
            return Sent::Socket;
        }
        if matches!(self, Sender::Offered) {
            *self = match SendRing::create(ring_capacity(frame.len())) {
                Ok((ring, fd)) => {
                    zmtp.send_side_ring(ring.capacity());
                    *pass = Some(fd);
                    Sender::Ring(ring)
                }
                Err(_) => Sender::Off,
            };
        }
        let Sender::Ring(ring) = self else {
            return Sent::Socket;
        };
        match ring.write(frame.data()) {
            Ok(pos) => {
                zmtp.send_side_frame(frame.more(), pos, frame.len() as u64);
                Sent::Ring
            }
            Err(Refused::Full) => Sent::Held,
            Err(Refused::Never) => Sent::Socket,
        }
    }
}

/// The receiving half, held by the protocol core of a connection that offered the channel.
#[derive(Default)]
pub(super) struct Receiver {
    fds: VecDeque<OwnedFd>,
    ring: Option<RecvRing>,
}

impl SideChannel for Receiver {
    fn add_fd(&mut self, fd: OwnedFd) {
        if self.fds.len() < MAX_PENDING_FDS {
            self.fds.push_back(fd);
        }
    }

    fn open(&mut self, capacity: u64) -> bool {
        let Some(fd) = self.fds.pop_front() else {
            return false;
        };
        match RecvRing::open(fd, capacity) {
            Ok(ring) => {
                self.ring = Some(ring);
                true
            }
            Err(_) => false,
        }
    }

    fn frame(&mut self, pos: u64, len: usize) -> Option<(Msg, bool)> {
        let ring = self.ring.as_ref()?;
        let frame = ring.read(pos, len)?;
        let wake = ring.release(pos + len as u64);
        Some((Msg::from_bytes(frame.into()), wake))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_cross_between_a_sender_and_a_receiver() {
        let mut rx = Receiver::default();
        let mut tx = Sender::Offered;
        let cfg = zmtp::Config {
            socket_type: crate::consts::ZMQ_PUSH,
            routing_id: None,
            maxmsgsize: -1,
            handshake_ivl: 0,
            heartbeat_ivl: 0,
            heartbeat_timeout: None,
            heartbeat_ttl: 0,
            raw: false,
            metadata: Vec::new(),
            security: zmtp::Security::default(),
        };
        let mut conn = zmtp::Connection::new(cfg, 0);
        let mut pass = None;
        let big = Msg::copy_from(&vec![3u8; SIDE_MIN]);
        let small = Msg::copy_from(&[1; 100]);
        assert_eq!(tx.send(&mut conn, &small, &mut pass), Sent::Socket);
        assert!(pass.is_none(), "small frames do not make the ring");
        assert_eq!(tx.send(&mut conn, &big, &mut pass), Sent::Ring);
        rx.add_fd(pass.take().expect("the ring's descriptor"));
        let cap = ring_capacity(SIDE_MIN) as u64;
        assert!(rx.open(cap));
        let (got, wake) = rx.frame(0, SIDE_MIN).expect("the frame");
        assert_eq!(got.data(), big.data());
        assert!(!wake);
        assert!(rx.frame(cap - 1, 2).is_none());
        // Fill the ring: the frame that does not fit is held, and the release wakes us.
        let mut at = SIDE_MIN as u64;
        while tx.send(&mut conn, &big, &mut pass) == Sent::Ring {
            at += SIDE_MIN as u64;
        }
        assert_eq!(at, cap + SIDE_MIN as u64);
        let (_, wake) = rx.frame(SIDE_MIN as u64, SIDE_MIN).unwrap();
        assert!(wake, "the sender waits for room");
        assert_eq!(tx.send(&mut conn, &big, &mut pass), Sent::Ring);
    }

    #[test]
    fn rings_are_sized_for_four_frames_within_bounds() {
        assert_eq!(ring_capacity(SIDE_MIN), RING_MIN);
        assert_eq!(ring_capacity(64 << 10), 256 << 10);
        assert_eq!(ring_capacity(100 << 10), 512 << 10);
        assert_eq!(ring_capacity(1 << 20), 4 << 20);
        assert_eq!(ring_capacity(3 << 20), RING_MAX);
        assert_eq!(ring_capacity(usize::MAX), RING_MAX);
    }

    #[test]
    fn a_ring_announcement_without_a_descriptor_is_refused() {
        let mut rx = Receiver::default();
        assert!(!rx.open(RING_MIN as u64));
        assert!(rx.frame(0, 10).is_none());
    }
}
