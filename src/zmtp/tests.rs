//! Deterministic in-memory tests: two connections wired buffer to buffer with a manual clock.

use super::*;

fn cfg(socket_type: i32) -> Config {
    Config {
        handshake_ivl: 30_000,
        ..Config::with_defaults(socket_type, Security::default())
    }
}

/// Moves everything `from` wants to send into `to`.
fn pump(from: &mut Connection, to: &mut Connection, now: u64) -> Result<(), Failure> {
    let bytes = from.output().split();
    to.input(&bytes, now)
}

/// Moves the greetings' first stages (signature, major version, then the rest of `a`'s):
/// afterwards `b` has read all of `a`'s greeting and started its mechanism, and its output
/// holds the rest of its own greeting and its first commands.
pub(super) fn greet(a: &mut Connection, b: &mut Connection) {
    pump(a, b, 0).unwrap();
    pump(b, a, 0).unwrap();
    pump(a, b, 0).unwrap();
}

fn handshake(a: &mut Connection, b: &mut Connection) -> (PeerInfo, PeerInfo) {
    for _ in 0..3 {
        pump(a, b, 0).unwrap();
        pump(b, a, 0).unwrap();
    }
    let pa = match a.poll_event() {
        Some(Event::HandshakeDone(p)) => p,
        other => panic!("a: {other:?}"),
    };
    let pb = match b.poll_event() {
        Some(Event::HandshakeDone(p)) => p,
        other => panic!("b: {other:?}"),
    };
    (pa, pb)
}

#[test]
fn compatible_sockets_complete_the_handshake_and_exchange_frames() {
    let mut dealer_cfg = cfg(ZMQ_DEALER);
    dealer_cfg.routing_id = Some(Bytes::from_static(b"me"));
    let mut a = Connection::new(dealer_cfg, 0);
    let mut b = Connection::new(cfg(ZMQ_ROUTER), 0);
    let (pa, pb) = handshake(&mut a, &mut b);
    assert_eq!(pa.socket_type, ZMQ_ROUTER);
    assert_eq!(pb.socket_type, ZMQ_DEALER);
    assert_eq!(pb.routing_id.as_deref(), Some(&b"me"[..]));
    assert_eq!(pa.minor, 1);
    let mut m1 = Msg::copy_from(b"part1");
    m1.set_more(true);
    a.send(&m1, false);
    a.send(&Msg::copy_from(&vec![9u8; 70_000]), false);
    pump(&mut a, &mut b, 0).unwrap();
    let Some(Event::Message(r1)) = b.poll_event() else {
        panic!()
    };
    assert!(r1.more());
    assert_eq!(r1.data(), b"part1");
    let Some(Event::Message(r2)) = b.poll_event() else {
        panic!()
    };
    assert!(!r2.more());
    assert_eq!(r2.len(), 70_000);
}

#[test]
fn byte_at_a_time_input_is_handled() {
    let (mut a, mut b) = push_pull();
    a.send(&Msg::copy_from(b"hello"), false);
    let bytes = a.output().split();
    for byte in bytes.iter() {
        b.input(&[*byte], 0).unwrap();
    }
    assert!(matches!(b.poll_event(), Some(Event::Message(m)) if m.data() == b"hello"));
}

#[test]
fn incompatible_socket_types_fail_with_error_command() {
    let mut a = Connection::new(cfg(ZMQ_PUSH), 0);
    let mut b = Connection::new(cfg(ZMQ_PUB), 0);
    greet(&mut a, &mut b);
    // a gets the rest of b's greeting and READY, answers READY, then refuses b's type.
    assert_eq!(
        pump(&mut b, &mut a, 0),
        Err(Failure::IncompatibleSocketType)
    );
    let said = a.output().clone();
    assert!(said.windows(5).any(|w| w == b"ERROR"), "ERROR command sent");
    assert!(pump(&mut a, &mut b, 0).is_err());
    assert!(a.poll_event().is_none() && b.poll_event().is_none());
}

