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
#![forbid(unsafe_code)]

use std::collections::VecDeque;

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::error::Result;
use crate::sys::Signaler;

struct Inner<T> {
    queue: VecDeque<T>,
    asleep: bool,
}

/// A multi-producer, single-consumer command queue with a pollable fd.
pub(crate) struct Mailbox<T> {
    inner: Mutex<Inner<T>>,
    /// Set (under the lock) by every send, cleared by the receiver when it finds the queue
    /// empty: while false, `try_recv` answers without taking the lock.
    maybe_pending: AtomicBool,
    signaler: Signaler,
}

impl<T> Mailbox<T> {
    /// Creates an empty mailbox (its receiver starts asleep, so the first send signals).
    pub(crate) fn new() -> Result<Mailbox<T>> {
        Ok(Mailbox {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                asleep: true,
            }),
            maybe_pending: AtomicBool::new(false),
            signaler: Signaler::new()?,
        })
    }

    /// The fd that becomes readable when commands arrive (`ZMQ_FD`).
    pub(crate) fn fd(&self) -> i32 {
        self.signaler.fd()
    }

    /// Queues a command; wakes the receiver if it was asleep. Never blocks.
    pub(crate) fn send(&self, cmd: T) {
        let wake = {
            let mut inner = self.inner.lock();
            inner.queue.push_back(cmd);
            self.maybe_pending.store(true, Ordering::Release);
            std::mem::replace(&mut inner.asleep, false)
        };
        if wake {
            self.signaler.send();
        }
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
            std::mem::replace(&mut inner.asleep, false)
        };
        if wake {
            self.signaler.send();
        }
    }

    /// Takes the next command without waiting. On finding the queue empty the receiver goes to
    /// sleep and the signaler is reset, so the fd stays readable only if a command may follow.
    pub(crate) fn try_recv(&self) -> Option<T> {
        if !self.maybe_pending.load(Ordering::Acquire) {
            // Nothing sent since the receiver last found the queue empty (and went to sleep).
            return None;
        }
        let mut inner = self.inner.lock();
        if let Some(cmd) = inner.queue.pop_front() {
            return Some(cmd);
        }
        self.maybe_pending.store(false, Ordering::Release);
        if !inner.asleep {
            inner.asleep = true;
            drop(inner);
            self.signaler.reset();
            // A sender may have queued between our check and the reset: look once more.
            return self.inner.lock().queue.pop_front();
        }
        None
    }

    /// Waits up to `timeout_ms` (-1 = forever) for the signaler. Returns Ok(false) on timeout,
    /// Err(Interrupted) when a signal interrupts the wait.
    pub(crate) fn wait(&self, timeout_ms: i32) -> Result<bool> {
        if !self.inner.lock().queue.is_empty() {
            return Ok(true);
        }
        let signalled = self.signaler.wait(timeout_ms)?;
        if signalled {
            self.signaler.reset();
        }
        Ok(signalled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn first_send_signals_and_draining_resets() {
        let mb = Mailbox::<u32>::new().unwrap();
        assert!(!mb.wait(0).unwrap());
        mb.send(1);
        mb.send(2);
        assert!(mb.wait(0).unwrap());
        assert_eq!(mb.try_recv(), Some(1));
        assert_eq!(mb.try_recv(), Some(2));
        assert_eq!(mb.try_recv(), None);
        assert!(!mb.signaler.wait(0).unwrap(), "fd reset once drained");
    }

    #[test]
    fn wake_signals_until_the_queue_is_next_found_empty() {
        let mb = Mailbox::<u32>::new().unwrap();
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
                    mb.wait(1000).unwrap();
                }
            }
        }
        t.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }
}
