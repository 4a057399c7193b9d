//! Arrival-rate profiles (requests per second over time) and the arrival process of an open
//! client: non-homogeneous Poisson arrivals drawn from a profile by thinning (Lewis and
//! Shedler, 1979), where candidates come at the profile's local maximum rate and each is kept
//! with probability rate(t) / max; or a renewal process (`renewal.rs`) whose gaps are
//! independent draws from one distribution.
//!
//! Profiles are piecewise, so the bound is taken per piece; a constant piece needs no thinning
//! draw at all, which makes a constant-rate client exactly a Poisson process at full speed.

use super::renewal::Renewal;
use rand::Rng;
use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use std::sync::Arc;

/// How a piecewise profile goes between its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// Straight lines.
    Linear,
    /// Each point's rate holds until the next point.
    Step,
}

/// A rate profile. Times are seconds from the start of the run; rates are requests/s.
#[derive(Debug, Clone)]
pub enum RateProfile {
    /// Rates at points; before the first point the first rate holds, after the last the last.
    Piecewise {
        times: Vec<f64>,
        rates: Vec<f64>,
        interpolation: Interpolation,
    },
    /// mean * (1 + amplitude * cos(2 pi (t - peak_at) / period)).
    Diurnal {
        mean: f64,
        amplitude: f64,
        period: f64,
        peak_at: f64,
    },
    /// The sum of several profiles.
    Sum(Vec<RateProfile>),
    /// The product of several profiles: a baseline times a multiplier (an event that brings
    /// ten times the traffic of that hour).
    Product(Vec<RateProfile>),
}

/// An upper bound on the rate over [t, until).
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// The largest rate on the interval.
    pub max_rate: f64,
    /// Where the interval ends (may be infinite).
    pub until: f64,
    /// True if the rate is exactly `max_rate` throughout, so no thinning is needed.
    pub exact: bool,
}

/// Pieces per diurnal period. Piece edges fall on the peak and the trough, so the cosine is
/// monotone within a piece and its bound is the larger endpoint.
const DIURNAL_PIECES: f64 = 48.0;

impl RateProfile {
    /// A constant rate.
    pub fn constant(rps: f64) -> Self {
        RateProfile::Piecewise {
            times: vec![0.0],
            rates: vec![rps],
            interpolation: Interpolation::Step,
        }
    }

    /// An upper bound on the rate at any time.
    pub fn max_rate(&self) -> f64 {
        match self {
            RateProfile::Piecewise { rates, .. } => rates.iter().copied().fold(0.0, f64::max),
            RateProfile::Diurnal {
                mean, amplitude, ..
            } => mean * (1.0 + amplitude),
            RateProfile::Sum(parts) => parts.iter().map(RateProfile::max_rate).sum(),
            RateProfile::Product(parts) => parts.iter().map(RateProfile::max_rate).product(),
        }
    }

