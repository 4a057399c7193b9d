//! The run's instances, in an arena of reusable slots. A stopped instance's slot goes back to
//! a free list once nothing can still read it (its service's `Fleet` releases it), and the
//! next instance started takes it: the arena follows the instances alive at once, not every
//! instance ever started. Each slot has a generation, bumped on release, so an event about an
//! earlier occupant (`InstanceRef`) is told from one about the current one.

use crate::components::instance::Instance;
use crate::ids::{InstanceId, InstanceRef};
use std::ops::{Index, IndexMut};

/// The arena.
#[derive(Debug, Default)]
pub(super) struct InstanceArena {
    slots: Vec<Instance>,
    /// Each slot's generation (bumped when the slot is released).
    generations: Vec<u32>,
    /// Released slots, reused last released first.
    free: Vec<InstanceId>,
    /// Instances started so far: the next one's serial number.
    started: u32,
}

impl InstanceArena {
    /// Stores `inst`, numbering it in creation order (`Instance::serial`), in a released slot if
    /// there is one. O(1).
    pub(super) fn insert(&mut self, mut inst: Instance) -> InstanceId {
        inst.serial = self.started;
        self.started += 1;
        match self.free.pop() {
            Some(id) => {
                self.slots[id.index()] = inst;
                id
            }
            None => {
                self.slots.push(inst);
                self.generations.push(0);
                InstanceId::from_index(self.slots.len() - 1)
            }
        }
    }

    /// Frees `id`'s slot for the next instance; references to its occupant are stale from now
    /// on. Only for a stopped instance nothing reads any more (see `Fleet::release_stopped`).
    pub(super) fn release(&mut self, id: InstanceId) {
        let generation = &mut self.generations[id.index()];
        *generation = generation.wrapping_add(1);
        self.free.push(id);
    }

    /// A reference to `id`'s occupant as it is now.
    #[inline]
    pub(super) fn reference(&self, id: InstanceId) -> InstanceRef {
        InstanceRef {
            id,
            generation: self.generations[id.index()],
        }
    }

    /// The slot `r` names, if it still holds the instance `r` was made for (its slot has not
    /// been released since).
    #[inline]
    pub(super) fn current(&self, r: InstanceRef) -> Option<InstanceId> {
        (self.generations[r.id.index()] == r.generation).then_some(r.id)
    }

    /// Every slot, by index (what a balancer reads its candidates' loads from). Released slots
    /// hold their last occupant, which no candidate list names.
    #[inline]
    pub(super) fn slots(&self) -> &[Instance] {
        &self.slots
    }

    /// Slots in use or released: the most instances that were alive (or stopped and still
    /// read) at once.
    #[cfg(test)]
    pub(super) fn capacity_used(&self) -> usize {
        self.slots.len()
    }
}

impl Index<InstanceId> for InstanceArena {
    type Output = Instance;

    #[inline]
    fn index(&self, id: InstanceId) -> &Instance {
        &self.slots[id.index()]
    }
}

impl IndexMut<InstanceId> for InstanceArena {
    #[inline]
    fn index_mut(&mut self, id: InstanceId) -> &mut Instance {
        &mut self.slots[id.index()]
    }
}
