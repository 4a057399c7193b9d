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
    /// One of the component distributions, chosen with the given cumulative weights (last =
    /// 1), then drawn from: a hyperexponential is a mixture of exponentials.
    Mixture {
        components: Vec<Dist>,
        cumulative: Vec<f64>,
    },
}

/// Most components of one mixture: more is a generated file gone wrong, not a workload.
pub const MAX_MIXTURE_COMPONENTS: usize = 1000;

/// Deepest nesting of mixtures (a mixture of mixtures is depth 2): every draw walks down the
/// levels, and a mixture of mixtures is itself one mixture, so depth only ever buys notation.
pub const MAX_MIXTURE_DEPTH: usize = 4;

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

    /// A mixture of `(weight, distribution)` components; weights are relative (normalised
    /// here) and each must be positive and finite.
    pub fn mixture(components: Vec<(f64, Dist)>) -> Result<Dist, DistError> {
        if components.is_empty() {
            return Err(DistError(
                "`components` must hold at least one component".into(),
            ));
        }
        if components.len() > MAX_MIXTURE_COMPONENTS {
            return Err(DistError(format!(
                "a mixture has at most {MAX_MIXTURE_COMPONENTS} components, got {}",
                components.len()
            )));
        }
        let depth = 1 + components
            .iter()
            .map(|(_, d)| d.mixture_depth())
            .max()
            .unwrap_or(0);
        if depth > MAX_MIXTURE_DEPTH {
            return Err(DistError(format!(
                "mixtures nest at most {MAX_MIXTURE_DEPTH} deep, this one {depth}"
            )));
        }
        let mut cumulative = Vec::with_capacity(components.len());
        let mut total = 0.0;
        for (w, _) in &components {
            check_weight(*w)?;
            total += w;
            cumulative.push(total);
        }
        if !total.is_finite() {
            return Err(DistError(
                "the component weights add up to more than a number can hold; weights are relative, so scale them down (e.g. to fractions)".into(),
            ));
        }
        for c in &mut cumulative {
            *c /= total;
        }
        let components = components.into_iter().map(|(_, d)| d).collect();
        Ok(Dist::Mixture {
            components,
            cumulative,
        })
    }

    /// How many mixtures deep this distribution is: 0 for any other kind.
    pub fn mixture_depth(&self) -> usize {
        match self {
            Dist::Mixture { components, .. } => {
                1 + components
                    .iter()
                    .map(Dist::mixture_depth)
                    .max()
                    .unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Draws one value.
    #[inline(always)]
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
            Dist::Mixture {
                components,
                cumulative,
            } => sample_mixture(components, cumulative, rng),
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
                Some(mean + std_dev * truncation_ratio(-mean / std_dev))
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
            Dist::Mixture {
                components,
                cumulative,
            } => {
                let mut m = 0.0;
                for (d, p) in components.iter().zip(shares(cumulative)) {
                    m += p * d.mean()?;
                }
                Some(m)
            }
        }
    }

    /// The exact variance, where it is finite (Pareto with shape <= 2 has none).
    pub fn variance(&self) -> Option<f64> {
        match self {
            Dist::Constant(_) => Some(0.0),
            Dist::Exponential { mean } => Some(mean * mean),
            Dist::Uniform { min, max } => Some((max - min).powi(2) / 12.0),
            Dist::Normal { mean, std_dev } => {
                if *std_dev == 0.0 {
                    return Some(0.0);
                }
                // Truncated below at zero: sigma^2 (1 + a lambda - lambda^2), a = -mu/sigma,
                // lambda = phi(a) / (1 - Phi(a)).
                let a = -mean / std_dev;
                let lambda = truncation_ratio(a);
                Some(std_dev * std_dev * (1.0 + a * lambda - lambda * lambda))
            }
            Dist::LogNormal { mu, sigma, .. } => {
                let s2 = sigma * sigma;
                Some(s2.exp_m1() * (2.0 * mu + s2).exp())
            }
            Dist::Gamma { shape, scale, .. } => Some(shape * scale * scale),
            Dist::Pareto { scale, shape, .. } => (*shape > 2.0)
                .then(|| scale * scale * shape / ((shape - 1.0).powi(2) * (shape - 2.0))),
            Dist::Empirical { values, cumulative } => {
                let m = self.mean()?;
                let second: f64 = values
                    .iter()
                    .zip(shares(cumulative))
                    .map(|(v, p)| p * v * v)
                    .sum();
                Some((second - m * m).max(0.0))
            }
            Dist::Mixture {
                components,
                cumulative,
            } => {
                // E[X^2] = sum p_i (var_i + mean_i^2); Var = E[X^2] - E[X]^2.
                let m = self.mean()?;
                let mut second = 0.0;
                for (d, p) in components.iter().zip(shares(cumulative)) {
                    let mi = d.mean()?;
                    second += p * (d.variance()? + mi * mi);
                }
                Some((second - m * m).max(0.0))
            }
        }
    }

    /// Draws from the length-biased distribution, density x f(x) / E[X]: what an observer
    /// arriving at a random instant sees as the length of the gap it falls in (the
    /// inspection paradox). `None` where the mean is infinite and there is no such
    /// distribution. A renewal process's stationary first gap is a uniform fraction of this.
    ///
    /// Exact for every kind; the truncated normal draws by rejection (acceptance above 85%),
    /// empirical and mixture weights are reweighted by a linear scan, O(components) a draw.
    pub fn sample_length_biased<R: Rng + ?Sized>(&self, rng: &mut R) -> Option<f64> {
        Some(match self {
            Dist::Constant(v) => *v,
            // Length-biasing adds one to a gamma's shape; an exponential is a gamma of shape 1.
            Dist::Exponential { mean } => {
                let (a, b): (f64, f64) = (Exp1.sample(rng), Exp1.sample(rng));
                mean * (a + b)
            }
            Dist::Gamma { sampler, scale, .. } => {
                let e: f64 = Exp1.sample(rng);
                sampler.sample(rng) + scale * e
            }
            // Density 2x / (max^2 - min^2) on [min, max], by inversion.
            Dist::Uniform { min, max } => {
                let u: f64 = rng.random();
                (min * min + u * (max * max - min * min)).sqrt()
            }
            Dist::Normal { mean, std_dev } => length_biased_normal(*mean, *std_dev, rng),
            // ln X ~ N(mu + sigma^2, sigma^2).
            Dist::LogNormal { sigma, sampler, .. } => sampler.sample(rng) * (sigma * sigma).exp(),
            // Pareto(scale, shape - 1), by inversion (1 - u is in (0, 1], so never infinite).
            Dist::Pareto { scale, shape, .. } => {
                if *shape <= 1.0 {
                    return None;
                }
                let u: f64 = rng.random();
                scale * (1.0 - u).powf(-1.0 / (shape - 1.0))
            }
            Dist::Empirical { values, cumulative } => {
                let mean = self.mean()?;
                if mean == 0.0 {
                    return Some(0.0);
                }
                let weights = values.iter().zip(shares(cumulative)).map(|(v, p)| p * v);
                values[pick_by_weight(weights, mean, rng)]
            }
            Dist::Mixture {
                components,
                cumulative,
            } => {
                // A mean of zero is a point mass at zero; otherwise component i is seen in
                // proportion to p_i mean_i (all finite, or `mean()` would have said so).
                let mean = self.mean()?;
                if mean == 0.0 {
                    return Some(0.0);
                }
                let weights = components
                    .iter()
                    .zip(shares(cumulative))
                    .map(|(d, p)| p * d.mean().unwrap_or(0.0));
                let i = pick_by_weight(weights, mean, rng);
                return components[i].sample_length_biased(rng);
            }
        })
    }
}

