//! Caches in a run: each cache's stores (one per instance that uses it, or one shared), the
//! request path's cache ops (a lookup, a fill after a miss, a write, an invalidation), and
//! single-flight: concurrent misses for one key in one store wait for the first one's fill.
//!
//! A request's key is drawn when its span is created (`key_for`), from its endpoint's key
//! space, or inherited from the span that made it. An instance's store belongs to the
//! instance that created it (by serial number): a new instance in a recycled slot finds it
//! cleared, so a cache is cold when its instance starts and gone when it stops, with no
//! hook in the fleet.

use super::Event;
use super::span::{COUNTED, Span, SpanKind, SpanState};
use super::tree::Work;
use super::{Simulation, instances::InstanceArena};
use crate::components::cache::{CacheScope, CacheStore, CacheTierSpec};
use crate::components::lifecycle::Phase;
use crate::components::program::Op;
use crate::ids::{CacheId, EdgeId, EndpointRef, FlightId, InstanceId, SpanId, SpanRef};
use crate::kernel::{RequestRng, Scheduler, SimDuration, SimTime, keyed_seed, stream_seed};
use crate::model::Model;
use std::collections::HashMap;

/// Draw key of a span's key (with its seed).
const KEY_DRAW: u64 = 0x006b_6579_6472_6177; // "keydraw"
/// Draw key of a refresh-ahead's seed (with the seed of the span whose hit started it).
const REFRESH_DRAW: u64 = 0x0072_6566_7265_7368; // "refresh"

/// A fixed hasher: the flight table is only ever looked up, never iterated, so its order
/// cannot reach a report; a fixed hasher keeps even its memory layout reproducible.
type Fixed = crate::kernel::FixedHash;

/// The run's caches.
#[derive(Debug)]
pub(super) struct Caches {
    tiers: Vec<Tier>,
    flights: Vec<Flight>,
    free_flights: Vec<FlightId>,
    /// The flight filling (cache, store, key), if any.
    open: HashMap<(CacheId, u32, u64), FlightId, Fixed>,
    /// Each key space's next sequential key.
    next_key: Vec<u64>,
    /// Write-behind: the keys written and not yet flushed, in a slab (each with its flush
    /// event), and the one of each (cache, store, key).
    dirty: Vec<Dirty>,
    free_dirty: Vec<u32>,
    dirty_of: HashMap<(CacheId, u32, u64), u32, Fixed>,
    /// Some cache counts stale hits: database writes mark entries.
    counts_stale: bool,
}

/// A key a write-behind store holds and has not written yet.
#[derive(Debug, Clone, Copy)]
struct Dirty {
    cache: CacheId,
    store: u32,
    key: u64,
    /// The process holding the store when it was written (serial, last restart): if the
    /// store's instance is another process by then, the write is lost.
    holder: (u32, Option<SimTime>),
    /// The edge its flush is counted on.
    edge: EdgeId,
    /// The first write was after warm-up.
    counted: bool,
    /// Bumped when the slot is freed, so a stale flush event can tell.
    generation: u32,
}

#[derive(Debug)]
struct Tier {
    scope: CacheScope,
    coalesce: bool,
    /// A database's write of a key marks the key's entries in every store.
    count_stale: bool,
    /// Seeds each store's own generator (random eviction).
    seed: u64,
    /// Shared: one store. Instance scope: by instance slot, with the serial of the instance
    /// it belongs to.
    stores: Vec<Option<(u32, CacheStore)>>,
}

/// A miss being filled.
#[derive(Debug, Default)]
struct Flight {
    cache: CacheId,
    store: u32,
    key: u64,
    /// Lookups waiting for the fill (some may have ended since: checked when woken).
    waiters: Vec<SpanRef>,
    /// The flight its leader led before this one (a miss inside a miss).
    below: Option<FlightId>,
}

/// What a lookup did.
pub(super) enum Looked {
    /// Found: go on past the miss's steps.
    Hit,
    /// Not found: run the miss's steps.
    Miss,
    /// Not found, and another request is filling it: wait.
    Wait,
}

