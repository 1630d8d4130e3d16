//! Commands: what other threads tell a socket through its mailbox.
//!
//! Layer L3. Each arm says who sends it and who receives it.
#![forbid(unsafe_code)]

use std::sync::Arc;

use bytes::Bytes;

use crate::mailbox::Mailbox;
use crate::pipe::{PipeEnd, PipeEvent, PipeId, PipeNotify};

/// A message to a socket's thread.
pub(crate) enum Command {
    /// Sent by the peer side of one of the socket's pipes (through [`SocketNotify`]): the pipe
    /// became readable, writable, or its peer closed.
    Pipe(PipeId, PipeEvent),
    /// Sent by a socket connecting over inproc to an endpoint this socket bound (or by the
    /// binder itself for connections that were waiting for the bind): attach this pipe end.
    Attach {
        /// The binder's end of the new pipe.
        pipe: PipeEnd,
        /// Routing id the binder assigned to this connection, if any.
        assigned_id: Option<Bytes>,
    },
    /// Sent by the context when it is terminated: blocking calls must return ETERM.
    Stop,
}

/// Hands `pipe` to the socket behind `mailbox` (an [`Command::Attach`]); false if that socket
/// has closed meanwhile, in which case the pipe is closed here (its other end then sees a
/// closed peer instead of waiting for a socket that will never take it).
pub(crate) fn attach(
    mailbox: &Mailbox<Command>,
    pipe: PipeEnd,
    assigned_id: Option<Bytes>,
) -> bool {
    match mailbox.send_or_return(Command::Attach { pipe, assigned_id }) {
        None => true,
        Some(Command::Attach { pipe, .. }) => {
            pipe.close();
            false
        }
        Some(_) => false,
    }
}

/// Closes a socket's mailbox for good, closing the pipes of the Attach commands still in it;
/// an [`attach`] after this closes its pipe itself.
pub(crate) fn close_mailbox(mailbox: &Mailbox<Command>) {
    for cmd in mailbox.close() {
        if let Command::Attach { pipe, .. } = cmd {
            pipe.close();
        }
    }
}

/// The [`PipeNotify`] of a socket: turns pipe events into commands in its mailbox.
pub(crate) struct SocketNotify(pub(crate) Arc<Mailbox<Command>>);

impl PipeNotify for SocketNotify {
    fn notify(&self, id: PipeId, event: PipeEvent) {
        self.0.send(Command::Pipe(id, event));
    }
}
