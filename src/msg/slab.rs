//! Small frame buffers carved from per-thread chunks, so that a frame made on one thread and
//! dropped on another costs no `malloc`/`free` pair (the pair alone caps a producer/consumer
//! thread pair near libzmq's inproc rate).
//!
//! Layer L0. Each thread that makes frames owns one open [`CHUNK_SIZE`] chunk and hands out
//! disjoint slots from it front to back. A chunk's reference count starts at a large bias, so
//! handing out a slot touches no shared memory; when the thread moves on to a new chunk it
//! subtracts the bias less the number of slots it handed out ("sealing"); copies the writer
//! makes of a slot in its open chunk (a publisher's copy per subscriber) count as slots handed
//! out. Dropping a slot (or a copy of it) subtracts one; whoever brings the count to zero frees
//! the chunk. The writer never contends with readers on the count, and readers touch it once
//! per frame.
//!
//! The price: a chunk lives while any of its frames does, so a program that keeps one small
//! frame alive pins up to [`CHUNK_SIZE`] bytes (libzmq's zero-copy receive buffers pin theirs
//! the same way).
//!
//! Larger frames (up to [`POOL_MAX`]) get a chunk of their own, sized to a power of two. When
//! the last reference to a chunk (of either kind) drops, it goes back to a process-wide pool of
//! free chunks per size instead of to `free`: a sender and a receiver on two threads then keep
//! trading the same few buffers, without glibc's arena lock and page faults per frame. The
//! pool holds at most [`POOL_BYTES`] in all. Each thread also keeps a magazine of free chunks
//! per size for itself ([`MAGAZINE_BYTES`] worth, but at least four chunks up to 1 MiB and two
//! above: at most 8 MiB of the largest size) and trades half a magazine at a time with the
//! pool, so the pool's lock is taken once per several frames, not twice per frame.
//!
//! A chunk's content is unspecified until the caller fills it, as with libzmq's
//! `zmq_msg_init_size` (an earlier frame's bytes, or what the allocator gave): clearing them
//! would cost more than sending them, and untouched pages of a large fresh allocation never
//! become resident.
#![allow(
    unsafe_code,
    reason = "hands out disjoint slots of one raw allocation, freed by a shared count"
)]

use std::alloc::{Layout, alloc, dealloc};
use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

use parking_lot::Mutex;

/// Bytes of slots in one chunk (its header comes on top).
const CHUNK_SIZE: usize = 16 * 1024;
/// The header (the reference count) has a cache line to itself.
const HEADER: usize = 64;
/// Frames up to this size come from a chunk; larger ones are allocated on their own.
pub(crate) const SLAB_MAX: usize = 1024;
/// Slots start on this boundary (keeps neighbouring slots apart and pointers aligned).
const SLOT_ALIGN: usize = 16;
/// The count a chunk starts with: more than it can ever hand out.
const BIAS: usize = 1 << (usize::BITS - 2);

/// The smallest and largest pooled chunk capacities (powers of two).
const POOL_MIN: usize = 2 * 1024;
/// Frames above this size are allocated on their own and freed, not pooled.
pub(crate) const POOL_MAX: usize = 4 * 1024 * 1024;
/// Free chunks the pool may hold, in bytes over all sizes.
const POOL_BYTES: usize = 64 * 1024 * 1024;
/// Free chunks the pool may hold of any one size, in bytes: enough for a pipe's worth of
/// 2 KiB frames, hundreds of 64 KiB ones, and the bursts of 1 MiB ones a sender refills its
/// queue with after a wake-up (`pipe::DirectionConfig::wake_bytes`). Those bursts vary with
/// scheduling: with 8 or 16 MiB a 1 MiB stream still allocated fresh (and faulted in) 12-25 %
/// of its buffers, with 32 MiB about 1 %.
const POOL_PER_CLASS_BYTES: usize = 32 * 1024 * 1024;
const POOL_CLASSES: usize = (POOL_MAX.trailing_zeros() - POOL_MIN.trailing_zeros() + 1) as usize;
/// Free chunks a thread keeps for itself per size, in bytes (see [`Magazines`]).
const MAGAZINE_BYTES: usize = 512 * 1024;

