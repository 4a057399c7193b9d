//! Distributions from their file form, mixtures included (bounded in size and depth), each
//! error at its component's path.

use super::At;
use crate::config::ConfigError;
use crate::config::quantity::Quantity;
use crate::config::raw::{DistSpec, RawDist, RawMixtureComponent};
use crate::distribution::{self, Dist, MAX_MIXTURE_COMPONENTS, MAX_MIXTURE_DEPTH};

/// Resolves a distribution over any quantity.
pub(crate) fn dist<Q: Quantity>(raw: &RawDist<Q>, at: At, rel: &str) -> Result<Dist, ConfigError> {
    nested_dist(raw, at, rel, 1)
}

/// Resolves a distribution that, if it is a mixture, would be `depth` mixtures deep.
fn nested_dist<Q: Quantity>(
    raw: &RawDist<Q>,
    at: At,
    rel: &str,
    depth: usize,
) -> Result<Dist, ConfigError> {
    let b = |q: &Q| q.base();
    let built = match raw {
        RawDist::Shorthand(q) => Dist::constant(b(q)),
        RawDist::Spec(spec) => match spec {
            DistSpec::Constant { value } => Dist::constant(b(value)),
            DistSpec::Exponential { mean } => Dist::exponential(b(mean)),
            DistSpec::Uniform { min, max } => Dist::uniform(b(min), b(max)),
            DistSpec::Normal { mean, std_dev } => Dist::normal(b(mean), b(std_dev)),
            DistSpec::Lognormal {
                mean,
                p99,
                mu,
                sigma,
            } => match (mean, p99, mu, sigma) {
                (Some(m), Some(p), None, None) => Dist::lognormal_mean_p99(b(m), b(p)),
                (None, None, Some(mu), Some(s)) => Dist::lognormal_mu_sigma(*mu, *s),
                _ => {
                    return Err(at.err(rel, "a lognormal needs either `mean` and `p99`, or `mu` and `sigma` (of the natural log of the value in seconds or bytes)"));
                }
            },
            DistSpec::Gamma { shape, scale, mean } => match (scale, mean) {
                (Some(s), None) => Dist::gamma(*shape, b(s)),
                (None, Some(m)) if *shape > 0.0 => Dist::gamma(*shape, b(m) / shape),
                (None, Some(_)) => Dist::gamma(*shape, 1.0),
                _ => {
                    return Err(at.err(
                        rel,
                        "a gamma needs `shape` and exactly one of `scale` or `mean`",
                    ));
                }
            },
            DistSpec::Pareto { scale, shape } => Dist::pareto(b(scale), *shape),
            DistSpec::Empirical { values, weights } => {
                Dist::empirical(values.iter().map(b).collect(), weights.clone())
            }
            DistSpec::Mixture { components } => return mixture(components, at, rel, depth),
        },
    };
    built.map_err(|e| at.err(rel, format!("impossible distribution: {}", e.0)))
}

/// Resolves a mixture `depth` mixtures deep, each error at its component's path.
fn mixture<Q: Quantity>(
    components: &[RawMixtureComponent<Q>],
    at: At,
    rel: &str,
    depth: usize,
) -> Result<Dist, ConfigError> {
    if depth > MAX_MIXTURE_DEPTH {
        return Err(at.err(
            rel,
            format!(
                "mixtures nest at most {MAX_MIXTURE_DEPTH} deep; a mixture of mixtures is itself one mixture (weights multiply down the levels), so write this one flatter"
            ),
        ));
    }
    let crel = format!("{rel}.components");
    if components.is_empty() || components.len() > MAX_MIXTURE_COMPONENTS {
        return Err(at.err(
            &crel,
            format!(
                "a mixture needs 1 to {MAX_MIXTURE_COMPONENTS} components, each {{\"weight\": 0.9, \"dist\": ...}}; got {}",
                components.len()
            ),
        ));
    }
    let mut parts = Vec::with_capacity(components.len());
    for (i, c) in components.iter().enumerate() {
        let irel = format!("{crel}[{i}]");
        distribution::check_weight(c.weight).map_err(|e| at.err(&format!("{irel}.weight"), e.0))?;
        let d = nested_dist(&c.dist, at, &format!("{irel}.dist"), depth + 1)?;
        parts.push((c.weight, d));
    }
    Dist::mixture(parts).map_err(|e| at.err(&crel, format!("impossible mixture: {}", e.0)))
}
