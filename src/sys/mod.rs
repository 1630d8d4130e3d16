//! Thin, safe wrappers over the few OS calls the engine needs: errno, eventfd signalers,
//! `poll(2)`, `epoll(7)` for the I/O threads, reads into a `BytesMut`, monotonic clock in
//! milliseconds, signal masks and scheduling of library threads, and the light lock that pipes
//! and socket handles take per message.
//!
//! Layer L1. The only module besides `capi/` (and the files ARCHITECTURE.md names) that may
//! contain `unsafe`; every block carries its SAFETY argument.
#![allow(
    unsafe_code,
    reason = "the OS boundary: errno, eventfd, poll, epoll, read, peer credentials, adopted fds"
)]

mod adopted_fd;
mod biased_lock;
mod epoll;
mod ifaddr;
mod light_lock;
mod peercred;
pub(crate) mod shm;
mod signaler;
mod spin;
mod thread;

pub(crate) use adopted_fd::{AdoptionGuard, adopt_listener};
pub(crate) use biased_lock::{BiasedGuard, BiasedLock};
pub(crate) use epoll::{Epoll, EpollEvent};
pub(crate) use ifaddr::interface_address;
pub(crate) use light_lock::{LightGuard, LightLock};
pub(crate) use peercred::{peer_credentials, user_listed_in_group};
pub(crate) use signaler::Signaler;
pub(crate) use spin::{SpinBackoff, spin_until, watch_limit, yield_ran_another};
pub(crate) use thread::{ThreadSettings, apply_settings, block_all_signals};

/// Sets the calling thread's errno.
pub(crate) fn set_errno(code: i32) {
    // SAFETY: __errno_location has no preconditions.
    let slot = unsafe { libc::__errno_location() };
    // SAFETY: it returns the calling thread's errno slot, valid for the thread's life.
    unsafe { *slot = code };
}

/// Reads the calling thread's errno.
pub(crate) fn errno() -> i32 {
    // SAFETY: __errno_location has no preconditions.
    let slot = unsafe { libc::__errno_location() };
    // SAFETY: it returns the calling thread's errno slot, valid for the thread's life.
    unsafe { *slot }
}

/// Readiness wanted from / reported for one fd in [`poll_fds`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollFd {
    /// The file descriptor.
    pub(crate) fd: i32,
    /// `POLLIN` / `POLLOUT` / `POLLPRI` bits wanted.
    pub(crate) events: i16,
    /// Bits reported by the kernel.
    pub(crate) revents: i16,
}

/// `poll(2)` over `fds` for at most `timeout_ms` (-1 = forever). Returns the ready count;
/// `EINTR` is returned as an error for the caller to report, as libzmq does.
pub(crate) fn poll_fds(fds: &mut [PollFd], timeout_ms: i32) -> crate::error::Result<usize> {
    let mut raw: Vec<libc::pollfd> = fds
        .iter()
        .map(|p| libc::pollfd {
            fd: p.fd,
            events: p.events,
            revents: 0,
        })
        .collect();
    // SAFETY: raw is a valid, exclusively borrowed array of raw.len() pollfd structs.
    let rc = unsafe { libc::poll(raw.as_mut_ptr(), raw.len() as libc::nfds_t, timeout_ms) };
    if rc < 0 {
        return Err(crate::error::Error::from_errno(errno()));
    }
    for (p, r) in fds.iter_mut().zip(&raw) {
        p.revents = r.revents;
    }
    Ok(rc as usize)
}

/// Reads from `fd` straight into the spare capacity of `buf`, so received data is not copied
/// again: first makes room for at least `reserve` bytes, then asks for at most `max` (never
/// more than the spare capacity, so the read itself never moves what `buf` holds). Returns
/// the count, 0 at end of stream.
pub(crate) fn read_into(
    fd: i32,
    buf: &mut bytes::BytesMut,
    reserve: usize,
    max: usize,
) -> std::io::Result<usize> {
    use bytes::BufMut;
    buf.reserve(reserve);
    let spare = buf.chunk_mut();
    let len = spare.len().min(max);
    // SAFETY: spare.as_mut_ptr() is valid for `len` bytes of writes (it is BytesMut's reserved,
    // exclusively borrowed spare capacity); read(2) writes at most `len` bytes there.
    let rc = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), len) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let n = rc as usize;
    // SAFETY: the kernel initialised exactly n <= len bytes of the spare capacity.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// Sets a socket's receive low-water mark (`SO_RCVLOWAT`): a TCP socket then reports readable
/// only once `octets` are queued (or the peer closed, or the kernel's window runs short).
pub(crate) fn set_recv_low_water(
    fd: std::os::fd::BorrowedFd<'_>,
    octets: usize,
) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let value = libc::c_int::try_from(octets).unwrap_or(libc::c_int::MAX);
    // SAFETY: `value` is a live c_int and the length passed is its size; the fd is borrowed
    // open for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Milliseconds on the monotonic clock since an arbitrary fixed point.
pub(crate) fn now_ms() -> u64 {
    now_us() / 1000
}

/// Microseconds on the monotonic clock since an arbitrary fixed point.
pub(crate) fn now_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_round_trips() {
        set_errno(libc::EAGAIN);
        assert_eq!(errno(), libc::EAGAIN);
    }

    #[test]
    fn clock_is_monotonic() {
        let a = now_us();
        let b = now_us();
        assert!(b >= a);
    }
}
