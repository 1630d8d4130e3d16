//! How a connection sizes its reads: how much to ask of the kernel next ([`read_plan`]) and
//! how much must be queued before a tcp stream reports readable ([`low_water_for`]), so that
//! large frames arrive in few reads straight into their buffers.
//!
//! The low-water mark relies on Linux's handling of `SO_RCVLOWAT` on tcp: `epoll` reports the
//! socket readable once the mark is queued, when the peer closed, or when the receive window
//! runs low (so a mark larger than the kernel can queue never stalls the connection); the
//! kernel grows the receive buffer to hold the mark unless the application fixed its size
//! (`ZMQ_RCVBUF`), in which case it caps the mark at half of it.
#![forbid(unsafe_code)]

/// Bytes asked of the kernel per read.
const READ_CHUNK: usize = 64 * 1024;
/// What is asked for after a large frame, or beyond its rest (the next header and a little).
const READ_TAIL: usize = 8 * 1024;
/// At most this much is asked for at once to complete a large frame (as the decoder reserves
/// memory for a frame in steps, a peer's claimed size alone does not make us allocate).
pub(super) const READ_MAX: usize = 4 << 20;
/// A frame at least this long (header and body) is read to its end and no further: see
/// [`read_plan`].
const LARGE_FRAME: usize = READ_CHUNK / 2;

/// How much a connection whose large frames are copied out of the input reads past the end
/// of the frame at the front (see [`read_plan`]).
const READ_AHEAD_APART: usize = 256 * 1024;
// Every frame read past its end is one CURVE decrypts apart from the input.
const _: () = assert!(LARGE_FRAME >= crate::mechanism::curve::OPEN_APART_MIN);

/// How to size the next read: `(room, ask)` = reserve `room` octets in the input buffer and
/// read at most `ask`. `total` is the length of the frame at the front of the input (0 before
/// its header is in), `wanted` what it still lacks, `last_large` the size of the last large
/// frame (0 = none; updated here), `apart` true if large frames are decoded into buffers of
/// their own (CURVE decrypts them there, see `curve::OPEN_APART_MIN`).
///
/// The rest of a large frame is read in one call, straight into the buffer the decoder
/// reserved for it (asking for more room would move what arrived so far), and no further: the
/// next frame's first octets would otherwise land behind it in the buffer the delivered frame
/// keeps, and have to be copied out of it. After a large frame, the next read asks for a
/// little only, into a buffer as large as that frame: a next frame of the same size then needs
/// neither a copy nor another allocation (libzmq's decoder reads a large body straight into
/// its message, after copying at most one batch). When large frames are decoded apart, no
/// frame keeps the input buffer, so it is read [`READ_AHEAD_APART`] past the frame's end:
/// several frames per read, and as many fewer reads (and acknowledgements) per frame.
pub(super) fn read_plan(
    total: usize,
    wanted: usize,
    last_large: &mut usize,
    apart: bool,
) -> (usize, usize) {
    if apart && (total >= LARGE_FRAME || (total == 0 && *last_large > 0)) {
        if total >= LARGE_FRAME {
            *last_large = total.min(READ_MAX);
        }
        let n = wanted + READ_AHEAD_APART;
        (n, n)
    } else if wanted > 0 && total >= LARGE_FRAME {
        *last_large = total.min(READ_MAX);
        (wanted, wanted)
    } else if wanted > READ_TAIL {
        (wanted, wanted + READ_TAIL)
    } else {
        match std::mem::take(last_large) {
            0 => (READ_CHUNK, READ_CHUNK),
            size => (size, READ_TAIL),
        }
    }
}

/// The most a large frame's rest makes the stream wait for before it reports readable.
const LOW_WATER_MAX: usize = 512 * 1024;
/// A frame's rest below this is read as it comes.
const LOW_WATER_MIN: usize = 64 * 1024;

