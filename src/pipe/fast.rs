//! The lock-free pipe direction: what a direction without conflate or a swap store uses.
//!
//! Layer L1. Frames travel through a [`ypipe`](super::ypipe) queue: the writer pushes a
//! message's frames and publishes them with one atomic swap when the message is complete
//! (a batch publishes once), the reader moves them out, and neither ever waits for the other.
//! Each side's state sits behind a light lock only its own thread takes (so that a `PipeEnd`
//! stays `Sync`); what the other side must see is in atomics on cache lines of their own:
//! the writer's count of complete messages and octets, the reader's reported counts, and the
//! closed flags.
//!
//! The high-water mark is libzmq's: checked at a message's first frame against the reader's
//! reported count, which the reader brings up to date every HWM-LWM messages, at half the
//! byte bound, and whenever it runs dry. A writer that finds the pipe full raises
//! `writer_blocked` and checks again; a reader that reports checks the flag after storing its
//! count (both sequentially consistent), so one of the two always sees the other and the
//! blocked writer is told `Writable` once the queue is down to the low-water mark.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::ypipe::{self, Consumer, Producer};
use super::{Drained, Padded, Read, WriteError, low_water_mark};
use crate::msg::Msg;
use crate::sys::{LightGuard, LightLock};

/// The writer's side: the queue's producer and its own counts.
struct Writer {
    queue: Producer<Msg>,
    /// Complete messages written.
    written: u64,
    /// Octets written (frames of the unfinished message included), counted with a bound only.
    bytes: u64,
    /// Octets of the unfinished message's frames.
    pending_bytes: u64,
    /// Frames of an unfinished message are in the queue.
    in_message: bool,
    /// A new message surely fits while `written` and `bytes` are below these (the reader's
    /// counts plus the HWM and the byte bound when last looked at): the reader's line is read
    /// again only when they are reached.
    room: (u64, u64),
}

/// The reader's side: the queue's consumer and what it consumed.
struct Reader {
    queue: Consumer<Msg>,
    /// Complete messages consumed.
    read: u64,
    /// Octets consumed, counted with a bound only.
    bytes: u64,
    /// `read` and `bytes` as last reported to the writer.
    reported: (u64, u64),
    /// The next report is due when `read` or `bytes` reaches these.
    report_at: (u64, u64),
}

/// What the writer publishes for the reader (and for its own lock-free `check_write`).
#[derive(Default)]
struct WriterShared {
    written: AtomicU64,
    bytes: AtomicU64,
    in_message: AtomicBool,
    closed: AtomicBool,
}

/// What the reader publishes for the writer.
#[derive(Default)]
struct ReaderShared {
    read: AtomicU64,
    bytes: AtomicU64,
    closed: AtomicBool,
}

/// One lock-free direction of a pipe.
pub(super) struct FastLane {
    writer: Padded<LightLock<Writer>>,
    reader: Padded<LightLock<Reader>>,
    ws: Padded<WriterShared>,
    rs: Padded<ReaderShared>,
    hwm: AtomicU64,
    /// Octets past which no new message is taken (0: no bound).
    byte_limit: u64,
    writer_blocked: AtomicBool,
}

impl FastLane {
    /// A direction with high-water mark `hwm` (0: none) and byte bound `byte_limit` (0: none).
    pub(super) fn new(hwm: u64, byte_limit: u64) -> FastLane {
        let (producer, consumer) = ypipe::channel();
        let lane = FastLane {
            writer: Padded(LightLock::new(Writer {
                queue: producer,
                written: 0,
                bytes: 0,
                pending_bytes: 0,
                in_message: false,
                room: (0, 0),
            })),
            reader: Padded(LightLock::new(Reader {
                queue: consumer,
                read: 0,
                bytes: 0,
                reported: (0, 0),
                report_at: (0, 0),
            })),
            ws: Padded::default(),
            rs: Padded::default(),
            hwm: AtomicU64::new(hwm),
            byte_limit,
            writer_blocked: AtomicBool::new(false),
        };
        let first = lane.next_report(0, 0);
        lane.reader.lock().report_at = first;
        lane
    }

    /// Changes the high-water mark.
    pub(super) fn set_hwm(&self, hwm: u64) {
        self.hwm.store(hwm, Ordering::SeqCst);
        // The writer's cached room was computed with the old mark.
        self.writer.lock().room = (0, 0);
    }

    /// The room a writer at the reader's present counts has: messages and octets below which
    /// a new message fits.
    fn room(&self) -> (u64, u64) {
        let hwm = self.hwm.load(Ordering::Relaxed);
        let msgs = if hwm == 0 {
            u64::MAX
        } else {
            self.rs.read.load(Ordering::SeqCst) + hwm
        };
        let bytes = if self.byte_limit == 0 {
            u64::MAX
        } else {
            self.rs.bytes.load(Ordering::SeqCst) + self.byte_limit
        };
        (msgs, bytes)
    }

