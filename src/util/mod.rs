//! Pure helpers with no OS, thread or clock access: Z85 text encoding and a timer set.
//!
//! Layer L0: may depend on `error` only. Time is always a parameter (milliseconds on a
//! monotonic clock the caller reads, for example with `crate::sys::now_ms`), so everything here
//! is deterministic and unit-tested without sleeping.
#![forbid(unsafe_code)]

pub(crate) mod timers;
pub(crate) mod z85;

/// A random 32-bit value for seeding id counters (not for cryptography).
pub(crate) fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish() as u32
}
