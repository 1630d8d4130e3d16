//! Pipes (layer L1), the reader's side of a [`PipeEnd`]: the reader's cache, filled from the
//! shared queue under one lock per batch, and reporting what it consumed so that a writer
//! stopped at its HWM resumes.
#![forbid(unsafe_code)]

use super::*;

impl PipeEnd {
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
}
