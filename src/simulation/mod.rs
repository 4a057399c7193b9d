//! One run: the model's state, the events that change it, and the request path. A request is
//! a tree of spans (`span`): the client's root span goes through its service's balancer to an
//! instance (admission, CPU scheduling), whose endpoint program (`interpreter`) may call other
//! services (child spans through their own balancers), fan out into branches, or enqueue jobs;
//! `tree` is how spans start, end, wake whoever waits for them, time out and are cancelled.
//!
//! Events are a small plain enum handled by `match`; spans live in an arena; a finished span
//! wakes its parent through a FIFO of work the handler drains after each event (no recursion);
//! nothing on the per-request path allocates once the arena and queues have grown to their
//! working size.

mod billing;
mod caching;
mod database;
mod edge_guards;
mod fleet;
mod groups;
mod health;
mod instances;
mod interpreter;
mod limits;
mod observe;
mod pools;
mod resize;
mod scaling;
mod service;
mod sessions;
mod sharding;
pub mod span;
mod spot;
mod tree;
mod warming;
mod worker_pool;

pub use groups::{GroupSummary, REST as REST_GROUP};
pub use health::HealthSummary;
pub use limits::{DEFAULT_MAX_EVENTS, DEFAULT_MAX_IN_FLIGHT, RunAborted, RunLimits};
pub use observe::{InstanceSummary, RunSummary, ScalingAction, ServiceSummary, SloSummary};
pub use sessions::SessionSummary;

use crate::experiment::{Experiment, Variant};
use crate::ids::{InstanceId, InstanceRef, ServiceId, SpanId, SpanRef};
use crate::kernel::{
    Handler, RunStatus, Scheduler, SimDuration, SimTime, Stream, run_until, stream,
};
use crate::metrics::{Outcome, timeseries::TimeSeriesRow};
use crate::workload::client::ClientKind;
use crate::workload::rate::ArrivalProcess;
use instances::InstanceArena;
use observe::Observer;
use rand::Rng;
use service::ServiceState;
use span::{ANSWERED, COUNTED, Span, SpanArena, SpanKind, SpanState};
use std::collections::VecDeque;
use tree::Work;

/// Draw key of an open client's user (with its request's seed).
const USER_DRAW: u64 = 0x0075_7365_7264_7261; // "userdra"

/// Everything that happens in a run.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// An open-loop client's next arrival.
    Arrival { client: u32 },
    /// A closed-loop connection sends its next request.
    Send { client: u32, connection: u32 },
    /// A core finished a CPU slice of a span. The generation tells a stale event (its
    /// instance was killed and the span freed) from a live one.
    SliceDone { span: SpanId, generation: u32 },
    /// A span's I/O step finished.
    IoDone { span: SpanId, generation: u32 },
    /// A call or a job reaches its service after the network's latency.
    Deliver { span: SpanId, generation: u32 },
    /// A call's answer reaches its caller after the network's latency.
    Reply { span: SpanId, generation: u32 },
    /// The caller of a call stops waiting for it (its timeout, or its deadline).
    CallTimeout { span: SpanId, generation: u32 },
    /// A client's oldest deadline may have passed.
    Deadline { client: u32 },
    /// A starting instance becomes ready for traffic. Events about an instance name it with
    /// its slot's generation: one about an instance whose slot has gone to another is dropped.
    InstanceReady { instance: InstanceRef },
    /// A draining instance's grace period ends.
    DrainDeadline { instance: InstanceRef },
    /// A service's scheduled scaling action `action` is due.
    Scheduled { service: ServiceId, action: u32 },
    /// A service's autoscaling policy evaluates its latest period.
    Evaluate { service: ServiceId },
    /// A metrics scraper reads a service's ready instances.
    Scrape { service: ServiceId },
    /// A service's balancer gets a fresh copy of its instances' loads.
    RefreshLoads { service: ServiceId },
    /// A service's health checker probes its live instances.
    Probe { service: ServiceId },
    /// A probe of a hung instance goes unanswered.
    ProbeTimedOut { instance: InstanceRef },
    /// An instance's ejection for failed answers ends.
    Readmit { instance: InstanceRef },
    /// A service's crash fault `fault` strikes.
    Crash { service: ServiceId, fault: u32 },
    /// A ready instance fails at random (its MTBF), unless it has restarted since the failure
    /// was drawn (`restarts` tells).
    Failure {
        instance: InstanceRef,
        restarts: u32,
    },
    /// The cloud warns that a spot instance will be taken back.
    SpotNotice { instance: InstanceRef },
    /// The cloud takes a spot instance back.
    SpotInterruption { instance: InstanceRef },
    /// A ready instance restarts to take its service's new shape (vertical scaling).
    Resize { instance: InstanceRef },
    /// A database's scheduled failure `failure` is due.
    DatabaseFailure { service: ServiceId, failure: u32 },
    /// A database's failover promotes a replica.
    Promote { service: ServiceId },
    /// A sharded service's resharding starts its new shards.
    Reshard { group: u32 },
    /// A resharding's new shards can be ready: keys move to the new map.
    ReshardSwitch { group: u32 },
    /// A call has waited for a pool's connection as long as the pool allows.
    AcquireTimeout { span: SpanId, generation: u32 },
    /// A write-behind cache's dirty entry is due to be written to its database.
    Flush { dirty: u32, generation: u32 },
    /// A resharding's migration copies its next moving key.
    Migrate { group: u32 },
    /// A cache's scheduled warming starts a reload (`start`) or fetches its next key.
    Reload { cache: u32, start: bool },
    /// A caller's wait before trying its failed call again is over.
    Retry { span: SpanId, generation: u32 },
}

