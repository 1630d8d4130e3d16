//! Context and socket handles: the `void *` the C API hands out.
//!
//! A handle is a `Box` whose first field is a tag, checked before every use: a NULL or foreign
//! pointer gives EFAULT (context) or ENOTSOCK (socket) instead of undefined behaviour (barring
//! a dangling pointer to freed memory, which no check can catch; libzmq has the same limit).
//! A socket's state sits behind a lock (biased to the thread that uses it, see
//! `sys::BiasedLock`), so concurrent misuse from two threads serialises instead of racing; a
//! panic while it is held poisons the handle, and later calls fail with EFAULT rather than
//! touch half-updated state. A call made from inside a call on the same socket (a C callback
//! calling back) fails with EFAULT instead of waiting for itself.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::ctx::Context;
use crate::error::{Error, Result};
use crate::socket::Socket;
use crate::sys::{BiasedGuard, BiasedLock};

const CTX_TAG: u64 = 0x7a6d_715f_6374_7821;
const SOCKET_TAG: u64 = 0x7a6d_715f_736f_636b;
const DEAD_TAG: u64 = 0xdead_dead_dead_dead;

/// What a context `void *` points to.
#[repr(C)]
pub(crate) struct CtxHandle {
    tag: AtomicU64,
    pub(crate) ctx: Context,
}

/// What a socket `void *` points to.
#[repr(C)]
pub(crate) struct SocketHandle {
    tag: AtomicU64,
    /// Locked for each API call (the call rate is the message rate): with plain stores by
    /// the thread that uses the socket (see `sys::BiasedLock`); only misuse (two threads on
    /// one socket at once) ever waits for it.
    socket: BiasedLock<Option<Socket>>,
    poisoned: AtomicBool,
}

/// Exclusive access to a socket; poisons the handle if dropped during a panic.
pub(crate) struct SocketGuard<'a> {
    guard: BiasedGuard<'a, Option<Socket>>,
    poisoned: &'a AtomicBool,
}

impl std::ops::Deref for SocketGuard<'_> {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        self.guard
            .as_ref()
            .expect("checked live in SocketHandle::lock")
    }
}

impl std::ops::DerefMut for SocketGuard<'_> {
    fn deref_mut(&mut self) -> &mut Socket {
        self.guard
            .as_mut()
            .expect("checked live in SocketHandle::lock")
    }
}

impl Drop for SocketGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.poisoned.store(true, Ordering::Release);
        }
    }
}

impl CtxHandle {
    /// Boxes a new context and returns its C handle.
    pub(crate) fn into_raw(ctx: Context) -> *mut c_void {
        Box::into_raw(Box::new(CtxHandle {
            tag: AtomicU64::new(CTX_TAG),
            ctx,
        }))
        .cast()
    }

    /// Borrows the context behind a handle; EFAULT if it is not one.
    ///
    /// # Safety
    /// `p` must be NULL or point to readable memory at least 8 bytes long (any live handle).
    pub(crate) unsafe fn from_raw<'a>(p: *mut c_void) -> Result<&'a CtxHandle> {
        if p.is_null() || !(p as usize).is_multiple_of(8) {
            return Err(Error::Fault);
        }
        // SAFETY: non-null and aligned; the caller promises readable memory. The tag is
        // checked before any other field is used.
        let h = unsafe { &*p.cast::<CtxHandle>() };
        if h.tag.load(Ordering::Acquire) != CTX_TAG {
            return Err(Error::Fault);
        }
        Ok(h)
    }

    /// Frees a context handle after termination.
    ///
    /// # Safety
    /// `p` must come from `into_raw` and not be used again.
    pub(crate) unsafe fn destroy(p: *mut c_void) {
        // SAFETY: per the contract, p is a live Box<CtxHandle> released exactly once.
        let h = unsafe { Box::from_raw(p.cast::<CtxHandle>()) };
        h.tag.store(DEAD_TAG, Ordering::Release);
        drop(h);
    }
}

impl SocketHandle {
    /// Boxes a new socket and returns its C handle.
    pub(crate) fn into_raw(socket: Socket) -> *mut c_void {
        Box::into_raw(Box::new(SocketHandle {
            tag: AtomicU64::new(SOCKET_TAG),
            socket: BiasedLock::new(Some(socket)),
            poisoned: AtomicBool::new(false),
        }))
        .cast()
    }

    /// Borrows the handle; ENOTSOCK if `p` is not a live socket handle.
    ///
    /// # Safety
    /// `p` must be NULL or point to readable memory at least 8 bytes long.
    pub(crate) unsafe fn from_raw<'a>(p: *mut c_void) -> Result<&'a SocketHandle> {
        if p.is_null() || !(p as usize).is_multiple_of(8) {
            return Err(Error::NotSocket);
        }
        // SAFETY: non-null and aligned; the caller promises readable memory. The tag is
        // checked before any other field is used.
        let h = unsafe { &*p.cast::<SocketHandle>() };
        if h.tag.load(Ordering::Acquire) != SOCKET_TAG {
            return Err(Error::NotSocket);
        }
        Ok(h)
    }

    /// Locks the socket for one API call.
    pub(crate) fn lock(&self) -> Result<SocketGuard<'_>> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Fault);
        }
        let guard = self.socket.lock();
        if guard.is_none() {
            return Err(Error::NotSocket);
        }
        Ok(SocketGuard {
            guard,
            poisoned: &self.poisoned,
        })
    }

    /// Closes the socket and frees the handle.
    ///
    /// # Safety
    /// `p` must be the handle `self` was borrowed from, not used again by the caller.
    pub(crate) unsafe fn close(&self, p: *mut c_void) -> Result<()> {
        let socket = self.socket.lock().take().ok_or(Error::NotSocket)?;
        if self
            .tag
            .compare_exchange(SOCKET_TAG, DEAD_TAG, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(Error::NotSocket);
        }
        socket.close();
        // SAFETY: p is the live Box<SocketHandle> behind self; the tag swap above makes this
        // the only release.
        drop(unsafe { Box::from_raw(p.cast::<SocketHandle>()) });
        Ok(())
    }
}