#[test]
fn mechanism_mismatch_is_detected() {
    let mut a = Connection::new(cfg(ZMQ_PULL), 0);
    let mut g = greeting(&Security::default());
    g[12..17].copy_from_slice(b"CURVE");
    assert_eq!(a.input(&g, 0), Err(Failure::MechanismMismatch));
}

#[test]
fn oversized_message_is_refused_before_allocation() {
    let mut pull = cfg(ZMQ_PULL);
    pull.maxmsgsize = 10;
    let mut a = Connection::new(cfg(ZMQ_PUSH), 0);
    let mut b = Connection::new(pull, 0);
    handshake(&mut a, &mut b);
    a.send(&Msg::copy_from(&[0u8; 11]), false);
    assert_eq!(pump(&mut a, &mut b, 0), Err(Failure::MessageTooLarge));
}

#[test]
fn handshake_times_out() {
    let mut a = Connection::new(cfg(ZMQ_PULL), 1000);
    assert_eq!(a.poll_timeout(), Some(31_000));
    assert!(a.handle_timeout(30_999).is_ok());
    assert_eq!(a.handle_timeout(31_000), Err(Failure::HandshakeTimeout));
}

#[test]
fn heartbeats_ping_pong_and_expire() {
    let mut hb = cfg(ZMQ_DEALER);
    hb.heartbeat_ivl = 100;
    hb.heartbeat_timeout = Some(300);
    hb.heartbeat_ttl = 1000;
    let mut a = Connection::new(hb, 0);
    let mut b = Connection::new(cfg(ZMQ_DEALER), 0);
    handshake(&mut a, &mut b);
    assert_eq!(a.poll_timeout(), Some(100));
    a.handle_timeout(100).unwrap();
    pump(&mut a, &mut b, 100).unwrap();
    // b answered with PONG and learned the TTL (1 s).
    assert_eq!(b.poll_timeout(), Some(1100));
    pump(&mut b, &mut a, 110).unwrap();
    a.handle_timeout(200).unwrap();
    // No answer to this PING: a gives up after the timeout.
    assert_eq!(a.handle_timeout(500), Err(Failure::HeartbeatTimeout));
    // b never hears from a again: the TTL expires.
    assert_eq!(b.handle_timeout(1100), Err(Failure::HeartbeatTimeout));
}

#[test]
fn subscriptions_use_commands_for_31_peers_and_come_back_as_messages() {
    let mut sub = Connection::new(cfg(ZMQ_SUB), 0);
    let mut publ = Connection::new(cfg(ZMQ_PUB), 0);
    handshake(&mut sub, &mut publ);
    sub.send(&Msg::copy_from(b"\x01topic"), true);
    let wire = sub.output().clone();
    assert_eq!(wire[0], frame::COMMAND, "sent as a command");
    pump(&mut sub, &mut publ, 0).unwrap();
    assert!(matches!(publ.poll_event(), Some(Event::Message(m)) if m.data() == b"\x01topic"));
}

#[test]
fn large_bodies_are_queued_by_reference_and_consumed_in_order() {
    let (mut a, mut b) = push_pull();
    let big = Msg::copy_from(&vec![5u8; 100_000]);
    a.send(&Msg::copy_from(b"small"), false);
    a.send(&big, false);
    a.send(&Msg::copy_from(b"after"), false);
    let mut slices = [std::io::IoSlice::new(&[]); 8];
    let n = a.output_slices(&mut slices, 0);
    assert!(
        slices[..n]
            .iter()
            .any(|s| s.as_ptr() == big.data().as_ptr()),
        "the body is not copied"
    );
    let total = a.output_len();
    // Consume in odd-sized steps, feeding the peer what a socket would have written.
    let mut wire = Vec::new();
    while a.output_len() > 0 {
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        let n = a.output_slices(&mut slices, 0);
        let step = slices[..n]
            .iter()
            .map(|s| s.len())
            .sum::<usize>()
            .min(7_777);
        let mut left = step;
        for s in &slices[..n] {
            let k = s.len().min(left);
            wire.extend_from_slice(&s[..k]);
            left -= k;
        }
        a.consume_output(step);
    }
    assert_eq!(wire.len(), total);
    assert_eq!(delivered_sizes(&mut b, &wire), vec![5, 100_000, 5]);
}