    /// The rate at `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        match self {
            RateProfile::Piecewise {
                times,
                rates,
                interpolation,
            } => {
                let i = times.partition_point(|&x| x <= t);
                if i == 0 {
                    return rates[0];
                }
                if i == times.len() {
                    return rates[i - 1];
                }
                match interpolation {
                    Interpolation::Step => rates[i - 1],
                    Interpolation::Linear => {
                        let (t0, t1) = (times[i - 1], times[i]);
                        let (r0, r1) = (rates[i - 1], rates[i]);
                        if t1 <= t0 {
                            r1
                        } else {
                            r0 + (r1 - r0) * (t - t0) / (t1 - t0)
                        }
                    }
                }
            }
            RateProfile::Diurnal {
                mean,
                amplitude,
                period,
                peak_at,
            } => {
                let phase = 2.0 * std::f64::consts::PI * (t - peak_at) / period;
                (mean * (1.0 + amplitude * libm::cos(phase))).max(0.0)
            }
            RateProfile::Sum(parts) => parts.iter().map(|p| p.rate_at(t)).sum(),
            RateProfile::Product(parts) => parts.iter().map(|p| p.rate_at(t)).product(),
        }
    }

    /// A bound on the rate from `t` until the next change of shape.
    pub fn bound(&self, t: f64) -> Bound {
        match self {
            RateProfile::Piecewise {
                times,
                rates,
                interpolation,
            } => {
                let i = times.partition_point(|&x| x <= t);
                if i == 0 {
                    return Bound {
                        max_rate: rates[0],
                        until: times[0],
                        exact: true,
                    };
                }
                if i == times.len() {
                    return Bound {
                        max_rate: rates[i - 1],
                        until: f64::INFINITY,
                        exact: true,
                    };
                }
                let (r0, r1) = (rates[i - 1], rates[i]);
                match interpolation {
                    Interpolation::Step => Bound {
                        max_rate: r0,
                        until: times[i],
                        exact: true,
                    },
                    Interpolation::Linear => Bound {
                        max_rate: r0.max(r1),
                        until: times[i],
                        exact: r0 == r1,
                    },
                }
            }
            RateProfile::Diurnal {
                amplitude,
                period,
                peak_at,
                ..
            } => {
                let piece = period / DIURNAL_PIECES;
                let k = ((t - peak_at) / piece).floor() + 1.0;
                let mut until = peak_at + k * piece;
                if until <= t {
                    // Rounding put t on the far edge; move on so the piece is never empty.
                    until += piece;
                }
                let max_rate = self.rate_at(until - piece).max(self.rate_at(until));
                Bound {
                    max_rate,
                    until,
                    exact: *amplitude == 0.0,
                }
            }
            RateProfile::Sum(parts) => {
                let mut b = Bound {
                    max_rate: 0.0,
                    until: f64::INFINITY,
                    exact: true,
                };
                for p in parts {
                    let pb = p.bound(t);
                    b.max_rate += pb.max_rate;
                    b.until = b.until.min(pb.until);
                    b.exact &= pb.exact;
                }
                b
            }
            RateProfile::Product(parts) => {
                // Rates are never negative, so the product of bounds bounds the product.
                let mut b = Bound {
                    max_rate: 1.0,
                    until: f64::INFINITY,
                    exact: true,
                };
                for p in parts {
                    let pb = p.bound(t);
                    b.max_rate *= pb.max_rate;
                    b.until = b.until.min(pb.until);
                    b.exact &= pb.exact;
                }
                b
            }
        }
    }

    /// How many pieces (intervals of one thinning bound) the profile has before `horizon`,
    /// or `None` if more than `cap`: the arrival process and [`Self::expected_arrivals`]
    /// walk them one by one, so a profile of billions (a diurnal period of nanoseconds) would
    /// never finish.
    pub fn pieces_before(&self, horizon: f64, cap: u64) -> Option<u64> {
        let (mut t, mut n) = (0.0, 0u64);
        while t < horizon {
            n += 1;
            if n > cap {
                return None;
            }
            let until = self.bound(t).until;
            if until <= t {
                break;
            }
            t = until;
        }
        Some(n)
    }

    /// Expected arrivals in [0, horizon) seconds: two-point Gauss-Legendre on each piece,
    /// exact for piecewise-linear profiles and never evaluated on a piece's edges (where a
    /// step jumps), within 1e-5 relative for diurnal pieces.
    pub fn expected_arrivals(&self, horizon: f64) -> f64 {
        const NODE: f64 = 0.577_350_269_189_625_8; // 1/sqrt(3)
        let mut total = 0.0;
        let mut t = 0.0;
        while t < horizon {
            let b = self.bound(t);
            let end = b.until.min(horizon);
            let end = if end <= t { horizon } else { end };
            let (mid, half) = ((t + end) / 2.0, (end - t) / 2.0);
            total += half * (self.rate_at(mid - half * NODE) + self.rate_at(mid + half * NODE));
            t = end;
        }
        total
    }
}

/// How an open client's arrivals are spaced.
#[derive(Debug, Clone)]
pub enum Arrivals {
    /// Non-homogeneous Poisson with this profile (`"rate"`).
    Poisson(Arc<RateProfile>),
    /// A renewal process with these gaps (`"interarrival"`).
    Renewal(Arc<Renewal>),
}

