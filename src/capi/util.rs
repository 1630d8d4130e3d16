//! Utilities: Z85, CURVE keys, atomic counters, stopwatch, sleep, threads, timers.
//!
//! The logic lives in `crate::util` (Z85 and the timer set, both pure); this file checks the
//! caller's pointers and handles. Counters, stopwatches, timer sets and threads are handed out
//! as [`Tagged`] boxes: a type tag sits at offset 0 and is checked (and its type matched)
//! before every use, so NULL, a handle of another kind or an already destroyed handle gives
//! `EFAULT` (barring freed memory that was reused) instead of undefined behaviour.

use std::ffi::{c_char, c_int, c_long, c_ulong, c_void};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;

use parking_lot::Mutex;
use zeroize::Zeroizing;

use super::boundary::ffi;
use super::slice;
use super::types::*;
use crate::error::{Error, Result};
use crate::mechanism::curve::crypto::SecretKey;
use crate::util::timers::Timers;
use crate::util::z85;

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

// ---------------------------------------------------------------------------------------------
// Z85 and CURVE keys

/// Encodes `size` bytes at `data` as Z85 text (ZeroMQ RFC 32) into `dest`, which must hold
/// `size * 5 / 4 + 1` bytes (the text and a NUL). Returns `dest`, or NULL with errno EINVAL
/// when `size` is not a multiple of 4, EFAULT when `dest` is NULL or `data` is NULL with a
/// non-zero `size`. Neither buffer is retained. Thread-safe, never blocks.
///
/// # Safety
/// `data` must be NULL (with `size` 0) or readable for `size` bytes; `dest` must be NULL or
/// writable for `size * 5 / 4 + 1` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_z85_encode(
    dest: *mut c_char,
    data: *const u8,
    size: usize,
) -> *mut c_char {
    ffi!({
        z85::encoded_len(size)?;
        // SAFETY: forwarded contract.
        let text = z85::encode(unsafe { slice::bytes(data.cast(), size) }?)?;
        if dest.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: dest is writable for text.len() + 1 bytes per the contract; ptr::copy allows
        // dest to overlap the caller's data, which `text` no longer borrows.
        unsafe { std::ptr::copy(text.as_ptr(), dest.cast::<u8>(), text.len()) };
        // SAFETY: text.len() + 1 bytes at dest are writable, so the offset stays in bounds.
        let nul = unsafe { dest.add(text.len()) };
        // SAFETY: the NUL goes in the last of the size * 5 / 4 + 1 writable bytes.
        unsafe { nul.write(0) };
        Ok(dest)
    })
}

/// Decodes the NUL-terminated Z85 `string` into `dest`, which must hold `strlen(string) * 4 / 5`
/// bytes. Returns `dest`, or NULL with errno EINVAL when `string` is NULL, empty, not a multiple
/// of 5 characters long, contains a character outside the Z85 alphabet or a 5-character group
/// above 0xFFFFFFFF, and EFAULT when `dest` is NULL. Nothing is written on failure and nothing
/// is retained. Thread-safe, never blocks.
///
/// # Safety
/// `string` must be NULL or NUL-terminated; `dest` must be NULL or writable for
/// `strlen(string) * 4 / 5` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8 {
    ffi!({
        // SAFETY: forwarded contract.
        let bytes = z85::decode(unsafe { slice::c_str(string) }?.to_bytes())?;
        if dest.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: dest is writable for strlen * 4 / 5 == bytes.len() bytes per the contract;
        // ptr::copy tolerates overlap with the caller's string, which is no longer borrowed.
        unsafe { std::ptr::copy(bytes.as_ptr(), dest, bytes.len()) };
        Ok(dest)
    })
}

