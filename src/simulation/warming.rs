//! Scheduled cache warming: every `every`, each store of a cache that reloads fetches the
//! cache's warm keys, least popular first (so the most popular end most recent), by a request
//! to the reload's endpoint, at its pace or all at once, and stores each key whose request
//! succeeded, fresh. The fetches are served like any request (a database sees the burst);
//! a store that is gone by the time its fetch returns (its process stopped or restarted) keeps
//! nothing.

use super::span::{COUNTED, Span, SpanKind};
use super::{Event, Simulation};
use crate::ids::CacheId;
use crate::kernel::{Scheduler, SimDuration, SimTime, keyed_seed};
use crate::model::Model;

/// Draw key of a reload fetch's seed (with the cache's own seed).
const RELOAD_DRAW: u64 = 0x7265_6c6f_6164_6b79; // "reloadky"

/// The run's reloads.
#[derive(Debug, Default)]
pub(super) struct Reloads {
    /// Per cache: the next rank the current reload fetches, if one is under way.
    next_rank: Vec<Option<u64>>,
    /// Fetches on their way, by the index their span carries.
    fetches: Vec<Fetch>,
    free: Vec<u32>,
    /// Scratch: the stores a reload step fetches for.
    stores: Vec<(u32, u32)>,
}

/// A fetch's store: its cache, its slot and the process that made it.
#[derive(Debug, Clone, Copy)]
struct Fetch {
    cache: CacheId,
    slot: u32,
    serial: u32,
}

impl Reloads {
    /// The model's reloads, the first of each cache put on the schedule.
    pub(super) fn new(model: &Model, scheduler: &mut Scheduler<Event>) -> Reloads {
        for (c, spec) in model.data.caches.iter().enumerate() {
            if let Some(r) = &spec.reload {
                scheduler.schedule_at(
                    SimTime::ZERO + r.every,
                    Event::Reload {
                        cache: c as u32,
                        start: true,
                    },
                );
            }
        }
        Reloads {
            next_rank: vec![None; model.data.caches.len()],
            ..Reloads::default()
        }
    }
}

impl Simulation<'_> {
    /// A reload of `cache` starts (`start`: and the next one is scheduled) or fetches its
    /// next key.
    pub(super) fn reload_due(
        &mut self,
        cache: u32,
        start: bool,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let model = &self.variant.model;
        let spec = &model.data.caches[cache as usize];
        let (Some(reload), Some((_, top))) = (&spec.reload, spec.warm) else {
            return;
        };
        let (every, pace) = (reload.every, reload.keys_per_second);
        if start {
            s.schedule_at(now + every, Event::Reload { cache, start: true });
            self.reloads.next_rank[cache as usize] = Some(top - 1);
        }
        loop {
            let Some(rank) = self.reloads.next_rank[cache as usize] else {
                return;
            };
            self.reloads.next_rank[cache as usize] = rank.checked_sub(1);
            self.fetch_rank(CacheId(cache), rank, now, s);
            if let Some(per_second) = pace {
                if rank > 0 {
                    s.schedule_at(
                        now + SimDuration::from_secs_f64(1.0 / per_second),
                        Event::Reload {
                            cache,
                            start: false,
                        },
                    );
                }
                return;
            }
        }
    }

    /// Every live store of `cache` fetches the key of popularity `rank`.
    fn fetch_rank(&mut self, cache: CacheId, rank: u64, now: SimTime, s: &mut Scheduler<Event>) {
        let model = &self.variant.model;
        let spec = &model.data.caches[cache.index()];
        let (Some(reload), Some((space, _))) = (&spec.reload, spec.warm) else {
            return;
        };
        let target = reload.target;
        let key = model.data.keyspaces[space.index()].ranked(space, rank);
        let mut stores = std::mem::take(&mut self.reloads.stores);
        self.caches.live_stores(cache, &self.instances, &mut stores);
        let base = self.caches.seed_of(cache) ^ RELOAD_DRAW;
        let counted = now >= self.warmup_end;
        for &(slot, serial) in &stores {
            let fetch = Fetch {
                cache,
                slot,
                serial,
            };
            let index = match self.reloads.free.pop() {
                Some(i) => {
                    self.reloads.fetches[i as usize] = fetch;
                    i
                }
                None => {
                    self.reloads.fetches.push(fetch);
                    (self.reloads.fetches.len() - 1) as u32
                }
            };
            let seed = keyed_seed(
                keyed_seed(base, now.as_nanos()),
                key ^ (u64::from(slot) << 48),
            );
            let mut sp = Span::new(SpanKind::Reload, target.service, target.endpoint, seed, now);
            sp.key = key;
            sp.edge_or_client = index;
            self.observer.cache_reload_sent(cache, counted);
            self.send_unawaited(sp, now, s);
        }
        self.reloads.stores = stores;
    }

    /// A reload's fetch ended: its key is stored if it succeeded and its store is still there.
    pub(super) fn reload_ended(&mut self, sp: &Span, now: SimTime) {
        let index = sp.edge_or_client;
        let f = self.reloads.fetches[index as usize];
        self.reloads.free.push(index);
        let stored = sp.outcome == crate::metrics::Outcome::Ok
            && self
                .caches
                .reload_store(f.cache, f.slot, f.serial, sp.key, now);
        self.observer
            .cache_reload_ended(f.cache, stored, sp.has(COUNTED));
    }
}
