//! Spans: a request is a tree of them. A root span is a client's request at its first
//! service; a call span is that service's request to another; a job is a message a worker
//! pool serves; a branch span is one branch of a fan-out, run by the instance of the span that
//! forked it. Spans live in an arena with a free list and a generation per slot, so memory
//! follows what is in flight and an event about a freed slot is recognised as stale.

use crate::ids::{EdgeId, FlightId, InstanceId, SpanId, SpanRef};
use crate::kernel::SimTime;
use crate::metrics::Outcome;

/// What a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// A client's request: its outcome is the client's.
    Root,
    /// A synchronous call: its caller waits for it.
    Call,
    /// A message to a worker pool: nobody waits for it.
    Job,
    /// A branch of a fan-out, on its forking span's instance.
    Branch,
    /// A refresh-ahead: a cache lookup's miss steps run in the background on the looking
    /// span's instance, for nobody; it ends at the fill of the flight it leads.
    Refresh,
    /// A resharding's copy of one moving key: an export on the shard it leaves or an import
    /// on the one it goes to, served like any request, for nobody.
    Migration,
    /// A scheduled cache warming's fetch of one key for one store, served like any request;
    /// its success stores the key.
    Reload,
}

impl SpanKind {
    /// Whether it is a request a service serves (it takes a concurrency slot), as opposed to
    /// a branch of one.
    #[inline]
    pub fn is_served(self) -> bool {
        !matches!(self, SpanKind::Branch | SpanKind::Refresh)
    }
}

/// Where a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanState {
    /// On the network to its service (or being dispatched).
    Travelling,
    /// In a worker pool's queue, waiting for a free worker.
    Backlogged,
    /// In an instance's accept queue.
    Queued,
    /// Running ops (momentarily, inside the interpreter).
    Running,
    /// Waiting for a core in an executor's run queue.
    CpuQueued,
    /// On a core, a slice ending at a pending event.
    OnCore,
    /// Waiting for an I/O step.
    Io,
    /// Waiting for its one child (a call).
    Calling,
    /// Waiting for a join.
    Joining,
    /// Waiting for another request's fill of the key it missed (single-flight).
    Coalesced,
    /// Waiting for a connection pool to give it a connection for its call.
    AwaitingConnection,
    /// Waiting to try its failed call again.
    Backoff,
    /// Done: its outcome is set, its parent has not read it yet.
    Finished,
    /// The slot is free.
    Free,
}

/// Counted in the summary (created after warm-up).
pub const COUNTED: u8 = 1;
/// A root whose client has its outcome already (timed out).
pub const ANSWERED: u8 = 2;
/// Its edge outcome is recorded (a call or a job).
pub const EDGE_DONE: u8 = 4;
/// Asked to stop at its next step (it was on a core when cancelled).
pub const CANCELLED: u8 = 8;
/// The current CPU step may be time-sliced (`cpu`, not `block`).
pub const SLICED: u8 = 16;
/// It holds a concurrency slot on `instance`.
pub const HOLDS_SLOT: u8 = 32;
/// It is on `instance`'s list of held spans.
pub const HELD: u8 = 64;
/// It reached its service (and is counted among the service's arrivals).
pub const ARRIVED: u8 = 128;

/// One span.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    /// Bumped when the slot is freed, so events about an earlier span can tell.
    pub generation: u32,
    /// What it is.
    pub kind: SpanKind,
    /// Where it is.
    pub state: SpanState,
    /// [`COUNTED`], [`ANSWERED`], [`EDGE_DONE`], [`CANCELLED`], [`SLICED`], [`HOLDS_SLOT`],
    /// [`HELD`], [`ARRIVED`].
    pub flags: u8,
    /// Its result, once finished.
    pub outcome: Outcome,
    /// Its service, and the endpoint whose program it runs.
    pub service: u32,
    /// The endpoint, in its service.
    pub endpoint: u32,
    /// The instance serving it (valid once admitted or queued on one).
    pub instance: InstanceId,
    /// The executor (run queue) it is pinned to.
    pub executor: u32,
    /// The op it is at.
    pub pc: u32,
    /// Who waits for it: a caller or a forking span (`None`: a root, a job, or abandoned).
    pub parent: Option<SpanId>,
    /// Its first attached child (the call it waits for, or a fork's branches).
    pub first_child: Option<SpanId>,
    /// Siblings under the same parent.
    pub prev_sibling: Option<SpanId>,
    /// Siblings under the same parent.
    pub next_sibling: Option<SpanId>,
    /// Neighbours on its instance's list of held spans.
    pub held_prev: Option<SpanId>,
    /// Neighbours on its instance's list of held spans.
    pub held_next: Option<SpanId>,
    /// A joining span: branch successes so far (how many it started and needs are its fork
    /// op's). A cache node's lookup: 1 if it found its key; its caller, once the call
    /// returns, the same (the `CacheAnswer` op after the call reads it). A span is never
    /// joining and calling at once, so the two uses share these two bytes (the span stays
    /// within two cache lines).
    pub succeeded: u16,
    /// Branch failures so far. (A fan-out has at most `MAX_BRANCHES`, 10,000, branches.)
    pub failed: u16,
    /// A call or job: its edge. A root: its client.
    pub edge_or_client: u32,
    /// A root on a closed-loop connection: the connection. A call through a connection
    /// pool: the pool entry whose connection it holds (`pools`).
    pub connection: Option<u32>,
    /// A failed span: the edge whose failure it passes on (the deepest one).
    pub cause: Option<EdgeId>,
    /// Seeds its draws (with each op's key) and its children's seeds.
    pub seed: u64,
    /// When it was created: a root's send, a call's call.
    pub created: SimTime,
    /// When it reached its service (its server-side latency starts here).
    pub arrived: SimTime,
    /// When its caller (or client) stops waiting, if it has a deadline.
    pub deadline: SimTime,
    /// Nanoseconds left in its current CPU step (for time slicing).
    pub remaining_cpu: u64,
    /// The object it is about (see `workload::keys`): drawn from its endpoint's key space,
    /// or its parent's.
    pub key: u64,
    /// The innermost cache miss it is filling that others wait for (each flight names the
    /// one below it).
    pub flight: Option<FlightId>,
}

