//! Sockets: the object behind a `void *` socket handle.
//!
//! Layer L3 (may use `pipe`, `mailbox`, `command`, `options`, `msg`, and the context only
//! through `ctx::Shared`). `core.rs` is what every socket type shares: blocking send/recv with
//! timeouts, command processing, options, endpoints, termination; `pattern/` is one file per
//! socket type; `routing/` the strategies they are built from; `inproc.rs` the inproc
//! transport's bind/connect through the context's registry.
#![forbid(unsafe_code)]

mod core;
mod inproc;
pub(crate) mod pattern;
pub(crate) mod routing;

pub(crate) use core::Socket;

#[cfg(test)]
mod tests;
