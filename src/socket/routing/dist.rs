//! Fan-out (PUB, XPUB, XSUB upstream): a message goes to every matching pipe that can take it.
//! A pipe at its high-water mark misses the message (PUB semantics) unless the caller checks
//! [`Distributor::all_writable`] first (`ZMQ_XPUB_NODROP`).
#![forbid(unsafe_code)]

use crate::msg::Msg;
use crate::pipe::{PipeEnd, PipeId, Refused};

struct Entry {
    pipe: PipeEnd,
    /// False while the pipe is at its HWM (until it signals Writable).
    active: bool,
}

/// The set of downstream pipes and the targets of the message being sent.
#[derive(Default)]
pub(crate) struct Distributor {
    entries: Vec<Entry>,
    /// Pipes taking the current multipart message (set at its first frame).
    targets: Vec<PipeId>,
    more: bool,
}

impl Distributor {
    /// Adds a pipe. It joins the next message, not one already in progress.
    pub(crate) fn attach(&mut self, pipe: PipeEnd) {
        self.entries.push(Entry { pipe, active: true });
    }

    /// The pipe drained below its low-water mark.
    pub(crate) fn activated(&mut self, id: PipeId) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.pipe.id() == id) {
            e.active = true;
        }
    }

    /// Forgets a pipe.
    pub(crate) fn terminated(&mut self, id: PipeId) {
        self.entries.retain(|e| e.pipe.id() != id);
        self.targets.retain(|&t| t != id);
    }

    /// True if every pipe selected by `matches` could take a new message now.
    pub(crate) fn all_writable(&mut self, mut matches: impl FnMut(&PipeEnd) -> bool) -> bool {
        self.entries
            .iter_mut()
            .filter(|e| matches(&e.pipe))
            .all(|e| e.pipe.check_write())
    }

    /// True while a multipart message is being sent.
    pub(crate) fn in_message(&self) -> bool {
        self.more
    }

    /// Sends one frame to the pipes selected by `matches` (given the pipe and the first
    /// frame's data, evaluated at a message's first frame), taking it out of `msg`. Frames that
    /// a full or closed pipe cannot take are dropped for that pipe.
    pub(crate) fn send(&mut self, msg: &mut Msg, mut matches: impl FnMut(&PipeEnd, &[u8]) -> bool) {
        if !self.more {
            let first = msg.data();
            self.targets.clear();
            self.targets.extend(
                self.entries
                    .iter()
                    .filter(|e| e.active && matches(&e.pipe, first))
                    .map(|e| e.pipe.id()),
            );
        }
        self.more = msg.more();
        let n = self.targets.len();
        let mut dead = Vec::new();
        for (i, &id) in self.targets.iter().enumerate() {
            let Some(e) = self.entries.iter_mut().find(|e| e.pipe.id() == id) else {
                continue;
            };
            let refused = if i + 1 == n {
                e.pipe.write_from(msg).err()
            } else {
                e.pipe.write_from(&mut msg.share()).err()
            };
            match refused {
                None => {}
                Some(Refused::Full) => {
                    e.active = false;
                    dead.push(id);
                }
                Some(Refused::Closed) => dead.push(id),
            }
        }
        // Taken by the last pipe, or by none: either way the caller's frame is done.
        *msg = Msg::new();
        self.targets.retain(|t| !dead.contains(t));
        if !self.more {
            self.targets.clear();
        }
    }
}
