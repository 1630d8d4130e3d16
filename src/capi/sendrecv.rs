//! Sending and receiving: `zmq_send*`, `zmq_recv*`, `zmq_msg_send`/`zmq_msg_recv` and the
//! legacy `zmq_sendmsg`/`zmq_recvmsg`, `zmq_sendiov`/`zmq_recviov`.

use std::ffi::{c_int, c_void};

use super::boundary::ffi;
use super::handle::SocketHandle;
use super::msg as cmsg;
use super::slice;
use super::socket::with_socket;
use super::types::zmq_msg_t;
use crate::consts::{ZMQ_DONTWAIT, ZMQ_SNDMORE};
use crate::error::{Error, Result};
use crate::msg::{Msg, const_bytes};

fn clip(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

fn send_on(socket: *mut c_void, msg: &mut Msg, flags: c_int) -> Result<()> {
    let mut s = with_socket!(socket);
    s.send(msg, flags & ZMQ_SNDMORE != 0, flags & ZMQ_DONTWAIT != 0)
}

fn recv_on(socket: *mut c_void, flags: c_int) -> Result<Msg> {
    let mut s = with_socket!(socket);
    s.recv(flags & ZMQ_DONTWAIT != 0)
}

/// Sends `len` bytes (copied) as one frame; `ZMQ_SNDMORE` marks more frames to follow,
/// `ZMQ_DONTWAIT` fails with EAGAIN instead of blocking. Returns `len`.
/// Errors: EAGAIN, ENOTSUP (socket type cannot send), EFSM, EHOSTUNREACH, ETERM, EINTR,
/// ENOTSOCK, EFAULT.
///
/// # Safety
/// `socket` NULL or a socket handle; `buf` NULL or valid for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_send(
    socket: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let data = unsafe { slice::bytes(buf, len) }?;
        let mut msg = Msg::copy_from(data);
        send_on(socket, &mut msg, flags)?;
        Ok(clip(len))
    })
}

/// Sends a constant buffer without copying (it must stay valid and unchanged until every copy
/// of the message is gone). Returns `len`. Errors as `zmq_send`.
///
/// # Safety
/// `socket` NULL or a socket handle; `buf` NULL or valid for `len` bytes for as long as the
/// library may hold the message.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_send_const(
    socket: *mut c_void,
    buf: *const c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        if buf.is_null() && len > 0 {
            return Err(Error::Fault);
        }
        // SAFETY: the caller promises a constant buffer of len bytes.
        let mut msg = Msg::from_bytes(unsafe { const_bytes(buf.cast(), len) });
        send_on(socket, &mut msg, flags)?;
        Ok(clip(len))
    })
}

/// Receives one frame into `buf`, truncated to `len` bytes; returns the frame's full size
/// (which may exceed `len`). Errors: EAGAIN, ENOTSUP, EFSM, ETERM, EINTR, ENOTSOCK, EFAULT.
///
/// # Safety
/// `socket` NULL or a socket handle; `buf` NULL or writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_recv(
    socket: *mut c_void,
    buf: *mut c_void,
    len: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let out = unsafe { slice::bytes_mut(buf, len) }?;
        let mut s = with_socket!(socket);
        let msg = s.recv(flags & ZMQ_DONTWAIT != 0)?;
        let n = msg.len().min(out.len());
        out[..n].copy_from_slice(&msg.data()[..n]);
        let size = msg.len();
        s.retire(msg);
        Ok(clip(size))
    })
}

/// Sends a message frame; on success `msg` is left empty (ready to close or reuse). Returns the
/// frame's size. Errors as `zmq_send`.
///
/// # Safety
/// `msg` NULL or an initialised `zmq_msg_t`; `socket` NULL or a socket handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_send(
    msg: *mut zmq_msg_t,
    socket: *mut c_void,
    flags: c_int,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let m = unsafe { cmsg::get(msg) }?;
        let size = m.len();
        send_on(socket, m, flags)?;
        Ok(clip(size))
    })
}

