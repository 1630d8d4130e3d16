//! Utilities: Z85, CURVE keys, atomic counters, stopwatch, sleep, threads, timers.
//!
//! The logic lives in `crate::util` (Z85 and the timer set, both pure); this module checks the
//! caller's pointers and handles. Counters, stopwatches, timer sets and threads are handed out
//! as [`Tagged`] boxes: a type tag sits at offset 0 and is checked (and its type matched)
//! before every use, so NULL, a handle of another kind or an already destroyed handle gives
//! `EFAULT` (barring freed memory that was reused) instead of undefined behaviour.
//!
//! This file holds the [`Tagged`] handle machinery (the tags, boxing, the checked borrow, claim
//! and free) that the submodules share, and the tests that cross handle kinds; the exports live
//! in `z85` (Z85 and CURVE keys), `counter`, `stopwatch` (with `zmq_sleep`), `thread` and
//! `timers`.
// Every submodule's tests drive the C API in sequences of unsafe calls.
#![cfg_attr(
    test,
    allow(
        clippy::multiple_unsafe_ops_per_block,
        reason = "tests drive the C API in sequences"
    )
)]

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};

// cbindgen writes the exports to zmq.h in source order, module by module, so these stay in the
// header's order; the blank lines keep rustfmt from sorting them.
mod z85;

mod counter;

mod stopwatch;

mod thread;

mod timers;

// ---------------------------------------------------------------------------------------------
// Tagged handles

/// A heap object handed to C as `void *`, with its kind's tag first.
#[repr(C)]
struct Tagged<T> {
    /// One of the `TAG_*` values while live, [`TAG_DEAD`] once released.
    tag: AtomicU32,
    value: T,
}

const TAG_DEAD: u32 = 0xDEAD_BEEF;
const TAG_COUNTER: u32 = 0x5A43_4E54;
const TAG_STOPWATCH: u32 = 0x5A53_5457;
const TAG_TIMERS: u32 = 0x5A54_4D52;
const TAG_THREAD: u32 = 0x5A54_4852;

/// Boxes `value` under `tag` and returns the pointer C gets.
fn into_handle<T>(tag: u32, value: T) -> *mut c_void {
    let boxed = Box::new(Tagged {
        tag: AtomicU32::new(tag),
        value,
    });
    Box::into_raw(boxed).cast()
}

/// Borrows the live handle of kind `tag` at `ptr`; `EFAULT` if it is NULL, misaligned or not
/// a live handle of that kind.
///
/// # Safety
/// `ptr` must be NULL or point to at least 4 readable bytes, and a handle that passes the check
/// must not be released while the borrow lives. Every handle from [`into_handle`] qualifies
/// until it is released.
unsafe fn handle<'a, T>(ptr: *mut c_void, tag: u32) -> Result<&'a Tagged<T>> {
    if ptr.is_null() || !(ptr as usize).is_multiple_of(align_of::<Tagged<T>>()) {
        return Err(Error::Fault);
    }
    // SAFETY: ptr is non-null, aligned and readable for 4 bytes per the contract; every handle
    // starts with an AtomicU32 tag (repr(C)), and any bit pattern is a valid u32.
    let current = unsafe { &*ptr.cast::<AtomicU32>() }.load(Ordering::Acquire);
    if current != tag {
        return Err(Error::Fault);
    }
    // SAFETY: the tag proves into_handle::<T> made this box under `tag` and it is not released
    // yet; tags are unique per type, so T matches.
    Ok(unsafe { &*ptr.cast::<Tagged<T>>() })
}

/// Marks the handle of kind `tag` at `ptr` dead, so later calls on it fail with `EFAULT`, and
/// returns it for the caller to free with [`free_handle`]. Of two racing releases only one wins.
///
/// # Safety
/// As [`handle`].
unsafe fn claim<'a, T>(ptr: *mut c_void, tag: u32) -> Result<&'a Tagged<T>> {
    // SAFETY: forwarded contract.
    let h = unsafe { handle::<T>(ptr, tag) }?;
    h.tag
        .compare_exchange(tag, TAG_DEAD, Ordering::AcqRel, Ordering::Acquire)
        .map_err(|_| Error::Fault)?;
    Ok(h)
}

/// Frees a handle that [`claim`] marked dead and returns its value.
///
/// # Safety
/// `h` must come from a successful [`claim`], be freed once, and not be borrowed elsewhere.
unsafe fn free_handle<T>(h: &Tagged<T>) -> T {
    let ptr = std::ptr::from_ref(h).cast_mut();
    // SAFETY: the box came from Box::into_raw in into_handle and the claim made us its only
    // owner.
    unsafe { Box::from_raw(ptr) }.value
}

/// Claims and frees the handle `*handle_p` of kind `tag`, then sets `*handle_p` to NULL.
///
/// # Safety
/// `handle_p` must be NULL or point to a readable and writable `void *` that is NULL or
/// satisfies [`handle`]'s contract.
unsafe fn destroy_through<T>(handle_p: *mut *mut c_void, tag: u32) -> Result<T> {
    if handle_p.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: non-null and readable per the contract.
    let ptr = unsafe { handle_p.read() };
    // SAFETY: forwarded contract.
    let h = unsafe { claim::<T>(ptr, tag) }?;
    // SAFETY: claimed just now; nothing else borrows it.
    let value = unsafe { free_handle(h) };
    // SAFETY: non-null and writable per the contract.
    unsafe { handle_p.write(std::ptr::null_mut()) };
    Ok(value)
}

/// Runs `f` with errno cleared and returns its result with the errno it left.
#[cfg(test)]
fn errno_after<T>(f: impl FnOnce() -> T) -> (T, i32) {
    crate::sys::set_errno(0);
    let r = f();
    (r, crate::sys::errno())
}

#[cfg(test)]
mod tests {
    use super::counter::zmq_atomic_counter_inc;
    use super::errno_after;
    use super::stopwatch::{zmq_stopwatch_intermediate, zmq_stopwatch_start, zmq_stopwatch_stop};
    use super::thread::{zmq_threadclose, zmq_threadstart};
    use super::timers::{zmq_timers_destroy, zmq_timers_new, zmq_timers_timeout};
    use std::ptr::null_mut;

    #[test]
    fn handles_of_another_kind_are_efault() {
        let watch = zmq_stopwatch_start();
        let mut timers = zmq_timers_new();
        // SAFETY: both are live handles of this library, passed where another kind is expected.
        unsafe {
            assert_eq!(
                errno_after(|| zmq_atomic_counter_inc(watch)),
                (-1, libc::EFAULT)
            );
            assert_eq!(
                errno_after(|| zmq_stopwatch_intermediate(timers)),
                (0, libc::EFAULT)
            );
            assert_eq!(
                errno_after(|| zmq_timers_timeout(watch)),
                (-1, libc::EFAULT)
            );
            zmq_threadclose(timers);
            assert_eq!(zmq_timers_timeout(timers), -1);
            zmq_stopwatch_stop(watch);
            assert_eq!(zmq_timers_destroy(&mut timers), 0);
        }
    }

    #[test]
    fn stopwatch_and_thread_reject_null() {
        // SAFETY: NULL is accepted by all three.
        unsafe {
            assert_eq!(
                errno_after(|| zmq_stopwatch_stop(null_mut())),
                (0, libc::EFAULT)
            );
            assert_eq!(
                errno_after(|| zmq_threadstart(None, null_mut())).1,
                libc::EFAULT
            );
            assert_eq!(errno_after(|| zmq_threadclose(null_mut())).1, libc::EFAULT);
        }
    }
}
