//! Unit tests of pipes (layer L1): multipart, HWM/LWM and byte bounds, batches, wake-ups,
//! rollback, close and conflate; the swap store's are in `tests/swap_store.rs`.

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
fn lwm_matches_libzmq() {
    assert_eq!(low_water_mark(1000), 500);
    assert_eq!(low_water_mark(1), 1);
    assert_eq!(low_water_mark(10_000), 10_000 - 1024);
}

mod swap_store;
