//! Message routing strategies shared by the socket patterns: load balancing ([`lb`]), fair
//! queuing ([`fq`]), fan-out distribution ([`dist`]), prefix subscription sets ([`trie`]) and
//! the routing ids of closed connections still being read ([`closing`]).
//!
//! Layer L3, pure bookkeeping over [`PipeEnd`](crate::pipe::PipeEnd)s; no locks of its own.
#![forbid(unsafe_code)]

pub(crate) mod closing;
pub(crate) mod dist;
pub(crate) mod fq;
pub(crate) mod lb;
pub(crate) mod trie;

use crate::pipe::{PipeEnd, PipeId};

/// Pipes with an "active" prefix: `pipes[..active]` may be read or written now, the rest wait
/// for an activation event. Order inside each part does not matter (libzmq's array trick).
#[derive(Default)]
pub(crate) struct ActiveSet {
    pub(crate) pipes: Vec<PipeEnd>,
    pub(crate) active: usize,
}

impl ActiveSet {
    /// Adds a pipe as active.
    pub(crate) fn add(&mut self, pipe: PipeEnd) {
        self.pipes.push(pipe);
        let last = self.pipes.len() - 1;
        self.pipes.swap(self.active, last);
        self.active += 1;
    }

    /// Position of pipe `id`, if present.
    pub(crate) fn position(&self, id: PipeId) -> Option<usize> {
        self.pipes.iter().position(|p| p.id() == id)
    }

    /// Moves the pipe at `index` out of the active part.
    pub(crate) fn deactivate(&mut self, index: usize) {
        if index < self.active {
            self.active -= 1;
            self.pipes.swap(index, self.active);
        }
    }

    /// Moves pipe `id` into the active part (no-op if absent or already active).
    pub(crate) fn activate(&mut self, id: PipeId) {
        if let Some(i) = self.position(id)
            && i >= self.active
        {
            self.pipes.swap(i, self.active);
            self.active += 1;
        }
    }

    /// Removes the pipe at `index`, keeping the active part consistent.
    pub(crate) fn remove(&mut self, index: usize) -> PipeEnd {
        if index < self.active {
            self.active -= 1;
            self.pipes.swap(index, self.active);
            let last = self.pipes.len() - 1;
            self.pipes.swap(self.active, last);
            self.pipes.pop().expect("non-empty: index was valid")
        } else {
            self.pipes.swap_remove(index)
        }
    }
}
