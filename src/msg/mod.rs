//! `Msg`: one message frame, small enough to live inside the 64-byte `zmq_msg_t`.
//!
//! Layer L0 (depends on `bytes`, `error`). Small frames (up to [`INLINE_CAP`] bytes) are stored
//! inline without allocation; those up to `slab::SLAB_MAX` take a slot of a per-thread chunk
//! (see [`slab`]: no `malloc`/`free` per frame); larger ones are a reference-counted [`Bytes`],
//! which also carries
//! caller-owned buffers (`zmq_msg_init_data`, freed through the caller's function exactly once,
//! see [`foreign`]) and constant buffers (`zmq_send_const`). Copies share content by reference
//! count, as libzmq's do.
//!
//! Writing through `zmq_msg_data`: the C API hands out a mutable pointer to the content. For an
//! inline or freshly allocated frame the caller is its only owner. After `zmq_msg_copy` the
//! content is shared and, as in libzmq, a write through either copy is visible in both; libzmq
//! documents that as undefined and so do we. Received frames are fresh allocations or slices of
//! the engine's receive buffer that nobody else writes.
#![deny(unsafe_code)]

mod foreign;
mod metadata;
mod props;
mod slab;

use bytes::Bytes;

use foreign::malloced_bytes;
pub(crate) use foreign::{const_bytes, foreign_bytes};
pub(crate) use metadata::Metadata;
pub(crate) use props::{Props, PropsLease, PropsReleases};
pub(crate) use slab::Releases;
use slab::SlabBuf;

use crate::error::{Error, Result};

/// Largest frame stored inline, without allocation: what fits with its length byte beside
/// `Body`'s word-sized tag in 40 bytes (it was 38 with a one-byte tag; frames of 32-38 bytes
/// now take a slab slot; libzmq keeps up to 33 in its message).
pub(crate) const INLINE_CAP: usize = 31;
/// Up to this size `with_size` gives a zeroed buffer (a slab slot, or, when the thread's slab
/// is gone, a Vec); above, uncleared memory (a pooled chunk, or a C allocation past 4 MiB).
const ZEROED_MAX: usize = slab::SLAB_MAX;

/// Frame flags, as libzmq numbers them where the C API exposes them.
pub(crate) mod flags {
    /// More frames follow in this message (`ZMQ_MORE`).
    pub(crate) const MORE: u8 = 1;
    /// The content is shared with another message (`ZMQ_SHARED`).
    pub(crate) const SHARED: u8 = 128;
}

/// The frame's content. The tag is a whole word (`repr(u64)`), so that every field of a `Msg`
/// is word-aligned and a move copies it in aligned pieces. With a one-byte tag, `Option<Msg>`
/// (a frame popped from a queue) kept its niche in that byte and moves copied bytes 1..56 at
/// odd offsets, so the next read of a field straddled two stores the CPU cannot forward from:
/// ipc 64 B with each process on its own core went 13.7 -> 15.8 M msg/s with this change,
/// PUB -> 4 SUB 64 B 2.40 -> 2.75.
#[derive(Clone)]
#[repr(u64)]
enum Body {
    Inline {
        len: u8,
        buf: [u8; INLINE_CAP],
    },
    /// Up to `slab::SLAB_MAX` bytes in a per-thread chunk (no malloc per frame).
    Slab(SlabBuf),
    Heap(Bytes),
}

/// Frames one thread drops in a row (a socket replacing each received frame with the next):
/// the slab slots of one chunk and the properties of one connection are given back with one
/// atomic operation per run instead of one per frame. Held references are given back when the
/// run changes and when this is dropped, which only delays freeing memory (a frame with a C
/// free function is dropped at once, as before).
#[derive(Default)]
pub(crate) struct Drops {
    slab: Releases,
    props: PropsReleases,
}

/// A message frame with its flags, routing id (draft SERVER/CLIENT) and peer properties.
#[derive(Clone)]
pub(crate) struct Msg {
    body: Body,
    props: Option<Props>,
    /// The routing id in the low 32 bits, the [`flags`] in the 8 above ([`FLAGS_SHIFT`]).
    /// One word, always written whole: a frame built with narrow stores and copied with a
    /// wide load (as every move of a `Msg` does) stalls the CPU, which cannot forward two
    /// small stores into one load; the separate `u32` and `u8` this replaced cost a stall at
    /// each hand-over of a fresh frame.
    meta: u64,
}

/// Where the frame flags sit in `Msg::meta`.
const FLAGS_SHIFT: u32 = 32;
/// The routing id's bits in `Msg::meta`.
const ROUTING_ID_MASK: u64 = 0xffff_ffff;

