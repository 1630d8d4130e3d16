//! `Signaler`: an eventfd that one side makes readable and the other waits on and resets.
//! It is the fd behind a socket's mailbox and so what `ZMQ_FD` returns.
//!
//! Layer L1. Invariant: the fd is non-blocking and close-on-exec, owned by the `Signaler`
//! and closed exactly once on drop.
#![allow(unsafe_code, reason = "eventfd read/write/close")]

use crate::error::{Error, Result};

/// An eventfd-based wake-up signal.
#[derive(Debug)]
pub(crate) struct Signaler {
    fd: i32,
}

impl Signaler {
    /// Creates the eventfd.
    pub(crate) fn new() -> Result<Signaler> {
        // SAFETY: eventfd has no pointer arguments.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::from_errno(super::errno()));
        }
        Ok(Signaler { fd })
    }

    /// The fd to poll for readability.
    pub(crate) fn fd(&self) -> i32 {
        self.fd
    }

    /// Makes the fd readable (idempotent until [`Signaler::reset`]).
    pub(crate) fn send(&self) {
        let one: u64 = 1;
        loop {
            // SAFETY: writes 8 bytes from a live u64 to an fd we own.
            let rc = unsafe { libc::write(self.fd, (&one as *const u64).cast(), 8) };
            if rc == 8 || super::errno() != libc::EINTR {
                // EAGAIN means the counter is saturated: the fd is readable anyway.
                return;
            }
        }
    }

    /// Clears readability; returns true if the fd was signalled.
    pub(crate) fn reset(&self) -> bool {
        let mut v: u64 = 0;
        loop {
            // SAFETY: reads 8 bytes into a live u64 from an fd we own.
            let rc = unsafe { libc::read(self.fd, (&mut v as *mut u64).cast(), 8) };
            if rc == 8 {
                return true;
            }
            if super::errno() != libc::EINTR {
                return false;
            }
        }
    }

    /// Waits until the fd is readable or `timeout_ms` passes (-1 = forever, 0 = check).
    /// Returns Ok(true) when signalled, Ok(false) on timeout, Err(Interrupted) on a signal.
    pub(crate) fn wait(&self, timeout_ms: i32) -> Result<bool> {
        let mut fds = [super::PollFd {
            fd: self.fd,
            events: libc::POLLIN,
            revents: 0,
        }];
        Ok(super::poll_fds(&mut fds, timeout_ms)? > 0)
    }
}

impl std::os::fd::AsFd for Signaler {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: the fd is open for as long as the Signaler lives, which the borrow ties
        // the returned BorrowedFd to.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) }
    }
}

impl Drop for Signaler {
    fn drop(&mut self) {
        // SAFETY: we own fd and close it exactly once.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_makes_readable_and_reset_clears() {
        let s = Signaler::new().unwrap();
        assert!(!s.wait(0).unwrap());
        s.send();
        s.send();
        assert!(s.wait(0).unwrap());
        assert!(s.reset());
        assert!(!s.wait(0).unwrap());
        assert!(!s.reset());
    }
}
