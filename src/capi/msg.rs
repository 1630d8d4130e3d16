//! `zmq_msg_*`: the message API over the 64-byte `zmq_msg_t`.
//!
//! A `zmq_msg_t` holds a [`Msg`] in its first 56 bytes and a validity marker in its last 8.
//! Every call checks the pointer (non-NULL, 8-aligned) and the marker before touching the
//! message, so a message used after `zmq_msg_close`, closed twice or never initialised gives
//! `EFAULT` instead of undefined behaviour (barring garbage that happens to equal the marker).

use std::ffi::{c_char, c_int, c_void};

use super::boundary::ffi;
use super::slice;
use super::types::{zmq_free_fn, zmq_msg_t};
use crate::consts::{ZMQ_MORE, ZMQ_SHARED, ZMQ_SRCFD};
use crate::error::{Error, Result};
use crate::msg::{Msg, foreign_bytes};

const LIVE: u64 = 0x4c49_5645_5a4d_5347;
const CLOSED: u64 = 0x4445_4144_5a4d_5347;
const MARKER_OFFSET: usize = 56;

const _: () = assert!(std::mem::size_of::<Msg>() <= MARKER_OFFSET);

fn check_ptr(p: *const zmq_msg_t) -> Result<()> {
    if p.is_null() || !(p as usize).is_multiple_of(std::mem::align_of::<zmq_msg_t>()) {
        return Err(Error::Fault);
    }
    Ok(())
}

/// # Safety
/// `p` must point to 64 writable bytes (checked non-null and aligned first).
unsafe fn marker(p: *const zmq_msg_t) -> *mut u64 {
    // SAFETY: MARKER_OFFSET + 8 == 64 stays inside the zmq_msg_t; the offset is 8-aligned.
    unsafe { p.cast::<u8>().add(MARKER_OFFSET).cast::<u64>().cast_mut() }
}

/// Stores `msg` in the caller's `zmq_msg_t` and marks it live.
///
/// # Safety
/// `p` must be NULL or point to a writable `zmq_msg_t`.
pub(crate) unsafe fn put(p: *mut zmq_msg_t, msg: Msg) -> Result<()> {
    check_ptr(p)?;
    // SAFETY: p is non-null, aligned and points to 64 writable bytes; Msg fits in the first 56.
    unsafe {
        p.cast::<Msg>().write(msg);
    }
    // SAFETY: the marker slot lies inside the same zmq_msg_t.
    let slot = unsafe { marker(p) };
    // SAFETY: slot is an aligned u64 inside the caller's writable zmq_msg_t.
    unsafe { slot.write(LIVE) };
    Ok(())
}

/// Borrows the live message in the caller's `zmq_msg_t`.
///
/// # Safety
/// `p` must be NULL or point to a `zmq_msg_t` not otherwise borrowed for the result's lifetime.
pub(crate) unsafe fn get<'a>(p: *const zmq_msg_t) -> Result<&'a mut Msg> {
    check_ptr(p)?;
    // SAFETY: p is non-null and aligned; reading the marker reads initialised-or-garbage bytes
    // of the caller's struct, which any u64 value is valid for.
    let slot = unsafe { marker(p) };
    // SAFETY: slot is an aligned u64 inside the caller's zmq_msg_t.
    if unsafe { slot.read() } != LIVE {
        return Err(Error::Fault);
    }
    // SAFETY: the marker says a Msg was written here by `put` and not taken since.
    Ok(unsafe { &mut *p.cast::<Msg>().cast_mut() })
}

/// Takes the live message out of the caller's `zmq_msg_t`, leaving it closed.
///
/// # Safety
/// As [`get`].
pub(crate) unsafe fn take(p: *mut zmq_msg_t) -> Result<Msg> {
    // SAFETY: forwarded contract; validates pointer and marker.
    unsafe { get(p) }?;
    // SAFETY: validated live above; the marker is flipped so nobody reads the moved-out value.
    let msg = unsafe { p.cast::<Msg>().read() };
    // SAFETY: marker slot inside the validated struct.
    let slot = unsafe { marker(p) };
    // SAFETY: slot is an aligned u64 inside the caller's writable zmq_msg_t.
    unsafe { slot.write(CLOSED) };
    Ok(msg)
}

