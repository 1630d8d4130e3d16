//! Unit tests of pipes (layer L1) with a `ZMQ_SWAP` store: spilling beyond the HWM, a full
//! or failing store, and the swap state changes reported to the writer.

use super::*;

/// One direction's config: HWM `hwm` and a swap store of `budget` bytes in `dir`.
fn swap_cfg(hwm: u64, budget: u64, dir: std::path::PathBuf) -> DirectionConfig {
    DirectionConfig {
        hwm,
        conflate: false,
        swap: Some(SwapConfig { budget, dir }),
        byte_limit: 0,
        wake_bytes: 0,
    }
}

#[test]
fn swap_spills_beyond_hwm_keeps_order_and_multipart_and_refills() {
    let cfg = swap_cfg(2, 1 << 20, swap::default_dir());
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
    let cfg = swap_cfg(1, 30, swap::default_dir());
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
    let cfg = swap_cfg(1, 1 << 20, "/nonexistent-zmq-swap-dir".into());
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
    let cfg = swap_cfg(1, 30, swap::default_dir());
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
