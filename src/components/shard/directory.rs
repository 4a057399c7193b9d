//! Directory placement: explicit key -> shard assignments, in a sorted array searched by
//! bisection (12 bytes an override; no hash table, whose iteration order would be a trap).

use super::Override;

/// Overridden key indices, ascending, and their shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Directory {
    keys: Vec<u64>,
    shards: Vec<u32>,
}

impl Directory {
    /// The overrides, in any order (validated: each key at most once).
    pub(super) fn new(overrides: &[Override]) -> Directory {
        let mut o = overrides.to_vec();
        o.sort_unstable_by_key(|o| o.key);
        Directory {
            keys: o.iter().map(|o| o.key).collect(),
            shards: o.iter().map(|o| o.shard.0).collect(),
        }
    }

    /// The shard `index` is assigned to, if it is. O(log d).
    #[inline]
    pub(super) fn get(&self, index: u64) -> Option<u32> {
        self.keys.binary_search(&index).ok().map(|i| self.shards[i])
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.keys.capacity() * size_of::<u64>() + self.shards.capacity() * size_of::<u32>()
    }
}
