//! Spot capacity: instances the cloud may take back at any time. Each spot instance gets an
//! exponential lifetime at launch (interruptions are a Poisson process per instance-hour, as
//! the "frequency of interruption" AWS publishes), drawn from the service's own stream so other
//! randomness is untouched.
//!
//! With a notice (AWS gives two minutes), the instance is drained and replaced at the warning,
//! as a node termination handler does; whatever it still holds when the time is up fails as
//! `interrupted`. Without one, it vanishes with its requests and the group replaces it then.

use super::billing::Billing;
use super::instances::InstanceArena;
use super::{Event, Simulation};
use crate::components::cost::SpotSpec;
use crate::components::instance::Instance;
use crate::components::lifecycle::Phase;
use crate::ids::{InstanceId, InstanceRef};
use crate::kernel::{Scheduler, SimDuration, SimTime, Stream};
use crate::metrics::Outcome;
use rand_distr::{Distribution, Exp1};

/// Buys capacity for `inst` at `now` and stores it: on the spot market beyond the reservation's
/// cover if the service runs on spot (its interruption drawn and scheduled then), else on
/// demand. It is billed from `now`.
pub(super) fn buy_capacity(
    mut inst: Instance,
    billing: &mut Billing,
    instances: &mut InstanceArena,
    now: SimTime,
    s: &mut Scheduler<Event>,
) -> InstanceId {
    let spot = billing.spot_for_next();
    inst.spot = spot.is_some();
    let id = instances.insert(inst);
    if let Some((sp, rng)) = spot {
        let due = schedule_interruption(instances.reference(id), &sp, now, rng, s);
        instances[id].interruption_due = due;
    }
    billing.changed(1, instances[id].spot, now);
    id
}

/// Draws when spot instance `instance`, launched at `now`, will be interrupted, and schedules
/// it (and its notice). Returns whether it did (a lifetime beyond any run is not scheduled).
fn schedule_interruption(
    instance: InstanceRef,
    spot: &SpotSpec,
    now: SimTime,
    rng: &mut Stream,
    s: &mut Scheduler<Event>,
) -> bool {
    if spot.interruptions_per_hour <= 0.0 {
        return false;
    }
    let draw: f64 = Exp1.sample(rng);
    let lifetime_s = draw * 3600.0 / spot.interruptions_per_hour;
    // Beyond any run anyone simulates; also keeps the conversion to nanoseconds in range.
    if lifetime_s > 1e9 {
        return false;
    }
    // At least a nanosecond, so time always moves on between a launch and its interruption.
    let lifetime = SimDuration::from_secs_f64(lifetime_s).max(SimDuration::from_nanos(1));
    let at = now + lifetime;
    // A notice needs time to give: an instance taken back sooner than the notice period gets
    // none (its replacement is launched when it goes, never at its own launch instant).
    if !spot.notice.is_zero() && lifetime > spot.notice {
        s.schedule_at(
            SimTime::from_nanos(at.as_nanos() - spot.notice.as_nanos()),
            Event::SpotNotice { instance },
        );
    }
    s.schedule_at(at, Event::SpotInterruption { instance });
    true
}

impl Simulation<'_> {
    /// The warning: stop sending it work, let it finish what it can, start a replacement.
    pub(super) fn spot_notice(&mut self, id: InstanceId, now: SimTime, s: &mut Scheduler<Event>) {
        let inst = &mut self.instances[id];
        let service = inst.service;
        match inst.phase {
            Phase::Ready => {
                inst.spot_notified = true;
                self.launch(service, now, s);
                // Drained as any removed instance: killed at the grace period's end if the
                // interruption has not come first.
                self.drain(id, now, s);
            }
            Phase::Starting => {
                inst.spot_notified = true;
                self.stop(id, now);
                self.launch(service, now, s);
            }
            // Leaving anyway, or gone.
            Phase::Draining | Phase::Stopped => {}
        }
    }

    /// The cloud takes the instance back now.
    pub(super) fn spot_interruption(
        &mut self,
        id: InstanceId,
        now: SimTime,
        s: &mut Scheduler<Event>,
    ) {
        let inst = &mut self.instances[id];
        inst.interruption_due = false;
        let service = inst.service;
        // Replaced at the notice if it got one; otherwise now.
        let warned = inst.spot_notified;
        let phase = inst.phase;
        // It counts if it was serving or starting when the notice (or the interruption) came,
        // not if it had been scaled in before the cloud wanted it back.
        if warned || matches!(phase, Phase::Ready | Phase::Starting) {
            self.services[service.index()].counters.spot_interruptions += 1;
        }
        if phase == Phase::Stopped {
            return;
        }
        let victims = self.held_by(id);
        // Gone at once, with what it holds failing below.
        self.stop(id, now);
        if !warned && phase != Phase::Draining {
            self.launch(service, now, s);
        }
        self.fail_all(victims, Outcome::Interrupted, now, s);
    }
}
