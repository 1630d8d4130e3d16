//! Sending and receiving: `zmq_send*`, `zmq_recv*`, `zmq_msg_send`/`zmq_msg_recv`.
//!
//! Placeholder exports: each fails with ENOTSUP until its feature lands (see README).

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};

use super::boundary::ffi;
use super::types::*;
use crate::error::Error;

/// Sends `len` bytes as one frame; returns the byte count.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_send(
    socket: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, buf, len, flags);
        Err(Error::NotSupported)
    })
}

/// Sends a constant buffer without copying; returns the byte count.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_send_const(
    socket: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, buf, len, flags);
        Err(Error::NotSupported)
    })
}

/// Receives a frame into `buf`, truncating to `len`; returns the full frame size.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_recv(
    socket: *mut c_void,
    buf: *mut c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, buf, len, flags);
        Err(Error::NotSupported)
    })
}

/// Sends a message frame; on success the message is emptied.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_send(
    msg: *mut zmq_msg_t,
    socket: *mut c_void,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (msg, socket, flags);
        Err(Error::NotSupported)
    })
}

/// Receives a frame into `msg`; returns its size.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_recv(
    msg: *mut zmq_msg_t,
    socket: *mut c_void,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (msg, socket, flags);
        Err(Error::NotSupported)
    })
}

/// Legacy form of `zmq_msg_send` with the arguments swapped.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_sendmsg(
    socket: *mut c_void,
    msg: *mut zmq_msg_t,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, msg, flags);
        Err(Error::NotSupported)
    })
}

/// Legacy form of `zmq_msg_recv` with the arguments swapped.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_recvmsg(
    socket: *mut c_void,
    msg: *mut zmq_msg_t,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, msg, flags);
        Err(Error::NotSupported)
    })
}

/// Sends `count` buffers as one multipart message.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_sendiov(
    socket: *mut c_void,
    iov: *mut libc::iovec,
    count: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, iov, count, flags);
        Err(Error::NotSupported)
    })
}

/// Receives a multipart message into freshly allocated buffers.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_recviov(
    socket: *mut c_void,
    iov: *mut libc::iovec,
    count: *mut usize,
    flags: c_int,
) -> c_int {
    ffi!({
        let _ = (socket, iov, count, flags);
        Err(Error::NotSupported)
    })
}
