//! Requests in flight, in a slab: slots are reused, so memory follows what is in flight, not
//! how many requests the run has seen.

use crate::kernel::{RequestRng, SimTime};

/// The client already has this request's outcome.
pub const ANSWERED: u8 = 1;
/// The server has finished with it (answered, rejected, or never reached one).
pub const SERVER_DONE: u8 = 2;
/// It arrived after warm-up, so it counts in the summary.
pub const COUNTED: u8 = 4;

/// Sentinel for "no closed-loop connection".
pub const NO_CONNECTION: u32 = u32::MAX;

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// When the client sent it.
    pub arrival: SimTime,
    /// Draws its step durations; seeded at arrival (common random numbers).
    pub rng: RequestRng,
    /// Sending client.
    pub client: u32,
    /// Closed-loop connection, or [`NO_CONNECTION`].
    pub connection: u32,
    /// Target service.
    pub service: u32,
    /// Endpoint within the service.
    pub endpoint: u32,
    /// Instance serving it.
    pub instance: u32,
    /// Executor (run queue) within the instance.
    pub executor: u32,
    /// Index of the current step.
    pub step: u32,
    /// Nanoseconds left in the current CPU step (for time slicing).
    pub remaining_cpu: u64,
    /// Bumped when the slot is reused, so stale references can tell.
    pub generation: u32,
    /// [`ANSWERED`], [`SERVER_DONE`], [`COUNTED`].
    pub flags: u8,
}

/// A slab of requests with a free list.
#[derive(Debug, Default)]
pub struct RequestSlab {
    slots: Vec<Request>,
    free: Vec<u32>,
    live: usize,
}

impl RequestSlab {
    /// Stores `r` and returns its slot. O(1); allocates only when the slab grows past its
    /// largest size so far.
    #[inline]
    pub fn insert(&mut self, mut r: Request) -> u32 {
        self.live += 1;
        match self.free.pop() {
            Some(slot) => {
                r.generation = self.slots[slot as usize].generation.wrapping_add(1);
                self.slots[slot as usize] = r;
                slot
            }
            None => {
                r.generation = 0;
                self.slots.push(r);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees a slot.
    #[inline]
    pub fn remove(&mut self, slot: u32) {
        self.live -= 1;
        self.free.push(slot);
    }

    /// Requests stored now.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Largest number of slots ever used (memory high-water mark).
    pub fn capacity_used(&self) -> usize {
        self.slots.len()
    }

    /// The request in `slot`.
    #[inline]
    pub fn get(&self, slot: u32) -> &Request {
        &self.slots[slot as usize]
    }

    /// The request in `slot`, mutably.
    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Request {
        &mut self.slots[slot as usize]
    }

    /// Iterates over live requests (for end-of-run accounting; O(slots)).
    pub fn iter_live(&self) -> impl Iterator<Item = &Request> {
        self.live_slots().map(|slot| &self.slots[slot as usize])
    }

    /// The slots in use (O(slots); for rare events such as killing an instance).
    pub fn live_slots(&self) -> impl Iterator<Item = u32> + use<> {
        let mut is_free = vec![false; self.slots.len()];
        for &f in &self.free {
            is_free[f as usize] = true;
        }
        is_free
            .into_iter()
            .enumerate()
            .filter(|(_, f)| !f)
            .map(|(i, _)| i as u32)
    }
}
