//! Least connections (and least response time) in O(log n): the candidates' loads in a
//! segment tree.

use crate::ids::InstanceId;

/// The loads (open requests, or a cost) of the candidates, by their position in the candidate list, in a
/// segment tree of minima: the least loaded candidate at or after a position is found in
/// O(log n), and one candidate's load changes in O(log n).
#[derive(Debug, Default)]
pub(super) struct LoadTree {
    /// Candidates.
    len: usize,
    /// Leaves: a power of two at least `len`.
    pub(super) width: usize,
    /// Node k covers its children 2k and 2k+1; leaves are `width..width + len`, unused
    /// leaves hold `u64::MAX`.
    pub(super) min: Vec<u64>,
    /// Each instance slot's position among the candidates, `None` if it is not one.
    position: Vec<Option<u32>>,
}

impl LoadTree {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The candidates changed; `load` gives each one's load.
    pub(super) fn rebuild(
        &mut self,
        candidates: &[InstanceId],
        slots: usize,
        load: impl Fn(InstanceId) -> u64,
    ) {
        self.len = candidates.len();
        self.width = candidates.len().next_power_of_two().max(1);
        self.min.clear();
        self.min.resize(2 * self.width, u64::MAX);
        self.position.clear();
        self.position.resize(slots, None);
        for (i, &c) in candidates.iter().enumerate() {
            self.min[self.width + i] = load(c);
            self.position[c.index()] = Some(i as u32);
        }
        for k in (1..self.width).rev() {
            self.min[k] = self.min[2 * k].min(self.min[2 * k + 1]);
        }
    }

    #[inline]
    pub(super) fn set(&mut self, instance: InstanceId, load: u64) {
        let Some(&Some(pos)) = self.position.get(instance.index()) else {
            return;
        };
        let mut k = self.width + pos as usize;
        self.min[k] = load;
        while k > 1 {
            k /= 2;
            let m = self.min[2 * k].min(self.min[2 * k + 1]);
            if self.min[k] == m {
                break;
            }
            self.min[k] = m;
        }
    }

    /// The first position, scanning from `start` and wrapping round, whose load is the least.
    pub(super) fn first_least_from(&self, start: usize) -> usize {
        let least = self.min[1];
        self.first_at_most(1, 0, self.width, start, least)
            .or_else(|| self.first_at_most(1, 0, self.width, 0, least))
            .expect("the least load is somewhere")
    }

    /// The first position at or after `start` within node `k` (covering `lo..hi`) whose
    /// load is at most `bound`. Visits O(log n) nodes: a subtree wholly past `start` is
    /// entered only if it holds an answer.
    fn first_at_most(
        &self,
        k: usize,
        lo: usize,
        hi: usize,
        start: usize,
        bound: u64,
    ) -> Option<usize> {
        if hi <= start || self.min[k] > bound {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = (lo + hi) / 2;
        self.first_at_most(2 * k, lo, mid, start, bound)
            .or_else(|| self.first_at_most(2 * k + 1, mid, hi, start, bound))
    }
}
