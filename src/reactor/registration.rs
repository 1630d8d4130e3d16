//! `Registered<S>`: a source (listener or stream) that owns its place in the poller.
//!
//! The source is owned by the `Registered`, so its fd cannot be closed while registered, and
//! `Drop` deletes it from the epoll set before the source field is dropped (closed): no event
//! of a closed fd can reach a key that was reused.
#![forbid(unsafe_code)]

use std::os::fd::AsFd;
use std::sync::Arc;

use super::Poller;
use crate::error::Result;

/// A source in the poller's interest list, level-triggered.
pub(crate) struct Registered<S: AsFd> {
    poller: Arc<Poller>,
    key: usize,
    interest: (bool, bool),
    source: S,
}

impl<S: AsFd> Registered<S> {
    /// Registers `source` under `key` with the given interest.
    pub(crate) fn new(
        poller: &Arc<Poller>,
        source: S,
        key: usize,
        readable: bool,
        writable: bool,
    ) -> Result<Registered<S>> {
        poller
            .epoll
            .add(source.as_fd(), key as u64, readable, writable)?;
        Ok(Registered {
            poller: Arc::clone(poller),
            key,
            interest: (readable, writable),
            source,
        })
    }

    /// Changes the interest (no system call if unchanged).
    pub(crate) fn set_interest(&mut self, readable: bool, writable: bool) -> Result<()> {
        if self.interest == (readable, writable) {
            return Ok(());
        }
        self.poller
            .epoll
            .modify(self.source.as_fd(), self.key as u64, readable, writable)?;
        self.interest = (readable, writable);
        Ok(())
    }

    /// The current interest (readable, writable).
    pub(crate) fn interest(&self) -> (bool, bool) {
        self.interest
    }

    /// The source.
    pub(crate) fn get(&self) -> &S {
        &self.source
    }

    /// The source, mutably.
    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.source
    }
}

impl<S: AsFd> Drop for Registered<S> {
    fn drop(&mut self) {
        let _ = self.poller.epoll.delete(self.source.as_fd());
    }
}