impl Caches {
    pub(super) fn new(model: &Model, seed: u64, replication: u32) -> Caches {
        let tiers = model
            .data
            .caches
            .iter()
            .map(|c: &CacheTierSpec| {
                let seed = stream_seed(seed, replication, &c.name, "cache");
                Tier {
                    scope: c.scope,
                    coalesce: c.coalesce,
                    count_stale: c.count_stale,
                    seed,
                    stores: match c.scope {
                        CacheScope::Shared => {
                            let mut store = CacheStore::new(&c.store, seed);
                            warm(model, c, &mut store, SimTime::ZERO);
                            vec![Some((0, store))]
                        }
                        CacheScope::Instance => Vec::new(),
                    },
                }
            })
            .collect();
        Caches {
            tiers,
            flights: Vec::new(),
            free_flights: Vec::new(),
            open: HashMap::default(),
            next_key: vec![0; model.data.keyspaces.len()],
            dirty: Vec::new(),
            free_dirty: Vec::new(),
            dirty_of: HashMap::default(),
            counts_stale: model.data.caches.iter().any(|c| c.count_stale),
        }
    }

    /// A database committed a write of `key`: the caches that count stale hits mark the
    /// key's entry in each of their stores (a stopped instance's too: it is never read again).
    /// O(stores of those caches).
    pub(super) fn written(&mut self, key: u64) {
        if !self.counts_stale {
            return;
        }
        for tier in self.tiers.iter_mut().filter(|t| t.count_stale) {
            for (_, store) in tier.stores.iter_mut().flatten() {
                store.mark_stale(key);
            }
        }
    }

    /// Key space `space`'s next sequential key (a sequential space's cursor).
    pub(super) fn next_key_mut(&mut self, space: crate::ids::KeySpaceId) -> &mut u64 {
        &mut self.next_key[space.index()]
    }

    /// The store of `cache` that a span on `instance` uses, and its index; an instance's
    /// store is made (or found cleared) the first time the instance uses it.
    fn store(
        &mut self,
        model: &Model,
        cache: CacheId,
        instance: InstanceId,
        instances: &InstanceArena,
        now: SimTime,
    ) -> (u32, &mut CacheStore) {
        let tier = &mut self.tiers[cache.index()];
        let slot = match tier.scope {
            CacheScope::Shared => 0,
            CacheScope::Instance => instance.index(),
        };
        if tier.stores.len() <= slot {
            tier.stores.resize_with(slot + 1, || None);
        }
        let serial = match tier.scope {
            CacheScope::Shared => 0,
            CacheScope::Instance => instances[instance].serial,
        };
        let entry = &mut tier.stores[slot];
        match entry {
            Some((owner, store)) if *owner != serial => {
                // The slot's earlier instance is gone: so is its cache.
                store.clear();
                *owner = serial;
                warm(model, &model.data.caches[cache.index()], store, now);
            }
            Some(_) => {}
            None => {
                let spec = &model.data.caches[cache.index()];
                let mut store =
                    CacheStore::new(&spec.store, keyed_seed(tier.seed, u64::from(serial)));
                warm(model, spec, &mut store, now);
                *entry = Some((serial, store));
            }
        }
        let (_, store) = entry.as_mut().expect("made above");
        (slot as u32, store)
    }

    /// Instance `id`'s process restarted (a crash, a kill, a resize): what it held in
    /// memory is gone, so its stores start again empty (and warmed) when next used.
    pub(super) fn process_restarted(&mut self, id: InstanceId) {
        for tier in &mut self.tiers {
            if tier.scope == CacheScope::Instance {
                if let Some(entry) = tier.stores.get_mut(id.index()) {
                    *entry = None;
                }
            }
        }
    }