    /// True if a new message may not start now, by the reader's reported counts.
    fn full(&self, written: u64, bytes: u64) -> bool {
        let hwm = self.hwm.load(Ordering::Relaxed);
        (hwm > 0 && written - self.rs.read.load(Ordering::SeqCst) >= hwm)
            || (self.byte_limit > 0
                && bytes - self.rs.bytes.load(Ordering::SeqCst) >= self.byte_limit)
    }

    /// The full-pipe protocol: raise `writer_blocked`, then look again; true if still full
    /// (the reader will then report `Writable`).
    fn block(&self, written: u64, bytes: u64) -> bool {
        self.writer_blocked.store(true, Ordering::SeqCst);
        self.full(written, bytes)
    }

    /// True if a frame can be written now; when not, the writer is told `Writable` later.
    pub(super) fn check_write(&self) -> bool {
        if self.rs.closed.load(Ordering::Acquire) {
            return false;
        }
        if self.ws.in_message.load(Ordering::Relaxed) {
            return true;
        }
        let written = self.ws.written.load(Ordering::Relaxed);
        let bytes = self.ws.bytes.load(Ordering::Relaxed);
        !self.full(written, bytes) || !self.block(written, bytes)
    }

    /// Writes one frame and publishes it if it completes a message; answers whether the
    /// reader must be woken.
    pub(super) fn write(&self, msg: Msg) -> Result<bool, WriteError> {
        let mut w = self.writer.lock();
        self.push(&mut w, msg)?;
        Ok(w.queue.publish())
    }

    /// Writes frames from the front of `frames` and publishes once, as [`FastLane::write`]
    /// would one by one; stops at the first frame refused for the HWM (it stays in `frames`),
    /// drops them all if the reader closed. Answers whether the reader must be woken.
    pub(super) fn write_batch(&self, frames: &mut VecDeque<Msg>) -> bool {
        let mut w = self.writer.lock();
        while let Some(msg) = frames.pop_front() {
            match self.push(&mut w, msg) {
                Ok(()) => {}
                Err(WriteError::Full(msg)) => {
                    frames.push_front(msg);
                    break;
                }
                Err(WriteError::Closed(_)) => {
                    frames.clear();
                    break;
                }
            }
        }
        w.queue.publish()
    }

