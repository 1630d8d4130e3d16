//! The C types of `zmq.h`: `zmq_msg_t`, `zmq_pollitem_t`, `zmq_fd_t` and the callback types.
#![allow(non_camel_case_types, reason = "C names of the public ABI")]

use std::ffi::{c_int, c_short, c_void};

/// A message: 64 opaque bytes, pointer-aligned. Initialise it with one of the
/// `zmq_msg_init*` functions and release it with `zmq_msg_close`.
///
/// cbindgen:field-names=[_]
#[repr(C, align(8))]
pub struct zmq_msg_t {
    /// Opaque storage.
    pub storage: [u8; 64],
}

/// A socket file descriptor as `zmq_pollitem_t` and `ZMQ_FD` carry it.
pub type zmq_fd_t = c_int;

/// One entry of a `zmq_poll` set: a ZeroMQ socket, or (when `socket` is NULL) a plain fd.
#[repr(C)]
pub struct zmq_pollitem_t {
    /// The ZeroMQ socket to poll, or NULL to poll `fd`.
    pub socket: *mut c_void,
    /// The file descriptor polled when `socket` is NULL.
    pub fd: zmq_fd_t,
    /// Events wanted: `ZMQ_POLLIN`, `ZMQ_POLLOUT`, `ZMQ_POLLERR`, `ZMQ_POLLPRI`.
    pub events: c_short,
    /// Events that happened, filled in by `zmq_poll`.
    pub revents: c_short,
}

/// Frees a buffer handed over with `zmq_msg_init_data` (declared by hand in zmq.h as libzmq's
/// function type `zmq_free_fn`, so parameters read `zmq_free_fn *`); NULL is allowed.
pub type zmq_free_fn = Option<unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void)>;

/// A thread body for `zmq_threadstart` (declared by hand as libzmq's `zmq_thread_fn`).
pub type zmq_thread_fn = Option<unsafe extern "C" fn(arg: *mut c_void)>;

/// A timer callback for `zmq_timers_add` (declared by hand as libzmq's `zmq_timer_fn`).
pub type zmq_timer_fn = Option<unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void)>;

const _: () = assert!(std::mem::size_of::<zmq_msg_t>() == 64);
const _: () = assert!(std::mem::align_of::<zmq_msg_t>() == 8);