const _: () = assert!(std::mem::size_of::<Msg>() <= 56);
const _: () = assert!(std::mem::size_of::<Body>() == 40);
const _: () = assert!(std::mem::align_of::<Msg>() <= 8);

impl Default for Msg {
    fn default() -> Self {
        Msg::new()
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Msg")
            .field("len", &self.len())
            .field("flags", &self.flags())
            .finish()
    }
}

impl Msg {
    /// An empty frame.
    pub(crate) const fn new() -> Msg {
        Msg {
            body: Body::Inline {
                len: 0,
                buf: [0; INLINE_CAP],
            },
            props: None,
            meta: 0,
        }
    }

    /// Makes this frame a fresh one of `len` bytes, as [`Msg::with_size`] builds, writing it in
    /// place: `zmq_msg_init_size` builds the frame in the caller's `zmq_msg_t` this way, since
    /// building it aside and moving it in reloaded the narrow stores that built it with wide
    /// loads, which the CPU cannot forward (two thirds of that function's samples were that
    /// stall). On error the frame is left empty.
    pub(crate) fn make_size(&mut self, len: usize) -> Result<()> {
        if len > INLINE_CAP
            && let Some(buf) = SlabBuf::zeroed(len)
        {
            self.props = None;
            self.meta = 0;
            self.body = Body::Slab(buf);
            return Ok(());
        }
        // Inline frames and those no slab slot holds are built by `with_size` (small, or
        // rare); emptied first so that an error leaves the frame empty.
        *self = Msg::new();
        *self = Msg::with_size(len)?;
        Ok(())
    }

    /// A frame of `len` bytes for the caller to fill in (up to 1 KiB zeroed, larger ones with
    /// unspecified content, as libzmq's `zmq_msg_init_size`).
    pub(crate) fn with_size(len: usize) -> Result<Msg> {
        if len <= INLINE_CAP {
            return Ok(Msg {
                body: Body::Inline {
                    len: len as u8,
                    buf: [0; INLINE_CAP],
                },
                ..Msg::new()
            });
        }
        if let Some(buf) = SlabBuf::zeroed(len) {
            return Ok(Msg::from_body(Body::Slab(buf)));
        }
        if len > ZEROED_MAX
            && let Some(buf) = SlabBuf::large(len)
        {
            return Ok(Msg::from_body(Body::Slab(buf)));
        }
        if len <= ZEROED_MAX {
            // One allocation (Bytes takes the Vec over), and clearing this little is cheap.
            let mut v = Vec::new();
            v.try_reserve_exact(len).map_err(|_| Error::NoMemory)?;
            v.resize(len, 0);
            return Ok(Msg::from_bytes(Bytes::from(v)));
        }
        malloced_bytes(len)
            .map(Msg::from_bytes)
            .ok_or(Error::NoMemory)
    }

    /// A frame holding a copy of `data`.
    pub(crate) fn copy_from(data: &[u8]) -> Msg {
        if data.len() <= INLINE_CAP {
            let mut buf = [0; INLINE_CAP];
            buf[..data.len()].copy_from_slice(data);
            Msg {
                body: Body::Inline {
                    len: data.len() as u8,
                    buf,
                },
                ..Msg::new()
            }
        } else if let Some(buf) = SlabBuf::copy_of(data) {
            Msg::from_body(Body::Slab(buf))
        } else {
            Msg::from_bytes(Bytes::copy_from_slice(data))
        }
    }

    fn from_body(body: Body) -> Msg {
        Msg { body, ..Msg::new() }
    }

    /// A frame sharing `bytes` without copying (small ones are moved inline).
    pub(crate) fn from_bytes(bytes: Bytes) -> Msg {
        Msg {
            body: Body::Heap(bytes),
            ..Msg::new()
        }
    }

    /// Drops the frame, leaving the release of a slab slot to `releases` (see [`Releases`]).
    pub(crate) fn release_into(self, releases: &mut Releases) {
        match self.body {
            Body::Slab(buf) => releases.add(buf),
            Body::Inline { .. } | Body::Heap(_) => {}
        }
    }

    /// Drops the frame, leaving its slab slot and properties to `drops` (see [`Drops`]).
    pub(crate) fn drop_into(self, drops: &mut Drops) {
        if let Some(props) = self.props {
            drops.props.add(props);
        }
        match self.body {
            Body::Slab(buf) => drops.slab.add(buf),
            Body::Inline { .. } | Body::Heap(_) => {}
        }
    }

    /// The frame's content.
    pub(crate) fn data(&self) -> &[u8] {
        match &self.body {
            Body::Inline { len, buf } => &buf[..usize::from(*len)],
            Body::Slab(s) => s.as_slice(),
            Body::Heap(b) => b,
        }
    }

