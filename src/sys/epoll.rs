//! `Epoll`: a level-triggered epoll instance, as thin as libzmq's `epoll_t`: one
//! `epoll_wait` per loop turn with a millisecond timeout, and no helper fds (no timerfd, no
//! re-arming of a notifier), so that an idle-to-busy turn costs one system call.
//!
//! Layer L1. Invariants: the epoll fd is close-on-exec, owned by the `Epoll` and closed
//! exactly once on drop. Registering an fd is safe in Rust's sense (the kernel tracks open file
//! descriptions, not memory); callers delete an fd before closing it so that no event of a
//! closed fd can reach a reused key (`reactor::Registered` does this on drop).
#![allow(unsafe_code, reason = "epoll_create1 / epoll_ctl / epoll_wait")]

use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

/// One readiness report of [`Epoll::wait`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct EpollEvent {
    /// The key the fd was registered with.
    pub(crate) key: u64,
    /// Readable, hung up, or in error (a read reports which).
    pub(crate) readable: bool,
    /// Writable (or in error).
    pub(crate) writable: bool,
}

/// A level-triggered epoll instance.
#[derive(Debug)]
pub(crate) struct Epoll {
    fd: i32,
}

fn interest(readable: bool, writable: bool) -> u32 {
    let mut ev = 0;
    if readable {
        ev |= libc::EPOLLIN | libc::EPOLLRDHUP;
    }
    if writable {
        ev |= libc::EPOLLOUT;
    }
    ev as u32
}

impl Epoll {
    /// Creates the instance.
    pub(crate) fn new() -> std::io::Result<Epoll> {
        // SAFETY: epoll_create1 has no pointer arguments.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Epoll { fd })
    }

    fn ctl(&self, op: i32, fd: i32, key: u64, events: u32) -> std::io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: key };
        // SAFETY: ev is a valid, exclusively borrowed epoll_event for the call's duration;
        // self.fd is our live epoll fd.
        let rc = unsafe { libc::epoll_ctl(self.fd, op, fd, &mut ev) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Adds `fd` under `key` with the given interest.
    pub(crate) fn add(
        &self,
        fd: BorrowedFd<'_>,
        key: u64,
        readable: bool,
        writable: bool,
    ) -> std::io::Result<()> {
        self.ctl(
            libc::EPOLL_CTL_ADD,
            fd.as_raw_fd(),
            key,
            interest(readable, writable),
        )
    }

    /// Changes the interest of a registered `fd`.
    pub(crate) fn modify(
        &self,
        fd: BorrowedFd<'_>,
        key: u64,
        readable: bool,
        writable: bool,
    ) -> std::io::Result<()> {
        self.ctl(
            libc::EPOLL_CTL_MOD,
            fd.as_raw_fd(),
            key,
            interest(readable, writable),
        )
    }

    /// Removes `fd`.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> std::io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd.as_raw_fd(), 0, 0)
    }

    /// Waits up to `timeout_ms` (-1 = forever) and appends what is ready to `out` (which is
    /// cleared first). `EINTR` is an empty result.
    pub(crate) fn wait(&self, out: &mut Vec<EpollEvent>, timeout_ms: i32) -> std::io::Result<()> {
        const MAX: usize = 256;
        out.clear();
        // Not zeroed: the reactor's watch calls this every few microseconds, and clearing
        // 3 KiB each time was 3 % of a busy I/O thread's time (perf, tcp 1 MiB receiver).
        let mut raw = [MaybeUninit::<libc::epoll_event>::uninit(); MAX];
        let events = raw.as_mut_ptr().cast::<libc::epoll_event>();
        // SAFETY: `events` points to MAX exclusively borrowed epoll_event slots (MaybeUninit
        // has the same layout); the kernel writes at most MAX of them and reads none.
        let rc = unsafe { libc::epoll_wait(self.fd, events, MAX as i32, timeout_ms) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(e);
        }
        let n = (rc as usize).min(MAX);
        let err = (libc::EPOLLERR | libc::EPOLLHUP | libc::EPOLLRDHUP) as u32;
        out.extend(raw.iter().take(n).map(|slot| {
            // SAFETY: epoll_wait initialised the first n slots (n <= its return value).
            let e = unsafe { slot.assume_init_read() };
            EpollEvent {
                key: e.u64,
                readable: e.events & (libc::EPOLLIN as u32 | err) != 0,
                writable: e.events & (libc::EPOLLOUT as u32 | libc::EPOLLERR as u32) != 0,
            }
        }));
        Ok(())
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: we own fd and close it exactly once.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn reports_readiness_by_key_until_deleted() {
        let ep = Epoll::new().unwrap();
        let s = super::super::Signaler::new().unwrap();
        let fd = s.as_fd();
        ep.add(fd, 7, true, false).unwrap();
        let mut out = Vec::new();
        ep.wait(&mut out, 0).unwrap();
        assert!(out.is_empty());
        s.send();
        ep.wait(&mut out, 1000).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key, 7);
        assert!(out[0].readable && !out[0].writable);
        // Level-triggered: still ready until reset.
        ep.wait(&mut out, 0).unwrap();
        assert_eq!(out.len(), 1);
        ep.modify(fd, 8, true, true).unwrap();
        ep.wait(&mut out, 0).unwrap();
        assert_eq!((out[0].key, out[0].writable), (8, true));
        ep.delete(fd).unwrap();
        ep.wait(&mut out, 0).unwrap();
        assert!(out.is_empty());
    }
}
