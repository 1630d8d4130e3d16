//! A one-way ring of shared memory between two processes, for large frames over ipc, and the
//! `SCM_RIGHTS` passing of its descriptor.
//!
//! The sender makes the ring: a `memfd` of [`HEADER`] + capacity octets, sealed so that its
//! size can never change (a peer that could shrink it would make our copies fault), mapped,
//! and sent to the peer over the Unix socket. It copies a frame in at an absolute position
//! ([`SendRing::write`]) and tells the peer that position and the length through the stream;
//! the peer maps the ring too, copies the frame out ([`RecvRing::read`]) and publishes how far
//! it has read in the header ([`RecvRing::release`]), which is the sender's only signal that
//! room is free again. A sender that finds no room raises a flag in the header; the reader
//! that releases room and finds the flag raised rings the sender's [`Bell`], an eventfd the
//! sender passed with the ring and watches. (Not a command on the stream: a Unix socket's
//! wake-up is a "sync" one, which puts the woken thread on the waker's CPU, and the two I/O
//! threads then took turns on one core while the other idled.)
//!
//! Every access to the frame area is a raw copy inside this module, never a Rust reference;
//! the header's two words are atomics.
//!
//! Neither side trusts the other. Every position a peer supplies is checked against the ring
//! before use: a lying or hostile peer can only garble the frames it sends itself, or make the
//! sender give up on the ring ([`SendRing::write`] then returns `None` for good and frames go
//! through the socket).
#![allow(
    unsafe_code,
    reason = "memfd, shared mappings another process writes, descriptor passing"
)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering, fence};

/// The header: the reader's published position, then (a cache line on) the writer's flag that
/// it waits for room, alone on their page; frames start after it.
pub(crate) const HEADER: usize = 4096;
/// The largest ring a peer may hand us.
pub(crate) const MAX_CAPACITY: u64 = 256 << 20;
/// The seals a peer's ring must carry: its size is fixed, and the seals too.
const REQUIRED_SEALS: libc::c_int = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
/// `statfs` type of hugetlbfs, whose pages can fail to fault in (`SIGBUS`).
const HUGETLBFS_MAGIC: i64 = 0x9584_58f6;

/// A shared mapping of the start of a ring's memfd; unmapped on drop.
struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; moving it to another thread moves
// the right to unmap it, and shared access goes through atomics and raw copies only.
unsafe impl Send for Mapping {}

impl Mapping {
    /// Maps the first `len` (at least [`HEADER`]) octets of `fd` shared, readable and
    /// writable.
    fn new(fd: &OwnedFd, len: usize) -> io::Result<Mapping> {
        debug_assert!(len >= HEADER);
        // SAFETY: a fresh mapping chosen by the kernel (no address given), over a descriptor we
        // hold; the result is checked before use.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap"))?;
        Ok(Mapping { base, len })
    }

    /// The reader's position in the header.
    fn released(&self) -> &AtomicU64 {
        self.header_word(0)
    }

    /// The writer's flag in the header: 1 while it waits for room.
    fn waiting(&self) -> &AtomicU64 {
        self.header_word(64)
    }

    fn header_word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset.is_multiple_of(8) && offset + 8 <= HEADER);
        let word = self.base.as_ptr().wrapping_add(offset).cast::<AtomicU64>();
        // SAFETY: the mapping is page-aligned and offset a multiple of 8 inside the header
        // (HEADER <= len), so the word is aligned and mapped; it lives as long as `self`, and
        // both processes touch the header's words only atomically.
        unsafe { &*word }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: base/len describe a mapping made by Mapping::new and not unmapped since.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// An eventfd that a ring's reader rings when it releases room the writer waits for: the
/// writer watches it (readable), the reader holds the peer's copy.
pub(crate) struct Bell(OwnedFd);