const _: () = assert!(SLAB_MAX <= CHUNK_SIZE && CHUNK_SIZE.is_power_of_two());
const _: () = assert!(SLAB_MAX < POOL_MIN);

/// The allocation of a chunk with `capacity` bytes of slots: the header has a cache line of
/// its own.
fn chunk_layout(capacity: usize) -> Option<Layout> {
    Layout::from_size_align(HEADER.checked_add(capacity)?, HEADER).ok()
}

/// The start of a chunk: its reference count and how many bytes of slots follow the header.
struct Header {
    refs: AtomicUsize,
    capacity: usize,
}

/// A chunk's address; the header lives at its start.
#[derive(Clone, Copy)]
struct Chunk(NonNull<Header>);

// SAFETY: a chunk is plain memory; who may touch which part is governed by the count.
unsafe impl Send for Chunk {}

impl Chunk {
    /// A fresh chunk with `capacity` bytes of slots (uninitialised) and `refs` references.
    fn new(capacity: usize, refs: usize) -> Option<Chunk> {
        let layout = chunk_layout(capacity)?;
        // SAFETY: the layout has a non-zero size (the header).
        let raw = unsafe { alloc(layout) };
        let ptr = NonNull::new(raw)?.cast::<Header>();
        // SAFETY: ptr is a fresh allocation aligned for Header and large enough for it.
        unsafe {
            ptr.as_ptr().write(Header {
                refs: AtomicUsize::new(refs),
                capacity,
            })
        };
        Some(Chunk(ptr))
    }

    fn header(&self) -> &Header {
        // SAFETY: the header is initialised at creation and lives until the chunk is freed,
        // which happens only once nobody holds a reference.
        unsafe { self.0.as_ref() }
    }

    fn refs(&self) -> &AtomicUsize {
        &self.header().refs
    }

    /// Drops `n` references; when they were the last, the chunk goes to the pool or is freed.
    fn release(self, n: usize) {
        if self.refs().fetch_sub(n, Ordering::Release) == n {
            fence(Ordering::Acquire);
            let capacity = self.header().capacity;
            if let Some(chunk) = pool_put(self, capacity)
                && let Some(layout) = chunk_layout(capacity)
            {
                // SAFETY: the count reached zero, so nobody refers to the chunk any more, and
                // it was allocated with this layout.
                unsafe { dealloc(chunk.0.as_ptr().cast(), layout) };
            }
        }
    }

    fn slot(&self, offset: usize) -> NonNull<u8> {
        // SAFETY: callers pass offsets within HEADER + capacity, inside the allocation.
        unsafe { self.0.cast::<u8>().add(offset) }
    }
}

/// The chunk a thread is handing out slots from.
struct OpenChunk {
    chunk: Chunk,
    used: usize,
    handed: usize,
}

impl OpenChunk {
    fn seal(&self) {
        self.chunk.release(BIAS - self.handed);
    }
}

/// This thread's open chunk, sealed when the thread ends.
#[derive(Default)]
struct Writer(Option<OpenChunk>);

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(open) = self.0.take() {
            open.seal();
        }
    }
}

thread_local! {
    static WRITER: RefCell<Writer> = RefCell::new(Writer::default());
}

/// A frame's bytes in a slot of a chunk. Copies share the slot.
///
/// Two words, so that it (and `Option` of it) comes back from a call in two registers: as
/// three fields it came back through memory, written with narrow stores and reloaded wide by
/// the caller, which the CPU cannot forward (a stall in every `zmq_msg_init_size`).
pub(crate) struct SlabBuf {
    chunk: Chunk,
    /// The slot's offset from the chunk's start in the low 32 bits, the frame's length in the
    /// high 32 (chunks hold at most [`POOL_MAX`] bytes).
    span: u64,
}

