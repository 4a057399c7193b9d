//! Health checks and the faults that give them work: probes of each live instance, the
//! verdicts that take instances out of rotation and put them back, outlier ejection on
//! failed answers, crash faults, and the error faults that fail requests as they start. See
//! `components/health.rs` for the model.

use super::{Event, Simulation};
use crate::components::lifecycle::Phase;
use crate::components::service::FaultKind;
use crate::ids::{InstanceId, ServiceId};
use crate::kernel::{RequestRng, Scheduler, SimTime, keyed_seed};
use crate::metrics::Outcome;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The draw key of an error fault's verdict on a request (its own, so no other draw moves).
const ERROR_FAULT_KEY: u64 = 0x6661_756c_7465_7272; // "faulterr"

/// What a service's health checks did over the whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthSummary {
    /// Probes sent, and those that failed (refused, or unanswered within the timeout).
    pub probes: u64,
    pub probes_failed: u64,
    /// Times an instance was taken out of rotation by failed probes, and put back.
    pub marked_unhealthy: u64,
    pub marked_healthy: u64,
    /// Times an instance was ejected for failed answers (passive checks).
    pub ejections: u64,
    /// Requests sent to an instance whose process was down (refused: `crashed`).
    pub refused: u64,
}

impl Simulation<'_> {
    /// Every live instance of `service` (starting or ready; a draining one has left the
    /// balancer already) is probed: a ready one that is not hung answers at once; a dead or
    /// starting process refuses at once; a hung one's probe fails when its timeout passes.
    pub(super) fn probe(&mut self, service: ServiceId, now: SimTime, s: &mut Scheduler<Event>) {
        let spec = &self.variant.model.services[service.index()];
        let Some(check) = spec.health.active else {
            return;
        };
        let fleet = &self.services[service.index()].fleet;
        let live: Vec<InstanceId> = fleet
            .ready()
            .iter()
            .chain(fleet.starting())
            .copied()
            .collect();
        let mut changed = false;
        for id in live {
            self.services[service.index()].counters.health.probes += 1;
            let inst = &self.instances[id];
            let hung = spec
                .faults
                .iter()
                .any(|f| f.kind == FaultKind::Hang && f.hits(inst.ordinal, now));
            if inst.phase == Phase::Ready && hung {
                s.schedule_in(
                    check.timeout,
                    Event::ProbeTimedOut {
                        instance: self.instances.reference(id),
                    },
                );
            } else {
                changed |= self.verdict(id, inst.phase == Phase::Ready);
            }
        }
        if changed {
            self.rotate(service);
        }
        s.schedule_in(check.interval, Event::Probe { service });
    }

    /// A probe of a hung instance went unanswered.
    pub(super) fn probe_timed_out(
        &mut self,
        id: InstanceId,
        _now: SimTime,
        _s: &mut Scheduler<Event>,
    ) {
        if self.instances[id].phase == Phase::Stopped {
            return;
        }
        if self.verdict(id, false) {
            self.rotate(self.instances[id].service);
        }
    }

    /// One probe's verdict on `id`; whether the checker's belief changed.
    fn verdict(&mut self, id: InstanceId, passed: bool) -> bool {
        let inst = &mut self.instances[id];
        let service = inst.service.index();
        let Some(check) = self.variant.model.services[service].health.active else {
            return false;
        };
        let counters = &mut self.services[service].counters.health;
        if passed {
            inst.probe_streak = inst.probe_streak.max(0) + 1;
            if !inst.passing && inst.probe_streak >= check.healthy as i32 {
                inst.passing = true;
                counters.marked_healthy += 1;
                return true;
            }
        } else {
            counters.probes_failed += 1;
            inst.probe_streak = inst.probe_streak.min(0) - 1;
            if inst.passing && -inst.probe_streak >= check.unhealthy as i32 {
                inst.passing = false;
                counters.marked_unhealthy += 1;
                return true;
            }
        }
        false
    }

    /// The balancer's candidates are recomputed for what the checks now believe.
    fn rotate(&mut self, service: ServiceId) {
        let svc = &mut self.services[service.index()];
        svc.fleet.rotate(&self.instances, &mut svc.routing.balancer);
    }

    /// A request sent to `id` ended there, `ok` or not (a refusal, an error, a call to it
    /// that timed out): passive checks count failed answers in a row, and eject the instance
    /// at the threshold while few enough others are ejected.
    pub(super) fn answered(
        &mut self,
        id: InstanceId,
        ok: bool,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let service = self.instances[id].service;
        let Some(outlier) = self.variant.model.services[service.index()].health.passive else {
            return;
        };
        let inst = &mut self.instances[id];
        if ok {
            inst.error_streak = 0;
            return;
        }
        inst.error_streak += 1;
        if inst.ejected || inst.error_streak < outlier.consecutive_errors {
            return;
        }
        let fleet = &self.services[service.index()].fleet;
        let live = fleet.ready().len() + fleet.starting().len();
        let ejected = fleet
            .ready()
            .iter()
            .chain(fleet.starting())
            .filter(|&&i| self.instances[i].ejected)
            .count();
        let cap = ((live as f64 * outlier.max_ejected) as usize).max(1);
        if ejected >= cap {
            return;
        }
        let inst = &mut self.instances[id];
        inst.ejected = true;
        inst.error_streak = 0;
        self.services[service.index()].counters.health.ejections += 1;
        self.rotate(service);
        s.schedule_at(
            now + outlier.eject_for,
            Event::Readmit {
                instance: self.instances.reference(id),
            },
        );
    }

    /// An ejection has run its time: the instance is back in rotation.
    pub(super) fn readmit(&mut self, id: InstanceId, _now: SimTime, _s: &mut Scheduler<Event>) {
        let inst = &mut self.instances[id];
        if !inst.ejected || inst.phase == Phase::Stopped {
            return;
        }
        // Answers that failed while it was out (calls sent before the ejection, timing out
        // after it) do not count against its return.
        inst.ejected = false;
        inst.error_streak = 0;
        let service = inst.service;
        self.rotate(service);
    }

    /// A crash fault strikes: every ready instance it hits dies with what it holds and
    /// starts again `lasts` later.
    pub(super) fn crash(
        &mut self,
        service: ServiceId,
        fault: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let f = self.variant.model.services[service.index()].faults[fault as usize];
        let victims: Vec<InstanceId> = self.services[service.index()]
            .fleet
            .ready()
            .iter()
            .copied()
            .filter(|&id| f.covers(self.instances[id].ordinal))
            .collect();
        for id in victims {
            self.restart(id, now + f.lasts, Outcome::Crashed, now, s);
        }
    }

    /// A ready instance's next failure at random, drawn from its service's MTBF.
    pub(super) fn schedule_failure(
        &mut self,
        id: InstanceId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let service = self.instances[id].service.index();
        let Some(spec) = self.variant.model.services[service].failures else {
            return;
        };
        let rng = self.services[service]
            .failure_rng
            .as_mut()
            .expect("a failure stream");
        let after = exponential(rng, spec.mtbf);
        s.schedule_at(
            now + after,
            Event::Failure {
                instance: self.instances.reference(id),
                restarts: self.instances[id].restarts,
            },
        );
    }

    /// A failure at random strikes `id`, unless it has restarted since it was drawn: the
    /// process dies with what it holds and starts again after a repair time drawn from the
    /// service's MTTR.
    pub(super) fn fail_at_random(
        &mut self,
        id: InstanceId,
        restarts: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let inst = &self.instances[id];
        if inst.phase != Phase::Ready || inst.restarts != restarts {
            return;
        }
        let service = inst.service.index();
        let spec = self.variant.model.services[service]
            .failures
            .expect("a service with failures");
        let svc = &mut self.services[service];
        svc.counters.failures += 1;
        let rng = svc.failure_rng.as_mut().expect("a failure stream");
        let repair = exponential(rng, spec.mttr);
        self.restart(id, now + repair, Outcome::Crashed, now, s);
    }

    /// Whether an error fault on `instance` fails the request of `seed` starting there now.
    #[inline]
    pub(super) fn fails_by_fault(&self, instance: InstanceId, seed: u64, now: SimTime) -> bool {
        let inst = &self.instances[instance];
        let faults = &self.variant.model.services[inst.service.index()].faults;
        faults.iter().any(|f| match f.kind {
            FaultKind::Errors { rate } if f.hits(inst.ordinal, now) => {
                let u: f64 = RequestRng::new(keyed_seed(seed, ERROR_FAULT_KEY)).random();
                u < rate
            }
            _ => false,
        })
    }
}

/// An exponential time of mean `mean`, by inversion.
pub(super) fn exponential(
    rng: &mut crate::kernel::Stream,
    mean: crate::kernel::SimDuration,
) -> crate::kernel::SimDuration {
    let u: f64 = rng.random();
    crate::kernel::SimDuration::from_secs_f64(-(1.0 - u).ln() * mean.as_secs_f64())
}
