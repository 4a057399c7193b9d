//! Vertical scaling and the other scheduled actions. A resize gives the service a new instance
//! shape (cores, workers, memory, limits, and maybe a new type and price); every ready instance
//! restarts into it (a VM stopped, resized and booted; a pod recreated), dropping what it held
//! as `killed` and coming back after provisioning, start-up and readiness. `recreate` restarts
//! them all at once, so the service is down for the restart; `rolling` restarts one at a time,
//! each when the previous one should be back.

use super::observe::ScalingAction;
use super::{Event, Simulation};
use crate::components::cost::CostSpec;
use crate::components::lifecycle::Phase;
use crate::kernel::{Scheduler, SimDuration, SimTime};
use crate::metrics::Outcome;

impl Simulation<'_> {
    /// Scheduled action `action` of `service` is due.
    pub(super) fn scheduled(
        &mut self,
        service: u32,
        action: u32,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let spec = &self.variant.model.services[service as usize];
        let a = &spec.schedule[action as usize];
        if let Some(r) = &a.resize {
            let svc = &mut self.services[service as usize];
            svc.shape = r.instance.clone();
            svc.shape_version += 1;
            if let Some(c) = &r.cost {
                self.reprice(service, c, now);
            }
            let svc = &self.services[service as usize];
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
                from: svc.desired,
                to: svc.desired,
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
            for (k, &id) in svc.ready.iter().enumerate() {
                // One nanosecond past the previous one's return, so it is back first.
                let k = k as u64;
                let delay = SimDuration::from_nanos(
                    (step.as_nanos().saturating_add(u64::from(r.rolling))).saturating_mul(k),
                );
                s.schedule_at(now + delay, Event::Resize { instance: id });
            }
        }
        if let Some(replicas) = a.replicas {
            self.scale_to(service, replicas, "scheduled action", now, s);
        }
    }

    /// A ready instance restarts to take its service's current shape.
    pub(super) fn restart_to_resize(&mut self, id: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let inst = &self.instances[id as usize];
        let svc = &self.services[inst.service as usize];
        if inst.phase != Phase::Ready || inst.shape_version == svc.shape_version {
            // Removed, crashed (it comes back in the new shape) or already resized.
            return;
        }
        let lifecycle = self.variant.model.services[inst.service as usize].lifecycle;
        let victims = self.held_by(id);
        self.take_out_of_service(id, now);
        self.instances[id as usize].restart(now, now + lifecycle.provisioning);
        s.schedule_at(
            now + lifecycle.time_to_ready(),
            Event::InstanceReady { instance: id },
        );
        self.fail_all(victims, Outcome::Killed, now, s);
    }

    /// The service's instances are billed at `cost`'s prices from `now`. Spend at the old
    /// prices is banked; a reservation for another type no longer covers any instance (it is
    /// still paid, as reservations are), so those instances are billed on demand until the
    /// service returns to the reserved type.
    fn reprice(&mut self, service: u32, cost: &CostSpec, now: SimTime) {
        let svc = &mut self.services[service as usize];
        svc.spend_usd += spend_since_reset(svc, now);
        svc.billed_over_reserved.reset(now);
        svc.billed_spot.reset(now);
        // The reservation covers its own type only: leaving it stops the cover, coming back to
        // it restores it.
        svc.coverage = if cost.instance_type == svc.reserved_type {
            svc.reserved
        } else {
            0
        };
        let over = (svc.billed.level() - i64::from(svc.coverage)).max(0);
        svc.billed_over_reserved.set(now, over);
        svc.instance_type = cost.instance_type.clone();
        svc.on_demand_per_hour = cost.on_demand_per_hour;
        if let Some(sp) = cost.spot {
            svc.spot_per_hour = sp.price_per_hour;
        }
    }
}

/// USD spent beyond the reservation since the last reset of the billing levels: spot
/// instance-hours at the spot price, the other instance-hours beyond the reservation on demand.
pub(super) fn spend_since_reset(svc: &mut super::ServiceState, now: SimTime) -> f64 {
    let over_h = svc.billed_over_reserved.area(now) as f64 / 3600e9;
    let spot_h = svc.billed_spot.area(now) as f64 / 3600e9;
    spot_h * svc.spot_per_hour + (over_h - spot_h).max(0.0) * svc.on_demand_per_hour
}
