//! Load balancing (PUSH, DEALER, REQ): each message goes whole to the next pipe that can take it.
#![forbid(unsafe_code)]

use super::ActiveSet;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::{PipeEnd, PipeId, WriteError};

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
            match pipe.write(std::mem::take(msg)) {
                Ok(()) => {
                    // Move on to the next pipe only once the message is complete.
                    self.more = more;
                    if !self.more {
                        self.current = (self.current + 1) % self.set.active.max(1);
                    }
                    return Ok(Some(id));
                }
                Err(WriteError::Full(m)) => {
                    *msg = m;
                    if self.more {
                        // Cannot happen (the HWM is checked at a message's first frame only).
                        return Err(Error::Again);
                    }
                    self.set.deactivate(self.current);
                }
                Err(WriteError::Closed(m)) => {
                    *msg = m;
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