/// A pending deadline: the client gives up on its root span at `at`.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: SimTime,
    root: SpanRef,
}

#[derive(Debug)]
struct ClientState {
    /// Inter-arrival draws (open loop).
    arrivals_rng: Stream,
    /// Endpoint choice.
    mix_rng: Stream,
    /// Per-request seeds.
    request_rng: Stream,
    /// Think-time draws (closed loop).
    think_rng: Stream,
    process: Option<ArrivalProcess>,
    /// Deadlines in send order, which is deadline order since the timeout is fixed.
    deadlines: VecDeque<Deadline>,
    deadline_armed: bool,
    /// Requests sent since the start (names the client that drives a runaway run).
    sent: u64,
}

/// The state of one run.
pub struct Simulation<'a> {
    variant: &'a Variant,
    horizon: SimTime,
    warmup_end: SimTime,
    clients: Vec<ClientState>,
    /// By `ServiceId`, in model order.
    services: Vec<ServiceState>,
    /// Every instance alive (and those stopped whose last bucket is still to be read).
    instances: InstanceArena,
    spans: SpanArena,
    /// Work the current event set off, drained before the next event (see `tree`).
    work: VecDeque<Work>,
    observer: Observer,
    /// Every change of a service's desired replicas, in time order.
    actions: Vec<ScalingAction>,
    /// Events handled, by kind (for the event budget's message).
    tally: limits::EventTally,
    /// Cache stores, fills in progress, sequential keys.
    caches: caching::Caches,
    /// Lookups a fill wakes (kept to reuse its memory).
    woken: Vec<SpanRef>,
    /// Primaries, replicas' streams, the write logs.
    databases: database::Databases,
    /// Sharded services' maps in use and queries per shard.
    shards: sharding::Shards,
    /// Scheduled cache warming.
    reloads: warming::Reloads,
    /// Each call edge's circuit breaker and retry throttle.
    edge_guards: edge_guards::EdgeGuards,
    /// Connection pools: connections in use and the calls waiting for one.
    pools: pools::Pools,
}

impl std::fmt::Debug for Simulation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("variant", &self.variant.name)
            .field("spans", &self.spans.live())
            .finish()
    }
}

/// What a finished run hands back.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// The summary (after warm-up).
    pub summary: RunSummary,
    /// One row per bucket (whole run, warm-up included).
    pub timeseries: Vec<TimeSeriesRow>,
}

