//! One run: the model's state, the events that change it, and the request path
//! client -> balancer -> instance (admission, CPU scheduling, I/O) -> response.
//!
//! Events are a small plain enum handled by `match`; requests live in a slab; nothing on the
//! per-request path allocates once the slab and queues have grown to their working size.

mod limits;
mod observe;
pub mod request;
mod resize;
mod scaling;
mod spot;
mod worker_pool;

pub use limits::{DEFAULT_MAX_EVENTS, DEFAULT_MAX_IN_FLIGHT, RunAborted, RunLimits};
pub use observe::{InstanceSummary, RunSummary, ScalingAction, ServiceSummary, SloSummary};

use crate::components::balancer::{Balancer, BalancerSpec};
use crate::components::endpoint::Step;
use crate::components::instance::{Admission, Instance};
use crate::components::lifecycle::Phase;
use crate::experiment::{Experiment, Variant};
use crate::kernel::{
    Handler, RequestRng, RunStatus, Scheduler, SimDuration, SimTime, Stream, run_until, stream,
};
use crate::metrics::{Outcome, TimeAverage, timeseries::TimeSeriesRow};
use crate::workload::client::ClientKind;
use crate::workload::rate::ArrivalProcess;
use observe::Observer;
use rand::Rng;
use request::{ANSWERED, COUNTED, NO_CONNECTION, Request, RequestSlab, SERVER_DONE};
use std::collections::VecDeque;

/// Everything that happens in a run.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// An open-loop client's next arrival.
    Arrival { client: u32 },
    /// A closed-loop connection sends its next request.
    Send { client: u32, connection: u32 },
    /// A core finished a CPU slice of a request. The generation tells a stale event (its
    /// instance was killed and the slot reused) from a live one.
    SliceDone { request: u32, generation: u32 },
    /// A request's I/O step finished.
    IoDone { request: u32, generation: u32 },
    /// A client's oldest deadline may have passed.
    Deadline { client: u32 },
    /// A starting instance becomes ready for traffic.
    InstanceReady { instance: u32 },
    /// A draining instance's grace period ends.
    DrainDeadline { instance: u32 },
    /// A service's scheduled scaling action `action` is due.
    Scheduled { service: u32, action: u32 },
    /// A service's autoscaling policy evaluates its latest period.
    Evaluate { service: u32 },
    /// A metrics scraper reads a service's ready instances.
    Scrape { service: u32 },
    /// The cloud warns that a spot instance will be taken back.
    SpotNotice { instance: u32 },
    /// The cloud takes a spot instance back.
    SpotInterruption { instance: u32 },
    /// A ready instance restarts to take its service's new shape (vertical scaling).
    Resize { instance: u32 },
}

/// A pending deadline: the client gives up on (slot, generation) at `at`.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: SimTime,
    slot: u32,
    generation: u32,
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

#[derive(Debug)]
struct ServiceState {
    /// Instances that take new requests, oldest first.
    ready: Vec<u32>,
    /// Instances starting (provisioning, start-up, readiness), oldest first.
    starting: Vec<u32>,
    /// Instances draining, oldest first.
    draining: Vec<u32>,
    /// Requests waiting in a worker pool's queue (`queue` balancer), oldest first, and its
    /// length over time.
    backlog: VecDeque<u32>,
    backlog_len: TimeAverage,
    /// Where the next scan for a free worker starts (spreads messages over idle workers).
    pull_cursor: usize,
    /// The replica count last asked for.
    desired: u32,
    /// Cores of serving instances (ready or draining) over time: the denominator of
    /// utilisation.
    ready_cores: TimeAverage,
    /// The shape new instances get (the model's, until a resize), and its version.
    shape: crate::components::instance::InstanceSpec,
    shape_version: u32,
    /// Most instances ready at once.
    peak_ready: u32,
    /// Instances that exist (starting, ready or draining): what the cloud bills.
    billed: TimeAverage,
    /// Of those, the ones beyond the reservation, billed at the market price.
    billed_over_reserved: TimeAverage,
    /// Of those, the ones on spot capacity.
    billed_spot: TimeAverage,
    /// Instances the reservation covers (0 while a resize has left the reserved type), the
    /// reservation, and its type.
    coverage: u32,
    reserved: u32,
    reserved_type: String,
    /// The type billed now, its prices per instance-hour (on demand, spot), and what was spent
    /// at earlier prices since the warm-up.
    instance_type: String,
    on_demand_per_hour: f64,
    spot_per_hour: f64,
    spend_usd: f64,
    /// Spot capacity, if the service runs on it, and the draws of its interruptions.
    spot: Option<crate::components::cost::SpotSpec>,
    spot_rng: Stream,
    /// Instances lost: taken back as spot capacity, and killed for memory.
    spot_interruptions: u64,
    oom_kills: u64,
    balancer: Balancer,
    /// The autoscaling policy, if any, and the counters it reads.
    policy: Option<crate::autoscaler::Policy>,
    /// Monotonic counters as of the policy's last evaluation, and when it was.
    last_counters: scaling::Counters,
    last_counters_at: SimTime,
    /// Busy core-time and waiting time of stopped instances (keeps the counters monotonic).
    retired_busy_core_ns: u128,
    retired_waiting_ns: u128,
    /// Requests routed to the service since the start (monotonic).
    arrivals: u64,
    /// Successful responses and their summed latency, since the start (monotonic).
    ok_count: u64,
    ok_latency_ns: u128,
}

