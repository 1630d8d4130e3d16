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
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::sys::{LightGuard, LightLock};

use crate::msg::Msg;

pub(crate) mod swap;

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

impl Direction {
    fn full(&self) -> bool {
        (self.hwm > 0 && self.written - self.read >= self.hwm) || self.over_bytes()
    }

    /// True while the queued octets are at the byte limit or past it.
    fn over_bytes(&self) -> bool {
        self.byte_limit > 0 && self.bytes_queued() >= self.byte_limit
    }

    /// Octets written and not yet consumed by the reader (0 without a byte limit).
    fn bytes_queued(&self) -> u64 {
        self.bytes_written - self.bytes_read
    }

    /// True once a blocked writer may go on: the queue is down to the low-water mark (and to
    /// half the byte limit, if there is one).
    fn drained(&self) -> bool {
        (self.hwm == 0 || self.written - self.read <= low_water_mark(self.hwm))
            && (self.byte_limit == 0 || self.bytes_queued() <= self.byte_limit / 2)
    }

    /// Stops the writer at the HWM (it gets `Writable` when [`Direction::may_resume`]).
    fn block_writer(&mut self) {
        if !self.writer_blocked {
            self.writer_blocked = true;
            self.blocked_at = self.bytes_consumed;
        }
    }

    /// True once a stopped writer may go on: the queue drained to its low-water mark, the
    /// swap store has room, or `wake_bytes` were consumed since it stopped and there is room.
    fn may_resume(&self) -> bool {
        self.drained()
            || self.can_spill()
            || (self.wake_bytes > 0
                && self.bytes_consumed - self.blocked_at >= self.wake_bytes
                && !self.full())
    }

    fn in_message(&self) -> bool {
        self.queue.len() > self.readable || self.to_overflow || self.discard
    }

    /// True if a new message must go to the overflow store (or wait).
    fn must_spill(&self) -> bool {
        self.full() || self.overflowed > 0
    }

    fn can_spill(&self) -> bool {
        self.overflow.as_ref().is_some_and(|o| o.has_room())
    }

    /// Moves whole messages from the overflow store into memory, up to the HWM. A store that
    /// fails is dropped (its messages are lost) and the pipe goes back to plain HWM behaviour.
    fn refill(&mut self) {
        while self.overflowed > 0 && !self.full() {
            let Some(store) = self.overflow.as_mut() else {
                self.overflowed = 0;
                return;
            };
            loop {
                match store.pop() {
                    Ok(Some(frame)) => {
                        let last = !frame.more();
                        self.queue.push_back(frame);
                        if last {
                            break;
                        }
                    }
                    Ok(None) | Err(_) => {
                        let keep = self.readable;
                        self.queue.truncate(keep);
                        self.overflow = None;
                        self.overflowed = 0;
                        self.swap_events.push(SwapState::Failed);
                        return;
                    }
                }
            }
            self.readable = self.queue.len();
            self.written += 1;
            self.overflowed -= 1;
            self.swap_full_reported = false;
            if self.overflowed == 0 {
                self.swap_events.push(SwapState::Stopped);
            }
        }
    }
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

impl Hint {
    /// Mirrors `d`: the room is the reader's count plus the HWM, none (0: ask under the lock)
    /// while a swap store, conflation or a closed reader decides instead, and unbounded
    /// without a HWM.
    fn publish(&self, d: &Direction) {
        let room = if d.reader_closed
            || d.conflate
            || d.overflow.is_some()
            || d.overflowed > 0
            || d.over_bytes()
        {
            0
        } else if d.hwm == 0 {
            u64::MAX
        } else {
            d.read.saturating_add(d.hwm)
        };
        // Both sides publish, the writer at every message and the reader at every batch:
        // storing an unchanged value would take the line from the other side each time, where
        // a load shares it.
        if self.written.load(Ordering::Relaxed) != d.written {
            self.written.store(d.written, Ordering::Relaxed);
        }
        if self.room_until.load(Ordering::Relaxed) != room {
            self.room_until.store(room, Ordering::Release);
        }
    }

    /// True if a new message certainly fits now (false means: ask under the lock). The
    /// reader's count only grows, so the answer stays true until this writer writes again.
    fn has_room(&self) -> bool {
        self.written.load(Ordering::Relaxed) < self.room_until.load(Ordering::Acquire)
    }
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

    /// True if a frame can be written now; when not, the owner gets `Writable` later.
    pub(crate) fn check_write(&self) -> bool {
        if self.out_hint().has_room() {
            return true;
        }
        let (ok, swap) = {
            let mut d = self.out().lock();
            let ok = Self::check_write_locked(&mut d);
            (ok, Self::take_swap_events(&mut d))
        };
        self.report_to_self(swap);
        ok
    }

    fn check_write_locked(d: &mut Direction) -> bool {
        if d.reader_closed {
            return false;
        }
        if !d.in_message() && d.must_spill() && !d.can_spill() {
            d.block_writer();
            return false;
        }
        true
    }

    /// Writes one frame. A frame without MORE completes the message and makes it readable.
    /// The HWM is checked at the first frame of a message only, as libzmq does.
    pub(crate) fn write(&self, mut msg: Msg) -> Result<(), WriteError> {
        self.write_from(&mut msg).map_err(|r| r.with(msg))
    }

    /// [`PipeEnd::write`] from the caller's frame: on success the frame is taken out of `msg`
    /// (left empty); refused, it stays there. A socket's send path, where handing the frame
    /// back inside a large error value would cost a copy through memory per layer.
    #[inline]
    pub(crate) fn write_from(&self, msg: &mut Msg) -> Result<(), Refused> {
        if self.write_quiet(msg)? {
            self.wake_reader();
        }
        Ok(())
    }

    /// Tells the reader its end has become readable (after [`PipeEnd::write_quiet`]).
    pub(crate) fn wake_reader(&self) {
        self.notify_peer(PipeEvent::Readable);
    }

