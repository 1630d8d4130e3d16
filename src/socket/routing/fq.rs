//! Fair queuing (PULL, DEALER, ROUTER, SUB, REQ replies): round-robin over readable pipes,
//! reading all frames of one message from the same pipe.
#![forbid(unsafe_code)]

use super::ActiveSet;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::{PipeEnd, PipeId, ReadState};

/// Round-robin reader over pipes.
#[derive(Default)]
pub(crate) struct FairQueue {
    set: ActiveSet,
    current: usize,
    more: bool,
}

impl FairQueue {
    /// Adds a new pipe (active).
    pub(crate) fn attach(&mut self, pipe: PipeEnd) {
        self.set.add(pipe);
    }

    /// The pipe has messages again.
    pub(crate) fn activated(&mut self, id: PipeId) {
        self.set.activate(id);
    }

    /// The peer closed: the pipe stays until what it wrote has been read.
    pub(crate) fn terminated(&mut self, id: PipeId) {
        if let Some(i) = self.set.position(id)
            && !self.set.pipes[i].check_read()
        {
            self.remove(i);
        }
    }

    fn remove(&mut self, i: usize) {
        self.set.remove(i);
        if self.current >= self.set.active {
            self.current = 0;
        }
    }

    /// Reads the next frame and the pipe it came from; `Again` when nothing is readable.
    pub(crate) fn recv(&mut self) -> Result<(Msg, PipeId)> {
        let mut m = Msg::new();
        let id = self.recv_into(&mut m)?;
        Ok((m, id))
    }

    /// Reads the next frame into `out` (overwritten, so it should hold nothing) and answers the
    /// pipe it came from; `Again`, with `out` untouched, when nothing is readable.
    #[inline]
    pub(crate) fn recv_into(&mut self, out: &mut Msg) -> Result<PipeId> {
        while self.set.active > 0 {
            if self.current >= self.set.active {
                self.current = 0;
            }
            let pipe = &self.set.pipes[self.current];
            match pipe.read_into(out) {
                ReadState::Frame => {
                    let id = pipe.id();
                    self.more = out.more();
                    if !self.more {
                        self.current = (self.current + 1) % self.set.active;
                    }
                    return Ok(id);
                }
                ReadState::Empty => {
                    self.set.deactivate(self.current);
                }
                ReadState::Closed => {
                    self.remove(self.current);
                }
            }
        }
        Err(Error::Again)
    }

    /// True if a frame is readable now.
    pub(crate) fn has_in(&mut self) -> bool {
        if self.more {
            return true;
        }
        while self.set.active > 0 {
            if self.current >= self.set.active {
                self.current = 0;
            }
            let pipe = &self.set.pipes[self.current];
            if pipe.check_read() {
                return true;
            }
            if pipe.peer_closed() {
                self.remove(self.current);
            } else {
                self.set.deactivate(self.current);
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{DirectionConfig, pair};

    fn frame(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::copy_from(data);
        m.set_more(more);
        m
    }

    #[test]
    fn fair_queuing_interleaves_whole_messages() {
        let mut fq = FairQueue::default();
        let (a, a_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        let (b, b_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        fq.attach(a);
        fq.attach(b);
        for i in 0..3u8 {
            a_peer.write(frame(&[b'a', i], true)).unwrap();
            a_peer.write(frame(&[b'A', i], false)).unwrap();
            b_peer.write(frame(&[b'b', i], false)).unwrap();
        }
        let mut got = Vec::new();
        while let Ok((m, _)) = fq.recv() {
            got.push(m.data().to_vec());
        }
        assert_eq!(got.len(), 9);
        // Each 'a' frame is followed by its 'A' frame: messages are never split.
        for (i, f) in got.iter().enumerate() {
            if f[0] == b'a' {
                assert_eq!(got[i + 1], vec![b'A', f[1]]);
            }
        }
        // Both sources are served in turn, not one drained before the other.
        let first_b = got.iter().position(|f| f[0] == b'b').unwrap();
        assert!(first_b <= 2);
    }

    #[test]
    fn a_closed_pipe_is_read_to_the_end_then_dropped() {
        let mut fq = FairQueue::default();
        let (a, a_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        fq.attach(a.clone());
        a_peer.write(frame(b"last", false)).unwrap();
        a_peer.close();
        fq.terminated(a.id());
        assert!(fq.has_in());
        assert_eq!(fq.recv().unwrap().0.data(), b"last");
        assert_eq!(fq.recv().unwrap_err(), Error::Again);
        assert!(!fq.has_in());
    }
}
