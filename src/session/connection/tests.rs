//! Unit tests of a connection's session (L3 objects): its pipe directions and a REQ's check of
//! each reply's shape.

use super::{READ_AHEAD_BYTES, ReplyShape, WAKE_BYTES, pipe_directions};
use crate::consts::ZMQ_PULL;
use crate::options::Options;

#[test]
fn a_session_bounds_its_read_ahead_unless_the_receive_queue_is_unbounded() {
    let mut o = Options::new(ZMQ_PULL);
    o.sndhwm = 7;
    o.rcvhwm = 9;
    let (to_peer, from_peer) = pipe_directions(&o);
    assert_eq!((to_peer.hwm, to_peer.byte_limit), (7, 0));
    assert_eq!((to_peer.wake_bytes, from_peer.wake_bytes), (WAKE_BYTES, 0));
    assert_eq!((from_peer.hwm, from_peer.byte_limit), (9, READ_AHEAD_BYTES));
    o.rcvhwm = 0;
    let (_, from_peer) = pipe_directions(&o);
    assert_eq!((from_peer.hwm, from_peer.byte_limit), (0, 0));
    o.rcvhwm = 9;
    o.conflate = true;
    let (to_peer, from_peer) = pipe_directions(&o);
    assert_eq!(
        (to_peer.hwm, from_peer.hwm, from_peer.byte_limit),
        (0, 0, 0)
    );
}

fn check(frames: &[(bool, usize)]) -> bool {
    let mut shape = ReplyShape::Bottom;
    frames.iter().all(|&(more, len)| shape.accept(more, len))
}

#[test]
fn a_req_accepts_replies_shaped_as_libzmq_requires() {
    assert!(check(&[(true, 0), (false, 5)]));
    assert!(check(&[(true, 0), (true, 1), (true, 0), (false, 0)]));
    assert!(check(&[(true, 4), (true, 0), (false, 3)])); // with a request id
    assert!(check(&[(true, 0), (false, 2), (true, 0), (false, 2)])); // two replies
    assert!(!check(&[(false, 3)])); // no delimiter
    assert!(!check(&[(false, 0)])); // a delimiter with nothing after it
    assert!(!check(&[(true, 3), (false, 3)])); // a non-empty first frame
    assert!(!check(&[(true, 4), (false, 3)])); // a request id without the delimiter
    assert!(!check(&[(true, 4), (true, 4), (true, 0), (false, 1)]));
}
