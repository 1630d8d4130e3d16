//! The draft poller API (`zmq_poller_*`): a reusable poll set over sockets and fds, built on
//! the same loop as `zmq_poll`.
#![allow(non_camel_case_types, reason = "C names of the public ABI")]

use std::ffi::{c_int, c_long, c_short, c_void};

use parking_lot::Mutex;

use super::boundary::ffi;
use super::handle::SocketHandle;
use super::poll::{Item, poll_items};
use super::types::zmq_fd_t;
use crate::error::{Error, Result};

/// One event reported by `zmq_poller_wait`/`zmq_poller_wait_all`.
#[cfg(feature = "draft")]
#[repr(C)]
pub struct zmq_poller_event_t {
    /// The socket, or NULL for an fd entry.
    pub socket: *mut c_void,
    /// The fd of an fd entry.
    pub fd: zmq_fd_t,
    /// The user data given when the entry was added.
    pub user_data: *mut c_void,
    /// The events that occurred.
    pub events: c_short,
}

const TAG: u64 = 0x7a6d_715f_706f_6c6c;

struct Entry {
    socket: *mut c_void,
    fd: zmq_fd_t,
    user_data: *mut c_void,
    events: c_short,
}

struct Poller {
    tag: u64,
    entries: Mutex<Vec<Entry>>,
}

// SAFETY: the raw pointers are opaque handles and user data the library never dereferences
// except through the checked socket-handle path; the entry list is behind a mutex.
unsafe impl Send for Poller {}
// SAFETY: as above.
unsafe impl Sync for Poller {}

/// # Safety
/// `p` must be NULL or point to readable memory of at least 8 bytes.
unsafe fn poller<'a>(p: *mut c_void) -> Result<&'a Poller> {
    if p.is_null() || !(p as usize).is_multiple_of(8) {
        return Err(Error::Fault);
    }
    // SAFETY: non-null and aligned; the tag is checked before any other field is used.
    let h = unsafe { &*p.cast::<Poller>() };
    if h.tag != TAG {
        return Err(Error::Fault);
    }
    Ok(h)
}

/// Creates a poller (draft API).
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub extern "C" fn zmq_poller_new() -> *mut c_void {
    ffi!({
        Ok(Box::into_raw(Box::new(Poller {
            tag: TAG,
            entries: Mutex::new(Vec::new()),
        }))
        .cast())
    })
}

/// Destroys a poller and sets `*poller_p` to NULL. Errors: EFAULT.
///
/// # Safety
/// `poller_p` must be NULL or point to a poller handle (or NULL) that is not used afterwards.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_destroy(poller_p: *mut *mut c_void) -> c_int {
    ffi!({
        if poller_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-null per the check; the caller promises a valid pointer slot.
        let p = unsafe { *poller_p };
        // SAFETY: forwarded contract.
        unsafe { poller(p) }?;
        // SAFETY: p is a live Box<Poller> (tag checked) released exactly once here.
        let mut b = unsafe { Box::from_raw(p.cast::<Poller>()) };
        b.tag = 0;
        drop(b);
        // SAFETY: as above.
        unsafe { *poller_p = std::ptr::null_mut() };
        Ok(0)
    })
}

/// The number of entries. Errors: EFAULT.
///
/// # Safety
/// `poller` must be NULL or a poller handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_size(poller_h: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        Ok(c_int::try_from(p.entries.lock().len()).unwrap_or(c_int::MAX))
    })
}

fn add(p: &Poller, e: Entry) -> Result<c_int> {
    let mut entries = p.entries.lock();
    let dup = entries.iter().any(|x| {
        if e.socket.is_null() {
            x.socket.is_null() && x.fd == e.fd
        } else {
            x.socket == e.socket
        }
    });
    if dup {
        return Err(Error::Invalid);
    }
    entries.push(e);
    Ok(0)
}

fn find(entries: &mut [Entry], socket: *mut c_void, fd: zmq_fd_t) -> Result<usize> {
    entries
        .iter()
        .position(|x| {
            if socket.is_null() {
                x.socket.is_null() && x.fd == fd
            } else {
                x.socket == socket
            }
        })
        .ok_or(Error::Invalid)
}

/// Adds a socket. Errors: EINVAL (already added), ENOTSOCK, EFAULT.
///
/// # Safety
/// `poller` NULL or a poller handle; `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_add(
    poller_h: *mut c_void,
    socket: *mut c_void,
    user_data: *mut c_void,
    events: c_short,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        // SAFETY: forwarded contract.
        unsafe { SocketHandle::from_raw(socket) }?;
        add(
            p,
            Entry {
                socket,
                fd: -1,
                user_data,
                events,
            },
        )
    })
}

/// Changes the events of a socket entry. Errors: EINVAL (not added), ENOTSOCK, EFAULT.
///
/// # Safety
/// `poller` NULL or a poller handle; `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_modify(
    poller_h: *mut c_void,
    socket: *mut c_void,
    events: c_short,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        // SAFETY: forwarded contract.
        unsafe { SocketHandle::from_raw(socket) }?;
        let mut entries = p.entries.lock();
        let i = find(&mut entries, socket, -1)?;
        entries[i].events = events;
        Ok(0)
    })
}

