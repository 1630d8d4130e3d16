//! Sockets: create, close, options, bind/connect/unbind/disconnect, monitor.

use std::ffi::{c_char, c_int, c_void};

use super::boundary::ffi;
use super::handle::{CtxHandle, SocketHandle};
use super::slice;
use crate::error::Error;
use crate::socket::Socket;

/// Borrows and locks the socket behind a handle for one call.
macro_rules! with_socket {
    ($p:expr) => {{
        // SAFETY: the exported function's contract: NULL or a socket handle.
        unsafe { SocketHandle::from_raw($p) }?.lock()?
    }};
}
pub(crate) use with_socket;

/// Creates a socket of type `type_` in `context`. Errors: EFAULT (bad context), EINVAL
/// (unknown type), ETERM (context terminating), EMFILE (`ZMQ_MAX_SOCKETS` reached).
///
/// # Safety
/// `context` must be NULL or a live context handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void {
    ffi!({
        // SAFETY: forwarded contract.
        let h = unsafe { CtxHandle::from_raw(context) }?;
        let socket = Socket::new(h.ctx.shared().clone(), type_)?;
        Ok(SocketHandle::into_raw(socket))
    })
}

/// Closes a socket and frees its handle. Returns at once; messages already sent stay
/// deliverable to inproc peers. Errors: ENOTSOCK.
///
/// # Safety
/// `socket` must be NULL or a socket handle, not used again afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_close(socket: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let h = unsafe { SocketHandle::from_raw(socket) }?;
        // SAFETY: h was borrowed from socket; the caller gives the handle up.
        unsafe { h.close(socket) }?;
        Ok(0)
    })
}

/// Sets a socket option; the value's size must match the option's type exactly.
/// Errors: EINVAL (unknown option, wrong size or value), ETERM, ENOTSOCK, EFAULT.
///
/// # Safety
/// `socket` NULL or a socket handle; `optval` NULL or valid for `optvallen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_setsockopt(
    socket: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    ffi!({
        let mut s = with_socket!(socket);
        if optval.is_null() && optvallen == 0 {
            s.set_option_null(option)?;
            return Ok(0);
        }
        // SAFETY: forwarded contract.
        let value = unsafe { slice::bytes(optval, optvallen) }?;
        s.set_option(option, value)?;
        Ok(0)
    })
}

/// Reads a socket option into `optval`, updating `*optvallen` to the size written.
/// Errors: EINVAL (unknown option or buffer of the wrong size), ETERM, ENOTSOCK, EFAULT.
///
/// # Safety
/// `socket` NULL or a socket handle; `optvallen` NULL or a valid size_t; `optval` NULL or
/// writable for `*optvallen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_getsockopt(
    socket: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    ffi!({
        let mut s = with_socket!(socket);
        if optvallen.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-null; the caller promises a valid size_t.
        let len = unsafe { &mut *optvallen };
        // SAFETY: forwarded contract.
        let out = unsafe { slice::bytes_mut(optval, *len) }?;
        *len = s.get_option(option, out)?;
        Ok(0)
    })
}

/// Runs one endpoint operation on a socket.
///
/// # Safety
/// As the exported endpoint functions.
unsafe fn endpoint_op(
    socket: *mut c_void,
    endpoint: *const c_char,
    op: fn(&mut Socket, &str) -> crate::error::Result<()>,
) -> c_int {
    ffi!({
        let mut s = with_socket!(socket);
        // SAFETY: forwarded contract.
        let ep = unsafe { slice::utf8(endpoint) }?;
        op(&mut s, ep)?;
        Ok(0)
    })
}

/// Accepts connections on `endpoint` (`inproc://name` today). Errors: EINVAL (malformed),
/// EPROTONOSUPPORT (transport not available), EADDRINUSE, ETERM, ENOTSOCK.
///
/// # Safety
/// `socket` NULL or a socket handle; `endpoint` NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_bind(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { endpoint_op(socket, endpoint, Socket::bind) }
}