/// Writes a 40-character Z85 key and its NUL to `dest`.
///
/// # Safety
/// `dest` must be non-null and writable for 41 bytes.
unsafe fn put_z85_key(dest: *mut c_char, text: &[u8]) {
    let len = text.len().min(40);
    // SAFETY: dest is writable for 41 bytes per the contract and len <= 40; ptr::copy allows
    // dest to overlap the caller's other buffer, which `text` no longer borrows.
    unsafe { std::ptr::copy(text.as_ptr(), dest.cast::<u8>(), len) };
    // SAFETY: len <= 40, so the offset stays within the 41 writable bytes.
    let nul = unsafe { dest.add(len) };
    // SAFETY: the NUL goes in one of the 41 writable bytes.
    unsafe { nul.write(0) };
}

/// Generates a new CURVE key pair from the operating system's randomness and writes both keys
/// as Z85 text (40 characters and a NUL) to the two 41-byte buffers. Returns 0, or -1 with
/// errno EFAULT when a buffer is NULL (or, practically never, when the OS has no randomness
/// to give). The secret key is wiped from this library's memory before returning; nothing is
/// retained. Thread-safe, never blocks once the OS random source is initialised.
///
/// # Safety
/// Each pointer must be NULL or writable for 41 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_curve_keypair(
    z85_public_key: *mut c_char,
    z85_secret_key: *mut c_char,
) -> c_int {
    ffi!({
        if z85_public_key.is_null() || z85_secret_key.is_null() {
            return Err(Error::Fault);
        }
        let secret = SecretKey::generate().map_err(|_| Error::Fault)?;
        let public = z85::encode(&secret.public_key())?;
        let secret_text = Zeroizing::new(z85::encode(secret.to_bytes().as_slice())?);
        // SAFETY: both are non-null and writable for 41 bytes per the contract.
        unsafe { put_z85_key(z85_public_key, &public) };
        // SAFETY: as above.
        unsafe { put_z85_key(z85_secret_key, &secret_text) };
        Ok(0)
    })
}

/// Derives the public key of the Z85 secret key `z85_secret_key` (40 characters and a NUL)
/// and writes it as Z85 text and a NUL to the 41-byte buffer `z85_public_key`. Returns 0, or -1
/// with errno EINVAL when the secret is NULL, not 40 characters or not valid Z85, and EFAULT
/// when `z85_public_key` is NULL. Nothing is retained; the decoded secret is wiped.
/// Thread-safe, never blocks.
///
/// # Safety
/// `z85_public_key` must be NULL or writable for 41 bytes; `z85_secret_key` must be NULL or a
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_curve_public(
    z85_public_key: *mut c_char,
    z85_secret_key: *const c_char,
) -> c_int {
    ffi!({
        // SAFETY: forwarded contract.
        let text = unsafe { slice::c_str(z85_secret_key) }?.to_bytes();
        if text.len() != 40 {
            return Err(Error::Invalid);
        }
        let decoded = Zeroizing::new(z85::decode(text)?);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(decoded.get(..32).ok_or(Error::Invalid)?);
        let public = z85::encode(&SecretKey::from_bytes(&bytes).public_key())?;
        if z85_public_key.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-null and writable for 41 bytes per the contract.
        unsafe { put_z85_key(z85_public_key, &public) };
        Ok(0)
    })
}

// ---------------------------------------------------------------------------------------------
// Atomic counters

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

// ---------------------------------------------------------------------------------------------
// Stopwatch and sleep

/// Starts a stopwatch on the monotonic clock (microseconds). The caller owns it and frees it
/// with `zmq_stopwatch_stop`. Never blocks.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    into_handle(TAG_STOPWATCH, crate::sys::now_us())
}

/// Microseconds since `watch` started; the stopwatch keeps running. 0 with errno EFAULT for an
/// invalid stopwatch. Never blocks.
///
/// # Safety
/// `watch` must be NULL or a handle from `zmq_stopwatch_start`, not stopped concurrently.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_stopwatch_intermediate(watch: *mut c_void) -> c_ulong {
    ffi!({
        // SAFETY: forwarded contract.
        let w = unsafe { handle::<u64>(watch, TAG_STOPWATCH) }?;
        Ok(crate::sys::now_us().saturating_sub(w.value) as c_ulong)
    })
}