/// Receives a frame into `msg` (its previous content is released). Returns the frame's size.
/// Errors as `zmq_recv`.
///
/// # Safety
/// `msg` NULL or an initialised `zmq_msg_t`; `socket` NULL or a socket handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_msg_recv(
    msg: *mut zmq_msg_t,
    socket: *mut c_void,
    flags: c_int,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let slot = unsafe { cmsg::get(msg) }?;
        // Check the socket before waiting so a bad handle is reported as ENOTSOCK.
        // SAFETY: forwarded contract.
        unsafe { SocketHandle::from_raw(socket) }?;
        let mut s = with_socket!(socket);
        let size = s.recv_into(slot, flags & ZMQ_DONTWAIT != 0)?;
        Ok(clip(size))
    })
}

/// Legacy form of `zmq_msg_send` with the arguments swapped.
///
/// # Safety
/// As `zmq_msg_send`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_sendmsg(
    socket: *mut c_void,
    msg: *mut zmq_msg_t,
    flags: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_msg_send(msg, socket, flags) }
}

/// Legacy form of `zmq_msg_recv` with the arguments swapped.
///
/// # Safety
/// As `zmq_msg_recv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_recvmsg(
    socket: *mut c_void,
    msg: *mut zmq_msg_t,
    flags: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { zmq_msg_recv(msg, socket, flags) }
}

/// Sends `count` buffers (copied) as one multipart message. Returns the size of the last part.
/// Errors: EINVAL (NULL or empty vector), and those of `zmq_send`.
///
/// # Safety
/// `iov` NULL or valid for `count` entries, each valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_sendiov(
    socket: *mut c_void,
    iov: *mut libc::iovec,
    count: usize,
    flags: c_int,
) -> c_int {
    ffi!({
        if iov.is_null() || count == 0 {
            return Err(Error::Invalid);
        }
        // SAFETY: non-null; the caller promises count entries.
        let parts = unsafe { std::slice::from_raw_parts(iov, count) };
        let mut last = 0;
        for (i, part) in parts.iter().enumerate() {
            // SAFETY: the caller promises each entry is valid for its length.
            let data = unsafe { slice::bytes(part.iov_base, part.iov_len) }?;
            let mut msg = Msg::copy_from(data);
            let f = if i + 1 < count {
                flags | ZMQ_SNDMORE
            } else {
                flags
            };
            send_on(socket, &mut msg, f)?;
            last = part.iov_len;
        }
        Ok(clip(last))
    })
}

/// Receives up to `*count` parts of a multipart message into buffers allocated with malloc
/// (the caller frees them), setting `*count` to the number received. Returns the total size.
/// Errors: EINVAL (NULL arguments), and those of `zmq_recv`.
///
/// # Safety
/// `iov` NULL or writable for `*count` entries; `count` NULL or a valid size_t.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_recviov(
    socket: *mut c_void,
    iov: *mut libc::iovec,
    count: *mut usize,
    flags: c_int,
) -> c_int {
    ffi!({
        if iov.is_null() || count.is_null() {
            return Err(Error::Invalid);
        }
        // SAFETY: non-null; the caller promises a valid size_t.
        let count = unsafe { &mut *count };
        // SAFETY: non-null; the caller promises *count writable entries.
        let parts = unsafe { std::slice::from_raw_parts_mut(iov, *count) };
        let mut total = 0usize;
        let mut received = 0;
        for part in parts.iter_mut() {
            let msg = recv_on(socket, flags)?;
            // SAFETY: malloc of the frame size (at least 1 byte so the pointer is never NULL
            // for a successful empty frame).
            let buf = unsafe { libc::malloc(msg.len().max(1)) };
            if buf.is_null() {
                return Err(Error::NoMemory);
            }
            // SAFETY: buf holds at least msg.len() bytes and does not overlap the message.
            unsafe { std::ptr::copy_nonoverlapping(msg.data().as_ptr(), buf.cast(), msg.len()) };
            part.iov_base = buf;
            part.iov_len = msg.len();
            total += msg.len();
            received += 1;
            if !msg.more() {
                break;
            }
        }
        *count = received;
        Ok(clip(total))
    })
}