    /// Like [`PipeEnd::write`], but instead of waking a sleeping reader it answers whether
    /// the reader must be woken: a writer with a batch of messages wakes it once, with
    /// [`PipeEnd::wake_reader`], after the last one, as libzmq's flush does. Woken at the
    /// first message, the reader could look before the rest of the batch is in.
    /// The frame is taken from `msg` as by [`PipeEnd::write_from`].
    pub(crate) fn write_quiet(&self, msg: &mut Msg) -> Result<bool, Refused> {
        let (result, swap) = {
            let mut d = self.out().lock();
            let result = Self::write_locked(&mut d, msg);
            self.out_hint().publish(&d);
            (result, Self::take_swap_events(&mut d))
        };
        self.report_to_self(swap);
        result
    }

    /// Writes frames from the front of `frames` under one lock, as [`PipeEnd::write_quiet`]
    /// would one by one, and answers whether the reader must be woken. It stops at the first
    /// frame the pipe refuses for its high-water mark, which stays at the front of `frames`
    /// with those after it; if the peer closed, the frames are dropped.
    pub(crate) fn write_batch(&self, frames: &mut VecDeque<Msg>) -> bool {
        let (wake, swap) = {
            let mut d = self.out().lock();
            if let Some(wake) = Self::hand_over_batch(&mut d, frames) {
                self.out_hint().publish(&d);
                return wake;
            }
            let mut wake = false;
            while let Some(mut msg) = frames.pop_front() {
                match Self::write_locked(&mut d, &mut msg) {
                    Ok(w) => wake |= w,
                    Err(Refused::Full) => {
                        frames.push_front(msg);
                        break;
                    }
                    Err(Refused::Closed) => {
                        frames.clear();
                        break;
                    }
                }
            }
            self.out_hint().publish(&d);
            (wake, Self::take_swap_events(&mut d))
        };
        self.report_to_self(swap);
        wake
    }

    /// The common case of [`PipeEnd::write_batch`] in O(1): when the queue is empty (its reader
    /// took everything) and the whole batch fits under the HWM, the batch becomes the queue and
    /// the caller gets the queue's empty buffer back to fill next, instead of every frame being
    /// moved once more. `None` when the frame-by-frame rules must decide (a swap store,
    /// conflate, a closed reader, a message in progress, or not enough room).
    fn hand_over_batch(d: &mut Direction, frames: &mut VecDeque<Msg>) -> Option<bool> {
        if frames.is_empty()
            || !d.queue.is_empty()
            || d.conflate
            || d.reader_closed
            || d.overflow.is_some()
            || d.overflowed > 0
            || d.to_overflow
            || d.discard
        {
            return None;
        }
        // One pass: complete messages, the frames they span, and the octets.
        let (mut complete, mut readable, mut bytes) = (0usize, 0usize, 0u64);
        for (i, m) in frames.iter().enumerate() {
            bytes += m.len() as u64;
            if !m.more() {
                complete += 1;
                readable = i + 1;
            }
        }
        // libzmq checks the HWM at the first frame of every message, the unfinished one too.
        let starts = complete + usize::from(readable < frames.len());
        if d.hwm > 0 && d.written - d.read + starts as u64 > d.hwm {
            return None;
        }
        if d.byte_limit > 0 {
            if d.bytes_queued() + bytes > d.byte_limit {
                return None;
            }
            d.bytes_written += bytes;
        }
        std::mem::swap(&mut d.queue, frames);
        d.readable = readable;
        d.written += complete as u64;
        Some(complete > 0 && std::mem::replace(&mut d.reader_asleep, false))
    }

    /// Swap state changes waiting to be told (almost always none: no allocation then).
    fn take_swap_events(d: &mut Direction) -> Vec<SwapState> {
        if d.swap_events.is_empty() {
            Vec::new()
        } else {
            std::mem::take(&mut d.swap_events)
        }
    }

    /// Tells this end's owner about swap state changes of what it writes.
    fn report_to_self(&self, swap: Vec<SwapState>) {
        for e in swap {
            self.notify_self(PipeEvent::Swap(e));
        }
    }

    /// The write itself, under the direction's lock; true if the reader was asleep and must
    /// be woken. The frame is taken out of `msg` unless the write is refused.
    fn write_locked(d: &mut Direction, msg: &mut Msg) -> Result<bool, Refused> {
        if d.reader_closed {
            return Err(Refused::Closed);
        }
        let last = !msg.more();
        if d.discard {
            d.discard = !last;
            drop(std::mem::take(msg));
            return Ok(false);
        }
        let first = !d.in_message();
        if first && d.must_spill() {
            if !d.can_spill() {
                d.block_writer();
                if d.overflow.is_some() && !d.swap_full_reported {
                    d.swap_full_reported = true;
                    d.swap_events.push(SwapState::Full);
                }
                return Err(Refused::Full);
            }
            if d.overflowed == 0 {
                d.swap_events.push(SwapState::Started);
            }
            d.to_overflow = true;
        }
        if d.to_overflow {
            let written = Self::write_overflow(d, msg, first, last)?;
            drop(std::mem::take(msg));
            return Ok(written);
        }
        if d.byte_limit > 0 {
            d.bytes_written += msg.len() as u64;
        }
        d.queue.push_back(std::mem::take(msg));
        if !last {
            return Ok(false);
        }
        if d.conflate {
            let keep = d.queue.len() - d.readable;
            let drop_n = d.readable;
            d.queue.drain(..drop_n);
            d.readable = keep;
            d.written = d.read + 1;
        } else {
            d.readable = d.queue.len();
            d.written += 1;
        }
        Ok(std::mem::replace(&mut d.reader_asleep, false))
    }