impl Arrivals {
    /// Expected arrivals in [0, horizon) seconds: the profile's integral, or horizon over the
    /// mean gap (exact, as the renewal process starts in equilibrium).
    pub fn expected_arrivals(&self, horizon: f64) -> f64 {
        match self {
            Arrivals::Poisson(profile) => profile.expected_arrivals(horizon),
            Arrivals::Renewal(renewal) => renewal.expected_arrivals(horizon),
        }
    }

    /// The rate profile, for Poisson arrivals.
    pub fn profile(&self) -> Option<&RateProfile> {
        match self {
            Arrivals::Poisson(profile) => Some(profile),
            Arrivals::Renewal(_) => None,
        }
    }
}

/// Draws the arrival instants of an open client, in order.
#[derive(Debug, Clone)]
pub struct ArrivalProcess {
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Poisson {
        profile: Arc<RateProfile>,
        thinning: Thinning,
    },
    Renewal {
        renewal: Arc<Renewal>,
        /// The previous arrival, seconds; `None` before the first.
        last: Option<f64>,
    },
}

impl ArrivalProcess {
    /// Starts at time zero.
    pub fn new(arrivals: &Arrivals) -> Self {
        let state = match arrivals {
            Arrivals::Poisson(profile) => State::Poisson {
                thinning: Thinning::new(profile),
                profile: Arc::clone(profile),
            },
            Arrivals::Renewal(renewal) => State::Renewal {
                renewal: Arc::clone(renewal),
                last: None,
            },
        };
        ArrivalProcess { state }
    }

    /// The next arrival after the previous one, in seconds, or `None` if it would fall after
    /// `horizon` (or a profile's rate stays zero for ever).
    ///
    /// Cost: Poisson, an exponential draw per thinning candidate (and a uniform on pieces
    /// that are not constant); renewal, one draw from the gap distribution (the first arrival,
    /// a few).
    #[inline]
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R, horizon: f64) -> Option<f64> {
        match &mut self.state {
            State::Poisson { profile, thinning } => thinning.next(profile, rng, horizon),
            State::Renewal { renewal, last } => {
                let t = match *last {
                    Some(prev) if prev > horizon => return None,
                    Some(prev) => prev + renewal.next_gap(rng),
                    None => renewal.first_gap(rng),
                };
                *last = Some(t);
                (t <= horizon).then_some(t)
            }
        }
    }
}

/// Thinning's place in a profile: the last candidate and the current piece's bound.
#[derive(Debug, Clone)]
struct Thinning {
    t: f64,
    bound: Bound,
}

impl Thinning {
    fn new(profile: &RateProfile) -> Self {
        Thinning {
            t: 0.0,
            bound: profile.bound(0.0),
        }
    }

    /// The next arrival of a non-homogeneous Poisson process with this profile.
    ///
    /// Cost: one exponential draw per candidate, plus one uniform draw when the piece is not
    /// constant; candidates per arrival average max_rate / mean rate over the piece.
    #[inline]
    fn next<R: Rng + ?Sized>(
        &mut self,
        profile: &RateProfile,
        rng: &mut R,
        horizon: f64,
    ) -> Option<f64> {
        loop {
            if self.t > horizon {
                return None;
            }
            let b = self.bound;
            if b.max_rate <= 0.0 {
                if !b.until.is_finite() {
                    return None;
                }
                self.advance_piece(profile, b.until);
                continue;
            }
            let gap: f64 = Exp1.sample(rng);
            let candidate = self.t + gap / b.max_rate;
            if candidate >= b.until {
                // Memoryless: restart the draw at the edge of the piece with its new bound.
                self.advance_piece(profile, b.until);
                continue;
            }
            self.t = candidate;
            if candidate > horizon {
                return None;
            }
            if b.exact || rng.random::<f64>() * b.max_rate <= profile.rate_at(candidate) {
                return Some(candidate);
            }
        }
    }

