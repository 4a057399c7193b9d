//! How a balancer sees its instances' loads. Real balancers rarely see the truth: each of
//! several balancer instances in front of one fleet counts only the requests it sent itself
//! (nginx workers, Envoy's per-thread and per-proxy counts, one load balancer node of many),
//! and a balancer that reads loads from a shared store sees them as of the last refresh.
//! Stale loads are what make "pick the least loaded" herd: every request between two
//! refreshes goes to the one instance that looked idle (Mitzenmacher, "How useful is old
//! information?").

use crate::components::instance::Instance;
use crate::ids::InstanceId;
use crate::kernel::SimDuration;

/// The load a balancer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadView {
    /// One balancer, seeing every instance's open requests as they change.
    #[default]
    Exact,
    /// The instances' open requests as published every `refresh` (a shared store, a
    /// control plane's load reports): between refreshes the balancer works from the last
    /// copy.
    Published {
        /// How often the copy is refreshed.
        refresh: SimDuration,
    },
    /// `balancers` balancer instances, each request through one of them (drawn from the
    /// request's own seed, so no other draw moves), each counting only the requests it sent
    /// and has not seen answered.
    Own {
        /// Balancer instances (2 to [`MAX_BALANCERS`]).
        balancers: u32,
    },
}

/// The most balancer instances one view splits into.
pub const MAX_BALANCERS: u32 = 256;

/// What the view holds: nothing when exact; the published copy (one row); or each balancer's
/// own counts (a row per balancer), each row by instance slot.
#[derive(Debug, Default)]
pub(super) struct Views {
    pub(super) view: LoadView,
    rows: Vec<Vec<u32>>,
    /// Published views: which slots are candidates, so that one joining between refreshes
    /// is published as it joins (a new instance's own report) and a reused slot never shows
    /// its last occupant's load.
    members: Vec<bool>,
}

impl Views {
    pub(super) fn new(view: LoadView) -> Self {
        let rows = match view {
            LoadView::Exact => 0,
            LoadView::Published { .. } => 1,
            LoadView::Own { balancers } => balancers as usize,
        };
        Views {
            view,
            rows: vec![Vec::new(); rows],
            members: Vec::new(),
        }
    }

    /// How many separate views (and so trees and cursors) there are.
    pub(super) fn count(&self) -> usize {
        self.rows.len().max(1)
    }

    /// The balancer instance a request of `seed` goes through.
    #[inline]
    pub(super) fn balancer_of(&self, seed: u64) -> usize {
        match self.view {
            LoadView::Own { balancers } => {
                // A mix of the seed, not its low bits, which other draws hash too.
                let h = crate::components::shard::key_hash(seed ^ 0x5bd1_e995_9e37_79b9);
                (h % u64::from(balancers)) as usize
            }
            _ => 0,
        }
    }

    /// The load balancer `b` sees on `instance`.
    #[inline]
    pub(super) fn load(&self, b: usize, instance: InstanceId, instances: &[Instance]) -> u32 {
        match self.view {
            LoadView::Exact => instances[instance.index()].open_requests(),
            _ => self.rows[b].get(instance.index()).copied().unwrap_or(0),
        }
    }

    /// Every row covers `slots` instance slots.
    fn cover(&mut self, slots: usize) {
        for row in &mut self.rows {
            if row.len() < slots {
                row.resize(slots, 0);
            }
        }
    }

    /// The candidates changed: rows cover every slot, and in a published view a candidate
    /// that joined is published now.
    pub(super) fn candidates_changed(&mut self, candidates: &[InstanceId], instances: &[Instance]) {
        self.cover(instances.len());
        if let LoadView::Published { .. } = self.view {
            let mut members = vec![false; instances.len()];
            for c in candidates {
                if !self.members.get(c.index()).copied().unwrap_or(false) {
                    self.rows[0][c.index()] = instances[c.index()].open_requests();
                }
                members[c.index()] = true;
            }
            self.members = members;
        }
    }

    /// The published copy is refreshed from the instances' open requests.
    pub(super) fn publish(&mut self, candidates: &[InstanceId], instances: &[Instance]) {
        if let LoadView::Published { .. } = self.view {
            self.cover(instances.len());
            let row = &mut self.rows[0];
            row.iter_mut().for_each(|x| *x = 0);
            for c in candidates {
                row[c.index()] = instances[c.index()].open_requests();
            }
        }
    }

    /// Balancer `b` sent a request to `instance` (own views only), and its count is now.
    #[inline]
    pub(super) fn sent(&mut self, b: usize, instance: InstanceId) -> Option<u32> {
        let LoadView::Own { .. } = self.view else {
            return None;
        };
        let row = &mut self.rows[b];
        if row.len() <= instance.index() {
            row.resize(instance.index() + 1, 0);
        }
        row[instance.index()] += 1;
        Some(row[instance.index()])
    }

    /// A request balancer `b` sent to `instance` has ended there (own views only).
    #[inline]
    pub(super) fn ended(&mut self, b: usize, instance: InstanceId) -> Option<u32> {
        let LoadView::Own { .. } = self.view else {
            return None;
        };
        let count = &mut self.rows[b][instance.index()];
        debug_assert!(*count > 0, "a request ended that was not sent");
        *count = count.saturating_sub(1);
        Some(*count)
    }
}
