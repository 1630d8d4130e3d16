//! The reactor an I/O thread runs: a level-triggered epoll instance, a command queue that
//! wakes it through an eventfd, and a timer list. Handlers live above (the session layer drives
//! the loop).
//!
//! Layer L2 (depends on `error`, `sys`). Invariants: only the owning I/O thread waits on the
//! poller; any thread may push a command. The eventfd is written only when the I/O thread has
//! said, under the queue's lock, that it is about to sleep with an empty queue (as libzmq's
//! mailbox signals a sleeping reader only), so a busy I/O thread costs its senders no system
//! call, and one loop turn costs one `epoll_wait` (plus one eventfd read when woken by a
//! command). After a turn that found work, the thread watches for more for up to
//! `sys::watch_limit` (50 µs: non-blocking `epoll_wait`s, yielding between them) before it sleeps,
//! backing off when watches miss (`sys::SpinBackoff`): a request's reply or a peer's next
//! message then needs no wake-up, which on a virtual machine costs tens of microseconds. No
//! unsafe code: the system calls are in `sys`.
#![forbid(unsafe_code)]

mod registration;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;

pub(crate) use registration::Registered;

use crate::error::Result;
use crate::sys::{Epoll, EpollEvent, Signaler, SpinBackoff, spin_until, watch_limit};

/// The epoll key of the command queue's eventfd (registration keys are small).
const WAKE_KEY: u64 = u64::MAX;

/// An I/O thread's epoll instance and the eventfd that wakes it.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: Epoll,
    waker: Signaler,
}

struct Queue<C> {
    cmds: VecDeque<C>,
    /// The I/O thread is (about to be) blocked in `epoll_wait` with this queue empty: the next
    /// sender writes the eventfd.
    asleep: bool,
}

/// The part of a reactor other threads hold: its poller (for registrations) and its queue.
pub(crate) struct Remote<C> {
    poller: Arc<Poller>,
    queue: Mutex<Queue<C>>,
}