impl ServiceState {
    /// `id` becomes ready: it joins the balancer's candidates.
    fn add_ready(&mut self, id: u32, instances: &[Instance]) {
        self.ready.push(id);
        self.balancer.candidates_changed(&self.ready, instances);
    }

    /// `id` leaves the balancer's candidates.
    fn remove_ready(&mut self, id: u32, instances: &[Instance]) {
        self.ready.retain(|&i| i != id);
        self.balancer.candidates_changed(&self.ready, instances);
    }

    /// The newest ready instance leaves the balancer's candidates.
    fn pop_ready(&mut self, instances: &[Instance]) -> Option<u32> {
        let id = self.ready.pop()?;
        self.balancer.candidates_changed(&self.ready, instances);
        Some(id)
    }

    /// A worker pool: its ready instances pull from `backlog`.
    #[inline]
    fn pulls(&self) -> bool {
        matches!(self.balancer.spec(), BalancerSpec::Queue { .. })
    }
}

/// The state of one run.
pub struct Simulation<'a> {
    variant: &'a Variant,
    horizon: SimTime,
    warmup_end: SimTime,
    clients: Vec<ClientState>,
    services: Vec<ServiceState>,
    instances: Vec<Instance>,
    requests: RequestSlab,
    observer: Observer,
    /// Every change of a service's desired replicas, in time order.
    actions: Vec<ScalingAction>,
    /// Events handled, by kind (for the event budget's message).
    tally: limits::EventTally,
}

