//! Sharded services in a run: which shard a call reaches (the current map, by the request's
//! key), how many queries each shard took, and resharding: at its time the new shards are
//! started, and once they can be ready the map switches; shards the new map no longer uses
//! are then scaled to zero. Caches that live on shard instances are cold on a new shard, and
//! a key that moves between running shards finds none of its entries there: nothing is
//! copied, so the effect on hit ratios and load emerges.

use super::span::{Span, SpanKind};

/// Seeds a migration request's draws (with its group and key).
const MIGRATION_DRAW: u64 = 0x6d69_6772_6174_6531; // "migrate1"
use super::{Event, Simulation};
use crate::ids::ServiceId;
use crate::kernel::{Scheduler, SimTime};
use crate::metrics::shard::{MigrationSummary, ReshardSummary, ShardingSummary};
use crate::model::Model;
use indexmap::IndexMap;

/// The run's sharded services.
#[derive(Debug)]
pub(super) struct Shards {
    groups: Vec<GroupState>,
}

#[derive(Debug)]
struct GroupState {
    /// The new map is in use.
    switched: bool,
    switched_at: Option<SimTime>,
    /// Queries each shard took after warm-up.
    queries: Vec<u64>,
    /// The migration, if the resharding copies.
    copy: CopyState,
}

/// Where a resharding's copy is: it walks the key space in order, copying each key whose
/// shard changes, and the map switches when every import has ended.
#[derive(Debug, Default)]
struct CopyState {
    /// The next key index to look at.
    cursor: u64,
    /// Every moving key has been sent.
    sent_all: bool,
    /// Imports sent and not yet ended.
    outstanding: u64,
    /// Imports ended well, and not.
    copied: u64,
    failed: u64,
    started_at: Option<SimTime>,
}

impl Shards {
    /// The model's sharded services; their reshardings are put on the schedule.
    pub(super) fn new(model: &Model, scheduler: &mut Scheduler<Event>) -> Shards {
        let groups = model
            .data
            .shards
            .iter()
            .enumerate()
            .map(|(g, group)| {
                if let Some((at, _, _)) = &group.reshard {
                    scheduler.schedule_at(SimTime::ZERO + *at, Event::Reshard { group: g as u32 });
                }
                GroupState {
                    switched: false,
                    switched_at: None,
                    queries: vec![0; group.slots as usize],
                    copy: CopyState::default(),
                }
            })
            .collect();
        Shards { groups }
    }

    /// What each sharded service measured.
    pub(super) fn summaries(&self, model: &Model) -> IndexMap<String, ShardingSummary> {
        model
            .data
            .shards
            .iter()
            .zip(&self.groups)
            .map(|(g, st)| {
                let total: u64 = st.queries.iter().sum();
                let hottest = st.queries.iter().copied().max().unwrap_or(0);
                let summary = ShardingSummary {
                    key: g.key.clone(),
                    placement: g.placement.0.clone(),
                    shards: g.map.shards(),
                    queries: st.queries.clone(),
                    hottest_share: if total == 0 {
                        0.0
                    } else {
                        hottest as f64 / total as f64
                    },
                    reshard: g.reshard.as_ref().map(|(at, to, moved)| ReshardSummary {
                        at_s: at.as_secs_f64(),
                        switched_at_s: st.switched_at.map(SimTime::as_secs_f64),
                        shards: to.shards(),
                        placement: g.placement.1.clone().unwrap_or_default(),
                        moved_fraction: moved.fraction(),
                        migration: g.migration.map(|m| MigrationSummary {
                            keys_per_second: m.keys_per_second,
                            copied: st.copy.copied,
                            failed: st.copy.failed,
                            in_flight_at_end: st.copy.outstanding,
                            started_at_s: st.copy.started_at.map(SimTime::as_secs_f64),
                        }),
                    }),
                };
                (g.name.clone(), summary)
            })
            .collect()
    }
}