    /// Writes a frame of a message that goes to the swap store (or, after a failure, drops
    /// it); refused, the caller keeps it.
    fn write_overflow(
        d: &mut Direction,
        msg: &Msg,
        first: bool,
        last: bool,
    ) -> Result<bool, Refused> {
        let stored = d.overflow.as_mut().map(|o| o.push(msg));
        if !matches!(stored, Some(Ok(()))) {
            // Disk trouble: drop the store (and what it held) and fall back to the HWM
            // policy. A message none of which was stored gets that policy now; one whose head
            // went with the store is dropped whole.
            d.overflow = None;
            d.overflowed = 0;
            d.to_overflow = false;
            d.swap_events.push(SwapState::Failed);
            if first {
                d.block_writer();
                return Err(Refused::Full);
            }
            d.discard = !last;
            return Ok(false);
        }
        if !last {
            return Ok(false);
        }
        d.to_overflow = false;
        d.overflowed += 1;
        if d.readable == 0 {
            d.refill();
        }
        if d.readable == 0 {
            return Ok(false);
        }
        Ok(std::mem::replace(&mut d.reader_asleep, false))
    }

    /// Drops the frames of an unfinished message this end was writing.
    pub(crate) fn rollback(&self) {
        let mut d = self.out().lock();
        let keep = d.readable;
        if d.byte_limit > 0 {
            let dropped: u64 = d.queue.range(keep..).map(|m| m.len() as u64).sum();
            d.bytes_written -= dropped;
        }
        d.queue.truncate(keep);
        d.discard = false;
    }

    /// True if a frame is readable now; when not, the owner gets `Readable` later.
    pub(crate) fn check_read(&self) -> bool {
        let mut c = self.cache().lock();
        if !c.frames.is_empty() {
            return true;
        }
        let (ready, wake, swap) = {
            let mut d = self.inbound().lock();
            let wake = Self::account_read(&mut d, &mut c, self.in_hint());
            if d.readable == 0 {
                d.reader_asleep = true;
            }
            (d.readable > 0, wake, std::mem::take(&mut d.swap_events))
        };
        drop(c);
        self.after_account(wake, swap);
        ready
    }

    /// Brings the shared count of read messages up to date with what the reader consumed from
    /// its cache, refills from the swap store, publishes the writer's new room in `hint`, and
    /// answers whether a blocked writer may go on.
    fn account_read(d: &mut Direction, c: &mut ReaderCache, hint: &Hint) -> bool {
        d.read += std::mem::take(&mut c.consumed);
        let consumed_bytes = std::mem::take(&mut c.consumed_bytes);
        c.report_every = if d.hwm == 0 {
            u64::MAX
        } else {
            (d.hwm - low_water_mark(d.hwm)).max(1)
        };
        c.report_bytes = if d.byte_limit == 0 {
            u64::MAX
        } else {
            d.bytes_read += consumed_bytes;
            (d.byte_limit / 2).max(1)
        };
        if d.wake_bytes > 0 {
            d.bytes_consumed += consumed_bytes;
            c.report_bytes = c.report_bytes.min(d.wake_bytes);
        }
        if d.readable == 0 || d.overflowed > 0 {
            d.refill();
        }
        hint.publish(d);
        if d.writer_blocked && d.may_resume() {
            d.writer_blocked = false;
            return true;
        }
        false
    }

    /// Tells the writer what [`PipeEnd::account_read`] found (rarely anything).
    fn after_account(&self, wake: bool, swap: Vec<SwapState>) {
        if wake {
            self.notify_peer(PipeEvent::Writable);
        }
        self.report_to_writer(swap);
    }

    /// Swap changes found while reading go to the writer's owner (rarely non-empty).
    fn report_to_writer(&self, swap: Vec<SwapState>) {
        for e in swap {
            self.notify_peer(PipeEvent::Swap(e));
        }
    }

    /// The next frame of the reader's cache, counted as consumed when it ends a message (and
    /// reported every HWM-LWM messages).
    #[inline]
    fn take_cached(&self, c: &mut ReaderCache) -> Option<Msg> {
        let msg = c.frames.pop_front()?;
        self.count_taken(c, &msg);
        Some(msg)
    }

    /// Reads the next frame. Frames come from the reader's cache; when it is empty, every
    /// readable frame moves into it under one lock of the shared queue.
    #[inline]
    pub(crate) fn read(&self) -> Read {
        let mut msg = Msg::new();
        match self.read_into(&mut msg) {
            ReadState::Frame => Read::Msg(msg),
            ReadState::Empty => Read::Empty,
            ReadState::Closed => Read::Closed,
        }
    }

    /// [`PipeEnd::read`] into `out` (which it overwrites): a socket's receive path, where the
    /// frame goes straight to its destination instead of through a return value per layer
    /// (each such hand-over is a store and a wider reload the CPU cannot forward).
    #[inline]
    pub(crate) fn read_into(&self, out: &mut Msg) -> ReadState {
        let mut c = self.cache().lock();
        if let Some(msg) = c.frames.pop_front() {
            *out = msg;
            self.count_taken(&mut c, out);
            return ReadState::Frame;
        }
        match self.read_shared(c) {
            Read::Msg(msg) => {
                *out = msg;
                ReadState::Frame
            }
            Read::Empty => ReadState::Empty,
            Read::Closed => ReadState::Closed,
        }
    }

    /// Counts `msg`, just taken from the reader's cache, as [`PipeEnd::take_cached`] does.
    #[inline]
    fn count_taken(&self, c: &mut ReaderCache, msg: &Msg) {
        c.consumed_bytes += msg.len() as u64;
        if !msg.more() {
            c.consumed += 1;
            if c.consumed >= c.report_every || c.consumed_bytes >= c.report_bytes {
                self.report_consumed(c);
            }
        }
    }