    /// Holds the writer's side for a run of writes published together ([`Staged::publish`]).
    pub(super) fn stage(&self) -> Staged<'_> {
        Staged {
            lane: self,
            writer: self.writer.lock(),
        }
    }

    /// Pushes one frame (committing the message at its last frame), without publishing.
    fn push(&self, w: &mut Writer, msg: Msg) -> Result<(), WriteError> {
        if self.rs.closed.load(Ordering::Acquire) {
            return Err(WriteError::Closed(msg));
        }
        if !w.in_message && (w.written >= w.room.0 || w.bytes >= w.room.1) {
            w.room = self.room();
            if (w.written >= w.room.0 || w.bytes >= w.room.1) && self.block(w.written, w.bytes) {
                return Err(WriteError::Full(msg));
            }
        }
        let last = !msg.more();
        if self.byte_limit > 0 {
            let len = msg.len() as u64;
            w.bytes += len;
            w.pending_bytes += len;
        }
        w.queue.push(msg);
        if !last {
            if !w.in_message {
                w.in_message = true;
                self.ws.in_message.store(true, Ordering::Relaxed);
            }
            return Ok(());
        }
        w.queue.commit();
        w.written += 1;
        w.pending_bytes = 0;
        if w.in_message {
            w.in_message = false;
            self.ws.in_message.store(false, Ordering::Relaxed);
        }
        self.ws.written.store(w.written, Ordering::Relaxed);
        if self.byte_limit > 0 {
            self.ws.bytes.store(w.bytes, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Drops the frames of an unfinished message.
    pub(super) fn rollback(&self) {
        let mut w = self.writer.lock();
        Self::drop_unfinished(&mut w);
        self.ws.in_message.store(false, Ordering::Relaxed);
    }

    fn drop_unfinished(w: &mut Writer) {
        w.queue.rollback();
        w.bytes -= std::mem::take(&mut w.pending_bytes);
        w.in_message = false;
    }

    /// Reads the next frame; sets `wake` if a blocked writer must be told `Writable`. (An
    /// out-parameter rather than a returned pair, which costs the frame another copy.)
    #[inline]
    pub(super) fn read(&self, wake: &mut bool) -> Read {
        let mut r = self.reader.lock();
        loop {
            if let Some(msg) = r.queue.pop() {
                *wake |= self.consumed(&mut r, &msg);
                return Read::Msg(msg);
            }
            match self.run_dry(&mut r, wake) {
                Some(Drained::Closed) => return Read::Closed,
                Some(_) => return Read::Empty,
                None => {}
            }
        }
    }

    /// Reads frames into `each` while it answers true, under one lock of the reader's side;
    /// sets `wake` as [`FastLane::read`] does.
    pub(super) fn read_each(&self, mut each: impl FnMut(Msg) -> bool, wake: &mut bool) -> Drained {
        let mut r = self.reader.lock();
        loop {
            while let Some(msg) = r.queue.pop() {
                *wake |= self.consumed(&mut r, &msg);
                if !each(msg) {
                    return Drained::Stopped;
                }
            }
            if let Some(end) = self.run_dry(&mut r, wake) {
                return end;
            }
        }
    }

    /// Counts a frame handed out; reports at the low-water mark's distance or half the byte
    /// bound. True if a blocked writer must be woken.
    #[inline]
    fn consumed(&self, r: &mut Reader, msg: &Msg) -> bool {
        if self.byte_limit > 0 {
            r.bytes += msg.len() as u64;
        }
        if msg.more() {
            return false;
        }
        r.read += 1;
        if r.read >= r.report_at.0 || r.bytes >= r.report_at.1 {
            return self.report(r);
        }
        false
    }

    /// The queue looked empty: reports, then answers `Closed` (the writer closed and nothing
    /// is left), `Empty` (the reader went to sleep: the next message wakes it) or `None`
    /// (frames arrived meanwhile: read on).
    fn run_dry(&self, r: &mut Reader, wake: &mut bool) -> Option<Drained> {
        *wake |= self.report(r);
        if self.ws.closed.load(Ordering::Acquire) {
            return if r.queue.has_items() {
                None
            } else {
                Some(Drained::Closed)
            };
        }
        if r.queue.sleep() {
            Some(Drained::Empty)
        } else {
            None
        }
    }

    /// Publishes the reader's counts; true if the writer was blocked and may now go on.
    fn report(&self, r: &mut Reader) -> bool {
        if r.reported != (r.read, r.bytes) {
            r.reported = (r.read, r.bytes);
            self.rs.read.store(r.read, Ordering::SeqCst);
            self.rs.bytes.store(r.bytes, Ordering::SeqCst);
        }
        r.report_at = self.next_report(r.read, r.bytes);
        self.writer_blocked.load(Ordering::SeqCst)
            && self.drained(r)
            && self.writer_blocked.swap(false, Ordering::SeqCst)
    }

    /// When the reader's next report is due, counted from `read` messages and `bytes` octets:
    /// HWM-LWM messages later, or half the byte bound later.
    fn next_report(&self, read: u64, bytes: u64) -> (u64, u64) {
        let hwm = self.hwm.load(Ordering::Relaxed);
        let by_count = if hwm == 0 {
            u64::MAX
        } else {
            read + (hwm - low_water_mark(hwm)).max(1)
        };
        let by_bytes = if self.byte_limit == 0 {
            u64::MAX
        } else {
            bytes + (self.byte_limit / 2).max(1)
        };
        (by_count, by_bytes)
    }

    /// True once the queue is down to the low-water mark and to half the byte bound.
    fn drained(&self, r: &Reader) -> bool {
        let hwm = self.hwm.load(Ordering::Relaxed);
        let queued = self
            .ws
            .written
            .load(Ordering::Relaxed)
            .saturating_sub(r.read);
        let bytes = self
            .ws
            .bytes
            .load(Ordering::Relaxed)
            .saturating_sub(r.bytes);
        (hwm == 0 || queued <= low_water_mark(hwm))
            && (self.byte_limit == 0 || bytes <= self.byte_limit / 2)
    }

    /// True if a frame is readable now; when not, the reader is told `Readable` later. The
    /// flag says a blocked writer must be told `Writable`.
    pub(super) fn check_read(&self) -> (bool, bool) {
        let mut r = self.reader.lock();
        if r.queue.has_items() {
            return (true, false);
        }
        let mut wake = false;
        let ready = self.run_dry(&mut r, &mut wake).is_none();
        (ready, wake)
    }

    /// True if frames are readable (without going to sleep).
    pub(super) fn has_readable(&self) -> bool {
        self.reader.lock().queue.has_items()
    }

    /// True once the writer has closed.
    pub(super) fn writer_closed(&self) -> bool {
        self.ws.closed.load(Ordering::Acquire)
    }

    /// The writer closes: an unfinished message is dropped; what is published stays readable.
    pub(super) fn close_writer(&self) {
        let mut w = self.writer.lock();
        Self::drop_unfinished(&mut w);
        self.ws.in_message.store(false, Ordering::Relaxed);
        self.ws.closed.store(true, Ordering::Release);
    }

    /// The reader closes: the writer's next writes fail, and unread frames are dropped.
    pub(super) fn close_reader(&self) {
        self.rs.closed.store(true, Ordering::SeqCst);
        let mut r = self.reader.lock();
        while let Some(msg) = r.queue.pop() {
            drop(msg);
        }
    }
}

/// A run of writes under one hold of a lane's writer side (a session delivering what one read
/// decoded): each frame goes straight into the queue, and the complete messages become
/// readable together at [`Staged::publish`].
pub(super) struct Staged<'a> {
    lane: &'a FastLane,
    writer: LightGuard<'a, Writer>,
}

impl Staged<'_> {
    /// Writes one frame, as [`FastLane::write`] would, without publishing it yet.
    pub(super) fn write(&mut self, msg: Msg) -> Result<(), WriteError> {
        self.lane.push(&mut self.writer, msg)
    }

    /// Makes the complete messages written so far readable; true if the reader must be woken.
    pub(super) fn publish(&mut self) -> bool {
        self.writer.queue.publish()
    }
}
