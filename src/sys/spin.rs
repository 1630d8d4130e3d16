//! Watching for work a little before sleeping: [`spin_until`] and the [`SpinBackoff`] that
//! decides when it is worth it.
//!
//! Layer L1. On this kind of machine (and most virtual ones) waking a thread whose CPU went
//! idle costs tens of microseconds, far more than the work of a message; a thread that expects
//! work soon (an I/O thread that just moved messages, a socket that just sent a request)
//! watches for it first, yielding the core between looks so that the thread it waits for can
//! run. A thread whose watches keep missing stops watching for a while (exponential back-off),
//! so steady traffic slower than the watch costs little CPU.
//!
//! The watch lasts [`watch_limit`] of the thread's own running time (yields that ran other
//! threads do not count, up to a wall-clock bound; see [`spin_until`]): 50 µs, or what the
//! environment variable `LIBZMQ_RS_SPIN_US` says when the process first needs it
//! (microseconds, 0 = never watch, at most 10 000), for deployments that prefer idle cores to
//! short latencies.
#![forbid(unsafe_code)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long a thread watches by default, in microseconds: longer than waking a sleeping
/// thread takes on a virtual machine (20-40 µs on the machines we measure on).
const DEFAULT_SPIN_US: u64 = 50;
/// The longest watch `LIBZMQ_RS_SPIN_US` may ask for.
const MAX_SPIN_US: u64 = 10_000;
/// The environment variable that sets the watch (see the module doc).
const SPIN_ENV: &str = "LIBZMQ_RS_SPIN_US";

/// How long threads watch before sleeping (zero: they never do).
pub(crate) fn watch_limit() -> Duration {
    static LIMIT: OnceLock<Duration> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let setting = std::env::var(SPIN_ENV).ok();
        Duration::from_micros(spin_us_from(setting.as_deref()))
    })
}

/// The watch in microseconds for a `LIBZMQ_RS_SPIN_US` value: the default when unset or not a
/// number, capped at [`MAX_SPIN_US`].
fn spin_us_from(setting: Option<&str>) -> u64 {
    setting
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_SPIN_US, |us| us.min(MAX_SPIN_US))
}

/// The most waits a run of misses makes sleep without watching first (2^MAX_MISSES).
const MAX_MISSES: u32 = 6;

/// A yield that kept the thread off the core longer than this ran another thread.
const AWAY: Duration = Duration::from_micros(5);
/// A watch ends after this many times its limit in wall-clock time, however much of it was
/// spent away.
const WALL_FACTOR: u32 = 20;

/// Calls `ready` until it answers true (returns true) or the watch has run for `limit`
/// (false). Every `yield_every` calls, it looks at the clock and yields the core; between
/// those it only hints the CPU that it spins. Time spent away in a yield that ran another
/// thread does not count: on a contended machine the watch lasts `limit` of this thread's own
/// running time (up to [`WALL_FACTOR`] times `limit` of wall-clock time), since sleeping there
/// would make the awaited thread pay a wake-up, and the other threads got the core meanwhile.
/// Measured with 10 threads on 2 cores: PUB -> 4 SUB 64 B 1.81-1.85 -> 2.08-2.12 M msg/s,
/// DEALER -> ROUTER 2.36 -> 2.48 M/s, tcp REQ/REP latency 7.7 -> 6.8 µs.
pub(crate) fn spin_until(limit: Duration, yield_every: u32, ready: impl FnMut() -> bool) -> bool {
    watch(limit, yield_every, ready, Instant::now, || {
        std::thread::yield_now();
    })
}

