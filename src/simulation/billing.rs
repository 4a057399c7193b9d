//! What a service's instances cost: how many are billed over time (from the request for an
//! instance until it stops, provisioning included), how many of those the reservation covers
//! and how many run on spot capacity, the prices in force, and the spend at earlier prices
//! since the warm-up (a resize to another type changes prices mid-run).

use super::observe::ServiceCost;
use crate::components::cost::{CostSpec, SpotSpec};
use crate::components::service::ServiceSpec;
use crate::kernel::{SimTime, Stream};
use crate::metrics::TimeAverage;

/// A service's bill.
#[derive(Debug)]
pub(super) struct Billing {
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
    spot: Option<SpotSpec>,
    spot_rng: Stream,
}

impl Billing {
    /// The bill of `spec`, with nothing billed yet; `spot_rng` draws spot interruptions.
    pub(super) fn new(spec: &ServiceSpec, spot_rng: Stream) -> Billing {
        let started = || {
            let mut t = TimeAverage::default();
            t.start(SimTime::ZERO);
            t
        };
        let cost = spec.cost.as_ref();
        let instance_type = cost.map_or(String::new(), |c| c.instance_type.clone());
        let spot = cost.and_then(|c| c.spot);
        let reserved = cost.map_or(0, |c| c.reserved);
        Billing {
            billed: started(),
            billed_over_reserved: started(),
            billed_spot: started(),
            coverage: reserved,
            reserved,
            reserved_type: instance_type.clone(),
            instance_type,
            on_demand_per_hour: cost.map_or(0.0, |c| c.on_demand_per_hour),
            spot_per_hour: spot.map_or(0.0, |sp| sp.price_per_hour),
            spend_usd: 0.0,
            spot,
            spot_rng,
        }
    }

    /// The spot market the next instance is bought on, and its draws: beyond the
    /// reservation's cover, a service with spot capacity buys it there. `None`: on demand.
    pub(super) fn spot_for_next(&mut self) -> Option<(SpotSpec, &mut Stream)> {
        let spot = self.spot?;
        (self.billed.level() >= i64::from(self.coverage)).then_some((spot, &mut self.spot_rng))
    }

    /// One more (+1) or one fewer (-1) instance, on spot capacity or not, is billed from
    /// `now`.
    pub(super) fn changed(&mut self, delta: i64, spot: bool, now: SimTime) {
        self.billed.add(now, delta);
        if spot {
            self.billed_spot.add(now, delta);
        }
        self.set_over_reserved(now);
    }

    fn set_over_reserved(&mut self, now: SimTime) {
        let over = (self.billed.level() - i64::from(self.coverage)).max(0);
        self.billed_over_reserved.set(now, over);
    }

    /// The instances are billed at `cost`'s prices from `now`. Spend at the old prices is
    /// banked; a reservation for another type no longer covers any instance (it is still
    /// paid, as reservations are), so those instances are billed on demand until the service
    /// returns to the reserved type.
    pub(super) fn reprice(&mut self, cost: &CostSpec, now: SimTime) {
        self.spend_usd += self.spend_since_reset(now);
        self.billed_over_reserved.reset(now);
        self.billed_spot.reset(now);
        // The reservation covers its own type only: leaving it stops the cover, coming back to
        // it restores it.
        self.coverage = if cost.instance_type == self.reserved_type {
            self.reserved
        } else {
            0
        };
        self.set_over_reserved(now);
        self.instance_type = cost.instance_type.clone();
        self.on_demand_per_hour = cost.on_demand_per_hour;
        if let Some(sp) = cost.spot {
            self.spot_per_hour = sp.price_per_hour;
        }
    }

    /// USD spent beyond the reservation since the last reset of the billing levels: spot
    /// instance-hours at the spot price, the other instance-hours beyond the reservation on
    /// demand.
    fn spend_since_reset(&mut self, now: SimTime) -> f64 {
        let over_h = self.billed_over_reserved.area(now) as f64 / 3600e9;
        let spot_h = self.billed_spot.area(now) as f64 / 3600e9;
        spot_h * self.spot_per_hour + (over_h - spot_h).max(0.0) * self.on_demand_per_hour
    }

    /// The warm-up is over: the bill starts at `mark`.
    pub(super) fn reset(&mut self, mark: SimTime) {
        self.billed.reset(mark);
        self.billed_over_reserved.reset(mark);
        self.billed_spot.reset(mark);
        self.spend_usd = 0.0;
    }

    /// The bill for the measured window `(from, horizon)` under `cost` (the file's, for the
    /// reservation): spend at earlier prices (before a resize to another type), plus the
    /// current price on the instance-hours since, plus the reservation.
    pub(super) fn cost(&mut self, cost: &CostSpec, window: (SimTime, SimTime)) -> ServiceCost {
        let (from, horizon) = window;
        let hours = horizon.since(from).as_nanos().max(1) as f64 / 3600e9;
        let usd = f64::from(cost.reserved) * cost.reserved_per_hour * hours
            + self.spend_usd
            + self.spend_since_reset(horizon);
        ServiceCost {
            instance_type: self.instance_type.clone(),
            reserved: cost.reserved,
            usd,
            usd_per_hour: usd / hours,
        }
    }
}