    /// A raw pointer to the content for `zmq_msg_data`; see the module doc on writes.
    pub(crate) fn data_ptr(&mut self) -> *mut u8 {
        match &mut self.body {
            Body::Inline { buf, .. } => buf.as_mut_ptr(),
            Body::Slab(s) => s.as_mut_ptr(),
            Body::Heap(b) => b.as_ptr().cast_mut(),
        }
    }

    /// The content as `Bytes`: shared for heap frames, copied for inline ones.
    pub(crate) fn bytes(&self) -> Bytes {
        match &self.body {
            Body::Inline { .. } => Bytes::copy_from_slice(self.data()),
            Body::Slab(s) => Bytes::from_owner(s.clone()),
            Body::Heap(b) => b.clone(),
        }
    }

    /// Content length in bytes.
    pub(crate) fn len(&self) -> usize {
        match &self.body {
            Body::Inline { len, .. } => usize::from(*len),
            Body::Slab(s) => s.len(),
            Body::Heap(b) => b.len(),
        }
    }

    /// True when the frame has no content.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when more frames of the same message follow.
    pub(crate) fn more(&self) -> bool {
        self.flags() & flags::MORE != 0
    }

    /// The frame flags (see [`flags`]).
    fn flags(&self) -> u8 {
        (self.meta >> FLAGS_SHIFT) as u8
    }

    /// Sets `flag` (one of [`flags`]), rewriting `meta` whole.
    fn set_flag(&mut self, flag: u8) {
        self.meta |= u64::from(flag) << FLAGS_SHIFT;
    }

    /// Sets or clears the MORE flag.
    pub(crate) fn set_more(&mut self, more: bool) {
        if more {
            self.set_flag(flags::MORE);
        } else {
            self.meta &= !(u64::from(flags::MORE) << FLAGS_SHIFT);
        }
    }

    /// True when the content is shared with another message or is constant.
    pub(crate) fn is_shared(&self) -> bool {
        self.flags() & flags::SHARED != 0
    }

    /// A copy sharing this frame's content; both are marked shared, as `zmq_msg_copy` does.
    pub(crate) fn share(&mut self) -> Msg {
        if matches!(self.body, Body::Heap(_) | Body::Slab(_)) {
            self.set_flag(flags::SHARED);
        }
        self.clone()
    }

    /// The draft routing id (SERVER/CLIENT), 0 when unset.
    pub(crate) fn routing_id(&self) -> u32 {
        (self.meta & ROUTING_ID_MASK) as u32
    }

    /// Sets the draft routing id; 0 is not a valid id.
    pub(crate) fn set_routing_id(&mut self, id: u32) -> Result<()> {
        if id == 0 {
            return Err(Error::Invalid);
        }
        self.meta = (self.meta & !ROUTING_ID_MASK) | u64::from(id);
        Ok(())
    }

    /// The peer properties attached by the engine, if any.
    pub(crate) fn metadata(&self) -> Option<&Metadata> {
        self.props.as_ref().map(Props::get)
    }

    /// The counted reference to the peer properties, for another frame to share.
    pub(crate) fn props(&self) -> Option<&Props> {
        self.props.as_ref()
    }

    /// Attaches peer properties (shared by every frame from that peer).
    pub(crate) fn set_metadata(&mut self, props: Props) {
        self.props = Some(props);
    }

    /// The draft group name (RADIO/DISH), empty when unset.
    pub(crate) fn group(&self) -> &std::ffi::CStr {
        self.props.as_ref().map_or(c"", |p| p.get().group())
    }

