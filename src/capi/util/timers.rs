//! Timer sets: `zmq_timers_new`, `_destroy`, `_add`, `_cancel`, `_set_interval`, `_reset`,
//! `_timeout` and `_execute`. The timer logic is `crate::util::timers` (pure, time passed in);
//! a set wraps it with the C callbacks and the flags that let a handler destroy its own set
//! while `zmq_timers_execute` runs, in a [`Tagged`](super::Tagged) box under `TAG_TIMERS`.

use std::ffi::{c_int, c_long, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::{TAG_TIMERS, Tagged, claim, free_handle, handle, into_handle};
use crate::capi::boundary::ffi;
use crate::capi::types::zmq_timer_fn;
use crate::error::{Error, Result};
use crate::util::timers::Timers;

/// A handler registered with `zmq_timers_add`.
#[derive(Clone, Copy)]
struct Callback {
    func: unsafe extern "C" fn(c_int, *mut c_void),
    arg: *mut c_void,
}

/// A timer set: the timers, and what `zmq_timers_destroy` must know about a running execute.
struct TimerSet {
    timers: Mutex<Timers<Callback>>,
    /// True while `zmq_timers_execute` runs handlers.
    executing: AtomicBool,
    /// Set by a `zmq_timers_destroy` called from a handler: execute frees the set when done.
    destroy_pending: AtomicBool,
}

/// Borrows the timer set at `timers`.
///
/// # Safety
/// As [`handle`].
unsafe fn timer_set<'a>(timers: *mut c_void) -> Result<&'a Tagged<TimerSet>> {
    // SAFETY: forwarded contract.
    unsafe { handle::<TimerSet>(timers, TAG_TIMERS) }
}

/// Creates an empty timer set; the caller owns it and frees it with `zmq_timers_destroy`.
/// Like libzmq's, a set is not thread-safe: use it from one thread at a time. Never blocks.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    let set = TimerSet {
        timers: Mutex::new(Timers::new()),
        executing: AtomicBool::new(false),
        destroy_pending: AtomicBool::new(false),
    };
    into_handle(TAG_TIMERS, set)
}

/// Frees the timer set `*timers_p` and sets `*timers_p` to NULL; returns 0. -1 with errno
/// EFAULT when `timers_p` is NULL or `*timers_p` is not a live set. Called from one of the
/// set's own handlers, it takes effect when `zmq_timers_execute` returns and no further
/// handlers run. Never blocks.
///
/// # Safety
/// `timers_p` must be NULL or point to a `void *` holding NULL or a timer set handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    ffi!({
        if timers_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-null and readable per the contract.
        let ptr = unsafe { timers_p.read() };
        // SAFETY: forwarded contract.
        let set = unsafe { claim::<TimerSet>(ptr, TAG_TIMERS) }?;
        if set.value.executing.load(Ordering::Acquire) {
            set.value.destroy_pending.store(true, Ordering::Release);
        } else {
            // SAFETY: claimed just now and no execute borrows it.
            drop(unsafe { free_handle(set) });
        }
        // SAFETY: non-null and writable per the contract.
        unsafe { timers_p.write(std::ptr::null_mut()) };
        Ok(0)
    })
}

/// Adds a timer that calls `handler(id, arg)` every `interval` ms, from `zmq_timers_execute`,
/// until cancelled; returns its id (ids start at 1). -1 with errno EFAULT when `timers` is not
/// a live set or `handler` is NULL. `arg` is passed through, never dereferenced. Never blocks.
///
/// # Safety
/// `timers` must be NULL or a timer set handle; `handler` must be safe to call with `arg` from
/// the thread that calls `zmq_timers_execute`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_add(
    timers: *mut c_void,
    interval: usize,
    handler: zmq_timer_fn,
    arg: *mut c_void,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let set = unsafe { timer_set(timers) }?;
        let func = handler.ok_or(Error::Fault)?;
        let now = crate::sys::now_ms();
        let id = set
            .value
            .timers
            .lock()
            .add(now, interval as u64, Callback { func, arg });
        Ok(id)
    })
}

/// Cancels timer `timer_id`; returns 0. -1 with errno EFAULT when `timers` is not a live set,
/// EINVAL when no such timer exists or it is already cancelled. Never blocks.
///
/// # Safety
/// `timers` must be NULL or a timer set handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let set = unsafe { timer_set(timers) }?;
        set.value.timers.lock().cancel(timer_id)?;
        Ok(0)
    })
}

/// Sets timer `timer_id`'s interval to `interval` ms and restarts it from now; returns 0.
/// -1 with errno EFAULT when `timers` is not a live set, EINVAL for an unknown timer. Never
/// blocks.
///
/// # Safety
/// `timers` must be NULL or a timer set handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_set_interval(
    timers: *mut c_void,
    timer_id: c_int,
    interval: usize,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let set = unsafe { timer_set(timers) }?;
        let now = crate::sys::now_ms();
        let mut guard = set.value.timers.lock();
        guard.set_interval(now, timer_id, interval as u64)?;
        Ok(0)
    })
}

