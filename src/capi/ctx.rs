//! Contexts: `zmq_ctx_*`, and the legacy `zmq_init`/`zmq_term`.
//!
//! Placeholder exports: each fails with ENOTSUP until its feature lands (see README).

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};

use super::boundary::ffi;
use super::types::*;
use crate::error::Error;

/// Creates a context.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    ffi!({ Err(Error::NotSupported) })
}

/// Terminates a context: blocks until every socket is closed and lingered.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_term(context: *mut c_void) -> c_int {
    ffi!({
        let _ = (context,);
        Err(Error::NotSupported)
    })
}

/// Starts terminating a context: blocking calls return ETERM.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_shutdown(context: *mut c_void) -> c_int {
    ffi!({
        let _ = (context,);
        Err(Error::NotSupported)
    })
}

/// Sets a context option.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int {
    ffi!({
        let _ = (context, option, optval);
        Err(Error::NotSupported)
    })
}

/// Reads a context option.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int {
    ffi!({
        let _ = (context, option);
        Err(Error::NotSupported)
    })
}

/// Legacy: creates a context with `io_threads` I/O threads.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_init(io_threads: c_int) -> *mut c_void {
    ffi!({
        let _ = (io_threads,);
        Err(Error::NotSupported)
    })
}

/// Legacy name of `zmq_ctx_term`.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_term(context: *mut c_void) -> c_int {
    ffi!({
        let _ = (context,);
        Err(Error::NotSupported)
    })
}

/// Legacy name of `zmq_ctx_term`.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_destroy(context: *mut c_void) -> c_int {
    ffi!({
        let _ = (context,);
        Err(Error::NotSupported)
    })
}

/// Sets a context option of any type (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_set_ext(
    context: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    ffi!({
        let _ = (context, option, optval, optvallen);
        Err(Error::NotSupported)
    })
}

/// Reads a context option of any type (draft API).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_get_ext(
    context: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    ffi!({
        let _ = (context, option, optval, optvallen);
        Err(Error::NotSupported)
    })
}
