//! Consistent hashing (Karger et al. 1997): a ring of tokens on the 64-bit hash circle, each
//! owned by a shard; a key belongs to the owner of the first token at or clockwise of its
//! hash, so a token owns the arc (previous token, itself].
//!
//! Token positions depend only on (seed, shard, vnode), never on the shard count, so a ring
//! of N + 1 shards holds every token of the ring of N: growing moves exactly the keys whose
//! arcs the new tokens cut off. Positions are a bijection of (shard, vnode) for a fixed seed,
//! so no two tokens collide and the order needs no tie-break.

use super::mix;

/// Tokens sorted by position, and their owners: 12 bytes a token (two arrays, no padding).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ring {
    positions: Vec<u64>,
    owners: Vec<u32>,
    /// For each of 2^`bits` equal slices of the circle (about as many as tokens), the first
    /// token at or after the slice's start: a lookup starts there and steps past the (about
    /// one) tokens of its slice that lie before the hash, O(1) expected instead of a binary
    /// search's log T dependent cache misses.
    starts: Vec<u32>,
    bits: u32,
}

impl Ring {
    /// `vnodes` tokens for each of `shards` shards, placed by `seed`. O(T log T) for T tokens.
    pub(super) fn new(shards: u32, vnodes: u32, seed: u64) -> Ring {
        let mut ring = Ring::default();
        ring.rebuild((0..shards).map(|s| (s, s)), vnodes, seed);
        ring
    }

    /// Rebuilds the ring for `nodes`, each a (name, owner): a node's tokens depend on its
    /// name, never on which others are there, so a node leaving or joining moves only the
    /// keys of its own arcs. Names must be distinct. O(T log T), reusing the allocation.
    pub fn rebuild(&mut self, nodes: impl Iterator<Item = (u32, u32)>, vnodes: u32, seed: u64) {
        let mut tokens: Vec<(u64, u32)> = nodes
            .flat_map(|(name, owner)| (0..vnodes).map(move |v| (token(seed, name, v), owner)))
            .collect();
        // Positions are distinct, so sorting by them alone is a total, deterministic order.
        tokens.sort_unstable_by_key(|&(p, _)| p);
        self.positions.clear();
        self.owners.clear();
        self.positions.extend(tokens.iter().map(|&(p, _)| p));
        self.owners.extend(tokens.iter().map(|&(_, s)| s));
        // As many slices as tokens (a power of two), so a slice holds one token on average.
        self.bits = self.positions.len().next_power_of_two().trailing_zeros();
        self.starts.clear();
        let (positions, bits) = (&self.positions, self.bits);
        self.starts.extend((0..1u64 << bits).map(|b| {
            let start = if bits == 0 { 0 } else { b << (64 - bits) };
            positions.partition_point(|&p| p < start) as u32
        }));
    }

    /// Whether it has no tokens.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The owner of the first token at or after `hash`, wrapping. O(log T). The ring must
    /// not be empty.
    #[inline]
    pub fn shard_of(&self, hash: u64) -> u32 {
        let slice = if self.bits == 0 {
            0
        } else {
            hash >> (64 - self.bits)
        };
        let mut i = self.starts[slice as usize] as usize;
        while i < self.positions.len() && self.positions[i] < hash {
            i += 1;
        }
        let i = if i == self.positions.len() { 0 } else { i };
        self.owners[i]
    }

    /// The tokens' positions in order, and their owners.
    #[cfg(test)]
    pub(super) fn tokens(&self) -> (&[u64], &[u32]) {
        (&self.positions, &self.owners)
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.positions.capacity() * size_of::<u64>()
            + (self.owners.capacity() + self.starts.capacity()) * size_of::<u32>()
    }

    /// Each shard's share of the hash circle: the arcs its tokens own, over 2^64.
    #[cfg(test)]
    pub(super) fn shares(&self, shards: u32) -> Vec<f64> {
        let mut arcs = vec![0u128; shards as usize];
        let t = self.positions.len();
        for i in 0..t {
            let prev = self.positions[(i + t - 1) % t];
            // One token owns the whole circle (its arc from itself to itself).
            let arc = match self.positions[i].wrapping_sub(prev) {
                0 => 1u128 << 64,
                a => u128::from(a),
            };
            arcs[self.owners[i] as usize] += arc;
        }
        arcs.iter().map(|&a| a as f64 / 2f64.powi(64)).collect()
    }
}

/// The position of token `vnode` of `shard`: mixing (shard, vnode) first, then xoring in the
/// mixed seed and mixing again, keeps it a bijection of (shard, vnode) while every seed
/// gives an unrelated ring.
#[inline]
fn token(seed: u64, shard: u32, vnode: u32) -> u64 {
    let id = (u64::from(shard) << 32) | u64::from(vnode);
    mix(mix(seed ^ 0x5348_4152_4452_494e) ^ mix(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_the_ring_keeps_every_token() {
        let (a, b) = (Ring::new(5, 8, 3), Ring::new(6, 8, 3));
        let kept: Vec<(u64, u32)> = b
            .positions
            .iter()
            .zip(&b.owners)
            .filter(|&(_, &s)| s < 5)
            .map(|(&p, &s)| (p, s))
            .collect();
        let old: Vec<(u64, u32)> = a
            .positions
            .iter()
            .copied()
            .zip(a.owners.iter().copied())
            .collect();
        assert_eq!(kept, old);
    }

    #[test]
    fn a_hash_goes_to_the_next_token_clockwise() {
        let r = Ring::new(3, 1, 0);
        for i in 0..3 {
            let p = r.positions[i];
            assert_eq!(r.shard_of(p), r.owners[i], "on the token");
            assert_eq!(
                r.shard_of(p.wrapping_add(1)),
                r.owners[(i + 1) % 3],
                "just past it"
            );
        }
        assert_eq!(r.shard_of(u64::MAX), r.owners[0], "wraps");
        let shares = r.shares(3);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(Ring::new(1, 1, 9).shares(1), vec![1.0]);
    }
}