/// Restarts timer `timer_id`'s interval from now; returns 0. -1 with errno EFAULT when `timers`
/// is not a live set, EINVAL for an unknown timer. Never blocks.
///
/// # Safety
/// `timers` must be NULL or a timer set handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let set = unsafe { timer_set(timers) }?;
        let now = crate::sys::now_ms();
        set.value.timers.lock().reset(now, timer_id)?;
        Ok(0)
    })
}

/// Milliseconds until the next timer is due (0 if one is overdue), or -1 when the set has no
/// active timer (errno untouched). -1 with errno EFAULT when `timers` is not a live set.
/// Never blocks.
///
/// # Safety
/// `timers` must be NULL or a timer set handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_timeout(timers: *mut c_void) -> c_long {
    ffi!({
        // SAFETY: forwarded contract.
        let set = unsafe { timer_set(timers) }?;
        let now = crate::sys::now_ms();
        Ok(match set.value.timers.lock().timeout(now) {
            Some(ms) => c_long::try_from(ms).unwrap_or(c_long::MAX),
            None => -1,
        })
    })
}

/// Calls, on this thread, the handler of every timer that is due, each at most once, in
/// deadline order, and re-arms them; returns 0. Handlers may add, cancel, reset or destroy
/// timers of the same set; a nested `zmq_timers_execute` from a handler returns 0 at once.
/// -1 with errno EFAULT when `timers` is not a live set. Blocks only as long as the handlers do.
///
/// # Safety
/// `timers` must be NULL or a timer set handle; the registered handlers must be safe to call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_timers_execute(timers: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract; a destroy from a handler is deferred while `executing`
        // is set, so the borrow stays valid across the handlers.
        let set = unsafe { timer_set(timers) }?;
        let state = &set.value;
        if state.executing.swap(true, Ordering::AcqRel) {
            // Called from one of this set's own handlers: the outer pass carries on.
            return Ok(0);
        }
        let now = crate::sys::now_ms();
        state.timers.lock().begin_pass();
        while !state.destroy_pending.load(Ordering::Acquire) {
            // The lock is released before the handler runs, so the handler may use the set.
            let due = state.timers.lock().next_due(now);
            let Some((id, cb)) = due else { break };
            // SAFETY: zmq_timers_add's contract: the handler is safe to call with its arg here.
            unsafe { (cb.func)(id, cb.arg) };
        }
        state.executing.store(false, Ordering::Release);
        if state.destroy_pending.load(Ordering::Acquire) {
            // SAFETY: zmq_timers_destroy claimed the set (tag dead) and deferred the free to us;
            // `state` is not used after this.
            drop(unsafe { free_handle(set) });
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Destroys the set whose address `arg` holds, from inside its own handler.
    unsafe extern "C" fn destroy_own_set(_id: c_int, arg: *mut c_void) {
        let slot = arg.cast::<*mut c_void>();
        // SAFETY: arg points to the test's `timers` variable, a live set handle.
        assert_eq!(unsafe { zmq_timers_destroy(slot) }, 0);
    }

    /// Counts its calls in the `c_int` at `arg`.
    unsafe extern "C" fn count(_id: c_int, arg: *mut c_void) {
        // SAFETY: arg points to the test's counter.
        unsafe { *arg.cast::<c_int>() += 1 };
    }

    #[test]
    fn destroy_from_a_handler_is_deferred_and_stops_the_pass() {
        let mut timers = zmq_timers_new();
        let handle = timers;
        let mut fired: c_int = 0;
        let slot = (&raw mut timers).cast::<c_void>();
        // SAFETY: a live set; both handlers' args outlive the execute call.
        unsafe {
            assert!(zmq_timers_add(timers, 0, Some(destroy_own_set), slot) > 0);
            assert!(zmq_timers_add(timers, 0, Some(count), (&raw mut fired).cast()) > 0);
            assert_eq!(zmq_timers_execute(handle), 0);
        }
        assert!(timers.is_null());
        assert_eq!(fired, 0);
    }

    /// Runs `zmq_timers_execute` on the set `arg` from inside one of its handlers.
    unsafe extern "C" fn execute_nested(_id: c_int, arg: *mut c_void) {
        // SAFETY: arg is the live set that is executing.
        assert_eq!(unsafe { zmq_timers_execute(arg) }, 0);
    }

    #[test]
    fn nested_execute_returns_at_once() {
        let mut timers = zmq_timers_new();
        let mut fired: c_int = 0;
        // SAFETY: a live set; the counter outlives the execute calls.
        unsafe {
            assert!(zmq_timers_add(timers, 0, Some(execute_nested), timers) > 0);
            assert!(zmq_timers_add(timers, 0, Some(count), (&raw mut fired).cast()) > 0);
            assert_eq!(zmq_timers_execute(timers), 0);
            assert_eq!(fired, 1);
            assert_eq!(zmq_timers_destroy(&mut timers), 0);
        }
    }
}
