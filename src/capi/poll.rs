//! Polling and devices: `zmq_poll`, `zmq_proxy`, `zmq_proxy_steerable`, `zmq_device`.
//!
//! Placeholder exports: each fails with ENOTSUP until its feature lands (see README).

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};

use super::boundary::ffi;
use super::types::*;
use crate::error::Error;

/// Waits for events on sockets and fds; returns how many items have events.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_poll(
    items: *mut zmq_pollitem_t,
    nitems: c_int,
    timeout: c_long,
) -> c_int {
    ffi!({
        let _ = (items, nitems, timeout);
        Err(Error::NotSupported)
    })
}

/// Relays messages between two sockets until the context ends.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_proxy(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
) -> c_int {
    ffi!({
        let _ = (frontend, backend, capture);
        Err(Error::NotSupported)
    })
}

/// A proxy controlled by PAUSE/RESUME/TERMINATE/STATISTICS messages on `control`.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_proxy_steerable(
    frontend: *mut c_void,
    backend: *mut c_void,
    capture: *mut c_void,
    control: *mut c_void,
) -> c_int {
    ffi!({
        let _ = (frontend, backend, capture, control);
        Err(Error::NotSupported)
    })
}

/// Legacy device (QUEUE, FORWARDER, STREAMER): a proxy without capture.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_device(
    type_: c_int,
    frontend: *mut c_void,
    backend: *mut c_void,
) -> c_int {
    ffi!({
        let _ = (type_, frontend, backend);
        Err(Error::NotSupported)
    })
}
