//! Overflow stores for `ZMQ_SWAP`: where a pipe puts whole messages once its in-memory queue
//! is at the high-water mark, to hand them back, in order, as the reader drains.
//!
//! Layer L1. [`FileStore`] writes length-prefixed frame records to segment files (mode 0600,
//! unique names, in the socket's `ZMQ_SWAP_DIR`) through large buffered writes and reads them
//! back sequentially; a segment is deleted as soon as it has been read, and every segment is
//! deleted when the store is dropped. The byte budget counts record bytes currently stored;
//! a multipart message that is already being written may exceed it by its remaining frames,
//! so that messages stay whole. [`MemoryStore`] is the same contract in memory, for tests.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::msg::Msg;

/// Where a pipe spills messages beyond its HWM.
pub(crate) trait OverflowStore: Send {
    /// True if a new message may start (the budget is not used up).
    fn has_room(&self) -> bool;
    /// Appends one frame (MORE flag kept).
    fn push(&mut self, frame: &Msg) -> Result<()>;
    /// Takes the oldest frame.
    fn pop(&mut self) -> Result<Option<Msg>>;
}

/// How a pipe direction swaps to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SwapConfig {
    /// Budget in bytes.
    pub(crate) budget: u64,
    /// Directory for the segment files.
    pub(crate) dir: PathBuf,
}

/// Record header: flags (1) + length (8).
const RECORD_HEADER: u64 = 9;
/// Segment files are rolled over at this size (or the budget, if smaller).
const SEGMENT_MAX: u64 = 64 << 20;
/// Buffered I/O block size.
const BLOCK: usize = 1 << 20;

struct Segment {
    path: PathBuf,
    written: u64,
}

/// Segment files on disk.
pub(crate) struct FileStore {
    dir: PathBuf,
    budget: u64,
    stored: u64,
    segments: VecDeque<Segment>,
    writer: Option<BufWriter<File>>,
    reader: Option<(BufReader<File>, u64)>,
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl FileStore {
    /// A store in `cfg.dir` holding at most `cfg.budget` bytes.
    pub(crate) fn new(cfg: &SwapConfig) -> FileStore {
        FileStore {
            dir: cfg.dir.clone(),
            budget: cfg.budget,
            stored: 0,
            segments: VecDeque::new(),
            writer: None,
            reader: None,
        }
    }

    fn new_segment(&mut self) -> Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
        }
        let name = format!(
            "zmq-swap-{}-{:08x}-{}.seg",
            std::process::id(),
            crate::util::random_u32(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let path = self.dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        self.writer = Some(BufWriter::with_capacity(BLOCK, file));
        self.segments.push_back(Segment { path, written: 0 });
        Ok(())
    }

    fn segment_limit(&self) -> u64 {
        self.budget.clamp(1 << 20, SEGMENT_MAX)
    }
}

impl OverflowStore for FileStore {
    fn has_room(&self) -> bool {
        self.stored < self.budget
    }

    fn push(&mut self, frame: &Msg) -> Result<()> {
        let need_new = match self.segments.back() {
            None => true,
            Some(s) => s.written >= self.segment_limit(),
        };
        if need_new || self.writer.is_none() {
            self.new_segment()?;
        }
        let w = self.writer.as_mut().ok_or(Error::Fault)?;
        let len = frame.len() as u64;
        w.write_all(&[u8::from(frame.more())])?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(frame.data())?;
        let rec = RECORD_HEADER + len;
        if let Some(s) = self.segments.back_mut() {
            s.written += rec;
        }
        self.stored += rec;
        Ok(())
    }

