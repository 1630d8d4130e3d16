//! The inproc endpoint registry: which socket bound which name, and connections made before
//! the bind (libzmq 4 allows connect-before-bind on inproc).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use super::SocketId;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::mailbox::Mailbox;
use crate::pipe::PipeEnd;

/// What a socket contributes to an inproc connection (a snapshot of its options).
#[derive(Clone)]
pub(crate) struct InprocPeer {
    pub(crate) socket_id: SocketId,
    pub(crate) mailbox: Arc<Mailbox<Command>>,
    pub(crate) sndhwm: i32,
    pub(crate) rcvhwm: i32,
    pub(crate) conflate: bool,
    pub(crate) routing_id: Option<Bytes>,
    pub(crate) swap: Option<crate::pipe::swap::SwapConfig>,
}

/// A connection waiting for its endpoint to be bound: the binder's end of the pipe and the
/// connecter's options (to size the pipe once the binder's are known).
pub(crate) struct PendingConnect {
    pub(crate) pipe: PipeEnd,
    pub(crate) connecter: InprocPeer,
}

/// Bound endpoints and pending connections, by name.
#[derive(Default)]
pub(crate) struct Inproc {
    bound: HashMap<String, InprocPeer>,
    pending: HashMap<String, Vec<PendingConnect>>,
}

impl Inproc {
    /// Binds `name` to `peer`; returns the connections that were waiting for it.
    /// EADDRINUSE if already bound.
    pub(crate) fn bind(&mut self, name: &str, peer: InprocPeer) -> Result<Vec<PendingConnect>> {
        if self.bound.contains_key(name) {
            return Err(Error::AddressInUse);
        }
        self.bound.insert(name.to_owned(), peer);
        Ok(self.pending.remove(name).unwrap_or_default())
    }

    /// The socket bound to `name`, if any.
    pub(crate) fn lookup(&self, name: &str) -> Option<&InprocPeer> {
        self.bound.get(name)
    }

    /// Parks a connection until `name` is bound.
    pub(crate) fn add_pending(&mut self, name: &str, pending: PendingConnect) {
        self.pending
            .entry(name.to_owned())
            .or_default()
            .push(pending);
    }

    /// Unbinds `name` if `socket` bound it; ENOENT otherwise.
    pub(crate) fn unbind(&mut self, name: &str, socket: SocketId) -> Result<()> {
        match self.bound.get(name) {
            Some(p) if p.socket_id == socket => {
                self.bound.remove(name);
                Ok(())
            }
            _ => Err(Error::NotFound),
        }
    }

    /// Removes everything `socket` registered: its binds and its pending connections (whose
    /// pipes are closed).
    pub(crate) fn remove_socket(&mut self, socket: SocketId) {
        self.bound.retain(|_, p| p.socket_id != socket);
        for list in self.pending.values_mut() {
            list.retain(|p| {
                let keep = p.connecter.socket_id != socket;
                if !keep {
                    p.pipe.close();
                }
                keep
            });
        }
        self.pending.retain(|_, l| !l.is_empty());
    }
}
