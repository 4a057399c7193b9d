//! A service's state in a run, by concern: its instances by phase (`Fleet`), how requests
//! reach them (`Routing`), what they cost (`Billing`), the autoscaling policy and what it read
//! last (`PolicyState`), and the service's monotonic counters (`ServiceCounters`).

use super::billing::Billing;
use super::fleet::Fleet;
use super::instances::InstanceArena;
use super::{Event, scaling, spot};
use crate::components::balancer::{Balancer, BalancerSpec};
use crate::components::lifecycle::Phase;
use crate::components::service::ServiceSpec;
use crate::ids::{ServiceId, SpanRef};
use crate::kernel::{Scheduler, SimTime, stream};
use crate::metrics::TimeAverage;
use std::collections::VecDeque;

/// One service.
#[derive(Debug)]
pub(super) struct ServiceState {
    pub(super) fleet: Fleet,
    pub(super) routing: Routing,
    pub(super) billing: Billing,
    pub(super) policy: PolicyState,
    pub(super) counters: ServiceCounters,
    /// The sessions its instances hold, if it keeps any.
    pub(super) sessions: Option<super::sessions::SessionTable>,
    /// Its service-wide rate limit's tokens, if it has one.
    pub(super) bucket: Option<crate::components::protection::TokenBucket>,
    /// Draws of failure and repair times, if it fails at random (a stream of its own).
    pub(super) failure_rng: Option<crate::kernel::Stream>,
}

/// How requests reach a service's instances.
#[derive(Debug)]
pub(super) struct Routing {
    /// Which ready instance gets a request (its candidates are the fleet's ready list).
    pub(super) balancer: Balancer,
    /// Requests waiting in a worker pool's queue (`queue` balancer), oldest first, and its
    /// length over time.
    backlog: VecDeque<SpanRef>,
    backlog_len: TimeAverage,
    /// Where the next scan for a free worker starts (spreads messages over idle workers).
    pub(super) pull_cursor: usize,
}

/// The autoscaling policy, if any, and the counters it read last.
#[derive(Debug)]
pub(super) struct PolicyState {
    /// Taken out while it decides (so it can look at the simulation's state).
    pub(super) policy: Option<crate::autoscaler::Policy>,
    /// Monotonic counters as of the policy's last evaluation, and when it was.
    pub(super) last_counters: scaling::Counters,
    pub(super) last_counters_at: SimTime,
}

/// Counters of a service since the start of the run: they only grow, so a policy can
/// difference them.
#[derive(Debug, Default)]
pub(super) struct ServiceCounters {
    /// Requests routed to the service.
    pub(super) arrivals: u64,
    /// Successful responses someone still waited for, and their summed latency.
    pub(super) ok_count: u64,
    pub(super) ok_latency_ns: u128,
    /// Busy core-time and waiting time of stopped instances (banked when they stop).
    pub(super) retired_busy_core_ns: u128,
    pub(super) retired_waiting_ns: u128,
    /// Instances lost: taken back as spot capacity, and killed for memory.
    pub(super) spot_interruptions: u64,
    pub(super) oom_kills: u64,
    /// Instances that failed at random.
    pub(super) failures: u64,
    /// What its health checks did.
    pub(super) health: super::HealthSummary,
}

