//! Socket monitors (`zmq_socket_monitor`): events published as two-frame messages (a 6-octet
//! frame holding the event number as uint16 and its value as uint32, native byte order, then
//! the endpoint) to the inproc PAIR endpoint the application named.
//!
//! Layer L3. The monitor binds its endpoint in the context's inproc registry with a mailbox of
//! its own; the application's PAIR connects there and the monitor picks the pipe up from that
//! mailbox on its next event. Events are never blocking: with no reader attached, or a full
//! pipe, they are dropped (as libzmq's non-blocking monitor send does). Both the socket's
//! thread and I/O threads emit, under the monitor's lock.
#![forbid(unsafe_code)]

use std::sync::Arc;

use parking_lot::Mutex;

use crate::command::Command;
use crate::ctx::{InprocPeer, Shared, SocketId};
use crate::error::Result;
use crate::mailbox::Mailbox;
use crate::msg::Msg;
use crate::pipe::PipeEnd;

struct Active {
    endpoint: String,
    events: i32,
    mailbox: Arc<Mailbox<Command>>,
    pipe: Option<PipeEnd>,
    id: SocketId,
}

/// A socket's monitor slot (inactive until `zmq_socket_monitor` names an endpoint).
#[derive(Default)]
pub(crate) struct Monitor {
    active: Mutex<Option<Active>>,
}

impl Monitor {
    /// Starts publishing `events` on `inproc://` `name`; replaces a previous monitor.
    pub(crate) fn start(
        &self,
        shared: &Shared,
        name: &str,
        events: i32,
        id: SocketId,
    ) -> Result<()> {
        self.stop(shared);
        let mailbox = Arc::new(Mailbox::new()?);
        let peer = InprocPeer {
            socket_id: id,
            mailbox: Arc::clone(&mailbox),
            sndhwm: 1000,
            rcvhwm: 1000,
            conflate: false,
            routing_id: None,
            swap: None,
        };
        let pending = shared.inproc.lock().bind(name, peer)?;
        let mut active = Active {
            endpoint: name.to_owned(),
            events,
            mailbox,
            pipe: None,
            id,
        };
        for p in pending {
            active.pipe = Some(p.pipe);
        }
        *self.active.lock() = Some(active);
        Ok(())
    }

    /// Stops monitoring: sends MONITOR_STOPPED (if wanted) and releases the endpoint.
    pub(crate) fn stop(&self, shared: &Shared) {
        self.emit(crate::consts::ZMQ_EVENT_MONITOR_STOPPED, 0, "");
        if let Some(active) = self.active.lock().take() {
            let _ = shared.inproc.lock().unbind(&active.endpoint, active.id);
            if let Some(p) = active.pipe {
                p.close();
            }
            crate::command::close_mailbox(&active.mailbox);
        }
    }

    /// Publishes one event if it is selected and a reader is attached.
    pub(crate) fn emit(&self, event: i32, value: u32, endpoint: &str) {
        let mut guard = self.active.lock();
        let Some(active) = guard.as_mut() else {
            return;
        };
        // Extension events are selected by their shared mask bit, not by their number.
        let mask_bit = if event & 0x8000 != 0 {
            crate::consts::ZMQ_EVENT_EXTENSIONS
        } else {
            event
        };
        if active.events & mask_bit == 0 {
            return;
        }
        while let Some(cmd) = active.mailbox.try_recv() {
            if let Command::Attach { pipe, .. } = cmd {
                match &active.pipe {
                    Some(_) => pipe.close(),
                    None => active.pipe = Some(pipe),
                }
            }
        }
        let Some(pipe) = &active.pipe else {
            return;
        };
        if !pipe.check_write() {
            return;
        }
        let mut head = [0u8; 6];
        head[..2].copy_from_slice(&(event as u16).to_ne_bytes());
        head[2..].copy_from_slice(&value.to_ne_bytes());
        let mut first = Msg::copy_from(&head);
        first.set_more(true);
        if pipe.write(first).is_ok() {
            let _ = pipe.write(Msg::copy_from(endpoint.as_bytes()));
        }
    }
}
