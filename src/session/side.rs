//! The shared-memory side channel of an ipc connection between two processes on this
//! library: large frames are copied into a ring the sender shares with its peer
//! (`sys::shm`), and only a reference to them crosses the socket.
//!
//! A Unix stream copies each frame twice in the kernel (into its buffers, then out), in
//! 32 KiB pieces it allocates and queues under a lock; at 1 MiB that work capped one
//! connection near 6 k msg/s here. Through the ring the same frame costs one copy in user
//! space on each side and no allocation: PUSH -> PULL over ipc, 1 MiB 5.8 -> 8-9 k msg/s,
//! 64 KiB 54 -> about 150 k (BENCHMARKS.md, twelfth session).
//!
//! Both ends offer the channel in their READY ([`zmtp::SIDE_CHANNEL_PROPERTY`]) when the
//! connection is ipc, its mechanism NULL and `LIBZMQ_RS_SHM` is not `0`; a libzmq peer never
//! offers it, so the wire stays ZMTP 3.1 with it. The sender makes its ring at its first
//! large frame and passes its descriptor with the stream, with a bell (an eventfd) that the
//! peer rings when it frees room the sender waits for. Frames take the ring once the peer
//! has answered that it mapped it (until then, and for good if it never does, the socket).
//! A frame larger than half the ring goes in pieces of half the ring, so that the sender
//! fills one half while the receiver copies out the other; a frame that finds the ring full
//! is held (what of it is in the ring stays sent), and nothing passes it, until the bell
//! rings.
//!
//! The receiver copies a frame out only when its socket's queue has room for it (the session,
//! on `zmtp::Event::SideFrame`): until then it stays in the ring, and a full ring stops the
//! sender, so an unread receiver holds no backlog of copies. At ipc 1 MiB its frame buffers
//! went from four or five to two (peak RSS 8.7 -> 7.5 MiB).
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::msg::Msg;
use crate::sys::shm::{Bell, RecvRing, Refused, SendRing};
use crate::zmtp::{self, Copied, SideChannel, SidePiece};

/// Frames from this size up go through the ring.
pub(super) const SIDE_MIN: usize = 32 * 1024;
/// Room for frames in a sender's ring: two frames as large as the first one sent through it,
/// within these bounds (its pages become resident in both processes; larger frames go in
/// pieces). Measured with PUSH -> PULL over ipc: 64 KiB frames ran 100 k msg/s with a ring
/// of 128 KiB, 124-142 k with 256 KiB, 158-160 k with 512 KiB; 1 MiB frames whole,
/// 7.4-7.8 k msg/s with 4 MiB (receiver peak RSS 12.9 MiB) and 8.7-9.0 k with 2 MiB
/// (8.9 MiB): a ring that stays in the caches beats a deeper one. But not a shallower one:
/// 1 MiB frames in pieces through a ring of 1 MiB ran a median 4.6 k msg/s against 6.9 k
/// whole through 2 MiB (8 paired runs; receiver peak RSS 6.6-7.7 against 7.6-8.8 MiB).
const RING_MIN: usize = 512 << 10;
const RING_MAX: usize = 2 << 20;
/// Frames of the first large frame's size a ring is sized for.
const RING_FRAMES: usize = 2;

/// The capacity of a ring whose first frame is `len` octets long.
fn ring_capacity(len: usize) -> usize {
    len.saturating_mul(RING_FRAMES)
        .checked_next_power_of_two()
        .unwrap_or(RING_MAX)
        .clamp(RING_MIN, RING_MAX)
}

/// Descriptors a receiver holds before the announcement that claims them (a ring and its
/// bell); a peer sending more gets them closed.
const MAX_PENDING_FDS: usize = 2;

/// Whether connections of this process offer the side channel (`LIBZMQ_RS_SHM=0` turns it
/// off, to compare or to rule it out).
pub(super) fn enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("LIBZMQ_RS_SHM").is_none_or(|v| v != "0"))
}

/// The value of the offer: the version of the channel's commands (2: `X-SHM-FRAME` carries
/// pieces). A peer offering another version gets the socket.
const OFFER: &[u8] = b"2";

/// The READY property that offers the channel.
pub(super) fn offer() -> (String, Vec<u8>) {
    (zmtp::SIDE_CHANNEL_PROPERTY.to_owned(), OFFER.to_vec())
}

/// True when the peer's handshake metadata offers the channel.
pub(super) fn peer_offers(metadata: &crate::msg::Metadata) -> bool {
    metadata
        .get(zmtp::SIDE_CHANNEL_PROPERTY)
        .is_some_and(|v| v.to_bytes() == OFFER)
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
    /// Our ring, announced to the peer; its descriptors and bell until the session takes
    /// them ([`Sender::take_new`]). Frames take the ring once the peer mapped it.
    Ring {
        ring: SendRing,
        new: Option<(Vec<OwnedFd>, Bell)>,
        peer_ready: bool,
        /// Octets of the frame under way already in the ring (it was held for room).
        sent: usize,
    },
}

