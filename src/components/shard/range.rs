//! Range placement: shard i holds key indices [bounds[i-1], bounds[i]), the first from 0 and
//! the last to the end (and beyond: indices past the space fall in the last range).

/// Split points, strictly ascending; `bounds.len() + 1` shards. 8 bytes a bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RangeMap {
    bounds: Vec<u64>,
}

impl RangeMap {
    /// Explicit `bounds`, or (`None`) `shards` even ranges over `keys` keys.
    pub(super) fn new(bounds: Option<&[u64]>, shards: u32, keys: u64) -> RangeMap {
        let bounds = match bounds {
            Some(b) => b.to_vec(),
            None => even_bounds(shards, keys),
        };
        RangeMap { bounds }
    }

    /// The range `index` falls in. O(log N).
    #[inline]
    pub(super) fn shard_of(&self, index: u64) -> u32 {
        // The number of bounds at or below the index is the range it is in.
        self.bounds.partition_point(|&b| b <= index) as u32
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.bounds.capacity() * size_of::<u64>()
    }

    /// How many of the key indices 0..keys lie in ranges of different numbers in `self`
    /// and `other`: a walk over the merged bounds, O(N + M), exact.
    pub(super) fn moved(&self, other: &RangeMap, keys: u64) -> u64 {
        let (a, b) = (&self.bounds, &other.bounds);
        let (mut i, mut j, mut x, mut moved) = (0, 0, 0u64, 0u64);
        while x < keys {
            // [x, end) lies in range i of `self` and range j of `other`.
            let end = keys
                .min(a.get(i).copied().unwrap_or(u64::MAX))
                .min(b.get(j).copied().unwrap_or(u64::MAX));
            if i != j {
                moved += end - x;
            }
            x = end;
            while i < a.len() && a[i] <= x {
                i += 1;
            }
            while j < b.len() && b[j] <= x {
                j += 1;
            }
        }
        moved
    }
}

/// The split points of `shards` even ranges over 0..keys: floor(i keys / N) for i in 1..N,
/// so range sizes differ by at most one key (strictly ascending when keys >= N).
pub(super) fn even_bounds(shards: u32, keys: u64) -> Vec<u64> {
    let n = u128::from(shards);
    (1..n).map(|i| (i * u128::from(keys) / n) as u64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_bounds_split_evenly() {
        assert_eq!(even_bounds(4, 100), vec![25, 50, 75]);
        assert_eq!(even_bounds(3, 10), vec![3, 6]);
        assert_eq!(even_bounds(1, 10), Vec::<u64>::new());
        let r = RangeMap::new(None, 4, 100);
        let sizes: Vec<usize> = (0..4)
            .map(|s| (0..100).filter(|&k| r.shard_of(k) == s).count())
            .collect();
        assert_eq!(sizes, vec![25, 25, 25, 25]);
    }

    #[test]
    fn bounds_are_lower_inclusive_and_beyond_goes_last() {
        let r = RangeMap::new(Some(&[10, 20]), 3, 30);
        let got: Vec<u32> = [0, 9, 10, 19, 20, 29, 30, u64::MAX]
            .iter()
            .map(|&k| r.shard_of(k))
            .collect();
        assert_eq!(got, vec![0, 0, 1, 1, 2, 2, 2, 2]);
    }

    /// The merged walk counts what enumerating every key counts.
    #[test]
    fn moved_by_bounds_matches_enumeration() {
        let keys = 1000;
        let maps = [
            RangeMap::new(None, 1, keys),
            RangeMap::new(None, 4, keys),
            RangeMap::new(None, 7, keys),
            RangeMap::new(Some(&[1, 500, 999]), 4, keys),
            RangeMap::new(Some(&[300, 2000]), 3, 3000),
        ];
        for a in &maps {
            for b in &maps {
                let brute = (0..keys)
                    .filter(|&k| a.shard_of(k) != b.shard_of(k))
                    .count();
                assert_eq!(a.moved(b, keys), brute as u64, "{a:?} -> {b:?}");
            }
        }
    }
}