/// `SlabBuf::span` for a slot at `offset` holding `len` bytes (both below 2^32).
fn span(offset: usize, len: usize) -> u64 {
    debug_assert!(offset <= u32::MAX as usize && len <= u32::MAX as usize);
    offset as u64 | (len as u64) << 32
}

const _: () = assert!(HEADER + POOL_MAX <= u32::MAX as usize);
const _: () = assert!(std::mem::size_of::<Option<SlabBuf>>() == 16);

// SAFETY: the slot is owned by the SlabBuf (and its copies); the chunk count is atomic, and the
// chunk is freed by whichever thread drops the last reference.
unsafe impl Send for SlabBuf {}
// SAFETY: shared references only read the slot.
unsafe impl Sync for SlabBuf {}

impl SlabBuf {
    /// A zeroed slot of `len` bytes (at most [`SLAB_MAX`]); `None` when the thread is ending
    /// or memory is short, and the caller allocates on its own.
    pub(crate) fn zeroed(len: usize) -> Option<SlabBuf> {
        let buf = SlabBuf::unwritten(len)?;
        // SAFETY: the slot is len bytes inside the chunk, handed out to nobody else.
        unsafe { buf.as_mut_ptr().write_bytes(0, len) };
        Some(buf)
    }

    /// A fresh slot of `len` bytes (at most [`SLAB_MAX`]) whose content is whatever the chunk
    /// held: the caller writes all of it, through the pointer, before anything reads it.
    fn unwritten(len: usize) -> Option<SlabBuf> {
        if len > SLAB_MAX {
            return None;
        }
        WRITER
            .try_with(|w| {
                w.try_borrow_mut()
                    .ok()
                    .and_then(|mut w| take_slot(&mut w, len))
            })
            .ok()
            .flatten()
    }

    /// A slot holding a copy of `data` (at most [`SLAB_MAX`] bytes), written once (not
    /// cleared first).
    pub(crate) fn copy_of(data: &[u8]) -> Option<SlabBuf> {
        let buf = SlabBuf::unwritten(data.len())?;
        // SAFETY: the slot is data.len() bytes, fresh, and cannot overlap `data`, which is
        // borrowed from elsewhere; the copy writes all of it before the slot is returned.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), buf.as_mut_ptr(), data.len());
        }
        Some(buf)
    }

    /// The frame's bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: the slot at `span`'s offset holds len initialised bytes inside the chunk,
        // kept alive by our reference.
        unsafe { std::slice::from_raw_parts(self.as_mut_ptr(), self.len()) }
    }

    /// The slot's address, for `zmq_msg_data` (see `msg`'s module doc on writes).
    pub(crate) fn as_mut_ptr(&self) -> *mut u8 {
        self.chunk.slot(self.span as u32 as usize).as_ptr()
    }

    /// Content length.
    pub(crate) fn len(&self) -> usize {
        (self.span >> 32) as usize
    }
}

/// Hands out the next slot of this thread's chunk, opening a new chunk when it is full.
fn take_slot(w: &mut Writer, len: usize) -> Option<SlabBuf> {
    let step = len.max(1).next_multiple_of(SLOT_ALIGN);
    let fits =
        w.0.as_ref()
            .is_some_and(|o| o.used + step <= HEADER + CHUNK_SIZE);
    if !fits {
        if let Some(old) = w.0.take() {
            old.seal();
        }
        w.0 = Some(OpenChunk {
            chunk: reuse_or_new(CHUNK_SIZE, BIAS)?,
            used: HEADER,
            handed: 0,
        });
    }
    let open = w.0.as_mut()?;
    let offset = open.used;
    open.used += step;
    open.handed += 1;
    Some(SlabBuf {
        chunk: open.chunk,
        span: span(offset, len),
    })
}