    /// [`PipeEnd::read`] with the reader's cache empty: refills it from the shared queue.
    #[inline(never)]
    fn read_shared(&self, mut c: LightGuard<'_, ReaderCache>) -> Read {
        let (msg, wake, swap) = {
            let mut d = self.inbound().lock();
            let wake = Self::account_read(&mut d, &mut c, self.in_hint());
            if d.readable == 0 {
                let closed = d.writer_closed && d.queue.is_empty() && d.overflowed == 0;
                if !closed {
                    d.reader_asleep = true;
                }
                let swap = std::mem::take(&mut d.swap_events);
                drop(d);
                drop(c);
                self.after_account(wake, swap);
                return if closed { Read::Closed } else { Read::Empty };
            }
            let msg = if d.conflate {
                // Conflate replaces what is queued: take one frame at a time.
                d.readable -= 1;
                d.queue.pop_front()
            } else {
                Self::take_readable(&mut d, &mut c.frames);
                c.frames.pop_front()
            };
            let mut wake = wake;
            if let Some(m) = &msg {
                c.consumed_bytes += m.len() as u64;
            }
            if msg.as_ref().is_some_and(|m| !m.more()) {
                c.consumed += 1;
                if c.consumed >= c.report_every || c.consumed_bytes >= c.report_bytes {
                    wake |= Self::account_read(&mut d, &mut c, self.in_hint());
                }
            }
            (msg, wake, std::mem::take(&mut d.swap_events))
        };
        drop(c);
        self.after_account(wake, swap);
        msg.map_or(Read::Empty, Read::Msg)
    }

    /// Reads frames into `each` for as long as it answers true: what the reader's cache holds,
    /// then at most one hand-over from the shared queue (an I/O thread encoding a stream takes
    /// the cache's lock once per batch instead of once per frame). It stops after that
    /// hand-over's frames rather than coming straight back: an I/O thread that keeps up with
    /// its writer would otherwise take one or two messages at a time, moving the queue's lock
    /// between the cores at each, where writing out what it has gives the writer time to
    /// queue a real batch. Measured (64 B, alternating runs): DEALER -> ROUTER 2.36 -> 2.54
    /// M/s, PUB -> 4 SUB 2.13 -> 2.29 M/s, tcp PUSH -> PULL 8.0 -> 8.6 M/s (slowest runs 5.8
    /// -> 7.4).
    pub(crate) fn read_each(&self, mut each: impl FnMut(Msg) -> bool) -> Drained {
        let mut handed_over = false;
        loop {
            {
                let mut c = self.cache().lock();
                while let Some(msg) = self.take_cached(&mut c) {
                    if !each(msg) {
                        return Drained::Stopped;
                    }
                }
            }
            if handed_over {
                return Drained::Batch;
            }
            handed_over = true;
            match self.read() {
                Read::Msg(msg) => {
                    if !each(msg) {
                        return Drained::Stopped;
                    }
                }
                Read::Empty => return Drained::Empty,
                Read::Closed => return Drained::Closed,
            }
        }
    }

    /// Moves every readable frame from the shared queue into the (empty) reader cache.
    fn take_readable(d: &mut Direction, cache: &mut VecDeque<Msg>) {
        if d.readable == d.queue.len() {
            std::mem::swap(&mut d.queue, cache);
        } else {
            let n = d.readable;
            cache.extend(d.queue.drain(..n));
        }
        d.readable = 0;
    }

