//! The context: socket registry, inproc endpoint registry, context options and termination.
//!
//! Layer L3. Sockets reach context services only through [`Shared`], which stores ids and
//! mailboxes, never socket objects. Termination follows libzmq: `zmq_ctx_shutdown` (and the
//! start of `zmq_ctx_term`) sends every socket a `Stop` command so blocking calls return ETERM;
//! `zmq_ctx_term` then waits until every socket has been closed.
#![forbid(unsafe_code)]

mod inproc;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::{Condvar, Mutex};

pub(crate) use inproc::{Inproc, InprocPeer, PendingConnect};

use crate::command::Command;
use crate::consts::*;
use crate::error::{Error, Result};
use crate::mailbox::Mailbox;
use crate::reactor::Remote;
use crate::session::{IoCommand, IoThread};
use crate::sys::ThreadSettings;

/// Identifies a socket inside its context.
pub(crate) type SocketId = u64;

/// Context options (`zmq_ctx_set`/`zmq_ctx_get`).
#[derive(Clone, Debug)]
pub(crate) struct CtxOptions {
    pub(crate) io_threads: i32,
    pub(crate) max_sockets: i32,
    pub(crate) ipv6: bool,
    pub(crate) blocky: bool,
    pub(crate) max_msgsz: i32,
    /// `ZMQ_THREAD_SCHED_POLICY`, `ZMQ_THREAD_PRIORITY` and the affinity CPUs, for I/O
    /// threads started from now on.
    pub(crate) threads: ThreadSettings,
    /// `ZMQ_THREAD_NAME_PREFIX` (libzmq keeps it as text: `zmq_ctx_get` returns its `atoi`,
    /// 0 while unset, and a prefix of 0 still names threads `0/ZMQbg/...`).
    pub(crate) thread_name_prefix: Option<i32>,
    pub(crate) zero_copy_recv: bool,
}

impl Default for CtxOptions {
    fn default() -> Self {
        CtxOptions {
            io_threads: ZMQ_IO_THREADS_DFLT,
            max_sockets: ZMQ_MAX_SOCKETS_DFLT,
            ipv6: false,
            blocky: true,
            max_msgsz: i32::MAX,
            threads: ThreadSettings::default(),
            thread_name_prefix: None,
            zero_copy_recv: true,
        }
    }
}

/// What a context shares with its sockets.
pub(crate) struct Shared {
    terminating: AtomicBool,
    next_socket: AtomicU64,
    sockets: Mutex<HashMap<SocketId, Arc<Mailbox<Command>>>>,
    /// How many sockets may be open: `ZMQ_MAX_SOCKETS` as it was when the first socket was
    /// created (libzmq sizes its socket table then and never again).
    socket_slots: OnceLock<usize>,
    all_closed: Condvar,
    /// The inproc endpoint registry.
    pub(crate) inproc: Mutex<Inproc>,
    options: Mutex<CtxOptions>,
    io: Mutex<IoThreads>,
}

#[derive(Default)]
struct IoThreads {
    threads: Vec<IoThread>,
    next: usize,
}

impl Shared {
    /// True once the context is being terminated.
    pub(crate) fn is_terminating(&self) -> bool {
        self.terminating.load(Ordering::Acquire)
    }

    /// A copy of the context options.
    pub(crate) fn options(&self) -> CtxOptions {
        self.options.lock().clone()
    }

    /// Registers a new socket's mailbox; ETERM once terminating, EMFILE past `ZMQ_MAX_SOCKETS`
    /// (as set when the first socket was created).
    pub(crate) fn register(&self, mailbox: Arc<Mailbox<Command>>) -> Result<SocketId> {
        let max = *self
            .socket_slots
            .get_or_init(|| usize::try_from(self.options.lock().max_sockets).unwrap_or(0));
        let mut sockets = self.sockets.lock();
        if self.is_terminating() {
            return Err(Error::Term);
        }
        if sockets.len() >= max {
            return Err(Error::TooManyFiles);
        }
        let id = self.next_socket.fetch_add(1, Ordering::Relaxed);
        sockets.insert(id, mailbox);
        Ok(id)
    }

