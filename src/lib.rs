//! libzmq-rs: ZeroMQ in Rust, built as a C-ABI drop-in for libzmq 4.3.5 (`libzmq.so.5`).
//!
//! The crate is a C library first: `capi` holds every exported `zmq_*` function and
//! `include/zmq.h` is generated from it (see ARCHITECTURE.md in the shared design notes for the
//! layers: `capi` → objects → I/O → concurrency → pure modules).
#![deny(unsafe_code)]

mod capi;
mod command;
pub mod consts;
mod ctx;
mod error;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;
mod mailbox;
mod mechanism;
mod monitor;
mod msg;
mod options;
mod pipe;
mod reactor;
mod session;
mod socket;
mod sys;
mod transport;
mod util;
mod zmtp;

/// A byte-level ZMTP peer for the interop tests (feature `testing`); not a public API.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub use zmtp::testing_api as testing;
