//! `Registered<S>`: a source (listener or stream) that owns its place in the poller.
//!
//! The one place that discharges `polling::Poller::add`'s safety contract (a registered fd must
//! be deleted from the poller before it is closed): the `Registered` owns the source, so the fd
//! cannot be closed while registered, and `Drop` deletes it before the source field is dropped.
#![allow(unsafe_code, reason = "Poller::add's contract is upheld here")]

use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;

use polling::{Event, PollMode, Poller};

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
        let ev = Event::new(key, readable, writable);
        let fd = source.as_fd().as_raw_fd();
        // SAFETY: `source` is owned by the returned value and Drop deletes the fd from the
        // poller before `source` is dropped (closed). On error nothing stays registered.
        unsafe { poller.add_with_mode(fd, ev, PollMode::Level) }?;
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
        self.poller.modify_with_mode(
            self.source.as_fd(),
            Event::new(self.key, readable, writable),
            PollMode::Level,
        )?;
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
        let _ = self.poller.delete(self.source.as_fd());
    }
}
