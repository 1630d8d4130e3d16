//! A lock-free single-producer, single-consumer queue of unbounded length: the data path of a
//! pipe direction (see [`super::fast`]).
//!
//! Layer L1. Items live in a linked list of fixed chunks; the producer writes slots at the
//! tail and the consumer moves them out at the head, so neither ever touches a slot the other
//! may be using. The producer groups items into units ([`Producer::commit`], a pipe's complete
//! message) and makes committed units visible with [`Producer::publish`]: one atomic swap of
//! the published count, which also tells it whether the consumer had gone to sleep (the
//! count's top bit, set by [`Consumer::sleep`] with a compare-and-swap from the exact count it
//! consumed). A wake-up is therefore needed exactly once per sleep, as with libzmq's ypipe.
//! Uncommitted items can be dropped again ([`Producer::rollback`]). The consumer hands each
//! chunk it has finished to the producer as a spare, so a steady stream allocates nothing.
#![allow(
    unsafe_code,
    reason = "slots are written by one thread and moved out by another, ordered by the published count"
)]

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use super::Padded;

/// Slots per chunk.
const SLOTS: usize = 128;
/// Finished chunks kept for reuse: a queue that filled up to a HWM's worth (1000 frames by
/// default) and drained refills without allocating, and memory stays bounded by the largest
/// backlog the queue held.
const SPARES: usize = 8;
/// Top bit of the published count: the consumer found nothing more and went to sleep.
const ASLEEP: u64 = 1 << 63;

struct Chunk<T> {
    slots: [UnsafeCell<MaybeUninit<T>>; SLOTS],
    next: AtomicPtr<Chunk<T>>,
}

/// The item slot `pos` of `chunk`.
///
/// # Safety
/// `chunk` must point to a live chunk and `pos` be below [`SLOTS`].
unsafe fn slot<T>(chunk: *mut Chunk<T>, pos: usize) -> *mut T {
    // SAFETY: the caller guarantees the chunk is alive.
    let chunk = unsafe { &*chunk };
    chunk.slots[pos].get().cast::<T>()
}

/// The chunk linked after `chunk` (null if none yet).
///
/// # Safety
/// `chunk` must point to a live chunk.
unsafe fn next_of<T>(chunk: *mut Chunk<T>, order: Ordering) -> *mut Chunk<T> {
    // SAFETY: the caller guarantees the chunk is alive.
    unsafe { &*chunk }.next.load(order)
}

impl<T> Chunk<T> {
    fn alloc() -> *mut Chunk<T> {
        Box::into_raw(Box::new(Chunk {
            slots: std::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
            next: AtomicPtr::new(std::ptr::null_mut()),
        }))
    }
}

/// A position in the list: how many items lie before it, and the chunk that holds the last
/// of them (the first chunk while there are none). The chunk changes only when the next item
/// needs a new one, so the slot after the cursor is `pos()` in `chunk`, or slot 0 of the next
/// chunk when `pos()` is [`SLOTS`]. The slot is derived from the count rather than stored, so
/// that the producer's commit copies two words it stored as two words: a wider copy of
/// narrower recent stores stalls store forwarding, once per message.
struct Cursor<T> {
    chunk: *mut Chunk<T>,
    count: u64,
}

impl<T> Cursor<T> {
    /// Items before the cursor in its chunk: 0 only at the very start, else 1..=SLOTS.
    fn pos(&self) -> usize {
        let before_chunk = self.count.saturating_sub(1) / SLOTS as u64 * SLOTS as u64;
        (self.count - before_chunk) as usize
    }
}

impl<T> Clone for Cursor<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Cursor<T> {}

/// The two sides' positions and the published count each have cache lines of their own: the
/// producer writes `tail` and `mark` at every push, the consumer `head` at every pop.
struct Inner<T> {
    /// Items published, with [`ASLEEP`].
    published: Padded<AtomicU64>,
    /// Finished chunks the consumer left for the producer to reuse (only the consumer stores
    /// a chunk into an empty place, only the producer takes one out).
    spares: [AtomicPtr<Chunk<T>>; SPARES],
    /// The consumer's position (only the [`Consumer`] touches it, and `drop`).
    head: Padded<UnsafeCell<Cursor<T>>>,
    /// The producer's position, one past the last item pushed, and one past the last
    /// committed item (only the [`Producer`]).
    ends: Padded<Ends<T>>,
}

/// The producer's positions.
struct Ends<T> {
    tail: UnsafeCell<Cursor<T>>,
    mark: UnsafeCell<Cursor<T>>,
}