    /// The stores of `cache` in use now, as (slot, owner serial): the shared one, or those
    /// of instances still running (a warming job runs in each).
    pub(super) fn live_stores(
        &self,
        cache: CacheId,
        instances: &InstanceArena,
        out: &mut Vec<(u32, u32)>,
    ) {
        out.clear();
        let tier = &self.tiers[cache.index()];
        for (slot, s) in tier.stores.iter().enumerate() {
            let Some((owner, _)) = s else { continue };
            let live = tier.scope == CacheScope::Shared || {
                let inst = &instances[InstanceId::from_index(slot)];
                inst.serial == *owner && inst.phase != Phase::Stopped
            };
            if live {
                out.push((slot as u32, *owner));
            }
        }
    }

    /// A reload fetched `key` for store `slot` of `cache`, made by the process `serial`:
    /// stored fresh if that store is still the one (not cleared by a restart or reused by
    /// another instance since). Returns whether it was.
    pub(super) fn reload_store(
        &mut self,
        cache: CacheId,
        slot: u32,
        serial: u32,
        key: u64,
        now: SimTime,
    ) -> bool {
        match self.tiers[cache.index()].stores.get_mut(slot as usize) {
            Some(Some((owner, store))) if *owner == serial => {
                store.insert(key, now);
                true
            }
            _ => false,
        }
    }

    /// The seed of `cache`'s own draws in this run.
    pub(super) fn seed_of(&self, cache: CacheId) -> u64 {
        self.tiers[cache.index()].seed
    }

    /// Entries held now by the stores of instances still running (a stopped instance's
    /// store is gone with it).
    pub(super) fn entries(&self, cache: CacheId, instances: &InstanceArena) -> u64 {
        let tier = &self.tiers[cache.index()];
        let alive = |slot: usize, owner: u32| {
            let inst = &instances[InstanceId::from_index(slot)];
            inst.serial == owner && inst.phase != Phase::Stopped
        };
        tier.stores
            .iter()
            .enumerate()
            .filter_map(|(slot, s)| s.as_ref().map(|(owner, store)| (slot, *owner, store)))
            .filter(|&(slot, owner, _)| tier.scope == CacheScope::Shared || alive(slot, owner))
            .map(|(_, _, store)| store.len() as u64)
            .sum()
    }

    /// Bytes the stores hold now.
    pub(super) fn memory_bytes(&self, cache: CacheId) -> u64 {
        self.tiers[cache.index()]
            .stores
            .iter()
            .flatten()
            .map(|(_, s)| s.memory_bytes() as u64)
            .sum()
    }

    fn open_flight(
        &mut self,
        cache: CacheId,
        store: u32,
        key: u64,
        below: Option<FlightId>,
    ) -> FlightId {
        let id = match self.free_flights.pop() {
            Some(id) => id,
            None => {
                self.flights.push(Flight::default());
                FlightId::from_index(self.flights.len() - 1)
            }
        };
        let f = &mut self.flights[id.index()];
        f.cache = cache;
        f.store = store;
        f.key = key;
        f.below = below;
        debug_assert!(f.waiters.is_empty());
        self.open.insert((cache, store, key), id);
        id
    }

    /// Frees dirty slot `d`, returning what it held.
    fn free(&mut self, d: u32) -> Dirty {
        let e = &mut self.dirty[d as usize];
        let old = *e;
        e.generation = e.generation.wrapping_add(1);
        self.dirty_of.remove(&(old.cache, old.store, old.key));
        self.free_dirty.push(d);
        old
    }

    /// Closes flight `id`: its waiters, into `woken` (which keeps its capacity), and the
    /// flight it was above.
    fn close_flight(&mut self, id: FlightId, woken: &mut Vec<SpanRef>) -> Option<FlightId> {
        let f = &mut self.flights[id.index()];
        self.open.remove(&(f.cache, f.store, f.key));
        woken.append(&mut f.waiters);
        self.free_flights.push(id);
        f.below
    }
}