/// The probabilities of a cumulative-weight table: successive differences.
fn shares(cumulative: &[f64]) -> impl Iterator<Item = f64> + '_ {
    cumulative
        .iter()
        .scan(0.0, |prev, &c| Some(c - std::mem::replace(prev, c)))
}

/// The index drawn with probability weight / total (the weights sum to `total` > 0), by a
/// linear scan.
fn pick_by_weight<R: Rng + ?Sized>(
    weights: impl Iterator<Item = f64>,
    total: f64,
    rng: &mut R,
) -> usize {
    let target = rng.random::<f64>() * total;
    let mut acc = 0.0;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if w > 0.0 {
            acc += w;
            last = i;
            if target < acc {
                return i;
            }
        }
    }
    // Rounding left the target at the very top: the last index with weight.
    last
}

/// phi(a) / (1 - Phi(a)) for the standard normal: the inverse Mills ratio.
fn truncation_ratio(a: f64) -> f64 {
    let phi = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let tail = 0.5 * statrs::function::erf::erfc(a / std::f64::consts::SQRT_2);
    phi / tail
}

/// A draw from the length-biased normal truncated at zero: density proportional to
/// x phi((x - m) / s) on x >= 0. With x = s (c + z), c = m / s, the density of z is
/// proportional to (c + z) phi(z) on z >= -c. It lies under c phi(z) [z >= -c] + z phi(z)
/// [z >= 0], a mixture of the truncated normal (mass c Phi(c)) and a Rayleigh (mass phi(0),
/// z = sqrt(2E)); a draw of the first below zero is kept with probability (c + z) / c. The
/// acceptance is (c Phi(c) + phi(c)) / (c Phi(c) + phi(0)), at least 0.85 for every c.
fn length_biased_normal<R: Rng + ?Sized>(m: f64, s: f64, rng: &mut R) -> f64 {
    if s == 0.0 {
        return m;
    }
    let c = m / s;
    let normal_mass = c * 0.5 * statrs::function::erf::erfc(-c / std::f64::consts::SQRT_2);
    let rayleigh_mass = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    loop {
        if rng.random::<f64>() * (normal_mass + rayleigh_mass) >= normal_mass {
            let e: f64 = Exp1.sample(rng);
            return s * (c + (2.0 * e).sqrt());
        }
        let z = loop {
            let z: f64 = StandardNormal.sample(rng);
            if z >= -c {
                break z;
            }
        };
        if z >= 0.0 || rng.random::<f64>() * c < c + z {
            return s * (c + z);
        }
    }
}