impl Simulation<'_> {
    /// The service of the shard of group `group` that holds `child`'s key; counts the query.
    #[inline]
    pub(super) fn shard_for(&mut self, group: u32, child: &Span) -> u32 {
        let g = &self.variant.model.data.shards[group as usize];
        let st = &mut self.shards.groups[group as usize];
        let map = match (&g.reshard, st.switched) {
            (Some((_, to, _)), true) => to,
            _ => &g.map,
        };
        let k = map.shard_of(child.key).0;
        if child.has(super::span::COUNTED) {
            st.queries[k as usize] += 1;
        }
        g.service(k)
    }

    /// A resharding is due: the new map's shards start (each with the service's instances);
    /// the map switches once they can be ready.
    pub(super) fn reshard(&mut self, group: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let g = &self.variant.model.data.shards[group as usize];
        let Some((_, to, _)) = &g.reshard else {
            return;
        };
        let mut ready_in = crate::kernel::SimDuration::ZERO;
        for k in 0..to.shards() {
            let service = ServiceId(g.service(k));
            let fleet = &self.services[service.index()].fleet;
            if fleet.size() < g.replicas {
                ready_in = ready_in.max(
                    self.variant.model.services[service.index()]
                        .lifecycle
                        .time_to_ready(),
                );
                self.scale_to(service, g.replicas, "resharding", now, s);
            }
        }
        let next = match g.migration {
            Some(_) => Event::Migrate { group },
            None => Event::ReshardSwitch { group },
        };
        s.schedule_at(now + ready_in, next);
    }

    /// A resharding's copy sends its next moving key (an export on its old shard, an import on
    /// its new) and schedules the one after, or, past the last, switches once every import
    /// has ended.
    pub(super) fn migrate(&mut self, group: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let model = &self.variant.model;
        let g = &model.data.shards[group as usize];
        let (Some((_, to, _)), Some(m)) = (&g.reshard, g.migration) else {
            return;
        };
        let keys = model.data.keyspaces[g.space.index()].n;
        let copy = &mut self.shards.groups[group as usize].copy;
        copy.started_at.get_or_insert(now);
        // The next key whose shard changes (at most the whole space, over the whole copy).
        let mut moving = None;
        while copy.cursor < keys {
            let key = crate::workload::keys::encode(g.space, copy.cursor);
            copy.cursor += 1;
            let (from, into) = (g.map.shard_of(key).0, to.shard_of(key).0);
            if from != into {
                moving = Some((key, from, into));
                break;
            }
        }
        let Some((key, from, into)) = moving else {
            copy.sent_all = true;
            if copy.outstanding == 0 {
                self.reshard_switch(group, now, s);
            }
            return;
        };
        copy.outstanding += 1;
        let (export, import) = (g.service(from), g.service(into));
        let seed = crate::kernel::keyed_seed(MIGRATION_DRAW ^ u64::from(group), key);
        self.send_migration(export, m.export, key, seed, now, s);
        self.send_migration(import, m.import, key, seed ^ 1, now, s);
        let gap = crate::kernel::SimDuration::from_secs_f64(1.0 / m.keys_per_second);
        s.schedule_at(now + gap, Event::Migrate { group });
    }

    /// Sends one migration request about `key` to `endpoint` of shard service `service`.
    fn send_migration(
        &mut self,
        service: u32,
        endpoint: u32,
        key: u64,
        seed: u64,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let mut sp = Span::new(SpanKind::Migration, service, endpoint, seed, now);
        sp.key = key;
        self.send_unawaited(sp, now, s);
    }

    /// A migration request ended: an import counts as copied (or failed), and the last one
    /// switches the map.
    pub(super) fn migration_ended(&mut self, sp: &Span, now: SimTime, s: &mut Scheduler<Event>) {
        let model = &self.variant.model;
        let Some(group) = model
            .data
            .shards
            .iter()
            .position(|g| (g.first..g.first + g.slots).contains(&sp.service))
        else {
            return;
        };
        let g = &model.data.shards[group];
        let Some(m) = g.migration else { return };
        if sp.endpoint != m.import {
            return;
        }
        let copy = &mut self.shards.groups[group].copy;
        copy.outstanding -= 1;
        if sp.outcome == crate::metrics::Outcome::Ok {
            copy.copied += 1;
        } else {
            copy.failed += 1;
        }
        if copy.sent_all && copy.outstanding == 0 {
            self.reshard_switch(group as u32, now, s);
        }
    }

    /// The new shards can be ready: keys go where the new map says; shards it does not use
    /// are scaled to zero.
    pub(super) fn reshard_switch(&mut self, group: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let st = &mut self.shards.groups[group as usize];
        st.switched = true;
        st.switched_at = Some(now);
        let g = &self.variant.model.data.shards[group as usize];
        let Some((_, to, _)) = &g.reshard else {
            return;
        };
        for k in to.shards()..g.slots {
            self.scale_to(ServiceId(g.service(k)), 0, "resharding", now, s);
        }
    }
}
