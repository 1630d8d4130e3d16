//! The reactor an I/O thread runs: a `polling::Poller` (level-triggered), a command queue that
//! wakes it, and a timer list. Handlers live above (the session layer drives the loop).
//!
//! Layer L2 (depends on `error`, `sys`). Invariant: only the owning I/O thread waits on the
//! poller; any thread may push a command, which wakes the wait through `Poller::notify`.
//! Unsafe code is denied here except in `registration.rs`.
#![deny(unsafe_code)]

mod registration;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use polling::{Events, Poller};

pub(crate) use registration::Registered;

use crate::error::Result;

/// The part of a reactor other threads hold: its poller (for registrations) and its queue.
pub(crate) struct Remote<C> {
    poller: Arc<Poller>,
    queue: Mutex<VecDeque<C>>,
}

impl<C> Remote<C> {
    /// Queues a command for the I/O thread and wakes it. Never blocks.
    pub(crate) fn send(&self, cmd: C) {
        self.queue.lock().push_back(cmd);
        let _ = self.poller.notify();
    }

    /// The poller, for registering fds owned by the I/O thread.
    pub(crate) fn poller(&self) -> &Arc<Poller> {
        &self.poller
    }
}

/// One readiness report.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ready {
    /// The registration key.
    pub(crate) key: usize,
    /// Readable (or hung up).
    pub(crate) readable: bool,
    /// Writable.
    pub(crate) writable: bool,
}

/// The I/O thread's side: wait for readiness, commands and timers.
pub(crate) struct Reactor<C> {
    remote: Arc<Remote<C>>,
    events: Events,
    timers: BTreeSet<(u64, usize)>,
}

impl<C> Reactor<C> {
    /// A new reactor and the handle other threads use to reach it.
    pub(crate) fn new() -> Result<(Reactor<C>, Arc<Remote<C>>)> {
        let remote = Arc::new(Remote {
            poller: Arc::new(Poller::new()?),
            queue: Mutex::new(VecDeque::new()),
        });
        Ok((
            Reactor {
                remote: Arc::clone(&remote),
                events: Events::new(),
                timers: BTreeSet::new(),
            },
            remote,
        ))
    }

    /// Arms a timer for `key` at `deadline` (ms).
    pub(crate) fn add_timer(&mut self, deadline: u64, key: usize) {
        self.timers.insert((deadline, key));
    }

    /// Cancels a timer.
    pub(crate) fn cancel_timer(&mut self, deadline: u64, key: usize) {
        self.timers.remove(&(deadline, key));
    }

    /// Waits until an fd is ready, a command arrives or the next timer is due; returns the
    /// ready fds, the queued commands and the due timers' keys.
    pub(crate) fn wait(&mut self, now: u64) -> Result<(Vec<Ready>, Vec<C>, Vec<usize>)> {
        let has_commands = !self.remote.queue.lock().is_empty();
        let timeout = if has_commands {
            Some(Duration::ZERO)
        } else {
            self.timers
                .first()
                .map(|&(d, _)| Duration::from_millis(d.saturating_sub(now)))
        };
        self.events.clear();
        match self.remote.poller.wait(&mut self.events, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        let ready = self
            .events
            .iter()
            .map(|e| Ready {
                key: e.key,
                readable: e.readable,
                writable: e.writable,
            })
            .collect();
        let cmds = self.remote.queue.lock().drain(..).collect();
        let now = crate::sys::now_ms();
        let mut due = Vec::new();
        while let Some(&(d, k)) = self.timers.first() {
            if d > now {
                break;
            }
            self.timers.pop_first();
            due.push(k);
        }
        Ok((ready, cmds, due))
    }
}