/// Counts one more reference to `chunk` if it is this thread's open chunk (released with the
/// bias when it is sealed); false when it is not, and the caller adds to the shared count.
fn count_open_copy(chunk: Chunk) -> bool {
    WRITER
        .try_with(|w| {
            let Ok(mut w) = w.try_borrow_mut() else {
                return false;
            };
            match w.0.as_mut() {
                Some(open) if open.chunk.0 == chunk.0 && open.handed < BIAS / 2 => {
                    open.handed += 1;
                    true
                }
                _ => false,
            }
        })
        .unwrap_or(false)
}

/// The pool of free large chunks, one list per power-of-two capacity.
struct Pool {
    classes: [Vec<Chunk>; POOL_CLASSES],
    bytes: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    classes: [const { Vec::new() }; POOL_CLASSES],
    bytes: 0,
});

/// The pool class of a chunk capacity, if it is one.
fn class_of(capacity: usize) -> Option<usize> {
    (capacity.is_power_of_two() && (POOL_MIN..=POOL_MAX).contains(&capacity))
        .then(|| (capacity.trailing_zeros() - POOL_MIN.trailing_zeros()) as usize)
}

/// Keeps a free chunk for reuse; hands it back when it is not a pooled size or the pool is
/// full, for the caller to free. The chunk goes to this thread's magazine first.
fn pool_put(chunk: Chunk, capacity: usize) -> Option<Chunk> {
    let Some(class) = class_of(capacity) else {
        return Some(chunk);
    };
    let kept = MAGAZINES
        .try_with(|m| {
            let mut m = m.try_borrow_mut().ok()?;
            let held = &mut m.0[class];
            if held.len() >= magazine_len(capacity) {
                // Full: half of it goes to the shared pool under one lock.
                let keep = held.len() / 2;
                let spill: Vec<Chunk> = held.drain(keep..).collect();
                free_all(pool_put_shared(spill, class, capacity), capacity);
            }
            held.push(chunk);
            Some(())
        })
        .ok()
        .flatten();
    match kept {
        Some(()) => None,
        // The thread is ending (or re-entered): straight to the shared pool.
        None => pool_put_shared(vec![chunk], class, capacity).pop(),
    }
}

/// Puts `chunks` of one class into the shared pool under one lock; hands back those it has
/// no room for.
fn pool_put_shared(mut chunks: Vec<Chunk>, class: usize, capacity: usize) -> Vec<Chunk> {
    let mut pool = POOL.lock();
    while let Some(chunk) = chunks.pop() {
        let held = pool.classes[class].len() * capacity;
        if held + capacity > POOL_PER_CLASS_BYTES.max(2 * capacity)
            || pool.bytes + capacity > POOL_BYTES
        {
            chunks.push(chunk);
            break;
        }
        pool.bytes += capacity;
        pool.classes[class].push(chunk);
    }
    chunks
}

/// Frees chunks the pool did not keep.
fn free_all(chunks: Vec<Chunk>, capacity: usize) {
    let Some(layout) = chunk_layout(capacity) else {
        return;
    };
    for chunk in chunks {
        // SAFETY: a chunk handed to the pool has no references left, and was allocated with
        // this layout.
        unsafe { dealloc(chunk.0.as_ptr().cast(), layout) };
    }
}

/// How many free chunks of `capacity` bytes a thread keeps for itself: 512 KiB worth, and at
/// least four up to 1 MiB chunks (two at a time then move between the thread and the pool),
/// two above (a thread keeps at most 8 MiB of the largest size).
fn magazine_len(capacity: usize) -> usize {
    let least = if capacity <= 1 << 20 { 4 } else { 2 };
    (MAGAZINE_BYTES / capacity).max(least)
}