// SAFETY: `head` is reached only through the one `Consumer` (by `&mut`), `tail` and `mark`
// only through the one `Producer`, and slots are handed from one to the other through the
// published count with release/acquire ordering; items cross threads, hence T: Send.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        let head = *self.head.0.get_mut();
        let tail = *self.ends.0.tail.get_mut();
        let mut chunk = head.chunk;
        let mut pos = head.pos();
        for _ in head.count..tail.count {
            if pos == SLOTS {
                // SAFETY: every chunk from head on is alive until freed below; a chunk with
                // items after it is linked.
                chunk = unsafe { next_of(chunk, Ordering::Relaxed) };
                pos = 0;
            }
            // SAFETY: the chunk is alive (as above) and pos < SLOTS.
            let item = unsafe { slot(chunk, pos) };
            // SAFETY: slots between head and tail hold items nobody moved out; `&mut self`
            // means no other thread can reach them.
            unsafe { std::ptr::drop_in_place(item) };
            pos += 1;
        }
        let mut chunk = head.chunk;
        while !chunk.is_null() {
            // SAFETY: chunks from head on were made by `Chunk::alloc` and are freed once,
            // here; their items are gone (dropped above or moved out).
            let boxed = unsafe { Box::from_raw(chunk) };
            chunk = boxed.next.load(Ordering::Relaxed);
        }
        for spare in &mut self.spares {
            let spare = *spare.get_mut();
            if !spare.is_null() {
                // SAFETY: a spare is a chunk from `Chunk::alloc` that no cursor points into.
                drop(unsafe { Box::from_raw(spare) });
            }
        }
    }
}

/// The writing half.
pub(crate) struct Producer<T> {
    inner: Arc<Inner<T>>,
    /// What the last [`Producer::publish`] made visible.
    published: u64,
}

/// The reading half.
pub(crate) struct Consumer<T> {
    inner: Arc<Inner<T>>,
    /// Published items not yet moved out, as of the last look at the published count.
    known: u64,
}

/// A new empty queue; its consumer starts asleep (the first publish reports a wake-up).
pub(crate) fn channel<T>() -> (Producer<T>, Consumer<T>) {
    let start = Cursor {
        chunk: Chunk::alloc(),
        count: 0,
    };
    let inner = Arc::new(Inner {
        published: Padded(AtomicU64::new(ASLEEP)),
        spares: Default::default(),
        head: Padded(UnsafeCell::new(start)),
        ends: Padded(Ends {
            tail: UnsafeCell::new(start),
            mark: UnsafeCell::new(start),
        }),
    });
    (
        Producer {
            inner: Arc::clone(&inner),
            published: 0,
        },
        Consumer { inner, known: 0 },
    )
}

impl<T> Producer<T> {
    /// Appends `item` after everything pushed so far (visible once committed and published).
    pub(crate) fn push(&mut self, item: T) {
        // SAFETY: only this producer touches `tail`, and `&mut self` makes this exclusive.
        let tail = unsafe { &mut *self.inner.ends.tail.get() };
        let mut pos = tail.pos();
        if pos == SLOTS {
            // SAFETY: the tail chunk is alive (the consumer frees a chunk only after moving
            // past it, which needs a published item beyond it).
            let chunk = unsafe { &*tail.chunk };
            let mut next = chunk.next.load(Ordering::Relaxed);
            if next.is_null() {
                next = self.fresh_chunk();
                chunk.next.store(next, Ordering::Release);
            }
            tail.chunk = next;
            pos = 0;
        }
        // SAFETY: the tail chunk is alive and pos < SLOTS.
        let place = unsafe { slot(tail.chunk, pos) };
        // SAFETY: the slot at the tail is free (never written, or moved out or dropped by a
        // rollback) and the consumer reads it only after it is published.
        unsafe { place.write(item) };
        tail.count += 1;
    }

    /// A spare chunk the consumer left, emptied, or a new one.
    fn fresh_chunk(&self) -> *mut Chunk<T> {
        for place in &self.inner.spares {
            if place.load(Ordering::Relaxed).is_null() {
                continue;
            }
            let spare = place.swap(std::ptr::null_mut(), Ordering::Acquire);
            if !spare.is_null() {
                // SAFETY: the consumer gave this chunk up (taken with acquire above) and no
                // cursor points into it.
                unsafe { &*spare }
                    .next
                    .store(std::ptr::null_mut(), Ordering::Relaxed);
                return spare;
            }
        }
        Chunk::alloc()
    }

    /// Marks everything pushed so far as committed: [`Producer::publish`] may show it and
    /// [`Producer::rollback`] keeps it.
    pub(crate) fn commit(&mut self) {
        // SAFETY: only this producer touches `tail` and `mark`.
        let tail = unsafe { &*self.inner.ends.tail.get() };
        // SAFETY: as above.
        let mark = unsafe { &mut *self.inner.ends.mark.get() };
        mark.count = tail.count;
        if mark.chunk != tail.chunk {
            mark.chunk = tail.chunk;
        }
    }

