//! Perfect LFU: a reference count for every key ever looked up, and the resident entries
//! grouped in frequency buckets (Shah, Mitra and Matani, "An O(1) algorithm for implementing
//! the LFU cache eviction scheme", 2010).
//!
//! Buckets form a list sorted by frequency; each holds its entries oldest first. A hit raises
//! a count by one, so its entry moves to the next bucket (found or created beside the current
//! one): O(1). The victim is the oldest entry of the lowest bucket: O(1).
//!
//! One step is not O(1) in the worst case, and the 2010 paper does not have it because its
//! new entries always start at count 1: admitting a key whose remembered count no resident
//! has. Its bucket must be linked in sorted order. A count that is one more or one less than
//! an existing bucket's is found in O(1) through a frequency-to-bucket index; otherwise the
//! list is walked from both ends at once, costing the smaller of the number of resident
//! frequencies below and above it (at most sqrt(2 x references), since distinct counts sum to
//! at most the number of references). Under skewed popularity re-admitted keys sit just above
//! the minimum, so the walk is short.

use super::slab::{self, Ends, Entry};
use super::table::{NIL, Table, mix};

/// One key's reference count. `count == 0` marks an empty slot: a stored key has been
/// referenced at least once.
#[derive(Debug, Clone, Copy)]
struct Count {
    key: u64,
    count: u64,
}

/// Reference counts of every key ever looked up: open addressing with linear probing, never
/// deleted (until the cache is cleared). 16 bytes a slot, so 18-37 bytes per distinct key at
/// 7/16..7/8 load. Memory grows with distinct keys seen, not with the capacity: this is the
/// price of *perfect* LFU.
#[derive(Debug, Clone, Default)]
pub(super) struct Counts {
    slots: Vec<Count>,
    len: usize,
}

impl Counts {
    /// How often `key` has been referenced; 0 if never.
    pub(super) fn get(&self, key: u64) -> u64 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.slots.len() - 1;
        let mut at = mix(key) as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot.count == 0 {
                return 0;
            }
            if slot.key == key {
                return slot.count;
            }
            at = (at + 1) & mask;
        }
    }

    /// Counts one more reference to `key`; returns its new count. Amortised O(1).
    pub(super) fn bump(&mut self, key: u64) -> u64 {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = mix(key) as usize & mask;
        loop {
            let slot = &mut self.slots[at];
            if slot.count == 0 {
                *slot = Count { key, count: 1 };
                self.len += 1;
                return 1;
            }
            if slot.key == key {
                slot.count += 1;
                return slot.count;
            }
            at = (at + 1) & mask;
        }
    }

    /// Distinct keys counted.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Count>()
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![Count { key: 0, count: 0 }; size]);
        let mask = size - 1;
        for slot in old.into_iter().filter(|s| s.count != 0) {
            let mut at = mix(slot.key) as usize & mask;
            while self.slots[at].count != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }
}

/// The resident entries that share one count. 24 bytes.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    freq: u64,
    /// Oldest arrival first: the victim is `members.head` of the lowest bucket.
    members: Ends,
    lower: u32,
    /// The next higher bucket; for a free bucket, the next free one.
    higher: u32,
}

/// The frequency buckets of the resident entries, and each entry's bucket.
#[derive(Debug, Clone)]
pub(super) struct Frequencies {
    buckets: Vec<Bucket>,
    /// Unused buckets, linked through `higher`: bucket ids stay stable while entries point at
    /// them.
    free: u32,
    /// Bucket ids by frequency.
    by_freq: Table,
    lowest: u32,
    highest: u32,
    /// The bucket of each slab entry, parallel to the slab.
    bucket_of: Vec<u32>,
}

impl Default for Frequencies {
    fn default() -> Self {
        Frequencies {
            buckets: Vec::new(),
            free: NIL,
            by_freq: Table::default(),
            lowest: NIL,
            highest: NIL,
            bucket_of: Vec::new(),
        }
    }
}

impl Frequencies {
    /// Room for the slab's new capacity, grown exactly as the slab is.
    pub(super) fn reserve_exact(&mut self, capacity: usize) {
        self.bucket_of
            .reserve_exact(capacity.saturating_sub(self.bucket_of.len()));
    }

    /// The lowest resident count.
    pub(super) fn min_freq(&self) -> Option<u64> {
        (self.lowest != NIL).then(|| self.buckets[self.lowest as usize].freq)
    }

    /// The entry LFU evicts: the oldest of the least frequent. O(1).
    pub(super) fn victim(&self) -> Option<u32> {
        (self.lowest != NIL).then(|| self.buckets[self.lowest as usize].members.head)
    }

