//! Application threads: `zmq_threadstart` and `zmq_threadclose`. A started thread's
//! `JoinHandle` sits in a [`Tagged`](super::Tagged) box under `TAG_THREAD`; the caller's `arg`
//! crosses to the new thread in a `Send` wrapper and is never dereferenced here.

use std::ffi::c_void;
use std::thread::JoinHandle;

use super::{TAG_THREAD, claim, free_handle, into_handle};
use crate::capi::boundary::ffi;
use crate::capi::types::zmq_thread_fn;
use crate::error::Error;

/// The caller's `arg`, moved into the new thread.
struct ThreadArg(*mut c_void);

// SAFETY: zmq_threadstart's contract makes the caller responsible for `arg` being usable from
// the new thread; the library itself never dereferences it.
unsafe impl Send for ThreadArg {}

impl ThreadArg {
    /// Takes the pointer out (a method, so the closure captures the whole `Send` wrapper).
    fn into_inner(self) -> *mut c_void {
        self.0
    }
}

/// Starts a thread (named "ZMQapp", all signals blocked, as in libzmq) that runs `func(arg)`.
/// Returns a handle the caller must pass to `zmq_threadclose`; NULL with errno EFAULT when
/// `func` is NULL, or with the OS's errno when no thread can be started. Never blocks.
///
/// # Safety
/// `func` must be NULL or safe to call with `arg` on another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_threadstart(func: zmq_thread_fn, arg: *mut c_void) -> *mut c_void {
    ffi!({
        let func = func.ok_or(Error::Fault)?;
        let arg = ThreadArg(arg);
        let thread = std::thread::Builder::new()
            .name("ZMQapp".into())
            .spawn(move || {
                crate::sys::block_all_signals();
                // SAFETY: the caller promised func may be called with arg on this thread.
                unsafe { func(arg.into_inner()) };
            })?;
        Ok(into_handle::<JoinHandle<()>>(TAG_THREAD, thread))
    })
}

/// Blocks until the thread started by `zmq_threadstart` returns, then frees its handle. An
/// invalid handle (NULL, already closed) sets errno to EFAULT and does nothing else.
///
/// # Safety
/// `thread` must be NULL or a handle from `zmq_threadstart` that no other thread is closing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_threadclose(thread: *mut c_void) {
    ffi!({
        // SAFETY: forwarded contract.
        let h = unsafe { claim::<JoinHandle<()>>(thread, TAG_THREAD) }?;
        // SAFETY: claimed just now; nothing else borrows it.
        let join = unsafe { free_handle(h) };
        // The body is a C function, which cannot unwind into Rust, so join cannot report a panic.
        let _ = join.join();
        Ok(())
    })
}