/// A mixture component's weight: relative, so any positive finite number.
pub fn check_weight(w: f64) -> Result<(), DistError> {
    if w.is_finite() && w > 0.0 {
        Ok(())
    } else {
        Err(DistError(format!(
            "a component's `weight` must be a positive number (weights are relative), got {w}"
        )))
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

/// One draw of a mixture: a component by cumulative weight, then its draw. Kept out of line
/// so that [`Dist::sample`], which it calls back, stays small enough to inline on the hot path.
#[inline(never)]
fn sample_mixture<R: Rng + ?Sized>(components: &[Dist], cumulative: &[f64], rng: &mut R) -> f64 {
    // A single component draws no choice, as a single-entry endpoint mix does.
    if components.len() == 1 {
        return components[0].sample(rng);
    }
    let u: f64 = rng.random();
    let i = cumulative
        .partition_point(|&c| c <= u)
        .min(components.len() - 1);
    components[i].sample(rng)
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
        check_mean(&h2(), h2().variance().unwrap().sqrt());
    }

    /// H2: exponential with mean 10 ms with probability 0.9, mean 200 ms otherwise.
    fn h2() -> Dist {
        Dist::mixture(vec![
            (0.9, Dist::exponential(0.01).unwrap()),
            (0.1, Dist::exponential(0.2).unwrap()),
        ])
        .unwrap()
    }

    /// n draws from `d` on a fixed stream.
    fn draws(d: &Dist, n: usize, f: impl Fn(&Dist, &mut crate::kernel::Stream) -> f64) -> Vec<f64> {
        let mut rng = stream(11, 0, "test", "dist");
        (0..n).map(|_| f(d, &mut rng)).collect()
    }

    /// The sample mean of `xs` and its standard error, from the sample's own spread.
    fn mean_and_se(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, (var / n).sqrt())
    }

    #[test]
    fn a_hyperexponential_has_the_closed_form_mean_and_scv() {
        // H2 with branch probabilities p_i and means m_i: E[X] = sum p_i m_i,
        // E[X^2] = 2 sum p_i m_i^2, E[X^4] = 24 sum p_i m_i^4, SCV = E[X^2] / E[X]^2 - 1.
        let (p, m): ([f64; 2], [f64; 2]) = ([0.9, 0.1], [0.01, 0.2]);
        let moment = |k: i32, c: f64| c * (p[0] * m[0].powi(k) + p[1] * m[1].powi(k));
        let (mean, second, fourth) = (moment(1, 1.0), moment(2, 2.0), moment(4, 24.0));
        let scv = second / (mean * mean) - 1.0;
        let d = h2();
        assert!((d.mean().unwrap() - mean).abs() < 1e-15);
        let exact_scv = d.variance().unwrap() / d.mean().unwrap().powi(2);
        assert!((exact_scv - scv).abs() < 1e-12, "SCV {exact_scv} vs {scv}");
        assert!(
            (scv - 8.7265).abs() < 1e-4,
            "SCV of this H2 is 0.00818 / 0.029^2 - 1"
        );
        // Sample moments within 5 standard errors, each from the closed-form spread:
        // sd(X) = sqrt(E[X^2] - E[X]^2), sd(X^2) = sqrt(E[X^4] - E[X^2]^2).
        let n = 400_000;
        let xs = draws(&d, n, |d, r| d.sample(r));
        let root_n = (n as f64).sqrt();
        let sample_mean = xs.iter().sum::<f64>() / n as f64;
        let sample_second = xs.iter().map(|x| x * x).sum::<f64>() / n as f64;
        let tol_mean = 5.0 * (second - mean * mean).sqrt() / root_n;
        let tol_second = 5.0 * (fourth - second * second).sqrt() / root_n;
        assert!(
            (sample_mean - mean).abs() < tol_mean,
            "mean {sample_mean} vs {mean} +- {tol_mean}"
        );
        assert!(
            (sample_second - second).abs() < tol_second,
            "E[X^2] {sample_second} vs {second} +- {tol_second}"
        );
    }

    #[test]
    fn a_mixture_picks_each_component_by_its_weight() {
        // Constant components make the pick visible. Each count is binomial(n, p_i):
        // within 5 sqrt(n p_i (1 - p_i)); and Pearson's chi-square on 2 degrees of freedom
        // stays below 18.4 (P = 0.0001).
        let d = Dist::mixture(vec![
            (1.0, Dist::constant(1.0).unwrap()),
            (2.0, Dist::constant(2.0).unwrap()),
            (7.0, Dist::constant(3.0).unwrap()),
        ])
        .unwrap();
        assert!((d.mean().unwrap() - 2.6).abs() < 1e-12, "(1 + 4 + 21) / 10");
        let n = 100_000;
        let mut counts = [0usize; 3];
        for x in draws(&d, n, |d, r| d.sample(r)) {
            counts[x as usize - 1] += 1;
        }
        let mut chi2 = 0.0;
        for (count, p) in counts.iter().zip([0.1, 0.2, 0.7]) {
            let expected = n as f64 * p;
            let tol = 5.0 * (expected * (1.0 - p)).sqrt();
            assert!(
                (*count as f64 - expected).abs() < tol,
                "{counts:?} vs p = {p}"
            );
            chi2 += (*count as f64 - expected).powi(2) / expected;
        }
        assert!(chi2 < 18.4, "chi-square {chi2} on {counts:?}");
    }

    #[test]
    fn a_single_component_mixture_draws_as_its_component() {
        // No choice is drawn, so the stream is the component's own.
        let e = Dist::exponential(0.02).unwrap();
        let m = Dist::mixture(vec![(3.0, e.clone())]).unwrap();
        assert_eq!(
            draws(&e, 100, |d, r| d.sample(r)),
            draws(&m, 100, |d, r| d.sample(r))
        );
    }

    /// Distributions with a finite fourth moment, so their sample variances settle.
    fn every_kind() -> Vec<Dist> {
        vec![
            Dist::constant(0.3).unwrap(),
            Dist::exponential(0.05).unwrap(),
            Dist::uniform(1.0, 3.0).unwrap(),
            Dist::normal(1.0, 2.0).unwrap(),
            Dist::normal(0.1, 1.0).unwrap(),
            Dist::normal(5.0, 1.0).unwrap(),
            Dist::lognormal_mu_sigma(-3.0, 0.5).unwrap(),
            Dist::gamma(2.0, 0.5).unwrap(),
            Dist::pareto(1.0, 6.0).unwrap(),
            Dist::empirical(vec![1.0, 2.0, 10.0], Some(vec![1.0, 1.0, 2.0])).unwrap(),
            Dist::mixture(vec![(1.0, h2()), (1.0, Dist::uniform(0.0, 0.1).unwrap())]).unwrap(),
        ]
    }

    #[test]
    fn variances_match_sample_variances() {
        // The sample variance's standard error, sqrt((m4 - s^4) / n), from the sample's own
        // fourth central moment; 5 of them.
        let n = 200_000;
        for d in every_kind() {
            let xs = draws(&d, n, |d, r| d.sample(r));
            let (m, _) = mean_and_se(&xs);
            let dev: Vec<f64> = xs.iter().map(|x| (x - m).powi(2)).collect();
            let (var, se) = mean_and_se(&dev);
            let exact = d.variance().unwrap();
            assert!(
                // (plus rounding, for the constant)
                (var - exact).abs() <= 5.0 * se + 1e-12 * m * m,
                "{d:?}: sample variance {var} vs {exact} +- {}",
                5.0 * se
            );
        }
        assert_eq!(Dist::pareto(1.0, 2.0).unwrap().variance(), None);
    }

    #[test]
    fn length_biased_draws_have_mean_second_moment_over_mean() {
        // Density x f(x) / E[X] has mean E[X^2] / E[X] = (Var + E[X]^2) / E[X]; 5 standard
        // errors from the sample's own spread.
        let n = 200_000;
        for d in every_kind() {
            let xs = draws(&d, n, |d, r| d.sample_length_biased(r).unwrap());
            let (m, se) = mean_and_se(&xs);
            let (mean, var) = (d.mean().unwrap(), d.variance().unwrap());
            let exact = (var + mean * mean) / mean;
            assert!(
                (m - exact).abs() <= 5.0 * se + 1e-9 * exact,
                "{d:?}: length-biased mean {m} vs {exact} +- {}",
                5.0 * se
            );
        }
        let mut rng = stream(1, 0, "t", "lb");
        assert_eq!(
            Dist::pareto(1.0, 1.0)
                .unwrap()
                .sample_length_biased(&mut rng),
            None
        );
        let zeros = Dist::empirical(vec![5.0, 0.0], Some(vec![0.0, 1.0])).unwrap();
        assert_eq!(zeros.sample_length_biased(&mut rng), Some(0.0));
    }

    #[test]
    fn impossible_mixtures_are_refused() {
        let e = || Dist::exponential(0.01).unwrap();
        assert!(Dist::mixture(vec![]).is_err());
        for w in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                Dist::mixture(vec![(1.0, e()), (w, e())]).is_err(),
                "weight {w}"
            );
        }
        assert!(Dist::mixture(vec![(1e308, e()), (1e308, e())]).is_err());
        let many = (0..=MAX_MIXTURE_COMPONENTS).map(|_| (1.0, e())).collect();
        assert!(Dist::mixture(many).is_err());
        let mut nested = e();
        for depth in 1..=MAX_MIXTURE_DEPTH + 1 {
            let next = Dist::mixture(vec![(1.0, nested.clone())]);
            if depth <= MAX_MIXTURE_DEPTH {
                nested = next.unwrap();
                assert_eq!(nested.mixture_depth(), depth);
            } else {
                assert!(next.is_err(), "depth {depth}");
            }
        }
        let heavy = Dist::mixture(vec![(1.0, e()), (1.0, Dist::pareto(1.0, 1.0).unwrap())]);
        assert_eq!(heavy.unwrap().mean(), None, "an infinite component mean");
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