impl Span {
    /// A fresh span; the caller sets what differs.
    pub fn new(kind: SpanKind, service: u32, endpoint: u32, seed: u64, now: SimTime) -> Span {
        Span {
            generation: 0,
            kind,
            state: SpanState::Travelling,
            flags: 0,
            outcome: Outcome::Ok,
            service,
            endpoint,
            instance: InstanceId::from_index(0),
            executor: 0,
            pc: 0,
            parent: None,
            first_child: None,
            prev_sibling: None,
            next_sibling: None,
            held_prev: None,
            held_next: None,
            succeeded: 0,
            failed: 0,
            edge_or_client: 0,
            connection: None,
            cause: None,
            seed,
            created: now,
            arrived: now,
            deadline: SimTime::MAX,
            remaining_cpu: 0,
            key: 0,
            flight: None,
        }
    }

    /// Whether `flag` is set.
    #[inline]
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// The arena.
#[derive(Debug, Default)]
pub struct SpanArena {
    slots: Vec<Span>,
    free: Vec<SpanId>,
    live: usize,
}

impl SpanArena {
    /// Stores `s` and returns its id. O(1); allocates only past the largest size so far.
    #[inline]
    pub fn insert(&mut self, mut s: Span) -> SpanId {
        self.live += 1;
        match self.free.pop() {
            Some(id) => {
                s.generation = self.slots[id.index()].generation;
                self.slots[id.index()] = s;
                id
            }
            None => {
                s.generation = 0;
                self.slots.push(s);
                SpanId::from_index(self.slots.len() - 1)
            }
        }
    }

    /// Frees a span; events that still name it are stale from now on.
    #[inline]
    pub fn remove(&mut self, id: SpanId) {
        let s = &mut self.slots[id.index()];
        debug_assert!(s.state != SpanState::Free, "a span is freed once");
        s.state = SpanState::Free;
        s.generation = s.generation.wrapping_add(1);
        self.live -= 1;
        self.free.push(id);
    }

    /// Spans stored now.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Most spans ever stored at once (the memory high-water mark).
    pub fn capacity_used(&self) -> usize {
        self.slots.len()
    }

    /// The span `id`.
    #[inline]
    pub fn get(&self, id: SpanId) -> &Span {
        &self.slots[id.index()]
    }

    /// The span `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: SpanId) -> &mut Span {
        &mut self.slots[id.index()]
    }

    /// A reference to `id` as it is now.
    #[inline]
    pub fn reference(&self, id: SpanId) -> SpanRef {
        SpanRef {
            id,
            generation: self.slots[id.index()].generation,
        }
    }

    /// Whether `r` still names the span it named (not freed since).
    #[inline]
    pub fn is_current(&self, r: SpanRef) -> bool {
        let s = &self.slots[r.id.index()];
        s.generation == r.generation && s.state != SpanState::Free
    }

    /// Every live span (for end-of-run accounting: O(slots)).
    pub fn iter_live(&self) -> impl Iterator<Item = &Span> {
        self.slots.iter().filter(|s| s.state != SpanState::Free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README states a span's size; memory per request in flight follows from it.
    #[test]
    fn a_span_fits_in_two_cache_lines() {
        assert_eq!(std::mem::size_of::<Span>(), 128);
    }
}