impl Bell {
    /// A new bell and the copy to pass to the reader.
    pub(crate) fn new() -> io::Result<(Bell, OwnedFd)> {
        // SAFETY: plain call; the result is checked.
        let raw = check(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        // SAFETY: eventfd returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let peer = fd.try_clone()?;
        Ok((Bell(fd), peer))
    }

    /// The peer's bell, `fd` as it came with the stream. Refused unless it is an anonymous
    /// inode (eventfd and its kind: no pipe, socket or file to block on or raise SIGPIPE);
    /// made non-blocking, so that ringing never waits.
    pub(crate) fn open(fd: OwnedFd) -> io::Result<Bell> {
        // SAFETY: a zeroed libc::stat is a valid out-parameter.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: st is a valid out-pointer.
        check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
        if st.st_mode & libc::S_IFMT != 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: plain calls on a descriptor we own; results are checked.
        let flags = check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
        // SAFETY: as above.
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
        Ok(Bell(fd))
    }

    /// Rings (a full or broken bell is the peer's loss: errors are ignored).
    pub(crate) fn ring(&self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: `one` is a live 8-byte buffer; the descriptor is non-blocking.
        let _ = unsafe { libc::write(self.0.as_raw_fd(), one.as_ptr().cast(), one.len()) };
    }

    /// Takes the rings so far (the watcher, before it looks at the ring again).
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 8];
        // SAFETY: `buf` is a live 8-byte buffer; the descriptor is non-blocking.
        let _ = unsafe { libc::read(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    }
}

impl AsFd for Bell {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// Why [`SendRing::write`] did not take a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// No room until the reader releases some; the reader will ring the bell.
    Full,
    /// Never: the frame is larger than the ring, or the reader published an impossible
    /// position and the ring is no longer used.
    Never,
}

/// The writing end of a ring: lives in the sending connection.
pub(crate) struct SendRing {
    map: Mapping,
    capacity: u64,
    /// The absolute position after the last frame written.
    head: u64,
    /// The peer published an impossible position: the ring is no longer used.
    broken: bool,
}

impl SendRing {
    /// A ring with room for `capacity` octets of frames, and the descriptor to send the peer.
    pub(crate) fn create(capacity: usize) -> io::Result<(SendRing, OwnedFd)> {
        let len = HEADER
            .checked_add(capacity)
            .filter(|_| capacity > 0 && capacity as u64 <= MAX_CAPACITY)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
        // SAFETY: the name is a NUL-terminated literal; the result is checked.
        let raw = check(unsafe { libc::memfd_create(c"zmq-ring".as_ptr(), flags) })?;
        // SAFETY: memfd_create returned a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: plain calls on a descriptor we own; results are checked.
        check(unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) })?;
        // SAFETY: as above.
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, REQUIRED_SEALS) })?;
        let map = Mapping::new(&fd, len)?;
        let ring = SendRing {
            map,
            capacity: capacity as u64,
            head: 0,
            broken: false,
        };
        Ok((ring, fd))
    }

    /// Room for frames, in octets.
    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// True once the reader published an impossible position: the ring takes nothing more.
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// Copies `frame` into the ring and returns its absolute position; refused when the ring
    /// lacks room for it now (the reader has not read far enough: the waiting flag is then
    /// raised) or for good.
    pub(crate) fn write(&mut self, frame: &[u8]) -> Result<u64, Refused> {
        let len = frame.len() as u64;
        if self.broken || len == 0 || len > self.capacity {
            return Err(Refused::Never);
        }
        let mut pos = self.head;
        let offset = pos % self.capacity;
        if offset + len > self.capacity {
            // Frames are contiguous: skip the end of the ring.
            pos += self.capacity - offset;
        }
        // A position the reader may publish: not past what we wrote, nor a ring behind it.
        let head = self.head;
        let capacity = self.capacity;
        let valid = |released: u64| released <= head && head - released <= capacity;
        // The frame must not overwrite what the reader has not read, [released, head); with
        // nothing unread, any place fits (the skipped end is never read).
        let fits = |released: u64| released == head || pos + len - released <= capacity;
        let mut released = self.map.released().load(Ordering::Acquire);
        if valid(released) && !fits(released) {
            // Raise the flag, then look again: a reader releasing meanwhile either sees the
            // flag (and wakes us) or its release is seen here (SeqCst on both sides).
            self.map.waiting().store(1, Ordering::SeqCst);
            released = self.map.released().load(Ordering::SeqCst);
            if valid(released) && !fits(released) {
                return Err(Refused::Full);
            }
            self.map.waiting().store(0, Ordering::Relaxed);
        }
        if !valid(released) {
            self.broken = true;
            return Err(Refused::Never);
        }
        let at = HEADER + (pos % self.capacity) as usize;
        debug_assert!(at + frame.len() <= self.map.len);
        let dst = self.map.base.as_ptr().wrapping_add(at);
        // SAFETY: at + len <= HEADER + capacity = the mapping's length (checked above), so
        // `dst` starts a stretch of our mapping's frame area that long; the source is a
        // borrowed slice of our own memory, which cannot overlap a shared mapping. The peer
        // has released these octets and reads them only once it learns this position from
        // the stream (a peer writing them meanwhile only garbles the frame sent to it).
        unsafe { std::ptr::copy_nonoverlapping(frame.as_ptr(), dst, frame.len()) };
        self.head = pos + len;
        Ok(pos)
    }
}