/// Free chunks per class that this thread keeps out of the shared pool, so that a producer
/// and a consumer trading buffers take the pool's lock once per half magazine instead of
/// twice per frame. Given back to the shared pool (or freed) when the thread ends.
#[derive(Default)]
struct Magazines([Vec<Chunk>; POOL_CLASSES]);

impl Drop for Magazines {
    fn drop(&mut self) {
        for (class, held) in self.0.iter_mut().enumerate() {
            let capacity = POOL_MIN << class;
            let left = pool_put_shared(std::mem::take(held), class, capacity);
            free_all(left, capacity);
        }
    }
}

thread_local! {
    static MAGAZINES: RefCell<Magazines> = RefCell::new(Magazines::default());
}

/// A chunk of `capacity` bytes (a pooled size) holding `refs` references: a free one from this
/// thread's magazine or the shared pool, or a new one.
fn reuse_or_new(capacity: usize, refs: usize) -> Option<Chunk> {
    let class = class_of(capacity)?;
    let reused = MAGAZINES
        .try_with(|m| {
            let mut m = m.try_borrow_mut().ok()?;
            let held = &mut m.0[class];
            if held.is_empty() {
                // Empty: take up to half a magazine from the shared pool under one lock.
                let mut pool = POOL.lock();
                let free = &mut pool.classes[class];
                let n = free.len().min(magazine_len(capacity).div_ceil(2));
                let at = free.len() - n;
                held.extend(free.drain(at..));
                pool.bytes -= n * capacity;
            }
            held.pop()
        })
        .ok()
        .flatten();
    match reused {
        Some(chunk) => {
            chunk.refs().store(refs, Ordering::Relaxed);
            Some(chunk)
        }
        None => Chunk::new(capacity, refs),
    }
}

impl SlabBuf {
    /// A buffer of `len` bytes (more than [`SLAB_MAX`], at most [`POOL_MAX`]) in a chunk of
    /// its own, reused from the pool when one is free. Its content is unspecified (an earlier
    /// frame's bytes or the allocator's), for the caller to fill.
    pub(crate) fn large(len: usize) -> Option<SlabBuf> {
        if len > POOL_MAX {
            return None;
        }
        let capacity = len.max(POOL_MIN).checked_next_power_of_two()?;
        // Not zeroed: clearing 1 MiB costs more than the send (see the module doc).
        let chunk = reuse_or_new(capacity, 1)?;
        Some(SlabBuf {
            chunk,
            span: span(HEADER, len),
        })
    }
}

impl Clone for SlabBuf {
    /// A copy of a slot in this thread's open chunk is counted like a slot handed out (no
    /// shared memory touched: a publisher copying a frame for each subscriber does not contend
    /// with the I/O threads releasing earlier frames of the chunk); other copies add to the
    /// chunk's count.
    fn clone(&self) -> SlabBuf {
        if !count_open_copy(self.chunk) {
            self.chunk.refs().fetch_add(1, Ordering::Relaxed);
        }
        SlabBuf {
            chunk: self.chunk,
            span: self.span,
        }
    }
}

/// Slot releases gathered while one thread drops many frames in a row (an I/O thread after
/// encoding a batch): consecutive frames of one chunk then cost one atomic operation in all,
/// not one each. What it holds is released when the chunk changes and when it is dropped.
#[derive(Default)]
pub(crate) struct Releases {
    pending: Option<(Chunk, usize)>,
}

impl Releases {
    /// Takes over `buf`'s reference.
    pub(crate) fn add(&mut self, buf: SlabBuf) {
        let buf = std::mem::ManuallyDrop::new(buf);
        match &mut self.pending {
            Some((chunk, n)) if chunk.0 == buf.chunk.0 => *n += 1,
            _ => {
                self.flush();
                self.pending = Some((buf.chunk, 1));
            }
        }
    }

    /// Releases what is held.
    pub(crate) fn flush(&mut self) {
        if let Some((chunk, n)) = self.pending.take() {
            chunk.release(n);
        }
    }
}