    /// Items pushed and not committed.
    #[cfg(test)]
    pub(crate) fn uncommitted(&self) -> u64 {
        // SAFETY: only this producer touches `tail` and `mark`.
        let tail = unsafe { (*self.inner.ends.tail.get()).count };
        // SAFETY: as above.
        let mark = unsafe { (*self.inner.ends.mark.get()).count };
        tail - mark
    }

    /// Drops the items pushed since the last commit.
    pub(crate) fn rollback(&mut self) {
        // SAFETY: only this producer touches `tail` and `mark`.
        let mark = unsafe { *self.inner.ends.mark.get() };
        // SAFETY: as above.
        let tail = unsafe { *self.inner.ends.tail.get() };
        let mut chunk = mark.chunk;
        let mut pos = mark.pos();
        for _ in mark.count..tail.count {
            if pos == SLOTS {
                // SAFETY: an item lies past this chunk, so the producer linked the next one;
                // the consumer never frees chunks holding unpublished items.
                chunk = unsafe { next_of(chunk, Ordering::Relaxed) };
                pos = 0;
            }
            // SAFETY: the chunk is alive (as above) and pos < SLOTS.
            let item = unsafe { slot(chunk, pos) };
            // SAFETY: slots between mark and tail hold items this producer wrote and never
            // published, so the consumer cannot have moved them out.
            unsafe { std::ptr::drop_in_place(item) };
            pos += 1;
        }
        // SAFETY: only this producer touches `tail`. Chunks already linked past the mark stay
        // linked and are reused by later pushes.
        unsafe { *self.inner.ends.tail.get() = mark };
    }

    /// Makes every committed item visible to the consumer; true if the consumer was asleep
    /// and must be woken (once per sleep).
    pub(crate) fn publish(&mut self) -> bool {
        // SAFETY: only this producer touches `mark`.
        let upto = unsafe { (*self.inner.ends.mark.get()).count };
        if upto == self.published {
            return false;
        }
        self.published = upto;
        self.inner.published.swap(upto, Ordering::AcqRel) & ASLEEP != 0
    }
}