impl<'a> Simulation<'a> {
    /// Builds the run of `variant` for `replication`, with every instance ready at time zero
    /// and every client's first request scheduled.
    pub fn new(
        experiment: &Experiment,
        variant: &'a Variant,
        replication: u32,
        scheduler: &mut Scheduler<Event>,
    ) -> Self {
        let seed = experiment.seed;
        let model = &variant.model;
        let mut instances = InstanceArena::default();
        let services = (0..model.services.len() as u32)
            .map(ServiceId)
            .map(|id| {
                let spec = &model.services[id.index()];
                ServiceState::new(id, spec, (seed, replication), &mut instances, scheduler)
            })
            .collect();
        let horizon = SimTime::ZERO + experiment.duration;
        let mut clients = Vec::new();
        for (c, spec) in variant.workload.iter().enumerate() {
            let mut state = ClientState {
                arrivals_rng: stream(seed, replication, &spec.name, "arrivals"),
                mix_rng: stream(seed, replication, &spec.name, "mix"),
                request_rng: stream(seed, replication, &spec.name, "requests"),
                think_rng: stream(seed, replication, &spec.name, "think"),
                process: None,
                deadlines: VecDeque::new(),
                deadline_armed: false,
                sent: 0,
            };
            match &spec.kind {
                ClientKind::Open { arrivals } => {
                    let mut p = ArrivalProcess::new(arrivals);
                    if let Some(t) = p.next(&mut state.arrivals_rng, horizon.as_secs_f64()) {
                        scheduler.schedule_at(
                            SimTime::from_secs_f64(t),
                            Event::Arrival { client: c as u32 },
                        );
                    }
                    state.process = Some(p);
                }
                ClientKind::Closed {
                    connections,
                    ramp_up,
                    ..
                } => {
                    for k in 0..*connections {
                        let offset = ramp_up.as_nanos() as u128 * k as u128 / *connections as u128;
                        scheduler.schedule_at(
                            SimTime::from_nanos(offset as u64),
                            Event::Send {
                                client: c as u32,
                                connection: k,
                            },
                        );
                    }
                }
            }
            clients.push(state);
        }
        let observer = Observer::new(experiment, model);
        let databases = database::Databases::new(model, scheduler);
        let shards = sharding::Shards::new(model, scheduler);
        let reloads = warming::Reloads::new(model, scheduler);
        let pools = pools::Pools::new(model);
        Simulation {
            variant,
            horizon,
            warmup_end: SimTime::ZERO + experiment.warmup,
            clients,
            services,
            instances,
            spans: SpanArena::default(),
            work: VecDeque::new(),
            observer,
            actions: Vec::new(),
            tally: limits::EventTally::default(),
            caches: caching::Caches::new(model, seed, replication),
            woken: Vec::new(),
            databases,
            shards,
            reloads,
            edge_guards: edge_guards::EdgeGuards::new(model),
            pools,
        }
    }

    /// Runs to the horizon, calling `progress(now)` every so many events (for progress bars;
    /// it cannot influence the run). Stops early, with the reason, if the run crosses
    /// `limits`.
    pub fn run(
        mut self,
        scheduler: &mut Scheduler<Event>,
        limits: &RunLimits,
        mut progress: impl FnMut(SimTime),
    ) -> Result<RunOutput, RunAborted> {
        const CHUNK: u64 = 1 << 16;
        let mut events = 0;
        loop {
            let horizon = self.horizon;
            let (status, n) = run_until(&mut self, scheduler, horizon, CHUNK);
            events += n;
            progress(scheduler.now());
            if status == RunStatus::ReachedHorizon {
                break;
            }
            self.check_limits(limits, events, scheduler.now())?;
        }
        let in_flight = observe::InFlight::count(&self.spans, &self.variant.model);
        let cache_stores = (0..self.variant.model.data.caches.len() as u32)
            .map(crate::ids::CacheId)
            .map(|c| {
                (
                    self.caches.entries(c, &self.instances),
                    self.caches.memory_bytes(c),
                )
            })
            .collect();
        let failovers = self.databases.failovers(self.horizon);
        let shards = self.shards.summaries(&self.variant.model);
        let mut output = self.observer.finish(
            self.horizon,
            &self.variant.model,
            &mut self.instances,
            &mut self.services,
            self.actions,
            in_flight,
            events,
            self.spans.capacity_used() as u64,
            cache_stores,
            failovers,
        );
        output.summary.shards = shards;
        output.summary.pools = self
            .variant
            .model
            .data
            .pools
            .iter()
            .zip(&self.pools.counts)
            .map(|(p, c)| {
                let scope = match p.scope {
                    crate::components::cache::CacheScope::Instance => "instance",
                    crate::components::cache::CacheScope::Shared => "shared",
                };
                (
                    p.name.clone(),
                    crate::metrics::pool::PoolSummary::new(scope, p.size, c),
                )
            })
            .collect();
        Ok(output)
    }

