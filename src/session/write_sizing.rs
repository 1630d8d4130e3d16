//! How a connection sizes its writes ([`WriteSizing`]): tcp writes stay within one 64 KiB
//! offload unit, except through the body of a very large frame, which goes out in a few large
//! writes.
//!
//! Measured over loopback here (PUSH -> PULL, medians of four interleaved runs): with 56 KiB
//! writes a 1 MiB frame took 18 writes and the sending I/O thread was the bottleneck; writing
//! the rest of a body of more than [`BULK_BODY`] in writes of at most [`BULK_WRITE`] that end
//! with it took 1 MiB from 4.0 k to 4.9 k msg/s (the sender's CPU per message down a fifth)
//! and 2 MiB from 1.6 k to 2.0 k. Bodies of 512 KiB and less keep the unit: 512 KiB writes
//! that crossed into the next 512 KiB frame ran 8.3 k -> 6.7 k msg/s, and 64 KiB frames run
//! best with one unit per write (see `Stream::write_limit`). Unbounded writes, ending
//! anywhere in a later frame, lost at every size.
#![forbid(unsafe_code)]

/// A body with more than this still to send is written in bulk, to its end.
const BULK_BODY: usize = 768 * 1024;
/// The most octets one bulk write carries.
const BULK_WRITE: usize = 512 * 1024;

/// The write bound of one connection, and how far a bulk write through a large body got.
#[derive(Debug, Clone, Copy)]
pub(super) struct WriteSizing {
    /// The stream's bound on an ordinary write (0 = none; see `Stream::write_limit`).
    unit: usize,
    /// What is left of the body the last bulk write ended in (0 = none).
    bulk_rest: usize,
}

impl WriteSizing {
    /// Sizing for a stream whose ordinary writes carry at most `unit` octets (0 = no bound).
    pub(super) fn new(unit: usize) -> WriteSizing {
        WriteSizing { unit, bulk_rest: 0 }
    }

    /// True if the waiting run at the front, `front` octets long, is (the rest of) a body to
    /// write in bulk.
    fn bulk(&self, front: usize) -> bool {
        self.unit > 0 && (front > BULK_BODY || (front > 0 && front == self.bulk_rest))
    }

    /// The most octets the next write may carry (0 = no bound), given the length of the
    /// first waiting run of output (`zmtp::Connection::front_output_len`).
    pub(super) fn limit(&self, front: usize) -> usize {
        if self.bulk(front) {
            front.min(BULK_WRITE)
        } else {
            self.unit
        }
    }

    /// Notes that a write sized by [`WriteSizing::limit`] for a front run of `front` octets
    /// carried `written`.
    pub(super) fn wrote(&mut self, front: usize, written: usize) {
        self.bulk_rest = if self.bulk(front) && written < front {
            front - written
        } else {
            0
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIT: usize = 56 * 1024;

    /// The write sizes a run of `frames` bodies of `body` octets goes out in, each after a
    /// 9-octet header, when every write carries all it may.
    fn writes_for(body: usize, frames: usize) -> Vec<usize> {
        let mut runs: std::collections::VecDeque<usize> =
            (0..frames).flat_map(|_| [9, body]).collect();
        let mut sizing = WriteSizing::new(UNIT);
        let mut writes = Vec::new();
        while let Some(&front) = runs.front() {
            let limit = sizing.limit(front);
            let mut left = if limit == 0 { usize::MAX } else { limit };
            let mut written = 0;
            while left > 0
                && let Some(run) = runs.front_mut()
            {
                let n = (*run).min(left);
                *run -= n;
                left -= n;
                written += n;
                if *run == 0 {
                    runs.pop_front();
                }
            }
            sizing.wrote(front, written);
            writes.push(written);
        }
        writes
    }

    #[test]
    fn the_body_of_a_very_large_frame_goes_out_in_bulk_writes_that_end_with_it() {
        let mib = 1 << 20;
        let first = UNIT;
        assert_eq!(
            writes_for(mib, 2),
            [
                first,
                BULK_WRITE,
                mib + 9 - first - BULK_WRITE,
                first,
                BULK_WRITE,
                mib + 9 - first - BULK_WRITE
            ],
            "a unit with the header, then the body's rest in two writes"
        );
        let two = 2 * mib;
        let w = writes_for(two, 1);
        assert_eq!(w.iter().sum::<usize>(), two + 9);
        assert!(w[1..].iter().all(|&n| n <= BULK_WRITE), "{w:?}");
        assert_eq!(w.len(), 1 + (two + 9 - first).div_ceil(BULK_WRITE), "{w:?}");
    }

    #[test]
    fn frames_up_to_the_bulk_size_keep_the_unit() {
        for body in [64 * 1024, 512 * 1024, BULK_BODY] {
            let w = writes_for(body, 3);
            assert!(w.iter().all(|&n| n <= UNIT), "{body}: {w:?}");
            assert_eq!(w.iter().sum::<usize>(), 3 * (body + 9));
        }
    }

    #[test]
    fn a_short_write_continues_the_bulk_through_the_same_body() {
        let mut s = WriteSizing::new(UNIT);
        let body = 900 * 1024;
        assert_eq!(s.limit(body), BULK_WRITE);
        s.wrote(body, 100_000);
        let rest = body - 100_000;
        assert_eq!(
            s.limit(rest),
            BULK_WRITE.min(rest),
            "the same body, below the bulk size"
        );
        s.wrote(rest, BULK_WRITE);
        assert_eq!(
            s.limit(rest - BULK_WRITE),
            rest - BULK_WRITE,
            "the rest, to its end"
        );
        s.wrote(rest - BULK_WRITE, rest - BULK_WRITE);
        assert_eq!(s.limit(9), UNIT, "the next header is an ordinary write");
    }

    #[test]
    fn unbounded_streams_stay_unbounded() {
        let mut s = WriteSizing::new(0);
        assert_eq!(s.limit(4 << 20), 0);
        s.wrote(4 << 20, 1 << 20);
        assert_eq!(s.limit(3 << 20), 0);
    }
}
