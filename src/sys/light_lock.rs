//! [`LightLock`]: a mutex whose uncontended lock is one compare-and-swap and whose unlock is a
//! plain release store, for data touched on every message: a pipe's queues, its reader cache,
//! a socket's handle. A general mutex such as `parking_lot`'s needs a second read-modify-write
//! in unlock, to learn atomically whether someone is parked.
//!
//! Layer L1. A thread that finds the lock taken spins a few rounds with growing pauses, yields
//! a few times, then announces itself in `sleepers` and sleeps on the lock word with a futex.
//! Unlock stores the free state and then reads `sleepers` with a plain load, waking one sleeper
//! if there is one. That load may be ordered before the store becomes visible (x86 lets a load
//! pass an earlier store), so a waiter that announced itself in that window of a few
//! nanoseconds can miss its wake-up: its futex sleep is therefore bounded by [`NAP`], after
//! which it looks again.
//!
//! The short spin matters as much as the wake-up: a pipe's reader that finds its cache empty
//! takes the shared queue's lock once per message, and a reader that spins long on it (or naps
//! on a timer) keeps stealing the line from the writer and takes batches of one. Measured on
//! inproc 64 B: 64 single-pause spins then timed naps gave 2.9 M msg/s, a backing-off spin
//! that soon sleeps 16.6 M (`parking_lot`'s mutex: 13.9 M).
#![allow(
    unsafe_code,
    reason = "the lock hands out &mut to the data its flag guards"
)]

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Rounds of spinning of a waiter before it starts yielding the core; round `i` spins
/// `2^(i+1)` pauses, so a waiter backs off instead of pulling the lock's cache line from its
/// holder.
const SPINS: u32 = 4;
/// Yields of a waiter before it starts sleeping.
const YIELDS: u32 = 6;
/// Longest futex sleep of a waiter before it looks again: bounds the cost of a missed wake-up
/// (see the module doc) and how often a waiter looks at a lock held for long (two threads
/// misusing one socket, a pipe direction writing to its swap file).
const NAP: Duration = Duration::from_micros(200);

const FREE: u32 = 0;
const HELD: u32 = 1;

/// A mutual-exclusion lock whose uncontended unlock is a plain store (see the module doc).
#[derive(Default)]
pub(crate) struct LightLock<T> {
    /// [`FREE`] or [`HELD`]; the futex word waiters sleep on.
    locked: AtomicU32,
    /// Waiters that announced a futex sleep and have not come back from it.
    sleepers: AtomicU32,
    value: UnsafeCell<T>,
}

// SAFETY: the flag gives at most one guard at a time, so the value is only ever reached from
// one thread at once; moving the value between threads needs T: Send.
unsafe impl<T: Send> Sync for LightLock<T> {}
// SAFETY: as above; the lock owns its value.
unsafe impl<T: Send> Send for LightLock<T> {}

/// Access to a [`LightLock`]'s value; unlocks when dropped.
pub(crate) struct LightGuard<'a, T> {
    lock: &'a LightLock<T>,
    /// Shared between threads only where `&mut T` may be (`T: Sync`), like std's guards.
    _value: std::marker::PhantomData<&'a mut T>,
}