    /// Reports consumed messages while the cache still holds more, so that a writer blocked
    /// at the HWM resumes at the low-water mark rather than when the whole batch is read.
    #[cold]
    fn report_consumed(&self, c: &mut ReaderCache) {
        let (wake, swap) = {
            let mut d = self.inbound().lock();
            let wake = Self::account_read(&mut d, c, self.in_hint());
            (wake, std::mem::take(&mut d.swap_events))
        };
        self.after_account(wake, swap);
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Recorder(Mutex<Vec<(PipeId, PipeEvent)>>);
    impl PipeNotify for Recorder {
        fn notify(&self, id: PipeId, event: PipeEvent) {
            self.0.lock().push((id, event));
        }
    }

    fn frame(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::copy_from(data);
        m.set_more(more);
        m
    }

    /// A pipe with high-water mark `hwm` both ways.
    fn pair_with_hwm(hwm: u64) -> (PipeEnd, PipeEnd) {
        let cfg = DirectionConfig {
            hwm,
            ..DirectionConfig::default()
        };
        pair(cfg.clone(), cfg)
    }

    /// Frames from (data, more) pairs, in order.
    fn frames(spec: &[(&[u8], bool)]) -> VecDeque<Msg> {
        spec.iter().map(|&(d, more)| frame(d, more)).collect()
    }

    fn read_data(end: &PipeEnd) -> Option<Vec<u8>> {
        match end.read() {
            Read::Msg(m) => Some(m.data().to_vec()),
            _ => None,
        }
    }

    #[test]
    fn multipart_becomes_readable_only_when_complete() {
        let (a, b) = pair(DirectionConfig::default(), DirectionConfig::default());
        a.write(frame(b"1", true)).unwrap();
        assert!(!b.check_read());
        a.write(frame(b"2", false)).unwrap();
        assert!(b.check_read());
        assert_eq!(read_data(&b).unwrap(), b"1");
        assert_eq!(read_data(&b).unwrap(), b"2");
        assert!(matches!(b.read(), Read::Empty));
    }

    #[test]
    fn quiet_writes_leave_waking_the_reader_to_the_writer() {
        let (a, b) = pair(DirectionConfig::default(), DirectionConfig::default());
        let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
        b.set_owner(rec.clone());
        assert!(!b.check_read(), "the reader goes to sleep");
        assert!(
            !a.write_quiet(&mut frame(b"1", true)).unwrap(),
            "no message complete yet"
        );
        assert!(
            a.write_quiet(&mut frame(b"2", false)).unwrap(),
            "the sleeping reader needs waking"
        );
        assert!(
            !a.write_quiet(&mut frame(b"3", false)).unwrap(),
            "once per batch"
        );
        assert!(rec.0.lock().is_empty(), "nothing told yet");
        a.wake_reader();
        assert_eq!(rec.0.lock().as_slice(), &[(b.id(), PipeEvent::Readable)]);
        assert_eq!(read_data(&b).unwrap(), b"1");
    }

    #[test]
    fn batch_writes_stop_at_the_hwm_and_keep_the_rest_in_order() {
        let (a, b) = pair_with_hwm(2);
        let mut frames = frames(&[(b"1", true), (b"2", false), (b"3", false), (b"4", false)]);
        frames.push_back(frame(b"5", false));
        assert!(
            a.write_batch(&mut frames),
            "the reader starts asleep: wake it"
        );
        let left: Vec<Vec<u8>> = frames.iter().map(|m| m.data().to_vec()).collect();
        assert_eq!(left, vec![b"4".to_vec(), b"5".to_vec()], "two messages fit");
        for want in [b"1", b"2", b"3"] {
            assert_eq!(read_data(&b).unwrap(), want);
        }
        assert!(matches!(b.read(), Read::Empty));
        assert!(
            a.write_batch(&mut frames),
            "asleep again after finding it empty"
        );
        assert!(frames.is_empty());
        b.close();
        let mut more = VecDeque::from([frame(b"6", false)]);
        assert!(!a.write_batch(&mut more));
        assert!(more.is_empty(), "a closed peer: dropped");
    }

    #[test]
    fn a_batch_into_an_empty_queue_is_handed_over_whole() {
        // Two messages and the head of a third fill an HWM of 3 exactly: the batch becomes
        // the queue (the caller gets an empty buffer back), the unfinished message stays
        // invisible, and a rollback drops only it.
        let (a, b) = pair_with_hwm(3);
        let mut frames = frames(&[(b"1", false), (b"2", true), (b"3", false), (b"4", true)]);
        assert!(a.write_batch(&mut frames), "the reader starts asleep");
        assert!(frames.is_empty());
        for want in [b"1", b"2", b"3"] {
            assert_eq!(read_data(&b).unwrap(), want);
        }
        assert!(
            matches!(b.read(), Read::Empty),
            "the unfinished message is not readable"
        );
        a.rollback();
        a.write(frame(b"5", false)).unwrap();
        assert_eq!(read_data(&b).unwrap(), b"5", "the rolled-back head is gone");
        assert!(matches!(b.read(), Read::Empty));
    }

    #[test]
    fn a_batch_that_would_pass_the_hwm_is_not_handed_over() {
        // Three messages written and one read (HWM 3): the reader moved the other two into
        // its cache, so the queue is empty but they still count, and only one message of a
        // batch of two fits.
        let (a, b) = pair_with_hwm(3);
        for d in [b"1", b"2", b"3"] {
            a.write(frame(d, false)).unwrap();
        }
        assert_eq!(read_data(&b).unwrap(), b"1");
        let mut frames: VecDeque<Msg> = [frame(b"4", false), frame(b"5", false)].into();
        a.write_batch(&mut frames);
        assert_eq!(frames.len(), 1, "one message fits");
        assert_eq!(frames[0].data(), b"5");
        for want in [b"2", b"3", b"4"] {
            assert_eq!(read_data(&b).unwrap(), want);
        }
        assert!(matches!(b.read(), Read::Empty));
    }

    /// A pipe with these directions, and a recorder of what A's owner is told.
    fn watched_pair(
        a_to_b: DirectionConfig,
        b_to_a: DirectionConfig,
    ) -> (PipeEnd, PipeEnd, Arc<Recorder>) {
        let (a, b) = pair(a_to_b, b_to_a);
        let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
        a.set_owner(rec.clone());
        (a, b, rec)
    }

    /// A pipe with `hwm` both ways, and a recorder of what A's owner is told.
    fn pair_watching_writer(hwm: u64) -> (PipeEnd, PipeEnd, Arc<Recorder>) {
        let cfg = DirectionConfig {
            hwm,
            ..DirectionConfig::default()
        };
        watched_pair(cfg.clone(), cfg)
    }

    #[test]
    fn a_refused_write_leaves_the_frame_with_the_caller() {
        let (a, b, _rec) = pair_watching_writer(1);
        let mut first = frame(b"one", false);
        a.write_from(&mut first).unwrap();
        assert!(first.is_empty(), "taken on success");
        let mut second = frame(b"two", false);
        assert_eq!(a.write_from(&mut second), Err(Refused::Full));
        assert_eq!(second.data(), b"two", "kept when full");
        let mut out = Msg::new();
        assert_eq!(b.read_into(&mut out), ReadState::Frame);
        assert_eq!(out.data(), b"one");
        b.close();
        assert_eq!(a.write_from(&mut second), Err(Refused::Closed));
        assert_eq!(second.data(), b"two", "kept when the peer closed");
    }

    #[test]
    fn hwm_counts_whole_messages_and_lwm_wakes_writer() {
        let (a, b, rec) = pair_watching_writer(4);
        for _ in 0..4 {
            a.write(frame(b"x", true)).unwrap();
            a.write(frame(b"y", false)).unwrap();
        }
        assert!(matches!(
            a.write(frame(b"z", false)),
            Err(WriteError::Full(_))
        ));
        assert!(!a.check_write());
        // Read one message: 3 queued > lwm 2, no wake yet.
        read_data(&b);
        read_data(&b);
        assert!(rec.0.lock().is_empty());
        read_data(&b);
        read_data(&b);
        assert_eq!(rec.0.lock().as_slice(), &[(a.id(), PipeEvent::Writable)]);
        assert!(a.check_write());
    }

    /// A pipe whose A→B direction takes no new message past `limit` queued octets (no HWM),
    /// and a recorder of what A's owner is told.
    fn pair_with_byte_limit(limit: u64) -> (PipeEnd, PipeEnd, Arc<Recorder>) {
        let cfg = DirectionConfig {
            byte_limit: limit,
            ..DirectionConfig::default()
        };
        watched_pair(cfg, DirectionConfig::default())
    }

    #[test]
    fn a_byte_limit_refuses_new_messages_but_finishes_a_started_one() {
        let (a, b, rec) = pair_with_byte_limit(10);
        a.write(frame(&[1; 6], false)).unwrap();
        // 6 < 10 queued: a message may start, and goes in whole past the limit.
        a.write(frame(&[2; 6], true)).unwrap();
        a.write(frame(&[3; 6], false)).unwrap();
        assert!(matches!(
            a.write(frame(b"z", false)),
            Err(WriteError::Full(_))
        ));
        assert!(!a.check_write());
        // 18 queued; the limit's half (5) is the mark to resume at.
        assert_eq!(read_data(&b).unwrap(), [1; 6]);
        assert_eq!(read_data(&b).unwrap(), [2; 6]);
        assert!(rec.0.lock().is_empty(), "12 then 6 queued: above 5");
        assert_eq!(read_data(&b).unwrap(), [3; 6]);
        assert!(matches!(b.read(), Read::Empty));
        assert_eq!(rec.0.lock().as_slice(), &[(a.id(), PipeEvent::Writable)]);
        assert!(a.check_write());
        a.write(frame(b"z", false)).unwrap();
        assert_eq!(read_data(&b).unwrap(), b"z");
    }

    #[test]
    fn a_byte_limit_resumes_the_writer_before_the_reader_cache_is_empty() {
        // The reader takes all four messages into its cache at once; the writer must not wait
        // for the last of them: it is told once half the limit has been consumed.
        let (a, b, rec) = pair_with_byte_limit(16);
        for i in 0..4u8 {
            a.write(frame(&[i; 4], false)).unwrap();
        }
        assert!(!a.check_write(), "16 octets queued");
        assert_eq!(read_data(&b).unwrap(), [0; 4]);
        assert!(rec.0.lock().is_empty());
        assert_eq!(read_data(&b).unwrap(), [1; 4]);
        assert_eq!(
            rec.0.lock().as_slice(),
            &[(a.id(), PipeEvent::Writable)],
            "8 consumed of 16: down to half"
        );
        assert!(a.check_write());
    }

    #[test]
    fn a_byte_limit_counts_batches_and_rollbacks() {
        let (a, b, _rec) = pair_with_byte_limit(8);
        // 3 + 3 + 3 octets: the batch passes the limit, so it goes frame by frame and the
        // third message (starting at 6 < 8) is still taken; the fourth waits.
        let mut batch = frames(&[
            (b"aaa", false),
            (b"bbb", false),
            (b"ccc", false),
            (b"d", false),
        ]);
        a.write_batch(&mut batch);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].data(), b"d");
        for want in [b"aaa", b"bbb", b"ccc"] {
            assert_eq!(read_data(&b).unwrap(), want);
        }
        assert!(matches!(b.read(), Read::Empty));
        // A rolled-back head does not count: 7 octets written and dropped leave room.
        a.write(frame(b"1234567", true)).unwrap();
        a.rollback();
        let mut small = frames(&[(b"12345", false), (b"678", false)]);
        a.write_batch(&mut small);
        assert!(
            small.is_empty(),
            "8 octets fit an empty pipe with a limit of 8"
        );
        assert_eq!(read_data(&b).unwrap(), b"12345");
        assert_eq!(read_data(&b).unwrap(), b"678");
    }