    /// A new request from client `c` (on `connection` for closed loops): its root span goes
    /// to the endpoint the client's mix picks.
    #[inline]
    fn send(&mut self, c: u32, connection: Option<u32>, now: SimTime, s: &mut Scheduler<Event>) {
        let spec = &self.variant.workload[c as usize];
        let state = &mut self.clients[c as usize];
        let dest = spec.mix.pick(&mut state.mix_rng);
        let seed = state.request_rng.next_u64();
        state.sent += 1;
        let counted = now >= self.warmup_end;
        let mut root = Span::new(SpanKind::Root, dest.service, dest.endpoint, seed, now);
        let target = crate::ids::EndpointRef {
            service: dest.service,
            endpoint: dest.endpoint,
        };
        let variant: &Variant = self.variant;
        let spec = &variant.workload[c as usize];
        let user = match (spec.key, connection) {
            (None, _) => 0,
            // A connection is one user for the whole run.
            (Some(space), Some(k)) => crate::workload::keys::encode(space, u64::from(k)),
            (Some(space), None) => {
                let mut rng =
                    crate::kernel::RequestRng::new(crate::kernel::keyed_seed(seed, USER_DRAW));
                variant.model.data.keyspaces[space.index()].draw(
                    space,
                    &mut rng,
                    self.caches.next_key_mut(space),
                )
            }
        };
        root.key = self.key_for(target, seed, user);
        root.edge_or_client = c;
        root.connection = connection;
        root.flags = if counted { COUNTED } else { 0 };
        if let Some(timeout) = spec.timeout {
            root.deadline = now + timeout;
        }
        let id = self.spans.insert(root);
        self.observer
            .arrival(now, dest.service, dest.endpoint, counted);
        let state = &mut self.clients[c as usize];
        if let Some(timeout) = spec.timeout {
            let root = self.spans.reference(id);
            state.deadlines.push_back(Deadline {
                at: now + timeout,
                root,
            });
            if !state.deadline_armed {
                state.deadline_armed = true;
                s.schedule_at(now + timeout, Event::Deadline { client: c });
            }
        }
        self.dispatch(id, now, s);
    }

    /// Records a root span's outcome at its client (once), then lets a closed-loop
    /// connection go on.
    #[inline]
    fn answer_client(
        &mut self,
        id: SpanId,
        outcome: Outcome,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let r = self.spans.get_mut(id);
        if r.has(ANSWERED) {
            return;
        }
        r.flags |= ANSWERED;
        let cause = if outcome == Outcome::Failed {
            r.cause
        } else {
            None
        };
        let at = crate::ids::EndpointRef {
            service: r.service,
            endpoint: r.endpoint,
        };
        let (latency, counted) = (now.since(r.created), r.has(COUNTED));
        let (client, connection) = (r.edge_or_client, r.connection);
        self.observer
            .outcome(now, at, outcome, latency, cause, counted);
        if let Some(connection) = connection {
            self.next_send(client, connection, outcome, now, s);
        }
    }

    /// Schedules a closed-loop connection's next request after its think time.
    fn next_send(
        &mut self,
        c: u32,
        connection: u32,
        outcome: Outcome,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let ClientKind::Closed {
            think, error_pause, ..
        } = &self.variant.workload[c as usize].kind
        else {
            return;
        };
        let mut pause = match think {
            Some(d) => d.sample_duration(&mut self.clients[c as usize].think_rng),
            None => SimDuration::ZERO,
        };
        if outcome != Outcome::Ok {
            pause = pause.max(*error_pause);
        }
        s.schedule_at(
            now + pause,
            Event::Send {
                client: c,
                connection,
            },
        );
    }

    /// Times out every request of client `c` whose deadline has passed; re-arms for the next.
    /// The server keeps working on a timed-out request unless its service cancels abandoned
    /// work; either way its late answer is dropped.
    fn deadline(&mut self, c: u32, now: SimTime, s: &mut Scheduler<Event>) {
        self.clients[c as usize].deadline_armed = false;
        while let Some(d) = self.clients[c as usize].deadlines.front().copied() {
            let stale = !self.spans.is_current(d.root) || self.spans.get(d.root.id).has(ANSWERED);
            if stale {
                self.clients[c as usize].deadlines.pop_front();
            } else if d.at <= now {
                self.clients[c as usize].deadlines.pop_front();
                self.answer_client(d.root.id, Outcome::TimedOut, now, s);
                let service = self.spans.get(d.root.id).service as usize;
                if self.variant.model.services[service]
                    .deadlines
                    .cancel_abandoned
                {
                    self.work.push_back(Work::Cancel(d.root));
                }
            } else {
                self.clients[c as usize].deadline_armed = true;
                s.schedule_at(d.at, Event::Deadline { client: c });
                break;
            }
        }
    }

    #[inline]
    fn arrival(&mut self, c: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let ClientKind::Open { .. } = &self.variant.workload[c as usize].kind else {
            return;
        };
        let state = &mut self.clients[c as usize];
        if let Some(p) = state.process.as_mut() {
            if let Some(t) = p.next(&mut state.arrivals_rng, self.horizon.as_secs_f64()) {
                s.schedule_at(SimTime::from_secs_f64(t), Event::Arrival { client: c });
            }
        }
        self.send(c, None, now, s);
    }
}

/// What handles an event about an instance.
type InstanceHandler<'a> = fn(&mut Simulation<'a>, InstanceId, SimTime, &mut Scheduler<Event>);

