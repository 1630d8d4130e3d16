//! Polling and devices: `zmq_poll`, `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`.
//!
//! `zmq_poll` follows libzmq's algorithm: ask each socket for its `ZMQ_EVENTS` (which drains
//! its mailbox), and if nothing is ready sleep in `poll(2)` on the sockets' mailbox fds and the
//! plain fds until one changes or the timeout passes, then ask again.

use std::ffi::{c_int, c_long, c_void};

use super::boundary::ffi;
use super::handle::SocketHandle;
use super::socket::with_socket;
use super::types::zmq_pollitem_t;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::sys::{PollFd, now_ms, poll_fds};

/// One entry of an internal poll set.
pub(crate) struct Item {
    /// The socket handle (NULL for a plain fd).
    pub(crate) socket: *mut c_void,
    pub(crate) fd: i32,
    pub(crate) events: i16,
    pub(crate) revents: i16,
}

const IN: i16 = ZMQ_POLLIN as i16;
const OUT: i16 = ZMQ_POLLOUT as i16;
const ERR: i16 = ZMQ_POLLERR as i16;
const PRI: i16 = ZMQ_POLLPRI as i16;

/// Polls `items` for at most `timeout_ms` (-1 forever, 0 check once); returns the number of
/// items with events.
pub(crate) fn poll_items(items: &mut [Item], timeout_ms: i64) -> Result<usize> {
    let mut fds = Vec::with_capacity(items.len());
    for it in items.iter() {
        if it.socket.is_null() {
            let mut ev = 0;
            if it.events & IN != 0 {
                ev |= libc::POLLIN;
            }
            if it.events & OUT != 0 {
                ev |= libc::POLLOUT;
            }
            if it.events & PRI != 0 {
                ev |= libc::POLLPRI;
            }
            fds.push(PollFd {
                fd: it.fd,
                events: ev,
                revents: 0,
            });
        } else {
            // As libzmq: a socket polled for nothing does not wake the poll (its mailbox fd
            // would otherwise stay readable until some call drained it, and poll would spin).
            let fd = with_socket!(it.socket).fd();
            fds.push(PollFd {
                fd,
                events: if it.events != 0 { libc::POLLIN } else { 0 },
                revents: 0,
            });
        }
    }
    let deadline = (timeout_ms > 0).then(|| now_ms() + timeout_ms as u64);
    let mut first = true;
    loop {
        let wait = if first {
            0
        } else {
            match deadline {
                None => -1,
                Some(d) => i32::try_from(d.saturating_sub(now_ms())).unwrap_or(i32::MAX),
            }
        };
        poll_fds(&mut fds, wait)?;
        let mut ready = 0;
        for (it, pfd) in items.iter_mut().zip(&fds) {
            it.revents = 0;
            if it.socket.is_null() {
                if pfd.revents & libc::POLLIN != 0 {
                    it.revents |= IN;
                }
                if pfd.revents & libc::POLLOUT != 0 {
                    it.revents |= OUT;
                }
                if pfd.revents & libc::POLLPRI != 0 {
                    it.revents |= PRI;
                }
                if pfd.revents & !(libc::POLLIN | libc::POLLOUT | libc::POLLPRI) != 0 {
                    it.revents |= ERR;
                }
            } else {
                // Every socket is asked, whatever it is polled for: this drains its mailbox and
                // reports ETERM, as libzmq's ZMQ_EVENTS query does.
                let ev = with_socket!(it.socket).events()?;
                it.revents = ev & it.events & (IN | OUT);
            }
            if it.revents != 0 {
                ready += 1;
            }
        }
        if ready > 0 || timeout_ms == 0 {
            return Ok(ready);
        }
        if let Some(d) = deadline
            && !first
            && now_ms() >= d
        {
            return Ok(0);
        }
        first = false;
    }
}