/// The reading end of a peer's ring: lives in the receiving connection.
pub(crate) struct RecvRing {
    map: Mapping,
    capacity: u64,
}

impl RecvRing {
    /// Maps the ring the peer sent as `fd`, announced with `capacity` octets of frames. Fails
    /// unless it is a sealed memfd of exactly that size.
    pub(crate) fn open(fd: OwnedFd, capacity: u64) -> io::Result<RecvRing> {
        let invalid = || io::Error::from_raw_os_error(libc::EINVAL);
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(invalid());
        }
        let len = HEADER + capacity as usize;
        // SAFETY: F_GET_SEALS takes no argument; fails (EINVAL) on anything but a memfd.
        let seals = check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) })?;
        if seals & REQUIRED_SEALS != REQUIRED_SEALS {
            return Err(invalid());
        }
        // SAFETY: zeroed libc::stat/statfs are valid out-parameters for these calls.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: st is a valid out-pointer.
        check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG || st.st_size as u64 != len as u64 {
            return Err(invalid());
        }
        // SAFETY: as above.
        let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: fs is a valid out-pointer.
        check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut fs) })?;
        if fs.f_type as i64 == HUGETLBFS_MAGIC {
            return Err(invalid());
        }
        let map = Mapping::new(&fd, len)?;
        Ok(RecvRing { map, capacity })
    }

    /// True if a frame of `len` octets at absolute position `pos` lies within the ring.
    pub(crate) fn holds(&self, pos: u64, len: usize) -> bool {
        len as u64 <= self.capacity - pos % self.capacity
    }

    /// Appends the `len` octets at absolute position `pos` to `v`; false if they cannot lie
    /// in the ring (or memory is short).
    pub(crate) fn read(&self, pos: u64, len: usize, v: &mut Vec<u8>) -> bool {
        if !self.holds(pos, len) {
            return false;
        }
        let at = pos % self.capacity;
        if v.try_reserve_exact(len).is_err() {
            return false;
        }
        fence(Ordering::Acquire);
        let src = self.map.base.as_ptr().wrapping_add(HEADER + at as usize);
        let dst = v.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        // SAFETY: at + len <= capacity, so `src` starts a stretch of our mapping's frame area
        // (HEADER + capacity long) len octets long; `dst` is the Vec's spare capacity, at
        // least len bytes (reserved above) of our own memory, which cannot overlap a shared
        // mapping. A sender writing these octets meanwhile only changes what we copy, its own
        // frame.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, len) };
        // SAFETY: the copy initialised the len bytes after the Vec's length.
        unsafe { v.set_len(v.len() + len) };
        true
    }

    /// Tells the writer that everything before absolute position `end` has been read; true
    /// if the writer waits for room and must be told (once: ring its bell).
    pub(crate) fn release(&self, end: u64) -> bool {
        self.map.released().store(end, Ordering::SeqCst);
        self.map.waiting().load(Ordering::SeqCst) != 0
            && self.map.waiting().swap(0, Ordering::SeqCst) != 0
    }
}

/// Most descriptors taken from one read; a peer sending more loses them (the kernel closes
/// what does not fit).
const MAX_FDS: usize = 4;
/// `cmsghdr`'s size: its data follows (Linux aligns both to the size of a `usize`).
const CMSG_HEADER: usize = size_of::<libc::cmsghdr>();
const _: () = assert!(CMSG_HEADER == 16 && align_of::<libc::cmsghdr>() == 8);

