//! A set of repeating timers with libzmq's `zmq_timers` semantics; time is a parameter.
//!
//! Layer L0. Every method takes `now`, milliseconds on a monotonic clock the caller reads, so
//! the whole behaviour is testable without sleeping. Not thread-safe on its own (the C API
//! wraps it in a lock); nothing here blocks.
//!
//! Semantics, following libzmq 4.3:
//! - ids start at 1 and increase; a timer repeats every `interval` ms until cancelled;
//! - `cancel` only marks a timer: it is dropped lazily by [`Timers::timeout`] or by
//!   [`Timers::next_due`], and cancelling it again fails with `EINVAL` meanwhile;
//! - `set_interval` and `reset` restart the timer from `now`;
//! - one `execute` pass (a [`Timers::begin_pass`] and `next_due` until `None`) fires each timer
//!   that is due at most once, in deadline order (ties in arming order), and re-arms it at
//!   `now + interval` *before* its handler runs, so a handler may add, cancel or reset any
//!   timer, including its own. Unlike libzmq, a timer with interval 0 fires once per pass
//!   instead of looping forever.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashSet};

use crate::error::{Error, Result};

/// The ordering key of an armed timer: its deadline, then an arming sequence number, so that
/// timers with the same deadline keep the order in which they were armed.
type Key = (u64, u64);

/// One armed timer.
#[derive(Debug, Clone, Copy)]
struct Timer<H> {
    id: i32,
    interval: u64,
    handler: H,
}

/// The deadline of an `interval` started at `now`, saturating instead of wrapping.
fn deadline(now: u64, interval: u64) -> u64 {
    now.saturating_add(interval)
}

/// A set of timers carrying handlers of type `H` (copied out when a timer fires).
#[derive(Debug)]
pub(crate) struct Timers<H> {
    armed: BTreeMap<Key, Timer<H>>,
    cancelled: HashSet<i32>,
    last_id: i32,
    next_seq: u64,
    /// Timers armed with a sequence number at or above this are not fired by the current pass.
    pass_limit: u64,
}

impl<H: Copy> Default for Timers<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Copy> Timers<H> {
    /// An empty set.
    pub(crate) fn new() -> Self {
        Timers {
            armed: BTreeMap::new(),
            cancelled: HashSet::new(),
            last_id: 0,
            next_seq: 0,
            pass_limit: 0,
        }
    }

    fn arm(&mut self, when: u64, timer: Timer<H>) {
        self.armed.insert((when, self.next_seq), timer);
        self.next_seq += 1;
    }

    fn find(&self, id: i32) -> Option<Key> {
        self.armed
            .iter()
            .find(|(_, t)| t.id == id)
            .map(|(key, _)| *key)
    }

    /// Adds a timer firing every `interval` ms from `now`; returns its id (1, 2, ...).
    pub(crate) fn add(&mut self, now: u64, interval: u64, handler: H) -> i32 {
        self.last_id = self.last_id.wrapping_add(1);
        let timer = Timer {
            id: self.last_id,
            interval,
            handler,
        };
        self.arm(deadline(now, interval), timer);
        self.last_id
    }

    /// Cancels timer `id`. `EINVAL` if no such timer exists or it is already cancelled.
    pub(crate) fn cancel(&mut self, id: i32) -> Result<()> {
        if self.find(id).is_none() || !self.cancelled.insert(id) {
            return Err(Error::Invalid);
        }
        Ok(())
    }

    /// Restarts timer `id` from `now`, with `interval` if given, else its current interval.
    /// `EINVAL` if no such timer exists.
    fn rearm(&mut self, now: u64, id: i32, interval: Option<u64>) -> Result<()> {
        let key = self.find(id).ok_or(Error::Invalid)?;
        let mut timer = self.armed.remove(&key).ok_or(Error::Invalid)?;
        if let Some(interval) = interval {
            timer.interval = interval;
        }
        self.arm(deadline(now, timer.interval), timer);
        Ok(())
    }

