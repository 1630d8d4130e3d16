//! IPC addresses (`ipc://path`, `ipc://@abstract`, `ipc://*`), listeners and connects.
//! A stale socket file (nobody accepting) is replaced on bind; a live one gives EADDRINUSE.
//! The file is removed when the listener closes.
#![forbid(unsafe_code)]

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::PathBuf;

use super::{Listener, Stream};
use crate::error::{Error, Result};

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

pub(super) fn bind(a: &IpcAddress) -> Result<(Listener, String)> {
    match a {
        IpcAddress::Abstract(name) => {
            let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
            let l = UnixListener::bind_addr(&addr)?;
            l.set_nonblocking(true)?;
            Ok((Listener::Ipc(l, None), format!("ipc://@{name}")))
        }
        IpcAddress::Any | IpcAddress::Path(_) => {
            let path = match a {
                IpcAddress::Path(p) => p.clone(),
                _ => generated_path()?,
            };
            let l = match UnixListener::bind(&path) {
                Ok(l) => l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    if UnixStream::connect(&path).is_ok() {
                        return Err(Error::AddressInUse);
                    }
                    std::fs::remove_file(&path)?;
                    UnixListener::bind(&path)?
                }
                Err(e) => return Err(e.into()),
            };
            l.set_nonblocking(true)?;
            let shown = format!("ipc://{}", path.display());
            Ok((Listener::Ipc(l, Some(path)), shown))
        }
    }
}

pub(super) fn connect(a: &IpcAddress) -> Result<Stream> {
    let s = match a {
        IpcAddress::Path(p) => UnixStream::connect(p)?,
        IpcAddress::Abstract(name) => {
            UnixStream::connect_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?
        }
        IpcAddress::Any => return Err(Error::Invalid),
    };
    s.set_nonblocking(true)?;
    Ok(Stream::Ipc(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_file_is_replaced_and_removed_on_close() {
        let path = generated_path().unwrap();
        std::fs::write(&path, b"").unwrap();
        let a = IpcAddress::Path(path.clone());
        let (l, shown) = bind(&a).unwrap();
        assert_eq!(shown, format!("ipc://{}", path.display()));
        assert!(matches!(bind(&a), Err(Error::AddressInUse)));
        drop(l);
        assert!(!path.exists());
    }

    #[test]
    fn wildcard_generates_a_path() {
        let (_l, shown) = bind(&IpcAddress::Any).unwrap();
        assert!(shown.starts_with("ipc://"));
        assert!(shown.len() > "ipc://".len() + 1);
    }
}