impl Drop for Releases {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Drop for SlabBuf {
    fn drop(&mut self) {
        self.chunk.release(1);
    }
}

impl AsRef<[u8]> for SlabBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_zeroed_disjoint_and_hold_their_copies() {
        let a = SlabBuf::copy_of(&[1u8; 100]).unwrap();
        let b = SlabBuf::zeroed(200).unwrap();
        assert_eq!(a.as_slice(), &[1u8; 100][..]);
        assert!(b.as_slice().iter().all(|&x| x == 0));
        let (a0, b0) = (a.as_mut_ptr() as usize, b.as_mut_ptr() as usize);
        assert!(a0 + 100 <= b0 || b0 + 200 <= a0, "slots do not overlap");
        assert!(SlabBuf::zeroed(SLAB_MAX + 1).is_none());
    }

    #[test]
    fn frames_outlive_the_chunk_being_sealed_and_cross_threads() {
        // Fill several chunks, keep every frame, and drop them on another thread: each chunk
        // is freed exactly once (run under Miri/ASan/valgrind this catches double frees).
        let frames: Vec<SlabBuf> = (0..3 * CHUNK_SIZE / 512)
            .map(|i| SlabBuf::copy_of(&[i as u8; 500]).unwrap())
            .collect();
        let copies: Vec<SlabBuf> = frames.iter().step_by(7).cloned().collect();
        std::thread::spawn(move || {
            for (i, f) in frames.iter().enumerate() {
                assert_eq!(f.as_slice(), &[i as u8; 500][..]);
            }
            drop(frames);
        })
        .join()
        .unwrap();
        for c in &copies {
            assert_eq!(c.len(), 500);
        }
    }

    #[test]
    fn releases_gathered_in_a_batch_free_each_chunk_once() {
        // 100 frames of 512-byte slots fill chunks of 32: frames 0..32 are the first chunk,
        // sealed once the thread moved on. They are dropped on another thread through one
        // Releases, last to first (so the first chunk's references are the ones still held
        // when the Releases is dropped), every 7th directly instead.
        let frames: Vec<SlabBuf> = (0..100)
            .map(|_| SlabBuf::copy_of(&[7u8; 500]).unwrap())
            .collect();
        let kept = frames[0].clone();
        assert!(frames[..32].iter().all(|f| f.chunk.0 == kept.chunk.0));
        assert!(frames[32].chunk.0 != kept.chunk.0);
        std::thread::spawn(move || {
            let mut releases = Releases::default();
            for (i, f) in frames.into_iter().enumerate().rev() {
                if i % 7 == 0 {
                    drop(f);
                } else {
                    releases.add(f);
                }
            }
        })
        .join()
        .unwrap();
        // 32 slots handed out plus the copy, 32 released: the copy's reference is all left
        // (a double release would free the chunk under it, a lost one leave more).
        assert_eq!(kept.chunk.refs().load(Ordering::Acquire), 1);
        assert_eq!(kept.as_slice(), &[7u8; 500]);
    }

    #[test]
    fn copies_made_on_the_writer_while_its_chunk_is_open_are_counted_at_sealing() {
        let a = SlabBuf::copy_of(&[3u8; 100]).unwrap();
        let count = |b: &SlabBuf| b.chunk.refs().load(Ordering::Acquire);
        let open = count(&a);
        let copies: Vec<SlabBuf> = (0..3).map(|_| a.clone()).collect();
        assert_eq!(count(&a), open, "the writer's copies touch no shared count");
        let elsewhere = std::thread::scope(|s| s.spawn(|| a.clone()).join().unwrap());
        assert_eq!(
            count(&a),
            open + 1,
            "another thread's copy adds to the count"
        );
        drop(elsewhere);
        assert_eq!(count(&a), open);
        // Fill the chunk until the writer moves on and seals it: then the count is exactly the
        // references still held (the frame and its three copies).
        while SlabBuf::zeroed(SLAB_MAX).unwrap().chunk.0 == a.chunk.0 {}
        assert_eq!(count(&a), 4);
        assert!(copies.iter().all(|c| c.as_slice() == [3u8; 100]));
    }

