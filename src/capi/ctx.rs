//! Contexts: `zmq_ctx_*`, and the legacy `zmq_init`/`zmq_term`/`zmq_ctx_destroy`.

use std::ffi::{c_int, c_void};

use super::boundary::ffi;
use super::handle::CtxHandle;
use crate::consts::ZMQ_IO_THREADS;
use crate::ctx::Context;
use crate::error::Error;

/// Creates a context. Never fails (NULL with ENOMEM only if allocation fails).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    ffi!({ Ok(CtxHandle::into_raw(Context::new())) })
}

/// Terminates a context: blocking calls on its sockets return ETERM, later calls other than
/// `zmq_close` fail with ETERM, and this call blocks until every socket is closed; then the
/// context is freed. Errors: EFAULT (not a context).
///
/// # Safety
/// `context` must be NULL or a handle from `zmq_ctx_new`/`zmq_init`, not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_term(context: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let h = unsafe { CtxHandle::from_raw(context) }?;
        h.ctx.terminate();
        // SAFETY: terminated above; the caller gives up the handle.
        unsafe { CtxHandle::destroy(context) };
        Ok(0)
    })
}

/// Starts terminating a context without waiting: blocking calls return ETERM. The context must
/// still be released with `zmq_ctx_term`. Errors: EFAULT.
///
/// # Safety
/// `context` must be NULL or a live context handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_shutdown(context: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        unsafe { CtxHandle::from_raw(context) }?.ctx.shutdown();
        Ok(0)
    })
}

/// Sets a context option (`ZMQ_IO_THREADS`, `ZMQ_MAX_SOCKETS`, `ZMQ_IPV6`, `ZMQ_BLOCKY`,
/// `ZMQ_MAX_MSGSZ`, `ZMQ_THREAD_*`). Errors: EINVAL, EFAULT.
///
/// # Safety
/// `context` must be NULL or a live context handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        unsafe { CtxHandle::from_raw(context) }?
            .ctx
            .set(option, optval)?;
        Ok(0)
    })
}

/// Reads a context option (also `ZMQ_SOCKET_LIMIT`, `ZMQ_MSG_T_SIZE`). Errors: EINVAL, EFAULT.
///
/// # Safety
/// `context` must be NULL or a live context handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        unsafe { CtxHandle::from_raw(context) }?.ctx.get(option)
    })
}

/// Legacy: creates a context with `io_threads` I/O threads. Errors: EINVAL (negative).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_init(io_threads: c_int) -> *mut c_void {
    ffi!({
        if io_threads < 0 {
            return Err(Error::Invalid);
        }
        let ctx = Context::new();
        ctx.set(ZMQ_IO_THREADS, io_threads)?;
        Ok(CtxHandle::into_raw(ctx))
    })
}

/// Legacy name of `zmq_ctx_term`.
///
/// # Safety
/// As `zmq_ctx_term`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_term(context: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_ctx_term(context) }
}

/// Legacy name of `zmq_ctx_term`.
///
/// # Safety
/// As `zmq_ctx_term`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_destroy(context: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_ctx_term(context) }
}

/// Sets a context option of any type (draft API); only int-sized options are known.
/// Errors: EINVAL, EFAULT.
///
/// # Safety
/// `context` a live handle or NULL; `optval` valid for `optvallen` bytes or NULL.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_set_ext(
    context: *mut c_void,
    option: c_int,
    optval: *const c_void,
    optvallen: usize,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let h = unsafe { CtxHandle::from_raw(context) }?;
        // SAFETY: forwarded contract.
        let v = unsafe { super::slice::bytes(optval, optvallen) }?;
        h.ctx.set(option, crate::options::int_value(v)?)?;
        Ok(0)
    })
}

/// Reads a context option of any type (draft API). Errors: EINVAL, EFAULT.
///
/// # Safety
/// `context` a live handle or NULL; `optval` writable for `*optvallen` bytes.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_ctx_get_ext(
    context: *mut c_void,
    option: c_int,
    optval: *mut c_void,
    optvallen: *mut usize,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let h = unsafe { CtxHandle::from_raw(context) }?;
        if optvallen.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: checked non-null; the caller promises a valid size_t.
        let len = unsafe { &mut *optvallen };
        // SAFETY: forwarded contract.
        let out = unsafe { super::slice::bytes_mut(optval, *len) }?;
        let v = h.ctx.get(option)?;
        *len = crate::options::put_at_least(out, &v.to_ne_bytes())?;
        Ok(0)
    })
}
