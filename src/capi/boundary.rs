//! The one panic/errno boundary every exported function's body goes through.
//!
//! `ffi!(body)` runs `body` (a block returning `Result<T>`) under `catch_unwind`. `Ok(v)` is
//! returned untouched and errno is left alone; `Err(e)` sets errno to `e.errno()` and returns
//! `T::FAILURE` (-1, NULL, 0); a panic sets errno to `EFAULT` and returns `T::FAILURE` too.
//! Objects whose state a panic may have half-updated are poisoned by their own guards
//! (see `handle.rs`), so later calls on them fail with EFAULT instead of misbehaving.
//!
//! Threads the library starts (reaper, I/O threads) have their own policy: a panic there is a
//! bug, is reported on stderr with the thread's name, and aborts the process, as a failed
//! `zmq_assert` does in libzmq; it is never swallowed silently.

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};

/// The value an exported function returns when it fails.
pub(crate) trait Failure {
    /// -1 for integers, NULL for pointers, 0 for sizes and ids.
    const FAILURE: Self;
}

impl Failure for c_int {
    const FAILURE: Self = -1;
}
impl Failure for c_long {
    const FAILURE: Self = -1;
}
impl Failure for c_ulong {
    const FAILURE: Self = 0;
}
impl Failure for usize {
    const FAILURE: Self = 0;
}
impl Failure for u32 {
    const FAILURE: Self = 0;
}
impl Failure for () {
    const FAILURE: Self = ();
}
impl Failure for *mut c_void {
    const FAILURE: Self = std::ptr::null_mut();
}
impl Failure for *const c_char {
    const FAILURE: Self = std::ptr::null();
}
impl Failure for *mut c_char {
    const FAILURE: Self = std::ptr::null_mut();
}
impl Failure for *mut u8 {
    const FAILURE: Self = std::ptr::null_mut();
}

/// Runs an export's body, converting errors and panics into `FAILURE` plus errno.
pub(crate) fn run<T: Failure>(body: impl FnOnce() -> crate::error::Result<T>) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            crate::sys::set_errno(e.errno());
            T::FAILURE
        }
        Err(_) => {
            crate::sys::set_errno(libc::EFAULT);
            T::FAILURE
        }
    }
}

/// Wraps the body of an exported function: `ffi!({ ...; Ok(value) })`.
macro_rules! ffi {
    ($body:block) => {
        $crate::capi::boundary::run(move || $body)
    };
}
pub(crate) use ffi;

/// Test-only export: panics inside the boundary, so C tests can check that a panic comes back
/// as -1/EFAULT instead of an abort. Not declared in zmq.h.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_rs_selftest_panic() -> c_int {
    ffi!({
        if std::hint::black_box(true) {
            panic!("zmq_rs_selftest_panic: deliberate panic to test the C boundary");
        }
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn errors_set_errno_and_return_failure() {
        crate::sys::set_errno(0);
        let r: c_int = run(|| Err(Error::State));
        assert_eq!(r, -1);
        assert_eq!(crate::sys::errno(), crate::error::EFSM);
    }

    #[test]
    fn success_leaves_errno_alone() {
        crate::sys::set_errno(1234);
        let r: c_int = run(|| Ok(7));
        assert_eq!(r, 7);
        assert_eq!(crate::sys::errno(), 1234);
    }

    #[test]
    fn panics_become_efault() {
        let r: *mut c_void = run(|| panic!("boom"));
        assert!(r.is_null());
        assert_eq!(crate::sys::errno(), libc::EFAULT);
    }
}
