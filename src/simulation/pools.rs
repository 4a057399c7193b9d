//! Connection pools in a run: a call through a pool takes a connection before it is sent and
//! gives it back when its outcome is recorded on its edge (which happens exactly once: its
//! answer, its timeout, or its caller's end). Waiting calls queue first come first served;
//! a connection given back goes straight to the oldest live waiter, which is resumed to make
//! its call.
//!
//! An instance pool's slot belongs to the instance that made it (by serial); when a new
//! instance takes the slot, the old pool is retired and its entry reused once its last
//! connection comes back, so a late answer never lands in the new instance's pool.

use super::span::{COUNTED, SpanState};
use super::tree::Work;
use super::{Event, Simulation};
use crate::components::cache::CacheScope;
use crate::components::endpoint::OnError;
use crate::components::program::CallOp;
use crate::ids::{PoolId, SpanId, SpanRef};
use crate::kernel::{Scheduler, SimTime};
use crate::metrics::Outcome;
use crate::metrics::pool::PoolCounts;
use crate::model::Model;
use std::collections::VecDeque;

/// The run's pools.
#[derive(Debug)]
pub(super) struct Pools {
    /// Per pool, its entry per instance slot (shared: one, at 0), with the owner's serial.
    owners: Vec<Vec<Option<(u32, u32)>>>,
    /// Every pool instance's state; `connection` on a call span indexes it.
    entries: Vec<Entry>,
    free: Vec<u32>,
    /// Per pool: counters after warm-up.
    pub(super) counts: Vec<PoolCounts>,
}

#[derive(Debug, Default)]
struct Entry {
    pool: u32,
    in_use: u32,
    /// Calls waiting (some may have ended since: skipped when reached).
    waiting: VecDeque<(SpanRef, SimTime)>,
    /// Waiters given a connection, not yet resumed to use it.
    handed: Vec<SpanRef>,
    /// Its instance has gone: freed once its last connection is back.
    retired: bool,
}

/// What asking for a connection did.
pub(super) enum Acquire {
    /// Got one (the entry to give it back to).
    Got(u32),
    /// All are in use: the caller waits.
    Wait,
    /// Too many callers hold or wait: refused.
    Refused,
}

impl Pools {
    pub(super) fn new(model: &Model) -> Pools {
        Pools {
            owners: vec![Vec::new(); model.data.pools.len()],
            entries: Vec::new(),
            free: Vec::new(),
            counts: vec![PoolCounts::default(); model.data.pools.len()],
        }
    }

    /// The entry of `pool` for a caller on instance slot `slot` with serial `serial`.
    fn entry(&mut self, pool: PoolId, scope: CacheScope, slot: usize, serial: u32) -> u32 {
        let (slot, serial) = match scope {
            CacheScope::Shared => (0, 0),
            CacheScope::Instance => (slot, serial),
        };
        let owners = &mut self.owners[pool.index()];
        if owners.len() <= slot {
            owners.resize(slot + 1, None);
        }
        match owners[slot] {
            Some((s, e)) if s == serial => return e,
            Some((_, e)) => {
                let old = &mut self.entries[e as usize];
                old.retired = true;
                if old.in_use == 0 {
                    self.free.push(e);
                }
            }
            None => {}
        }
        let fresh = Entry {
            pool: pool.0,
            ..Entry::default()
        };
        let e = match self.free.pop() {
            Some(e) => {
                self.entries[e as usize] = fresh;
                e
            }
            None => {
                self.entries.push(fresh);
                (self.entries.len() - 1) as u32
            }
        };
        owners[slot] = Some((serial, e));
        e
    }
}

impl Simulation<'_> {
    /// Span `caller` asks `pool` for a connection for its call.
    pub(super) fn acquire(
        &mut self,
        pool: PoolId,
        caller: SpanId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) -> Acquire {
        let spec = &self.variant.model.data.pools[pool.index()];
        let sp = *self.spans.get(caller);
        let serial = self.instances[sp.instance].serial;
        let counted = sp.has(COUNTED);
        let e = self
            .pools
            .entry(pool, spec.scope, sp.instance.index(), serial);
        let r = self.spans.reference(caller);
        let entry = &mut self.pools.entries[e as usize];
        if let Some(k) = entry.handed.iter().position(|&h| h == r) {
            entry.handed.swap_remove(k);
            return Acquire::Got(e); // counted when it was handed over
        }
        let c = &mut self.pools.counts[pool.index()];
        if counted {
            c.asked += 1;
        }
        if entry.in_use < spec.size {
            entry.in_use += 1;
            if counted {
                c.acquired += 1;
                c.peak_in_use = c.peak_in_use.max(entry.in_use);
            }
            return Acquire::Got(e);
        }
        let clients = u64::from(entry.in_use) + entry.waiting.len() as u64;
        if clients >= u64::from(spec.max_clients) {
            if counted {
                c.refused += 1;
            }
            return Acquire::Refused;
        }
        if counted {
            c.waited += 1;
        }
        entry.waiting.push_back((r, now));
        self.spans.get_mut(caller).state = SpanState::AwaitingConnection;
        if let Some(t) = spec.acquire_timeout {
            s.schedule_at(
                now + t,
                Event::AcquireTimeout {
                    span: caller,
                    generation: r.generation,
                },
            );
        }
        Acquire::Wait
    }

    /// A call's connection (entry `e`) comes back: the oldest live waiter gets it.
    pub(super) fn release(&mut self, e: u32, now: SimTime) {
        let entry = &mut self.pools.entries[e as usize];
        let pool = entry.pool as usize;
        while let Some((r, since)) = entry.waiting.pop_front() {
            let live = self.spans.is_current(r)
                && self.spans.get(r.id).state == SpanState::AwaitingConnection;
            if !live {
                continue;
            }
            // Handed over: still in use, now by `r`.
            entry.handed.push(r);
            let sp = self.spans.get_mut(r.id);
            sp.state = SpanState::Running;
            if sp.has(COUNTED) {
                let c = &mut self.pools.counts[pool];
                c.acquired += 1;
                c.got_after_wait += 1;
                c.peak_in_use = c.peak_in_use.max(entry.in_use);
                c.wait_ns += u128::from(now.since(since).as_nanos());
            }
            self.work.push_back(Work::Resume(r));
            return;
        }
        entry.in_use -= 1;
        if entry.retired && entry.in_use == 0 {
            self.pools.free.push(e);
        }
    }

    /// A call waited for a connection longer than its pool allows: it fails (or, for an
    /// optional dependency, the caller goes on).
    pub(super) fn acquire_timeout(&mut self, id: SpanId, now: SimTime, s: &mut Scheduler<Event>) {
        let Some(call) = self.call_op(id) else {
            return;
        };
        let call: &CallOp = call;
        if let Some(pool) = call.pool {
            if self.spans.get(id).has(COUNTED) {
                self.pools.counts[pool.index()].timeouts += 1;
            }
        }
        self.spans.get_mut(id).state = SpanState::Running;
        self.no_connection(id, call, now, s);
    }

    /// A call got no connection: the caller fails naming the call's edge, or goes on.
    pub(super) fn no_connection(
        &mut self,
        id: SpanId,
        call: &CallOp,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        match call.on_error {
            OnError::Continue => {
                self.spans.get_mut(id).pc += 1;
                self.resume(id, now, s);
            }
            OnError::Fail => self.finish(id, Outcome::Failed, Some(call.edge), now, s),
        }
    }
}
