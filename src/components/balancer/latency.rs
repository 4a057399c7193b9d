//! What latency-aware balancers know of each candidate: a peak-sensitive estimate of the
//! response times it returns (Finagle's and linkerd's peak EWMA), and the cost they rank
//! candidates by: that estimate times its open requests plus one, so a candidate that answers
//! fast but already holds many requests is not flooded.
//!
//! The estimate decays towards zero between answers with time constant `decay` (as Finagle's
//! does each time it is read), so an instance avoided for being slow is tried again; an answer
//! slower than the decayed estimate replaces it (the peak); a faster one pulls it down by
//! `1 - exp(-dt / decay)`, `dt` the time since the previous answer. Every candidate's cost
//! decays by the same factor `exp(-t / decay)`, so costs are ranked by their logarithms with
//! that common term dropped: `ln(estimate) + at / decay + ln(open + 1)`, which keeps the
//! ranking exact without touching idle candidates, and a tree of them valid between their own
//! changes.

use crate::components::instance::Instance;
use crate::ids::InstanceId;
use crate::kernel::{SimDuration, SimTime};

/// One candidate's estimate.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    /// Nanoseconds as of `at`; 0 until its first answer.
    ns: f64,
    /// When it last changed.
    at: SimTime,
}

/// Each instance slot's estimate while it is a candidate.
#[derive(Debug, Default)]
pub(super) struct Latencies {
    estimates: Vec<Option<Estimate>>,
    /// The time constant in nanoseconds.
    decay_ns: f64,
}

/// A floor under estimates (1 us): an estimate of zero has no logarithm.
const FLOOR_NS: f64 = 1e3;

/// The cost of a candidate that has not answered yet but holds a request: it waits for its
/// first answer before it gets another (Finagle's penalty for an unmeasured busy endpoint).
const PENALTY: u64 = u64::MAX - 1;

impl Latencies {
    pub(super) fn new(decay: SimDuration) -> Self {
        Latencies {
            estimates: Vec::new(),
            decay_ns: decay.as_nanos().max(1) as f64,
        }
    }

    /// The candidates changed: those that stay keep their estimates, new ones (and a slot
    /// reused by a new instance) start with none. O(n + slots).
    pub(super) fn rebuild(&mut self, candidates: &[InstanceId], slots: usize) {
        let mut estimates = vec![None; slots];
        for c in candidates {
            let old = self.estimates.get(c.index()).copied().flatten();
            let fresh = Estimate {
                ns: 0.0,
                at: SimTime::ZERO,
            };
            estimates[c.index()] = Some(old.unwrap_or(fresh));
        }
        self.estimates = estimates;
    }

    /// A candidate answered a request after `latency`. O(1); non-candidates are ignored.
    #[inline]
    pub(super) fn responded(&mut self, instance: InstanceId, latency: SimDuration, now: SimTime) {
        let Some(Some(e)) = self.estimates.get_mut(instance.index()) else {
            return;
        };
        let rtt = latency.as_nanos() as f64;
        let w = (-(now.since(e.at).as_nanos() as f64) / self.decay_ns).exp();
        let decayed = e.ns * w;
        e.ns = if rtt >= decayed {
            rtt
        } else {
            decayed * w + rtt * (1.0 - w)
        };
        e.at = now;
    }

    /// The cost of sending `instance` one more request, as an integer that orders as the
    /// decayed costs do (see the module's note).
    #[inline]
    pub(super) fn cost(&self, instance: InstanceId, instances: &[Instance]) -> u64 {
        // A non-candidate (one draining, or gone) costs as a new one: its cost is asked for
        // only when its load changes, and no tree holds it.
        let e = self
            .estimates
            .get(instance.index())
            .copied()
            .flatten()
            .unwrap_or(Estimate {
                ns: 0.0,
                at: SimTime::ZERO,
            });
        let open = instances[instance.index()].open_requests();
        if e.ns == 0.0 && open > 0 {
            return PENALTY;
        }
        let log = (e.ns + FLOOR_NS).ln()
            + e.at.as_nanos() as f64 / self.decay_ns
            + f64::from(open).ln_1p();
        ordered(log)
    }
}

/// `x`'s place in the order of finite floats, as an unsigned integer below [`PENALTY`].
fn ordered(x: f64) -> u64 {
    let bits = x.to_bits();
    if x >= 0.0 { bits | (1 << 63) } else { !bits }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::instance::{InstanceSpec, Runtime};
    use crate::components::lifecycle::Phase;
    use crate::ids::ServiceId;

    /// The ranking by logarithms with the common decay dropped is the ranking of the decayed
    /// costs themselves, and the estimate moves as the module says: up to a slower answer at
    /// once, down towards faster ones, towards zero while idle.
    #[test]
    fn costs_rank_as_the_decayed_estimates_do() {
        let spec = InstanceSpec::plain(1, Runtime::ThreadPool);
        let instances: Vec<Instance> = (0..2)
            .map(|_| Instance::new(ServiceId(0), &spec, Phase::Ready, SimTime::ZERO))
            .collect();
        let ids = [InstanceId::from_index(0), InstanceId::from_index(1)];
        let mut l = Latencies::new(SimDuration::from_secs(10));
        l.rebuild(&ids, 2);
        let ms = |x: u64| SimDuration::from_millis(x);
        let at = |s: u64| SimTime::ZERO + SimDuration::from_secs(s);
        // Instance 0 answered in 100 ms at 1 s; instance 1 in 20 ms at 20 s.
        l.responded(ids[0], ms(100), at(1));
        l.responded(ids[1], ms(20), at(20));
        // At 20 s instance 0's estimate has decayed to 100 e^-1.9 = 15 ms: it is cheaper.
        assert!(l.cost(ids[0], &instances) < l.cost(ids[1], &instances));
        // A slower answer replaces the estimate at once.
        l.responded(ids[0], ms(300), at(20));
        assert_eq!(l.estimates[0].unwrap().ns, 300e6);
        assert!(l.cost(ids[0], &instances) > l.cost(ids[1], &instances));
        // A faster one a second later pulls it part of the way: 300 e^-0.2 mixed with 10.
        l.responded(ids[0], ms(10), at(21));
        let w = (-0.1f64).exp();
        let want = 300e6 * w * w + 10e6 * (1.0 - w);
        assert!((l.estimates[0].unwrap().ns - want).abs() < 1.0);
    }
}