    #[test]
    fn conflate_ignores_the_byte_limit() {
        let cfg = DirectionConfig {
            conflate: true,
            byte_limit: 1,
            ..DirectionConfig::default()
        };
        let (a, b) = pair(cfg, DirectionConfig::default());
        for d in [b"first", b"newer"] {
            a.write(frame(d, false)).unwrap();
        }
        assert_eq!(read_data(&b).unwrap(), b"newer");
    }

    #[test]
    fn read_each_reads_in_order_stops_when_asked_and_reports_the_end() {
        let (a, b, rec) = pair_watching_writer(4);
        for i in 0..4u8 {
            a.write(frame(&[i], true)).unwrap();
            a.write(frame(&[i + 100], false)).unwrap();
        }
        assert!(matches!(
            a.write(frame(b"z", false)),
            Err(WriteError::Full(_))
        ));
        let mut got = Vec::new();
        let end = b.read_each(|m| {
            got.push(m.data()[0]);
            got.len() < 3
        });
        assert_eq!(end, Drained::Stopped);
        assert_eq!(got, [0, 100, 1]);
        // Consumption is reported as by read: past the low-water mark the writer may go on.
        let end = b.read_each(|m| {
            got.push(m.data()[0]);
            true
        });
        assert_eq!(end, Drained::Empty);
        assert_eq!(got, [0, 100, 1, 101, 2, 102, 3, 103]);
        assert_eq!(rec.0.lock().as_slice(), &[(a.id(), PipeEvent::Writable)]);
        a.write(frame(b"last", false)).unwrap();
        a.close();
        let mut tail = Vec::new();
        let mut read_tail = || {
            b.read_each(|m| {
                tail.push(m.data().to_vec());
                true
            })
        };
        // One hand-over per call: the frame, then the end.
        assert_eq!(read_tail(), Drained::Batch);
        assert_eq!(read_tail(), Drained::Closed);
        assert_eq!(tail, [b"last".to_vec()]);
    }

    #[test]
    fn a_stopped_writer_resumes_after_wake_bytes_were_consumed_before_the_low_water_mark() {
        for wake_bytes in [0u64, 300] {
            let cfg = DirectionConfig {
                hwm: 10,
                wake_bytes,
                ..DirectionConfig::default()
            };
            let (a, b) = pair(cfg.clone(), cfg);
            let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
            a.set_owner(rec.clone());
            for _ in 0..10 {
                a.write(Msg::copy_from(&[7u8; 100])).unwrap();
            }
            assert!(!a.check_write(), "at the HWM");
            // Three messages (300 octets) consumed: wake_bytes reached, far above the LWM (5).
            for _ in 0..3 {
                assert!(matches!(b.read(), Read::Msg(_)));
            }
            let woken = rec.0.lock().contains(&(a.id(), PipeEvent::Writable));
            assert_eq!(woken, wake_bytes > 0, "wake_bytes {wake_bytes}");
            if wake_bytes == 0 {
                continue;
            }
            // The HWM still holds: room for exactly the three consumed.
            for _ in 0..3 {
                a.write(Msg::copy_from(&[7u8; 100])).unwrap();
            }
            assert!(!a.check_write(), "at the HWM again");
        }
    }