/// Waits for events on sockets and fds: returns the number of items whose `revents` is
/// non-zero, 0 on timeout. `timeout` in ms: -1 waits forever, 0 returns at once.
/// Errors: ETERM (a socket's context was terminated), EFAULT (NULL items with `nitems` > 0),
/// EINTR (a signal arrived), ENOTSOCK.
///
/// # Safety
/// `items` NULL or valid for `nitems` entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poll(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
) -> c_int {
    ffi!({
        if nitems < 0 {
            return Err(Error::Invalid);
        }
        if nitems == 0 {
            if timeout != 0 {
                poll_fds(&mut [], i32::try_from(timeout).unwrap_or(i32::MAX))?;
            }
            return Ok(0);
        }
        if items.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-null; the caller promises nitems entries.
        let user = unsafe { std::slice::from_raw_parts_mut(items, nitems as usize) };
        let mut set: Vec<Item> = user
            .iter()
            .map(|u| Item {
                socket: u.socket,
                fd: u.fd,
                events: u.events,
                revents: 0,
            })
            .collect();
        let n = poll_items(&mut set, timeout)?;
        for (u, it) in user.iter_mut().zip(&set) {
            u.revents = it.revents;
        }
        Ok(c_int::try_from(n).unwrap_or(c_int::MAX))
    })
}

#[derive(Default)]
struct Stats {
    msgs_in: u64,
    bytes_in: u64,
    msgs_out: u64,
    bytes_out: u64,
}

/// Moves one whole message from `from` to `to`, copying each frame to `capture` if given.
fn forward(
    from: *mut c_void,
    to: *mut c_void,
    capture: *mut c_void,
    rx: &mut Stats,
    tx: &mut Stats,
) -> Result<()> {
    loop {
        let mut msg = with_socket!(from).recv(true)?;
        let more = msg.more();
        let size = msg.len() as u64;
        if !capture.is_null() {
            let mut copy = msg.share();
            with_socket!(capture).send(&mut copy, more, false)?;
        }
        with_socket!(to).send(&mut msg, more, false)?;
        rx.msgs_in += 1;
        rx.bytes_in += size;
        tx.msgs_out += 1;
        tx.bytes_out += size;
        if !more {
            return Ok(());
        }
    }
}

/// Messages a proxy moves in one direction before it polls again (libzmq 4.3.5 moves up to
/// 1000 too): one poll per message would cost more than the message.
const PROXY_BURST: usize = 1000;

