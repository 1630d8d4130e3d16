//! The inproc transport: bind, connect (before or after the bind), unbind and disconnect
//! through the context's registry. A connection is one pipe whose HWM in each direction is the
//! sum of the sender's SNDHWM and the receiver's RCVHWM (unbounded if either is 0), as libzmq.
#![forbid(unsafe_code)]

use super::Socket;
use crate::ctx::{InprocPeer, PendingConnect};
use crate::error::{Error, Result};
use crate::pipe::{self, DirectionConfig, PipeEnd};

fn hwm(sndhwm: i32, rcvhwm: i32) -> u64 {
    if sndhwm <= 0 || rcvhwm <= 0 {
        0
    } else {
        sndhwm as u64 + rcvhwm as u64
    }
}

fn direction(from: &InprocPeer, to: &InprocPeer) -> DirectionConfig {
    DirectionConfig {
        hwm: hwm(from.sndhwm, to.rcvhwm),
        conflate: from.conflate || to.conflate,
        swap: from.swap.clone(),
        byte_limit: 0,
        wake_bytes: 0,
    }
}

/// Sizes a connection's pipe once both sides are known.
fn size_pipe(binder_end: &PipeEnd, binder: &InprocPeer, connecter: &InprocPeer) {
    binder_end.set_out_hwm(hwm(binder.sndhwm, connecter.rcvhwm));
    binder_end.set_in_hwm(hwm(connecter.sndhwm, binder.rcvhwm));
    binder_end.set_own_routing_id(binder.routing_id.clone());
}

pub(super) fn bind(socket: &mut Socket, name: &str) -> Result<()> {
    let me = socket.inproc_peer();
    let pending = socket.shared.inproc.lock().bind(name, me.clone())?;
    for PendingConnect { pipe, connecter } in pending {
        size_pipe(&pipe, &me, &connecter);
        socket.attach(pipe, None);
    }
    socket.binds.push(name.to_owned());
    Ok(())
}

pub(super) fn connect(socket: &mut Socket, name: &str) -> Result<()> {
    let me = socket.inproc_peer();
    let assigned_id = socket.options.connect_routing_id.take();
    let mut registry = socket.shared.inproc.lock();
    let mine = if let Some(binder) = registry.lookup(name).cloned() {
        let (mine, theirs) = pipe::pair(direction(&me, &binder), direction(&binder, &me));
        mine.set_own_routing_id(me.routing_id.clone());
        theirs.set_own_routing_id(binder.routing_id.clone());
        // If the binder closed after the lookup, our end sees a closed peer.
        crate::command::attach(&binder.mailbox, theirs, None);
        mine
    } else {
        let out = DirectionConfig {
            hwm: u64::try_from(me.sndhwm).unwrap_or(0),
            conflate: me.conflate,
            swap: me.swap.clone(),
            byte_limit: 0,
            wake_bytes: 0,
        };
        let inb = DirectionConfig {
            hwm: u64::try_from(me.rcvhwm).unwrap_or(0),
            conflate: me.conflate,
            swap: None,
            byte_limit: 0,
            wake_bytes: 0,
        };
        let (mine, theirs) = pipe::pair(out, inb);
        mine.set_own_routing_id(me.routing_id.clone());
        registry.add_pending(
            name,
            PendingConnect {
                pipe: theirs,
                connecter: me,
            },
        );
        mine
    };
    drop(registry);
    socket.connects.push((name.to_owned(), mine.id()));
    socket.attach(mine, assigned_id);
    Ok(())
}

pub(super) fn unbind(socket: &mut Socket, name: &str) -> Result<()> {
    socket.shared.inproc.lock().unbind(name, socket.id)?;
    socket.binds.retain(|b| b != name);
    Ok(())
}

pub(super) fn disconnect(socket: &mut Socket, name: &str) -> Result<()> {
    let ids: Vec<_> = socket
        .connects
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, id)| *id)
        .collect();
    if ids.is_empty() {
        return Err(Error::NotFound);
    }
    socket.connects.retain(|(n, _)| n != name);
    // A connection still waiting for its bind sees the close when the binder attaches it.
    for id in ids {
        socket.detach(id);
    }
    Ok(())
}