/// The receive low-water mark for a stream whose front frame is `total` octets long and lacks
/// `wanted`: while much of a large frame is still to come, the stream reports readable only
/// once a good part of it is there, so the I/O thread reads it in a few large reads rather
/// than waking for every segment the peer sends (the frame is no use before its end).
pub(super) fn low_water_for(total: usize, wanted: usize) -> usize {
    if total >= LARGE_FRAME && wanted >= LOW_WATER_MIN {
        wanted.min(LOW_WATER_MAX)
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_frame_is_read_to_its_end_and_no_further() {
        let mut last = 0;
        // 64 KiB frames: the first read took all but the last 9 octets of the first one.
        let total = 65536 + 9;
        assert_eq!(
            read_plan(total, 9, &mut last, false),
            (9, 9),
            "exactly the rest"
        );
        assert_eq!(last, total);
        assert_eq!(
            read_plan(0, 0, &mut last, false),
            (total, READ_TAIL),
            "then a little, into room for a frame as large"
        );
        assert_eq!(last, 0);
        let rest = total - READ_TAIL;
        assert_eq!(read_plan(total, rest, &mut last, false), (rest, rest));
        // A frame beyond READ_MAX comes in steps of READ_MAX (the caller caps `wanted`).
        assert_eq!(
            read_plan(64 << 20, READ_MAX, &mut last, false),
            (READ_MAX, READ_MAX)
        );
        assert_eq!(last, READ_MAX);
    }

    #[test]
    fn large_frames_decoded_apart_are_read_past_their_end() {
        let mut last = 0;
        let total = 65536 + 42;
        let n = 1000 + READ_AHEAD_APART;
        assert_eq!(read_plan(total, 1000, &mut last, true), (n, n));
        assert_eq!(last, total);
        assert_eq!(
            read_plan(total, 0, &mut last, true),
            (READ_AHEAD_APART, READ_AHEAD_APART),
            "the frame is in: the next ones"
        );
        assert_eq!(
            read_plan(0, 0, &mut last, true),
            (READ_AHEAD_APART, READ_AHEAD_APART),
            "no header yet after a large frame"
        );
        assert_eq!(last, total, "still in a run of large frames");
        assert_eq!(
            read_plan(300, 100, &mut last, true),
            (total, READ_TAIL),
            "a small frame is read as after any large one"
        );
        assert_eq!(last, 0, "and ends the run");
        assert_eq!(read_plan(0, 0, &mut last, true), (READ_CHUNK, READ_CHUNK));
    }

    #[test]
    fn small_and_medium_frames_read_ahead() {
        let mut last = 0;
        assert_eq!(read_plan(0, 0, &mut last, false), (READ_CHUNK, READ_CHUNK));
        assert_eq!(
            read_plan(300, 100, &mut last, false),
            (READ_CHUNK, READ_CHUNK)
        );
        let medium = LARGE_FRAME - 1;
        assert_eq!(
            read_plan(medium, medium - 10, &mut last, false),
            (medium - 10, medium - 10 + READ_TAIL),
            "a medium frame's rest and the next header in one read"
        );
        assert_eq!(last, 0);
    }

    #[test]
    fn a_large_frames_rest_sets_the_low_water_mark_and_anything_else_clears_it() {
        let total = (1 << 20) + 9;
        assert_eq!(
            low_water_for(total, total - 60_000),
            LOW_WATER_MAX,
            "capped"
        );
        assert_eq!(low_water_for(total, 300_000), 300_000, "exactly the rest");
        assert_eq!(low_water_for(total, LOW_WATER_MIN), LOW_WATER_MIN);
        assert_eq!(low_water_for(total, LOW_WATER_MIN - 1), 1, "a short rest");
        assert_eq!(low_water_for(total, 0), 1, "the frame is in");
        assert_eq!(low_water_for(0, 0), 1, "no header yet");
        assert_eq!(
            low_water_for(LARGE_FRAME - 1, LARGE_FRAME - 10),
            1,
            "a medium frame"
        );
    }
}