/// A PUSH and a PULL connection past their handshake.
fn push_pull() -> (Connection, Connection) {
    let mut a = Connection::new(cfg(ZMQ_PUSH), 0);
    let mut b = Connection::new(cfg(ZMQ_PULL), 0);
    handshake(&mut a, &mut b);
    (a, b)
}

/// Feeds `wire` to `b` and answers the sizes of the messages it delivers.
fn delivered_sizes(b: &mut Connection, wire: &[u8]) -> Vec<usize> {
    b.input(wire, 0).unwrap();
    std::iter::from_fn(|| match b.poll_event() {
        Some(Event::Message(m)) => Some(m.len()),
        _ => None,
    })
    .collect()
}

#[test]
fn the_front_output_run_is_a_queued_body_or_the_bytes_staged_around_it() {
    let (mut a, _b) = push_pull();
    assert_eq!(a.front_output_len(), 0);
    a.send(&Msg::copy_from(&[1u8; 100]), false);
    let small = a.front_output_len();
    assert!(small > 100, "a staged small frame: {small}");
    a.send(&Msg::copy_from(&vec![9u8; 300_000]), false);
    a.send(&Msg::copy_from(b"tail"), false);
    let ahead = a.front_output_len();
    assert!(
        ahead > small && ahead < 1000,
        "staged ahead of the body: {ahead}"
    );
    a.consume_output(ahead);
    assert_eq!(a.front_output_len(), 300_000, "the body by reference");
    a.consume_output(1000);
    assert_eq!(a.front_output_len(), 299_000, "its rest");
    a.consume_output(299_000);
    assert!(a.front_output_len() < 20, "the last frame, staged");
    a.consume_output(a.front_output_len());
    assert_eq!(a.front_output_len(), 0);
}

#[test]
fn output_slices_stop_at_the_write_limit() {
    let (mut a, mut b) = push_pull();
    let big = Msg::copy_from(&vec![9u8; 70_000]);
    a.send(&Msg::copy_from(&[1u8; 3000]), false);
    a.send(&big, false);
    a.send(&Msg::copy_from(b"tail"), false);
    let total = a.output_len();
    let mut wire = Vec::new();
    let mut writes = 0;
    while a.output_len() > 0 {
        let mut slices = [std::io::IoSlice::new(&[]); 8];
        let n = a.output_slices(&mut slices, 10_000);
        let step: usize = slices[..n].iter().map(|s| s.len()).sum();
        assert!(
            step > 0 && step <= 10_000,
            "one write carries {step} octets"
        );
        assert!(
            step == 10_000 || step == a.output_len(),
            "only the last is short"
        );
        for s in &slices[..n] {
            wire.extend_from_slice(s);
        }
        a.consume_output(step);
        writes += 1;
    }
    assert_eq!(writes, total.div_ceil(10_000));
    assert_eq!(delivered_sizes(&mut b, &wire), vec![3000, 70_000, 4]);
}

/// Moves everything `from` has to send into `to` and returns the frames `to` hands to its sink
/// (events stay queued for `poll_event`).
fn carry(from: &mut Connection, to: &mut Connection) -> Vec<Msg> {
    let bytes = from.output().split();
    to.input_buffer().extend_from_slice(&bytes);
    let mut sunk = Vec::new();
    to.process_with(0, &mut |m| {
        sunk.push(m);
        Ok(())
    })
    .unwrap();
    sunk
}