/// What became of a frame offered to [`Sender::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    /// In the ring, its reference queued.
    Ring,
    /// Not for the ring: send it through the socket.
    Socket,
    /// The ring is full: hold the frame (nothing after it may be sent) until the peer rings
    /// the bell, then offer it again (what of it is in the ring stays sent).
    Held,
    /// The peer broke the ring with a frame half through it: the connection must end.
    Broken,
}

impl Sender {
    /// Puts `frame` in the ring and queues its reference on `zmtp`, or says where it goes
    /// instead. The first large frame makes the ring and its bell and queues their
    /// announcement (see [`Sender::take_new`]).
    pub(super) fn send(&mut self, zmtp: &mut zmtp::Connection, frame: &Msg) -> Sent {
        if frame.len() < SIDE_MIN {
            return Sent::Socket;
        }
        if matches!(self, Sender::Offered) {
            let made = SendRing::create(ring_capacity(frame.len()))
                .and_then(|(ring, fd)| Bell::new().map(|(bell, peer)| (ring, fd, bell, peer)));
            *self = match made {
                Ok((ring, fd, bell, peer_bell)) => {
                    zmtp.send_side_ring(ring.capacity());
                    Sender::Ring {
                        ring,
                        new: Some((vec![fd, peer_bell], bell)),
                        peer_ready: false,
                        sent: 0,
                    }
                }
                Err(_) => Sender::Off,
            };
        }
        let Sender::Ring {
            ring,
            peer_ready: true,
            sent,
            ..
        } = self
        else {
            return Sent::Socket;
        };
        let data = frame.data();
        let most = usize::try_from(ring.capacity() / 2).unwrap_or(usize::MAX);
        while let Some(rest) = data.get(*sent..).filter(|r| !r.is_empty()) {
            let part = rest.get(..most).unwrap_or(rest);
            match ring.write(part) {
                Ok(pos) => {
                    zmtp.send_side_frame(SidePiece {
                        more: frame.more(),
                        pos,
                        len: part.len(),
                        total: data.len(),
                    });
                    *sent += part.len();
                }
                Err(Refused::Full) => return Sent::Held,
                Err(Refused::Never) if *sent == 0 => return Sent::Socket,
                Err(Refused::Never) => return Sent::Broken,
            }
        }
        *sent = 0;
        Sent::Ring
    }

    /// A ring just made: the descriptors to pass with the next write (at or before its
    /// announcement) and the bell to watch.
    pub(super) fn take_new(&mut self) -> Option<(Vec<OwnedFd>, Bell)> {
        match self {
            Sender::Ring { new, .. } => new.take(),
            _ => None,
        }
    }

    /// True once the peer broke our ring (published an impossible position) with a frame
    /// half through it: the rest of that frame cannot follow.
    pub(super) fn is_broken(&self) -> bool {
        matches!(self, Sender::Ring { ring, sent, .. } if *sent > 0 && ring.is_broken())
    }

    /// The peer mapped our ring (`X-SHM-READY`): frames may take it.
    pub(super) fn peer_ready(&mut self) {
        if let Sender::Ring { peer_ready, .. } = self {
            *peer_ready = true;
        }
    }
}

/// The receiving half, held by the protocol core of a connection that offered the channel.
#[derive(Default)]
pub(super) struct Receiver {
    fds: VecDeque<OwnedFd>,
    ring: Option<(RecvRing, Bell)>,
    spares: Spares,
    /// The frame whose pieces are coming in: its buffer (as long as what came), its length
    /// and MORE flag.
    partial: Option<(Vec<u8>, usize, bool)>,
}

/// Frame buffers a receiver copied into and its application has dropped, kept for the next
/// frames (at most [`SPARES`]): without them each 1 MiB frame was a fresh allocation that
/// glibc often mapped anew, 9-22 page faults per frame.
#[derive(Default, Clone)]
struct Spares(Arc<Mutex<Vec<Vec<u8>>>>);

/// Buffers a receiver keeps for reuse.
const SPARES: usize = 2;

impl Spares {
    /// A spare buffer that holds `len` octets without more than doubling it, or a new one.
    fn take(&self, len: usize) -> Vec<u8> {
        let mut spares = self.0.lock();
        match spares
            .iter()
            .position(|b| b.capacity() >= len && b.capacity() / 2 <= len)
        {
            Some(i) => spares.swap_remove(i),
            None => Vec::new(),
        }
    }
}

