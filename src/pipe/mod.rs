//! Pipes: a bidirectional message channel between two owners (socket ↔ socket for inproc,
//! socket ↔ session for tcp/ipc), each owning one [`PipeEnd`].
//!
//! Layer L1 (depends on `msg`, `error`). Each direction is a queue of frames with libzmq's
//! rules: the high-water mark counts whole messages (0 = unbounded), and a direction may also
//! bound the octets it queues (a session's read-ahead, [`DirectionConfig::byte_limit`]); a
//! multipart message becomes readable only once its last frame is written, so a reader sees
//! all of it or none; the writer may roll back an unfinished message. Wake-ups are batched: a
//! reader is notified only when it found the queue empty and went to sleep, a blocked writer
//! only when the queue has drained to the low-water mark (and to half its byte bound).
//! Notifications go to the owner through [`PipeNotify`], never upward calls.
//!
//! The writer locks the direction (a [`LightLock`]: one atomic operation) once per frame; the
//! reader locks it once per batch: it moves every readable frame into a cache of its own and
//! reports what it consumed when the cache runs dry or every HWM-LWM messages (frames in the
//! cache still count against the HWM).
//!
//! Closing an end is libzmq's delimiter: the peer still reads everything written before the
//! close, then sees [`Read::Closed`]; anything the closing end had not yet read is dropped.
//!
//! This file holds the pipe's types, the state the two ends share, [`pair`], and an end's
//! owner, routing ids, HWM changes and close. The rest: `write.rs` (the writer's side),
//! `read.rs` (the reader's side and its cache), `direction.rs` (one direction's HWM, byte
//! bound and swap accounting, and the writer's lock-free hint) and `swap.rs` (the `ZMQ_SWAP`
//! store).
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::sys::{LightGuard, LightLock};

use crate::msg::Msg;

mod direction;
mod read;
pub(crate) mod swap;
#[cfg(test)]
mod tests;
mod write;

use swap::{FileStore, OverflowStore, SwapConfig};

/// Identifies one end of one pipe, unique in the process.
pub(crate) type PipeId = u64;

/// What an owner is told about one of its pipe ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PipeEvent {
    /// Messages became readable after the owner had found the pipe empty.
    Readable,
    /// The pipe drained below its low-water mark after the owner had found it full.
    Writable,
    /// The peer closed its end.
    PeerClosed,
    /// The writer's swap changed state (told to the writing end's owner).
    Swap(SwapState),
}

/// `ZMQ_SWAP` state changes, reported to the writing end's owner for its monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SwapState {
    /// Messages started going to disk.
    Started,
    /// The store drained; the queue is all in memory again.
    Stopped,
    /// The budget is used up.
    Full,
    /// The store failed and was dropped.
    Failed,
}

/// Receives pipe events for the ends an object owns. Called without any pipe lock held; must
/// not block (implementations post a command to a mailbox).
pub(crate) trait PipeNotify: Send + Sync {
    /// Tells the owner of end `id` about `event`.
    fn notify(&self, id: PipeId, event: PipeEvent);
}

/// The result of reading a pipe end.
#[derive(Debug)]
pub(crate) enum Read {
    /// The next frame.
    Msg(Msg),
    /// Nothing readable now; the owner will get [`PipeEvent::Readable`] when that changes.
    Empty,
    /// The peer closed and everything it wrote has been read.
    Closed,
}

/// The result of [`PipeEnd::read_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadState {
    /// The next frame was written to the destination.
    Frame,
    /// Nothing readable now; the owner will get [`PipeEvent::Readable`] when that changes.
    Empty,
    /// The peer closed and everything it wrote has been read.
    Closed,
}

/// Why [`PipeEnd::write_from`] refused a frame (which stays with the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The high-water mark is reached; the owner gets [`PipeEvent::Writable`] later.
    Full,
    /// The peer closed its end.
    Closed,
}