/// Connects to `endpoint`; inproc connections may precede the bind. Errors: EINVAL,
/// EPROTONOSUPPORT, ETERM, ENOTSOCK.
///
/// # Safety
/// `socket` NULL or a socket handle; `endpoint` NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_connect(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { endpoint_op(socket, endpoint, Socket::connect) }
}

/// Stops accepting on an endpoint this socket bound. Errors: ENOENT, EINVAL, ETERM, ENOTSOCK.
///
/// # Safety
/// `socket` NULL or a socket handle; `endpoint` NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_unbind(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { endpoint_op(socket, endpoint, Socket::unbind) }
}

/// Drops the connections this socket made to `endpoint`. Errors: ENOENT, EINVAL, ETERM,
/// ENOTSOCK.
///
/// # Safety
/// `socket` NULL or a socket handle; `endpoint` NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_disconnect(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { endpoint_op(socket, endpoint, Socket::disconnect) }
}

/// Publishes the socket's `events` (a `ZMQ_EVENT_*` mask) as two-frame messages on the inproc
/// endpoint `endpoint`, for a PAIR socket to read; NULL stops monitoring (MONITOR_STOPPED).
/// Errors: EPROTONOSUPPORT (not inproc), EADDRINUSE, EINVAL, ETERM, ENOTSOCK.
///
/// # Safety
/// `socket` NULL or a socket handle; `endpoint` NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket_monitor(
    socket: *mut c_void,
    endpoint: *const c_char,
    events: c_int,
) -> c_int {
    ffi!({
        let mut s = with_socket!(socket);
        let ep = if endpoint.is_null() {
            None
        } else {
            // SAFETY: forwarded contract.
            Some(unsafe { slice::utf8(endpoint) }?)
        };
        s.monitor(ep, events)?;
        Ok(0)
    })
}

/// Joins a DISH group (draft API). Not available: ENOTSUP.
///
/// # Safety
/// `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_join(socket: *mut c_void, group: *const c_char) -> c_int {
    ffi!({
        let _s = with_socket!(socket);
        let _ = group;
        Err(Error::NotSupported)
    })
}

/// Leaves a DISH group (draft API). Not available: ENOTSUP.
///
/// # Safety
/// `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_leave(socket: *mut c_void, group: *const c_char) -> c_int {
    ffi!({
        let _s = with_socket!(socket);
        let _ = group;
        Err(Error::NotSupported)
    })
}

/// Connects a PEER socket (draft API). Not available: returns 0 with ENOTSUP.
///
/// # Safety
/// `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_connect_peer(socket: *mut c_void, endpoint: *const c_char) -> u32 {
    ffi!({
        let _s = with_socket!(socket);
        let _ = endpoint;
        Err(Error::NotSupported)
    })
}

/// ROUTER peer state (draft API). Not available: ENOTSUP.
///
/// # Safety
/// `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket_get_peer_state(
    socket: *mut c_void,
    routing_id: *const c_void,
    routing_id_size: usize,
) -> c_int {
    ffi!({
        let _s = with_socket!(socket);
        let _ = (routing_id, routing_id_size);
        Err(Error::NotSupported)
    })
}

/// Versioned socket monitor (draft API). Not available: ENOTSUP.
///
/// # Safety
/// `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket_monitor_versioned(
    socket: *mut c_void,
    endpoint: *const c_char,
    events: u64,
    event_version: c_int,
    type_: c_int,
) -> c_int {
    ffi!({
        let _s = with_socket!(socket);
        let _ = (endpoint, events, event_version, type_);
        Err(Error::NotSupported)
    })
}

/// Requests pipe statistics events (draft API). Not available: ENOTSUP.
///
/// # Safety
/// `socket` NULL or a socket handle.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket_monitor_pipes_stats(socket: *mut c_void) -> c_int {
    ffi!({
        let _s = with_socket!(socket);
        Err(Error::NotSupported)
    })
}