/// Microseconds since `watch` started, and frees the stopwatch. 0 with errno EFAULT for an
/// invalid stopwatch. Never blocks.
///
/// # Safety
/// `watch` must be NULL or a handle from `zmq_stopwatch_start` that no other thread is using.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_stopwatch_stop(watch: *mut c_void) -> c_ulong {
    ffi!({
        let end = crate::sys::now_us();
        // SAFETY: forwarded contract.
        let w = unsafe { claim::<u64>(watch, TAG_STOPWATCH) }?;
        // SAFETY: claimed just now; nothing else borrows it.
        let start = unsafe { free_handle(w) };
        Ok(end.saturating_sub(start) as c_ulong)
    })
}

/// Blocks the calling thread for `seconds` seconds; 0 or a negative value returns at once.
#[unsafe(no_mangle)]
pub extern "C" fn zmq_sleep(seconds: c_int) {
    if let Ok(secs) = u64::try_from(seconds) {
        std::thread::sleep(std::time::Duration::from_secs(secs));
    }
}

// ---------------------------------------------------------------------------------------------
// Threads

/// The caller's `arg`, moved into the new thread.
struct ThreadArg(*mut c_void);

// SAFETY: zmq_threadstart's contract makes the caller responsible for `arg` being usable from
// the new thread; the library itself never dereferences it.
unsafe impl Send for ThreadArg {}

impl ThreadArg {
    /// Takes the pointer out (a method, so the closure captures the whole `Send` wrapper).
    fn into_inner(self) -> *mut c_void {
        self.0
    }
}

/// Starts a thread (named "ZMQapp", all signals blocked, as in libzmq) that runs `func(arg)`.
/// Returns a handle the caller must pass to `zmq_threadclose`; NULL with errno EFAULT when
/// `func` is NULL, or with the OS's errno when no thread can be started. Never blocks.
///
/// # Safety
/// `func` must be NULL or safe to call with `arg` on another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_threadstart(func: zmq_thread_fn, arg: *mut c_void) -> *mut c_void {
    ffi!({
        let func = func.ok_or(Error::Fault)?;
        let arg = ThreadArg(arg);
        let thread = std::thread::Builder::new()
            .name("ZMQapp".into())
            .spawn(move || {
                crate::sys::block_all_signals();
                // SAFETY: the caller promised func may be called with arg on this thread.
                unsafe { func(arg.into_inner()) };
            })?;
        Ok(into_handle::<JoinHandle<()>>(TAG_THREAD, thread))
    })
}

/// Blocks until the thread started by `zmq_threadstart` returns, then frees its handle. An
/// invalid handle (NULL, already closed) sets errno to EFAULT and does nothing else.
///
/// # Safety
/// `thread` must be NULL or a handle from `zmq_threadstart` that no other thread is closing.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zmq_threadclose(thread: *mut c_void) {
    ffi!({
        // SAFETY: forwarded contract.
        let h = unsafe { claim::<JoinHandle<()>>(thread, TAG_THREAD) }?;
        // SAFETY: claimed just now; nothing else borrows it.
        let join = unsafe { free_handle(h) };
        // The body is a C function, which cannot unwind into Rust, so join cannot report a panic.
        let _ = join.join();
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Timers

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
#[allow(
    clippy::multiple_unsafe_ops_per_block,
    reason = "tests drive the C API in sequences"
)]
mod tests {
    use super::*;
    use std::ptr::{null, null_mut};

    fn errno_after<T>(f: impl FnOnce() -> T) -> (T, i32) {
        crate::sys::set_errno(0);
        let r = f();
        (r, crate::sys::errno())
    }

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

