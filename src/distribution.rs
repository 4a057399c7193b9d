//! Probability distributions for durations (service times, think times) and sizes.
//!
//! A [`Dist`] is built once from the config and sampled on the hot path: a plain enum matched
//! per draw, no boxing. Values are in base units: seconds for durations, bytes for sizes.

use crate::kernel::SimDuration;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1, Gamma, LogNormal, Pareto, StandardNormal};

/// A validated distribution over non-negative values in base units.
#[derive(Debug, Clone)]
pub enum Dist {
    /// Always `value`.
    Constant(f64),
    /// Exponential with the given mean.
    Exponential { mean: f64 },
    /// Uniform on [min, max].
    Uniform { min: f64, max: f64 },
    /// Normal truncated at zero (negative draws are redrawn, so the shape above zero is kept).
    Normal { mean: f64, std_dev: f64 },
    /// Log-normal: ln X ~ N(mu, sigma^2).
    LogNormal {
        mu: f64,
        sigma: f64,
        sampler: LogNormal<f64>,
    },
    /// Gamma with shape k and scale theta (mean k * theta).
    Gamma {
        shape: f64,
        scale: f64,
        sampler: Gamma<f64>,
    },
    /// Pareto (type I) with minimum `scale` and tail index `shape`.
    Pareto {
        scale: f64,
        shape: f64,
        sampler: Pareto<f64>,
    },
    /// One of the listed values, chosen with the given cumulative weights (last = 1).
    Empirical {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

/// Why a distribution's parameters are impossible. The config layer adds file and path.
#[derive(Debug, Clone, PartialEq)]
pub struct DistError(pub String);

/// z such that P(N(0,1) <= z) = 0.99.
const Z_99: f64 = 2.326_347_874_040_841;

impl Dist {
    /// A constant.
    pub fn constant(value: f64) -> Result<Dist, DistError> {
        check_non_negative("value", value)?;
        Ok(Dist::Constant(value))
    }

    /// Exponential by its mean.
    pub fn exponential(mean: f64) -> Result<Dist, DistError> {
        check_positive("mean", mean)?;
        Ok(Dist::Exponential { mean })
    }

    /// Uniform between `min` and `max`.
    pub fn uniform(min: f64, max: f64) -> Result<Dist, DistError> {
        check_non_negative("min", min)?;
        check_non_negative("max", max)?;
        if max < min {
            return Err(DistError(format!(
                "`max` ({max}) must not be below `min` ({min})"
            )));
        }
        Ok(Dist::Uniform { min, max })
    }

    /// Normal truncated at zero. The mean must be positive so that at least half the draws
    /// are accepted.
    pub fn normal(mean: f64, std_dev: f64) -> Result<Dist, DistError> {
        check_positive("mean", mean)?;
        check_non_negative("std_dev", std_dev)?;
        Ok(Dist::Normal { mean, std_dev })
    }

    /// Log-normal from the parameters of ln X.
    pub fn lognormal_mu_sigma(mu: f64, sigma: f64) -> Result<Dist, DistError> {
        if !mu.is_finite() {
            return Err(DistError(format!("`mu` must be a finite number, got {mu}")));
        }
        check_non_negative("sigma", sigma)?;
        LogNormal::new(mu, sigma)
            .map(|sampler| Dist::LogNormal { mu, sigma, sampler })
            .map_err(|e| DistError(format!("invalid log-normal: {e}")))
    }

    /// Log-normal with the given mean and 99th percentile: solves
    /// ln p99 = mu + z sigma and ln mean = mu + sigma^2 / 2 for the smaller sigma.
    pub fn lognormal_mean_p99(mean: f64, p99: f64) -> Result<Dist, DistError> {
        check_positive("mean", mean)?;
        check_positive("p99", p99)?;
        let gap = (p99 / mean).ln();
        if gap <= 0.0 {
            return Err(DistError(format!(
                "a log-normal's p99 ({p99}) must be above its mean ({mean})"
            )));
        }
        // sigma^2/2 - z sigma + gap = 0
        let disc = Z_99 * Z_99 - 2.0 * gap;
        if disc < 0.0 {
            return Err(DistError(format!(
                "no log-normal has p99/mean = {:.2}; the largest possible ratio is {:.2}",
                p99 / mean,
                (Z_99 * Z_99 / 2.0).exp()
            )));
        }
        let sigma = Z_99 - disc.sqrt();
        let mu = mean.ln() - sigma * sigma / 2.0;
        Dist::lognormal_mu_sigma(mu, sigma)
    }

    /// Gamma by shape and scale.
    pub fn gamma(shape: f64, scale: f64) -> Result<Dist, DistError> {
        check_positive("shape", shape)?;
        check_positive("scale", scale)?;
        Gamma::new(shape, scale)
            .map(|sampler| Dist::Gamma {
                shape,
                scale,
                sampler,
            })
            .map_err(|e| DistError(format!("invalid gamma: {e}")))
    }

    /// Pareto by minimum (`scale`) and tail index (`shape`).
    pub fn pareto(scale: f64, shape: f64) -> Result<Dist, DistError> {
        check_positive("scale", scale)?;
        check_positive("shape", shape)?;
        Pareto::new(scale, shape)
            .map(|sampler| Dist::Pareto {
                scale,
                shape,
                sampler,
            })
            .map_err(|e| DistError(format!("invalid Pareto: {e}")))
    }

    /// An empirical distribution: `values` with optional `weights` (equal if absent).
    pub fn empirical(values: Vec<f64>, weights: Option<Vec<f64>>) -> Result<Dist, DistError> {
        if values.is_empty() {
            return Err(DistError("`values` must hold at least one value".into()));
        }
        for v in &values {
            check_non_negative("values[]", *v)?;
        }
        let weights = weights.unwrap_or_else(|| vec![1.0; values.len()]);
        if weights.len() != values.len() {
            return Err(DistError(format!(
                "`weights` has {} entries but `values` has {}",
                weights.len(),
                values.len()
            )));
        }
        let mut cumulative = Vec::with_capacity(weights.len());
        let mut total = 0.0;
        for w in &weights {
            check_non_negative("weights[]", *w)?;
            total += w;
            cumulative.push(total);
        }
        if total <= 0.0 {
            return Err(DistError("`weights` must not all be zero".into()));
        }
        if !total.is_finite() {
            return Err(DistError(
                "`weights` add up to more than a number can hold; weights are relative, so scale them down (e.g. to fractions or counts)".into(),
            ));
        }
        for c in &mut cumulative {
            *c /= total;
        }
        Ok(Dist::Empirical { values, cumulative })
    }

    /// Draws one value.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Normal { mean, std_dev } => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = mean + std_dev * z;
                if x >= 0.0 {
                    break x;
                }
            },
            Dist::LogNormal { sampler, .. } => sampler.sample(rng),
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Pareto { sampler, .. } => sampler.sample(rng),
            Dist::Empirical { values, cumulative } => {
                let u: f64 = rng.random();
                let i = cumulative
                    .partition_point(|&c| c <= u)
                    .min(values.len() - 1);
                values[i]
            }
        }
    }

    /// Draws one duration (the distribution is in seconds).
    #[inline]
    pub fn sample_duration<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match self {
            // Constant durations skip the float round trip.
            Dist::Constant(v) => SimDuration::from_secs_f64(*v),
            _ => SimDuration::from_secs_f64(self.sample(rng)),
        }
    }

    /// The exact mean, where it is finite (Pareto with shape <= 1 has none).
    pub fn mean(&self) -> Option<f64> {
        match self {
            Dist::Constant(v) => Some(*v),
            Dist::Exponential { mean } => Some(*mean),
            Dist::Uniform { min, max } => Some((min + max) / 2.0),
            Dist::Normal { mean, std_dev } => {
                if *std_dev == 0.0 {
                    return Some(*mean);
                }
                // Mean of a normal truncated below at zero: mu + sigma * phi(a) / (1 - Phi(a)),
                // a = -mu/sigma.
                let a = -mean / std_dev;
                let phi = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
                let tail = 0.5 * statrs::function::erf::erfc(a / std::f64::consts::SQRT_2);
                Some(mean + std_dev * phi / tail)
            }
            Dist::LogNormal { mu, sigma, .. } => Some((mu + sigma * sigma / 2.0).exp()),
            Dist::Gamma { shape, scale, .. } => Some(shape * scale),
            Dist::Pareto { scale, shape, .. } => {
                (*shape > 1.0).then(|| shape * scale / (shape - 1.0))
            }
            Dist::Empirical { values, cumulative } => {
                let mut prev = 0.0;
                let mut m = 0.0;
                for (v, c) in values.iter().zip(cumulative) {
                    m += v * (c - prev);
                    prev = *c;
                }
                Some(m)
            }
        }
    }
}

