//! Renewal arrivals: the gaps between an open client's requests are independent draws from one
//! distribution (`"interarrival"`), so "10ms" is a request every 10 ms, a gamma is smoother
//! than Poisson and a hyperexponential mixture burstier.
//!
//! The process starts in equilibrium, as if it had been running for ever before time zero: the
//! first gap has the excess (forward-recurrence) distribution, density (1 - F(x)) / E[X],
//! drawn as U * L with U uniform on (0, 1) and L length-biased. So the arrival rate is 1 / E[X]
//! from the first instant, the expected count in [0, t) is exactly t / E[X], and two clients
//! with the same constant gap do not arrive in lock-step.

use crate::distribution::{Dist, DistError};
use rand::{Rng, RngExt};

/// A validated inter-arrival distribution: a finite, positive mean.
#[derive(Debug, Clone)]
pub struct Renewal {
    gap: Dist,
    mean_gap: f64,
}

impl Renewal {
    /// Gaps drawn from `gap`, whose mean must be finite and positive (a zero mean would send
    /// infinitely often at one instant).
    pub fn new(gap: Dist) -> Result<Self, DistError> {
        match gap.mean() {
            Some(mean_gap) if mean_gap.is_finite() && mean_gap > 0.0 => {
                Ok(Renewal { gap, mean_gap })
            }
            Some(m) => Err(DistError(format!(
                "the mean time between arrivals must be positive, got {m}"
            ))),
            None => Err(DistError(
                "the time between arrivals needs a finite mean".into(),
            )),
        }
    }

    /// The distribution of the gaps.
    pub fn gap(&self) -> &Dist {
        &self.gap
    }

    /// The mean gap, seconds.
    pub fn mean_gap(&self) -> f64 {
        self.mean_gap
    }

    /// Arrivals per second in the long run (and, starting in equilibrium, from the start).
    pub fn rate(&self) -> f64 {
        1.0 / self.mean_gap
    }

    /// Expected arrivals in [0, horizon) seconds: exactly horizon / E[X] in equilibrium.
    pub fn expected_arrivals(&self, horizon: f64) -> f64 {
        horizon.max(0.0) / self.mean_gap
    }

    /// The time from zero to the first arrival: a uniform fraction of a length-biased gap.
    pub fn first_gap<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let u: f64 = rng.random();
        match self.gap.sample_length_biased(rng) {
            Some(l) => u * l,
            // `new` refused an infinite mean, the only case without a length-biased form.
            None => self.gap.sample(rng),
        }
    }

    /// The time from one arrival to the next.
    #[inline]
    pub fn next_gap<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.gap.sample(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::stream;

    #[test]
    fn zero_and_infinite_means_are_refused() {
        assert!(Renewal::new(Dist::constant(0.0).unwrap()).is_err());
        assert!(Renewal::new(Dist::pareto(1.0, 1.0).unwrap()).is_err());
        assert!(Renewal::new(Dist::constant(0.01).unwrap()).is_ok());
    }

    /// Excess distribution: E[first gap] = E[X^2] / (2 E[X]) (renewal theory). For a constant
    /// c that is c / 2 with the first gap uniform on [0, c); for an exponential it is the mean
    /// itself (memoryless); for H2 it is E[X^2] / (2 E[X]) with E[X^2] = 2 sum p_i m_i^2. The
    /// tolerance is 5 standard errors from the sample's own spread.
    #[test]
    fn the_first_gap_has_the_excess_distributions_mean() {
        let h2 = Dist::mixture(vec![
            (0.9, Dist::exponential(0.01).unwrap()),
            (0.1, Dist::exponential(0.19).unwrap()),
        ])
        .unwrap();
        for gap in [
            Dist::constant(0.01).unwrap(),
            Dist::exponential(0.02).unwrap(),
            Dist::gamma(4.0, 0.0025).unwrap(),
            h2,
        ] {
            let r = Renewal::new(gap.clone()).unwrap();
            let (m, v) = (gap.mean().unwrap(), gap.variance().unwrap());
            let expected = (v + m * m) / (2.0 * m);
            let n = 200_000;
            let mut rng = stream(3, 0, "t", "arrivals");
            let draws: Vec<f64> = (0..n).map(|_| r.first_gap(&mut rng)).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let sd = (draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            let tol = 5.0 * sd / (n as f64).sqrt();
            assert!(
                (mean - expected).abs() < tol,
                "{gap:?}: first gap {mean} vs E[X^2]/(2E[X]) = {expected} +- {tol}"
            );
        }
    }

    #[test]
    fn a_constant_gap_spaces_arrivals_exactly_after_a_uniform_phase() {
        let r = Renewal::new(Dist::constant(0.01).unwrap()).unwrap();
        let mut rng = stream(5, 0, "t", "arrivals");
        let first = r.first_gap(&mut rng);
        assert!((0.0..0.01).contains(&first));
        assert_eq!(r.next_gap(&mut rng), 0.01);
        assert!((r.expected_arrivals(2.0) - 200.0).abs() < 1e-9);
    }
}