/// [`spin_until`] with the clock and the yield given (tests drive them).
fn watch(
    limit: Duration,
    yield_every: u32,
    mut ready: impl FnMut() -> bool,
    mut now: impl FnMut() -> Instant,
    mut yield_core: impl FnMut(),
) -> bool {
    let start = now();
    let wall_limit = limit.saturating_mul(WALL_FACTOR);
    let mut away = Duration::ZERO;
    let mut looks = 0u32;
    loop {
        if ready() {
            return true;
        }
        looks = looks.wrapping_add(1);
        if looks.is_multiple_of(yield_every.max(1)) {
            let before = now();
            let spent = before.saturating_duration_since(start);
            if spent >= wall_limit || spent.saturating_sub(away) >= limit {
                return false;
            }
            // The awaited thread may want this very core (more threads than cores): let it
            // run. With nothing else to run this returns at once.
            yield_core();
            let yielded = now().saturating_duration_since(before);
            if yielded > AWAY {
                away += yielded;
            }
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Yields the core once; true if another thread ran meanwhile (the yield kept this one away
/// longer than [`AWAY`]), false if nothing else wanted the core.
pub(crate) fn yield_ran_another() -> bool {
    let before = Instant::now();
    std::thread::yield_now();
    before.elapsed() > AWAY
}

/// When to watch before sleeping: after a miss (what was awaited came later) the next 2, then
/// 4, ... 64 waits sleep at once; a hit resets that. Shared between threads only as counters
/// (relaxed atomics), so a mailbox can keep one behind `&self`.
#[derive(Debug, Default)]
pub(crate) struct SpinBackoff {
    misses: AtomicU32,
    skip: AtomicU32,
}

impl SpinBackoff {
    /// True if this wait should watch first; false while backed off (and counts the skip), or
    /// when watching is off ([`watch_limit`] is zero).
    pub(crate) fn should_spin(&self) -> bool {
        if watch_limit().is_zero() {
            return false;
        }
        let skip = self.skip.load(Ordering::Relaxed);
        if skip > 0 {
            self.skip.store(skip - 1, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Records whether the watch found what it waited for.
    pub(crate) fn outcome(&self, hit: bool) {
        if hit {
            self.misses.store(0, Ordering::Relaxed);
        } else {
            let misses = (self.misses.load(Ordering::Relaxed) + 1).min(MAX_MISSES);
            self.misses.store(misses, Ordering::Relaxed);
            self.skip.store(1 << misses, Ordering::Relaxed);
        }
    }

    /// Waits left that sleep without watching.
    #[cfg(test)]
    pub(crate) fn skips_left(&self) -> u32 {
        self.skip.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn backoff_doubles_per_miss_up_to_64_and_a_hit_resets_it() {
        let b = SpinBackoff::default();
        assert!(b.should_spin());
        b.outcome(false);
        let skipped = (0..3).filter(|_| !b.should_spin()).count();
        assert_eq!(skipped, 2, "one miss: the next 2 waits sleep at once");
        b.outcome(false);
        b.outcome(false);
        assert_eq!(b.skips_left(), 8, "three misses in a row: 8");
        for _ in 0..10 {
            b.outcome(false);
        }
        assert_eq!(b.skips_left(), 64, "capped at 64");
        b.outcome(true);
        while !b.should_spin() {}
        b.outcome(false);
        assert_eq!(b.skips_left(), 2, "a hit resets the count");
    }

    #[test]
    fn the_environment_sets_the_watch_within_bounds() {
        assert_eq!(spin_us_from(None), DEFAULT_SPIN_US);
        assert_eq!(spin_us_from(Some("0")), 0, "0 turns watching off");
        assert_eq!(spin_us_from(Some(" 20 ")), 20);
        assert_eq!(spin_us_from(Some("99999999")), MAX_SPIN_US);
        assert_eq!(
            spin_us_from(Some("-5")),
            DEFAULT_SPIN_US,
            "not a number: the default"
        );
        assert_eq!(spin_us_from(Some("fast")), DEFAULT_SPIN_US);
    }

    /// Runs a 50 µs watch on a clock that only moves in yields, by `away` per yield, until
    /// `ready` answers true on its `hit_at`-th look (never with 0); answers whether it was
    /// a hit and how many yields it made.
    fn driven_watch(away: Duration, hit_at: u32) -> (bool, u32) {
        let clock = std::cell::Cell::new(Instant::now());
        let (mut looks, mut yields) = (0, 0);
        let hit = watch(
            Duration::from_micros(50),
            1,
            || {
                looks += 1;
                looks == hit_at
            },
            || clock.get(),
            || {
                yields += 1;
                clock.set(clock.get() + away);
            },
        );
        (hit, yields)
    }

    #[test]
    fn time_away_in_yields_does_not_count_but_the_wall_bounds_the_watch() {
        // Every yield runs another thread for 40 µs: the watch outlasts its limit, up to the
        // wall-clock bound (20 x 50 µs = 1 ms: 25 yields of 40 µs).
        assert_eq!(
            driven_watch(Duration::from_micros(40), 0),
            (false, 25),
            "ends at the wall-clock bound"
        );
        // Yields that return at once (1 µs) count: the watch ends after its limit.
        assert_eq!(
            driven_watch(Duration::from_micros(1), 0),
            (false, 50),
            "50 µs of its own time"
        );
        // A thread that comes back after running others still finds what arrived meanwhile:
        // 270 µs of wall time, none of it its own.
        assert_eq!(driven_watch(Duration::from_micros(30), 10), (true, 9));
    }

    #[test]
    fn spin_ends_on_ready_or_after_the_limit() {
        let mut calls = 0;
        assert!(spin_until(Duration::from_secs(5), 1, || {
            calls += 1;
            calls == 3
        }));
        assert_eq!(calls, 3, "stops at the first true");

        let start = Instant::now();
        assert!(!spin_until(Duration::from_millis(2), 32, || false));
        assert!(
            start.elapsed() >= Duration::from_millis(2),
            "watches the whole limit"
        );

        let flag = Arc::new(AtomicBool::new(false));
        let setter = {
            let flag = Arc::clone(&flag);
            std::thread::spawn(move || flag.store(true, Ordering::Release))
        };
        assert!(
            spin_until(Duration::from_secs(10), 32, || flag.load(Ordering::Acquire)),
            "sees another thread's store"
        );
        setter.join().unwrap();
    }
}
