//! Vertical scaling and the other scheduled actions. A resize gives the service a new instance
//! shape (cores, workers, memory, limits, and maybe a new type and price); every ready instance
//! restarts into it (a VM stopped, resized and booted; a pod recreated), dropping what it held
//! as `killed` and coming back after provisioning, start-up and readiness. `recreate` restarts
//! them all at once, so the service is down for the restart; `rolling` restarts one at a time,
//! each when the previous one should be back.

use super::observe::ScalingAction;
use super::{Event, Simulation};
use crate::components::lifecycle::Phase;
use crate::ids::{InstanceId, ServiceId};
use crate::kernel::{Scheduler, SimDuration, SimTime};
use crate::metrics::Outcome;

impl Simulation<'_> {
    /// Scheduled action `action` of `service` is due.
    pub(super) fn scheduled(
        &mut self,
        service: ServiceId,
        action: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let spec = &self.variant.model.services[service.index()];
        let a = &spec.schedule[action as usize];
        if let Some(r) = &a.resize {
            let svc = &mut self.services[service.index()];
            svc.fleet.resize(r.instance.clone());
            if let Some(c) = &r.cost {
                svc.billing.reprice(c, now);
            }
            let fleet = &self.services[service.index()].fleet;
            let label = |cores: u32| {
                let memory = r
                    .instance
                    .memory
                    .and_then(|m| m.limit_bytes)
                    .map_or(String::new(), |b| format!(", {} MiB", b >> 20));
                let ty = r
                    .cost
                    .as_ref()
                    .map_or(String::new(), |c| format!(" ({})", c.instance_type));
                format!("{cores} cores{memory}{ty}")
            };
            self.actions.push(ScalingAction {
                t_s: now.as_secs_f64(),
                service: spec.name.clone(),
                from: fleet.desired(),
                to: fleet.desired(),
                reason: format!(
                    "scheduled resize to {}, {}",
                    label(r.instance.cores),
                    if r.rolling {
                        "one instance at a time"
                    } else {
                        "all instances at once"
                    }
                ),
            });
            let step = if r.rolling {
                spec.lifecycle.time_to_ready()
            } else {
                SimDuration::ZERO
            };
            for (k, &id) in fleet.ready().iter().enumerate() {
                // One nanosecond past the previous one's return, so it is back first.
                let k = k as u64;
                let delay = SimDuration::from_nanos(
                    (step.as_nanos().saturating_add(u64::from(r.rolling))).saturating_mul(k),
                );
                let instance = self.instances.reference(id);
                s.schedule_at(now + delay, Event::Resize { instance });
            }
        }
        if let Some(replicas) = a.replicas {
            self.scale_to(service, replicas, "scheduled action", now, s);
        }
    }

    /// A ready instance restarts to take its service's current shape.
    pub(super) fn restart_to_resize(
        &mut self,
        id: InstanceId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let inst = &self.instances[id];
        let svc = &self.services[inst.service.index()];
        if inst.phase != Phase::Ready || inst.shape_version == svc.fleet.shape_version() {
            // Removed, crashed (it comes back in the new shape) or already resized.
            return;
        }
        let provisioning = self.variant.model.services[inst.service.index()]
            .lifecycle
            .provisioning;
        self.restart(id, now + provisioning, Outcome::Killed, now, s);
    }
}
