//! Peer properties shared by every frame of one connection: [`Props`], a counted reference to
//! one [`Metadata`], and the [`PropsLease`] a session stamps frames with.
//!
//! Layer L0. A session attaches its connection's properties to every frame it decodes (libzmq
//! adds a reference per message too). Counting each stamp would cost the I/O thread a locked
//! increment per frame on a count that the socket's thread decrements as it drops the frames:
//! one of the largest costs of receiving small messages. The lease instead starts the count
//! with a large stock ([`STOCK`]) that only its owner draws from, without touching shared
//! memory; a frame's reference is released by a decrement as usual. The owner tops the stock
//! up when half of it is gone and gives back what is left when the lease ends, so the count
//! reaches zero exactly when the last reference is dropped, and whoever drops it frees the
//! properties.
#![allow(
    unsafe_code,
    reason = "a counted shared allocation whose owner hands out references without counting"
)]

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

use super::Metadata;

/// The references a new lease holds for stamping (far more than ever live at once).
const STOCK: usize = 1 << (usize::BITS - 4);

struct Inner {
    refs: AtomicUsize,
    meta: Metadata,
}

/// A counted reference to shared peer properties (what a frame carries).
pub(crate) struct Props(NonNull<Inner>);

// SAFETY: `Inner` is only read through shared references (mutation needs a count of one, see
// `make_mut`), `Metadata` is Send + Sync, and the count is atomic, so references may move to
// and be used from any thread.
unsafe impl Send for Props {}
// SAFETY: as above.
unsafe impl Sync for Props {}

impl Props {
    /// Properties of their own, with one reference.
    pub(crate) fn new(meta: Metadata) -> Props {
        Props::with_refs(meta, 1)
    }

    fn with_refs(meta: Metadata, refs: usize) -> Props {
        let inner = Box::new(Inner {
            refs: AtomicUsize::new(refs),
            meta,
        });
        Props(NonNull::from(Box::leak(inner)))
    }

    fn inner(&self) -> &Inner {
        // SAFETY: the allocation lives while any reference (this one included) is counted.
        unsafe { self.0.as_ref() }
    }

    /// The properties.
    pub(crate) fn get(&self) -> &Metadata {
        &self.inner().meta
    }

    /// The properties for changing: shared ones are copied first (copy on write).
    pub(crate) fn make_mut(&mut self) -> &mut Metadata {
        if self.inner().refs.load(Ordering::Acquire) != 1 {
            *self = Props::new(self.get().clone());
        }
        // SAFETY: the count is one and this is that reference, borrowed mutably: no other
        // reference exists to read the properties while the borrow lives (a lease's stock
        // keeps the count above one, so stamped properties are never changed in place).
        unsafe { &mut self.0.as_mut().meta }
    }
}

impl Clone for Props {
    fn clone(&self) -> Props {
        self.inner().refs.fetch_add(1, Ordering::Relaxed);
        Props(self.0)
    }
}

impl Drop for Props {
    fn drop(&mut self) {
        release(self.0, 1);
    }
}

impl std::fmt::Debug for Props {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// Gives back `n` references; the last one frees the properties.
fn release(ptr: NonNull<Inner>, n: usize) {
    // SAFETY: the caller holds `n` counted references, so the allocation is live here.
    let inner = unsafe { ptr.as_ref() };
    if inner.refs.fetch_sub(n, Ordering::Release) == n {
        fence(Ordering::Acquire);
        // SAFETY: the count reached zero: nobody else refers to the allocation, which came
        // from `Box::leak` in `Props::with_refs`.
        drop(unsafe { Box::from_raw(ptr.as_ptr()) });
    }
}

/// A session's hold on its connection's properties: hands out [`Props`] without counting.
pub(crate) struct PropsLease {
    ptr: NonNull<Inner>,
    /// References handed out of the stock since it was last topped up.
    handed: Cell<usize>,
}

// SAFETY: the lease owns its remaining stock of references to a Send + Sync allocation; the
// `Cell` makes it !Sync, so only its one owner draws from the stock.
unsafe impl Send for PropsLease {}

impl PropsLease {
    /// A lease on new properties.
    pub(crate) fn new(meta: Metadata) -> PropsLease {
        let props = Props::with_refs(meta, STOCK);
        let ptr = props.0;
        std::mem::forget(props);
        PropsLease {
            ptr,
            handed: Cell::new(0),
        }
    }

    /// The properties (tests compare them with what frames carry).
    #[cfg(test)]
    fn get(&self) -> &Metadata {
        // SAFETY: the lease's stock keeps the allocation alive.
        unsafe { &self.ptr.as_ref().meta }
    }

