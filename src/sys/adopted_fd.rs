//! Listening sockets handed over by the application (`ZMQ_USE_FD`, e.g. from systemd socket
//! activation): the fd is checked and then owned, and closed when the listener closes, as
//! libzmq does.
//!
//! One fd can be adopted by one listener at a time: a second bind with the same `ZMQ_USE_FD`
//! while the first listener lives is EADDRINUSE, where two owners would close it twice (the
//! second close could hit an unrelated file that reused the number).

use std::collections::HashSet;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use parking_lot::Mutex;

/// Fds owned by a live listener.
static ADOPTED: Mutex<Option<HashSet<RawFd>>> = Mutex::new(None);

/// Takes over `fd`, which must be a listening stream socket of `family` (`AF_INET` and
/// `AF_INET6` count as one): EBADF when it is not open, ENOTSOCK when not a socket, EINVAL when
/// it does not listen or is of another family, EADDRINUSE when a live listener has it. Returns
/// the owned fd and the guard that keeps it registered as adopted: drop the guard after the fd.
pub(crate) fn adopt_listener(
    fd: RawFd,
    family: libc::c_int,
) -> io::Result<(OwnedFd, AdoptionGuard)> {
    let listening = sock_opt(fd, libc::SO_ACCEPTCONN)?;
    let domain = sock_opt(fd, libc::SO_DOMAIN)?;
    let inet = |d| d == libc::AF_INET || d == libc::AF_INET6;
    let same_family = domain == family || (inet(domain) && inet(family));
    if listening != 1 || !same_family {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut adopted = ADOPTED.lock();
    if !adopted.get_or_insert_with(HashSet::new).insert(fd) {
        return Err(io::Error::from_raw_os_error(libc::EADDRINUSE));
    }
    // SAFETY: fd is an open socket (getsockopt answered for it) that the application handed
    // over with ZMQ_USE_FD, which makes the library its owner (libzmq closes it with the
    // listener), and no other listener owns it (checked under the lock above).
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok((owned, AdoptionGuard(fd)))
}

/// Keeps an fd registered as adopted while the listener that owns it lives. Drop it after
/// the fd is closed.
#[derive(Debug)]
pub(crate) struct AdoptionGuard(RawFd);

impl Drop for AdoptionGuard {
    fn drop(&mut self) {
        forget(self.0);
    }
}

fn forget(fd: RawFd) {
    if let Some(set) = ADOPTED.lock().as_mut() {
        set.remove(&fd);
    }
}

/// An int socket option at `SOL_SOCKET`.
fn sock_opt(fd: RawFd, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are live locals of the sizes passed; getsockopt only reads fd.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&raw mut value).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, IntoRawFd};

    #[test]
    fn only_open_listening_sockets_of_the_family_are_taken_and_once() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fd = l.into_raw_fd();
        let (owned, guard) = adopt_listener(fd, libc::AF_INET).unwrap();
        assert_eq!(
            adopt_listener(fd, libc::AF_INET)
                .unwrap_err()
                .raw_os_error(),
            Some(libc::EADDRINUSE),
            "one owner at a time"
        );
        assert_eq!(owned.as_raw_fd(), fd);
        drop(owned);
        drop(guard);

        let u = std::os::unix::net::UnixListener::bind_addr(
            &<std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
                format!("zmq-rs-adopt-{}", std::process::id()).as_bytes(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            adopt_listener(u.as_raw_fd(), libc::AF_INET)
                .unwrap_err()
                .raw_os_error(),
            Some(libc::EINVAL),
            "another family"
        );
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(
            adopt_listener(s.as_raw_fd(), libc::AF_INET).is_err(),
            "not listening"
        );
        let f = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(
            adopt_listener(f.as_raw_fd(), libc::AF_UNIX)
                .unwrap_err()
                .raw_os_error(),
            Some(libc::ENOTSOCK)
        );
        assert_eq!(
            adopt_listener(-1, libc::AF_UNIX)
                .unwrap_err()
                .raw_os_error(),
            Some(libc::EBADF)
        );
    }
}
