//! The one error type of the engine and its single errno table.
//!
//! Layer L0. Every fallible function inside the crate returns [`Result`]; only the C boundary
//! (`capi::boundary`) turns an [`Error`] into `-1`/`NULL` plus errno, using [`Error::errno`].
//! Each variant maps to exactly one errno value, identical to `zmq.h` (platform values where
//! Linux has them, `ZMQ_HAUSNUMERO + n` for the four native ZeroMQ codes).
#![forbid(unsafe_code)]

use crate::consts::ZMQ_HAUSNUMERO;

/// `EFSM`: the operation is not valid in the socket's current state.
pub(crate) const EFSM: i32 = ZMQ_HAUSNUMERO + 51;
/// `ENOCOMPATPROTO`: the transport is not compatible with the socket type.
pub(crate) const ENOCOMPATPROTO: i32 = ZMQ_HAUSNUMERO + 52;
/// `ETERM`: the context was terminated.
pub(crate) const ETERM: i32 = ZMQ_HAUSNUMERO + 53;
/// `EMTHREAD`: no I/O thread is available.
pub(crate) const EMTHREAD: i32 = ZMQ_HAUSNUMERO + 54;

/// Everything that can go wrong, one variant per errno meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Error {
    /// Non-blocking mode was requested and the operation would block (`EAGAIN`).
    Again,
    /// A blocking operation was interrupted by a signal (`EINTR`).
    Interrupted,
    /// The context was terminated (`ETERM`).
    Term,
    /// The handle is not a valid socket (`ENOTSOCK`).
    NotSocket,
    /// A pointer or handle is invalid (`EFAULT`).
    Fault,
    /// An argument is invalid (`EINVAL`).
    Invalid,
    /// The operation is not allowed in the current state (`EFSM`).
    State,
    /// The message cannot be routed (`EHOSTUNREACH`).
    HostUnreachable,
    /// No I/O thread is available (`EMTHREAD`).
    NoThread,
    /// The transport protocol is not supported (`EPROTONOSUPPORT`).
    ProtocolNotSupported,
    /// The transport is incompatible with the socket type (`ENOCOMPATPROTO`).
    IncompatibleProtocol,
    /// The feature is not supported (`ENOTSUP`).
    NotSupported,
    /// The message is too large (`EMSGSIZE`).
    MessageSize,
    /// Out of memory (`ENOMEM`).
    NoMemory,
    /// The address is already in use (`EADDRINUSE`).
    AddressInUse,
    /// The address is not local (`EADDRNOTAVAIL`).
    AddressNotAvailable,
    /// The named device or endpoint does not exist (`ENODEV`).
    NoDevice,
    /// The endpoint was not found (`ENOENT`).
    NotFound,
    /// Too many open sockets or files (`EMFILE`).
    TooManyFiles,
    /// A path is too long (`ENAMETOOLONG`).
    NameTooLong,
    /// Any other operating-system error, carrying its errno.
    Os(i32),
}

impl Error {
    /// The errno value the C API reports for this error.
    pub(crate) fn errno(self) -> i32 {
        match self {
            Error::Again => libc::EAGAIN,
            Error::Interrupted => libc::EINTR,
            Error::Term => ETERM,
            Error::NotSocket => libc::ENOTSOCK,
            Error::Fault => libc::EFAULT,
            Error::Invalid => libc::EINVAL,
            Error::State => EFSM,
            Error::HostUnreachable => libc::EHOSTUNREACH,
            Error::NoThread => EMTHREAD,
            Error::ProtocolNotSupported => libc::EPROTONOSUPPORT,
            Error::IncompatibleProtocol => ENOCOMPATPROTO,
            Error::NotSupported => libc::ENOTSUP,
            Error::MessageSize => libc::EMSGSIZE,
            Error::NoMemory => libc::ENOMEM,
            Error::AddressInUse => libc::EADDRINUSE,
            Error::AddressNotAvailable => libc::EADDRNOTAVAIL,
            Error::NoDevice => libc::ENODEV,
            Error::NotFound => libc::ENOENT,
            Error::TooManyFiles => libc::EMFILE,
            Error::NameTooLong => libc::ENAMETOOLONG,
            Error::Os(code) => code,
        }
    }

    /// Maps an OS error (from `std::io` or a raw errno) back to the matching variant.
    pub(crate) fn from_errno(code: i32) -> Error {
        match code {
            libc::EAGAIN => Error::Again,
            libc::EINTR => Error::Interrupted,
            libc::EFAULT => Error::Fault,
            libc::EINVAL => Error::Invalid,
            libc::EHOSTUNREACH => Error::HostUnreachable,
            libc::EPROTONOSUPPORT => Error::ProtocolNotSupported,
            libc::ENOTSUP => Error::NotSupported,
            libc::EMSGSIZE => Error::MessageSize,
            libc::ENOMEM => Error::NoMemory,
            libc::EADDRINUSE => Error::AddressInUse,
            libc::EADDRNOTAVAIL => Error::AddressNotAvailable,
            libc::ENODEV => Error::NoDevice,
            libc::ENOENT => Error::NotFound,
            libc::EMFILE => Error::TooManyFiles,
            libc::ENAMETOOLONG => Error::NameTooLong,
            libc::ENOTSOCK => Error::NotSocket,
            ETERM => Error::Term,
            EFSM => Error::State,
            ENOCOMPATPROTO => Error::IncompatibleProtocol,
            EMTHREAD => Error::NoThread,
            other => Error::Os(other),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(code) => Error::from_errno(code),
            None if e.kind() == std::io::ErrorKind::WouldBlock => Error::Again,
            None => Error::Invalid,
        }
    }
}

/// The crate's result type.
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// The text `zmq_strerror` gives for the four ZeroMQ-specific codes (and EHOSTUNREACH, which
/// libzmq words itself); `None` for the rest,
/// which take the system's message.
pub(crate) fn native_message(code: i32) -> Option<&'static str> {
    match code {
        EFSM => Some("Operation cannot be accomplished in current state"),
        ENOCOMPATPROTO => Some("The protocol is not compatible with the socket type"),
        ETERM => Some("Context was terminated"),
        EMTHREAD => Some("No thread available"),
        // libzmq has its own wording for this one on every platform.
        libc::EHOSTUNREACH => Some("Host unreachable"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_through_its_errno() {
        let all = [
            Error::Again,
            Error::Interrupted,
            Error::Term,
            Error::NotSocket,
            Error::Fault,
            Error::Invalid,
            Error::State,
            Error::HostUnreachable,
            Error::NoThread,
            Error::ProtocolNotSupported,
            Error::IncompatibleProtocol,
            Error::NotSupported,
            Error::MessageSize,
            Error::NoMemory,
            Error::AddressInUse,
            Error::AddressNotAvailable,
            Error::NoDevice,
            Error::NotFound,
            Error::TooManyFiles,
            Error::NameTooLong,
        ];
        for e in all {
            assert_eq!(Error::from_errno(e.errno()), e, "{e:?}");
        }
        assert_eq!(Error::from_errno(libc::EPIPE), Error::Os(libc::EPIPE));
    }

    #[test]
    fn native_codes_match_zmq_h() {
        assert_eq!(ETERM, 156384765);
        assert_eq!(EFSM, 156384763);
        assert_eq!(native_message(ETERM), Some("Context was terminated"));
        assert_eq!(native_message(libc::EINVAL), None);
    }
}
