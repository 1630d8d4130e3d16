//! Maps keyed by the process-unique integer ids the library hands out (pipe ids), hashed with
//! one multiply instead of SipHash. The ids are ours, not a peer's, so there is no flooding
//! attack to defend against, and these maps sit on the per-message path (PUB's per-pipe
//! subscriptions, ROUTER's identities).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes integer keys by a multiplicative mix (Fibonacci hashing).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(MIX);
    }
}

/// A `HashMap` keyed by library-made integer ids.
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_map_stores_and_finds_sequential_ids() {
        let mut m: IdMap<u64, u64> = IdMap::default();
        for i in 1..=1000u64 {
            m.insert(i, i * 2);
        }
        assert_eq!(m.len(), 1000);
        assert!((1..=1000u64).all(|i| m.get(&i) == Some(&(i * 2))));
        assert_eq!(m.get(&1001), None);
    }

    #[test]
    fn nearby_ids_hash_apart() {
        let h = |n: u64| {
            let mut s = IdHasher::default();
            s.write_u64(n);
            s.finish()
        };
        assert_ne!(h(1) >> 57, h(2) >> 57, "top bits differ for neighbours");
    }
}