    fn pop(&mut self) -> Result<Option<Msg>> {
        if self.stored == 0 {
            return Ok(None);
        }
        if self.segments.len() == 1
            && let Some(w) = self.writer.as_mut()
        {
            w.flush()?;
        }
        if self.reader.is_none() {
            let seg = self.segments.front().ok_or(Error::Fault)?;
            let f = File::open(&seg.path)?;
            self.reader = Some((BufReader::with_capacity(BLOCK, f), 0));
        }
        let (r, off) = self.reader.as_mut().ok_or(Error::Fault)?;
        let mut head = [0u8; RECORD_HEADER as usize];
        r.read_exact(&mut head)?;
        let mut lb = [0u8; 8];
        lb.copy_from_slice(&head[1..]);
        let len = u64::from_le_bytes(lb);
        if len > self.stored {
            return Err(Error::Fault);
        }
        let n = usize::try_from(len).map_err(|_| Error::Fault)?;
        let mut data = vec![0u8; n];
        r.read_exact(&mut data)?;
        *off += RECORD_HEADER + len;
        self.stored -= RECORD_HEADER + len;
        let mut m = Msg::from_bytes(bytes::Bytes::from(data));
        m.set_more(head[0] & 1 != 0);
        let done_with_segment = self.segments.front().is_some_and(|s| s.written == *off);
        if done_with_segment && (self.segments.len() > 1 || self.stored == 0) {
            self.reader = None;
            if let Some(s) = self.segments.pop_front() {
                let _ = std::fs::remove_file(&s.path);
            }
            if self.segments.is_empty() {
                self.writer = None;
            }
        }
        Ok(Some(m))
    }
}

impl FileStore {
    /// True when nothing is stored.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.stored == 0
    }
}

impl Drop for FileStore {
    fn drop(&mut self) {
        self.reader = None;
        self.writer = None;
        for s in self.segments.drain(..) {
            let _ = std::fs::remove_file(&s.path);
        }
    }
}

/// Checks that `dir` can hold swap files (used by `setsockopt(ZMQ_SWAP_DIR)`): ENOENT if it
/// does not exist, ENOTDIR if it is not a directory, EACCES if a file cannot be created there.
pub(crate) fn check_dir(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(Error::Os(libc::ENOTDIR));
    }
    let probe = dir.join(format!(
        "zmq-swap-probe-{}-{:08x}",
        std::process::id(),
        crate::util::random_u32()
    ));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&probe)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The default swap directory: `$TMPDIR`, else `/tmp` (never the working directory).
pub(crate) fn default_dir() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(d) if !d.is_empty() && Path::new(&d).is_absolute() => PathBuf::from(d),
        _ => PathBuf::from("/tmp"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir() -> PathBuf {
        let d = default_dir().join(format!("zmq-swap-test-{:08x}", crate::util::random_u32()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn file_store_keeps_order_flags_and_sizes_and_cleans_up() {
        let dir = tmpdir();
        let mut s = FileStore::new(&SwapConfig {
            budget: 100 << 20,
            dir: dir.clone(),
        });
        let mut first = Msg::copy_from(b"");
        first.set_more(true);
        s.push(&first).unwrap();
        s.push(&Msg::copy_from(&vec![7u8; 3 << 20])).unwrap();
        for i in 0..1000u32 {
            s.push(&Msg::copy_from(&i.to_le_bytes())).unwrap();
        }
        let a = s.pop().unwrap().unwrap();
        assert!(a.more() && a.is_empty());
        let b = s.pop().unwrap().unwrap();
        assert_eq!(b.len(), 3 << 20);
        assert!(!b.more());
        for i in 0..1000u32 {
            assert_eq!(s.pop().unwrap().unwrap().data(), i.to_le_bytes());
        }
        assert!(s.is_empty());
        assert!(s.pop().unwrap().is_none());
        s.push(&Msg::copy_from(b"again")).unwrap();
        drop(s);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no file left");
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn budget_limits_new_messages() {
        let dir = tmpdir();
        let mut s = FileStore::new(&SwapConfig {
            budget: 100,
            dir: dir.clone(),
        });
        assert!(s.has_room());
        s.push(&Msg::copy_from(&[0u8; 95])).unwrap();
        assert!(!s.has_room());
        s.pop().unwrap();
        assert!(s.has_room());
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tmpdir();
        let mut s = FileStore::new(&SwapConfig {
            budget: 1 << 20,
            dir: dir.clone(),
        });
        s.push(&Msg::copy_from(b"x")).unwrap();
        let entry = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap();
        assert_eq!(
            entry.metadata().unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn check_dir_reports_missing_and_non_directories() {
        assert_eq!(
            check_dir(Path::new("/nonexistent-zmq-dir")),
            Err(Error::NotFound)
        );
        assert_eq!(
            check_dir(Path::new("/etc/hostname")),
            Err(Error::Os(libc::ENOTDIR))
        );
        assert!(check_dir(&default_dir()).is_ok());
    }
}