    /// An I/O thread for a new tcp/ipc endpoint: the threads are started on first use, and
    /// the choice rotates over those whose bit is set in `affinity` (`ZMQ_AFFINITY`; 0 = any).
    /// EMTHREAD when the context has no I/O threads, ETERM when terminating.
    pub(crate) fn io_thread(&self, affinity: u64) -> Result<Arc<Remote<IoCommand>>> {
        if self.is_terminating() {
            return Err(Error::Term);
        }
        let (wanted, settings, prefix) = {
            let o = self.options.lock();
            let wanted = usize::try_from(o.io_threads).unwrap_or(0);
            (wanted, o.threads.clone(), o.thread_name_prefix)
        };
        if wanted == 0 {
            return Err(Error::NoThread);
        }
        let mut io = self.io.lock();
        while io.threads.len() < wanted {
            let n = io.threads.len();
            let name = match prefix {
                Some(p) => format!("{p}/ZMQbg/IO/{n}"),
                None => format!("ZMQbg/IO/{n}"),
            };
            io.threads.push(IoThread::start(name, settings.clone())?);
        }
        let n = io.threads.len();
        let allowed = |i: usize| affinity == 0 || (i < 64 && affinity & (1u64 << i) != 0);
        let candidates: Vec<usize> = (0..n).filter(|&i| allowed(i)).collect();
        let pool = if candidates.is_empty() {
            (0..n).collect()
        } else {
            candidates
        };
        let i = pool[io.next % pool.len()];
        io.next = io.next.wrapping_add(1);
        Ok(Arc::clone(io.threads[i].remote()))
    }

    /// Forgets a closed socket and wakes a waiting `zmq_ctx_term`.
    pub(crate) fn unregister(&self, id: SocketId) {
        let mut sockets = self.sockets.lock();
        sockets.remove(&id);
        if sockets.is_empty() {
            self.all_closed.notify_all();
        }
    }
}

/// A context: what `zmq_ctx_new` returns.
pub(crate) struct Context {
    shared: Arc<Shared>,
}

impl Context {
    /// A new context with default options.
    pub(crate) fn new() -> Context {
        Context {
            shared: Arc::new(Shared {
                terminating: AtomicBool::new(false),
                next_socket: AtomicU64::new(1),
                sockets: Mutex::new(HashMap::new()),
                socket_slots: OnceLock::new(),
                all_closed: Condvar::new(),
                inproc: Mutex::new(Inproc::default()),
                options: Mutex::new(CtxOptions::default()),
                io: Mutex::new(IoThreads::default()),
            }),
        }
    }

    /// The handle sockets keep.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// `zmq_ctx_shutdown`: every blocking call on the context's sockets returns ETERM, and so
    /// does every later call except `zmq_close`. Idempotent.
    pub(crate) fn shutdown(&self) {
        let sockets = self.shared.sockets.lock();
        if self.shared.terminating.swap(true, Ordering::AcqRel) {
            return;
        }
        for mailbox in sockets.values() {
            mailbox.send(Command::Stop);
        }
    }

    /// `zmq_ctx_term`: shuts down, blocks until every socket is closed, then until the I/O
    /// threads have finished lingering (delivering what closed sockets left queued).
    pub(crate) fn terminate(&self) {
        self.shutdown();
        let mut sockets = self.shared.sockets.lock();
        while !sockets.is_empty() {
            self.shared.all_closed.wait(&mut sockets);
        }
        drop(sockets);
        let threads = std::mem::take(&mut self.shared.io.lock().threads);
        for t in threads {
            t.stop();
        }
    }

    /// `zmq_ctx_set`.
    pub(crate) fn set(&self, option: i32, value: i32) -> Result<()> {
        let mut o = self.shared.options.lock();
        match option {
            ZMQ_IO_THREADS if value >= 0 => o.io_threads = value,
            ZMQ_MAX_SOCKETS if value >= 1 => o.max_sockets = value,
            ZMQ_IPV6 if value >= 0 => o.ipv6 = value != 0,
            ZMQ_BLOCKY if value >= 0 => o.blocky = value != 0,
            ZMQ_MAX_MSGSZ if value >= 0 => o.max_msgsz = value,
            ZMQ_THREAD_PRIORITY if value >= 0 => o.threads.priority = Some(value),
            ZMQ_THREAD_SCHED_POLICY if value >= 0 => o.threads.policy = Some(value),
            ZMQ_THREAD_NAME_PREFIX => o.thread_name_prefix = Some(value),
            ZMQ_THREAD_AFFINITY_CPU_ADD if value >= 0 => {
                o.threads.cpus.insert(value as usize);
            }
            // Removing a CPU that is not in the set is EINVAL, as in libzmq.
            ZMQ_THREAD_AFFINITY_CPU_REMOVE if value >= 0 => {
                if !o.threads.cpus.remove(&(value as usize)) {
                    return Err(Error::Invalid);
                }
            }
            draft::ZMQ_ZERO_COPY_RECV if value >= 0 => o.zero_copy_recv = value != 0,
            _ => return Err(Error::Invalid),
        }
        Ok(())
    }