impl ServiceState {
    /// Service `service` of `spec` at time zero: its initial instances ready (a warm fleet),
    /// their spot interruptions drawn, its scheduled actions, policy evaluations and scrapes
    /// scheduled.
    pub(super) fn new(
        service: ServiceId,
        spec: &ServiceSpec,
        (seed, replication): (u64, u32),
        instances: &mut InstanceArena,
        scheduler: &mut Scheduler<Event>,
    ) -> ServiceState {
        let mut billing = Billing::new(spec, stream(seed, replication, &spec.name, "spot"));
        let mut ready = Vec::with_capacity(spec.replicas as usize);
        for ordinal in 0..spec.replicas {
            let inst = spec.new_instance(
                service,
                ordinal,
                &spec.instance,
                Phase::Ready,
                SimTime::ZERO,
            );
            ready.push(spot::buy_capacity(
                inst,
                &mut billing,
                instances,
                SimTime::ZERO,
                scheduler,
            ));
        }
        for (k, action) in spec.schedule.iter().enumerate() {
            scheduler.schedule_at(
                SimTime::ZERO + action.at,
                Event::Scheduled {
                    service,
                    action: k as u32,
                },
            );
        }
        if let Some(policy) = &spec.autoscaler {
            scheduler.schedule_at(
                SimTime::from_secs_f64(policy.period_s()),
                Event::Evaluate { service },
            );
            if policy.scrape_interval_s().is_some() {
                scheduler.schedule_at(SimTime::ZERO, Event::Scrape { service });
            }
        }
        let rng = stream(seed, replication, &spec.name, "balancer");
        let mut balancer = Balancer::new(spec.balancer, spec.load_view, rng);
        if let Some(every) = balancer.refresh_interval() {
            scheduler.schedule_at(SimTime::ZERO + every, Event::RefreshLoads { service });
        }
        if let Some(check) = spec.health.active {
            scheduler.schedule_at(SimTime::ZERO + check.interval, Event::Probe { service });
        }
        // The initial fleet's first failures at random (later ones are drawn as each instance
        // becomes ready again).
        let mut failure_rng = spec
            .failures
            .map(|_| stream(seed, replication, &spec.name, "failures"));
        if let (Some(f), Some(rng)) = (spec.failures, failure_rng.as_mut()) {
            for &id in &ready {
                scheduler.schedule_at(
                    SimTime::ZERO + super::health::exponential(rng, f.mtbf),
                    Event::Failure {
                        instance: instances.reference(id),
                        restarts: 0,
                    },
                );
            }
        }
        for (k, f) in spec.faults.iter().enumerate() {
            if f.kind == crate::components::service::FaultKind::Crash {
                let fault = k as u32;
                scheduler.schedule_at(SimTime::ZERO + f.start, Event::Crash { service, fault });
            }
        }
        let fleet = Fleet::warm(
            spec.instance.clone(),
            ready,
            spec.health.probed(),
            instances,
            &mut balancer,
        );
        let mut backlog_len = TimeAverage::default();
        backlog_len.start(SimTime::ZERO);
        ServiceState {
            fleet,
            routing: Routing {
                balancer,
                backlog: VecDeque::new(),
                backlog_len,
                pull_cursor: 0,
            },
            billing,
            policy: PolicyState {
                policy: spec.autoscaler.as_ref().map(crate::autoscaler::Policy::new),
                last_counters: scaling::Counters::default(),
                last_counters_at: SimTime::ZERO,
            },
            counters: ServiceCounters::default(),
            sessions: spec
                .sessions
                .map(|_| super::sessions::SessionTable::default()),
            bucket: spec
                .rate_limit
                .filter(|r| !r.per_instance)
                .map(|r| crate::components::protection::TokenBucket::full(&r)),
            failure_rng,
        }
    }

    /// A worker pool: its ready instances pull from the backlog.
    #[inline]
    pub(super) fn pulls(&self) -> bool {
        matches!(self.routing.balancer.spec(), BalancerSpec::Queue { .. })
    }
}

impl Routing {
    /// Messages waiting in a worker pool's queue.
    pub(super) fn backlog_len(&self) -> usize {
        self.backlog.len()
    }

    /// Message `r` waits at the back of the queue from `now`.
    pub(super) fn push_message(&mut self, r: SpanRef, now: SimTime) {
        self.backlog.push_back(r);
        self.backlog_len.set(now, self.backlog.len() as i64);
    }

    /// The oldest waiting message leaves the queue at `now`.
    pub(super) fn pop_message(&mut self, now: SimTime) -> Option<SpanRef> {
        let r = self.backlog.pop_front()?;
        self.backlog_len.set(now, self.backlog.len() as i64);
        Some(r)
    }

    /// Message `r` (which ended while it waited) leaves the queue at `now`. O(queue length).
    pub(super) fn remove_message(&mut self, r: SpanRef, now: SimTime) {
        if let Some(k) = self.backlog.iter().position(|b| *b == r) {
            self.backlog.remove(k);
            self.backlog_len.set(now, self.backlog.len() as i64);
        }
    }

    /// The queue length's area over the bucket ending at `end` (see `TimeAverage`).
    pub(super) fn take_backlog_bucket(&mut self, end: SimTime) -> u128 {
        self.backlog_len.take_bucket(end).0
    }
}

impl super::Simulation<'_> {
    /// A published load view's refresh: the balancer copies its candidates' loads as they
    /// are now, and the next refresh is scheduled.
    pub(super) fn refresh_loads(
        &mut self,
        service: ServiceId,
        _now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let svc = &mut self.services[service.index()];
        let balancer = &mut svc.routing.balancer;
        balancer.refresh(svc.fleet.ready(), self.instances.slots());
        if let Some(every) = balancer.refresh_interval() {
            s.schedule_in(every, Event::RefreshLoads { service });
        }
    }
}
