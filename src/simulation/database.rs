//! Databases in a run: which instance serves a query (writes and `read_primary` on the
//! primary, reads on a replica by the database's routing), what a write sets off (its
//! sequence number in the primary's log, its arrival and apply time at every ready
//! replica), whether a replica's answer was stale, and the scheduled failures: a replica's
//! restart, and the primary's death with a replica's promotion.
//!
//! Replication schedules no event (see `components::database::replication`): each replica's
//! apply times are known at commit. A replica's stream belongs to its instance (by slot and
//! serial, like an instance cache) and starts caught up when the instance becomes ready: a
//! new or restarted replica is built from a base backup during its start-up.

use super::span::{COUNTED, Span};
use super::{Event, Simulation};
use crate::components::database::{
    FailureTarget, Query, ReadRouting, ReplicaStream, ReplicationSpec, WriteLog,
};
use crate::components::lifecycle::Phase;
use crate::ids::{EndpointRef, InstanceId, ServiceId, SpanId};
use crate::kernel::{RequestRng, Scheduler, SimDuration, SimTime, keyed_seed};
use crate::metrics::Outcome;
use crate::metrics::database::{FailoverSummary, ReadRoute};
use crate::model::Model;

/// Draw key of a write's network delay to one replica (with the replica's serial).
const REPLICATION_KEY: u64 = 0x0072_6570_6c69_6361; // "replica"

/// The run's databases.
#[derive(Debug)]
pub(super) struct Databases {
    dbs: Vec<Db>,
    /// Each service's database, if it is one.
    of_service: Vec<Option<u32>>,
}

#[derive(Debug)]
struct Db {
    service: ServiceId,
    /// The primary's slot and serial (`None` while a failover waits for its promotion).
    primary: Option<(InstanceId, u32)>,
    /// A promoted primary takes writes once it has applied what it received.
    writable_from: SimTime,
    /// The primary has died and its failover is under way.
    failing_over: bool,
    /// A promotion found no ready replica: the next instance to become ready is promoted.
    awaiting: bool,
    log: WriteLog,
    /// Each replica's stream, by instance slot, with the serial of the instance it belongs to.
    streams: Vec<Option<(u32, ReplicaStream)>>,
    /// Round-robin position among the ready instances.
    next: u32,
    /// Reads routed and writes committed when a policy last read them.
    policy_reading: (u64, u64),
    failovers: Vec<FailoverSummary>,
}

impl Databases {
    /// The model's databases; their failures are put on the schedule.
    pub(super) fn new(model: &Model, scheduler: &mut Scheduler<Event>) -> Databases {
        let mut dbs = Vec::new();
        let mut of_service = Vec::with_capacity(model.services.len());
        for (k, spec) in model.services.iter().enumerate() {
            let Some(d) = &spec.database else {
                of_service.push(None);
                continue;
            };
            let service = ServiceId(k as u32);
            for (f, failure) in d.failures.iter().enumerate() {
                scheduler.schedule_at(
                    SimTime::ZERO + failure.at,
                    Event::DatabaseFailure {
                        service,
                        failure: f as u32,
                    },
                );
            }
            of_service.push(Some(dbs.len() as u32));
            dbs.push(Db {
                service,
                primary: None,
                writable_from: SimTime::ZERO,
                failing_over: false,
                awaiting: false,
                log: WriteLog::default(),
                streams: Vec::new(),
                next: 0,
                policy_reading: (0, 0),
                failovers: Vec::new(),
            });
        }
        Databases { dbs, of_service }
    }

    /// Service `service`'s database, if it is one.
    #[inline]
    pub(super) fn of(&self, service: u32) -> Option<usize> {
        self.of_service[service as usize].map(|d| d as usize)
    }

    /// Each database's failovers, in model order; a promotion that would take writes only
    /// after `horizon` (the replica was still applying its backlog) did not happen in the run.
    pub(super) fn failovers(&mut self, horizon: SimTime) -> Vec<Vec<FailoverSummary>> {
        let end = horizon.as_secs_f64();
        self.dbs
            .iter_mut()
            .map(|d| {
                let mut failovers = std::mem::take(&mut d.failovers);
                for f in &mut failovers {
                    f.promoted_at_s = f.promoted_at_s.filter(|&t| t <= end);
                }
                failovers
            })
            .collect()
    }
}

impl Db {
    /// `id`'s stream, made caught up to `seq` at `now` if it has none.
    fn stream(
        &mut self,
        id: InstanceId,
        serial: u32,
        seq: u64,
        now: SimTime,
    ) -> &mut ReplicaStream {
        let slot = id.index();
        if self.streams.len() <= slot {
            self.streams.resize_with(slot + 1, || None);
        }
        let entry = &mut self.streams[slot];
        if entry.as_ref().is_none_or(|(s, _)| *s != serial) {
            *entry = Some((serial, ReplicaStream::caught_up(seq, now)));
        }
        &mut entry.as_mut().expect("just made").1
    }
}