impl std::fmt::Debug for Simulation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("variant", &self.variant.name)
            .field("in_flight", &self.requests.live())
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
        let mut instances = Vec::new();
        let mut services = Vec::new();
        for (s, spec) in model.services.iter().enumerate() {
            let reserved = spec.cost.as_ref().map_or(0, |c| c.reserved);
            let spot = spec.cost.as_ref().and_then(|c| c.spot);
            let mut spot_rng = stream(seed, replication, &spec.name, "spot");
            // The initial fleet is warm: ready at time zero.
            let mut ready = Vec::with_capacity(spec.replicas as usize);
            for k in 0..spec.replicas {
                let id = instances.len() as u32;
                ready.push(id);
                let mut inst = Instance::new(s as u32, &spec.instance, Phase::Ready, SimTime::ZERO);
                if let Some(sp) = spot.filter(|_| k >= reserved) {
                    inst.spot = true;
                    spot::schedule_interruption(id, &sp, SimTime::ZERO, &mut spot_rng, scheduler);
                }
                instances.push(inst);
            }
            let (mut billed, mut billed_over_reserved) =
                (TimeAverage::default(), TimeAverage::default());
            billed.start(SimTime::ZERO);
            billed.set(SimTime::ZERO, i64::from(spec.replicas));
            billed_over_reserved.start(SimTime::ZERO);
            billed_over_reserved.set(
                SimTime::ZERO,
                i64::from(spec.replicas.saturating_sub(reserved)),
            );
            let mut billed_spot = TimeAverage::default();
            billed_spot.start(SimTime::ZERO);
            if spot.is_some() {
                billed_spot.set(
                    SimTime::ZERO,
                    i64::from(spec.replicas.saturating_sub(reserved)),
                );
            }
            let mut ready_cores = TimeAverage::default();
            ready_cores.start(SimTime::ZERO);
            ready_cores.set(
                SimTime::ZERO,
                i64::from(spec.replicas) * i64::from(spec.instance.cores),
            );
            for (k, action) in spec.schedule.iter().enumerate() {
                scheduler.schedule_at(
                    SimTime::ZERO + action.at,
                    Event::Scheduled {
                        service: s as u32,
                        action: k as u32,
                    },
                );
            }
            if let Some(policy) = &spec.autoscaler {
                scheduler.schedule_at(
                    SimTime::from_secs_f64(policy.period_s()),
                    Event::Evaluate { service: s as u32 },
                );
                if policy.scrape_interval_s().is_some() {
                    scheduler.schedule_at(SimTime::ZERO, Event::Scrape { service: s as u32 });
                }
            }
            let rng = stream(seed, replication, &spec.name, "balancer");
            let mut balancer = Balancer::new(spec.balancer, rng);
            balancer.candidates_changed(&ready, &instances);
            services.push(ServiceState {
                ready,
                starting: Vec::new(),
                draining: Vec::new(),
                backlog: VecDeque::new(),
                backlog_len: {
                    let mut t = TimeAverage::default();
                    t.start(SimTime::ZERO);
                    t
                },
                pull_cursor: 0,
                desired: spec.replicas,
                ready_cores,
                shape: spec.instance.clone(),
                shape_version: 0,
                peak_ready: spec.replicas,
                billed,
                billed_over_reserved,
                billed_spot,
                coverage: reserved,
                reserved,
                reserved_type: spec
                    .cost
                    .as_ref()
                    .map_or(String::new(), |c| c.instance_type.clone()),
                instance_type: spec
                    .cost
                    .as_ref()
                    .map_or(String::new(), |c| c.instance_type.clone()),
                on_demand_per_hour: spec.cost.as_ref().map_or(0.0, |c| c.on_demand_per_hour),
                spot_per_hour: spot.map_or(0.0, |sp| sp.price_per_hour),
                spend_usd: 0.0,
                spot,
                spot_rng,
                spot_interruptions: 0,
                oom_kills: 0,
                balancer,
                policy: spec.autoscaler.as_ref().map(crate::autoscaler::Policy::new),
                last_counters: scaling::Counters::default(),
                last_counters_at: SimTime::ZERO,
                retired_busy_core_ns: 0,
                retired_waiting_ns: 0,
                arrivals: 0,
                ok_count: 0,
                ok_latency_ns: 0,
            });
        }
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
        Simulation {
            variant,
            horizon,
            warmup_end: SimTime::ZERO + experiment.warmup,
            clients,
            services,
            instances,
            requests: RequestSlab::default(),
            observer,
            actions: Vec::new(),
            tally: limits::EventTally::default(),
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
        let counted_in_flight = self
            .requests
            .iter_live()
            .filter(|r| r.flags & ANSWERED == 0 && r.flags & COUNTED != 0)
            .count() as u64;
        Ok(self.observer.finish(
            self.horizon,
            &self.variant.model,
            &mut self.instances,
            &mut self.services,
            self.actions,
            counted_in_flight,
            events,
            self.requests.capacity_used() as u64,
        ))
    }

    /// A new request from client `c` (on `connection` for closed loops).
    fn send(&mut self, c: u32, connection: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let spec = &self.variant.workload[c as usize];
        let state = &mut self.clients[c as usize];
        let dest = spec.mix.pick(&mut state.mix_rng);
        let seed = state.request_rng.next_u64();
        state.sent += 1;
        let counted = now >= self.warmup_end;
        let slot = self.requests.insert(Request {
            arrival: now,
            rng: RequestRng::new(seed),
            client: c,
            connection,
            service: dest.service,
            endpoint: dest.endpoint,
            instance: u32::MAX,
            executor: 0,
            step: 0,
            remaining_cpu: 0,
            generation: 0,
            flags: if counted { COUNTED } else { 0 },
        });
        self.observer
            .arrival(now, dest.service, dest.endpoint, counted);
        if let Some(timeout) = spec.timeout {
            let generation = self.requests.get(slot).generation;
            state.deadlines.push_back(Deadline {
                at: now + timeout,
                slot,
                generation,
            });
            if !state.deadline_armed {
                state.deadline_armed = true;
                s.schedule_at(now + timeout, Event::Deadline { client: c });
            }
        }
        self.dispatch(slot, now, s);
    }

    /// The balancer picks an instance; the instance admits, queues or rejects.
    fn dispatch(&mut self, slot: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let service = self.requests.get(slot).service as usize;
        let svc = &mut self.services[service];
        svc.arrivals += 1;
        if let BalancerSpec::Queue { max_length } = svc.balancer.spec() {
            self.enqueue(slot, max_length, now, s);
            return;
        }
        let Some(instance) = svc.balancer.pick(&svc.ready, &self.instances) else {
            self.server_done(slot);
            self.answer(slot, Outcome::NoInstance, now, s);
            return;
        };
        self.requests.get_mut(slot).instance = instance;
        let inst = &mut self.instances[instance as usize];
        let admission = inst.admit(slot, now);
        svc.balancer.load_changed(instance, inst.open_requests());
        if admission != Admission::Rejected && inst.out_of_memory() {
            // One request too many: the process dies with everything it held, this one too.
            self.oom_kill(instance, now, s);
            return;
        }
        match admission {
            Admission::Admitted => self.start(slot, now, s),
            Admission::Queued => {}
            Admission::Rejected => {
                self.server_done(slot);
                self.answer(slot, Outcome::Rejected, now, s);
            }
        }
    }

    /// An admitted request begins its first step.
    fn start(&mut self, slot: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let r = self.requests.get(slot);
        let executor = self.instances[r.instance as usize].pin_executor();
        let r = self.requests.get_mut(slot);
        r.executor = executor;
        r.step = 0;
        self.run_step(slot, now, s);
    }

    /// Begins the request's current step, or answers it if there are no more.
    fn run_step(&mut self, slot: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let r = self.requests.get_mut(slot);
        let endpoint =
            &self.variant.model.services[r.service as usize].endpoints[r.endpoint as usize];
        let Some(step) = endpoint.steps.get(r.step as usize) else {
            self.complete(slot, now, s);
            return;
        };
        match step {
            Step::Cpu(d) | Step::Block(d) => {
                r.remaining_cpu = d.sample_duration(&mut r.rng).as_nanos();
                let (instance, executor) = (r.instance, r.executor);
                if self.instances[instance as usize].offer_segment(executor, slot, now) {
                    self.start_slice(slot, now, s);
                }
            }
            Step::Io(d) => {
                let wait = d.sample_duration(&mut r.rng);
                let generation = r.generation;
                s.schedule_in(
                    wait,
                    Event::IoDone {
                        request: slot,
                        generation,
                    },
                );
            }
        }
    }

    /// A core starts running the request's current CPU step: all of it, or one quantum of a
    /// `cpu` step on an instance with time slicing.
    #[inline]
    fn start_slice(&mut self, slot: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let r = self.requests.get_mut(slot);
        let service = &self.variant.model.services[r.service as usize];
        let sliced = matches!(
            service.endpoints[r.endpoint as usize].steps[r.step as usize],
            Step::Cpu(_)
        );
        let slice = match self.instances[r.instance as usize].cpu_quantum {
            Some(q) if sliced => r.remaining_cpu.min(q.as_nanos()),
            _ => r.remaining_cpu,
        };
        r.remaining_cpu -= slice;
        let generation = r.generation;
        s.schedule_at(
            now + SimDuration::from_nanos(slice),
            Event::SliceDone {
                request: slot,
                generation,
            },
        );
    }

    fn slice_done(&mut self, slot: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let r = *self.requests.get(slot);
        let instance = &mut self.instances[r.instance as usize];
        if let Some(next) = instance.finish_segment(r.executor, now) {
            self.start_slice(next, now, s);
        }
        if r.remaining_cpu > 0 {
            // Preempted at the end of its quantum: back of the run queue.
            if self.instances[r.instance as usize].offer_segment(r.executor, slot, now) {
                self.start_slice(slot, now, s);
            }
        } else {
            self.requests.get_mut(slot).step += 1;
            self.run_step(slot, now, s);
        }
    }

    /// The instance has finished the request: free its slot (admitting the next queued
    /// request) and answer the client, unless the client already gave up.
    fn complete(&mut self, slot: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let instance = self.requests.get(slot).instance;
        let inst = &mut self.instances[instance as usize];
        let next = inst.release(now);
        let open = inst.open_requests();
        self.services[inst.service as usize]
            .balancer
            .load_changed(instance, open);
        if let Some(next) = next {
            self.start(next, now, s);
        }
        self.server_done(slot);
        self.instances[instance as usize].completed += 1;
        self.answer(slot, Outcome::Ok, now, s);
        match self.instances[instance as usize].phase {
            Phase::Draining => {
                self.stop_if_drained(instance, now);
            }
            Phase::Ready
                if self.services[self.instances[instance as usize].service as usize].pulls() =>
            {
                self.pull(instance, now, s);
            }
            _ => {}
        }
    }

    /// Whether an event about `slot` still concerns the request that scheduled it: a request
    /// whose instance was killed is done on the server side, and its slot may have been reused.
    #[inline]
    fn is_live(&self, slot: u32, generation: u32) -> bool {
        let r = self.requests.get(slot);
        r.generation == generation && r.flags & SERVER_DONE == 0
    }

    #[inline]
    fn server_done(&mut self, slot: u32) {
        self.requests.get_mut(slot).flags |= SERVER_DONE;
    }

    /// Records the request's outcome at its client (once), then lets a closed-loop connection
    /// go on. Frees the slot when the server is done with it too.
    fn answer(&mut self, slot: u32, outcome: Outcome, now: SimTime, s: &mut Scheduler<Event>) {
        let r = self.requests.get_mut(slot);
        if r.flags & ANSWERED == 0 {
            r.flags |= ANSWERED;
            let r = *r;
            let latency = now.since(r.arrival);
            if outcome == Outcome::Ok {
                let svc = &mut self.services[r.service as usize];
                svc.ok_count += 1;
                svc.ok_latency_ns += u128::from(latency.as_nanos());
            }
            self.observer.outcome(
                now,
                r.service,
                r.endpoint,
                outcome,
                latency,
                r.flags & COUNTED != 0,
            );
            if r.connection != NO_CONNECTION {
                self.next_send(r.client, r.connection, outcome, now, s);
            }
        }
        if self.requests.get(slot).flags & SERVER_DONE != 0 {
            self.requests.remove(slot);
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
    fn deadline(&mut self, c: u32, now: SimTime, s: &mut Scheduler<Event>) {
        self.clients[c as usize].deadline_armed = false;
        while let Some(d) = self.clients[c as usize].deadlines.front().copied() {
            let r = self.requests.get(d.slot);
            let stale = r.generation != d.generation || r.flags & ANSWERED != 0;
            if stale {
                self.clients[c as usize].deadlines.pop_front();
            } else if d.at <= now {
                self.clients[c as usize].deadlines.pop_front();
                // The server keeps working on it, as real servers do; its answer is dropped.
                self.answer(d.slot, Outcome::TimedOut, now, s);
            } else {
                self.clients[c as usize].deadline_armed = true;
                s.schedule_at(d.at, Event::Deadline { client: c });
                break;
            }
        }
    }

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
        self.send(c, NO_CONNECTION, now, s);
    }
}