/// [`carry`], then the frames queued as events, side frames copied out as a session does.
fn carry_all(from: &mut Connection, to: &mut Connection) -> Vec<Msg> {
    let mut got = carry(from, to);
    while let Some(ev) = to.poll_event() {
        match ev {
            Event::Message(m) => got.push(m),
            Event::SideFrame(piece) => got.extend(to.side_frame(piece).unwrap()),
            other => panic!("{other:?}"),
        }
    }
    got
}
#[test]
fn process_with_sinks_frames_in_stream_order_and_queues_what_is_declined() {
    let mut a = Connection::new(cfg(ZMQ_PUB), 0);
    let mut b = Connection::new(cfg(ZMQ_XSUB), 0);
    // The handshake's last bytes and the first frames arrive together: the frames after
    // HandshakeDone must wait behind it in the event queue.
    for _ in 0..2 {
        pump(&mut a, &mut b, 0).unwrap();
        pump(&mut b, &mut a, 0).unwrap();
    }
    assert!(a.is_active());
    let sizes = [
        0usize,
        5,
        crate::msg::INLINE_CAP,
        crate::msg::INLINE_CAP + 1,
        64,
        1024,
        70_000,
        3,
    ];
    for (i, &n) in sizes.iter().enumerate() {
        let mut m = Msg::copy_from(&vec![i as u8; n]);
        m.set_more(i.is_multiple_of(2));
        a.send(&m, false);
    }
    let mut got = carry(&mut a, &mut b);
    let mut handshake_seen = false;
    while let Some(ev) = b.poll_event() {
        match ev {
            Event::HandshakeDone(_) => handshake_seen = true,
            Event::Message(m) => {
                assert!(handshake_seen, "no message before the handshake event");
                got.push(m);
            }
            Event::ZapRequest(_) => panic!("unexpected ZAP request"),
            Event::SideFrame(_) => panic!("no side channel here"),
        }
    }
    assert!(handshake_seen);
    // Established: the sink takes three frames and declines the fourth.
    for (i, &n) in sizes.iter().enumerate() {
        let mut m = Msg::copy_from(&vec![i as u8; n]);
        m.set_more(i.is_multiple_of(2));
        a.send(&m, false);
    }
    let bytes = a.output().split();
    // Half a frame at the end stays buffered until the rest comes.
    let cut = bytes.len() - 2;
    b.input_buffer().extend_from_slice(&bytes[..cut]);
    let mut taken = 0;
    b.process_with(0, &mut |m| {
        if taken < 3 {
            taken += 1;
            got.push(m);
            Ok(())
        } else {
            Err(m)
        }
    })
    .unwrap();
    assert_eq!(b.input_frame().1, 2, "two octets of the frame are missing");
    b.input_buffer().extend_from_slice(&bytes[cut..]);
    b.process_with(0, &mut |m| {
        got.push(m);
        Ok(())
    })
    .unwrap();
    // Once a frame is declined, every later one queues behind it (none is sunk), so
    // draining the queue after the sink gives the stream order.
    assert_eq!(got.len(), sizes.len() + 3);
    while let Some(Event::Message(m)) = b.poll_event() {
        got.push(m);
    }
    assert_eq!(got.len(), 2 * sizes.len());
    for (k, m) in got.iter().enumerate() {
        let i = k % sizes.len();
        assert_eq!(m.len(), sizes[i], "frame {k}");
        assert!(m.data().iter().all(|&x| x == i as u8));
        assert_eq!(m.more(), i.is_multiple_of(2));
    }
}

#[test]
fn commands_between_data_frames_keep_their_place() {
    let mut a = Connection::new(cfg(ZMQ_XPUB), 0);
    let mut b = Connection::new(cfg(ZMQ_SUB), 0);
    handshake(&mut a, &mut b);
    // SUB -> XPUB: data, a subscription (a command to a 3.1 peer), data.
    b.send(&Msg::copy_from(&[7u8; 100]), false);
    b.send(&Msg::copy_from(b"\x01topic"), true);
    b.send(&Msg::copy_from(&[8u8; 10]), false);
    let got = carry(&mut b, &mut a);
    assert!(a.poll_event().is_none());
    let datas: Vec<&[u8]> = got.iter().map(|m| m.data()).collect();
    assert_eq!(datas, [&[7u8; 100][..], b"\x01topic", &[8u8; 10]]);
}

/// A side channel over a map of frames by position, counting what it was asked.
#[derive(Default)]
struct FakeSide {
    frames: std::collections::HashMap<u64, Vec<u8>>,
    fds: usize,
    opened: Option<u64>,
    /// The pieces of a frame under way.
    partial: Vec<u8>,
}