    /// Files slab entry `i` (a new last entry, or a reused free slot) under `freq`.
    pub(super) fn add(&mut self, entries: &mut [Entry], i: u32, freq: u64) {
        let b = self.bucket(freq);
        slab::push_back(entries, &mut self.buckets[b as usize].members, i);
        if i as usize == self.bucket_of.len() {
            self.bucket_of.push(b);
        } else {
            self.bucket_of[i as usize] = b;
        }
    }

    /// Entry `i` was referenced once more: to the next bucket. O(1).
    pub(super) fn touch(&mut self, entries: &mut [Entry], i: u32) {
        let from = self.bucket_of[i as usize];
        let Bucket { freq, higher, .. } = self.buckets[from as usize];
        let to = if higher != NIL && self.buckets[higher as usize].freq == freq + 1 {
            higher
        } else {
            self.create_above(from, freq + 1)
        };
        self.detach(entries, i);
        slab::push_back(entries, &mut self.buckets[to as usize].members, i);
        self.bucket_of[i as usize] = to;
    }

    /// Takes entry `i` out of its bucket (dropping the bucket if it empties).
    pub(super) fn detach(&mut self, entries: &mut [Entry], i: u32) {
        let b = self.bucket_of[i as usize];
        let members = &mut self.buckets[b as usize].members;
        slab::unlink(entries, members, i);
        if members.is_empty() {
            self.delete(b);
        }
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.buckets.capacity() * size_of::<Bucket>()
            + self.by_freq.memory_bytes()
            + self.bucket_of.capacity() * size_of::<u32>()
    }

    /// Distinct resident counts.
    #[cfg(test)]
    pub(super) fn bucket_count(&self) -> usize {
        let mut n = 0;
        let mut b = self.lowest;
        while b != NIL {
            n += 1;
            b = self.buckets[b as usize].higher;
        }
        n
    }

    /// The count of slab entry `i`.
    #[cfg(test)]
    pub(super) fn freq_of(&self, i: u32) -> u64 {
        self.buckets[self.bucket_of[i as usize] as usize].freq
    }

    /// The bucket for `freq`, linked in sorted order if it is new.
    fn bucket(&mut self, freq: u64) -> u32 {
        if let Some(b) = self.find(freq) {
            return b;
        }
        let below = if let Some(b) = freq.checked_sub(1).and_then(|f| self.find(f)) {
            b
        } else if let Some(b) = self.find(freq + 1) {
            self.buckets[b as usize].lower
        } else {
            self.walk_to_below(freq)
        };
        self.create_above(below, freq)
    }

    fn find(&self, freq: u64) -> Option<u32> {
        let buckets = &self.buckets;
        self.by_freq
            .find(mix(freq), |b| buckets[b as usize].freq == freq)
    }

    /// The highest bucket below `freq` (no bucket has `freq`), or `NIL`: walks in from both
    /// ends, one step each in turn.
    fn walk_to_below(&self, freq: u64) -> u32 {
        let (mut up, mut down) = (self.lowest, self.highest);
        loop {
            if up == NIL {
                return self.highest;
            }
            let bucket = self.buckets[up as usize];
            if bucket.freq > freq {
                return bucket.lower;
            }
            up = bucket.higher;
            if down == NIL {
                return NIL;
            }
            let bucket = self.buckets[down as usize];
            if bucket.freq < freq {
                return down;
            }
            down = bucket.lower;
        }
    }

    /// A new, empty bucket for `freq` just above `below` (`NIL`: at the bottom).
    fn create_above(&mut self, below: u32, freq: u64) -> u32 {
        let above = if below == NIL {
            self.lowest
        } else {
            self.buckets[below as usize].higher
        };
        let bucket = Bucket {
            freq,
            members: Ends::EMPTY,
            lower: below,
            higher: above,
        };
        let b = if self.free == NIL {
            self.buckets.push(bucket);
            (self.buckets.len() - 1) as u32
        } else {
            let b = self.free;
            self.free = self.buckets[b as usize].higher;
            self.buckets[b as usize] = bucket;
            b
        };
        if below == NIL {
            self.lowest = b;
        } else {
            self.buckets[below as usize].higher = b;
        }
        if above == NIL {
            self.highest = b;
        } else {
            self.buckets[above as usize].lower = b;
        }
        self.by_freq.insert(mix(freq), b);
        b
    }

    fn delete(&mut self, b: u32) {
        let Bucket {
            freq,
            lower,
            higher,
            ..
        } = self.buckets[b as usize];
        if lower == NIL {
            self.lowest = higher;
        } else {
            self.buckets[lower as usize].higher = higher;
        }
        if higher == NIL {
            self.highest = lower;
        } else {
            self.buckets[higher as usize].lower = lower;
        }
        self.by_freq.remove(mix(freq), b);
        self.buckets[b as usize].higher = self.free;
        self.free = b;
    }
}
