//! Load balancing (PUSH, DEALER, REQ): each message goes whole to the next pipe that can take it.
#![forbid(unsafe_code)]

use super::ActiveSet;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::{PipeEnd, PipeId, Refused};

/// Round-robin over writable pipes, sticking to one pipe for the frames of one message.
#[derive(Default)]
pub(crate) struct LoadBalancer {
    set: ActiveSet,
    current: usize,
    more: bool,
    dropping: bool,
}

impl LoadBalancer {
    /// Adds a new pipe (active).
    pub(crate) fn attach(&mut self, pipe: PipeEnd) {
        self.set.add(pipe);
    }

    /// The pipe became writable again.
    pub(crate) fn activated(&mut self, id: PipeId) {
        self.set.activate(id);
    }

    /// Forgets a pipe whose peer went away. If it was taking a message, the rest is dropped.
    pub(crate) fn terminated(&mut self, id: PipeId) {
        if let Some(i) = self.set.position(id) {
            if i == self.current && self.more {
                self.dropping = true;
                self.more = false;
            }
            self.set.remove(i);
            if self.current >= self.set.active {
                self.current = 0;
            }
        }
    }

    /// Sends one frame; returns the pipe used. `Again` when no pipe can take a new message.
    /// On success the frame is taken out of `msg`.
    pub(crate) fn send(&mut self, msg: &mut Msg) -> Result<Option<PipeId>> {
        if self.dropping {
            self.dropping = msg.more();
            *msg = Msg::new();
            return Ok(None);
        }
        while self.set.active > 0 {
            let pipe = &self.set.pipes[self.current];
            let id = pipe.id();
            let more = msg.more();
            match pipe.write_from(msg) {
                Ok(()) => {
                    // Move on to the next pipe only once the message is complete.
                    self.more = more;
                    if !self.more {
                        self.current = (self.current + 1) % self.set.active.max(1);
                    }
                    return Ok(Some(id));
                }
                Err(Refused::Full) => {
                    if self.more {
                        // Cannot happen (the HWM is checked at a message's first frame only).
                        return Err(Error::Again);
                    }
                    self.set.deactivate(self.current);
                }
                Err(Refused::Closed) => {
                    let was_more = self.more;
                    self.terminated(id);
                    if was_more {
                        self.dropping = msg.more();
                        *msg = Msg::new();
                        return Ok(None);
                    }
                }
            }
            if self.current >= self.set.active {
                self.current = 0;
            }
        }
        Err(Error::Again)
    }

    /// True if a new message could be sent now.
    pub(crate) fn has_out(&mut self) -> bool {
        if self.more {
            return true;
        }
        while self.set.active > 0 {
            if self.current >= self.set.active {
                self.current = 0;
            }
            if self.set.pipes[self.current].check_write() {
                return true;
            }
            self.set.deactivate(self.current);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipe::{DirectionConfig, Read, pair};

    fn frame(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::copy_from(data);
        m.set_more(more);
        m
    }

    fn take(p: &PipeEnd) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Read::Msg(m) = p.read() {
            out.push(m.data().to_vec());
        }
        out
    }

    #[test]
    fn round_robin_keeps_multipart_messages_on_one_pipe() {
        let mut lb = LoadBalancer::default();
        let (a, a_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        let (b, b_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        lb.attach(a);
        lb.attach(b);
        for i in 0..4u8 {
            lb.send(&mut frame(&[i], true)).unwrap();
            lb.send(&mut frame(&[i, i], false)).unwrap();
        }
        let got_a = take(&a_peer);
        let got_b = take(&b_peer);
        assert_eq!(got_a.len(), 4);
        assert_eq!(got_b.len(), 4);
        for pair_of_frames in got_a.chunks(2).chain(got_b.chunks(2)) {
            assert_eq!(pair_of_frames[1], vec![pair_of_frames[0][0]; 2]);
        }
    }

    #[test]
    fn full_pipes_are_skipped_and_again_when_all_are_full() {
        let cfg = DirectionConfig {
            hwm: 1,
            ..DirectionConfig::default()
        };
        let mut lb = LoadBalancer::default();
        let (a, a_peer) = pair(cfg.clone(), DirectionConfig::default());
        let (b, _b_peer) = pair(cfg, DirectionConfig::default());
        lb.attach(a.clone());
        lb.attach(b);
        lb.send(&mut frame(b"1", false)).unwrap();
        lb.send(&mut frame(b"2", false)).unwrap();
        let mut third = frame(b"3", false);
        assert_eq!(lb.send(&mut third), Err(Error::Again));
        assert_eq!(third.data(), b"3", "the message stays with the caller");
        assert!(!lb.has_out());
        take(&a_peer);
        lb.activated(a.id());
        assert!(lb.has_out());
        lb.send(&mut third).unwrap();
    }

    #[test]
    fn a_peer_leaving_mid_message_drops_the_rest_of_it() {
        let mut lb = LoadBalancer::default();
        let (a, _a_peer) = pair(DirectionConfig::default(), DirectionConfig::default());
        lb.attach(a.clone());
        lb.send(&mut frame(b"head", true)).unwrap();
        lb.terminated(a.id());
        assert_eq!(lb.send(&mut frame(b"tail", false)), Ok(None));
        assert_eq!(lb.send(&mut frame(b"next", false)), Err(Error::Again));
    }
}
