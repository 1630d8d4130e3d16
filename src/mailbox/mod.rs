//! `Mailbox<T>`: many senders, one receiver, with an eventfd signaler the receiver can poll.
//!
//! Layer L1 (uses `sys` for the signaler). A socket's mailbox carries the commands its peers and
//! its context send it; its signaler fd is what `ZMQ_FD` returns. The contract is libzmq's:
//! the fd is readable whenever commands may be pending, and reading the mailbox empty resets it
//! (a spurious readable fd is allowed, a missed one never is).
//!
//! Protocol: the receiver, on finding the queue empty, marks itself `asleep`; a sender that
//! finds the receiver asleep clears the flag and writes the signaler once. So a busy receiver
//! costs senders no system call.
//!
//! Until its fd is handed out ([`Mailbox::expose`]: `ZMQ_FD`, `zmq_poll`), nobody but the owner
//! waits on the fd, and the owner only sleeps in [`Mailbox::wait`]: then the receiver counts as
//! asleep only while it waits there, not every time it drains the queue, so commands sent to a
//! socket that is busy sending and receiving cost no system call on either side. Once exposed,
//! the fd follows the contract above at every drain. The receiver resets the fd only when a
//! sender wrote it since the last reset, so draining costs no failed `read`.
#![forbid(unsafe_code)]

use std::collections::VecDeque;

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::error::Result;
use crate::sys::{Signaler, SpinBackoff, spin_until, watch_limit, yield_ran_another};

struct Inner<T> {
    queue: VecDeque<T>,
    asleep: bool,
    /// The signaler was written and not reset since.
    signalled: bool,
    /// The fd was handed out: a drain puts the receiver to sleep (see the module doc).
    exposed: bool,
    /// [`Mailbox::wake`] was called before the fd was exposed and no drain came since.
    woken: bool,
    /// The receiver is gone ([`Mailbox::close`]): sends are refused.
    closed: bool,
}

impl<T> Inner<T> {
    /// Marks the receiver awake; true if the caller must write the signaler.
    fn wake_up(&mut self) -> bool {
        if std::mem::replace(&mut self.asleep, false) {
            self.signalled = true;
            true
        } else {
            false
        }
    }
}

/// A multi-producer, single-consumer command queue with a pollable fd.
pub(crate) struct Mailbox<T> {
    inner: Mutex<Inner<T>>,
    /// Set (under the lock) by every send, cleared by the receiver when it finds the queue
    /// empty: while false, `try_recv` answers without taking the lock.
    maybe_pending: AtomicBool,
    signaler: Signaler,
    /// When the receiver watches before sleeping (its own bookkeeping).
    spin: SpinBackoff,
    /// When a stream's receiver yields the core before sleeping (see [`Expect::MoreOfAStream`]).
    yielding: SpinBackoff,
}

/// What a mailbox's owner expects when it is about to sleep in [`Mailbox::wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Nothing in particular: it sleeps at once.
    Nothing,
    /// A reply to what it has just sent: it first watches for a command for a few
    /// microseconds (see `spin_for_command`), so a reply that comes that soon costs neither
    /// side a system call nor a wake-up.
    Reply,
    /// More of a stream it has just taken a run of frames from: it yields the core once
    /// first. When the writer shares this core it then writes on until its time is up or the
    /// pipe is full, and the reader finds a whole batch instead of waking at every few frames
    /// (inproc 64 B on one core here: 7.0-8.6 -> 10.7-11.9 M msg/s). While the yields find
    /// nothing else to run (the writer has a core of its own) they back off, and the reader
    /// sleeps as before: a reader that sleeps lets the writer queue a batch for it, one that
    /// kept looking would take the frames a few at a time, each with a command.
    /// The price: a frame that arrives while the core runs another thread (a CPU-bound one
    /// sharing it) waits for that thread's time slice instead of waking the reader at once;
    /// only right after a run of frames, and `LIBZMQ_RS_SPIN_US=0` turns it off.
    MoreOfAStream,
}

