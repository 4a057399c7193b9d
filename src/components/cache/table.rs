//! An open-addressing hash index from a 64-bit hash to a `u32` slot of some slab: linear
//! probing, backward-shift deletion, power-of-two size, load at most 7/8.
//!
//! The index holds no keys. Each slot keeps the low 32 bits of the hash (a fingerprint that
//! also gives the home slot, so growing and deleting never read the slab) and the slab index;
//! the caller confirms a candidate by comparing its own key. 8 bytes a slot.

/// A slab index meaning "none" (an empty slot, the end of a list).
pub(super) const NIL: u32 = u32::MAX;

/// The most slots an index may have: the fingerprint (32 bits) must cover the home slot.
const MAX_SLOTS: usize = 1 << 32;

/// The SplitMix64 finaliser: every key bit moves every hash bit, so structured keys (small
/// integers, ids in the high bits) spread evenly over the slots.
#[inline]
pub(super) fn mix(key: u64) -> u64 {
    let mut z = key.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The low 32 bits of the hash.
    tag: u32,
    /// The slab index, or `NIL` when the slot is empty.
    index: u32,
}

const EMPTY: Slot = Slot { tag: 0, index: NIL };

/// The index. Starts unallocated and doubles when an insert would pass 7/8 load.
#[derive(Debug, Clone, Default)]
pub(super) struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Table {
    /// The smallest index that holds `entries` without passing 7/8 load.
    pub(super) fn slots_for(entries: usize) -> usize {
        let needed = entries.saturating_mul(8).div_ceil(7).max(8);
        needed.next_power_of_two().min(MAX_SLOTS)
    }

    /// The slab index whose hash is `hash` and which `is_match` accepts. O(1) expected.
    #[inline]
    pub(super) fn find(&self, hash: u64, mut is_match: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let tag = hash as u32;
        let mut at = tag as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot.index == NIL {
                return None;
            }
            if slot.tag == tag && is_match(slot.index) {
                return Some(slot.index);
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `index` under `hash`; the caller has checked it is absent. Amortised O(1).
    pub(super) fn insert(&mut self, hash: u64, index: u32) {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        self.place(Slot {
            tag: hash as u32,
            index,
        });
        self.len += 1;
    }

    /// Removes the slot holding `index` (stored under `hash`), shifting later members of its
    /// cluster back so no probe sequence is broken (no tombstones to clean up later).
    pub(super) fn remove(&mut self, hash: u64, index: u32) {
        let mask = self.slots.len() - 1;
        let mut hole = self.position(hash, index);
        let mut at = (hole + 1) & mask;
        loop {
            let slot = self.slots[at];
            if slot.index == NIL {
                break;
            }
            let home = slot.tag as usize & mask;
            // The entry may fill the hole if the hole lies on its probe path (home ..= at).
            if (at.wrapping_sub(home) & mask) >= (at.wrapping_sub(hole) & mask) {
                self.slots[hole] = slot;
                hole = at;
            }
            at = (at + 1) & mask;
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
    }

    /// Forgets everything and releases the memory.
    pub(super) fn clear(&mut self) {
        *self = Table::default();
    }

    /// Bytes held by the slot array.
    pub(super) fn memory_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
    }

    /// Where `index` sits; it must be present.
    fn position(&self, hash: u64, index: u32) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = hash as u32 as usize & mask;
        while self.slots[at].index != index {
            debug_assert!(
                self.slots[at].index != NIL,
                "index {index} is not in the table"
            );
            at = (at + 1) & mask;
        }
        at
    }

    fn place(&mut self, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut at = slot.tag as usize & mask;
        while self.slots[at].index != NIL {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot;
    }

    fn grow(&mut self) {
        let size = Table::slots_for(self.len + 1).max(self.slots.len() * 2);
        assert!(
            size <= MAX_SLOTS,
            "cache index would pass {MAX_SLOTS} slots"
        );
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        for slot in old {
            if slot.index != NIL {
                self.place(slot);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Colliding hashes (same home slot) stay findable after deletions from the middle of
    /// their cluster, and after a wrap around the end of the array.
    #[test]
    fn backward_shift_keeps_clusters_findable() {
        let mut t = Table::default();
        // Hashes 5, 13, 21, 29 share home 5 in an 8-slot table; 7 wraps to slot 0.
        let hashes = [5u64, 13, 21, 29, 7, 6];
        for (i, &h) in hashes.iter().enumerate() {
            t.insert(h, i as u32);
        }
        t.remove(13, 1);
        t.remove(5, 0);
        for (i, &h) in hashes.iter().enumerate().skip(2) {
            assert_eq!(t.find(h, |x| x == i as u32), Some(i as u32), "hash {h}");
        }
        assert_eq!(t.find(13, |x| x == 1), None);
        assert_eq!(t.len, 4);
    }

    #[test]
    fn sizes_keep_load_at_most_seven_eighths() {
        assert_eq!(Table::slots_for(0), 8);
        assert_eq!(Table::slots_for(7), 8);
        assert_eq!(Table::slots_for(8), 16);
        assert_eq!(Table::slots_for(10_000_000), 1 << 24);
    }
}