    /// Sets timer `id`'s interval and restarts it from `now`. `EINVAL` for an unknown id.
    pub(crate) fn set_interval(&mut self, now: u64, id: i32, interval: u64) -> Result<()> {
        self.rearm(now, id, Some(interval))
    }

    /// Restarts timer `id`'s current interval from `now`. `EINVAL` for an unknown id.
    pub(crate) fn reset(&mut self, now: u64, id: i32) -> Result<()> {
        self.rearm(now, id, None)
    }

    /// Drops cancelled timers from the front; returns the first live one's key.
    fn first_live(&mut self) -> Option<Key> {
        while let Some((&key, timer)) = self.armed.first_key_value() {
            if !self.cancelled.remove(&timer.id) {
                return Some(key);
            }
            self.armed.remove(&key);
        }
        None
    }

    /// Milliseconds from `now` until the next live timer is due (0 if one is overdue), or
    /// `None` when no live timer is left.
    pub(crate) fn timeout(&mut self, now: u64) -> Option<u64> {
        self.first_live().map(|(when, _)| when.saturating_sub(now))
    }

    /// Starts an execute pass: only timers armed before this call can fire in it.
    pub(crate) fn begin_pass(&mut self) {
        self.pass_limit = self.next_seq;
    }

    /// The next timer of the current pass that is due at `now`: re-arms it at
    /// `now + interval` and returns its id and handler for the caller to run. `None` ends the
    /// pass. Call with the same `now` throughout a pass.
    pub(crate) fn next_due(&mut self, now: u64) -> Option<(i32, H)> {
        let key = self.first_live()?;
        let (when, seq) = key;
        // Timers armed during the pass sort after every due timer of the pass: they were armed
        // at a deadline >= now with a larger sequence number.
        if when > now || seq >= self.pass_limit {
            return None;
        }
        let timer = self.armed.remove(&key)?;
        self.arm(deadline(now, timer.interval), timer);
        Some((timer.id, timer.handler))
    }

