//! The entry slab and the doubly linked lists threaded through it (recency for LRU, arrival
//! for FIFO, one list per frequency for LFU). Links are `u32` slab indices, `NIL` for none.
//!
//! A removed entry's slot joins a free list (linked through `next`) and the next insert takes
//! it: entries never move, so a removal touches only the entry and its two neighbours (moving
//! the last entry into the hole would touch three more, and its index slot). The slab never
//! holds more slots than the capacity, so a full cache has no free slot and Random eviction
//! can pick a uniform slot.

use super::table::NIL;

/// The `prev` of a slot on the free list (no entry in a list has it).
pub(super) const FREE: u32 = NIL - 1;

/// The bit of `Entry::expiry` that marks a stale entry (its key written since it was stored);
/// below it, the expiry itself (nanoseconds fit in 63 bits for 292 years).
pub(super) const STALE: u64 = 1 << 63;

/// The expiry of an entry that never expires.
pub(super) const NEVER: u64 = STALE - 1;

/// One cached key. 24 bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) key: u64,
    /// Nanoseconds at which the entry stops being served (`NEVER` for never), and the
    /// `STALE` bit: one word, so marking costs the entry no room.
    pub(super) expiry: u64,
    /// Towards the list's head.
    pub(super) prev: u32,
    /// Towards the list's tail.
    pub(super) next: u32,
}

impl Entry {
    /// When the entry stops being served.
    #[inline]
    pub(super) fn expires(&self) -> u64 {
        self.expiry & !STALE
    }

    pub(super) fn new(key: u64, expiry: u64) -> Entry {
        debug_assert!(expiry <= NEVER);
        Entry {
            key,
            expiry,
            prev: NIL,
            next: NIL,
        }
    }
}

/// The two ends of one list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ends {
    pub(super) head: u32,
    pub(super) tail: u32,
}

impl Ends {
    pub(super) const EMPTY: Ends = Ends {
        head: NIL,
        tail: NIL,
    };

    pub(super) fn is_empty(&self) -> bool {
        self.head == NIL
    }
}

/// Makes entry `i` (not in any list) the head of `ends`.
pub(super) fn push_front(entries: &mut [Entry], ends: &mut Ends, i: u32) {
    entries[i as usize].prev = NIL;
    entries[i as usize].next = ends.head;
    if ends.head == NIL {
        ends.tail = i;
    } else {
        entries[ends.head as usize].prev = i;
    }
    ends.head = i;
}

/// Makes entry `i` (not in any list) the tail of `ends`.
pub(super) fn push_back(entries: &mut [Entry], ends: &mut Ends, i: u32) {
    entries[i as usize].next = NIL;
    entries[i as usize].prev = ends.tail;
    if ends.tail == NIL {
        ends.head = i;
    } else {
        entries[ends.tail as usize].next = i;
    }
    ends.tail = i;
}

/// Takes entry `i` out of the list `ends`.
pub(super) fn unlink(entries: &mut [Entry], ends: &mut Ends, i: u32) {
    let Entry { prev, next, .. } = entries[i as usize];
    if prev == NIL {
        ends.head = next;
    } else {
        entries[prev as usize].next = next;
    }
    if next == NIL {
        ends.tail = prev;
    } else {
        entries[next as usize].prev = prev;
    }
}