/// Initialises an empty message. Never fails for a valid pointer; NULL gives EFAULT.
///
/// # Safety
/// `msg` must be NULL or point to a writable `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        unsafe { put(msg, Msg::new()) }?;
        Ok(0)
    })
}

/// Initialises a message of `size` bytes for the caller to fill in (contents zeroed).
/// Errors: ENOMEM, EFAULT.
///
/// # Safety
/// `msg` must be NULL or point to a writable `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: usize) -> c_int {
    ffi!({
        check_ptr(msg)?;
        // SAFETY: msg is non-null, aligned and points to 64 writable bytes (the contract);
        // a MaybeUninit<Msg> fits in the first 56 and any bytes are valid for it.
        let slot = unsafe { &mut *msg.cast::<std::mem::MaybeUninit<Msg>>() };
        // Built in place (see `Msg::make_size`); on error the slot holds an empty frame that
        // owns nothing and stays unmarked.
        slot.write(Msg::new()).make_size(size)?;
        // SAFETY: the marker slot lies inside the same writable zmq_msg_t.
        let slot = unsafe { marker(msg) };
        // SAFETY: slot is an aligned u64 inside the caller's writable zmq_msg_t.
        unsafe { slot.write(LIVE) };
        Ok(0)
    })
}

/// Initialises a message over the caller's buffer without copying. The library owns the buffer
/// from then on and calls `ffn(data, hint)` exactly once when the last copy is closed (never
/// when `ffn` is NULL). Errors: EINVAL (NULL data with non-zero size), EFAULT.
///
/// # Safety
/// `data` must stay valid for `size` bytes until `ffn` runs; `msg` as for `zmq_msg_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_init_data(
    msg: *mut zmq_msg_t,
    data: *mut c_void,
    size: usize,
    ffn: zmq_free_fn,
    hint: *mut c_void,
) -> c_int {
    ffi!({
        check_ptr(msg)?;
        if data.is_null() && size > 0 {
            return Err(Error::Invalid);
        }
        // SAFETY: the caller hands the buffer over under zmq_msg_init_data's contract.
        let bytes = unsafe { foreign_bytes(data.cast(), size, ffn, hint) };
        // SAFETY: msg validated above.
        unsafe { put(msg, Msg::from_bytes(bytes)) }?;
        Ok(0)
    })
}

/// Releases a message; its content is freed when no copy remains. Errors: EFAULT (not an
/// initialised message, or already closed).
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        drop(unsafe { take(msg) }?);
        Ok(0)
    })
}

/// Moves `src` into `dest` (releasing what `dest` held); `src` becomes an empty message.
/// Errors: EFAULT.
///
/// # Safety
/// Both must be NULL or point to distinct `zmq_msg_t`s (the same pointer twice is a no-op).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    ffi!({
        check_ptr(dest)?;
        // SAFETY: forwarded contract; validated before use.
        let moved = std::mem::take(unsafe { get(src) }?);
        if dest != src {
            // SAFETY: dest validated; a live dest is released first, as libzmq closes it.
            if let Ok(old) = unsafe { take(dest) } {
                drop(old);
            }
        }
        // SAFETY: dest validated above.
        unsafe { put(dest, moved) }?;
        Ok(0)
    })
}

/// Makes `dest` a copy of `src` sharing its content (reference-counted, no byte copy for large
/// messages). Errors: EFAULT.
///
/// # Safety
/// Both must be NULL or point to `zmq_msg_t`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int {
    ffi!({
        check_ptr(dest)?;
        if dest == src {
            // SAFETY: validates src.
            unsafe { get(src) }?;
            return Ok(0);
        }
        // SAFETY: forwarded contract; validated before use.
        let copy = unsafe { get(src) }?.share();
        // SAFETY: dest validated; a live dest is released first.
        if let Ok(old) = unsafe { take(dest) } {
            drop(old);
        }
        // SAFETY: dest validated above.
        unsafe { put(dest, copy) }?;
        Ok(0)
    })
}

/// A pointer to the message content (valid until the message is closed or changed).
/// Errors: EFAULT (returns NULL).
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void {
    ffi!({
        // SAFETY: forwarded contract.
        Ok(unsafe { get(msg) }?.data_ptr().cast())
    })
}

/// The content size in bytes; 0 with errno EFAULT for an invalid message.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_size(msg: *const zmq_msg_t) -> usize {
    ffi!({
        // SAFETY: forwarded contract.
        Ok(unsafe { get(msg) }?.len())
    })
}