impl<'a> Simulation<'a> {
    /// Handles an event about instance `r` with `handler`, unless `r`'s slot has gone to
    /// another instance since: the one the event was about has stopped, and every instance
    /// event finds a stopped instance a no-op (a spot interruption that would still count
    /// one keeps its slot until it comes: see `Fleet::release_stopped`).
    #[inline]
    fn about_instance(
        &mut self,
        r: InstanceRef,
        now: SimTime,
        s: &mut Scheduler<Event>,
        handler: InstanceHandler<'a>,
    ) {
        if let Some(id) = self.instances.current(r) {
            handler(self, id, now, s);
        }
    }
}

impl Handler for Simulation<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, event: Event, s: &mut Scheduler<Event>) {
        let now = s.now();
        self.tally.record(&event);
        if now >= self.observer.next_mark()
            && self
                .observer
                .cross_marks(now, &mut self.instances, &mut self.services)
        {
            // A bucket was read: instances stopped before it give their slots back.
            for svc in &mut self.services {
                svc.fleet.release_stopped(&mut self.instances);
            }
        }
        match event {
            Event::Arrival { client } => self.arrival(client, now, s),
            Event::Send { client, connection } => self.send(client, Some(connection), now, s),
            Event::SliceDone { span, generation } => {
                if self.is_live(span, generation, SpanState::OnCore) {
                    self.slice_done(span, now, s);
                }
            }
            Event::IoDone { span, generation } => {
                if self.is_live(span, generation, SpanState::Io) {
                    self.spans.get_mut(span).pc += 1;
                    self.resume(span, now, s);
                }
            }
            Event::Deliver { span, generation } => {
                if self.is_live(span, generation, SpanState::Travelling) {
                    self.dispatch(span, now, s);
                }
            }
            Event::Reply { span, generation } => {
                if self.is_live(span, generation, SpanState::Finished) {
                    self.work.push_back(Work::Deliver(SpanRef {
                        id: span,
                        generation,
                    }));
                }
            }
            Event::CallTimeout { span, generation } => {
                if self.spans.is_current(SpanRef {
                    id: span,
                    generation,
                }) {
                    self.call_timeout(span, now, s);
                }
            }
            Event::Deadline { client } => self.deadline(client, now, s),
            Event::Evaluate { service } => self.evaluate_policy(service, now, s),
            Event::Scrape { service } => self.scrape(service, now, s),
            Event::RefreshLoads { service } => self.refresh_loads(service, now, s),
            Event::Probe { service } => self.probe(service, now, s),
            Event::ProbeTimedOut { instance } => {
                self.about_instance(instance, now, s, Self::probe_timed_out)
            }
            Event::Readmit { instance } => self.about_instance(instance, now, s, Self::readmit),
            Event::Crash { service, fault } => self.crash(service, fault, now, s),
            Event::Failure { instance, restarts } => {
                if let Some(id) = self.instances.current(instance) {
                    self.fail_at_random(id, restarts, now, s);
                }
            }
            Event::Scheduled { service, action } => self.scheduled(service, action, now, s),
            Event::InstanceReady { instance } => {
                self.about_instance(instance, now, s, Self::instance_ready)
            }
            Event::DrainDeadline { instance } => {
                self.about_instance(instance, now, s, Self::drain_deadline)
            }
            Event::SpotNotice { instance } => {
                self.about_instance(instance, now, s, Self::spot_notice)
            }
            Event::SpotInterruption { instance } => {
                self.about_instance(instance, now, s, Self::spot_interruption)
            }
            Event::Resize { instance } => {
                self.about_instance(instance, now, s, Self::restart_to_resize)
            }
            Event::DatabaseFailure { service, failure } => {
                self.database_failure(service, failure, now, s)
            }
            Event::Promote { service } => self.promote_due(service, now),
            Event::Reshard { group } => self.reshard(group, now, s),
            Event::ReshardSwitch { group } => self.reshard_switch(group, now, s),
            Event::AcquireTimeout { span, generation } => {
                if self.is_live(span, generation, SpanState::AwaitingConnection) {
                    self.acquire_timeout(span, now, s);
                }
            }
            Event::Flush { dirty, generation } => self.flush_due(dirty, generation, now, s),
            Event::Migrate { group } => self.migrate(group, now, s),
            Event::Reload { cache, start } => self.reload_due(cache, start, now, s),
            Event::Retry { span, generation } => {
                if self.is_live(span, generation, SpanState::Backoff) {
                    self.retry_due(span, now, s);
                }
            }
        }
        self.drain_work(now, s);
    }
}
