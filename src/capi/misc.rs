//! Version, errno, error strings and capabilities: `zmq_version`, `zmq_errno`,
//! `zmq_strerror`, `zmq_has`.

use std::ffi::{c_char, c_int};

use super::boundary::ffi;
use super::slice;
use crate::consts::{ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH};
use crate::error::native_message;

/// Writes the library version (4.3.5) through the three pointers; NULL pointers are skipped.
///
/// # Safety
/// Each pointer must be NULL or point to a writable int.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int) {
    for (p, v) in [
        (major, ZMQ_VERSION_MAJOR),
        (minor, ZMQ_VERSION_MINOR),
        (patch, ZMQ_VERSION_PATCH),
    ] {
        if !p.is_null() {
            // SAFETY: non-null and writable per the caller's contract.
            unsafe { p.write(v) };
        }
    }
}

/// The calling thread's errno, as the library last set it.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_errno() -> c_int {
    crate::sys::errno()
}

/// The message for an errno value: libzmq's text for the ZeroMQ-specific codes (ETERM, EFSM,
/// ENOCOMPATPROTO, EMTHREAD), the system's for the rest. The string is static; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_strerror(errnum: c_int) -> *const c_char {
    match native_message(errnum) {
        Some(_) => native_c_message(errnum),
        // SAFETY: strerror takes an int and returns a pointer to a static or thread-local
        // buffer that stays valid until the next strerror call on this thread, as libzmq's does.
        None => unsafe { libc::strerror(errnum) },
    }
}

fn native_c_message(errnum: c_int) -> *const c_char {
    let s: &'static std::ffi::CStr = match errnum {
        crate::error::EFSM => c"Operation cannot be accomplished in current state",
        crate::error::ENOCOMPATPROTO => c"The protocol is not compatible with the socket type",
        crate::error::ETERM => c"Context was terminated",
        libc::EHOSTUNREACH => c"Host unreachable",
        _ => c"No thread available",
    };
    debug_assert_eq!(s.to_str().ok(), native_message(errnum));
    s.as_ptr()
}

/// What this build supports, answered truthfully; grows as features land.
///
/// "draft" stays 0 although the draft functions are exported: a draft-enabled libzmq also has
/// the draft socket types (SERVER, CLIENT, RADIO, DISH, ...), which this build lacks, and
/// bindings such as pyzmq 24 switch those on when `zmq_has("draft")` says 1.
pub(crate) fn has(capability: &str) -> bool {
    matches!(capability, "ipc" | "curve" | "swap" | "durable")
}

/// 1 if the library supports `capability` ("ipc", "pgm", "tipc", "norm", "curve", "gssapi",
/// "draft", and the libzmq-rs extensions "swap", "durable"), else 0. NULL gives 0.
///
/// # Safety
/// `capability` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_has(capability: *const c_char) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let name = unsafe { slice::c_str(capability) }.ok();
        Ok(c_int::from(
            name.and_then(|n| n.to_str().ok()).is_some_and(has),
        ))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_answers_what_this_build_has() {
        for yes in ["ipc", "curve", "swap", "durable"] {
            assert!(super::has(yes), "{yes}");
        }
        for no in ["draft", "pgm", "tipc", "norm", "gssapi", "IPC", ""] {
            assert!(!super::has(no), "{no}");
        }
    }
}