    /// A reference for one frame, drawn from the stock (no shared memory touched, except when
    /// half of the stock is gone and it is topped up).
    pub(crate) fn stamp(&self) -> Props {
        let handed = self.handed.get() + 1;
        if handed == STOCK / 2 {
            // SAFETY: the stock keeps the allocation alive.
            unsafe { self.ptr.as_ref() }
                .refs
                .fetch_add(handed, Ordering::Relaxed);
            self.handed.set(0);
        } else {
            self.handed.set(handed);
        }
        Props(self.ptr)
    }
}

impl Drop for PropsLease {
    fn drop(&mut self) {
        release(self.ptr, STOCK - self.handed.get());
    }
}

/// References to properties given back while one thread drops many frames in a row:
/// consecutive frames of one connection then cost one atomic operation in all. What it holds
/// is given back when the properties change and when it is dropped.
#[derive(Default)]
pub(crate) struct PropsReleases {
    pending: Option<(NonNull<Inner>, usize)>,
}

// SAFETY: it holds counted references to Send + Sync properties, as `Props` does.
unsafe impl Send for PropsReleases {}

impl PropsReleases {
    /// Takes over `props`' reference.
    pub(crate) fn add(&mut self, props: Props) {
        let props = std::mem::ManuallyDrop::new(props);
        match &mut self.pending {
            Some((ptr, n)) if *ptr == props.0 => *n += 1,
            _ => {
                self.flush();
                self.pending = Some((props.0, 1));
            }
        }
    }

    /// Gives back what is held.
    pub(crate) fn flush(&mut self) {
        if let Some((ptr, n)) = self.pending.take() {
            release(ptr, n);
        }
    }
}

impl Drop for PropsReleases {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::sync::Arc;

    fn meta(v: &str) -> Metadata {
        Metadata::from_pairs([("Socket-Type", v)])
    }

    fn live_refs(p: &Props) -> usize {
        p.inner().refs.load(Ordering::Acquire)
    }

    #[test]
    fn stamped_references_outlive_the_lease_and_free_with_the_last() {
        // The properties hold an Arc of their own: its count shows when they are freed.
        let lease = PropsLease::new(meta("DEALER"));
        let probe = Arc::clone(lease.get().props_handle());
        let frames: Vec<Props> = (0..1000).map(|_| lease.stamp()).collect();
        drop(lease);
        assert_eq!(live_refs(&frames[0]), 1000);
        let kept = frames[7].clone();
        std::thread::spawn(move || drop(frames)).join().unwrap();
        assert_eq!(live_refs(&kept), 1);
        assert_eq!(kept.get().get("Socket-Type"), Some(c"DEALER"));
        assert_eq!(Arc::strong_count(&probe), 2);
        drop(kept);
        assert_eq!(
            Arc::strong_count(&probe),
            1,
            "the last reference frees the properties"
        );
    }

    #[test]
    fn batched_releases_count_every_reference_once() {
        // Frames of two connections, interleaved in runs: each run is one release; the
        // properties are freed exactly when the last reference is given back.
        let (a, b) = (PropsLease::new(meta("A")), PropsLease::new(meta("B")));
        let probe_a = Arc::clone(a.get().props_handle());
        let probe_b = Arc::clone(b.get().props_handle());
        let kept = a.stamp();
        let mut releases = PropsReleases::default();
        for lease in [&a, &a, &b, &b, &b, &a] {
            releases.add(lease.stamp());
        }
        drop((a, b));
        // Runs end when the properties change: a's first run and b's run went back then.
        assert_eq!(Arc::strong_count(&probe_b), 1, "b is freed");
        assert_eq!(
            live_refs(&kept),
            2,
            "kept, and the last run's one reference"
        );
        drop(releases);
        assert_eq!(live_refs(&kept), 1);
        assert_eq!(Arc::strong_count(&probe_a), 2);
        drop(kept);
        assert_eq!(Arc::strong_count(&probe_a), 1, "a is freed");
    }

    #[test]
    fn the_stock_is_topped_up_when_half_is_drawn() {
        let lease = PropsLease::new(meta("PUB"));
        lease.handed.set(STOCK / 2 - 2);
        let a = lease.stamp();
        let b = lease.stamp();
        assert_eq!(lease.handed.get(), 0);
        // The count holds the whole stock again plus the two references out.
        assert_eq!(live_refs(&a), STOCK + STOCK / 2);
        drop((a, b));
        assert_eq!(live_refs(&lease.stamp()) + 1, STOCK + STOCK / 2 - 1);
    }

    #[test]
    fn make_mut_copies_shared_properties_and_changes_unshared_ones_in_place() {
        let lease = PropsLease::new(meta("SUB"));
        let mut stamped = lease.stamp();
        stamped.make_mut().set_group(c"news");
        assert_eq!(stamped.get().group(), c"news");
        assert_eq!(
            lease.get().group(),
            c"",
            "the lease's properties are untouched"
        );
        let before = stamped.0;
        stamped.make_mut().set_group(c"sport");
        assert_eq!(stamped.0, before, "a count of one changes in place");
        let group: &CStr = stamped.get().group();
        assert_eq!(group, c"sport");
    }
}
