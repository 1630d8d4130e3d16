//! Caller-owned buffers inside `Bytes`: `zmq_msg_init_data` (freed through the caller's
//! function exactly once, when the last copy is dropped) and `zmq_send_const` (never freed).
//!
//! Layer L0. The only unsafe code of `msg/`: the buffer is a raw pointer from C whose validity
//! the caller promises for the buffer's lifetime, as libzmq's contract says.
#![allow(
    unsafe_code,
    reason = "wraps a C-owned buffer and calls the caller's free function"
)]

use std::ffi::c_void;

use bytes::Bytes;

/// The C free function type (`zmq_free_fn`).
pub(crate) type FreeFn = unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void);

struct Foreign {
    ptr: *mut u8,
    len: usize,
    free: Option<FreeFn>,
    hint: *mut c_void,
}

// SAFETY: the caller hands the buffer over to the library (zmq_msg_init_data's contract): it may
// be read from any thread and is freed once, from whichever thread drops the last reference.
unsafe impl Send for Foreign {}
// SAFETY: the content is only ever read through shared references.
unsafe impl Sync for Foreign {}

impl AsRef<[u8]> for Foreign {
    fn as_ref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: ptr is non-null when len > 0 (checked in the constructors) and the caller
        // guarantees `len` readable bytes until the free function runs.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        if let Some(free) = self.free {
            // SAFETY: called exactly once, with the pointer and hint the caller supplied.
            unsafe { free(self.ptr.cast(), self.hint) };
        }
    }
}

/// Wraps a caller-owned buffer; `free` (if any) runs once when the last reference drops.
///
/// # Safety
/// `ptr` must be valid for `len` bytes of reads until `free` is called (or forever when `free`
/// is `None`), and must not be written while the library holds it. `ptr` may be NULL only if
/// `len` is 0.
pub(crate) unsafe fn foreign_bytes(
    ptr: *mut u8,
    len: usize,
    free: Option<FreeFn>,
    hint: *mut c_void,
) -> Bytes {
    Bytes::from_owner(Foreign {
        ptr,
        len,
        free,
        hint,
    })
}

unsafe extern "C" fn free_malloced(data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: data came from libc::malloc in `malloced_bytes` and is freed exactly once.
    unsafe { libc::free(data) };
}

/// A `len`-byte buffer from the C allocator for `zmq_msg_init_size`, freed with `free` when the
/// last copy drops. Like libzmq's, its content is whatever the allocator gives until the caller
/// fills it through `zmq_msg_data`: the memory is foreign (C-owned) and is never cleared, since
/// clearing 1 MiB costs more than handing it to an inproc peer. `None` when allocation fails.
pub(crate) fn malloced_bytes(len: usize) -> Option<Bytes> {
    // SAFETY: malloc has no preconditions; a zero size is bumped to 1 for a unique pointer.
    let ptr = unsafe { libc::malloc(len.max(1)) };
    if ptr.is_null() {
        return None;
    }
    // SAFETY: ptr is a fresh malloc block of at least len bytes, owned by the Bytes from here
    // on and released once by free_malloced.
    Some(unsafe { foreign_bytes(ptr.cast(), len, Some(free_malloced), std::ptr::null_mut()) })
}

/// Wraps a constant caller buffer that is never freed (`zmq_send_const`).
///
/// # Safety
/// `ptr` must be valid for `len` bytes of reads for as long as any copy of the message lives.
pub(crate) unsafe fn const_bytes(ptr: *const u8, len: usize) -> Bytes {
    // SAFETY: forwarded contract; no free function is attached.
    unsafe { foreign_bytes(ptr.cast_mut(), len, None, std::ptr::null_mut()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static FREED: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn count_free(data: *mut c_void, _hint: *mut c_void) {
        // SAFETY: the test allocated `data` with Box<[u8; 4]>.
        drop(unsafe { Box::from_raw(data.cast::<[u8; 4]>()) });
        FREED.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn free_function_runs_once_after_last_copy() {
        let buf = Box::into_raw(Box::new([1u8, 2, 3, 4]));
        // SAFETY: buf is a live 4-byte allocation freed only by count_free.
        let b = unsafe { foreign_bytes(buf.cast(), 4, Some(count_free), std::ptr::null_mut()) };
        let c = b.clone();
        assert_eq!(&c[..], &[1, 2, 3, 4]);
        drop(b);
        assert_eq!(FREED.load(Ordering::SeqCst), 0);
        drop(c);
        assert_eq!(FREED.load(Ordering::SeqCst), 1);
    }
}