/// A received frame's buffer, which goes back to its receiver's spares when the frame is
/// dropped.
struct Recycled {
    buf: Vec<u8>,
    home: Spares,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let mut spares = self.home.0.lock();
        if spares.len() < SPARES {
            spares.push(std::mem::take(&mut self.buf));
        }
    }
}

impl SideChannel for Receiver {
    fn add_fd(&mut self, fd: OwnedFd) {
        if self.fds.len() < MAX_PENDING_FDS {
            self.fds.push_back(fd);
        }
    }

    fn open(&mut self, capacity: u64) -> bool {
        let (Some(ring), Some(bell)) = (self.fds.pop_front(), self.fds.pop_front()) else {
            return false;
        };
        match (RecvRing::open(ring, capacity), Bell::open(bell)) {
            (Ok(ring), Ok(bell)) => {
                self.ring = Some((ring, bell));
                true
            }
            _ => false,
        }
    }

    fn holds(&self, pos: u64, len: usize) -> bool {
        self.ring
            .as_ref()
            .is_some_and(|(ring, _)| ring.holds(pos, len))
    }

    fn piece(&mut self, p: SidePiece) -> Copied {
        let Some((ring, bell)) = self.ring.as_ref() else {
            return Copied::Refused;
        };
        let mut buf = match self.partial.take() {
            Some((buf, total, more))
                if total == p.total && more == p.more && p.len <= total - buf.len() =>
            {
                buf
            }
            Some(_) => return Copied::Refused,
            None => {
                let mut buf = self.spares.take(p.total);
                buf.clear();
                if buf.try_reserve_exact(p.total).is_err() {
                    return Copied::Refused;
                }
                buf
            }
        };
        if !ring.read(p.pos, p.len, &mut buf) {
            return Copied::Refused;
        }
        if ring.release(p.pos.saturating_add(p.len as u64)) {
            bell.ring();
        }
        if buf.len() < p.total {
            self.partial = Some((buf, p.total, p.more));
            return Copied::Partial;
        }
        let home = self.spares.clone();
        Copied::Frame(Msg::from_bytes(bytes::Bytes::from_owner(Recycled {
            buf,
            home,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_cross_between_a_sender_and_a_receiver() {
        let mut rx = Receiver::default();
        let mut tx = Sender::Offered;
        let cfg = zmtp::Config::with_defaults(crate::consts::ZMQ_PUSH, Default::default());
        let mut conn = zmtp::Connection::new(cfg, 0);
        let big = Msg::copy_from(&vec![3u8; SIDE_MIN]);
        let small = Msg::copy_from(&[1; 100]);
        assert_eq!(tx.send(&mut conn, &small), Sent::Socket);
        assert!(tx.take_new().is_none(), "small frames do not make the ring");
        // The first large frame makes the ring, and takes the socket: the peer has not
        // mapped the ring yet.
        assert_eq!(tx.send(&mut conn, &big), Sent::Socket);
        let (fds, bell) = tx.take_new().expect("the ring's descriptors");
        assert!(tx.take_new().is_none(), "taken once");
        assert_eq!(tx.send(&mut conn, &big), Sent::Socket);
        fds.into_iter().for_each(|f| rx.add_fd(f));
        let cap = ring_capacity(SIDE_MIN) as u64;
        assert!(rx.open(cap));
        tx.peer_ready();
        assert_eq!(tx.send(&mut conn, &big), Sent::Ring);
        let got = frame(rx.piece(whole(0, SIDE_MIN)));
        assert_eq!(got.data(), big.data());
        assert!(!rung(&bell), "nobody waited");
        assert!(matches!(rx.piece(whole(cap - 1, 2)), Copied::Refused));
        // Fill the ring: the frame that does not fit is held, and the release rings the bell.
        let mut at = SIDE_MIN as u64;
        while tx.send(&mut conn, &big) == Sent::Ring {
            at += SIDE_MIN as u64;
        }
        assert_eq!(at, cap + SIDE_MIN as u64);
        frame(rx.piece(whole(SIDE_MIN as u64, SIDE_MIN)));
        assert!(rung(&bell), "the sender waits for room");
        bell.drain();
        assert!(!rung(&bell));
        assert_eq!(tx.send(&mut conn, &big), Sent::Ring);
    }

    /// A piece of `len` octets at `pos`, the whole of its frame.
    fn whole(pos: u64, len: usize) -> SidePiece {
        SidePiece {
            more: false,
            pos,
            len,
            total: len,
        }
    }

    /// The frame a piece completed.
    fn frame(copied: Copied) -> Msg {
        match copied {
            Copied::Frame(m) => m,
            other => panic!("not a whole frame: {other:?}"),
        }
    }

    /// A sender and a receiver with a ring of RING_MIN octets between them.
    fn linked() -> (Sender, Receiver, Bell, zmtp::Connection) {
        let mut rx = Receiver::default();
        let mut tx = Sender::Offered;
        let cfg = zmtp::Config::with_defaults(crate::consts::ZMQ_PUSH, Default::default());
        let mut conn = zmtp::Connection::new(cfg, 0);
        let first = Msg::copy_from(&vec![0u8; SIDE_MIN]);
        assert_eq!(tx.send(&mut conn, &first), Sent::Socket);
        let (fds, bell) = tx.take_new().expect("the ring's descriptors");
        fds.into_iter().for_each(|f| rx.add_fd(f));
        assert!(rx.open(RING_MIN as u64));
        tx.peer_ready();
        (tx, rx, bell, conn)
    }

    #[test]
    fn a_frame_larger_than_half_the_ring_goes_in_pieces_and_resumes_where_it_was_held() {
        let (mut tx, mut rx, bell, mut conn) = linked();
        let half = RING_MIN / 2;
        let data: Vec<u8> = (0..RING_MIN + 5000)
            .map(|i| (i * 7 + i / 999) as u8)
            .collect();
        let mut big = Msg::copy_from(&data);
        big.set_more(true);
        let piece = |pos: u64, len: usize| SidePiece {
            more: true,
            pos,
            len,
            total: data.len(),
        };
        // Two pieces fill the ring; the third waits for room.
        assert_eq!(tx.send(&mut conn, &big), Sent::Held);
        assert!(matches!(rx.piece(piece(0, half)), Copied::Partial));
        assert!(rung(&bell), "room for the held piece");
        assert_eq!(tx.send(&mut conn, &big), Sent::Ring, "the rest of it");
        assert!(matches!(
            rx.piece(piece(half as u64, half)),
            Copied::Partial
        ));
        let got = frame(rx.piece(piece(RING_MIN as u64, 5000)));
        assert_eq!(got.data(), &data[..]);
        // A piece of another frame cannot come in the middle of one.
        assert_eq!(tx.send(&mut conn, &big), Sent::Held);
        let next = RING_MIN as u64 + 5000;
        assert!(matches!(rx.piece(piece(next, half)), Copied::Partial));
        assert!(matches!(
            rx.piece(SidePiece {
                total: 5000,
                ..piece(next + half as u64, 5000)
            }),
            Copied::Refused
        ));
    }

    #[test]
    fn a_ring_broken_in_the_middle_of_a_frame_says_so() {
        let (mut tx, rx, _bell, mut conn) = linked();
        let big = Msg::copy_from(&vec![1u8; RING_MIN + 1]);
        assert_eq!(tx.send(&mut conn, &big), Sent::Held);
        assert!(!tx.is_broken());
        // The receiver publishes a position past anything written.
        let (ring, _) = rx.ring.as_ref().expect("mapped");
        ring.release(u64::MAX / 2);
        assert_eq!(tx.send(&mut conn, &big), Sent::Broken);
        assert!(tx.is_broken());
    }

    /// Whether `bell` is readable now.
    fn rung(bell: &Bell) -> bool {
        use std::os::fd::{AsFd, AsRawFd};
        let mut pfd = crate::sys::PollFd {
            fd: bell.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        crate::sys::poll_fds(std::slice::from_mut(&mut pfd), 0).unwrap_or(0) == 1
    }

    #[test]
    fn a_frame_at_the_last_positions_does_not_overflow_the_release() {
        let mut rx = Receiver::default();
        let (_ring, fd) = SendRing::create(RING_MIN).unwrap();
        let (_bell, peer_bell) = Bell::new().unwrap();
        rx.add_fd(fd);
        rx.add_fd(peer_bell);
        assert!(rx.open(RING_MIN as u64));
        // The frame lies at the ring's end, and its end position is past u64::MAX.
        let got = frame(rx.piece(whole(u64::MAX - 9, 10)));
        assert_eq!(got.len(), 10);
    }

    #[test]
    fn rings_are_sized_for_two_frames_within_bounds() {
        assert_eq!(ring_capacity(SIDE_MIN), RING_MIN);
        assert_eq!(ring_capacity(64 << 10), 512 << 10);
        assert_eq!(ring_capacity(300 << 10), 1 << 20);
        assert_eq!(ring_capacity(1 << 20), 2 << 20);
        assert_eq!(ring_capacity(3 << 20), RING_MAX);
        assert_eq!(ring_capacity(usize::MAX), RING_MAX);
    }

    #[test]
    fn a_ring_announcement_without_its_descriptors_is_refused() {
        let mut rx = Receiver::default();
        assert!(!rx.open(RING_MIN as u64));
        assert!(matches!(rx.piece(whole(0, 10)), Copied::Refused));
        // A ring without a bell.
        let (_ring, fd) = SendRing::create(RING_MIN).unwrap();
        rx.add_fd(fd);
        assert!(!rx.open(RING_MIN as u64));
    }
}
