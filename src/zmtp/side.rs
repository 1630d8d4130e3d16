//! The shared-memory side channel as the protocol core sees it: the READY property that offers
//! it, the [`SideChannel`] trait the session implements over `sys::shm`, the frames and pieces
//! of frames (`X-SHM-FRAME`) it carries, and the [`Connection`] methods that announce our ring,
//! send frames through it and copy the peer's frames out of its ring.
//!
//! Layer L0: no sockets, no clock, no threads (the ring itself is the session's, in
//! `session::side`).
#![forbid(unsafe_code)]

use super::*;

/// The READY property by which a connection offers the shared-memory side channel (both
/// ends must offer it; libzmq never does): the sender announces its ring (`X-SHM-RING`), and
/// once the peer answers that it mapped it (`X-SHM-READY`: a peer that merely claimed the
/// property, and ignores commands it does not know, never does), `X-SHM-FRAME` commands
/// carry large frames through it, whole or in pieces (see `session::side`; the property's
/// value is the version of these commands).
pub(crate) const SIDE_CHANNEL_PROPERTY: &str = "X-ZmqRs-Shm";

/// Where a connection that offered the side channel gets the frames the peer put in its
/// ring. The session implements it over `sys::shm`; the protocol core only calls it.
pub(crate) trait SideChannel: Send {
    /// Takes a descriptor that came with the stream (the ring and its bell, at or before
    /// their announcement).
    fn add_fd(&mut self, fd: std::os::fd::OwnedFd);
    /// The peer announced its ring of `capacity` octets; false if it cannot be used.
    fn open(&mut self, capacity: u64) -> bool;
    /// True if `len` octets at absolute position `pos` can lie in the ring (one is open, and
    /// they are within it).
    fn holds(&self, pos: u64, len: usize) -> bool;
    /// Copies `piece` out of the ring (the room it took is given back to the peer).
    fn piece(&mut self, piece: SidePiece) -> Copied;
}

/// A frame, or the next piece of one, that the peer put in its ring (`X-SHM-FRAME`): `len`
/// octets at absolute position `pos`, of a frame `total` octets long (all of it when equal).
/// A frame larger than half the ring comes in pieces, so that the sender fills one while the
/// receiver copies out the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SidePiece {
    pub(crate) more: bool,
    pub(crate) pos: u64,
    pub(crate) len: usize,
    pub(crate) total: usize,
}

/// What [`SideChannel::piece`] made of a piece.
#[derive(Debug)]
pub(crate) enum Copied {
    /// The frame's last piece: the whole frame.
    Frame(Msg),
    /// A piece of a frame not complete yet.
    Partial,
    /// Not readable: no ring, outside it, or not the continuation of the frame under way.
    Refused,
}

impl Connection {
    /// Accepts `X-SHM-*` commands from the peer, served by `side` (the session offers the
    /// channel in its READY through [`Config::metadata`]). Without it they fail the
    /// connection.
    pub(crate) fn set_side_channel(&mut self, side: Box<dyn SideChannel>) {
        self.side = Some(side);
    }

    /// The side channel, to hand it descriptors received with the stream.
    pub(crate) fn side_channel(&mut self) -> Option<&mut (dyn SideChannel + 'static)> {
        self.side.as_deref_mut()
    }

    /// True once after the peer said it mapped our ring (`X-SHM-READY`): frames may go
    /// through it from now on.
    pub(crate) fn take_side_ready(&mut self) -> bool {
        std::mem::take(&mut self.side_ready)
    }

    /// Queues the announcement of our ring of `capacity` octets (the session passes its
    /// descriptor with the stream, at or before these octets). Only to a peer that offered
    /// the side channel, once active.
    pub(crate) fn send_side_ring(&mut self, capacity: u64) {
        self.emit(frame::COMMAND, &[&command::side_ring(capacity)]);
    }

    /// Queues a message frame, or a piece of one, that the session put in our ring.
    pub(crate) fn send_side_frame(&mut self, piece: SidePiece) {
        let body = command::side_frame(piece.more, piece.pos, piece.len as u64, piece.total as u64);
        self.emit(frame::COMMAND, &[&body]);
    }

    /// Copies out the side frame or piece of an [`Event::SideFrame`], giving its room back to
    /// the peer: the frame once complete, `None` after a piece that does not complete it. One
    /// that cannot be read fails the connection.
    pub(crate) fn side_frame(&mut self, piece: SidePiece) -> Result<Option<Msg>, Failure> {
        match self.side.as_mut().map(|s| s.piece(piece)) {
            Some(Copied::Frame(mut msg)) => {
                msg.set_more(piece.more);
                Ok(Some(msg))
            }
            Some(Copied::Partial) => Ok(None),
            Some(Copied::Refused) | None => self
                .fail(
                    Failure::Protocol(ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND),
                    "Unexpected command",
                )
                .map(|()| None),
        }
    }
}
