//! NULL-tolerant conversions of C (pointer, length) pairs and C strings into Rust borrows.
//!
//! Every place that turns a caller's pointer into a slice or string goes through here:
//! (NULL, 0) is an empty slice, (NULL, n > 0) is `EFAULT`, a NULL string is `EINVAL`.

use std::ffi::{CStr, c_char, c_void};

use crate::error::{Error, Result};

/// Borrows `len` bytes at `ptr`.
///
/// # Safety
/// When `ptr` is non-null it must be valid for `len` bytes of reads for the borrow's lifetime.
pub(crate) unsafe fn bytes<'a>(ptr: *const c_void, len: usize) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: ptr is non-null and the caller guarantees len readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// Mutably borrows `len` bytes at `ptr`.
///
/// # Safety
/// When `ptr` is non-null it must be valid for `len` bytes of writes, unaliased, for the
/// borrow's lifetime.
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut c_void, len: usize) -> Result<&'a mut [u8]> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: ptr is non-null and the caller guarantees len writable, unaliased bytes.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) })
}

/// Borrows a NUL-terminated C string; NULL gives `EINVAL`.
///
/// # Safety
/// When non-null, `ptr` must point to a NUL-terminated string valid for the borrow's lifetime.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char) -> Result<&'a CStr> {
    if ptr.is_null() {
        return Err(Error::Invalid);
    }
    // SAFETY: non-null and NUL-terminated per the caller's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// Borrows a C string as UTF-8 text; invalid UTF-8 gives `EINVAL`.
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn utf8<'a>(ptr: *const c_char) -> Result<&'a str> {
    // SAFETY: forwarded contract.
    unsafe { c_str(ptr) }?.to_str().map_err(|_| Error::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_with_zero_length_is_empty() {
        // SAFETY: NULL with length 0 is the documented empty case.
        assert_eq!(unsafe { bytes(std::ptr::null(), 0) }.unwrap(), b"");
    }

    #[test]
    fn null_with_length_is_efault() {
        // SAFETY: NULL is checked before any read.
        assert_eq!(unsafe { bytes(std::ptr::null(), 3) }, Err(Error::Fault));
    }

    #[test]
    fn null_string_is_einval() {
        // SAFETY: NULL is checked before any read.
        assert_eq!(unsafe { c_str(std::ptr::null()) }, Err(Error::Invalid));
    }
}
