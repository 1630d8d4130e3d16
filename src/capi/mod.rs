//! The C ABI: the only module that exports symbols.
//!
//! Every export is written literally as `#[unsafe(no_mangle)] pub unsafe extern "C" fn zmq_x`
//! (so cbindgen sees it) and wraps only its body in `ffi!` (see `boundary.rs`). Handles and
//! pointers are checked before use. Layer L4: may use everything below.
#![allow(unsafe_code, reason = "the C boundary: raw pointers from callers")]
#![allow(unreachable_pub, reason = "exports are pub inside a private module")]

pub(crate) mod boundary;
mod ctx;
mod handle;
mod misc;
mod msg;
mod poll;
#[cfg(feature = "draft")]
mod poller;
mod sendrecv;
mod slice;
mod socket;
pub mod types;
mod util;