    /// Sets the draft group name: at most `ZMQ_GROUP_MAX_LENGTH` bytes.
    pub(crate) fn set_group(&mut self, group: &std::ffi::CStr) -> Result<()> {
        if group.to_bytes().len() > crate::consts::ZMQ_GROUP_MAX_LENGTH as usize {
            return Err(Error::Invalid);
        }
        let props = self
            .props
            .get_or_insert_with(|| Props::new(Metadata::default()));
        props.make_mut().set_group(group);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_frames_free_owned_buffers_at_once_and_batch_the_rest() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static FREED: AtomicUsize = AtomicUsize::new(0);
        struct Owner(Vec<u8>);
        impl AsRef<[u8]> for Owner {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl Drop for Owner {
            fn drop(&mut self) {
                FREED.fetch_add(1, Ordering::SeqCst);
            }
        }
        let lease = PropsLease::new(Metadata::from_pairs([("Socket-Type", "PUSH")]));
        let mut drops = Drops::default();
        // A buffer someone else owns (a C free function, a shared body) goes at once.
        let mut owned = Msg::from_bytes(Bytes::from_owner(Owner(vec![1; 2000])));
        owned.set_metadata(lease.stamp());
        owned.drop_into(&mut drops);
        assert_eq!(FREED.load(Ordering::SeqCst), 1);
        // Slab frames with properties: held by the batch, given back when it is dropped.
        let kept = Msg::copy_from(&[2; 100]);
        let mut frames = Vec::new();
        for _ in 0..5 {
            let mut m = kept.clone();
            m.set_metadata(lease.stamp());
            frames.push(m);
        }
        for m in frames {
            m.drop_into(&mut drops);
        }
        drop(lease);
        let probe = kept.clone();
        assert_eq!(probe.data(), &[2; 100][..]);
        drop(drops);
        assert_eq!(
            kept.data(),
            &[2; 100][..],
            "the slot outlives the batch while kept"
        );
    }

    #[test]
    fn small_frames_are_inline_and_large_ones_shared() {
        let small = Msg::copy_from(b"hello");
        assert_eq!(small.data(), b"hello");
        assert!(matches!(small.body, Body::Inline { .. }));
        let mid = Msg::copy_from(&[7u8; 1000]);
        assert_eq!(mid.len(), 1000);
        assert!(matches!(mid.body, Body::Slab(_)));
        let big = Msg::copy_from(&[7u8; 5000]);
        assert_eq!(big.data(), &[7u8; 5000][..]);
        assert!(matches!(big.body, Body::Heap(_)));
    }

    #[test]
    fn with_size_has_the_size_and_is_writable() {
        for n in [0, 1, INLINE_CAP, INLINE_CAP + 1, 100_000] {
            let mut m = Msg::with_size(n).unwrap();
            assert_eq!(m.len(), n);
            if n > 0 {
                let p = m.data_ptr();
                assert!(!p.is_null());
            }
        }
        assert!(
            Msg::with_size(INLINE_CAP)
                .unwrap()
                .data()
                .iter()
                .all(|&b| b == 0)
        );
    }

    #[test]
    fn share_marks_heap_frames_shared_and_shares_content() {
        let mut a = Msg::copy_from(&[1u8; 100]);
        let b = a.share();
        assert!(a.is_shared() && b.is_shared());
        assert_eq!(a.data().as_ptr(), b.data().as_ptr());
        let mut s = Msg::copy_from(b"x");
        assert!(!s.share().is_shared());
    }

    #[test]
    fn more_flag_round_trips() {
        let mut m = Msg::new();
        assert!(!m.more());
        m.set_more(true);
        assert!(m.more());
        m.set_more(false);
        assert!(!m.more());
    }

    #[test]
    fn make_size_rebuilds_in_place_like_with_size() {
        for n in [0, INLINE_CAP, INLINE_CAP + 1, 1024, 1025, 5 << 20] {
            let mut m = Msg::from_bytes(Bytes::from(vec![7u8; 3000]));
            m.set_routing_id(9).unwrap();
            m.set_more(true);
            let _copy = m.share();
            m.make_size(n).unwrap();
            assert_eq!(m.len(), n);
            assert!(!m.more() && !m.is_shared());
            assert_eq!(m.routing_id(), 0);
            if n <= ZEROED_MAX {
                assert!(m.data().iter().all(|&b| b == 0), "{n} bytes not zeroed");
            }
        }
    }

    #[test]
    fn flags_and_routing_id_share_a_word_without_clobbering() {
        let mut m = Msg::with_size(100).unwrap();
        m.set_routing_id(0xdead_beef).unwrap();
        m.set_more(true);
        let copy = m.share();
        assert_eq!(m.routing_id(), 0xdead_beef);
        assert!(m.more() && m.is_shared());
        assert_eq!(copy.routing_id(), 0xdead_beef);
        assert!(copy.more() && copy.is_shared());
        m.set_more(false);
        m.set_routing_id(7).unwrap();
        assert!(!m.more() && m.is_shared());
        assert_eq!(m.routing_id(), 7);
    }

    #[test]
    fn routing_id_zero_is_rejected() {
        let mut m = Msg::new();
        assert_eq!(m.set_routing_id(0), Err(Error::Invalid));
        m.set_routing_id(42).unwrap();
        assert_eq!(m.routing_id(), 42);
    }

    #[test]
    fn group_is_empty_by_default_and_bounded() {
        let mut m = Msg::new();
        assert_eq!(m.group(), c"");
        m.set_group(c"weather").unwrap();
        assert_eq!(m.group(), c"weather");
        let long = std::ffi::CString::new(vec![b'a'; 256]).unwrap();
        assert_eq!(m.set_group(&long), Err(Error::Invalid));
    }
}
