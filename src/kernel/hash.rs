//! A fixed, fast hasher for the run's lookup tables keyed by integers (a key's newest write,
//! a miss being filled). std's default SipHash is built to resist chosen keys, which a
//! simulation's own keys never are, and costs several times more per lookup; a fixed hasher
//! also keeps even the tables' layout reproducible. Tables hashed with it are only looked
//! up, never iterated into a report.

use std::hash::{BuildHasherDefault, Hasher};

/// Folds each integer written into the state with SplitMix64's finaliser.
#[derive(Debug, Default, Clone, Copy)]
pub struct MixHasher(u64);

impl Hasher for MixHasher {
    #[inline]
    fn finish(&self) -> u64 {
        super::rng::mix(self.0)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = super::rng::mix(self.0 ^ v).wrapping_add(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
}

/// Builds [`MixHasher`]s.
pub type FixedHash = BuildHasherDefault<MixHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn equal_keys_hash_equal_and_neighbours_spread() {
        let b = FixedHash::default();
        let h = |k: &(u32, u64)| b.hash_one(k);
        assert_eq!(h(&(1, 7)), h(&(1, 7)));
        assert_ne!(h(&(1, 7)), h(&(1, 8)));
        // Consecutive keys land in different buckets of a small table.
        let buckets: std::collections::BTreeSet<u64> =
            (0..64u64).map(|k| h(&(0, k)) % 64).collect();
        assert!(buckets.len() > 32, "{}", buckets.len());
    }
}
