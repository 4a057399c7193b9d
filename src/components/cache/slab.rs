//! The entry slab and the doubly linked lists threaded through it (recency for LRU, arrival
//! for FIFO, one list per frequency for LFU). Links are `u32` slab indices, `NIL` for none.
//!
//! The slab stays dense: a removed entry's place is taken by the last entry (swap-remove), so
//! Random eviction can pick a uniform index and there is no free list. [`moved`] repairs the
//! links that pointed at the moved entry.

use super::table::NIL;

/// One cached key. 24 bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) key: u64,
    /// Nanoseconds at which the entry stops being served; `u64::MAX` for never.
    pub(super) expiry: u64,
    /// Towards the list's head.
    pub(super) prev: u32,
    /// Towards the list's tail.
    pub(super) next: u32,
}

impl Entry {
    pub(super) fn new(key: u64, expiry: u64) -> Entry {
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

/// The entry at `from` has been copied to `to`: points its neighbours (and `ends`, if it was
/// an end of its list) at the new place.
pub(super) fn moved(entries: &mut [Entry], ends: &mut Ends, from: u32, to: u32) {
    let Entry { prev, next, .. } = entries[to as usize];
    if prev == NIL {
        debug_assert_eq!(ends.head, from);
        ends.head = to;
    } else {
        entries[prev as usize].next = to;
    }
    if next == NIL {
        debug_assert_eq!(ends.tail, from);
        ends.tail = to;
    } else {
        entries[next as usize].prev = to;
    }
}