impl<C> Remote<C> {
    /// Queues a command for the I/O thread and wakes it if it sleeps. Never blocks.
    pub(crate) fn send(&self, cmd: C) {
        let wake = {
            let mut q = self.queue.lock();
            q.cmds.push_back(cmd);
            std::mem::take(&mut q.asleep)
        };
        if wake {
            self.poller.waker.send();
        }
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
    events: Vec<EpollEvent>,
    timers: BTreeSet<(u64, usize)>,
    /// The last turn found fds ready or commands: watch before sleeping.
    busy: bool,
    spin: SpinBackoff,
}

/// What one [`Reactor::wait`] found; the buffers are reused from turn to turn.
pub(crate) struct Turn<C> {
    /// The ready fds.
    pub(crate) ready: Vec<Ready>,
    /// The queued commands, in order.
    pub(crate) cmds: VecDeque<C>,
    /// The keys of the due timers.
    pub(crate) due: Vec<usize>,
}

impl<C> Default for Turn<C> {
    fn default() -> Self {
        Turn {
            ready: Vec::new(),
            cmds: VecDeque::new(),
            due: Vec::new(),
        }
    }
}

impl<C> Reactor<C> {
    /// A new reactor and the handle other threads use to reach it.
    pub(crate) fn new() -> Result<(Reactor<C>, Arc<Remote<C>>)> {
        let poller = Poller {
            epoll: Epoll::new()?,
            waker: Signaler::new()?,
        };
        use std::os::fd::AsFd;
        poller
            .epoll
            .add(poller.waker.as_fd(), WAKE_KEY, true, false)?;
        let remote = Arc::new(Remote {
            poller: Arc::new(poller),
            queue: Mutex::new(Queue {
                cmds: VecDeque::new(),
                asleep: false,
            }),
        });
        Ok((
            Reactor {
                remote: Arc::clone(&remote),
                events: Vec::with_capacity(256),
                timers: BTreeSet::new(),
                busy: false,
                spin: SpinBackoff::default(),
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

    /// Waits until an fd is ready, a command arrives or the next timer is due (`now` is the
    /// current time in ms); fills `turn` (whose vectors must have been drained) with the ready
    /// fds, the queued commands and the due timers' keys.
    pub(crate) fn wait(&mut self, now: u64, turn: &mut Turn<C>) -> Result<()> {
        let waited = if self.busy && self.spin.should_spin() {
            let hit = self.watch()?;
            self.spin.outcome(hit);
            if self.events.is_empty() {
                self.block(now)
            } else {
                Ok(())
            }
        } else {
            self.block(now)
        };
        {
            let mut q = self.remote.queue.lock();
            q.asleep = false;
            std::mem::swap(&mut turn.cmds, &mut q.cmds);
        }
        waited?;
        turn.ready.clear();
        for e in &self.events {
            if e.key == WAKE_KEY {
                self.remote.poller.waker.reset();
                continue;
            }
            turn.ready.push(Ready {
                key: e.key as usize,
                readable: e.readable,
                writable: e.writable,
            });
        }
        self.busy = !turn.ready.is_empty() || !turn.cmds.is_empty();
        turn.due.clear();
        if !self.timers.is_empty() {
            let now = crate::sys::now_ms();
            while let Some(&(d, k)) = self.timers.first() {
                if d > now {
                    break;
                }
                self.timers.pop_first();
                turn.due.push(k);
            }
        }
        Ok(())
    }

    /// Watches for ready fds (into `self.events`) or a queued command for up to
    /// `sys::watch_limit` without sleeping; true if either came.
    fn watch(&mut self) -> Result<bool> {
        let (remote, events) = (&self.remote, &mut self.events);
        // The last turn's events must not be reported again if a command ends the watch.
        events.clear();
        let mut failed = None;
        let hit = spin_until(watch_limit(), 1, || {
            if !remote.queue.lock().cmds.is_empty() {
                return true;
            }
            match remote.poller.epoll.wait(events, 0) {
                Ok(()) => !events.is_empty(),
                Err(e) => {
                    failed = Some(e);
                    true
                }
            }
        });
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(hit),
        }
    }

    /// Blocks in `epoll_wait` until an fd is ready, a command arrives or the next timer is
    /// due; with commands already queued it only looks.
    fn block(&mut self, now: u64) -> std::io::Result<()> {
        let timeout = {
            let mut q = self.remote.queue.lock();
            if q.cmds.is_empty() {
                q.asleep = true;
                self.timers.first().map_or(-1, |&(d, _)| {
                    i32::try_from(d.saturating_sub(now)).unwrap_or(i32::MAX)
                })
            } else {
                0
            }
        };
        self.remote.poller.epoll.wait(&mut self.events, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_wakes_a_sleeping_reactor_once_and_timers_fire() {
        let (mut r, remote) = Reactor::<u32>::new().unwrap();
        let mut turn = Turn::default();
        let t = std::thread::spawn({
            let remote = Arc::clone(&remote);
            move || {
                std::thread::sleep(std::time::Duration::from_millis(20));
                remote.send(1);
                remote.send(2);
            }
        });
        while turn.cmds.len() < 2 {
            let mut more = Turn::default();
            r.wait(crate::sys::now_ms(), &mut more).unwrap();
            turn.cmds.extend(more.cmds.drain(..));
        }
        t.join().unwrap();
        assert_eq!(turn.cmds, [1, 2]);
        // The eventfd was reset: nothing is pending now.
        assert!(!remote.poller.waker.wait(0).unwrap());
        let now = crate::sys::now_ms();
        r.add_timer(now + 5, 9);
        let mut turn = Turn::default();
        while turn.due.is_empty() {
            r.wait(crate::sys::now_ms(), &mut turn).unwrap();
        }
        assert_eq!(turn.due, [9]);
    }

    #[test]
    fn a_busy_turn_watches_before_sleeping_and_a_miss_backs_off() {
        use std::os::fd::AsFd;
        let (mut r, remote) = Reactor::<u32>::new().unwrap();
        let mut turn = Turn::default();
        remote.send(1);
        r.wait(crate::sys::now_ms(), &mut turn).unwrap();
        assert_eq!(turn.cmds, [1]);
        assert!(r.busy, "a turn with a command was busy");

        turn.cmds.clear();
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        r.remote
            .poller
            .epoll
            .add(a.as_fd(), 5, false, true)
            .unwrap();
        r.wait(crate::sys::now_ms(), &mut turn).unwrap();
        assert_eq!(turn.ready.len(), 1, "the watch finds a ready fd");
        r.remote.poller.epoll.delete(a.as_fd()).unwrap();

        remote.send(2);
        r.wait(crate::sys::now_ms(), &mut turn).unwrap();
        assert_eq!(turn.cmds, [2], "the watch finds a queued command");
        assert!(
            turn.ready.is_empty(),
            "the last turn's events are not reported again"
        );
        assert_eq!(r.spin.skips_left(), 0, "a hit does not back off");
        assert!(
            !remote.poller.waker.wait(0).unwrap(),
            "no wake-up was written"
        );

        turn.cmds.clear();
        r.add_timer(crate::sys::now_ms() + 2, 7);
        while turn.due.is_empty() {
            r.wait(crate::sys::now_ms(), &mut turn).unwrap();
        }
        assert_eq!(turn.due, [7]);
        assert_eq!(
            r.spin.skips_left(),
            2,
            "the watch after the busy turn missed; idle turns do not watch"
        );
    }
}