impl<'a> Simulation<'a> {
    fn replication(&self, db: usize) -> Option<&'a ReplicationSpec> {
        let service = self.databases.dbs[db].service;
        let variant: &'a crate::experiment::Variant = self.variant;
        variant.model.services[service.index()]
            .database
            .as_ref()
            .and_then(|d| d.replication.as_ref())
    }

    /// The primary, if it is ready and takes writes at `now`. The oldest ready instance is the
    /// primary until a failure says otherwise.
    fn primary(&mut self, db: usize, now: SimTime) -> Option<InstanceId> {
        let d = &mut self.databases.dbs[db];
        if d.primary
            .is_some_and(|(id, serial)| self.instances[id].serial != serial)
        {
            d.primary = None; // gone for good (its slot holds another instance)
        }
        if d.primary.is_none() && !d.failing_over && !d.awaiting {
            let first = self.services[d.service.index()].fleet.ready().first()?;
            d.primary = Some((*first, self.instances[*first].serial));
        }
        let (id, serial) = d.primary?;
        let inst = &self.instances[id];
        (inst.serial == serial && inst.phase == Phase::Ready && now >= d.writable_from)
            .then_some(id)
    }

    /// The instance that serves query span `id` at endpoint `at` (`None`: nobody can).
    pub(super) fn route_query(
        &mut self,
        db: usize,
        id: SpanId,
        at: EndpointRef,
        now: SimTime,
    ) -> Option<InstanceId> {
        let query = self.variant.model.services[at.service as usize].endpoints
            [at.endpoint as usize]
            .query
            .unwrap_or(Query::ReadPrimary);
        let primary = self.primary(db, now);
        let (key, counted) = {
            let sp = self.spans.get(id);
            (sp.key, sp.has(COUNTED))
        };
        let read = match query {
            Query::Write => return primary,
            Query::ReadPrimary => {
                self.observer.db.routed(db, ReadRoute::Primary, counted);
                return primary;
            }
            Query::Read => self.replication(db).map(|r| r.routing),
        };
        let Some(routing) = read else {
            return primary;
        };
        let d = &mut self.databases.dbs[db];
        if let ReadRouting::ReadYourWrites { window } = routing {
            let recent = d
                .log
                .newest(key)
                .is_some_and(|(_, at)| now.since(at) < window);
            if recent && primary.is_some() {
                self.observer
                    .db
                    .routed(db, ReadRoute::ReadYourWrites, counted);
                return primary;
            }
        }
        let ready = self.services[d.service.index()].fleet.ready();
        let replica = match routing {
            ReadRouting::LeastLoaded => ready
                .iter()
                .copied()
                .filter(|&r| Some(r) != d.primary.map(|p| p.0))
                .min_by_key(|&r| self.instances[r].open_requests()),
            ReadRouting::RoundRobin | ReadRouting::ReadYourWrites { .. } => {
                let n = ready.len() as u32;
                (0..n).find_map(|_| {
                    let r = ready[(d.next % n) as usize];
                    d.next = d.next.wrapping_add(1);
                    (Some(r) != d.primary.map(|p| p.0)).then_some(r)
                })
            }
        };
        match replica {
            Some(r) => {
                self.observer.db.routed(db, ReadRoute::Replica, counted);
                Some(r)
            }
            None => {
                self.observer.db.routed(db, ReadRoute::Fallback, counted);
                primary
            }
        }
    }

    /// Query span `sp` of database `db` succeeded: a write is committed and sent to every
    /// ready replica; a replica's read is checked for staleness.
    pub(super) fn query_done(&mut self, db: usize, sp: &Span, now: SimTime) {
        let query =
            self.variant.model.services[sp.service as usize].endpoints[sp.endpoint as usize].query;
        let counted = sp.has(COUNTED);
        match query {
            Some(Query::Write) => self.commit(db, sp, now, counted),
            Some(Query::Read) => {
                let d = &mut self.databases.dbs[db];
                if d.primary.is_some_and(|p| p.0 == sp.instance) {
                    return; // on the primary: never stale
                }
                let seq = d.log.last_seq();
                let serial = self.instances[sp.instance].serial;
                let applied = d.stream(sp.instance, serial, seq, now).advance(now);
                let stale = d.log.is_stale(sp.key, applied);
                self.observer.db.answered(db, stale, counted);
            }
            Some(Query::ReadPrimary) | None => {}
        }
    }

    fn commit(&mut self, db: usize, sp: &Span, now: SimTime, counted: bool) {
        self.observer.db.write(db, counted);
        self.caches.written(sp.key);
        let Some(spec) = self.replication(db) else {
            return;
        };
        let apply = spec.apply_time();
        let cutoff = match spec.routing {
            ReadRouting::ReadYourWrites { window } => {
                SimTime::from_nanos(now.as_nanos().saturating_sub(window.as_nanos()))
            }
            _ => now,
        };
        let d = &mut self.databases.dbs[db];
        let seq = d.log.commit(sp.key, now);
        let primary = d.primary.map(|p| p.0);
        let mut everywhere = seq - 1;
        let ready = self.services[d.service.index()].fleet.ready();
        for &r in ready {
            if Some(r) == primary {
                continue;
            }
            let serial = self.instances[r].serial;
            let network = match &spec.network {
                Some(n) => {
                    let mut rng = RequestRng::new(keyed_seed(
                        sp.seed,
                        REPLICATION_KEY ^ (u64::from(serial) << 32),
                    ));
                    n.sample_duration(&mut rng)
                }
                None => SimDuration::ZERO,
            };
            let stream = d.stream(r, serial, seq - 1, now);
            everywhere = everywhere.min(stream.advance(now));
            let lag = stream.receive(seq, now, network, apply);
            self.observer.db.applied(db, lag.as_nanos(), counted);
        }
        d.log.forget(everywhere, cutoff);
    }

    /// A database's scheduled failure `failure` is due.
    pub(super) fn database_failure(
        &mut self,
        service: ServiceId,
        failure: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let Some(db) = self.databases.of(service.0) else {
            return;
        };
        let Some(spec) = &self.variant.model.services[service.index()].database else {
            return;
        };
        let target = spec.failures[failure as usize].target;
        let primary = self.primary(db, SimTime::MAX);
        match target {
            FailureTarget::Primary { promote_after } => {
                let Some(p) = primary else {
                    return; // down already
                };
                let d = &mut self.databases.dbs[db];
                d.primary = None;
                d.failing_over = true;
                d.failovers.push(FailoverSummary {
                    failed_at_s: now.as_secs_f64(),
                    promoted_at_s: None,
                    lost_writes: 0,
                });
                // What is still on the network from the dead primary never arrives.
                for &r in self.services[service.index()].fleet.ready() {
                    if r == p {
                        continue;
                    }
                    let serial = self.instances[r].serial;
                    let seq = d.log.last_seq();
                    d.stream(r, serial, seq, now).cut(now);
                }
                s.schedule_at(now + promote_after, Event::Promote { service });
                self.restart(p, now, Outcome::Killed, now, s);
            }
            FailureTarget::Replica => {
                let ready = self.services[service.index()].fleet.ready();
                let victim = ready.iter().copied().find(|&r| Some(r) != primary);
                if let Some(r) = victim {
                    self.restart(r, now, Outcome::Killed, now, s);
                }
            }
        }
    }

    /// A failover's promotion is due: the oldest ready instance becomes the primary (or the
    /// next to become ready, if none is).
    pub(super) fn promote_due(&mut self, service: ServiceId, now: SimTime) {
        let Some(db) = self.databases.of(service.0) else {
            return;
        };
        match self.services[service.index()].fleet.ready().first() {
            Some(&id) => self.promote(db, id, now),
            None => self.databases.dbs[db].awaiting = true,
        }
    }

    fn promote(&mut self, db: usize, id: InstanceId, now: SimTime) {
        let serial = self.instances[id].serial;
        let d = &mut self.databases.dbs[db];
        d.failing_over = false;
        let seq = d.log.last_seq();
        let stream = d.stream(id, serial, seq, now);
        let received = stream.received();
        let writable = stream.promote(now);
        // No write commits without a primary: whatever came after what it received is lost.
        let lost = seq - received;
        d.log.roll_back(received + 1);
        d.streams[id.index()] = None;
        d.primary = Some((id, serial));
        d.writable_from = writable;
        d.awaiting = false;
        if let Some(f) = d.failovers.last_mut() {
            f.promoted_at_s = Some(writable.as_secs_f64());
            f.lost_writes = lost;
        }
    }

    /// Instance `id` of a database became ready: as a replica it starts caught up, or it is
    /// the primary a failover waited for.
    pub(super) fn database_instance_ready(&mut self, id: InstanceId, now: SimTime) {
        let service = self.instances[id].service;
        let Some(db) = self.databases.of(service.0) else {
            return;
        };
        if self.databases.dbs[db].awaiting {
            self.promote(db, id, now);
            return;
        }
        let serial = self.instances[id].serial;
        let d = &mut self.databases.dbs[db];
        let seq = d.log.last_seq();
        if d.primary.is_some_and(|p| p.0 == id) {
            return; // the primary restarting (say, out of memory) stays the primary
        }
        *d.stream(id, serial, seq, now) = ReplicaStream::caught_up(seq, now);
    }

    /// Reads routed and writes committed at database `service` since a policy last asked.
    pub(super) fn database_period(&mut self, service: ServiceId) -> (u64, u64) {
        let Some(db) = self.databases.of(service.0) else {
            return (0, 0);
        };
        let t = &self.observer.db.total[db];
        let now = (t.reads, t.writes);
        let last = std::mem::replace(&mut self.databases.dbs[db].policy_reading, now);
        (now.0 - last.0, now.1 - last.1)
    }

    /// Whether `id` is its database's primary (scale-in spares it).
    pub(super) fn is_primary(&self, id: InstanceId) -> bool {
        let service = self.instances[id].service;
        self.databases
            .of(service.0)
            .is_some_and(|db| self.databases.dbs[db].primary.is_some_and(|p| p.0 == id))
    }
}
