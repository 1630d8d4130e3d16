//! Atomic counters: `zmq_atomic_counter_new`, `_set`, `_inc`, `_dec`, `_value` and `_destroy`.
//! A counter is a 32-bit atomic in a [`Tagged`](super::Tagged) box under `TAG_COUNTER`, so
//! every call checks the handle first and an invalid one gives `EFAULT`. Thread-safe, never
//! blocks.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU32, Ordering};

use super::{TAG_COUNTER, destroy_through, handle, into_handle};
use crate::capi::boundary::ffi;

/// Creates an atomic counter (32 bits) set to 0. The caller owns it and frees it with
/// `zmq_atomic_counter_destroy`. Never blocks.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    into_handle(TAG_COUNTER, AtomicU32::new(0))
}

/// Sets the counter to `value` atomically. An invalid counter (NULL, destroyed, or another kind
/// of handle) sets errno to EFAULT and changes nothing. Never blocks.
///
/// # Safety
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new`, not destroyed concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_set(counter: *mut c_void, value: c_int) {
    ffi!({
        // SAFETY: forwarded contract.
        let c = unsafe { handle::<AtomicU32>(counter, TAG_COUNTER) }?;
        c.value.store(value as u32, Ordering::SeqCst);
        Ok(())
    })
}

/// Increments the counter atomically (wrapping) and returns its value before the increment;
/// -1 with errno EFAULT for an invalid counter. Thread-safe, never blocks.
///
/// # Safety
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new`, not destroyed concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_inc(counter: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let c = unsafe { handle::<AtomicU32>(counter, TAG_COUNTER) }?;
        Ok(c.value.fetch_add(1, Ordering::AcqRel) as c_int)
    })
}

/// Decrements the counter atomically (wrapping); returns 0 if it is now zero, else 1; -1 with
/// errno EFAULT for an invalid counter. Thread-safe, never blocks.
///
/// # Safety
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new`, not destroyed concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_dec(counter: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let c = unsafe { handle::<AtomicU32>(counter, TAG_COUNTER) }?;
        let before = c.value.fetch_sub(1, Ordering::AcqRel);
        Ok(c_int::from(before.wrapping_sub(1) != 0))
    })
}

/// Returns the counter's current value; -1 with errno EFAULT for an invalid counter.
/// Thread-safe, never blocks.
///
/// # Safety
/// `counter` must be NULL or a handle from `zmq_atomic_counter_new`, not destroyed concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_value(counter: *mut c_void) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let c = unsafe { handle::<AtomicU32>(counter, TAG_COUNTER) }?;
        Ok(c.value.load(Ordering::SeqCst) as c_int)
    })
}

/// Frees the counter `*counter_p` and sets `*counter_p` to NULL; a NULL `*counter_p` is a no-op.
/// A NULL `counter_p` or an invalid counter sets errno to EFAULT and frees nothing. Never blocks.
///
/// # Safety
/// `counter_p` must be NULL or point to a `void *` holding NULL or a counter handle that no
/// other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_atomic_counter_destroy(counter_p: *mut *mut c_void) {
    ffi!({
        // SAFETY: checked non-null just below before the read.
        if !counter_p.is_null() && unsafe { counter_p.read() }.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { destroy_through::<AtomicU32>(counter_p, TAG_COUNTER) }?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::util::errno_after;
    use std::ptr::null_mut;

    #[test]
    fn counter_functions_reject_null_with_efault() {
        // SAFETY: NULL is an accepted argument of every counter function.
        unsafe {
            assert_eq!(
                errno_after(|| zmq_atomic_counter_inc(null_mut())),
                (-1, libc::EFAULT)
            );
            assert_eq!(
                errno_after(|| zmq_atomic_counter_dec(null_mut())),
                (-1, libc::EFAULT)
            );
            assert_eq!(
                errno_after(|| zmq_atomic_counter_value(null_mut())),
                (-1, libc::EFAULT)
            );
            assert_eq!(
                errno_after(|| zmq_atomic_counter_set(null_mut(), 1)).1,
                libc::EFAULT
            );
            assert_eq!(
                errno_after(|| zmq_atomic_counter_destroy(null_mut())).1,
                libc::EFAULT
            );
            let mut none: *mut c_void = null_mut();
            assert_eq!(errno_after(|| zmq_atomic_counter_destroy(&mut none)).1, 0);
        }
    }

    #[test]
    fn destroyed_counter_pointer_is_cleared() {
        let mut counter = zmq_atomic_counter_new();
        // SAFETY: a live counter, then the cleared pointer.
        unsafe {
            assert_eq!(zmq_atomic_counter_inc(counter), 0);
            zmq_atomic_counter_destroy(&mut counter);
            assert!(counter.is_null());
            assert_eq!(
                errno_after(|| zmq_atomic_counter_value(counter)),
                (-1, libc::EFAULT)
            );
        }
    }
}