fn check_positive(name: &str, v: f64) -> Result<(), DistError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(DistError(format!(
            "`{name}` must be a positive number, got {v}"
        )))
    }
}

fn check_non_negative(name: &str, v: f64) -> Result<(), DistError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(DistError(format!("`{name}` must be zero or more, got {v}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::stream;

    /// Sample mean of n draws against the exact mean; the tolerance is 5 standard errors
    /// (sigma/sqrt(n)), so a correct sampler fails about once in 3.5 million runs.
    fn check_mean(d: &Dist, sd: f64) {
        let n = 200_000;
        let mut rng = stream(7, 0, "test", "dist");
        let sum: f64 = (0..n).map(|_| d.sample(&mut rng)).sum();
        let m = d.mean().unwrap();
        let tol = 5.0 * sd / (n as f64).sqrt();
        assert!(
            (sum / n as f64 - m).abs() < tol,
            "{d:?}: sample mean {} vs {m}",
            sum / n as f64
        );
    }

    #[test]
    fn sample_means_match_exact_means() {
        check_mean(&Dist::exponential(0.05).unwrap(), 0.05);
        check_mean(&Dist::uniform(1.0, 3.0).unwrap(), 2.0 / 12f64.sqrt());
        check_mean(&Dist::normal(1.0, 2.0).unwrap(), 2.0);
        check_mean(&Dist::gamma(2.0, 0.5).unwrap(), (2.0f64).sqrt() * 0.5);
        check_mean(
            &Dist::pareto(1.0, 3.0).unwrap(),
            (3.0f64 / 4.0).sqrt() / 2.0,
        );
        check_mean(
            &Dist::empirical(vec![1.0, 2.0, 10.0], Some(vec![1.0, 1.0, 2.0])).unwrap(),
            4.5,
        );
        let ln = Dist::lognormal_mean_p99(0.05, 0.4).unwrap();
        check_mean(&ln, 0.2);
    }

    #[test]
    fn lognormal_by_mean_and_p99_hits_both() {
        let Dist::LogNormal { mu, sigma, .. } = Dist::lognormal_mean_p99(0.05, 0.4).unwrap() else {
            panic!("expected a log-normal")
        };
        assert!(((mu + sigma * sigma / 2.0).exp() - 0.05).abs() < 1e-12);
        assert!(((mu + Z_99 * sigma).exp() - 0.4).abs() < 1e-12);
        assert!(Dist::lognormal_mean_p99(0.05, 0.04).is_err());
        assert!(Dist::lognormal_mean_p99(0.05, 50.0).is_err());
    }

    #[test]
    fn impossible_parameters_are_refused() {
        assert!(Dist::exponential(0.0).is_err());
        assert!(Dist::exponential(f64::NAN).is_err());
        assert!(Dist::uniform(2.0, 1.0).is_err());
        assert!(Dist::normal(-1.0, 1.0).is_err());
        assert!(Dist::empirical(vec![], None).is_err());
        assert!(Dist::empirical(vec![1.0], Some(vec![0.0])).is_err());
        assert!(Dist::pareto(1.0, 0.0).is_err());
    }

    #[test]
    fn truncated_normal_never_goes_negative() {
        let d = Dist::normal(0.1, 1.0).unwrap();
        let mut rng = stream(1, 0, "t", "n");
        assert!((0..10_000).all(|_| d.sample(&mut rng) >= 0.0));
    }
}
