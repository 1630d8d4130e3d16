//! Small frame buffers carved from per-thread chunks, so that a frame made on one thread and
//! dropped on another costs no `malloc`/`free` pair (the pair alone caps a producer/consumer
//! thread pair near libzmq's inproc rate).
//!
//! Layer L0. Each thread that makes frames owns one open [`CHUNK_SIZE`] chunk and hands out
//! disjoint slots from it front to back. A chunk's reference count starts at a large bias, so
//! handing out a slot touches no shared memory; when the thread moves on to a new chunk it
//! subtracts the bias less the number of slots it handed out ("sealing"). Dropping a slot (or a
//! copy of it) subtracts one; whoever brings the count to zero frees the chunk. The writer
//! never contends with readers on the count, and readers touch it once per frame.
//!
//! The price: a chunk lives while any of its frames does, so a program that keeps one small
//! frame alive pins up to [`CHUNK_SIZE`] bytes (libzmq's zero-copy receive buffers pin theirs
//! the same way).
#![allow(
    unsafe_code,
    reason = "hands out disjoint slots of one raw allocation, freed by a shared count"
)]

use std::alloc::{Layout, alloc, dealloc};
use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

/// Bytes in one chunk, its header included.
const CHUNK_SIZE: usize = 16 * 1024;
/// The header (the reference count) has a cache line to itself.
const HEADER: usize = 64;
/// Frames up to this size come from a chunk; larger ones are allocated on their own.
pub(crate) const SLAB_MAX: usize = 1024;
/// Slots start on this boundary (keeps neighbouring slots apart and pointers aligned).
const SLOT_ALIGN: usize = 16;
/// The count a chunk starts with: more than it can ever hand out.
const BIAS: usize = 1 << (usize::BITS - 2);

const _: () = assert!(HEADER + SLAB_MAX <= CHUNK_SIZE);

/// A chunk's allocation (checked at compile time).
const CHUNK_LAYOUT: Layout = match Layout::from_size_align(CHUNK_SIZE, HEADER) {
    Ok(layout) => layout,
    Err(_) => panic!("chunk layout"),
};

fn chunk_layout() -> Layout {
    CHUNK_LAYOUT
}

/// The start of a chunk: its reference count.
struct Header {
    refs: AtomicUsize,
}

/// A chunk's address; the count lives at its start.
#[derive(Clone, Copy)]
struct Chunk(NonNull<Header>);

impl Chunk {
    fn new() -> Option<Chunk> {
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc(chunk_layout()) })?.cast::<Header>();
        // SAFETY: ptr is a fresh allocation aligned for Header and large enough for it.
        unsafe {
            ptr.as_ptr().write(Header {
                refs: AtomicUsize::new(BIAS),
            })
        };
        Some(Chunk(ptr))
    }

    fn refs(&self) -> &AtomicUsize {
        // SAFETY: the header is initialised at creation and lives until the count reaches 0.
        unsafe { &self.0.as_ref().refs }
    }

    /// Drops `n` references; frees the chunk when they were the last.
    fn release(self, n: usize) {
        if self.refs().fetch_sub(n, Ordering::Release) == n {
            fence(Ordering::Acquire);
            // SAFETY: the count reached zero: nobody refers to the chunk any more, and it was
            // allocated with this layout.
            unsafe { dealloc(self.0.as_ptr().cast(), chunk_layout()) };
        }
    }

    fn slot(&self, offset: usize) -> NonNull<u8> {
        // SAFETY: offset < CHUNK_SIZE, inside the allocation.
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
pub(crate) struct SlabBuf {
    chunk: Chunk,
    data: NonNull<u8>,
    len: usize,
}

// SAFETY: the slot is owned by the SlabBuf (and its copies); the chunk count is atomic, and the
// chunk is freed by whichever thread drops the last reference.
unsafe impl Send for SlabBuf {}
// SAFETY: shared references only read the slot.
unsafe impl Sync for SlabBuf {}

impl SlabBuf {
    /// A zeroed slot of `len` bytes (at most [`SLAB_MAX`]); `None` when the thread is ending
    /// or memory is short, and the caller allocates on its own.
    pub(crate) fn zeroed(len: usize) -> Option<SlabBuf> {
        if len > SLAB_MAX {
            return None;
        }
        let buf = WRITER
            .try_with(|w| {
                w.try_borrow_mut()
                    .ok()
                    .and_then(|mut w| take_slot(&mut w, len))
            })
            .ok()
            .flatten()?;
        // SAFETY: the slot is len bytes inside the chunk, handed out to nobody else.
        unsafe { buf.data.as_ptr().write_bytes(0, len) };
        Some(buf)
    }

    /// A slot holding a copy of `data` (at most [`SLAB_MAX`] bytes).
    pub(crate) fn copy_of(data: &[u8]) -> Option<SlabBuf> {
        let buf = SlabBuf::zeroed(data.len())?;
        // SAFETY: the slot is data.len() bytes, fresh, and cannot overlap `data`, which is
        // borrowed from elsewhere.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), buf.data.as_ptr(), data.len());
        }
        Some(buf)
    }

    /// The frame's bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: data points to len initialised bytes kept alive by our reference.
        unsafe { std::slice::from_raw_parts(self.data.as_ptr(), self.len) }
    }

    /// The slot's address, for `zmq_msg_data` (see `msg`'s module doc on writes).
    pub(crate) fn as_mut_ptr(&self) -> *mut u8 {
        self.data.as_ptr()
    }

    /// Content length.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Hands out the next slot of this thread's chunk, opening a new chunk when it is full.
fn take_slot(w: &mut Writer, len: usize) -> Option<SlabBuf> {
    let step = len.max(1).next_multiple_of(SLOT_ALIGN);
    let fits = w.0.as_ref().is_some_and(|o| o.used + step <= CHUNK_SIZE);
    if !fits {
        if let Some(old) = w.0.take() {
            old.seal();
        }
        w.0 = Some(OpenChunk {
            chunk: Chunk::new()?,
            used: HEADER,
            handed: 0,
        });
    }
    let open = w.0.as_mut()?;
    let data = open.chunk.slot(open.used);
    open.used += step;
    open.handed += 1;
    Some(SlabBuf {
        chunk: open.chunk,
        data,
        len,
    })
}

impl Clone for SlabBuf {
    fn clone(&self) -> SlabBuf {
        self.chunk.refs().fetch_add(1, Ordering::Relaxed);
        SlabBuf {
            chunk: self.chunk,
            data: self.data,
            len: self.len,
        }
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
    fn a_thread_that_ends_seals_its_chunk() {
        let kept = std::thread::spawn(|| SlabBuf::copy_of(b"survives its thread").unwrap())
            .join()
            .unwrap();
        assert_eq!(kept.as_slice(), b"survives its thread");
    }
}