    fn advance_piece(&mut self, profile: &RateProfile, until: f64) {
        self.t = until;
        self.bound = profile.bound(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Dist;
    use crate::kernel::stream;

    fn poisson(profile: &RateProfile) -> ArrivalProcess {
        ArrivalProcess::new(&Arrivals::Poisson(Arc::new(profile.clone())))
    }

    fn count(profile: &RateProfile, from: f64, to: f64, seed: u64) -> usize {
        let mut p = poisson(profile);
        let mut rng = stream(seed, 0, "t", "arrivals");
        let mut n = 0;
        while let Some(t) = p.next(&mut rng, to) {
            if t >= from {
                n += 1;
            }
        }
        n
    }

    /// A Poisson count has variance equal to its mean; 5 standard deviations of slack.
    fn assert_poisson_count(n: usize, expected: f64) {
        let tol = 5.0 * expected.sqrt();
        assert!(
            (n as f64 - expected).abs() < tol,
            "count {n}, expected {expected:.0} +- {tol:.0}"
        );
    }

    #[test]
    fn constant_rate_gives_poisson_counts() {
        let p = RateProfile::constant(100.0);
        assert_poisson_count(count(&p, 0.0, 1000.0, 1), 100_000.0);
    }

    #[test]
    fn linear_ramp_counts_match_the_integral() {
        let p = RateProfile::Piecewise {
            times: vec![0.0, 100.0],
            rates: vec![10.0, 1000.0],
            interpolation: Interpolation::Linear,
        };
        // Integral over [0,100] = 100 * (10 + 1000) / 2; then 1000/s for 100 s more.
        assert_poisson_count(count(&p, 0.0, 100.0, 2), 50_500.0);
        assert!((p.expected_arrivals(200.0) - 150_500.0).abs() < 1e-6);
    }

    #[test]
    fn diurnal_counts_match_the_integral_and_the_bound_holds() {
        let p = RateProfile::Diurnal {
            mean: 50.0,
            amplitude: 0.8,
            period: 3600.0,
            peak_at: 900.0,
        };
        // Over whole periods the cosine integrates to zero.
        assert_poisson_count(count(&p, 0.0, 7200.0, 3), 50.0 * 7200.0);
        let mut t = 0.0;
        while t < 7200.0 {
            let b = p.bound(t);
            for k in 0..20 {
                let x = t + (b.until - t) * k as f64 / 20.0;
                assert!(p.rate_at(x) <= b.max_rate + 1e-9, "rate above bound at {x}");
            }
            t = b.until;
        }
    }

    #[test]
    fn zero_rate_pieces_are_skipped() {
        let p = RateProfile::Piecewise {
            times: vec![0.0, 10.0, 20.0],
            rates: vec![0.0, 500.0, 0.0],
            interpolation: Interpolation::Step,
        };
        let mut proc_ = poisson(&p);
        let mut rng = stream(4, 0, "t", "a");
        let first = proc_.next(&mut rng, 100.0).unwrap();
        assert!((10.0..20.0).contains(&first));
        assert_poisson_count(count(&p, 0.0, 100.0, 5), 5000.0);
    }

    /// A renewal count N(t) is asymptotically normal with mean t / m and variance
    /// t sigma^2 / m^3 (the renewal central limit theorem; m, sigma^2 the gap's mean and
    /// variance). H2 gaps, SCV 5.5 here: 5 standard deviations of slack.
    #[test]
    fn renewal_counts_follow_the_renewal_clt() {
        let gap = Dist::mixture(vec![
            (0.9, Dist::exponential(0.005).unwrap()),
            (0.1, Dist::exponential(0.055).unwrap()),
        ])
        .unwrap();
        let (m, v) = (gap.mean().unwrap(), gap.variance().unwrap());
        let arrivals = Arrivals::Renewal(Arc::new(Renewal::new(gap).unwrap()));
        let horizon = 1000.0;
        let mut p = ArrivalProcess::new(&arrivals);
        let mut rng = stream(6, 0, "t", "arrivals");
        let (mut n, mut prev) = (0u64, 0.0);
        while let Some(t) = p.next(&mut rng, horizon) {
            assert!(
                t >= prev && t <= horizon,
                "arrivals in order, within the run"
            );
            (n, prev) = (n + 1, t);
        }
        assert!(p.next(&mut rng, horizon).is_none(), "and none after it");
        let expected = arrivals.expected_arrivals(horizon);
        assert!((expected - horizon / m).abs() < 1e-9);
        let tol = 5.0 * (horizon * v / m.powi(3)).sqrt();
        assert!(
            (n as f64 - expected).abs() < tol,
            "count {n}, expected {expected:.0} +- {tol:.0}"
        );
    }
}