impl Simulation<'_> {
    /// The key of a new span of endpoint `target` with `seed`: drawn from the endpoint's key
    /// space, or `inherited` from the span that made it.
    #[inline]
    pub(super) fn key_for(&mut self, target: EndpointRef, seed: u64, inherited: u64) -> u64 {
        let model = &self.variant.model;
        match model.services[target.service as usize].endpoints[target.endpoint as usize].key {
            Some(space) => {
                let mut rng = RequestRng::new(keyed_seed(seed, KEY_DRAW));
                model.data.keyspaces[space.index()].draw(
                    space,
                    &mut rng,
                    &mut self.caches.next_key[space.index()],
                )
            }
            None => inherited,
        }
    }

    /// Span `id` looks its key up in `cache`.
    pub(super) fn cache_lookup(&mut self, id: SpanId, cache: CacheId, now: SimTime) -> Looked {
        let sp = *self.spans.get(id);
        let model = &self.variant.model;
        let (store_ix, store) = self
            .caches
            .store(model, cache, sp.instance, &self.instances, now);
        let found = store.get(sp.key, now);
        let refreshes = model.data.caches[cache.index()].refresh_ahead.is_some();
        let expires = if refreshes && found.is_hit() {
            store.expires_at(sp.key)
        } else {
            None
        };
        let counted = sp.has(COUNTED);
        self.observer.cache_lookup(cache, found, counted);
        if found.is_hit() {
            if let Some(expires) = expires {
                self.refresh_ahead(id, cache, store_ix, expires, now);
            }
            return Looked::Hit;
        }
        if !self.caches.tiers[cache.index()].coalesce {
            return Looked::Miss;
        }
        if let Some(&flight) = self.caches.open.get(&(cache, store_ix, sp.key)) {
            let r = self.spans.reference(id);
            self.caches.flights[flight.index()].waiters.push(r);
            self.spans.get_mut(id).state = SpanState::Coalesced;
            self.observer.cache_coalesced(cache, counted);
            return Looked::Wait;
        }
        let flight = self.caches.open_flight(cache, store_ix, sp.key, sp.flight);
        self.spans.get_mut(id).flight = Some(flight);
        Looked::Miss
    }

    /// Span `id`, on a node of `cache`, looks its key up in the node's store and answers
    /// whether it was there (a node does not coalesce: its clients' misses are theirs).
    pub(super) fn cache_probe(&mut self, id: SpanId, cache: CacheId, now: SimTime) {
        let sp = *self.spans.get(id);
        let model = &self.variant.model;
        let (_, store) = self
            .caches
            .store(model, cache, sp.instance, &self.instances, now);
        let found = store.get(sp.key, now);
        self.observer.cache_lookup(cache, found, sp.has(COUNTED));
        self.spans.get_mut(id).succeeded = u16::from(found.is_hit());
    }

    /// Span `id` hit an entry of `cache` (store `store`) that expires at `expires`: if the
    /// cache refreshes ahead and the entry is past its refresh point, a refresh runs the
    /// lookup's miss steps in the background, unless one (or a miss's fill) is on its way.
    fn refresh_ahead(
        &mut self,
        id: SpanId,
        cache: CacheId,
        store: u32,
        expires: SimTime,
        now: SimTime,
    ) {
        let spec = &self.variant.model.data.caches[cache.index()];
        let (Some(f), Some(ttl)) = (spec.refresh_ahead, spec.store.ttl) else {
            return;
        };
        let ahead = SimDuration::from_secs_f64(ttl.duration.as_secs_f64() * (1.0 - f));
        let sp = *self.spans.get(id);
        if now + ahead < expires || self.caches.open.contains_key(&(cache, store, sp.key)) {
            return;
        }
        let mut r = Span::new(
            SpanKind::Refresh,
            sp.service,
            sp.endpoint,
            keyed_seed(sp.seed, REFRESH_DRAW),
            now,
        );
        r.executor = sp.executor;
        // The miss's steps follow the lookup.
        r.pc = sp.pc + 1;
        r.key = sp.key;
        r.flags = sp.flags & COUNTED;
        r.state = SpanState::Running;
        let rid = self.spans.insert(r);
        self.hold(sp.instance, rid);
        let flight = self.caches.open_flight(cache, store, sp.key, None);
        self.spans.get_mut(rid).flight = Some(flight);
        self.observer.cache_refreshed(cache, sp.has(COUNTED));
        self.work.push_back(Work::Resume(self.spans.reference(rid)));
    }

    /// Whether span `id` is a refresh whose fill is done (its flight closed): it ends there.
    pub(super) fn refreshed(&self, id: SpanId) -> bool {
        let sp = self.spans.get(id);
        sp.kind == SpanKind::Refresh && sp.flight.is_none()
    }

    /// Span `id`'s miss in `cache` is done: the key is stored (if `store`), and the lookups
    /// that waited for it go on as hits.
    pub(super) fn cache_fill(&mut self, id: SpanId, cache: CacheId, store: bool, now: SimTime) {
        let sp = *self.spans.get(id);
        if store {
            self.cache_store(id, cache, now);
        }
        let Some(flight) = sp.flight else { return };
        if self.caches.flights[flight.index()].cache != cache {
            return; // this cache does not coalesce: the open flight is an outer one
        }
        let mut woken = std::mem::take(&mut self.woken);
        let below = self.caches.close_flight(flight, &mut woken);
        self.spans.get_mut(id).flight = below;
        for r in woken.drain(..) {
            if !self.spans.is_current(r) || self.spans.get(r.id).state != SpanState::Coalesced {
                continue; // it ended while it waited
            }
            let w = self.spans.get_mut(r.id);
            let Op::CacheGet { hit, .. } = self.variant.model.code.op(w.pc) else {
                unreachable!("a coalesced span waits at its lookup");
            };
            w.pc = *hit;
            w.state = SpanState::Running;
            self.work.push_back(Work::Resume(r));
        }
        self.woken = woken;
    }

    /// Span `id` stores its key in `cache` (a fill or a write); returns the store's index.
    pub(super) fn cache_store(&mut self, id: SpanId, cache: CacheId, now: SimTime) -> u32 {
        let sp = *self.spans.get(id);
        let model = &self.variant.model;
        let (slot, store) = self
            .caches
            .store(model, cache, sp.instance, &self.instances, now);
        let before = store.stats().evictions;
        store.insert(sp.key, now);
        let evicted = store.stats().evictions - before;
        self.observer.cache_stored(cache, evicted, sp.has(COUNTED));
        slot
    }

    /// Span `id` wrote its key to write-behind `cache`'s store `slot`: the key is to be
    /// written `delay` from now on `edge`, unless it is waiting already (the writes merge).
    pub(super) fn write_behind(
        &mut self,
        id: SpanId,
        cache: CacheId,
        slot: u32,
        edge: EdgeId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let sp = *self.spans.get(id);
        let counted = sp.has(COUNTED);
        let holder = self.holder(cache, slot);
        let c = &mut self.caches;
        if let Some(&d) = c.dirty_of.get(&(cache, slot, sp.key)) {
            if c.dirty[d as usize].holder == holder {
                self.observer.cache_write_merged(cache, counted);
                return;
            }
            // Its store's process is gone: the write it held is lost, and this one starts anew.
            let old = c.free(d);
            self.observer.cache_write_lost(cache, old.counted);
        }
        let c = &mut self.caches;
        let delay = self.variant.model.data.caches[cache.index()]
            .write_behind
            .as_ref()
            .expect("a write-behind cache")
            .delay;
        let d = c.free_dirty.pop().unwrap_or_else(|| {
            c.dirty.push(Dirty {
                cache,
                store: 0,
                key: 0,
                holder: (0, None),
                edge,
                counted: false,
                generation: 0,
            });
            (c.dirty.len() - 1) as u32
        });
        let e = &mut c.dirty[d as usize];
        let generation = e.generation;
        *e = Dirty {
            cache,
            store: slot,
            key: sp.key,
            holder,
            edge,
            counted,
            generation,
        };
        c.dirty_of.insert((cache, slot, sp.key), d);
        self.observer.cache_write_deferred(cache, counted);
        s.schedule_at(
            now + delay,
            Event::Flush {
                dirty: d,
                generation,
            },
        );
    }

    /// The process that holds `cache`'s store `slot` now: an instance's serial and last
    /// restart, or (0, None) for a shared store, which no process takes with it.
    fn holder(&self, cache: CacheId, slot: u32) -> (u32, Option<SimTime>) {
        match self.caches.tiers[cache.index()].scope {
            CacheScope::Shared => (0, None),
            CacheScope::Instance => {
                let inst = &self.instances[InstanceId::from_index(slot as usize)];
                match inst.phase {
                    // A stopped process holds nothing (u32::MAX is no serial a holder had).
                    Phase::Stopped => (u32::MAX, None),
                    _ => (inst.serial, inst.restarted_at),
                }
            }
        }
    }

    /// A dirty key's flush is due: it is written by a message to its database, unless the
    /// process that held it has stopped or restarted since (a lost write).
    pub(super) fn flush_due(
        &mut self,
        dirty: u32,
        generation: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let e = self.caches.dirty[dirty as usize];
        if e.generation != generation {
            return; // freed early: its holder was replaced before this
        }
        self.caches.free(dirty);
        if self.holder(e.cache, e.store) != e.holder {
            self.observer.cache_write_lost(e.cache, e.counted);
            return;
        }
        self.observer.cache_flushed(e.cache, e.counted);
        let target = self.variant.model.edges[e.edge.index()].callee;
        let seed = keyed_seed(
            keyed_seed(self.caches.tiers[e.cache.index()].seed, e.key),
            now.as_nanos(),
        );
        let mut job = Span::new(SpanKind::Job, target.service, target.endpoint, seed, now);
        job.key = self.key_for(target, seed, e.key);
        job.edge_or_client = e.edge.0;
        let counted = now >= self.warmup_end;
        job.flags = if counted { COUNTED } else { 0 };
        self.observer.edge_call(e.edge, counted);
        let id = self.spans.insert(job);
        let generation = self.spans.get(id).generation;
        self.travel(id, generation, None, seed, now, s);
    }

    /// Span `id` drops its key from `cache`.
    pub(super) fn cache_invalidate(&mut self, id: SpanId, cache: CacheId, now: SimTime) {
        let sp = *self.spans.get(id);
        let model = &self.variant.model;
        let (_, store) = self
            .caches
            .store(model, cache, sp.instance, &self.instances, now);
        let _ = now;
        store.remove(sp.key);
        self.observer.cache_invalidated(cache, sp.has(COUNTED));
    }

    /// Span `id` ends while it leads fills: the lookups waiting for them look again (one of
    /// them will lead the next try), as a cache's single-flight group lets the next caller in
    /// when the first fails.
    pub(super) fn abandon_flights(&mut self, id: SpanId) {
        let mut woken = std::mem::take(&mut self.woken);
        let mut next = self.spans.get_mut(id).flight.take();
        while let Some(f) = next {
            next = self.caches.close_flight(f, &mut woken);
        }
        for r in woken.drain(..) {
            if self.spans.is_current(r) && self.spans.get(r.id).state == SpanState::Coalesced {
                self.spans.get_mut(r.id).state = SpanState::Running;
                self.work.push_back(Work::Resume(r));
            }
        }
        self.woken = woken;
    }
}

/// Loads a new store with its cache's warm keys, least popular first, so that the most
/// popular are the most recently used (LRU) and the last to go.
fn warm(model: &Model, spec: &CacheTierSpec, store: &mut CacheStore, now: SimTime) {
    let Some((space, top)) = spec.warm else {
        return;
    };
    let keys = &model.data.keyspaces[space.index()];
    for rank in (0..top).rev() {
        store.insert(keys.ranked(space, rank), now);
    }
}