/// Splits a control buffer the kernel filled into its `SCM_RIGHTS` descriptors (the
/// `CMSG_FIRSTHDR`/`CMSG_NXTHDR` walk, over bytes).
fn passed_fds(control: &[u8], fds: &mut Vec<OwnedFd>) {
    let word = |b: &[u8], at: usize| -> Option<usize> {
        Some(usize::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
    };
    let int = |b: &[u8], at: usize| -> Option<libc::c_int> {
        Some(libc::c_int::from_ne_bytes(
            b.get(at..at + 4)?.try_into().ok()?,
        ))
    };
    let mut at = 0;
    while let (Some(len), Some(level), Some(kind)) = (
        word(control, at),
        int(control, at + 8),
        int(control, at + 12),
    ) {
        if len < CMSG_HEADER || at + len > control.len() {
            break;
        }
        if level == libc::SOL_SOCKET && kind == libc::SCM_RIGHTS {
            let mut i = at + CMSG_HEADER;
            while i + 4 <= at + len {
                if let Some(raw) = int(control, i) {
                    // SAFETY: SCM_RIGHTS data are descriptors the kernel just installed in
                    // this process for us; nothing else owns them.
                    fds.push(unsafe { OwnedFd::from_raw_fd(raw) });
                }
                i += 4;
            }
        }
        at += len.next_multiple_of(8);
    }
}

/// Reads up to `max` octets into `buf`'s spare capacity (reserving `reserve` first), as
/// `sys::read_into` does, and appends the descriptors that came with them to `fds`.
pub(crate) fn read_with_fds(
    fd: i32,
    buf: &mut bytes::BytesMut,
    reserve: usize,
    max: usize,
    fds: &mut Vec<OwnedFd>,
) -> io::Result<usize> {
    use bytes::BufMut;
    buf.reserve(reserve);
    let spare = buf.chunk_mut();
    let len = spare.len().min(max);
    let mut iov = libc::iovec {
        iov_base: spare.as_mut_ptr().cast(),
        iov_len: len,
    };
    // u64 words keep the control buffer aligned for cmsghdr.
    let mut control = [0u64; (CMSG_HEADER + MAX_FDS * 4).div_ceil(8)];
    // SAFETY: a zeroed msghdr is valid; the fields set below point at live buffers.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control.as_mut_ptr().cast();
    hdr.msg_controllen = size_of_val(&control);
    // SAFETY: hdr points at `iov` (len writable bytes of BytesMut's spare capacity) and at
    // `control`, all live for the call.
    let rc = unsafe { libc::recvmsg(fd, &mut hdr, libc::MSG_CMSG_CLOEXEC) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel initialised exactly rc <= len bytes of the spare capacity.
    unsafe { buf.advance_mut(rc as usize) };
    // Almost every read brings no descriptor: nothing to parse then (and no copy).
    if hdr.msg_controllen > 0 {
        let mut bytes = [0u8; size_of::<[u64; (CMSG_HEADER + MAX_FDS * 4).div_ceil(8)]>()];
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(&control) {
            chunk.copy_from_slice(&w.to_ne_bytes());
        }
        let filled = hdr.msg_controllen.min(bytes.len());
        passed_fds(&bytes[..filled], fds);
    }
    Ok(rc as usize)
}

/// Writes `bufs` to the stream `fd` as `writev` would, passing `pass` (at most [`MAX_FDS`])
/// along with the first octet written.
pub(crate) fn write_with_fds(
    fd: i32,
    bufs: &[std::io::IoSlice<'_>],
    pass: &[OwnedFd],
) -> io::Result<usize> {
    // One cmsghdr (length, level, type) and the descriptors, padded to 8 octets, aligned.
    #[repr(C, align(8))]
    struct Control([u8; CMSG_HEADER + MAX_FDS * 4]);
    let pass = &pass[..pass.len().min(MAX_FDS)];
    let mut control = Control([0; CMSG_HEADER + MAX_FDS * 4]);
    let mut at = 0;
    let mut put = |p: &[u8]| {
        control.0[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    };
    put(&(CMSG_HEADER + 4 * pass.len()).to_ne_bytes());
    put(&libc::SOL_SOCKET.to_ne_bytes());
    put(&libc::SCM_RIGHTS.to_ne_bytes());
    for f in pass {
        put(&f.as_raw_fd().to_ne_bytes());
    }
    let used = (CMSG_HEADER + 4 * pass.len()).next_multiple_of(8);
    // SAFETY: a zeroed msghdr is valid; IoSlice is ABI-compatible with iovec.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = bufs.as_ptr().cast_mut().cast();
    hdr.msg_iovlen = bufs.len();
    hdr.msg_control = control.0.as_mut_ptr().cast();
    hdr.msg_controllen = used;
    // SAFETY: hdr points at the caller's live buffers (read only) and our control buffer.
    let rc = unsafe { libc::sendmsg(fd, &hdr, libc::MSG_NOSIGNAL) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_cross_the_ring_and_room_comes_back_when_released() {
        let (mut tx, fd) = SendRing::create(64 * 1024).unwrap();
        let rx = RecvRing::open(fd, 64 * 1024).unwrap();
        let a = vec![7u8; 40 * 1024];
        let pa = tx.write(&a).unwrap();
        assert_eq!(pa, 0);
        let b = vec![9u8; 30 * 1024];
        assert_eq!(
            tx.write(&b),
            Err(Refused::Full),
            "no room until the reader releases"
        );
        let mut out = Vec::new();
        assert!(rx.read(pa, a.len(), &mut out));
        assert_eq!(out, a);
        assert!(rx.release(pa + a.len() as u64), "the writer waits: wake it");
        assert!(!rx.release(pa + a.len() as u64), "once");
        // b does not fit behind a: it wraps to the start of the ring.
        let pb = tx.write(&b).unwrap();
        assert_eq!(pb, 64 * 1024);
        out.clear();
        assert!(rx.read(pb, b.len(), &mut out));
        assert_eq!(out, b);
        assert!(!rx.release(pb + b.len() as u64), "nobody waits");
        // A frame as large as the ring fits once everything before it is read, wherever the
        // last one ended.
        let c = vec![5u8; 64 * 1024];
        let pc = tx.write(&c).unwrap();
        assert_eq!(pc, 128 * 1024);
        assert!(rx.read(pc, c.len(), &mut out));
        assert_eq!(&out[b.len()..], c, "appended");
        assert_eq!(tx.write(&vec![0; 64 * 1024 + 1]), Err(Refused::Never));
    }

    #[test]
    fn a_frame_cannot_be_read_across_the_rings_end() {
        let (_tx, fd) = SendRing::create(8192).unwrap();
        let rx = RecvRing::open(fd, 8192).unwrap();
        let mut out = Vec::new();
        assert!(rx.read(4096, 4096, &mut out));
        assert!(!rx.read(4097, 4096, &mut out));
        assert!(!rx.read(u64::MAX, 4096, &mut out));
        assert!(!rx.read(0, 8193, &mut out));
    }

    #[test]
    fn an_impossible_release_stops_the_writer_for_good() {
        let (mut tx, fd) = SendRing::create(8192).unwrap();
        let rx = RecvRing::open(fd, 8192).unwrap();
        assert!(tx.write(&[1; 100]).is_ok());
        rx.release(1 << 40);
        assert_eq!(tx.write(&[1; 100]), Err(Refused::Never));
        rx.release(100);
        assert_eq!(tx.write(&[1; 100]), Err(Refused::Never), "still broken");
    }

    #[test]
    fn only_a_sealed_memfd_of_the_announced_size_is_accepted() {
        let (_tx, fd) = SendRing::create(8192).unwrap();
        let dup = fd.try_clone().unwrap();
        assert!(RecvRing::open(dup, 4096).is_err(), "wrong size");
        assert!(RecvRing::open(fd, 0).is_err());
        // An unsealed memfd.
        // SAFETY: literal name; result checked.
        let raw = unsafe { libc::memfd_create(c"plain".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(raw >= 0);
        // SAFETY: fresh descriptor.
        let plain = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: our descriptor.
        assert_eq!(unsafe { libc::ftruncate(raw, (HEADER + 8192) as _) }, 0);
        assert!(RecvRing::open(plain, 8192).is_err());
        // A regular file.
        let f = std::fs::File::open("/dev/null").unwrap();
        assert!(RecvRing::open(OwnedFd::from(f), 8192).is_err());
    }

    #[test]
    fn descriptors_travel_with_the_stream() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (_tx, ring) = SendRing::create(4096).unwrap();
        let (bell, peer_bell) = Bell::new().unwrap();
        let hello = [std::io::IoSlice::new(b"hello")];
        let n = write_with_fds(a.as_raw_fd(), &hello, &[ring, peer_bell]).unwrap();
        assert_eq!(n, 5);
        let mut buf = bytes::BytesMut::new();
        let mut fds = Vec::new();
        let got = read_with_fds(b.as_raw_fd(), &mut buf, 64, 64, &mut fds).unwrap();
        assert_eq!(got, 5);
        assert_eq!(&buf[..], b"hello");
        assert_eq!(fds.len(), 2);
        let their_bell = Bell::open(fds.pop().unwrap()).unwrap();
        assert!(RecvRing::open(fds.pop().unwrap(), 4096).is_ok());
        their_bell.ring();
        let mut pfd = libc::pollfd {
            fd: bell.as_fd().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 1000) }, 1, "rung");
        bell.drain();
        // SAFETY: as above.
        assert_eq!(unsafe { libc::poll(&mut pfd, 1, 0) }, 0, "drained");
        // Only anonymous inodes are taken as a bell.
        let f = std::fs::File::open("/dev/null").unwrap();
        assert!(Bell::open(OwnedFd::from(f)).is_err());
        let (x, _y) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(Bell::open(OwnedFd::from(x)).is_err());
    }
}
