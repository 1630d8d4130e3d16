//! Pure helpers with no OS, thread or clock access: Z85 text encoding, a timer set, and maps
//! keyed by the library's own integer ids.
//!
//! Layer L0: may depend on `error` only. Time is always a parameter (milliseconds on a
//! monotonic clock the caller reads, for example with `crate::sys::now_ms`), so everything here
//! is deterministic and unit-tested without sleeping.
#![forbid(unsafe_code)]

pub(crate) mod id_map;
pub(crate) mod timers;
pub(crate) mod z85;

/// The earliest of some optional deadlines.
///
/// Written so that optimised code never compares the (undefined) payload of a `None`: the
/// obvious `flatten().min()`, and even `map(unwrap_or).min()` once inlined into a caller,
/// compile to conditional moves on it, which is harmless but makes valgrind report
/// "conditional move depends on uninitialised value" on the I/O thread. `black_box` makes each
/// value a defined number before it is compared.
/// A deadline of `u64::MAX` counts as none (milliseconds on a monotonic clock never get there).
pub(crate) fn earliest<const N: usize>(deadlines: [Option<u64>; N]) -> Option<u64> {
    let mut t = u64::MAX;
    for d in deadlines {
        let v = std::hint::black_box(d.unwrap_or(u64::MAX));
        if v < t {
            t = v;
        }
    }
    (t != u64::MAX).then_some(t)
}

/// A random 32-bit value for seeding id counters (not for cryptography).
pub(crate) fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::earliest;

    #[test]
    fn earliest_ignores_nones() {
        assert_eq!(earliest([None, Some(7), None, Some(3)]), Some(3));
        assert_eq!(earliest([None::<u64>; 4]), None);
        assert_eq!(earliest::<0>([]), None);
    }
}