/// Moves whole messages from `from` to `to` until `from` has none ready (at most
/// [`PROXY_BURST`]).
fn forward_burst(
    from: *mut c_void,
    to: *mut c_void,
    capture: *mut c_void,
    rx: &mut Stats,
    tx: &mut Stats,
) -> Result<()> {
    for _ in 0..PROXY_BURST {
        match forward(from, to, capture, rx, tx) {
            Ok(()) => {}
            // Nothing more to take now (only ever at a message's first frame).
            Err(Error::Again) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn proxy(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> Result<c_int> {
    // Validate every handle up front (ENOTSOCK rather than a late surprise); a NULL frontend
    // or backend is EFAULT, as in libzmq.
    if frontend.is_null() || backend.is_null() {
        return Err(Error::Fault);
    }
    for s in [frontend, backend] {
        // SAFETY: the exported function's contract: each is NULL or a socket handle.
        unsafe { SocketHandle::from_raw(s) }?;
    }
    let mut front = Stats::default();
    let mut back = Stats::default();
    let mut paused = false;
    loop {
        let mut items = vec![
            Item {
                socket: frontend,
                fd: 0,
                events: IN,
                revents: 0,
            },
            Item {
                socket: backend,
                fd: 0,
                events: IN,
                revents: 0,
            },
        ];
        if !control.is_null() {
            items.push(Item {
                socket: control,
                fd: 0,
                events: IN,
                revents: 0,
            });
        }
        if paused {
            items[0].events = 0;
            items[1].events = 0;
        }
        poll_items(&mut items, -1)?;
        if !control.is_null() && items[2].revents & IN != 0 {
            let cmd = with_socket!(control).recv(true)?;
            let mut terminate = false;
            match cmd.data() {
                b"PAUSE" => paused = true,
                b"RESUME" => paused = false,
                b"TERMINATE" => terminate = true,
                b"STATISTICS" => {
                    let vals = [
                        front.msgs_in,
                        front.bytes_in,
                        front.msgs_out,
                        front.bytes_out,
                        back.msgs_in,
                        back.bytes_in,
                        back.msgs_out,
                        back.bytes_out,
                    ];
                    for (i, v) in vals.iter().enumerate() {
                        let mut m = Msg::copy_from(&v.to_ne_bytes());
                        with_socket!(control).send(&mut m, i + 1 < vals.len(), false)?;
                    }
                }
                _ => {}
            }
            // As libzmq 4.3.5: a REP control socket gets an empty reply to every other
            // command, so that it can take the next one.
            if cmd.data() != b"STATISTICS" {
                let mut s = with_socket!(control);
                if s.options.socket_type == ZMQ_REP {
                    s.send(&mut Msg::new(), false, false)?;
                }
            }
            if terminate {
                return Ok(0);
            }
        }
        if items[0].revents & IN != 0 {
            forward_burst(frontend, backend, capture, &mut front, &mut back)?;
        }
        if frontend != backend && items[1].revents & IN != 0 {
            forward_burst(backend, frontend, capture, &mut back, &mut front)?;
        }
    }
}

/// Relays messages between `frontend` and `backend` (copying each to `capture` if not NULL)
/// until the context is terminated; then returns -1 with ETERM, as libzmq does.
///
/// # Safety
/// Each argument NULL (capture only) or a socket handle used by no other thread meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_proxy(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
) -> c_int {
    ffi!({ proxy(frontend, backend, capture, std::ptr::null_mut()) })
}

/// A proxy controlled through `control`: "PAUSE", "RESUME", "TERMINATE" (returns 0) and
/// "STATISTICS" (replies with eight uint64 frames: frames and bytes in and out of the
/// frontend, then of the backend). A REP control socket gets an empty reply to the other
/// commands. Errors as `zmq_proxy`.
///
/// # Safety
/// As `zmq_proxy`; `control` NULL or a socket handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_proxy_steerable(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> c_int {
    ffi!({ proxy(frontend, backend, capture, control) })
}

/// Legacy device (`ZMQ_QUEUE`, `ZMQ_FORWARDER`, `ZMQ_STREAMER`): a proxy without capture.
/// Errors as `zmq_proxy`.
///
/// # Safety
/// As `zmq_proxy`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_device(
    type_: c_int,
    frontend: *mut c_void,
    backend: *mut c_void,
) -> c_int {
    let _ = type_;
    ffi!({
        proxy(
            frontend,
            backend,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::ctx::{zmq_ctx_new, zmq_ctx_shutdown, zmq_ctx_term};
    use crate::capi::socket::{zmq_bind, zmq_close, zmq_connect, zmq_socket};

    fn thread_cpu_ms() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: ts is a valid timespec to write.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
    }

    fn item(socket: *mut c_void, events: i16) -> Item {
        Item {
            socket,
            fd: 0,
            events,
            revents: 0,
        }
    }

    #[test]
    fn socket_polled_for_nothing_neither_wakes_nor_spins_but_reports_eterm() {
        let ctx = zmq_ctx_new();
        // The C API used with handles it returned and static C strings, in every block below.
        // SAFETY: as above.
        let pull = unsafe { zmq_socket(ctx, ZMQ_PULL) };
        // SAFETY: as above.
        let push = unsafe { zmq_socket(ctx, ZMQ_PUSH) };
        // SAFETY: as above.
        assert_eq!(unsafe { zmq_bind(pull, c"inproc://p".as_ptr()) }, 0);
        // Leaves an unprocessed Attach in pull's mailbox: its fd is readable.
        // SAFETY: as above.
        assert_eq!(unsafe { zmq_connect(push, c"inproc://p".as_ptr()) }, 0);
        let mut items = [item(pull, 0)];
        let (t0, cpu0) = (now_ms(), thread_cpu_ms());
        assert_eq!(poll_items(&mut items, 200).unwrap(), 0);
        assert!(now_ms() - t0 >= 190);
        assert!(thread_cpu_ms() - cpu0 < 100, "zmq_poll spun");
        assert_eq!(items[0].revents, 0);

        // SAFETY: as above.
        assert_eq!(unsafe { zmq_ctx_shutdown(ctx) }, 0);
        assert_eq!(poll_items(&mut items, 0).unwrap_err(), Error::Term);
        // SAFETY: as above.
        assert_eq!(unsafe { zmq_close(push) }, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { zmq_close(pull) }, 0);
        // SAFETY: as above.
        assert_eq!(unsafe { zmq_ctx_term(ctx) }, 0);
    }
}