    /// Runs one execute pass at `now`, calling `fire(self, id, handler)` for each due timer;
    /// `fire` may change the set. The C API does the same loop without holding a borrow.
    #[cfg(test)]
    fn execute(&mut self, now: u64, mut fire: impl FnMut(&mut Self, i32, H)) {
        self.begin_pass();
        while let Some((id, handler)) = self.next_due(now) {
            fire(self, id, handler);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(timers: &mut Timers<char>, now: u64) -> Vec<(i32, char)> {
        let mut out = Vec::new();
        timers.execute(now, |_, id, h| out.push((id, h)));
        out
    }

    #[test]
    fn empty_set_has_no_timeout() {
        let mut t = Timers::<char>::new();
        assert_eq!(t.timeout(0), None);
        assert!(fired(&mut t, 100).is_empty());
    }

    #[test]
    fn ids_start_at_one_and_increase() {
        let mut t = Timers::new();
        assert_eq!(t.add(0, 10, 'a'), 1);
        assert_eq!(t.add(0, 10, 'b'), 2);
    }

    #[test]
    fn timer_fires_when_due_and_repeats() {
        let mut t = Timers::new();
        let id = t.add(1000, 100, 'a');
        assert_eq!(t.timeout(1000), Some(100));
        assert_eq!(t.timeout(1040), Some(60));
        assert!(fired(&mut t, 1099).is_empty());
        assert_eq!(fired(&mut t, 1100), [(id, 'a')]);
        assert_eq!(t.timeout(1100), Some(100));
        // Late execution re-arms from the execution time, once.
        assert_eq!(fired(&mut t, 1450), [(id, 'a')]);
        assert_eq!(t.timeout(1450), Some(100));
    }

    #[test]
    fn overdue_timer_has_zero_timeout() {
        let mut t = Timers::new();
        t.add(0, 10, 'a');
        assert_eq!(t.timeout(50), Some(0));
    }

    #[test]
    fn due_timers_fire_in_deadline_order_then_arming_order() {
        let mut t = Timers::new();
        let a = t.add(0, 20, 'a');
        let b = t.add(0, 10, 'b');
        let c = t.add(0, 10, 'c');
        assert_eq!(fired(&mut t, 20), [(b, 'b'), (c, 'c'), (a, 'a')]);
    }

    #[test]
    fn cancel_stops_a_timer_and_twice_is_einval() {
        let mut t = Timers::new();
        let id = t.add(0, 10, 'a');
        assert_eq!(t.cancel(id), Ok(()));
        assert_eq!(t.cancel(id), Err(Error::Invalid));
        assert!(fired(&mut t, 10).is_empty());
        assert_eq!(t.timeout(10), None);
        assert_eq!(t.cancel(id), Err(Error::Invalid));
    }

    #[test]
    fn unknown_ids_are_einval() {
        let mut t = Timers::<char>::new();
        assert_eq!(t.cancel(7), Err(Error::Invalid));
        assert_eq!(t.reset(0, 7), Err(Error::Invalid));
        assert_eq!(t.set_interval(0, 7, 5), Err(Error::Invalid));
    }

    #[test]
    fn reset_restarts_from_now() {
        let mut t = Timers::new();
        let id = t.add(0, 100, 'a');
        t.reset(60, id).unwrap();
        assert_eq!(t.timeout(60), Some(100));
        assert!(fired(&mut t, 100).is_empty());
        assert_eq!(fired(&mut t, 160), [(id, 'a')]);
    }

    #[test]
    fn set_interval_restarts_with_the_new_interval() {
        let mut t = Timers::new();
        let id = t.add(0, 100, 'a');
        t.set_interval(10, id, 500).unwrap();
        assert_eq!(t.timeout(10), Some(500));
        assert_eq!(fired(&mut t, 510), [(id, 'a')]);
        assert_eq!(t.timeout(510), Some(500));
    }

    #[test]
    fn quirk_cancelled_timer_can_still_be_reset_until_purged() {
        // libzmq marks cancelled timers and drops them lazily; reset still finds them.
        let mut t = Timers::new();
        let id = t.add(0, 10, 'a');
        t.cancel(id).unwrap();
        assert_eq!(t.reset(0, id), Ok(()));
        assert_eq!(t.timeout(0), None);
        assert_eq!(t.reset(0, id), Err(Error::Invalid));
    }

    #[test]
    fn handler_may_cancel_a_later_due_timer() {
        let mut t = Timers::new();
        let a = t.add(0, 10, 'a');
        let b = t.add(0, 10, 'b');
        let mut seen = Vec::new();
        t.execute(10, |t, id, h| {
            seen.push(h);
            if id == a {
                t.cancel(b).unwrap();
            }
        });
        assert_eq!(seen, ['a']);
        assert_eq!(fired(&mut t, 20), [(a, 'a')]);
    }

    #[test]
    fn handler_may_cancel_its_own_timer() {
        let mut t = Timers::new();
        t.add(0, 10, 'a');
        t.execute(10, |t, id, _| t.cancel(id).unwrap());
        assert_eq!(t.timeout(10), None);
        assert!(fired(&mut t, 100).is_empty());
    }

    #[test]
    fn handler_may_reset_or_add_without_firing_them_in_the_same_pass() {
        let mut t = Timers::new();
        let a = t.add(0, 10, 'a');
        let mut seen = Vec::new();
        t.execute(10, |t, id, h| {
            seen.push(h);
            t.reset(10, id).unwrap();
            t.add(10, 0, 'z');
        });
        assert_eq!(seen, ['a']);
        assert_eq!(fired(&mut t, 20), [(2, 'z'), (a, 'a')]);
    }

    #[test]
    fn zero_interval_fires_once_per_pass() {
        let mut t = Timers::new();
        let id = t.add(0, 0, 'a');
        assert_eq!(t.timeout(0), Some(0));
        assert_eq!(fired(&mut t, 0), [(id, 'a')]);
        assert_eq!(fired(&mut t, 0), [(id, 'a')]);
    }

    #[test]
    fn huge_interval_saturates_instead_of_wrapping() {
        let mut t = Timers::new();
        t.add(5, u64::MAX, 'a');
        assert!(fired(&mut t, 1_000_000).is_empty());
        assert_eq!(t.timeout(5), Some(u64::MAX - 5));
    }
}
