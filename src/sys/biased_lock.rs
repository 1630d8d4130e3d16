//! [`BiasedLock`]: a lock that its first user takes and releases with plain stores, for a
//! socket handle, which one thread uses for every call almost always. Another thread that
//! comes takes the bias away once; from then on everyone goes through a [`LightLock`].
//!
//! Layer L1. The owner's lock is "store `busy`, then look at `state`", with no barrier between
//! the two: on x86 the store may still wait in the store buffer when the load runs, so a
//! revoker must make the owner's store visible before it reads `busy`. It sets `state` to
//! revoking and calls `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which runs a full
//! barrier on every CPU that runs a thread of this process. After that, either the owner saw
//! the revocation (and takes the slow path) or the revoker sees `busy` and waits for the
//! owner's call to end. Where `membarrier` cannot be registered (old kernels, seccomp), no lock
//! is ever biased. If it fails later (a seccomp filter installed after registration), the
//! revoker waits a millisecond instead: a store buffer drains in far less, so by then the
//! owner's `busy` is visible.
//!
//! Measured: the handle's compare-and-swap was 9.5 % of a tcp 64 B sender's samples, most of
//! it the wait for the message's stores to drain before the locked instruction. With the bias
//! (each process on its own core): tcp 64 B 15.3 -> 16.2 M msg/s, ipc 17.3 -> 18.5.
#![allow(
    unsafe_code,
    reason = "hands out &mut to the value under the bias or the lock; calls membarrier(2)"
)]

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering, compiler_fence};
use std::time::Duration;

use super::{LightGuard, LightLock};

/// Only the owner locks, with plain stores.
const BIASED: u8 = 0;
/// A revoker is making the owner's stores visible (see the module doc).
const REVOKING: u8 = 1;
/// Everyone locks [`BiasedLock::lock`]'s inner [`LightLock`].
const REVOKED: u8 = 2;

/// How long a revoker waits when `membarrier` fails (see the module doc).
const DRAIN_WAIT: Duration = Duration::from_millis(1);

/// A mutual-exclusion lock biased to the first thread that takes it (see the module doc).
pub(crate) struct BiasedLock<T> {
    /// The owning thread (`pthread_self`), 0 before the first lock.
    owner: AtomicUsize,
    /// [`BIASED`], [`REVOKING`] or [`REVOKED`]; never goes back.
    state: AtomicU8,
    /// The owner is inside a call that took the biased path.
    busy: AtomicBool,
    /// The lock once the bias is gone.
    lock: LightLock<()>,
    value: UnsafeCell<T>,
}

// SAFETY: the bias or the inner lock gives at most one guard at a time (see the module doc),
// so the value is only ever reached from one thread at once; moving it needs T: Send.
unsafe impl<T: Send> Sync for BiasedLock<T> {}
// SAFETY: as above; the lock owns its value.
unsafe impl<T: Send> Send for BiasedLock<T> {}

/// Access to a [`BiasedLock`]'s value; unlocks when dropped.
pub(crate) struct BiasedGuard<'a, T> {
    lock: &'a BiasedLock<T>,
    /// The inner lock's guard, when the bias was not ours.
    slow: Option<LightGuard<'a, ()>>,
    /// Shared between threads only where `&mut T` may be (`T: Sync`), like std's guards.
    _value: PhantomData<&'a mut T>,
}

/// The calling thread's identity: never 0, unique among live threads.
fn current_thread() -> usize {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize }
}

const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

fn membarrier(cmd: libc::c_long) -> bool {
    // SAFETY: membarrier takes two integer arguments and touches no memory of ours.
    unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) == 0 }
}

/// Whether this process could register for expedited barriers (asked once).
fn biasing_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
}