impl SideChannel for FakeSide {
    fn add_fd(&mut self, _fd: std::os::fd::OwnedFd) {
        self.fds += 1;
    }

    fn open(&mut self, capacity: u64) -> bool {
        self.opened = Some(capacity);
        capacity > 0
    }

    fn holds(&self, pos: u64, len: usize) -> bool {
        self.opened.is_some() || self.frames.get(&pos).is_some_and(|f| f.len() == len)
    }

    fn piece(&mut self, p: SidePiece) -> Copied {
        let Some(f) = self.frames.get(&p.pos).filter(|f| f.len() == p.len) else {
            return Copied::Refused;
        };
        self.partial.extend_from_slice(f);
        if self.partial.len() < p.total {
            return Copied::Partial;
        }
        Copied::Frame(Msg::copy_from(&std::mem::take(&mut self.partial)))
    }
}

/// A side channel holding `frames`, each `(position, length, fill octet)`.
fn side_with(frames: &[(u64, usize, u8)]) -> Box<FakeSide> {
    let mut side = FakeSide::default();
    for &(pos, len, fill) in frames {
        side.frames.insert(pos, vec![fill; len]);
    }
    Box::new(side)
}

/// A piece of `len` octets at `pos` of a frame of `total`.
fn piece(more: bool, pos: u64, len: usize, total: usize) -> SidePiece {
    SidePiece {
        more,
        pos,
        len,
        total,
    }
}

/// A whole frame of `len` octets at `pos`.
fn whole(more: bool, pos: u64, len: usize) -> SidePiece {
    piece(more, pos, len, len)
}

#[test]
fn side_frames_arrive_in_stream_order_with_their_more_flags() {
    let (mut a, mut b) = push_pull();
    b.set_side_channel(side_with(&[(64, 5000, 1), (9000, 300, 2)]));
    a.send(&Msg::copy_from(b"head"), false);
    a.send_side_ring(1 << 20);
    a.send_side_frame(whole(true, 64, 5000));
    a.send(&Msg::copy_from(b"mid"), false);
    a.send_side_frame(whole(false, 9000, 300));
    let got = carry_all(&mut a, &mut b);
    let shape: Vec<(usize, bool)> = got.iter().map(|m| (m.len(), m.more())).collect();
    assert_eq!(shape, [(4, false), (5000, true), (3, false), (300, false)]);
    assert_eq!(got[1].data(), &[1u8; 5000][..]);
    assert!(b.poll_event().is_none());
}

#[test]
fn a_frame_in_pieces_is_delivered_once_with_all_of_them() {
    let (mut a, mut b) = push_pull();
    b.set_side_channel(side_with(&[(0, 4000, 1), (4096, 4000, 2), (8192, 100, 3)]));
    a.send_side_frame(piece(true, 0, 4000, 8100));
    a.send_side_frame(piece(true, 4096, 4000, 8100));
    a.send_side_frame(piece(true, 8192, 100, 8100));
    a.send(&Msg::copy_from(b"last"), false);
    let got = carry_all(&mut a, &mut b);
    let shape: Vec<(usize, bool)> = got.iter().map(|m| (m.len(), m.more())).collect();
    assert_eq!(shape, [(8100, true), (4, false)]);
    assert_eq!(
        &got[0].data()[3990..4010],
        &[[1u8; 10], [2u8; 10]].concat()[..]
    );
    assert_eq!(got[0].data()[8099], 3);
}

