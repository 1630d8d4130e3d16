//! Utilities: Z85, CURVE keys, atomic counters, stopwatch, sleep, threads, timers.
//!
//! Placeholder exports: each fails with ENOTSUP until its feature lands (see README).

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};

use super::boundary::ffi;
use super::types::*;
use crate::error::Error;

/// Encodes `size` bytes (a multiple of 4) as Z85 into `dest` (size*5/4+1 bytes); NULL + EINVAL on bad size.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_z85_encode(
    dest: *mut c_char,
    data: *const u8,
    size: usize,
) -> *mut c_char {
    ffi!({
        let _ = (dest, data, size);
        Err(Error::NotSupported)
    })
}

/// Decodes a Z85 string (length a multiple of 5) into `dest`; NULL + EINVAL on bad input.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8 {
    ffi!({
        let _ = (dest, string);
        Err(Error::NotSupported)
    })
}

/// Generates a CURVE key pair as two 41-byte Z85 strings; ENOTSUP without CURVE support.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key: *mut c_char,
    z85_secret_key: *mut c_char,
) -> c_int {
    ffi!({
        let _ = (z85_public_key, z85_secret_key);
        Err(Error::NotSupported)
    })
}

/// Derives the Z85 public key from a Z85 secret key; ENOTSUP without CURVE support.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key: *mut c_char,
    z85_secret_key: *const c_char,
) -> c_int {
    ffi!({
        let _ = (z85_public_key, z85_secret_key);
        Err(Error::NotSupported)
    })
}

/// Creates an atomic counter initialised to 0; NULL + ENOMEM on failure.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    ffi!({ Err(Error::NotSupported) })
}

/// Sets the counter's value (not thread-safe with respect to other operations, as libzmq).
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_set(counter: *mut c_void, value: c_int) {
    ffi!({
        let _ = (counter, value);
        Err(Error::NotSupported)
    })
}

/// Increments the counter; returns the value before the increment.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_inc(counter: *mut c_void) -> c_int {
    ffi!({
        let _ = (counter,);
        Err(Error::NotSupported)
    })
}

/// Decrements the counter; returns 0 once it reaches zero, else 1.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_dec(counter: *mut c_void) -> c_int {
    ffi!({
        let _ = (counter,);
        Err(Error::NotSupported)
    })
}

/// The counter's current value.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_value(counter: *mut c_void) -> c_int {
    ffi!({
        let _ = (counter,);
        Err(Error::NotSupported)
    })
}

/// Destroys the counter and sets `*counter_p` to NULL.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_destroy(counter_p: *mut *mut c_void) {
    ffi!({
        let _ = (counter_p,);
        Err(Error::NotSupported)
    })
}

/// Starts a stopwatch (microsecond resolution).
#[unsafe(no_mangle)]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    ffi!({ Err(Error::NotSupported) })
}

/// Microseconds since the stopwatch started; it keeps running.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong {
    ffi!({
        let _ = (watch,);
        Err(Error::NotSupported)
    })
}

/// Microseconds since the stopwatch started; frees the stopwatch.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong {
    ffi!({
        let _ = (watch,);
        Err(Error::NotSupported)
    })
}

/// Sleeps for `seconds` seconds.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_sleep(seconds: c_int) {
    ffi!({
        let _ = (seconds,);
        Err(Error::NotSupported)
    })
}

/// Starts a thread running `func(arg)`; returns a handle for `zmq_threadclose`.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_threadstart(func: zmq_thread_fn, arg: *mut c_void) -> *mut c_void {
    ffi!({
        let _ = (func, arg);
        Err(Error::NotSupported)
    })
}

/// Joins a thread started by `zmq_threadstart` and frees its handle.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_threadclose(thread: *mut c_void) {
    ffi!({
        let _ = (thread,);
        Err(Error::NotSupported)
    })
}

/// Creates a timer set.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    ffi!({ Err(Error::NotSupported) })
}

/// Destroys a timer set and sets `*timers_p` to NULL; EFAULT for an invalid set.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    ffi!({
        let _ = (timers_p,);
        Err(Error::NotSupported)
    })
}

/// Adds a timer firing every `interval` ms; returns its id. EFAULT / EINVAL on bad arguments.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_add(
    timers: *mut c_void,
    interval: usize,
    handler: zmq_timer_fn,
    arg: *mut c_void,
) -> c_int {
    ffi!({
        let _ = (timers, interval, handler, arg);
        Err(Error::NotSupported)
    })
}

/// Cancels a timer; EINVAL for an unknown id.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int {
    ffi!({
        let _ = (timers, timer_id);
        Err(Error::NotSupported)
    })
}

/// Changes a timer's interval and restarts it; EINVAL for an unknown id.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_set_interval(
    timers: *mut c_void,
    timer_id: c_int,
    interval: usize,
) -> c_int {
    ffi!({
        let _ = (timers, timer_id, interval);
        Err(Error::NotSupported)
    })
}

/// Restarts a timer's interval from now; EINVAL for an unknown id.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int {
    ffi!({
        let _ = (timers, timer_id);
        Err(Error::NotSupported)
    })
}

/// Milliseconds until the next timer fires, 0 if one is due, -1 if none is active.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_timeout(timers: *mut c_void) -> c_long {
    ffi!({
        let _ = (timers,);
        Err(Error::NotSupported)
    })
}

/// Runs the handlers of every due timer.
///
/// # Safety
/// Pointer arguments must be NULL or valid as `zmq.h` documents for this function.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_execute(timers: *mut c_void) -> c_int {
    ffi!({
        let _ = (timers,);
        Err(Error::NotSupported)
    })
}
