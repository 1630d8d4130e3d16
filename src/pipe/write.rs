//! Pipes (layer L1), the writer's side of a [`PipeEnd`]: checking for room, writing one frame
//! or a batch under one lock (handing an empty queue the whole batch), waking the reader, the
//! swap store's part of a write, and rolling back an unfinished message.
#![forbid(unsafe_code)]

use super::*;

impl PipeEnd {
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
}
