//! Sockets: create, close, options, bind/connect, monitor.
//!
//! Placeholder exports: each fails with ENOTSUP until its feature lands (see README).

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};

use super::boundary::ffi;
use super::types::*;
use crate::error::Error;

/// Creates a socket of `type_` in `context`.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void {
    ffi!({
        let _ = (context, type_);
        Err(Error::NotSupported)
    })
}

/// Closes a socket; returns at once, pending messages linger in the background.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_close(socket: *mut c_void) -> c_int {
    ffi!({
        let _ = (socket,);
        Err(Error::NotSupported)
    })
}

/// Sets a socket option.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_setsockopt(
    socket: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    ffi!({
        let _ = (socket, option, optval, optvallen);
        Err(Error::NotSupported)
    })
}

/// Reads a socket option.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_getsockopt(
    socket: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    ffi!({
        let _ = (socket, option, optval, optvallen);
        Err(Error::NotSupported)
    })
}

/// Accepts connections on an endpoint.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_bind(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    ffi!({
        let _ = (socket, endpoint);
        Err(Error::NotSupported)
    })
}

/// Connects to an endpoint.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_connect(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    ffi!({
        let _ = (socket, endpoint);
        Err(Error::NotSupported)
    })
}

/// Stops accepting connections on an endpoint.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_unbind(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    ffi!({
        let _ = (socket, endpoint);
        Err(Error::NotSupported)
    })
}

/// Disconnects from an endpoint.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_disconnect(socket: *mut c_void, endpoint: *const c_char) -> c_int {
    ffi!({
        let _ = (socket, endpoint);
        Err(Error::NotSupported)
    })
}

/// Publishes socket events on an inproc PAIR endpoint.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket_monitor(
    socket: *mut c_void,
    endpoint: *const c_char,
    events: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, endpoint, events);
        Err(Error::NotSupported)
    })
}

/// Joins a DISH group (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_join(socket: *mut c_void, group: *const c_char) -> c_int {
    ffi!({
        let _ = (socket, group);
        Err(Error::NotSupported)
    })
}

/// Leaves a DISH group (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_leave(socket: *mut c_void, group: *const c_char) -> c_int {
    ffi!({
        let _ = (socket, group);
        Err(Error::NotSupported)
    })
}

/// Connects a PEER socket and returns the peer's routing id (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_connect_peer(socket: *mut c_void, endpoint: *const c_char) -> u32 {
    ffi!({
        let _ = (socket, endpoint);
        Err(Error::NotSupported)
    })
}

/// ROUTER peer state flags (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket_get_peer_state(
    socket: *mut c_void,
    routing_id: *const c_void,
    routing_id_size: usize,
) -> c_int {
    ffi!({
        let _ = (socket, routing_id, routing_id_size);
        Err(Error::NotSupported)
    })
}

/// Versioned socket monitor (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
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
        let _ = (socket, endpoint, events, event_version, type_);
        Err(Error::NotSupported)
    })
}

/// Requests pipe statistics events (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_socket_monitor_pipes_stats(socket: *mut c_void) -> c_int {
    ffi!({
        let _ = (socket,);
        Err(Error::NotSupported)
    })
}