/// Removes a socket entry. Errors: EINVAL (not added), ENOTSOCK, EFAULT.
///
/// # Safety
/// `poller` NULL or a poller handle; `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_remove(poller_h: *mut c_void, socket: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        // SAFETY: forwarded contract.
        unsafe { SocketHandle::from_raw(socket) }?;
        let mut entries = p.entries.lock();
        let i = find(&mut entries, socket, -1)?;
        entries.remove(i);
        Ok(0)
    })
}

/// Adds a plain fd. Errors: EINVAL (already added or negative fd), EFAULT.
///
/// # Safety
/// `poller` NULL or a poller handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_add_fd(
    poller_h: *mut c_void,
    fd: zmq_fd_t,
    user_data: *mut c_void,
    events: c_short,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        if fd < 0 {
            return Err(Error::Os(libc::EBADF));
        }
        add(
            p,
            Entry {
                socket: std::ptr::null_mut(),
                fd,
                user_data,
                events,
            },
        )
    })
}

/// Changes the events of an fd entry. Errors: EINVAL (not added), EFAULT.
///
/// # Safety
/// `poller` NULL or a poller handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_modify_fd(
    poller_h: *mut c_void,
    fd: zmq_fd_t,
    events: c_short,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        let mut entries = p.entries.lock();
        let i = find(&mut entries, std::ptr::null_mut(), fd)?;
        entries[i].events = events;
        Ok(0)
    })
}

/// Removes an fd entry. Errors: EINVAL (not added), EFAULT.
///
/// # Safety
/// `poller` NULL or a poller handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_remove_fd(poller_h: *mut c_void, fd: zmq_fd_t) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        let mut entries = p.entries.lock();
        let i = find(&mut entries, std::ptr::null_mut(), fd)?;
        entries.remove(i);
        Ok(0)
    })
}

/// Waits up to `timeout` ms (-1 forever) and fills up to `n_events` events; returns how many.
/// Errors: EAGAIN (timeout), EFAULT, EINVAL (n_events < 1), ETERM, EINTR.
///
/// # Safety
/// `poller` NULL or a poller handle; `events` NULL or writable for `n_events` entries.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_wait_all(
    poller_h: *mut c_void,
    events: *mut zmq_poller_event_t,
    n_events: c_int,
    timeout: c_long,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let p = unsafe { poller(poller_h) }?;
        if events.is_null() {
            return Err(Error::Fault);
        }
        let n = usize::try_from(n_events).map_err(|_| Error::Invalid)?;
        if n == 0 {
            return Err(Error::Invalid);
        }
        let snapshot: Vec<(*mut c_void, zmq_fd_t, *mut c_void, c_short)> = p
            .entries
            .lock()
            .iter()
            .map(|e| (e.socket, e.fd, e.user_data, e.events))
            .collect();
        if snapshot.is_empty() {
            if timeout != 0 {
                crate::sys::poll_fds(&mut [], i32::try_from(timeout).unwrap_or(i32::MAX))?;
            }
            return Err(Error::Again);
        }
        let mut items: Vec<Item> = snapshot
            .iter()
            .map(|&(socket, fd, _, ev)| Item {
                socket,
                fd,
                events: ev,
                revents: 0,
            })
            .collect();
        if poll_items(&mut items, timeout)? == 0 {
            return Err(Error::Again);
        }
        // SAFETY: non-null; the caller promises n writable entries.
        let out = unsafe { std::slice::from_raw_parts_mut(events, n) };
        let mut filled = 0;
        for (it, &(socket, fd, user_data, _)) in items.iter().zip(&snapshot) {
            if it.revents == 0 || filled == n {
                continue;
            }
            out[filled] = zmq_poller_event_t {
                socket,
                fd,
                user_data,
                events: it.revents,
            };
            filled += 1;
        }
        Ok(c_int::try_from(filled).unwrap_or(c_int::MAX))
    })
}

/// Waits for one event (see `zmq_poller_wait_all`); returns 0. Errors as that function.
///
/// # Safety
/// `poller` NULL or a poller handle; `event` NULL or writable.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_wait(
    poller_h: *mut c_void,
    event: *mut zmq_poller_event_t,
    timeout: c_long,
) -> c_int {
    // SAFETY: forwarded contract.
    let rc = unsafe { zmq_poller_wait_all(poller_h, event, 1, timeout) };
    if rc < 0 { rc } else { 0 }
}

/// The poller's signaling fd, which exists only for thread-safe sockets (none in this build):
/// fails with EINVAL. Errors: EFAULT.
///
/// # Safety
/// `poller` NULL or a poller handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poller_fd(poller_h: *mut c_void, fd: *mut zmq_fd_t) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        unsafe { poller(poller_h) }?;
        let _ = fd;
        Err(Error::Invalid)
    })
}