impl<T> Mailbox<T> {
    /// Creates an empty mailbox (its receiver starts asleep, so the first send signals).
    pub(crate) fn new() -> Result<Mailbox<T>> {
        Ok(Mailbox {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                asleep: true,
                signalled: false,
                exposed: false,
                woken: false,
                closed: false,
            }),
            maybe_pending: AtomicBool::new(false),
            signaler: Signaler::new()?,
            spin: SpinBackoff::default(),
            yielding: SpinBackoff::default(),
        })
    }

    /// The fd that becomes readable when commands arrive (`ZMQ_FD`). Call [`Mailbox::expose`]
    /// before anyone but the owner's `wait` polls it.
    pub(crate) fn fd(&self) -> i32 {
        self.signaler.fd()
    }

    /// Switches to the strict protocol for an fd that others poll: from now on the fd is
    /// readable whenever commands may be pending. Idempotent.
    pub(crate) fn expose(&self) {
        let signal = {
            let mut inner = self.inner.lock();
            if inner.exposed {
                return;
            }
            inner.exposed = true;
            // Asleep, so the next send signals; and signalled now if anything may be pending.
            inner.asleep = true;
            if inner.queue.is_empty() && !inner.woken {
                if std::mem::take(&mut inner.signalled) {
                    // A signal from before, already dealt with: the fd must not stay readable.
                    // Reset under the lock so that no new signal can slip in before it.
                    self.signaler.reset();
                }
                false
            } else {
                inner.wake_up()
            }
        };
        if signal {
            self.signaler.send();
        }
    }

    /// Queues a command; wakes the receiver if it was asleep. Never blocks. A command to a
    /// closed mailbox is dropped (use [`Mailbox::send_or_return`] for one that must not be).
    pub(crate) fn send(&self, cmd: T) {
        drop(self.send_or_return(cmd));
    }

    /// Like [`Mailbox::send`], but hands the command back if the receiver has closed the
    /// mailbox: a command that carries a resource (a pipe end to attach) must then be undone
    /// by its sender, since nobody will ever read it.
    pub(crate) fn send_or_return(&self, cmd: T) -> Option<T> {
        let wake = {
            let mut inner = self.inner.lock();
            if inner.closed {
                return Some(cmd);
            }
            inner.queue.push_back(cmd);
            self.maybe_pending.store(true, Ordering::Release);
            inner.wake_up()
        };
        if wake {
            self.signaler.send();
        }
        None
    }

    /// The receiver leaves for good: every later send is refused, and what was queued is
    /// returned for the receiver to undo. Refusing and draining under one lock leaves no
    /// window in which a command is queued after the last look at the queue.
    pub(crate) fn close(&self) -> VecDeque<T> {
        let mut inner = self.inner.lock();
        inner.closed = true;
        std::mem::take(&mut inner.queue)
    }

    /// Makes the fd readable, as if a command were pending, until the receiver next finds the
    /// queue empty. libzmq's sockets send themselves a command when they bind or connect over
    /// tcp/ipc, so their `ZMQ_FD` is readable until the next call that processes commands;
    /// CZMQ's zpoller self-test relies on it.
    pub(crate) fn wake(&self) {
        let wake = {
            let mut inner = self.inner.lock();
            // So that the receiver's next try_recv takes the slow path and resets the fd.
            self.maybe_pending.store(true, Ordering::Release);
            if !inner.exposed {
                // Nobody polls the fd yet; remembered in case it is exposed before a drain.
                inner.woken = true;
                return;
            }
            inner.wake_up()
        };
        if wake {
            self.signaler.send();
        }
    }

    /// False if nothing was sent since the receiver last found the queue empty (then
    /// [`Mailbox::try_recv`] would answer None); one load, for the receiver's every operation.
    #[inline]
    pub(crate) fn maybe_pending(&self) -> bool {
        self.maybe_pending.load(Ordering::Acquire)
    }

    /// Takes the next command without waiting. On finding the queue empty with the fd exposed,
    /// the receiver goes to sleep and the signaler is reset, so the fd stays readable only if
    /// a command may follow.
    #[inline]
    pub(crate) fn try_recv(&self) -> Option<T> {
        if !self.maybe_pending.load(Ordering::Acquire) {
            // Nothing sent since the receiver last found the queue empty: answered inline,
            // since sockets ask before every send and receive.
            return None;
        }
        self.take_pending()
    }

    /// [`Mailbox::try_recv`] once something may have been sent: takes the lock.
    #[inline(never)]
    fn take_pending(&self) -> Option<T> {
        let mut inner = self.inner.lock();
        if let Some(cmd) = inner.queue.pop_front() {
            return Some(cmd);
        }
        self.maybe_pending.store(false, Ordering::Release);
        inner.woken = false;
        if !inner.exposed {
            return None;
        }
        inner.asleep = true;
        if !std::mem::take(&mut inner.signalled) {
            return None;
        }
        drop(inner);
        self.signaler.reset();
        // A sender may have queued (and signalled) between our check and the reset: look once
        // more, so that its command is not left behind a reset fd.
        self.inner.lock().queue.pop_front()
    }

    /// The look before a sleep that [`Expect`] asks for; true if a command may be pending.
    fn looks_before_sleeping(&self, expect: Expect) -> bool {
        match expect {
            Expect::Reply if self.spin.should_spin() => {
                let hit = self.spin_for_command();
                self.spin.outcome(hit);
                hit
            }
            Expect::MoreOfAStream if self.yielding.should_spin() => {
                self.yielding.outcome(yield_ran_another());
                self.maybe_pending.load(Ordering::Acquire)
            }
            _ => false,
        }
    }

    /// Watches for a command for a few microseconds before the receiver goes to sleep: a
    /// reply that comes that soon (an inproc peer, an I/O thread with the answer already in)
    /// then costs neither side a system call nor a wake-up. True if one came.
    fn spin_for_command(&self) -> bool {
        spin_until(watch_limit(), 32, || {
            self.maybe_pending.load(Ordering::Acquire)
        })
    }

    /// Waits up to `timeout_ms` (-1 = forever) for the signaler. Returns Ok(false) on timeout,
    /// Err(Interrupted) when a signal interrupts the wait. What the owner expects decides what
    /// comes before the sleep (see [`Expect`]).
    pub(crate) fn wait(&self, timeout_ms: i32, expect: Expect) -> Result<bool> {
        if timeout_ms != 0 && self.looks_before_sleeping(expect) {
            return Ok(true);
        }
        {
            let mut inner = self.inner.lock();
            if !inner.queue.is_empty() {
                return Ok(true);
            }
            // Asleep from here on: the next send writes the signaler.
            inner.asleep = true;
        }
        let signalled = self.signaler.wait(timeout_ms)?;
        if signalled {
            let reset = std::mem::take(&mut self.inner.lock().signalled);
            if reset {
                self.signaler.reset();
            }
        }
        Ok(signalled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_closed_mailbox_returns_what_it_held_and_refuses_the_rest() {
        let mb: Mailbox<u32> = Mailbox::new().unwrap();
        mb.send(1);
        assert_eq!(mb.send_or_return(2), None);
        assert_eq!(mb.close(), VecDeque::from([1, 2]));
        assert_eq!(mb.send_or_return(3), Some(3), "refused after close");
        mb.send(4);
        assert_eq!(
            mb.try_recv(),
            None,
            "a plain send to a closed mailbox is dropped"
        );
    }

    #[test]
    fn first_send_signals_and_draining_resets() {
        let mb = Mailbox::<u32>::new().unwrap();
        mb.expose();
        assert!(!mb.wait(0, Expect::Nothing).unwrap());
        mb.send(1);
        mb.send(2);
        assert!(mb.wait(0, Expect::Nothing).unwrap());
        assert_eq!(mb.try_recv(), Some(1));
        assert_eq!(mb.try_recv(), Some(2));
        assert_eq!(mb.try_recv(), None);
        assert!(!mb.signaler.wait(0).unwrap(), "fd reset once drained");
    }

    #[test]
    fn wake_signals_until_the_queue_is_next_found_empty() {
        let mb = Mailbox::<u32>::new().unwrap();
        mb.expose();
        mb.wake();
        mb.wake();
        assert!(mb.signaler.wait(0).unwrap(), "readable after wake");
        assert!(mb.signaler.wait(0).unwrap(), "and stays readable");
        assert_eq!(mb.try_recv(), None);
        assert!(!mb.signaler.wait(0).unwrap(), "reset once found empty");
        mb.send(7);
        assert!(mb.signaler.wait(0).unwrap(), "a later send still signals");
        assert_eq!(mb.try_recv(), Some(7));
    }

    #[test]
    fn unexposed_busy_receiver_costs_senders_no_signal() {
        let mb = Mailbox::<u32>::new().unwrap();
        mb.send(1);
        assert!(
            mb.signaler.wait(0).unwrap(),
            "the first send signals (starts asleep)"
        );
        assert_eq!(mb.try_recv(), Some(1));
        assert_eq!(mb.try_recv(), None);
        assert!(
            mb.signaler.wait(0).unwrap(),
            "an unexposed drain leaves the fd alone"
        );
        mb.signaler.reset();
        // Drained, but not waiting: the receiver is busy, not asleep.
        mb.send(2);
        mb.send(3);
        assert!(
            !mb.signaler.wait(0).unwrap(),
            "no signal while the receiver is busy"
        );
        assert_eq!(mb.try_recv(), Some(2));
        assert_eq!(mb.try_recv(), Some(3));
        assert!(
            !mb.wait(0, Expect::Nothing).unwrap(),
            "waiting with nothing sent times out"
        );
        mb.send(4);
        assert!(
            mb.signaler.wait(0).unwrap(),
            "a send after wait began signals"
        );
        assert!(mb.wait(0, Expect::Nothing).unwrap());
        assert_eq!(mb.try_recv(), Some(4));
    }

    #[test]
    fn exposing_makes_pending_commands_and_wakes_visible() {
        let pending = Mailbox::<u32>::new().unwrap();
        pending.send(1);
        assert_eq!(pending.try_recv(), Some(1));
        pending.send(2);
        pending.expose();
        assert!(
            pending.signaler.wait(0).unwrap(),
            "a pending command shows on the fd"
        );
        assert_eq!(pending.try_recv(), Some(2));
        assert_eq!(pending.try_recv(), None);
        assert!(!pending.signaler.wait(0).unwrap(), "drained: reset");

        let woken = Mailbox::<u32>::new().unwrap();
        woken.wake();
        woken.expose();
        assert!(
            woken.signaler.wait(0).unwrap(),
            "a wake before exposure shows on the fd"
        );
        assert_eq!(woken.try_recv(), None);
        assert!(!woken.signaler.wait(0).unwrap());

        let quiet = Mailbox::<u32>::new().unwrap();
        quiet.send(1);
        assert_eq!(quiet.try_recv(), Some(1));
        quiet.expose();
        assert!(
            !quiet.signaler.wait(0).unwrap(),
            "nothing pending, nothing shown"
        );
        quiet.send(3);
        assert!(quiet.signaler.wait(0).unwrap(), "the next send signals");
    }

    #[test]
    fn a_missed_spin_backs_off_and_a_pending_command_ends_it() {
        let mb = Mailbox::<u32>::new().unwrap();
        assert!(
            !mb.wait(1, Expect::Reply).unwrap(),
            "nothing sent: the spin misses, the wait times out"
        );
        assert_eq!(
            mb.spin.skips_left(),
            2,
            "the miss backs the next 2 waits off"
        );
        mb.send(5);
        assert!(
            mb.spin_for_command(),
            "a pending command ends the spin at once"
        );
    }

    #[test]
    fn a_stream_reader_that_yields_first_misses_no_command() {
        // The reader yields before every sleep (what a reader on the writer's core does): each
        // command must still be found, by the look after the yield or by the sleep.
        let mb = Arc::new(Mailbox::<u32>::new().unwrap());
        let tx = Arc::clone(&mb);
        let t = std::thread::spawn(move || {
            for i in 0..5000 {
                tx.send(i);
                if i % 64 == 0 {
                    std::thread::yield_now();
                }
            }
        });
        let mut got = Vec::new();
        while got.len() < 5000 {
            match mb.try_recv() {
                Some(v) => got.push(v),
                None => {
                    assert!(mb.wait(5000, Expect::MoreOfAStream).unwrap(), "woken");
                }
            }
        }
        t.join().unwrap();
        assert_eq!(got, (0..5000).collect::<Vec<_>>());
        // A wait may still answer true once (the first send's signal, if the reader never
        // slept: a spurious wake-up is allowed), but nothing is left to take.
        let _ = mb.wait(0, Expect::MoreOfAStream).unwrap();
        assert_eq!(mb.try_recv(), None, "nothing left");
    }

    #[test]
    fn cross_thread_sends_wake_a_waiting_receiver() {
        let mb = Arc::new(Mailbox::<u32>::new().unwrap());
        let tx = Arc::clone(&mb);
        let t = std::thread::spawn(move || {
            for i in 0..1000 {
                tx.send(i);
            }
        });
        let mut got = Vec::new();
        while got.len() < 1000 {
            match mb.try_recv() {
                Some(v) => got.push(v),
                None => {
                    mb.wait(1000, Expect::Nothing).unwrap();
                }
            }
        }
        t.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }
}
