//! Resharding: which keys change shard when one map replaces another, counted over the key
//! indices 0..keys of the old map's space, each key weighted alike (popularity is the
//! workload's business: a caller weighting by traffic asks `moves` per drawn key).

use super::{Place, ShardIdx, ShardMap};

/// Key spaces this small are counted key by key.
pub const EXACT_MAX_KEYS: u64 = 1 << 20;
/// Keys examined to estimate a larger space.
pub const SAMPLE_KEYS: u64 = 1 << 16;

/// How a moved count was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Exact, from two range maps' bounds (any key-space size).
    Bounds,
    /// Exact, every key looked up in both maps.
    AllKeys,
    /// Estimated from evenly spread keys: the binomial standard error of the fraction is
    /// sqrt(f (1 - f) / of).
    Sample,
}

/// How many keys a resharding moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// Keys (of those examined) whose shard differs.
    pub moved: u64,
    /// Keys examined: the whole space, or the sample.
    pub of: u64,
    /// Exact or estimated.
    pub basis: Basis,
}

impl Moved {
    /// The fraction of the keys that move.
    pub fn fraction(&self) -> f64 {
        if self.of == 0 {
            0.0
        } else {
            self.moved as f64 / self.of as f64
        }
    }
}

impl ShardMap {
    /// How many of this map's keys `other` places on a different shard (by shard number).
    /// Exact from the bounds for two range maps, O(N + M); exact key by key up to
    /// [`EXACT_MAX_KEYS`] keys; otherwise over [`SAMPLE_KEYS`] evenly spread keys. No RNG:
    /// the same two maps always give the same count.
    pub fn moved_fraction(&self, other: &ShardMap) -> Moved {
        if let (Place::Range(a), Place::Range(b)) = (&self.place, &other.place) {
            return Moved {
                moved: a.moved(b, self.keys),
                of: self.keys,
                basis: Basis::Bounds,
            };
        }
        let (of, basis) = if self.keys <= EXACT_MAX_KEYS {
            (self.keys, Basis::AllKeys)
        } else {
            (SAMPLE_KEYS, Basis::Sample)
        };
        let moved = (0..of)
            .map(|i| spread(i, of, self.keys))
            .filter(|&k| self.shard_of(k) != other.shard_of(k))
            .count() as u64;
        Moved { moved, of, basis }
    }

    /// Where `key` moves when `other` replaces this map: `Some((from, to))`, or `None` if it
    /// stays.
    #[inline]
    pub fn moves(&self, other: &ShardMap, key: u64) -> Option<(ShardIdx, ShardIdx)> {
        let (from, to) = (self.shard_of(key), other.shard_of(key));
        (from != to).then_some((from, to))
    }
}

/// Key `i` of `of` spread evenly over 0..keys: the middle of the i-th of `of` equal strata
/// (every key when `of == keys`).
#[inline]
fn spread(i: u64, of: u64, keys: u64) -> u64 {
    ((2 * u128::from(i) + 1) * u128::from(keys) / (2 * u128::from(of))) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_covers_every_key_or_every_stratum() {
        assert_eq!(
            (0..5).map(|i| spread(i, 5, 5)).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
        assert_eq!(
            (0..4).map(|i| spread(i, 4, 100)).collect::<Vec<_>>(),
            vec![12, 37, 62, 87]
        );
        let top = 1u64 << 48;
        assert!(spread(SAMPLE_KEYS - 1, SAMPLE_KEYS, top) < top);
    }
}