impl Handler for Simulation<'_> {
    type Event = Event;

    #[inline]
    fn handle(&mut self, event: Event, s: &mut Scheduler<Event>) {
        let now = s.now();
        self.tally.record(&event);
        if now >= self.observer.next_mark() {
            self.observer
                .cross_marks(now, &mut self.instances, &mut self.services);
        }
        match event {
            Event::Arrival { client } => self.arrival(client, now, s),
            Event::Send { client, connection } => self.send(client, connection, now, s),
            Event::SliceDone {
                request,
                generation,
            } => {
                if self.is_live(request, generation) {
                    self.slice_done(request, now, s);
                }
            }
            Event::IoDone {
                request,
                generation,
            } => {
                if self.is_live(request, generation) {
                    self.requests.get_mut(request).step += 1;
                    self.run_step(request, now, s);
                }
            }
            Event::Deadline { client } => self.deadline(client, now, s),
            Event::InstanceReady { instance } => self.instance_ready(instance, now, s),
            Event::DrainDeadline { instance } => self.drain_deadline(instance, now, s),
            Event::Evaluate { service } => self.evaluate_policy(service, now, s),
            Event::Scrape { service } => self.scrape(service, now, s),
            Event::Scheduled { service, action } => self.scheduled(service, action, now, s),
            Event::SpotNotice { instance } => self.spot_notice(instance, now, s),
            Event::SpotInterruption { instance } => self.spot_interruption(instance, now, s),
            Event::Resize { instance } => self.restart_to_resize(instance, now, s),
        }
    }
}
