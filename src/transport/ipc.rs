//! IPC addresses (`ipc://path`, `ipc://@abstract`, `ipc://*`), listeners and connects.
//! Binding a path replaces whatever file is there, a live listener's socket file too (as
//! zmq_ipc(7) documents: the earlier binding is overridden; an abstract name stays exclusive).
//! A listener removes its file when it closes, unless the file has been replaced since, so a
//! closed socket's listener never takes away the path of a socket bound after it.
#![forbid(unsafe_code)]

use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::PathBuf;

use super::{ConnectError, Listener, Stream};
use crate::error::{Error, Result};
use crate::options::{IpcFilters, Options};

/// A parsed IPC address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IpcAddress {
    /// A filesystem path.
    Path(PathBuf),
    /// A Linux abstract-namespace name (`ipc://@name`).
    Abstract(String),
    /// `ipc://*`: a fresh path chosen at bind.
    Any,
}

impl IpcAddress {
    /// Parses the part after `ipc://`.
    pub(crate) fn parse(address: &str) -> Result<IpcAddress> {
        if address == "*" {
            return Ok(IpcAddress::Any);
        }
        if let Some(name) = address.strip_prefix('@') {
            // An abstract name needs at least one character (libzmq: EINVAL).
            if name.is_empty() {
                return Err(Error::Invalid);
            }
            return Ok(IpcAddress::Abstract(name.to_owned()));
        }
        // sun_path holds 107 bytes plus the NUL.
        if address.len() > 107 {
            return Err(Error::NameTooLong);
        }
        Ok(IpcAddress::Path(PathBuf::from(address)))
    }
}

fn generated_path() -> Result<PathBuf> {
    let dir = std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    for _ in 0..100 {
        let candidate = dir.join(format!("zmq-rs-{:08x}.ipc", crate::util::random_u32()));
        if !candidate.exists() {
            return Ok(candidate);
        }
    }
    Err(Error::AddressInUse)
}

/// The socket file a listener created, known by its path and its identity (device, inode).
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    id: (u64, u64),
}

impl SocketFile {
    fn of(path: PathBuf) -> Result<SocketFile> {
        let m = std::fs::symlink_metadata(&path)?;
        Ok(SocketFile {
            path,
            id: (m.dev(), m.ino()),
        })
    }

    /// Removes the file if it is still the one this listener created.
    pub(super) fn remove(&self) {
        let ours =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.id);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub(super) fn bind(a: &IpcAddress, options: &Options) -> Result<(Listener, String)> {
    if options.use_fd >= 0 {
        // ZMQ_USE_FD: the application's listening socket; its file is the application's to
        // remove (libzmq neither replaces nor removes it).
        let (fd, guard) = crate::sys::adopt_listener(options.use_fd, libc::AF_UNIX)?;
        let listener = UnixListener::from(fd);
        listener.set_nonblocking(true)?;
        let shown = match a {
            IpcAddress::Path(p) => format!("ipc://{}", p.display()),
            IpcAddress::Abstract(name) => format!("ipc://@{name}"),
            IpcAddress::Any => "ipc://*".to_owned(),
        };
        return Ok((Listener::Ipc(listener, None, Some(guard)), shown));
    }
    match a {
        IpcAddress::Abstract(name) => {
            let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
            let l = UnixListener::bind_addr(&addr)?;
            l.set_nonblocking(true)?;
            Ok((Listener::Ipc(l, None, None), format!("ipc://@{name}")))
        }
        IpcAddress::Any | IpcAddress::Path(_) => {
            let path = match a {
                IpcAddress::Path(p) => p.clone(),
                _ => generated_path()?,
            };
            let l = match UnixListener::bind(&path) {
                Ok(l) => l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    std::fs::remove_file(&path)?;
                    UnixListener::bind(&path)?
                }
                Err(e) => return Err(e.into()),
            };
            l.set_nonblocking(true)?;
            let shown = format!("ipc://{}", path.display());
            let file = SocketFile::of(path)?;
            Ok((Listener::Ipc(l, Some(file), None), shown))
        }
    }
}

/// The send buffer an ipc connection moves to once it writes large frames, when `ZMQ_SNDBUF`
/// is left at -1 (the kernel caps it at `net.core.wmem_max`; see `Stream::grow_send_buffer`).
pub(super) const LARGE_FRAME_SNDBUF: usize = 4 * 1024 * 1024;

