//! The stopwatch and sleep: `zmq_stopwatch_start`, `zmq_stopwatch_intermediate`,
//! `zmq_stopwatch_stop` and `zmq_sleep`. A stopwatch is its start time (microseconds on the
//! monotonic clock, from `crate::sys::now_us`) in a [`Tagged`](super::Tagged) box under
//! `TAG_STOPWATCH`; `zmq_sleep` is the one call here that blocks.

use std::ffi::{c_int, c_ulong, c_void};

use super::{TAG_STOPWATCH, claim, free_handle, handle, into_handle};
use crate::capi::boundary::ffi;

/// Starts a stopwatch on the monotonic clock (microseconds). The caller owns it and frees it
/// with `zmq_stopwatch_stop`. Never blocks.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    into_handle(TAG_STOPWATCH, crate::sys::now_us())
}

/// Microseconds since `watch` started; the stopwatch keeps running. 0 with errno EFAULT for an
/// invalid stopwatch. Never blocks.
///
/// # Safety
/// `watch` must be NULL or a handle from `zmq_stopwatch_start`, not stopped concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong {
    ffi!({
        // SAFETY: forwarded contract.
        let w = unsafe { handle::<u64>(watch, TAG_STOPWATCH) }?;
        Ok(crate::sys::now_us().saturating_sub(w.value) as c_ulong)
    })
}

/// Microseconds since `watch` started, and frees the stopwatch. 0 with errno EFAULT for an
/// invalid stopwatch. Never blocks.
///
/// # Safety
/// `watch` must be NULL or a handle from `zmq_stopwatch_start` that no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong {
    ffi!({
        let end = crate::sys::now_us();
        // SAFETY: forwarded contract.
        let w = unsafe { claim::<u64>(watch, TAG_STOPWATCH) }?;
        // SAFETY: claimed just now; nothing else borrows it.
        let start = unsafe { free_handle(w) };
        Ok(end.saturating_sub(start) as c_ulong)
    })
}

/// Blocks the calling thread for `seconds` seconds; 0 or a negative value returns at once.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_sleep(seconds: c_int) {
    if let Ok(secs) = u64::try_from(seconds) {
        std::thread::sleep(std::time::Duration::from_secs(secs));
    }
}