impl Refused {
    /// The [`WriteError`] that hands `msg` back.
    fn with(self, msg: Msg) -> WriteError {
        match self {
            Refused::Full => WriteError::Full(msg),
            Refused::Closed => WriteError::Closed,
        }
    }
}

/// Why a write was refused; a frame refused for the high-water mark is handed back.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The high-water mark is reached; the owner gets [`PipeEvent::Writable`] later.
    Full(Msg),
    /// The peer closed its end (the frame is dropped).
    Closed,
}

/// The high-water mark's low-water companion, as libzmq computes it.
pub(crate) fn low_water_mark(hwm: u64) -> u64 {
    const MAX_DELTA: u64 = 1024;
    if hwm > MAX_DELTA * 2 {
        hwm - MAX_DELTA
    } else {
        hwm.div_ceil(2)
    }
}

#[derive(Default)]
struct Direction {
    /// `ZMQ_SWAP`: where whole messages go while the queue is at its HWM.
    overflow: Option<Box<dyn OverflowStore>>,
    /// The message being written goes to the overflow store.
    to_overflow: bool,
    /// The rest of the message being written is dropped: its head went with a failed store.
    discard: bool,
    /// Complete messages in the overflow store.
    overflowed: u64,
    /// Swap state changes not yet reported to the writer's owner.
    swap_events: Vec<SwapState>,
    /// FULL was reported and no room has appeared since.
    swap_full_reported: bool,
    queue: VecDeque<Msg>,
    /// Frames at the front of `queue` that belong to complete messages.
    readable: usize,
    written: u64,
    read: u64,
    hwm: u64,
    /// Octets (frame lengths) past which no new message is taken, 0 = no bound: a session's
    /// read-ahead. Counted only while bounded.
    byte_limit: u64,
    bytes_written: u64,
    bytes_read: u64,
    /// A writer stopped at the HWM resumes once this many octets were consumed since it
    /// stopped, even above the low-water mark (0 = only at the mark); see
    /// [`DirectionConfig::wake_bytes`].
    wake_bytes: u64,
    /// Octets the reader reported consumed (counted only with `wake_bytes`).
    bytes_consumed: u64,
    /// `bytes_consumed` when the writer last stopped at the HWM.
    blocked_at: u64,
    conflate: bool,
    reader_asleep: bool,
    writer_blocked: bool,
    writer_closed: bool,
    reader_closed: bool,
}

/// What the reader of one direction took out of the shared queue in one go. Only the reader
/// touches it, so its lock is never contended: the reader takes the shared queue's lock once
/// per batch instead of once per frame, and the writer rarely finds it taken.
#[derive(Default)]
struct ReaderCache {
    /// Frames of complete messages, in order, not yet handed out.
    frames: VecDeque<Msg>,
    /// Complete messages handed out since the shared `read` count was last brought up to date.
    consumed: u64,
    /// Octets handed out since then (frame lengths).
    consumed_bytes: u64,
    /// How many consumed messages are worth a report to a writer that may be blocked.
    report_every: u64,
    /// How many consumed octets are worth such a report (with a byte limit).
    report_bytes: u64,
}

/// What the writer of one direction may check without its lock: a new message fits while the
/// writer's count of complete messages is below `room_until`. Both are published under the
/// direction's lock by whoever changes the counts ([`Hint::publish`]); each has a cache line
/// of its own, since the writer stores `written` at every message and the reader
/// `room_until` at every report.
#[derive(Default)]
struct Hint {
    written: Padded<AtomicU64>,
    room_until: Padded<AtomicU64>,
}

/// Keeps what one thread writes off the cache lines another thread writes.
#[derive(Default)]
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Aligned so that the `Arc`'s reference counts, which sockets touch when they clone an end,
/// share no cache line with the locks the two threads take.
#[repr(align(128))]
struct Shared {
    /// `dirs[s]` is written by side `s` and read by side `1 - s`.
    dirs: [Padded<LightLock<Direction>>; 2],
    /// `caches[s]` holds frames of `dirs[s]` that its reader has taken but not yet read.
    caches: [Padded<LightLock<ReaderCache>>; 2],
    /// `hints[s]` mirrors `dirs[s]` for its writer's [`PipeEnd::check_write`].
    hints: [Hint; 2],
    owners: Mutex<[Option<Arc<dyn PipeNotify>>; 2]>,
    /// The routing id each side announced (its ZMQ_ROUTING_ID), for the other side to use.
    routing_ids: Mutex<[Option<Bytes>; 2]>,
    ids: [PipeId; 2],
}

