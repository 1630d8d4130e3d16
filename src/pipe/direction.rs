//! Pipes (layer L1), one direction's accounting under its lock: the high-water mark in
//! messages and the byte bound, when a stopped writer may resume, the swap store's spill and
//! refill; and the hint its writer checks without the lock.
#![forbid(unsafe_code)]

use super::*;

impl Direction {
    fn full(&self) -> bool {
        (self.hwm > 0 && self.written - self.read >= self.hwm) || self.over_bytes()
    }

    /// True while the queued octets are at the byte limit or past it.
    fn over_bytes(&self) -> bool {
        self.byte_limit > 0 && self.bytes_queued() >= self.byte_limit
    }

    /// Octets written and not yet consumed by the reader (0 without a byte limit).
    pub(super) fn bytes_queued(&self) -> u64 {
        self.bytes_written - self.bytes_read
    }

    /// True once a blocked writer may go on: the queue is down to the low-water mark (and to
    /// half the byte limit, if there is one).
    fn drained(&self) -> bool {
        (self.hwm == 0 || self.written - self.read <= low_water_mark(self.hwm))
            && (self.byte_limit == 0 || self.bytes_queued() <= self.byte_limit / 2)
    }

    /// Stops the writer at the HWM (it gets `Writable` when [`Direction::may_resume`]).
    pub(super) fn block_writer(&mut self) {
        if !self.writer_blocked {
            self.writer_blocked = true;
            self.blocked_at = self.bytes_consumed;
        }
    }

    /// True once a stopped writer may go on: the queue drained to its low-water mark, the
    /// swap store has room, or `wake_bytes` were consumed since it stopped and there is room.
    pub(super) fn may_resume(&self) -> bool {
        self.drained()
            || self.can_spill()
            || (self.wake_bytes > 0
                && self.bytes_consumed - self.blocked_at >= self.wake_bytes
                && !self.full())
    }

    pub(super) fn in_message(&self) -> bool {
        self.queue.len() > self.readable || self.to_overflow || self.discard
    }

    /// True if a new message must go to the overflow store (or wait).
    pub(super) fn must_spill(&self) -> bool {
        self.full() || self.overflowed > 0
    }

    pub(super) fn can_spill(&self) -> bool {
        self.overflow.as_ref().is_some_and(|o| o.has_room())
    }

    /// Moves whole messages from the overflow store into memory, up to the HWM. A store that
    /// fails is dropped (its messages are lost) and the pipe goes back to plain HWM behaviour.
    pub(super) fn refill(&mut self) {
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

impl Hint {
    /// Mirrors `d`: the room is the reader's count plus the HWM, none (0: ask under the lock)
    /// while a swap store, conflation or a closed reader decides instead, and unbounded
    /// without a HWM.
    pub(super) fn publish(&self, d: &Direction) {
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
    pub(super) fn has_room(&self) -> bool {
        self.written.load(Ordering::Relaxed) < self.room_until.load(Ordering::Acquire)
    }
}
