//! [`LightLock`]: a mutex for data that one thread uses almost always alone (a pipe's reader
//! cache, a socket's handle), where the cost that matters is the uncontended lock and unlock
//! on every message. Not for data two threads take turns on at a high rate (a pipe's shared
//! queue): there a waiter's spinning and yielding cost more than parking.
//!
//! Layer L1. Locking is one compare-and-swap; unlocking is a plain release store (a general
//! mutex such as `parking_lot`'s needs a second read-modify-write there, to find parked
//! waiters). The price is paid by a thread that finds the lock taken: it spins briefly, then
//! yields, then sleeps in short naps until the holder lets go, instead of being woken. Holders
//! must therefore keep their critical sections short or rare: what they protect is touched by
//! two threads only at hand-over points, and blocking for a long time while holding one is
//! meant for misuse cases only (two threads on one socket).
#![allow(
    unsafe_code,
    reason = "the lock hands out &mut to the data its flag guards"
)]

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Spins of a waiter before it starts yielding the core.
const SPINS: u32 = 64;
/// Yields of a waiter before it starts sleeping.
const YIELDS: u32 = 256;
/// A sleeping waiter's nap: long enough to cost no CPU, short against any real hold.
const NAP: Duration = Duration::from_micros(50);

/// A mutual-exclusion lock whose uncontended unlock is a plain store (see the module doc).
#[derive(Default)]
pub(crate) struct LightLock<T> {
    locked: AtomicBool,
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
}

impl<T> LightLock<T> {
    /// A lock holding `value`.
    pub(crate) fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks, waiting (spin, yield, then nap) while another thread holds it.
    #[inline]
    pub(crate) fn lock(&self) -> LightGuard<'_, T> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        LightGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut tries = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                if tries < SPINS {
                    std::hint::spin_loop();
                } else if tries < SPINS + YIELDS {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(NAP);
                }
                tries = tries.saturating_add(1);
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
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
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn excludes_other_threads() {
        // Non-atomic read-modify-write under the lock from four threads: any overlap of two
        // critical sections loses increments.
        let lock = Arc::new(LightLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..50_000 {
                        let mut g = lock.lock();
                        let v = *g;
                        std::hint::black_box(&v);
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 200_000);
    }

    #[test]
    fn a_waiter_gets_the_lock_after_a_long_hold() {
        // The holder keeps it past the spin and yield phases: the waiter must nap and still
        // get in once it is released, seeing what the holder wrote.
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