/// One end of a pipe: reads what the other end writes and writes what it reads.
#[derive(Clone)]
pub(crate) struct PipeEnd {
    shared: Arc<Shared>,
    side: usize,
}

impl std::fmt::Debug for PipeEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PipeEnd({})", self.id())
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Why [`PipeEnd::read_each`] stopped: only [`Drained::Empty`] and [`Drained::Closed`] mean
/// nothing more can be read now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Drained {
    /// The consumer asked to stop; more may be readable.
    Stopped,
    /// One hand-over's frames are read; more may have been written since.
    Batch,
    /// Nothing readable now; the owner will get [`PipeEvent::Readable`] when that changes.
    Empty,
    /// The peer closed and everything it wrote has been read.
    Closed,
}

/// Limits and behaviour of one direction of a new pipe.
#[derive(Clone, Debug, Default)]
pub(crate) struct DirectionConfig {
    /// High-water mark in messages, 0 = unbounded.
    pub(crate) hwm: u64,
    /// Keep only the newest complete message (`ZMQ_CONFLATE`).
    pub(crate) conflate: bool,
    /// Swap to disk beyond the HWM (`ZMQ_SWAP`); ignored with conflate or no HWM.
    pub(crate) swap: Option<SwapConfig>,
    /// Take no new message while this many octets are queued unread (0 = no bound; ignored
    /// with conflate or a swap store). A message starting below the bound is taken whole.
    pub(crate) byte_limit: u64,
    /// A writer stopped at the HWM resumes once this many octets were consumed since, rather
    /// than only when the queue is down to its low-water mark (0 = only then; ignored with
    /// conflate or a swap store). The HWM is unchanged: with large messages the writer refills
    /// a little at a time instead of hundreds of messages at once (see
    /// `session::connection::WAKE_BYTES`).
    pub(crate) wake_bytes: u64,
}

/// Creates a pipe: `a_to_b` configures what end A writes, `b_to_a` what end B writes.
pub(crate) fn pair(a_to_b: DirectionConfig, b_to_a: DirectionConfig) -> (PipeEnd, PipeEnd) {
    let mk = |c: DirectionConfig| {
        let overflow: Option<Box<dyn OverflowStore>> = match &c.swap {
            Some(cfg) if !c.conflate && c.hwm > 0 && cfg.budget > 0 => {
                Some(Box::new(FileStore::new(cfg)))
            }
            _ => None,
        };
        let (byte_limit, wake_bytes) = if c.conflate || overflow.is_some() {
            (0, 0)
        } else {
            (c.byte_limit, c.wake_bytes)
        };
        Padded(LightLock::new(Direction {
            hwm: c.hwm,
            conflate: c.conflate,
            reader_asleep: true,
            overflow,
            byte_limit,
            wake_bytes,
            ..Direction::default()
        }))
    };
    let dirs = [mk(a_to_b), mk(b_to_a)];
    let hints: [Hint; 2] = Default::default();
    for (hint, d) in hints.iter().zip(&dirs) {
        hint.publish(&d.lock());
    }
    let shared = Arc::new(Shared {
        dirs,
        caches: Default::default(),
        hints,
        owners: Mutex::new([None, None]),
        routing_ids: Mutex::new([None, None]),
        ids: [
            NEXT_ID.fetch_add(1, Ordering::Relaxed),
            NEXT_ID.fetch_add(1, Ordering::Relaxed),
        ],
    });
    (
        PipeEnd {
            shared: Arc::clone(&shared),
            side: 0,
        },
        PipeEnd { shared, side: 1 },
    )
}

