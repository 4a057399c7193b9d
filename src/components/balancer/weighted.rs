//! Smooth weighted round robin in O(log n) a pick, by stride scheduling (Waldspurger and
//! Weihl, 1995): each candidate has a pass that grows by 1/weight each time it is picked, and
//! the pick is the smallest pass (ties: the earliest candidate). Over any run of picks each
//! instance's share is its weight over the total, within one pick, and picks interleave as
//! nginx's smooth weighted round robin does (3:2 gives A B A B A) instead of bunching (A A A
//! B B). nginx's own algorithm scans every candidate per pick; this keeps its shares and
//! smoothness at O(log n).

use crate::components::instance::Instance;
use crate::ids::InstanceId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Not a candidate (passes are positive).
const ABSENT: f64 = -1.0;

#[derive(Debug, Default)]
pub(super) struct Strides {
    /// (pass as bits, candidate position), smallest first. Bits of positive floats order as
    /// the floats do, and integers keep the heap's order total and deterministic.
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    /// Each instance slot's pass while it is a candidate, else [`ABSENT`].
    pass: Vec<f64>,
    /// The pass of the last pick: the virtual time a new candidate starts from, so that one
    /// joining late takes its share from then on instead of catching up on picks it missed.
    now: f64,
}

impl Strides {
    /// The candidates changed: those that stay keep their passes, new ones start half a
    /// stride after the last pick. O(n + slots).
    pub(super) fn rebuild(&mut self, candidates: &[InstanceId], instances: &[Instance]) {
        let mut pass = vec![ABSENT; instances.len()];
        let mut entries = Vec::with_capacity(candidates.len());
        for (pos, c) in candidates.iter().enumerate() {
            let slot = c.index();
            let old = self.pass.get(slot).copied().unwrap_or(ABSENT);
            let p = if old > 0.0 {
                old
            } else {
                self.now + 0.5 / f64::from(instances[slot].weight.max(1))
            };
            pass[slot] = p;
            entries.push(Reverse((p.to_bits(), pos as u32)));
        }
        self.pass = pass;
        self.heap = BinaryHeap::from(entries);
    }

    /// The next candidate's position. O(log n).
    #[inline]
    pub(super) fn pick(&mut self, candidates: &[InstanceId], instances: &[Instance]) -> usize {
        let Reverse((bits, pos)) = self.heap.pop().expect("rebuild was called with candidates");
        let slot = candidates[pos as usize].index();
        let p = f64::from_bits(bits);
        let next = p + 1.0 / f64::from(instances[slot].weight.max(1));
        self.now = p;
        self.pass[slot] = next;
        self.heap.push(Reverse((next.to_bits(), pos)));
        pos as usize
    }

    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }
}