impl<T> Consumer<T> {
    /// Moves out the next published item.
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.known == 0 && !self.look() {
            return None;
        }
        // SAFETY: only this consumer touches `head`; `&mut self` makes this exclusive.
        let head = unsafe { &mut *self.inner.head.get() };
        let mut pos = head.pos();
        if pos == SLOTS {
            // SAFETY: the head chunk is alive (only this consumer frees chunks). An item is
            // published past it, so the producer linked the next chunk before publishing, and
            // the acquire load of the published count in `look` made the link visible.
            let next = unsafe { next_of(head.chunk, Ordering::Acquire) };
            if next.is_null() {
                return None;
            }
            let done = std::mem::replace(&mut head.chunk, next);
            pos = 0;
            self.give_back(done);
        }
        // SAFETY: the head chunk is alive (only this consumer frees chunks) and pos < SLOTS.
        let place = unsafe { slot(head.chunk, pos) };
        // SAFETY: the slot is published (count checked above, ordered by acquire) and not yet
        // moved out; the producer does not touch published slots.
        let item = unsafe { place.read() };
        head.count += 1;
        self.known -= 1;
        Some(item)
    }

    /// Offers a finished chunk to the producer, or frees it when every spare place is taken.
    fn give_back(&self, chunk: *mut Chunk<T>) {
        for place in &self.inner.spares {
            // Only this consumer fills places, so one found empty stays empty until it does.
            if place.load(Ordering::Relaxed).is_null() {
                place.store(chunk, Ordering::Release);
                return;
            }
        }
        // SAFETY: the chunk came from `Chunk::alloc`, the consumer has moved out all its items
        // and moved past it, and no other cursor points into it.
        drop(unsafe { Box::from_raw(chunk) });
    }

    /// Reloads the published count; true if items are waiting.
    fn look(&mut self) -> bool {
        let published = self.inner.published.load(Ordering::Acquire) & !ASLEEP;
        self.known = published - self.consumed();
        self.known > 0
    }

    /// Items moved out so far.
    fn consumed(&self) -> u64 {
        // SAFETY: only this consumer touches `head`.
        unsafe { (*self.inner.head.get()).count }
    }

    /// True if an item can be popped now.
    pub(crate) fn has_items(&mut self) -> bool {
        self.known > 0 || self.look()
    }

    /// Goes to sleep if nothing more is published: true then (the producer's next publish
    /// reports a wake-up); false if items arrived and can be popped.
    pub(crate) fn sleep(&mut self) -> bool {
        if self.has_items() {
            return false;
        }
        let seen = self.consumed();
        match self.inner.published.compare_exchange(
            seen,
            seen | ASLEEP,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => true,
            Err(now) => now == seen | ASLEEP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_become_visible_only_when_committed_and_published() {
        let (mut p, mut c) = channel::<u32>();
        p.push(1);
        assert!(!p.publish(), "nothing committed yet");
        assert_eq!(c.pop(), None);
        p.commit();
        assert!(p.publish(), "the consumer starts asleep");
        p.push(2);
        p.commit();
        assert!(!p.publish(), "no sleep since the last wake-up");
        assert_eq!((c.pop(), c.pop(), c.pop()), (Some(1), Some(2), None));
    }

    #[test]
    fn sleep_fails_while_items_wait_and_a_publish_wakes_once() {
        let (mut p, mut c) = channel::<u32>();
        p.push(1);
        p.commit();
        p.publish();
        assert!(!c.sleep(), "an item waits");
        assert_eq!(c.pop(), Some(1));
        assert!(c.sleep());
        assert!(c.sleep(), "asleep stays asleep");
        p.push(2);
        p.commit();
        assert!(p.publish());
        p.push(3);
        p.commit();
        assert!(!p.publish());
        assert_eq!((c.pop(), c.pop()), (Some(2), Some(3)));
    }

    #[test]
    fn rollback_drops_uncommitted_items_across_chunks_and_reuses_the_links() {
        let counter = Arc::new(());
        let (mut p, mut c) = channel::<(u32, Arc<()>)>();
        for round in 0..3u32 {
            for i in 0..(SLOTS as u32 * 2 + 7) {
                p.push((i, Arc::clone(&counter)));
            }
            assert_eq!(p.uncommitted(), SLOTS as u64 * 2 + 7);
            p.rollback();
            assert_eq!(p.uncommitted(), 0);
            p.push((round, Arc::clone(&counter)));
            p.commit();
            p.publish();
        }
        assert_eq!(
            Arc::strong_count(&counter),
            4,
            "only the committed items live"
        );
        for round in 0..3 {
            assert_eq!(c.pop().map(|(v, _)| v), Some(round));
        }
        assert_eq!(c.pop().map(|(v, _)| v), None);
        assert_eq!(Arc::strong_count(&counter), 1);
    }

    #[test]
    fn dropping_the_queue_drops_what_is_left() {
        let counter = Arc::new(());
        let (mut p, mut c) = channel::<Arc<()>>();
        for _ in 0..(SLOTS * 3) {
            p.push(Arc::clone(&counter));
        }
        p.commit();
        p.publish();
        for _ in 0..(SLOTS + 5) {
            c.pop();
        }
        p.push(Arc::clone(&counter));
        drop((p, c));
        assert_eq!(Arc::strong_count(&counter), 1);
    }

    #[test]
    fn two_threads_pass_every_item_in_order_with_sleeps_and_wakes() {
        const N: u64 = 300_000;
        let (mut p, mut c) = channel::<u64>();
        let woken = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let flag = Arc::clone(&woken);
        let producer = std::thread::spawn(move || {
            let mut next = 0u64;
            let mut wakes = 0u64;
            while next < N {
                // Units of 1-3 items; every seventh unit is pushed twice, the first time
                // rolled back.
                let unit = 1 + next % 3;
                if next.is_multiple_of(7) {
                    for i in 0..unit {
                        p.push(u64::MAX - i);
                    }
                    p.rollback();
                }
                for _ in 0..unit.min(N - next) {
                    p.push(next);
                    next += 1;
                }
                p.commit();
                if p.publish() {
                    wakes += 1;
                    flag.fetch_add(1, Ordering::Release);
                }
            }
            wakes
        });
        let mut expect = 0u64;
        let mut sleeps = 0u64;
        while expect < N {
            match c.pop() {
                Some(v) => {
                    assert_eq!(v, expect);
                    expect += 1;
                }
                None => {
                    // The consumer starts asleep; later sleeps are new ones.
                    let was_asleep = c.inner.published.load(Ordering::Acquire) & ASLEEP != 0;
                    if c.sleep() {
                        sleeps += u64::from(!was_asleep);
                        // Wait for the wake-up this sleep is owed (the first publish wakes
                        // the initial sleep).
                        while woken.load(Ordering::Acquire) < sleeps + 1 {
                            std::thread::yield_now();
                        }
                    }
                }
            }
        }
        let wakes = producer.join().unwrap();
        assert_eq!(
            wakes,
            sleeps + 1,
            "one wake-up per sleep, the initial one included"
        );
        assert_eq!(c.pop(), None);
    }
}