/// 1 if more frames of the same message follow this one, else 0.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        Ok(c_int::from(unsafe { get(msg) }?.more()))
    })
}

/// Reads an integer property: `ZMQ_MORE`, `ZMQ_SRCFD` (the tcp/ipc connection the frame came
/// from; EINVAL for others), `ZMQ_SHARED`.
/// Errors: EINVAL (unknown property), EFAULT.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let m = unsafe { get(msg) }?;
        match property {
            ZMQ_MORE => Ok(c_int::from(m.more())),
            // The connection's fd for frames read from tcp/ipc (as libzmq, which may have
            // closed or reused it since); -1 with EINVAL for others.
            ZMQ_SRCFD => m
                .metadata()
                .and_then(|md| md.source_fd())
                .ok_or(Error::Invalid),
            ZMQ_SHARED => Ok(c_int::from(m.is_shared())),
            _ => Err(Error::Invalid),
        }
    })
}

/// Sets an integer property; libzmq 4.3 defines none that may be set, so this always fails
/// with EINVAL (EFAULT for an invalid message).
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_set(msg: *mut zmq_msg_t, property: c_int, optval: c_int) -> c_int {
    ffi!({
        let _ = (property, optval);
        // SAFETY: forwarded contract.
        unsafe { get(msg) }?;
        Err(Error::Invalid)
    })
}

/// Reads a metadata property of a received message ("Socket-Type", "Routing-Id"/"Identity",
/// "Peer-Address", "User-Id", or application metadata). The string lives as long as the
/// message. Errors: EINVAL (no such property), EFAULT.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`; `property` NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_gets(
    msg: *const zmq_msg_t,
    property: *const c_char,
) -> *const c_char {
    ffi!({
        // SAFETY: forwarded contract.
        let m = unsafe { get(msg) }?;
        // SAFETY: forwarded contract.
        let name = unsafe { slice::c_str(property) }?
            .to_str()
            .map_err(|_| Error::Invalid)?;
        m.metadata()
            .and_then(|md| md.get(name))
            .map(|v| v.as_ptr())
            .ok_or(Error::Invalid)
    })
}

/// Initialises a message holding a copy of `size` bytes at `buf` (draft API).
/// Errors: EFAULT (NULL buffer with non-zero size, or bad message pointer).
///
/// # Safety
/// `buf` must be NULL or valid for `size` bytes; `msg` as for `zmq_msg_init`.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_init_buffer(
    msg: *mut zmq_msg_t,
    buf: *const c_void,
    size: usize,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let data = unsafe { slice::bytes(buf, size) }?;
        // SAFETY: forwarded contract.
        unsafe { put(msg, Msg::copy_from(data)) }?;
        Ok(0)
    })
}

/// Sets the routing id used by SERVER sockets (draft API). Errors: EINVAL (0), EFAULT.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_set_routing_id(msg: *mut zmq_msg_t, routing_id: u32) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        unsafe { get(msg) }?.set_routing_id(routing_id)?;
        Ok(0)
    })
}

/// The routing id set by a SERVER socket, 0 when none (draft API).
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_routing_id(msg: *mut zmq_msg_t) -> u32 {
    ffi!({
        // SAFETY: forwarded contract.
        Ok(unsafe { get(msg) }?.routing_id())
    })
}

/// Sets the RADIO/DISH group (at most `ZMQ_GROUP_MAX_LENGTH` bytes; draft API).
/// Errors: EINVAL (too long or NULL), EFAULT.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`; `group` NULL or a C string.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_set_group(msg: *mut zmq_msg_t, group: *const c_char) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let g = unsafe { slice::c_str(group) }?;
        // SAFETY: forwarded contract.
        unsafe { get(msg) }?.set_group(g)?;
        Ok(0)
    })
}

/// The RADIO/DISH group, "" when unset (draft API). NULL with EFAULT for an invalid message.
///
/// # Safety
/// `msg` must be NULL or point to a `zmq_msg_t`.
#[cfg(feature = "draft")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_group(msg: *mut zmq_msg_t) -> *const c_char {
    ffi!({
        // SAFETY: forwarded contract.
        Ok(unsafe { get(msg) }?.group().as_ptr())
    })
}