/// Whether the `ZMQ_IPC_FILTER_*`s admit an accepted connection's peer (all do when none is
/// set; none does when the kernel cannot say who the peer is).
pub(super) fn admitted(s: &UnixStream, filters: &IpcFilters) -> bool {
    use std::os::fd::AsFd;
    filters.is_empty()
        || crate::sys::peer_credentials(s.as_fd())
            .is_ok_and(|cred| filters.admits(cred, crate::sys::user_listed_in_group))
}

/// Applies `ZMQ_SNDBUF`/`ZMQ_RCVBUF` to an ipc connection when positive, as on tcp.
pub(super) fn configure(s: &UnixStream, options: &Options) -> Result<()> {
    let sock = socket2::SockRef::from(s);
    if options.sndbuf > 0 {
        sock.set_send_buffer_size(options.sndbuf as usize)?;
    }
    if options.rcvbuf > 0 {
        sock.set_recv_buffer_size(options.rcvbuf as usize)?;
    }
    Ok(())
}

pub(super) fn connect(
    a: &IpcAddress,
    options: &Options,
) -> std::result::Result<Stream, ConnectError> {
    let to = match a {
        IpcAddress::Path(p) => socket2::SockAddr::unix(p)?,
        IpcAddress::Abstract(name) => {
            // A leading NUL names the abstract namespace.
            let mut raw = vec![0u8];
            raw.extend_from_slice(name.as_bytes());
            socket2::SockAddr::unix(std::ffi::OsStr::from_bytes(&raw))?
        }
        IpcAddress::Any => return Err(Error::Invalid.into()),
    };
    let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
    let fd = sock.as_raw_fd();
    let start = || -> Result<Stream> {
        sock.set_cloexec(true)?;
        sock.connect(&to)?;
        let s = UnixStream::from(sock);
        configure(&s, options)?;
        s.set_nonblocking(true)?;
        Ok(Stream::Ipc(s))
    };
    start().map_err(|e| ConnectError::on(fd, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options::new(crate::consts::ZMQ_PULL)
    }

    #[test]
    fn stale_file_is_replaced_and_removed_on_close() {
        let path = generated_path().unwrap();
        std::fs::write(&path, b"").unwrap();
        let a = IpcAddress::Path(path.clone());
        let (l, shown) = bind(&a, &opts()).unwrap();
        assert_eq!(shown, format!("ipc://{}", path.display()));
        drop(l);
        assert!(!path.exists());
    }

    #[test]
    fn a_second_bind_takes_the_path_over_and_keeps_it() {
        let path = generated_path().unwrap();
        let a = IpcAddress::Path(path.clone());
        let (first, _) = bind(&a, &opts()).unwrap();
        let (second, _) = bind(&a, &opts()).unwrap();
        // The first listener closing leaves the second's file in place: connects reach it.
        drop(first);
        assert!(path.exists());
        let o = crate::options::Options::new(crate::consts::ZMQ_PULL);
        assert!(matches!(connect(&a, &o), Ok(Stream::Ipc(_))));
        assert!(
            matches!(second.accept(&o), Ok(super::super::Accepted::Stream(_))),
            "the connect reached the second listener"
        );
        drop(second);
        assert!(!path.exists());
    }

    #[test]
    fn an_abstract_name_stays_exclusive() {
        let name = format!("zmq-rs-test-{:08x}", crate::util::random_u32());
        let a = IpcAddress::Abstract(name);
        let (_l, _) = bind(&a, &opts()).unwrap();
        assert!(bind(&a, &opts()).is_err());
    }

    #[test]
    fn a_handed_over_socket_is_used_and_its_file_left_alone() {
        let path = generated_path().unwrap();
        let theirs = UnixListener::bind(&path).unwrap();
        let mut o = opts();
        o.use_fd = theirs.as_raw_fd();
        let elsewhere = IpcAddress::Path(path.with_extension("unused"));
        let (l, shown) = bind(&elsewhere, &o).unwrap();
        std::mem::forget(theirs); // the listener owns the fd now
        assert_eq!(
            shown,
            format!("ipc://{}", path.with_extension("unused").display())
        );
        let _peer = UnixStream::connect(&path).unwrap();
        let mut accepted = None;
        for _ in 0..100 {
            match l.accept(&opts()) {
                Ok(super::super::Accepted::Stream(s)) => {
                    accepted = Some(s);
                    break;
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        assert!(accepted.is_some(), "the connect to their path reached it");
        drop(l);
        assert!(path.exists(), "their file stays");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn wildcard_generates_a_path() {
        let (_l, shown) = bind(&IpcAddress::Any, &opts()).unwrap();
        assert!(shown.starts_with("ipc://"));
        assert!(shown.len() > "ipc://".len() + 1);
    }
}