    #[test]
    fn z85_rejects_null_pointers() {
        let mut out = [0u8; 16];
        // SAFETY: NULL and valid buffers only.
        unsafe {
            let (r, e) = errno_after(|| zmq_z85_decode(out.as_mut_ptr(), null()));
            assert!(r.is_null() && e == libc::EINVAL);
            let (r, e) = errno_after(|| zmq_z85_decode(null_mut(), c"HelloWorld".as_ptr()));
            assert!(r.is_null() && e == libc::EFAULT);
            let (r, e) = errno_after(|| zmq_z85_encode(null_mut(), out.as_ptr(), 4));
            assert!(r.is_null() && e == libc::EFAULT);
            let (r, e) = errno_after(|| zmq_z85_encode(out.as_mut_ptr().cast(), null(), 4));
            assert!(r.is_null() && e == libc::EFAULT);
        }
    }

    fn c_text(buf: &[c_char; 41]) -> String {
        // SAFETY: the buffer is NUL-terminated by the function under test.
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn curve_keypair_gives_a_z85_pair_whose_public_key_derives_from_the_secret() {
        let mut public = [0x7f as c_char; 41];
        let mut secret = [0x7f as c_char; 41];
        let mut derived = [0x7f as c_char; 41];
        // SAFETY: valid 41-byte buffers; secret is NUL-terminated after the first call.
        unsafe {
            assert_eq!(
                zmq_curve_keypair(public.as_mut_ptr(), secret.as_mut_ptr()),
                0
            );
            assert_eq!(zmq_curve_public(derived.as_mut_ptr(), secret.as_ptr()), 0);
        }
        let (public, secret, derived) = (c_text(&public), c_text(&secret), c_text(&derived));
        assert_eq!(public.len(), 40);
        assert_eq!(secret.len(), 40);
        assert_eq!(public, derived);
        assert_ne!(public, secret);
        assert_eq!(z85::decode(public.as_bytes()).unwrap().len(), 32);
    }

    #[test]
    fn curve_public_matches_rfc7748() {
        // RFC 7748 section 6.1, Alice's key pair, in Z85.
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len() / 2)
                .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        };
        let sk = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        let pk = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        let mut sk_text = z85::encode(&sk).unwrap();
        sk_text.push(0);
        let mut out = [0 as c_char; 41];
        // SAFETY: a 41-byte buffer and a NUL-terminated string.
        let rc = unsafe { zmq_curve_public(out.as_mut_ptr(), sk_text.as_ptr().cast()) };
        assert_eq!(rc, 0);
        assert_eq!(c_text(&out).as_bytes(), z85::encode(&pk).unwrap());
    }

    #[test]
    fn curve_functions_check_their_arguments() {
        let mut a = [0 as c_char; 41];
        let mut b = [0 as c_char; 41];
        // SAFETY: valid buffers, NULL pointers and NUL-terminated strings only.
        unsafe {
            let k = errno_after(|| zmq_curve_keypair(null_mut(), b.as_mut_ptr()));
            assert_eq!(k, (-1, libc::EFAULT));
            let k = errno_after(|| zmq_curve_keypair(a.as_mut_ptr(), null_mut()));
            assert_eq!(k, (-1, libc::EFAULT));
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), null()));
            assert_eq!(p, (-1, libc::EINVAL));
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), c"abc".as_ptr()));
            assert_eq!(p, (-1, libc::EINVAL));
            let hashes = c"########################################";
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), hashes.as_ptr()));
            assert_eq!(p, (-1, libc::EINVAL), "groups above 2^32 - 1");
            let twenty = c"00000000000000000000";
            let p = errno_after(|| zmq_curve_public(a.as_mut_ptr(), twenty.as_ptr()));
            assert_eq!(p, (-1, libc::EINVAL), "only whole 40-character keys");
            let zeros = c"0000000000000000000000000000000000000000";
            let p = errno_after(|| zmq_curve_public(null_mut(), zeros.as_ptr()));
            assert_eq!(p, (-1, libc::EFAULT));
        }
    }

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
