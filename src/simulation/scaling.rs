//! Changing a service's replica count while it runs: new instances go through provisioning,
//! start-up and readiness before the balancer sees them; removed instances leave the balancer
//! at once, finish what they hold, and are killed at the drain deadline.
//!
//! Which instance goes first on scale-down follows the Kubernetes ReplicaSet's ranking, in
//! short: instances not yet ready before ready ones, and newer before older.

use super::observe::ScalingAction;
use super::{Event, Simulation};
use crate::autoscaler::Policy;
use crate::autoscaler::hpa::{Pod, PodPhase, Sample};
use crate::autoscaler::hpa_controller::HpaSpec;
use crate::autoscaler::predictive::Observation as DemandObservation;
use crate::autoscaler::target_tracking::{
    Observation as TrackingObservation, TargetTrackingSpec, TrackedMetric,
};
use crate::autoscaler::threshold::Datapoint;
use crate::components::lifecycle::Phase;
use crate::ids::{InstanceId, ServiceId};
use crate::kernel::{Scheduler, SimDuration, SimTime};
use crate::metrics::Outcome;

/// The kubelet's crash back-off: 10 s, doubling per crash in a row, at most 5 minutes.
fn crash_backoff(streak: u32) -> SimDuration {
    let secs = 10u64.saturating_mul(1 << streak.min(5)).min(300);
    SimDuration::from_secs(secs)
}

/// Serving this long since the last (re)start resets the back-off, as the kubelet does.
const CRASH_STREAK_RESET: SimDuration = SimDuration::from_secs(600);

/// Monotonic counters of a service, read once per policy period; a datapoint is the difference
/// between two readings, as a monitoring agent computes rates from counters.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counters {
    busy_core_ns: u128,
    ready_core_ns: u128,
    waiting_ns: u128,
    ok_count: u64,
    ok_latency_ns: u128,
    arrivals: u64,
}

impl Counters {
    /// The increase since `earlier` (never negative: the counters only grow).
    fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            busy_core_ns: self.busy_core_ns.saturating_sub(earlier.busy_core_ns),
            ready_core_ns: self.ready_core_ns.saturating_sub(earlier.ready_core_ns),
            waiting_ns: self.waiting_ns.saturating_sub(earlier.waiting_ns),
            ok_count: self.ok_count.saturating_sub(earlier.ok_count),
            ok_latency_ns: self.ok_latency_ns.saturating_sub(earlier.ok_latency_ns),
            arrivals: self.arrivals.saturating_sub(earlier.arrivals),
        }
    }
}

