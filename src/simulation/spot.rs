//! Spot capacity: instances the cloud may take back at any time. Each spot instance gets an
//! exponential lifetime at launch (interruptions are a Poisson process per instance-hour, as
//! the "frequency of interruption" AWS publishes), drawn from the service's own stream so other
//! randomness is untouched.
//!
//! With a notice (AWS gives two minutes), the instance is drained and replaced at the warning,
//! as a node termination handler does; whatever it still holds when the time is up fails as
//! `interrupted`. Without one, it vanishes with its requests and the group replaces it then.

use super::{Event, Simulation};
use crate::components::cost::SpotSpec;
use crate::components::lifecycle::Phase;
use crate::kernel::{Scheduler, SimDuration, SimTime, Stream};
use crate::metrics::Outcome;
use rand_distr::{Distribution, Exp1};

/// Draws when spot instance `id`, launched at `now`, will be interrupted, and schedules it
/// (and its notice).
pub(super) fn schedule_interruption(
    id: u32,
    spot: &SpotSpec,
    now: SimTime,
    rng: &mut Stream,
    s: &mut Scheduler<Event>,
) {
    if spot.interruptions_per_hour <= 0.0 {
        return;
    }
    let draw: f64 = Exp1.sample(rng);
    let lifetime_s = draw * 3600.0 / spot.interruptions_per_hour;
    // Beyond any run anyone simulates; also keeps the conversion to nanoseconds in range.
    if lifetime_s > 1e9 {
        return;
    }
    // At least a nanosecond, so time always moves on between a launch and its interruption.
    let lifetime = SimDuration::from_secs_f64(lifetime_s).max(SimDuration::from_nanos(1));
    let at = now + lifetime;
    // A notice needs time to give: an instance taken back sooner than the notice period gets
    // none (its replacement is launched when it goes, never at its own launch instant).
    if !spot.notice.is_zero() && lifetime > spot.notice {
        s.schedule_at(
            SimTime::from_nanos(at.as_nanos() - spot.notice.as_nanos()),
            Event::SpotNotice { instance: id },
        );
    }
    s.schedule_at(at, Event::SpotInterruption { instance: id });
}

impl Simulation<'_> {
    /// The warning: stop sending it work, let it finish what it can, start a replacement.
    pub(super) fn spot_notice(&mut self, id: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let service = self.instances[id as usize].service;
        if matches!(
            self.instances[id as usize].phase,
            Phase::Ready | Phase::Starting
        ) {
            self.instances[id as usize].spot_notified = true;
        }
        match self.instances[id as usize].phase {
            Phase::Ready => {
                let svc = &mut self.services[service as usize];
                svc.remove_ready(id, &self.instances);
                svc.draining.push(id);
                self.instances[id as usize].phase = Phase::Draining;
                self.launch(service, now, s);
                if !self.stop_if_drained(id, now) {
                    // Drained as any removed instance: killed at the grace period's end if the
                    // interruption has not come first.
                    let grace = self.variant.model.services[service as usize]
                        .lifecycle
                        .drain_timeout;
                    s.schedule_at(now + grace, Event::DrainDeadline { instance: id });
                }
            }
            Phase::Starting => {
                self.remove_starting(id, now);
                self.launch(service, now, s);
            }
            // Leaving anyway, or gone.
            Phase::Draining | Phase::Stopped => {}
        }
    }

    /// The cloud takes the instance back now.
    pub(super) fn spot_interruption(&mut self, id: u32, now: SimTime, s: &mut Scheduler<Event>) {
        let inst = &self.instances[id as usize];
        let service = inst.service;
        // Replaced at the notice if it got one; otherwise now.
        let warned = inst.spot_notified;
        let phase = inst.phase;
        // It counts if it was serving or starting when the notice (or the interruption) came,
        // not if it had been scaled in before the cloud wanted it back.
        if inst.spot_notified || matches!(phase, Phase::Ready | Phase::Starting) {
            self.services[service as usize].spot_interruptions += 1;
        }
        if phase == Phase::Stopped {
            return;
        }
        let victims = self.held_by(id);
        match phase {
            Phase::Draining => self.retire(id, now),
            Phase::Ready => {
                // Gone at once: as a drained instance is, with what it holds failing below.
                let svc = &mut self.services[service as usize];
                svc.remove_ready(id, &self.instances);
                svc.draining.push(id);
                self.retire(id, now);
                if !warned {
                    self.launch(service, now, s);
                }
            }
            Phase::Starting => {
                self.remove_starting(id, now);
                if !warned {
                    self.launch(service, now, s);
                }
            }
            Phase::Stopped => {}
        }
        self.fail_all(victims, Outcome::Interrupted, now, s);
    }
}
