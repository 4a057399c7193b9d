//! Sharded services in a run: which shard a call reaches (the current map, by the request's
//! key), how many queries each shard took, and resharding: at its time the new shards are
//! started, and once they can be ready the map switches; shards the new map no longer uses
//! are then scaled to zero. Caches that live on shard instances are cold on a new shard, and
//! a key that moves between running shards finds none of its entries there: nothing is
//! copied, so the effect on hit ratios and load emerges.

use super::span::Span;
use super::{Event, Simulation};
use crate::ids::ServiceId;
use crate::kernel::{Scheduler, SimTime};
use crate::metrics::shard::{ReshardSummary, ShardingSummary};
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
        s.schedule_at(now + ready_in, Event::ReshardSwitch { group });
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