impl PipeEnd {
    /// This end's id.
    pub(crate) fn id(&self) -> PipeId {
        self.shared.ids[self.side]
    }

    /// The other end's id.
    pub(crate) fn peer_id(&self) -> PipeId {
        self.shared.ids[1 - self.side]
    }

    fn out(&self) -> &LightLock<Direction> {
        &self.shared.dirs[self.side]
    }

    fn inbound(&self) -> &LightLock<Direction> {
        &self.shared.dirs[1 - self.side]
    }

    fn out_hint(&self) -> &Hint {
        &self.shared.hints[self.side]
    }

    fn in_hint(&self) -> &Hint {
        &self.shared.hints[1 - self.side]
    }

    fn cache(&self) -> &LightLock<ReaderCache> {
        &self.shared.caches[1 - self.side]
    }

    fn notify_self(&self, event: PipeEvent) {
        let owner = self.shared.owners.lock()[self.side].clone();
        if let Some(owner) = owner {
            owner.notify(self.id(), event);
        }
    }

    fn notify_peer(&self, event: PipeEvent) {
        let owner = self.shared.owners.lock()[1 - self.side].clone();
        if let Some(owner) = owner {
            owner.notify(self.peer_id(), event);
        }
    }

    /// Sets who is told about this end's events. An owner attached after events happened is
    /// told about them at once (readable data, or a closed peer).
    pub(crate) fn set_owner(&self, owner: Arc<dyn PipeNotify>) {
        self.shared.owners.lock()[self.side] = Some(Arc::clone(&owner));
        let cached = !self.cache().lock().frames.is_empty();
        let (readable, closed) = {
            let d = self.inbound().lock();
            (cached || d.readable > 0, d.writer_closed)
        };
        if closed {
            owner.notify(self.id(), PipeEvent::PeerClosed);
        } else if readable {
            owner.notify(self.id(), PipeEvent::Readable);
        }
    }

    /// Records the routing id this end's owner announces to the peer.
    pub(crate) fn set_own_routing_id(&self, id: Option<Bytes>) {
        self.shared.routing_ids.lock()[self.side] = id;
    }

    /// The routing id the peer announced, if any.
    pub(crate) fn peer_routing_id(&self) -> Option<Bytes> {
        self.shared.routing_ids.lock()[1 - self.side].clone()
    }

    /// Changes the high-water mark of what this end writes (an inproc connection made before
    /// its bind is sized once the binder's HWMs are known).
    pub(crate) fn set_out_hwm(&self, hwm: u64) {
        let mut d = self.out().lock();
        d.hwm = hwm;
        self.out_hint().publish(&d);
    }

    /// Changes the high-water mark of what this end reads.
    pub(crate) fn set_in_hwm(&self, hwm: u64) {
        let mut d = self.inbound().lock();
        d.hwm = hwm;
        self.in_hint().publish(&d);
    }

    /// True once the peer has closed (there may still be frames to read).
    pub(crate) fn peer_closed(&self) -> bool {
        self.inbound().lock().writer_closed
    }

    /// Closes this end: an unfinished outgoing message is dropped, everything complete stays
    /// readable by the peer (then it sees `Closed`), and unread incoming frames are dropped.
    /// Idempotent.
    pub(crate) fn close(&self) {
        {
            let mut d = self.out().lock();
            if d.writer_closed {
                return;
            }
            let keep = d.readable;
            d.queue.truncate(keep);
            d.writer_closed = true;
        }
        let cached = std::mem::take(&mut self.cache().lock().frames);
        let dropped = {
            let mut d = self.inbound().lock();
            d.reader_closed = true;
            d.readable = 0;
            d.overflow = None;
            d.overflowed = 0;
            self.in_hint().publish(&d);
            std::mem::take(&mut d.queue)
        };
        drop(cached);
        drop(dropped);
        self.shared.owners.lock()[self.side] = None;
        self.notify_peer(PipeEvent::PeerClosed);
    }
}
