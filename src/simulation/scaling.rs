//! Changing a service's replica count while it runs: new instances go through provisioning,
//! start-up and readiness before the balancer sees them; removed instances leave the balancer
//! at once, finish what they hold, and are killed at the drain deadline.
//!
//! Which instance goes first on scale-down follows the Kubernetes ReplicaSet's ranking, in
//! short: instances not yet ready before ready ones, and newer before older.

use super::observe::ScalingAction;
use super::request::{ANSWERED, SERVER_DONE};
use super::{Event, Simulation};
use crate::autoscaler::Policy;
use crate::autoscaler::hpa::{Pod, PodPhase, Sample};
use crate::autoscaler::hpa_controller::HpaSpec;
use crate::autoscaler::threshold::Datapoint;
use crate::components::instance::Instance;
use crate::components::lifecycle::Phase;
use crate::kernel::{Scheduler, SimDuration, SimTime};
use crate::metrics::Outcome;

/// Monotonic counters of a service, read once per policy period; a datapoint is the difference
/// between two readings, as a monitoring agent computes rates from counters.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counters {
    busy_core_ns: u128,
    ready_core_ns: u128,
    waiting_ns: u128,
    ok_count: u64,
    ok_latency_ns: u128,
}

impl Simulation<'_> {
    /// Reads the service's counters at `now`.
    fn counters(&mut self, service: u32, now: SimTime) -> Counters {
        let mut c = Counters::default();
        for inst in self.instances.iter_mut().filter(|i| i.service == service) {
            let end = inst.stopped_at.unwrap_or(now);
            c.busy_core_ns += inst.stats.busy_cores.lifetime_area(end);
            c.waiting_ns += inst.stats.queue_length.lifetime_area(end);
        }
        let svc = &mut self.services[service as usize];
        c.ready_core_ns = svc.ready_cores.lifetime_area(now);
        c.ok_count = svc.ok_count;
        c.ok_latency_ns = svc.ok_latency_ns;
        c
    }

    /// The policy of `service` looks at what it may see and may scale.
    pub(super) fn evaluate_policy(&mut self, service: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let spec = &self.variant.model.services[service as usize];
        let Some(policy_spec) = spec.autoscaler.as_ref() else {
            return;
        };
        s.schedule_in(
            SimDuration::from_secs_f64(policy_spec.period_s()),
            Event::Evaluate { service },
        );
        // Taken out while it decides, so it can look at the simulation's state.
        let Some(mut policy) = self.services[service as usize].policy.take() else {
            return;
        };
        let current = self.services[service as usize].desired;
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
        };
        self.services[service as usize].policy = Some(policy);
        if let Some((replicas, reason)) = decision {
            self.scale_to(service, replicas, &reason, now, s);
        }
    }

    /// The threshold policy's datapoint for the period ending now: differences of counters.
    fn datapoint(&mut self, service: u32, now: SimTime) -> Datapoint {
        let now_counters = self.counters(service, now);
        let cores = f64::from(
            self.variant.model.services[service as usize]
                .instance
                .cores
                .max(1),
        );
        let svc = &mut self.services[service as usize];
        let last = std::mem::replace(&mut svc.last_counters, now_counters);
        let ready_core_ns = (now_counters.ready_core_ns - last.ready_core_ns) as f64;
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let ok = now_counters.ok_count - last.ok_count;
        Datapoint {
            cpu: ratio(
                (now_counters.busy_core_ns - last.busy_core_ns) as f64,
                ready_core_ns,
            ),
            queue_length: ratio(
                (now_counters.waiting_ns - last.waiting_ns) as f64,
                ready_core_ns / cores,
            ),
            response_time_s: (ok > 0).then(|| {
                (now_counters.ok_latency_ns - last.ok_latency_ns) as f64 / ok as f64 / 1e9
            }),
        }
    }

    /// A metrics scraper reads every ready instance of `service`, as metrics-server reads
    /// kubelets at its resolution.
    pub(super) fn scrape(&mut self, service: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let Some(interval) = self.variant.model.services[service as usize]
            .autoscaler
            .as_ref()
            .and_then(|a| a.scrape_interval_s())
        else {
            return;
        };
        for &id in &self.services[service as usize].ready {
            self.instances[id as usize].scrape(now);
        }
        s.schedule_in(
            SimDuration::from_secs_f64(interval),
            Event::Scrape { service },
        );
    }

    /// The service's pods as the HPA controller lists them: provisioning instances are Pending,
    /// starting ones Running but not ready, draining ones being deleted; samples are the
    /// scraper's latest, with their age. The initial fleet has been running for an hour.
    fn pods(&self, service: u32, now: SimTime, spec: &HpaSpec) -> Vec<Pod> {
        let lifecycle = self.variant.model.services[service as usize].lifecycle;
        let since = |t: SimTime| now.since(t).as_secs_f64();
        let mut pods = Vec::new();
        for (k, inst) in self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, i)| i.service == service)
        {
            let initial = inst.initial;
            let started_at = inst.created_at + lifecycle.provisioning;
            let started_s_ago = if initial {
                Some(since(SimTime::ZERO) + 3600.0)
            } else {
                (now >= started_at).then(|| since(started_at))
            };
            let mut pod =
                Pod::running(&format!("pod-{k}"), 0.0).with_request("cpu", spec.cpu_request_milli);
            pod.started_s_ago = started_s_ago;
            match inst.phase {
                Phase::Stopped => continue,
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
                                "requests_per_second" => sample.rps_milli,
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
        service: u32,
        target: u32,
        reason: &str,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let spec = &self.variant.model.services[service as usize];
        let svc = &mut self.services[service as usize];
        let current = (svc.ready.len() + svc.starting.len()) as u32;
        if target == svc.desired && target == current {
            return;
        }
        self.actions.push(ScalingAction {
            t_s: now.as_secs_f64(),
            service: spec.name.clone(),
            from: svc.desired,
            to: target,
            reason: reason.to_string(),
        });
        svc.desired = target;
        if target > current {
            for _ in current..target {
                let id = self.instances.len() as u32;
                self.instances
                    .push(Instance::new(service, &spec.instance, Phase::Starting, now));
                self.services[service as usize].starting.push(id);
                self.billing_changed(service, 1, now);
                s.schedule_at(
                    now + spec.lifecycle.time_to_ready(),
                    Event::InstanceReady { instance: id },
                );
            }
        } else {
            for _ in target..current {
                let svc = &mut self.services[service as usize];
                if let Some(id) = svc.starting.pop() {
                    // Never served: it just stops (its pending ready event finds it stopped).
                    self.instances[id as usize].stop(now);
                    self.billing_changed(service, -1, now);
                } else if let Some(id) = svc.ready.pop() {
                    svc.draining += 1;
                    // Its cores stay in the utilisation denominator until it stops: it is
                    // still working off what it holds.
                    self.instances[id as usize].phase = Phase::Draining;
                    if !self.stop_if_drained(id, now) {
                        s.schedule_at(
                            now + spec.lifecycle.drain_timeout,
                            Event::DrainDeadline { instance: id },
                        );
                    }
                }
            }
        }
    }

    /// A starting instance has passed its readiness delay.
    pub(super) fn instance_ready(&mut self, id: u32, now: SimTime) {
        let inst = &mut self.instances[id as usize];
        if inst.phase != Phase::Starting {
            return; // removed before it was ready
        }
        inst.become_ready(now);
        let cores = i64::from(inst.cores());
        let svc = &mut self.services[inst.service as usize];
        svc.starting.retain(|&i| i != id);
        svc.ready.push(id);
        svc.ready_cores.add(now, cores);
    }

    /// One more (+1) or one fewer (-1) instance of `service` is billed from `now`.
    fn billing_changed(&mut self, service: u32, delta: i64, now: SimTime) {
        let reserved = self.variant.model.services[service as usize]
            .cost
            .as_ref()
            .map_or(0, |c| i64::from(c.reserved));
        let svc = &mut self.services[service as usize];
        svc.billed.add(now, delta);
        svc.billed_over_reserved
            .set(now, (svc.billed.level() - reserved).max(0));
    }

    /// Stops a draining instance: its cores leave the utilisation denominator and its bill.
    fn retire(&mut self, id: u32, now: SimTime) {
        let inst = &mut self.instances[id as usize];
        let cores = i64::from(inst.cores());
        inst.stop(now);
        let service = inst.service;
        let svc = &mut self.services[service as usize];
        svc.draining -= 1;
        svc.ready_cores.add(now, -cores);
        self.billing_changed(service, -1, now);
    }

    /// Stops a draining instance if it holds nothing more. Returns whether it stopped.
    pub(super) fn stop_if_drained(&mut self, id: u32, now: SimTime) -> bool {
        let inst = &mut self.instances[id as usize];
        if inst.phase != Phase::Draining || !inst.is_idle() {
            return false;
        }
        self.retire(id, now);
        true
    }

    /// The grace period is over: whatever the instance still holds fails as `killed`.
    pub(super) fn drain_deadline(&mut self, id: u32, now: SimTime, s: &mut Scheduler<Event>) {
        if self.instances[id as usize].phase != Phase::Draining {
            return;
        }
        // Rare (once per removed instance), so a scan of the slab is fine here.
        let victims: Vec<u32> = self
            .requests
            .live_slots()
            .filter(|&slot| {
                let r = self.requests.get(slot);
                r.instance == id && r.flags & SERVER_DONE == 0
            })
            .collect();
        self.retire(id, now);
        for slot in victims {
            self.requests.get_mut(slot).flags |= SERVER_DONE;
            if self.requests.get(slot).flags & ANSWERED != 0 {
                // The client already gave up; only the server side was left.
                self.requests.remove(slot);
            } else {
                self.answer(slot, Outcome::Killed, now, s);
            }
        }
    }
}