/// A full barrier on every thread of this process, or (when the kernel refuses one even after
/// registering again) a wait long enough for store buffers to drain.
fn barrier_on_all_threads() {
    #[cfg(test)]
    if tests::FORCE_DRAIN_WAIT.load(Ordering::Relaxed) {
        std::thread::sleep(DRAIN_WAIT);
        return;
    }
    if membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) {
        return;
    }
    if membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
        && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
    {
        return;
    }
    std::thread::sleep(DRAIN_WAIT);
}

/// Waits (spinning, then yielding, then napping) until `done` holds.
fn wait_until(mut done: impl FnMut() -> bool) {
    let mut tries = 0u32;
    while !done() {
        match tries {
            0..64 => std::hint::spin_loop(),
            64..128 => std::thread::yield_now(),
            _ => std::thread::sleep(Duration::from_micros(100)),
        }
        tries = tries.saturating_add(1);
    }
}

impl<T> BiasedLock<T> {
    /// A lock holding `value`, not yet biased.
    pub(crate) fn new(value: T) -> Self {
        Self {
            owner: AtomicUsize::new(0),
            state: AtomicU8::new(BIASED),
            busy: AtomicBool::new(false),
            lock: LightLock::new(()),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks: plain stores for the owner while the bias holds, else the inner lock (after
    /// taking the bias away, the first time another thread comes).
    #[inline]
    pub(crate) fn lock(&self) -> BiasedGuard<'_, T> {
        let me = current_thread();
        // A second lock by the owner inside its own call goes the slow way (which refuses it),
        // never to a second guard.
        if self.owner.load(Ordering::Relaxed) == me
            && !self.busy.load(Ordering::Relaxed)
            && self.enter_biased()
        {
            return self.guard(None);
        }
        self.lock_slow(me)
    }

    /// The owner's entry: announces the call, then checks that the bias still holds.
    #[inline]
    fn enter_biased(&self) -> bool {
        self.busy.store(true, Ordering::Relaxed);
        // Only the compiler is kept from reordering: a revoker's membarrier orders the store
        // before the load on the CPU (see the module doc).
        compiler_fence(Ordering::SeqCst);
        if self.state.load(Ordering::Relaxed) == BIASED {
            return true;
        }
        self.busy.store(false, Ordering::Release);
        false
    }

    /// # Panics
    /// When the owner locks again inside its own call (a C callback that calls back into the
    /// socket): that could only wait for itself. The C boundary turns the panic into EFAULT.
    #[cold]
    fn lock_slow(&self, me: usize) -> BiasedGuard<'_, T> {
        assert!(
            !(self.owner.load(Ordering::Relaxed) == me && self.busy.load(Ordering::Relaxed)),
            "a lock taken again by the thread that holds it"
        );
        if self.state.load(Ordering::Acquire) == BIASED
            && biasing_available()
            && self
                .owner
                .compare_exchange(0, me, Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
            && self.enter_biased()
        {
            return self.guard(None);
        }
        self.revoke();
        // The owner's call in progress (if any) ends; later ones see the revocation.
        wait_until(|| !self.busy.load(Ordering::Acquire));
        self.guard(Some(self.lock.lock()))
    }

    fn guard<'a>(&'a self, slow: Option<LightGuard<'a, ()>>) -> BiasedGuard<'a, T> {
        BiasedGuard {
            lock: self,
            slow,
            _value: PhantomData,
        }
    }

    /// Takes the bias away (or waits for whoever is doing so). Where biasing is unavailable no
    /// lock ever had an owner, so there is no owner's store to make visible.
    fn revoke(&self) {
        if self.state.load(Ordering::Acquire) == REVOKED {
            return;
        }
        if self
            .state
            .compare_exchange(BIASED, REVOKING, Ordering::SeqCst, Ordering::Acquire)
            .is_ok()
        {
            if biasing_available() {
                barrier_on_all_threads();
            }
            self.state.store(REVOKED, Ordering::Release);
        } else {
            wait_until(|| self.state.load(Ordering::Acquire) == REVOKED);
        }
    }

    #[cfg(test)]
    fn is_biased(&self) -> bool {
        self.state.load(Ordering::Acquire) == BIASED
    }
}

impl<T> std::ops::Deref for BiasedGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard is the only one (bias or inner lock, see the module doc).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> std::ops::DerefMut for BiasedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref, and &mut self keeps this reference unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for BiasedGuard<'_, T> {
    fn drop(&mut self) {
        if self.slow.is_none() {
            self.lock.busy.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    /// Makes revokers take the timed fallback instead of membarrier (see
    /// [`barrier_on_all_threads`]); only slows other tests down while set.
    pub(super) static FORCE_DRAIN_WAIT: AtomicBool = AtomicBool::new(false);

    /// One call: a non-atomic read-modify-write of a pair, so an overlap shows as a torn pair
    /// (counted in `torn`) or as a lost update (a final count short of the calls made).
    fn call(lock: &BiasedLock<(u64, u64)>, torn: &AtomicU64) {
        let mut g = lock.lock();
        let (a, b) = *g;
        if a != b {
            torn.fetch_add(1, Ordering::Relaxed);
        }
        g.0 = a + 1;
        std::hint::black_box(&mut *g);
        g.1 = b + 1;
    }

    /// For each of `locks` fresh locks, an owner calls in a loop while another thread makes its
    /// first calls in the middle of that stream; returns (torn pairs, locks with lost updates).
    fn revoke_mid_stream(locks: usize) -> (u64, usize) {
        const REVOKER_CALLS: u64 = 10;
        let torn = Arc::new(AtomicU64::new(0));
        let mut lost = 0;
        for _ in 0..locks {
            let lock = Arc::new(BiasedLock::new((0u64, 0u64)));
            let (running, stop) = (
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicBool::new(false)),
            );
            let owner = std::thread::spawn({
                let (lock, running, stop, torn) = (
                    Arc::clone(&lock),
                    Arc::clone(&running),
                    Arc::clone(&stop),
                    Arc::clone(&torn),
                );
                move || {
                    let mut calls = 0u64;
                    while calls == 0 || !stop.load(Ordering::Relaxed) {
                        call(&lock, &torn);
                        calls += 1;
                        running.store(true, Ordering::Release);
                        // A gap between calls: the light lock is not fair, and a revoker
                        // that went to sleep on it needs one to get in; on a shared core it
                        // needs the core.
                        for _ in 0..64 {
                            std::hint::spin_loop();
                        }
                        if calls.is_multiple_of(16) {
                            std::thread::yield_now();
                        }
                    }
                    calls
                }
            });
            while !running.load(Ordering::Acquire) {
                // Yield: the owner may be waiting for this very core.
                std::thread::yield_now();
            }
            // The first of these calls takes the bias away; a few more contend with the owner.
            for _ in 0..REVOKER_CALLS {
                call(&lock, &torn);
            }
            stop.store(true, Ordering::Relaxed);
            let total = owner.join().unwrap() + REVOKER_CALLS;
            if *lock.lock() != (total, total) {
                lost += 1;
            }
        }
        (torn.load(Ordering::Relaxed), lost)
    }

    #[test]
    fn a_revocation_in_the_middle_of_the_owners_calls_loses_nothing() {
        assert_eq!(revoke_mid_stream(8000), (0, 0));
    }

    #[test]
    fn the_timed_fallback_also_keeps_the_owner_out() {
        FORCE_DRAIN_WAIT.store(true, Ordering::Relaxed);
        let outcome = revoke_mid_stream(50);
        FORCE_DRAIN_WAIT.store(false, Ordering::Relaxed);
        assert_eq!(outcome, (0, 0));
    }

    #[test]
    fn two_first_callers_at_once_never_overlap() {
        let torn = Arc::new(AtomicU64::new(0));
        let mut lost = 0;
        for _ in 0..1000 {
            let lock = Arc::new(BiasedLock::new((0u64, 0u64)));
            let start = Arc::new(std::sync::Barrier::new(2));
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    let (lock, start, torn) =
                        (Arc::clone(&lock), Arc::clone(&start), Arc::clone(&torn));
                    std::thread::spawn(move || {
                        start.wait();
                        for _ in 0..300 {
                            call(&lock, &torn);
                        }
                    })
                })
                .collect();
            for c in callers {
                c.join().unwrap();
            }
            if *lock.lock() != (600, 600) {
                lost += 1;
            }
        }
        assert_eq!((torn.load(Ordering::Relaxed), lost), (0, 0));
    }