    #[test]
    fn read_each_stops_after_one_hand_over() {
        let (a, b) = pair_with_hwm(10);
        a.write(frame(b"a1", false)).unwrap();
        a.write(frame(b"a2", false)).unwrap();
        let mut got = Vec::new();
        // A frame written while the first batch is read waits for the next call.
        let end = b.read_each(|m| {
            if got.is_empty() {
                a.write(frame(b"b1", false)).unwrap();
            }
            got.push(m.data().to_vec());
            true
        });
        assert_eq!(end, Drained::Batch);
        assert_eq!(got, [b"a1".to_vec(), b"a2".to_vec()]);
        let end = b.read_each(|m| {
            got.push(m.data().to_vec());
            true
        });
        assert_eq!(end, Drained::Batch);
        assert_eq!(got.last().unwrap(), b"b1");
        assert_eq!(b.read_each(|_| true), Drained::Empty);
    }

    #[test]
    fn check_write_without_the_lock_never_promises_room_that_is_not_there() {
        for hwm in [1u64, 3, 10] {
            let cfg = DirectionConfig {
                hwm,
                ..DirectionConfig::default()
            };
            let (a, b) = pair(cfg.clone(), cfg);
            let mut seed = 12345u64;
            let (mut fast_yes, mut full) = (0, 0);
            for _ in 0..2000 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if seed >> 62 == 0 {
                    let _ = b.read();
                    continue;
                }
                let fast = a.out_hint().has_room();
                let ok = a.check_write();
                assert!(!fast || ok, "the hint said room where the lock said none");
                match a.write(frame(b"m", false)) {
                    Ok(()) => {
                        assert!(ok, "a write fitted after check_write said no (hwm {hwm})");
                        fast_yes += usize::from(fast);
                    }
                    Err(WriteError::Full(_)) => {
                        assert!(!ok, "check_write promised room, the write found none");
                        full += 1;
                    }
                    Err(WriteError::Closed) => unreachable!(),
                }
            }
            assert!(fast_yes > 0 && full > 0, "both paths exercised (hwm {hwm})");
            b.close();
            assert!(!a.check_write(), "no room towards a closed reader");
        }
    }

    #[test]
    fn reader_is_woken_once_per_sleep() {
        let (a, b) = pair(DirectionConfig::default(), DirectionConfig::default());
        let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
        b.set_owner(rec.clone());
        a.write(frame(b"1", false)).unwrap();
        a.write(frame(b"2", false)).unwrap();
        assert_eq!(rec.0.lock().len(), 1, "one wake for a burst");
        read_data(&b);
        read_data(&b);
        assert!(matches!(b.read(), Read::Empty));
        a.write(frame(b"3", false)).unwrap();
        assert_eq!(rec.0.lock().len(), 2);
    }

    #[test]
    fn rollback_drops_unfinished_message_only() {
        let (a, b) = pair(DirectionConfig::default(), DirectionConfig::default());
        a.write(frame(b"done", false)).unwrap();
        a.write(frame(b"half", true)).unwrap();
        a.rollback();
        a.write(frame(b"next", false)).unwrap();
        assert_eq!(read_data(&b).unwrap(), b"done");
        assert_eq!(read_data(&b).unwrap(), b"next");
    }

    #[test]
    fn close_delivers_pending_then_closed_and_refuses_writes() {
        let (a, b) = pair(DirectionConfig::default(), DirectionConfig::default());
        let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
        b.set_owner(rec.clone());
        a.write(frame(b"last words", false)).unwrap();
        a.write(frame(b"cut", true)).unwrap();
        a.close();
        assert!(rec.0.lock().contains(&(b.id(), PipeEvent::PeerClosed)));
        assert_eq!(read_data(&b).unwrap(), b"last words");
        assert!(matches!(b.read(), Read::Closed));
        assert!(matches!(
            b.write(frame(b"x", false)),
            Err(WriteError::Closed)
        ));
    }

    #[test]
    fn conflate_keeps_only_newest_message() {
        let cfg = DirectionConfig {
            hwm: 0,
            conflate: true,
            swap: None,
            byte_limit: 0,
            wake_bytes: 0,
        };
        let (a, b) = pair(cfg.clone(), cfg);
        for i in 0..5u8 {
            a.write(frame(&[i], false)).unwrap();
        }
        assert_eq!(read_data(&b).unwrap(), vec![4]);
        assert!(matches!(b.read(), Read::Empty));
    }

    #[test]
    fn late_owner_is_told_about_pending_data() {
        let (a, b) = pair(DirectionConfig::default(), DirectionConfig::default());
        a.write(frame(b"early", false)).unwrap();
        let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
        b.set_owner(rec.clone());
        assert_eq!(rec.0.lock().as_slice(), &[(b.id(), PipeEvent::Readable)]);
    }

    #[test]
    fn swap_spills_beyond_hwm_keeps_order_and_multipart_and_refills() {
        let dir = swap::default_dir();
        let cfg = DirectionConfig {
            hwm: 2,
            conflate: false,
            swap: Some(SwapConfig {
                budget: 1 << 20,
                dir,
            }),
            byte_limit: 0,
            wake_bytes: 0,
        };
        let (a, b) = pair(cfg, DirectionConfig::default());
        for i in 0..50u8 {
            a.write(frame(&[i], true)).unwrap();
            a.write(frame(&[i, i], false)).unwrap();
        }
        assert_eq!(
            a.shared.dirs[0].lock().queue.len(),
            4,
            "memory stays at the HWM"
        );
        for i in 0..50u8 {
            assert_eq!(read_data(&b).unwrap(), vec![i]);
            assert_eq!(read_data(&b).unwrap(), vec![i, i]);
        }
        assert!(matches!(b.read(), Read::Empty));
    }

    #[test]
    fn swap_full_falls_back_to_hwm() {
        let cfg = DirectionConfig {
            hwm: 1,
            conflate: false,
            swap: Some(SwapConfig {
                budget: 30,
                dir: swap::default_dir(),
            }),
            byte_limit: 0,
            wake_bytes: 0,
        };
        let (a, b) = pair(cfg, DirectionConfig::default());
        a.write(frame(b"in memory", false)).unwrap();
        a.write(frame(b"0123456789012345678901", false)).unwrap();
        assert!(matches!(
            a.write(frame(b"x", false)),
            Err(WriteError::Full(_))
        ));
        assert!(!a.check_write());
        read_data(&b);
        assert!(a.check_write(), "room again once the store drains");
    }

    /// A store whose pushes fail from the `ok`-th on.
    struct FailingStore {
        ok: usize,
        frames: VecDeque<Msg>,
    }

    impl OverflowStore for FailingStore {
        fn has_room(&self) -> bool {
            true
        }
        fn push(&mut self, frame: &Msg) -> crate::error::Result<()> {
            if self.ok == 0 {
                return Err(crate::error::Error::Os(libc::ENOSPC));
            }
            self.ok -= 1;
            let mut copy = Msg::copy_from(frame.data());
            copy.set_more(frame.more());
            self.frames.push_back(copy);
            Ok(())
        }
        fn pop(&mut self) -> crate::error::Result<Option<Msg>> {
            Ok(self.frames.pop_front())
        }
    }

    fn hwm1_with_store(ok: usize) -> (PipeEnd, PipeEnd) {
        let cfg = DirectionConfig {
            hwm: 1,
            ..DirectionConfig::default()
        };
        let (a, b) = pair(cfg, DirectionConfig::default());
        a.shared.dirs[0].lock().overflow = Some(Box::new(FailingStore {
            ok,
            frames: VecDeque::new(),
        }));
        (a, b)
    }

    #[test]
    fn swap_failure_applies_the_hwm_policy_to_the_message_it_refused() {
        // The swap directory is gone: the message that cannot be stored is refused (Full),
        // not accepted and lost.
        let cfg = DirectionConfig {
            hwm: 1,
            conflate: false,
            swap: Some(SwapConfig {
                budget: 1 << 20,
                dir: "/nonexistent-zmq-swap-dir".into(),
            }),
            byte_limit: 0,
            wake_bytes: 0,
        };
        let (a, b) = pair(cfg, DirectionConfig::default());
        a.write(frame(b"in memory", false)).unwrap();
        assert!(matches!(
            a.write(frame(b"no room", false)),
            Err(WriteError::Full(_))
        ));
        assert!(!a.check_write());
        assert_eq!(read_data(&b).unwrap(), b"in memory");
        assert!(matches!(b.read(), Read::Empty));
        a.write(frame(b"next", false)).unwrap();
        assert_eq!(read_data(&b).unwrap(), b"next");

        // The same with a store that fails at once.
        let (a, b) = hwm1_with_store(0);
        a.write(frame(b"0", false)).unwrap();
        assert!(matches!(
            a.write(frame(b"1", true)),
            Err(WriteError::Full(_))
        ));
        assert_eq!(read_data(&b).unwrap(), b"0");
    }

    #[test]
    fn swap_failure_in_the_middle_of_a_message_drops_it_whole() {
        let (a, b) = hwm1_with_store(1);
        a.write(frame(b"m0", false)).unwrap();
        // m1's first frame is stored, its second push fails: m1 is dropped, all of it.
        a.write(frame(b"m1-0", true)).unwrap();
        a.write(frame(b"m1-1", true)).unwrap();
        assert!(a.check_write(), "no HWM check in the middle of a message");
        a.write(frame(b"m1-2", false)).unwrap();
        assert_eq!(read_data(&b).unwrap(), b"m0");
        assert!(matches!(b.read(), Read::Empty));
        a.write(frame(b"m2-0", true)).unwrap();
        a.write(frame(b"m2-1", false)).unwrap();
        assert_eq!(read_data(&b).unwrap(), b"m2-0");
        assert_eq!(read_data(&b).unwrap(), b"m2-1");
        assert!(matches!(b.read(), Read::Empty));
    }

    #[test]
    fn swap_state_changes_are_reported_to_the_writer() {
        let cfg = DirectionConfig {
            hwm: 1,
            conflate: false,
            swap: Some(SwapConfig {
                budget: 30,
                dir: swap::default_dir(),
            }),
            byte_limit: 0,
            wake_bytes: 0,
        };
        let (a, b) = pair(cfg, DirectionConfig::default());
        let rec = Arc::new(Recorder(Mutex::new(Vec::new())));
        a.set_owner(rec.clone());
        let swaps = |rec: &Recorder| -> Vec<SwapState> {
            rec.0
                .lock()
                .iter()
                .filter_map(|(_, e)| match e {
                    PipeEvent::Swap(s) => Some(*s),
                    _ => None,
                })
                .collect()
        };
        a.write(frame(b"memory", false)).unwrap();
        assert!(swaps(&rec).is_empty());
        a.write(frame(b"0123456789012345678901", false)).unwrap();
        assert_eq!(swaps(&rec), vec![SwapState::Started]);
        assert!(a.write(frame(b"x", false)).is_err());
        assert!(a.write(frame(b"y", false)).is_err());
        assert_eq!(
            swaps(&rec),
            vec![SwapState::Started, SwapState::Full],
            "FULL once"
        );
        read_data(&b);
        read_data(&b);
        assert_eq!(
            swaps(&rec),
            vec![SwapState::Started, SwapState::Full, SwapState::Stopped]
        );
    }

    #[test]
    fn lwm_matches_libzmq() {
        assert_eq!(low_water_mark(1000), 500);
        assert_eq!(low_water_mark(1), 1);
        assert_eq!(low_water_mark(10_000), 10_000 - 1024);
    }
}