#[test]
fn a_side_frame_stays_in_the_ring_until_asked_for_and_later_frames_wait_behind_it() {
    let (mut a, mut b) = push_pull();
    b.set_side_channel(side_with(&[(64, 5000, 1)]));
    a.send_side_frame(whole(false, 64, 5000));
    a.send(&Msg::copy_from(b"after"), false);
    assert!(
        carry(&mut a, &mut b).is_empty(),
        "nothing sunk past the side frame"
    );
    assert!(b.has_events());
    let Some(Event::SideFrame(p)) = b.poll_event() else {
        panic!("the side frame first");
    };
    assert_eq!(p, whole(false, 64, 5000));
    // A session without room puts it back; it stays first.
    b.unpoll_event(Event::SideFrame(p));
    assert!(matches!(b.poll_event(), Some(Event::SideFrame(q)) if q == p));
    let m = b.side_frame(p).unwrap().expect("a whole frame");
    assert_eq!(m.data(), &[1u8; 5000][..]);
    assert!(matches!(b.poll_event(), Some(Event::Message(m)) if m.data() == b"after"));
    assert!(!b.has_events());
    // A frame the ring no longer gives fails the connection when it is copied out.
    assert!(matches!(
        b.side_frame(whole(false, 64, 4)),
        Err(Failure::Protocol(_))
    ));
}

#[test]
fn side_commands_fail_a_connection_that_did_not_offer_the_channel() {
    let (mut a, mut b) = push_pull();
    a.send_side_frame(whole(false, 0, 100));
    assert!(matches!(pump(&mut a, &mut b, 0), Err(Failure::Protocol(_))));
    let (mut a, mut b) = push_pull();
    a.send_side_ring(1 << 20);
    assert!(matches!(pump(&mut a, &mut b, 0), Err(Failure::Protocol(_))));
}

#[test]
fn a_side_frame_the_ring_cannot_hold_or_too_large_fails_the_connection() {
    let (mut a, mut b) = push_pull();
    b.set_side_channel(Box::<FakeSide>::default());
    a.send_side_frame(whole(false, 128, 100));
    assert!(matches!(pump(&mut a, &mut b, 0), Err(Failure::Protocol(_))));
    // A piece longer than its frame, or empty.
    for bad in [piece(false, 0, 100, 99), piece(false, 0, 0, 10)] {
        let (mut a, mut b) = push_pull();
        let side = FakeSide {
            opened: Some(1 << 20),
            ..Default::default()
        };
        b.set_side_channel(Box::new(side));
        a.send_side_frame(bad);
        assert!(matches!(pump(&mut a, &mut b, 0), Err(Failure::Protocol(_))));
    }

    // ZMQ_MAXMSGSIZE 10 against a frame of 11 octets, whole or as a first piece of 5: the
    // frame's length counts, not the piece's.
    for (len, sent) in [(11, whole(false, 0, 11)), (5, piece(false, 0, 5, 11))] {
        let mut pull = cfg(ZMQ_PULL);
        pull.maxmsgsize = 10;
        let mut a = Connection::new(cfg(ZMQ_PUSH), 0);
        let mut b = Connection::new(pull, 0);
        handshake(&mut a, &mut b);
        b.set_side_channel(side_with(&[(0, len, 0)]));
        a.send_side_frame(sent);
        assert_eq!(pump(&mut a, &mut b, 0), Err(Failure::MessageTooLarge));
    }
}

#[test]
fn a_mapped_ring_is_acknowledged_and_the_acknowledgement_reported_once() {
    let (mut a, mut b) = push_pull();
    a.set_side_channel(Box::<FakeSide>::default());
    b.set_side_channel(Box::<FakeSide>::default());
    a.send_side_ring(1 << 20);
    pump(&mut a, &mut b, 0).unwrap();
    assert!(
        !b.take_side_ready(),
        "the receiver of a ring is not the one told"
    );
    // b answered X-SHM-READY.
    pump(&mut b, &mut a, 0).unwrap();
    assert!(a.take_side_ready());
    assert!(!a.take_side_ready(), "once");
    assert!(a.poll_event().is_none());
}

#[test]
fn a_ring_that_cannot_be_mapped_is_not_acknowledged() {
    let (mut a, mut b) = push_pull();
    b.set_side_channel(Box::<FakeSide>::default());
    a.send_side_ring(0);
    assert!(matches!(pump(&mut a, &mut b, 0), Err(Failure::Protocol(_))));
    let answer = b.output().split();
    assert!(
        !answer.windows(11).any(|w| w == b"X-SHM-READY"),
        "no acknowledgement"
    );
}