    #[test]
    fn large_buffers_are_reused_through_the_pool() {
        // The 2 MiB class is used by no other test of this crate.
        let a = SlabBuf::large(1_500_000).unwrap();
        assert_eq!(a.len(), 1_500_000);
        let first = a.as_mut_ptr();
        // SAFETY: the buffer is this test's alone and at least one byte long.
        unsafe { first.write(0xA5) };
        std::thread::spawn(move || drop(a)).join().unwrap();
        let b = SlabBuf::large(1_200_000).unwrap();
        assert_eq!(b.len(), 1_200_000);
        assert_eq!(
            b.as_mut_ptr(),
            first,
            "the freed chunk came back from the pool"
        );
        assert_eq!(b.as_slice()[0], 0xA5, "with its earlier content");
        assert!(SlabBuf::large(POOL_MAX + 1).is_none());
        assert_eq!(class_of(POOL_MIN), Some(0));
        assert_eq!(class_of(POOL_MAX), Some(POOL_CLASSES - 1));
        assert_eq!(class_of(CHUNK_SIZE + 1), None, "not a pooled size");
    }

    #[test]
    fn buffers_traded_between_threads_come_back_through_the_magazines() {
        // The 128 KiB class is used by no other test of this crate. One thread makes buffers,
        // another checks and drops them: a reused chunk must never be one still in use.
        const LEN: usize = 100_000;
        let (tx, rx) = std::sync::mpsc::sync_channel::<(SlabBuf, u64)>(8);
        let consumer = std::thread::spawn(move || {
            let mut n = 0u64;
            for (buf, mark) in rx {
                let mut head = [0u8; 8];
                head.copy_from_slice(&buf.as_slice()[..8]);
                assert_eq!(
                    u64::from_ne_bytes(head),
                    mark,
                    "a live buffer was handed out again"
                );
                n += 1;
            }
            n
        });
        let mut addresses = std::collections::HashSet::new();
        for mark in 0..2000u64 {
            let buf = SlabBuf::large(LEN).unwrap();
            // SAFETY: the buffer is this test's alone and LEN >= 8 bytes long.
            unsafe { buf.as_mut_ptr().cast::<[u8; 8]>().write(mark.to_ne_bytes()) };
            addresses.insert(buf.as_mut_ptr() as usize);
            tx.send((buf, mark)).unwrap();
        }
        drop(tx);
        assert_eq!(consumer.join().unwrap(), 2000);
        assert!(
            addresses.len() < 100,
            "chunks were reused ({} distinct for 2000 buffers)",
            addresses.len()
        );
        let pool = POOL.lock();
        let class = class_of(LEN.next_power_of_two()).unwrap();
        assert!(pool.classes[class].len() * LEN.next_power_of_two() <= POOL_PER_CLASS_BYTES);
        let held: usize = (0..POOL_CLASSES)
            .map(|c| pool.classes[c].len() * (POOL_MIN << c))
            .sum();
        assert_eq!(
            held, pool.bytes,
            "the pool's byte count matches what it holds"
        );
    }

    #[test]
    fn the_pool_keeps_at_most_its_budget() {
        let bufs: Vec<SlabBuf> = (0..40).map(|_| SlabBuf::large(POOL_MAX).unwrap()).collect();
        drop(bufs);
        assert!(POOL.lock().bytes <= POOL_BYTES);
    }

    #[test]
    fn a_thread_that_ends_seals_its_chunk() {
        let kept = std::thread::spawn(|| SlabBuf::copy_of(b"survives its thread").unwrap())
            .join()
            .unwrap();
        assert_eq!(kept.as_slice(), b"survives its thread");
    }
}