    #[test]
    fn the_owner_locking_again_inside_its_call_is_refused() {
        let lock = BiasedLock::new(0u64);
        let mut first = lock.lock();
        if lock.owner.load(Ordering::Relaxed) == current_thread() {
            let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lock.lock()));
            assert!(again.is_err(), "a second guard while the first lives");
        }
        *first += 1;
        drop(first);
        assert_eq!(*lock.lock(), 1, "the lock still works");
    }

    #[test]
    fn the_first_thread_keeps_the_bias_until_another_comes() {
        let lock = Arc::new(BiasedLock::new(0u64));
        for _ in 0..1000 {
            *lock.lock() += 1;
        }
        assert_eq!(*lock.lock(), 1000);
        assert_eq!(lock.is_biased(), biasing_available());
        let other = Arc::clone(&lock);
        std::thread::spawn(move || *other.lock() += 1)
            .join()
            .unwrap();
        assert!(!lock.is_biased(), "another thread took the bias away");
        *lock.lock() += 1;
        assert_eq!(*lock.lock(), 1002);
    }

    #[test]
    fn a_revoker_waits_for_the_owners_call_to_end() {
        let lock = Arc::new(BiasedLock::new(0u64));
        let released = Arc::new(AtomicBool::new(false));
        let mut guard = lock.lock();
        let t = std::thread::spawn({
            let (lock, released) = (Arc::clone(&lock), Arc::clone(&released));
            move || {
                let mut g = lock.lock();
                assert!(
                    released.load(Ordering::SeqCst),
                    "entered during the owner's call"
                );
                *g += 1;
            }
        });
        std::thread::sleep(Duration::from_millis(20));
        *guard += 1;
        released.store(true, Ordering::SeqCst);
        drop(guard);
        t.join().unwrap();
        assert_eq!(*lock.lock(), 2);
    }

    #[test]
    fn owner_and_revokers_never_overlap() {
        // The value is two words written one after the other: a guard that saw them differ
        // overlapped another. Threads join while the owner is busy, so the bias is taken away
        // in the middle of its calls.
        let lock = Arc::new(BiasedLock::new((0u64, 0u64)));
        let overlaps = Arc::new(AtomicU64::new(0));
        const ROUNDS: u64 = 200_000;
        let hammer = |lock: Arc<BiasedLock<(u64, u64)>>, overlaps: Arc<AtomicU64>| {
            for _ in 0..ROUNDS {
                let mut g = lock.lock();
                if g.0 != g.1 {
                    overlaps.fetch_add(1, Ordering::Relaxed);
                }
                g.0 += 1;
                std::hint::black_box(&mut *g);
                g.1 += 1;
            }
        };
        // The main thread becomes the owner before the others start.
        drop(lock.lock());
        let others: Vec<_> = (0..3)
            .map(|_| {
                let (l, o) = (Arc::clone(&lock), Arc::clone(&overlaps));
                std::thread::spawn(move || hammer(l, o))
            })
            .collect();
        hammer(Arc::clone(&lock), Arc::clone(&overlaps));
        for t in others {
            t.join().unwrap();
        }
        assert_eq!(overlaps.load(Ordering::Relaxed), 0);
        assert_eq!(*lock.lock(), (4 * ROUNDS, 4 * ROUNDS));
    }
}