impl Simulation<'_> {
    /// Reads the service's counters at `now`.
    fn counters(&mut self, service: ServiceId, now: SimTime) -> Counters {
        let svc = &mut self.services[service.index()];
        let mut c = Counters {
            busy_core_ns: svc.counters.retired_busy_core_ns,
            waiting_ns: svc.counters.retired_waiting_ns,
            ..Counters::default()
        };
        for id in svc.fleet.live() {
            let inst = &mut self.instances[id];
            c.busy_core_ns += inst.stats.busy_cores.lifetime_area(now);
            c.waiting_ns += inst.stats.queue_length.lifetime_area(now);
        }
        c.ready_core_ns = svc.fleet.serving_cores().lifetime_area(now);
        c.ok_count = svc.counters.ok_count;
        c.arrivals = svc.counters.arrivals;
        c.ok_latency_ns = svc.counters.ok_latency_ns;
        c
    }

    /// The policy of `service` looks at what it may see and may scale.
    pub(super) fn evaluate_policy(
        &mut self,
        service: ServiceId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let spec = &self.variant.model.services[service.index()];
        let Some(policy_spec) = spec.autoscaler.as_ref() else {
            return;
        };
        s.schedule_in(
            SimDuration::from_secs_f64(policy_spec.period_s()),
            Event::Evaluate { service },
        );
        // Taken out while it decides, so it can look at the simulation's state.
        let Some(mut policy) = self.services[service.index()].policy.policy.take() else {
            return;
        };
        let current = self.services[service.index()].fleet.desired();
        let decision = match &mut policy {
            Policy::Threshold(p) => {
                let dp = self.datapoint(service, now);
                p.evaluate(now.as_secs_f64(), current, dp)
                    .map(|d| (d.replicas, d.reason))
            }
            Policy::Hpa(c) => {
                let pods = self.pods(service, now, c.spec());
                let d = c.reconcile(now.as_nanos(), current, pods);
                (d.desired_replicas != current)
                    .then(|| (d.desired_replicas, format!("hpa: {}", d.reason)))
            }
            Policy::TargetTracking(p) => {
                let obs = self.tracked_metric(service, now, p.spec());
                p.evaluate(now.as_secs_f64(), current, obs)
                    .map(|d| (d.replicas, d.reason))
            }
            Policy::Predictive(p) => {
                let obs = self.measured_demand(service, now);
                p.evaluate(now.as_secs_f64(), current, obs)
                    .map(|d| (d.replicas, d.reason))
            }
            Policy::Keda(k) => {
                let queue = self.queue_length(service);
                let pods = self.pods(service, now, &k.spec().hpa);
                k.evaluate(now.as_nanos(), current, queue, pods)
                    .map(|d| (d.replicas, d.reason))
            }
            Policy::DatabaseReplicas(p) => {
                let m = self.database_metrics(service, now);
                let (replicas, reason) = p.required(&m);
                // The primary is not a read replica.
                (replicas + 1 != current).then(|| (replicas + 1, reason))
            }
        };
        self.services[service.index()].policy.policy = Some(policy);
        if let Some((replicas, reason)) = decision {
            self.scale_to(service, replicas, &reason, now, s);
        }
    }

    /// What Go Coffee's database scaler reads for the period ending now: reads and writes per
    /// second, queries open at the database's instances, its CPU.
    fn database_metrics(
        &mut self,
        service: ServiceId,
        now: SimTime,
    ) -> crate::autoscaler::database_replicas::DatabaseMetrics {
        let (d, span_s) = self.period_counters(service, now);
        let (reads, writes) = self.database_period(service);
        let per_s = |n: u64| if span_s > 0.0 { n as f64 / span_s } else { 0.0 };
        let open: u32 = self.services[service.index()]
            .fleet
            .ready()
            .iter()
            .map(|&id| self.instances[id].open_requests())
            .sum();
        crate::autoscaler::database_replicas::DatabaseMetrics {
            read_qps: per_s(reads),
            write_qps: per_s(writes),
            active_connections: f64::from(open),
            cpu: if d.ready_core_ns > 0 {
                d.busy_core_ns as f64 / d.ready_core_ns as f64
            } else {
                0.0
            },
        }
    }

    /// The threshold policy's datapoint for the period ending now: differences of counters.
    fn datapoint(&mut self, service: ServiceId, now: SimTime) -> Datapoint {
        let (d, _) = self.period_counters(service, now);
        let cores = f64::from(self.services[service.index()].fleet.shape().cores.max(1));
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        // Memory is a gauge: the agent reads it when it collects, it has no counter.
        let (mut used, mut n) = (0.0, 0u32);
        for &id in self.services[service.index()].fleet.ready() {
            if let Some(u) = self.instances[id].memory_utilisation() {
                used += u;
                n += 1;
            }
        }
        Datapoint {
            memory: (n > 0).then(|| used / f64::from(n)),
            cpu: ratio(d.busy_core_ns as f64, d.ready_core_ns as f64),
            queue_length: ratio(d.waiting_ns as f64, d.ready_core_ns as f64 / cores),
            response_time_s: (d.ok_count > 0)
                .then(|| d.ok_latency_ns as f64 / d.ok_count as f64 / 1e9),
        }
    }

    /// The service's counters over the period since the policy last read them, and its length
    /// in seconds; the reading becomes the start of the next period.
    fn period_counters(&mut self, service: ServiceId, now: SimTime) -> (Counters, f64) {
        let reading = self.counters(service, now);
        let p = &mut self.services[service.index()].policy;
        let last = std::mem::replace(&mut p.last_counters, reading);
        let span_s = now.since(p.last_counters_at).as_secs_f64();
        p.last_counters_at = now;
        (reading.since(&last), span_s)
    }

    /// Target tracking's view: the tracked metric averaged over ready instances past their
    /// warm-up, from the per-instance datapoints the monitoring agent published.
    fn tracked_metric(
        &self,
        service: ServiceId,
        now: SimTime,
        spec: &TargetTrackingSpec,
    ) -> TrackingObservation {
        let warmup = SimDuration::from_secs_f64(spec.instance_warmup_s);
        let fleet = &self.services[service.index()].fleet;
        let (mut sum, mut measured, mut warming) = (0.0, 0u32, fleet.starting().len() as u32);
        for &id in fleet.ready() {
            let inst = &self.instances[id];
            let warm = inst.initial && inst.restarted_at.is_none()
                || inst.ready_at.is_some_and(|t| now >= t + warmup);
            match inst.scrape.sample {
                Some(sample) if warm => {
                    sum += match spec.metric {
                        TrackedMetric::Cpu => {
                            sample.cpu_milli as f64 / 1000.0 / f64::from(inst.cores().max(1))
                        }
                        TrackedMetric::RequestsPerInstance => sample.rps_milli as f64 / 1000.0,
                    };
                    measured += 1;
                }
                _ => warming += 1,
            }
        }
        TrackingObservation {
            value: (measured > 0).then(|| sum / f64::from(measured)),
            measured,
            warming,
        }
    }

    /// The predictive policy's view of the period that just ended: requests that reached the
    /// service per second, and CPU per answered request. Differences of monotonic counters.
    fn measured_demand(&mut self, service: ServiceId, now: SimTime) -> DemandObservation {
        let (d, span_s) = self.period_counters(service, now);
        DemandObservation {
            cores: self.services[service.index()].fleet.shape().cores,
            request_rate: if span_s > 0.0 {
                d.arrivals as f64 / span_s
            } else {
                0.0
            },
            cpu_per_request_s: (d.ok_count > 0)
                .then(|| d.busy_core_ns as f64 / 1e9 / d.ok_count as f64),
        }
    }

    /// Messages in a worker pool's queue: waiting in the broker plus in progress (unacked),
    /// as KEDA's SQS scaler counts them by default.
    fn queue_length(&self, service: ServiceId) -> u64 {
        let svc = &self.services[service.index()];
        let held: u64 = (svc.fleet.ready().iter())
            .chain(svc.fleet.draining())
            .map(|&id| u64::from(self.instances[id].open_requests()))
            .sum();
        svc.routing.backlog_len() as u64 + held
    }

    /// A metrics scraper reads every ready instance of `service`, as metrics-server reads
    /// kubelets at its resolution.
    pub(super) fn scrape(&mut self, service: ServiceId, now: SimTime, s: &mut Scheduler<Event>) {
        let Some(interval) = self.variant.model.services[service.index()]
            .autoscaler
            .as_ref()
            .and_then(|a| a.scrape_interval_s())
        else {
            return;
        };
        for &id in self.services[service.index()].fleet.ready() {
            self.instances[id].scrape(now);
        }
        s.schedule_in(
            SimDuration::from_secs_f64(interval),
            Event::Scrape { service },
        );
    }

    /// The service's pods as the HPA controller lists them: provisioning instances are Pending,
    /// starting ones Running but not ready, draining ones being deleted; samples are the
    /// scraper's latest, with their age. The initial fleet has been running for an hour.
    fn pods(&self, service: ServiceId, now: SimTime, spec: &HpaSpec) -> Vec<Pod> {
        let lifecycle = self.variant.model.services[service.index()].lifecycle;
        let since = |t: SimTime| now.since(t).as_secs_f64();
        // Requests follow the pods' current shape (a resize recreates them with new ones).
        let fleet = &self.services[service.index()].fleet;
        let shape = fleet.shape();
        let cpu_request = spec
            .cpu_request_milli
            .unwrap_or_else(|| shape.cpu_request_milli());
        let memory_request = shape.memory_request_milli();
        let mut pods = Vec::new();
        // Live instances only, in creation order (the order the controller lists them in).
        for &id in fleet.members() {
            let inst = &self.instances[id];
            if inst.phase == Phase::Stopped {
                continue;
            }
            // The container's start: its last restart, else the end of provisioning.
            let initial = inst.initial && inst.restarted_at.is_none();
            let started_at = inst
                .restarted_at
                .unwrap_or(inst.created_at + lifecycle.provisioning);
            let started_s_ago = if initial {
                Some(since(SimTime::ZERO) + 3600.0)
            } else {
                (now >= started_at).then(|| since(started_at))
            };
            let mut pod =
                Pod::running(&format!("pod-{}", inst.serial), 0.0).with_request("cpu", cpu_request);
            if let Some(m) = memory_request {
                pod = pod.with_request("memory", m);
            }
            pod.started_s_ago = started_s_ago;
            match inst.phase {
                Phase::Stopped => unreachable!("skipped above"),
                Phase::Starting if now < started_at => {
                    pod.phase = PodPhase::Pending;
                    pod.ready = false;
                }
                Phase::Starting => {
                    pod.ready = false;
                    pod.ready_changed_s_ago = started_s_ago;
                }
                Phase::Draining => pod.deleting = true,
                Phase::Ready => {
                    pod.ready_changed_s_ago = if initial {
                        started_s_ago
                    } else {
                        inst.ready_at.map(since)
                    };
                    if let Some(sample) = inst.scrape.sample {
                        for name in spec.pod_metrics() {
                            let value = match name {
                                "cpu" => sample.cpu_milli,
                                "memory" => sample.memory_milli,
                                "requests_per_second" | "http_requests_per_second" => {
                                    sample.rps_milli
                                }
                                _ => continue,
                            };
                            pod = pod.with_sample_at(
                                name,
                                Sample {
                                    value_milli: value,
                                    age_s: since(sample.at),
                                    window_s: sample.window_s,
                                },
                            );
                        }
                    }
                }
            }
            pods.push(pod);
        }
        pods
    }

    /// Sets service `service`'s desired replicas to `target`, starting or removing instances,
    /// and records the action with `reason`.
    pub(super) fn scale_to(
        &mut self,
        service: ServiceId,
        target: u32,
        reason: &str,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let spec = &self.variant.model.services[service.index()];
        let fleet = &mut self.services[service.index()].fleet;
        let current = fleet.size();
        if target == fleet.desired() && target == current {
            return;
        }
        self.actions.push(ScalingAction {
            t_s: now.as_secs_f64(),
            service: spec.name.clone(),
            from: fleet.desired(),
            to: target,
            reason: reason.to_string(),
        });
        fleet.set_desired(target);
        if target > current {
            for _ in current..target {
                self.launch(service, now, s);
            }
        } else {
            for _ in target..current {
                let fleet = &self.services[service.index()].fleet;
                if let Some(&id) = fleet.starting().last() {
                    // Not serving: it just stops (its pending ready event finds it stopped).
                    self.stop(id, now);
                } else if let Some(id) = self.scale_in_victim(service, target) {
                    self.drain(id, now, s);
                }
            }
        }
    }

    /// Asks for one more instance of `service` in its current shape: billed from now, serving
    /// after provisioning, start-up and readiness.
    pub(super) fn launch(&mut self, service: ServiceId, now: SimTime, s: &mut Scheduler<Event>) {
        let time_to_ready = self.variant.model.services[service.index()]
            .lifecycle
            .time_to_ready();
        let svc = &mut self.services[service.index()];
        let ordinal = svc.fleet.free_ordinal(&self.instances);
        let mut inst = self.variant.model.services[service.index()].new_instance(
            service,
            ordinal,
            svc.fleet.shape(),
            Phase::Starting,
            now,
        );
        inst.shape_version = svc.fleet.shape_version();
        // Active checks put a new instance in rotation only once its probes pass.
        inst.passing = !self.variant.model.services[service.index()].health.probed();
        let id = super::spot::buy_capacity(inst, &mut svc.billing, &mut self.instances, now, s);
        svc.fleet.launched(id, &self.instances);
        s.schedule_at(
            now + time_to_ready,
            Event::InstanceReady {
                instance: self.instances.reference(id),
            },
        );
    }

    /// A starting instance has passed its readiness delay.
    pub(super) fn instance_ready(
        &mut self,
        id: InstanceId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let inst = &self.instances[id];
        if inst.phase != Phase::Starting {
            return; // removed before it was ready
        }
        let svc = &mut self.services[inst.service.index()];
        let balancer = &mut svc.routing.balancer;
        svc.fleet
            .become_ready(id, &mut self.instances, balancer, now);
        if svc.pulls() {
            self.pull(id, now, s);
        }
        self.database_instance_ready(id, now);
        self.schedule_failure(id, now, s);
    }

    /// The ready instance a scale-in drains: the newest, sparing a database's primary unless
    /// the service is going to zero (a shard a resharding retires).
    fn scale_in_victim(&self, service: ServiceId, target: u32) -> Option<InstanceId> {
        let ready = self.services[service.index()].fleet.ready();
        let newest_replica = ready.iter().rev().copied().find(|&id| !self.is_primary(id));
        match newest_replica {
            None if target == 0 => ready.last().copied(),
            victim => victim,
        }
    }

    /// Stops a live instance (starting, ready or draining; the caller has taken what it held):
    /// its work is banked into its service's counters and its figures into the observer's, its
    /// cores leave the utilisation denominator and it leaves the bill. Its slot is reused once
    /// its last bucket has been read.
    pub(super) fn stop(&mut self, id: InstanceId, now: SimTime) {
        let inst = &mut self.instances[id];
        let busy = inst.stats.busy_cores.lifetime_area(now);
        let waiting = inst.stats.queue_length.lifetime_area(now);
        let svc = &mut self.services[inst.service.index()];
        svc.counters.retired_busy_core_ns += busy;
        svc.counters.retired_waiting_ns += waiting;
        let balancer = &mut svc.routing.balancer;
        svc.fleet.stop(id, &mut self.instances, balancer, now);
        let inst = &mut self.instances[id];
        self.observer.instance_stopped(inst);
        svc.billing.changed(-1, inst.spot, now);
    }

    /// Takes ready instance `id` out of the balancer to finish what it holds: it stops once it
    /// holds nothing, or at the end of the drain timeout with whatever it still holds.
    pub(super) fn drain(&mut self, id: InstanceId, now: SimTime, s: &mut Scheduler<Event>) {
        let service = self.instances[id].service;
        let svc = &mut self.services[service.index()];
        let balancer = &mut svc.routing.balancer;
        svc.fleet.begin_draining(id, &mut self.instances, balancer);
        if !self.stop_if_drained(id, now) {
            let timeout = self.variant.model.services[service.index()]
                .lifecycle
                .drain_timeout;
            s.schedule_at(
                now + timeout,
                Event::DrainDeadline {
                    instance: self.instances.reference(id),
                },
            );
        }
    }

    /// Stops a draining instance if it holds nothing more. Returns whether it stopped.
    pub(super) fn stop_if_drained(&mut self, id: InstanceId, now: SimTime) -> bool {
        let inst = &self.instances[id];
        if inst.phase != Phase::Draining || !inst.is_idle() {
            return false;
        }
        self.stop(id, now);
        true
    }

    /// The grace period is over: whatever the instance still holds fails as `killed`.
    pub(super) fn drain_deadline(
        &mut self,
        id: InstanceId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        if self.instances[id].phase != Phase::Draining {
            return;
        }
        let victims = self.held_by(id);
        self.stop(id, now);
        self.fail_all(victims, Outcome::Killed, now, s);
    }

    /// A ready instance went over its memory limit: its process is killed with everything it
    /// held, and restarts (after the kubelet's crash back-off) through start-up and readiness.
    pub(super) fn oom_kill(&mut self, id: InstanceId, now: SimTime, s: &mut Scheduler<Event>) {
        let inst = &mut self.instances[id];
        // Ten minutes of serving since the last restart forgives earlier crashes.
        let since_ready = inst.ready_at.map_or(SimDuration::ZERO, |t| now.since(t));
        if since_ready >= CRASH_STREAK_RESET {
            inst.crash_streak = 0;
        }
        let backoff = crash_backoff(inst.crash_streak);
        inst.crash_streak += 1;
        inst.oom_kills += 1;
        self.services[inst.service.index()].counters.oom_kills += 1;
        self.restart(id, now + backoff, Outcome::OomKilled, now, s);
    }

    /// Ready instance `id`'s process dies at `now`, and what it held fails with `outcome`;
    /// it starts again at `process_start`, and is ready after start-up and readiness.
    pub(super) fn restart(
        &mut self,
        id: InstanceId,
        process_start: SimTime,
        outcome: Outcome,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let victims = self.held_by(id);
        self.caches.process_restarted(id);
        let service = self.instances[id].service;
        let lifecycle = self.variant.model.services[service.index()].lifecycle;
        let svc = &mut self.services[service.index()];
        let balancer = &mut svc.routing.balancer;
        svc.fleet
            .restart(id, process_start, &mut self.instances, balancer, now);
        s.schedule_at(
            process_start + lifecycle.startup + lifecycle.readiness,
            Event::InstanceReady {
                instance: self.instances.reference(id),
            },
        );
        self.fail_all(victims, outcome, now, s);
    }
}