impl<T> LightLock<T> {
    /// A lock holding `value`.
    pub(crate) fn new(value: T) -> Self {
        Self {
            locked: AtomicU32::new(FREE),
            sleepers: AtomicU32::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks, waiting (spin, yield, then sleep until woken) while another thread holds it.
    #[inline]
    pub(crate) fn lock(&self) -> LightGuard<'_, T> {
        if self
            .locked
            .compare_exchange_weak(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        LightGuard {
            lock: self,
            _value: std::marker::PhantomData,
        }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut tries = 0u32;
        loop {
            if self.locked.load(Ordering::Relaxed) == FREE
                && self
                    .locked
                    .compare_exchange_weak(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            if tries < SPINS {
                for _ in 0..2u32 << tries {
                    std::hint::spin_loop();
                }
            } else if tries < SPINS + YIELDS {
                std::thread::yield_now();
            } else {
                self.sleep_while_held();
                // Woken (or timed out): spin and yield again before the next sleep, as a
                // parked thread does, instead of sleeping at once if a writer re-took the lock.
                tries = 0;
                continue;
            }
            tries += 1;
        }
    }

    /// Sleeps until an unlock wakes us or [`NAP`] passes, unless the lock is already free.
    fn sleep_while_held(&self) {
        // SeqCst on both: the announcement is made visible before we read the lock word. An
        // unlock may still read `sleepers` before its store is visible and miss us (see the
        // module doc); the sleep then ends after NAP.
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        if self.locked.load(Ordering::SeqCst) == HELD {
            futex_wait(&self.locked, HELD, NAP);
        }
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Releases the lock (the guard's drop) and wakes one sleeping waiter if any.
    #[inline]
    fn unlock(&self) {
        self.locked.store(FREE, Ordering::Release);
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            futex_wake_one(&self.locked);
        }
    }
}

/// Sleeps while `word` holds `expected`, for at most `limit` (or until a wake-up or signal).
fn futex_wait(word: &AtomicU32, expected: u32, limit: Duration) {
    let timeout = libc::timespec {
        tv_sec: libc::time_t::try_from(limit.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(limit.subsec_nanos()),
    };
    // SAFETY: `word` is a live, aligned u32 for the call's duration and `timeout` a valid
    // relative timespec; FUTEX_WAIT only reads them. Any result (woken, EAGAIN because the
    // word changed, ETIMEDOUT, EINTR) sends the caller back to look at the lock again.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &timeout as *const libc::timespec,
        );
    }
}

/// Wakes one thread sleeping in [`futex_wait`] on `word`.
fn futex_wake_one(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned u32; FUTEX_WAKE only uses its address as a key.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

impl<T> std::ops::Deref for LightGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only one (the flag was taken by `lock`), so no `&mut`
        // to the value exists elsewhere while it lives.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> std::ops::DerefMut for LightGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this borrow exclusive within the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for LightGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Four threads each add 1 to the locked counter `rounds` times with a non-atomic
    /// read-modify-write, holding the lock for `hold` every 40th round; returns the lock.
    fn hammer(rounds: u64, hold: Duration) -> Arc<LightLock<u64>> {
        let lock = Arc::new(LightLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for i in 0..rounds {
                        let mut g = lock.lock();
                        let v = *g;
                        std::hint::black_box(&v);
                        if i % 40 == 0 && !hold.is_zero() {
                            std::thread::sleep(hold);
                        }
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        lock
    }

    #[test]
    fn excludes_other_threads() {
        // Any overlap of two critical sections loses increments.
        let lock = hammer(50_000, Duration::ZERO);
        assert_eq!(*lock.lock(), 200_000);
    }

    #[test]
    fn sleeping_waiters_are_all_let_in_and_sign_off() {
        // Holds longer than a nap now and then, so waiters go through the futex sleep: every
        // increment must land, and every sleeper must have taken its announcement back.
        let lock = hammer(400, NAP * 2);
        assert_eq!(*lock.lock(), 1600);
        assert_eq!(lock.sleepers.load(Ordering::SeqCst), 0);
        assert_eq!(lock.locked.load(Ordering::SeqCst), FREE);
    }

    #[test]
    fn a_waiter_gets_the_lock_after_a_long_hold() {
        // The holder keeps it past the spin and yield phases and past several naps: the
        // waiter must sleep and still get in once it is released, seeing what the holder
        // wrote.
        let lock = Arc::new(LightLock::new(Vec::<u32>::new()));
        let g = lock.lock();
        let waiter = {
            let lock = Arc::clone(&lock);
            std::thread::spawn(move || {
                lock.lock().push(2);
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        let mut g = g;
        g.push(1);
        drop(g);
        waiter.join().unwrap();
        assert_eq!(*lock.lock(), vec![1, 2]);
    }
}