    /// `zmq_ctx_get`.
    pub(crate) fn get(&self, option: i32) -> Result<i32> {
        let o = self.shared.options.lock();
        Ok(match option {
            ZMQ_IO_THREADS => o.io_threads,
            ZMQ_MAX_SOCKETS => o.max_sockets,
            // Same number as ZMQ_THREAD_PRIORITY, which can only be set.
            ZMQ_SOCKET_LIMIT => 65535,
            ZMQ_IPV6 => i32::from(o.ipv6),
            ZMQ_BLOCKY => i32::from(o.blocky),
            ZMQ_MAX_MSGSZ => o.max_msgsz,
            ZMQ_MSG_T_SIZE => 64,
            ZMQ_THREAD_SCHED_POLICY => o.threads.policy.unwrap_or(ZMQ_THREAD_SCHED_POLICY_DFLT),
            ZMQ_THREAD_NAME_PREFIX => o.thread_name_prefix.unwrap_or(0),
            draft::ZMQ_ZERO_COPY_RECV => i32::from(o.zero_copy_recv),
            _ => return Err(Error::Invalid),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_and_reject_bad_values() {
        let ctx = Context::new();
        assert_eq!(ctx.get(ZMQ_IO_THREADS).unwrap(), 1);
        ctx.set(ZMQ_MAX_SOCKETS, 10).unwrap();
        assert_eq!(ctx.get(ZMQ_MAX_SOCKETS).unwrap(), 10);
        assert_eq!(ctx.set(ZMQ_IO_THREADS, -1), Err(Error::Invalid));
        assert_eq!(ctx.get(ZMQ_MSG_T_SIZE).unwrap(), 64);
        assert_eq!(ctx.get(12345), Err(Error::Invalid));
    }

    #[test]
    fn thread_name_prefix_takes_any_int() {
        let ctx = Context::new();
        assert_eq!(ctx.get(ZMQ_THREAD_NAME_PREFIX).unwrap(), 0);
        ctx.set(ZMQ_THREAD_NAME_PREFIX, -7).unwrap();
        assert_eq!(ctx.get(ZMQ_THREAD_NAME_PREFIX).unwrap(), -7);
    }

    #[test]
    fn max_sockets_is_fixed_by_the_first_socket() {
        let mailbox = || Arc::new(Mailbox::new().unwrap());
        let ctx = Context::new();
        ctx.set(ZMQ_MAX_SOCKETS, 1).unwrap();
        ctx.shared().register(mailbox()).unwrap();
        ctx.set(ZMQ_MAX_SOCKETS, 5).unwrap();
        assert_eq!(ctx.get(ZMQ_MAX_SOCKETS).unwrap(), 5);
        assert_eq!(ctx.shared().register(mailbox()), Err(Error::TooManyFiles));

        let ctx = Context::new();
        ctx.shared().register(mailbox()).unwrap();
        ctx.set(ZMQ_MAX_SOCKETS, 1).unwrap();
        assert!(ctx.shared().register(mailbox()).is_ok());
    }

    #[test]
    fn socket_limit_and_termination() {
        let ctx = Context::new();
        ctx.set(ZMQ_MAX_SOCKETS, 1).unwrap();
        let mb = Arc::new(Mailbox::new().unwrap());
        let id = ctx.shared().register(Arc::clone(&mb)).unwrap();
        assert_eq!(
            ctx.shared().register(Arc::new(Mailbox::new().unwrap())),
            Err(Error::TooManyFiles)
        );
        ctx.shutdown();
        assert!(matches!(mb.try_recv(), Some(Command::Stop)));
        ctx.shared().unregister(id);
        ctx.terminate();
        assert_eq!(
            ctx.shared().register(Arc::new(Mailbox::new().unwrap())),
            Err(Error::Term)
        );
    }
}
