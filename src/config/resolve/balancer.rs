//! A service's balancer from its file form.

use super::{At, positive_duration};
use crate::components::balancer::{BalancerSpec, LoadView, MAX_BALANCERS};
use crate::components::shard::MAX_VNODES;
use crate::config::ConfigError;
use crate::config::raw::{RawBalancer, RawLoadView, RawService};
use crate::kernel::SimDuration;

/// Tokens per instance of a consistent-hash balancer unless the file says (ketama's 160).
pub(crate) const DEFAULT_VNODES: u32 = 160;

/// The balancer of service `s` at `rel` (round robin unless it names one), and the loads it
/// sees.
pub(super) fn balancer(
    s: &RawService,
    at: At,
    rel: &str,
) -> Result<(BalancerSpec, LoadView), ConfigError> {
    let view = match &s.balancer {
        Some(RawBalancer::LeastConnections { view }) | Some(RawBalancer::PowerOfD { view, .. }) => {
            load_view(s, view.as_ref(), at, rel)?
        }
        _ => LoadView::Exact,
    };
    let spec = match s.balancer {
        None | Some(RawBalancer::RoundRobin {}) => BalancerSpec::RoundRobin,
        Some(RawBalancer::WeightedRoundRobin {}) => BalancerSpec::WeightedRoundRobin,
        Some(RawBalancer::Random {}) => BalancerSpec::Random,
        Some(RawBalancer::LeastConnections { .. }) => BalancerSpec::LeastConnections,
        Some(RawBalancer::ConsistentHash { vnodes }) => BalancerSpec::ConsistentHash {
            vnodes: match vnodes {
                None => DEFAULT_VNODES,
                Some(v) if (1..=i64::from(MAX_VNODES)).contains(&v) => v as u32,
                Some(v) => {
                    return Err(at.err(
                        &format!("{rel}.balancer.vnodes"),
                        format!("an instance places 1 to {MAX_VNODES} tokens on the ring, got {v}"),
                    ));
                }
            },
        },
        Some(RawBalancer::PowerOfD { d, replacement, .. }) => {
            let replacement = replacement.unwrap_or(false);
            BalancerSpec::PowerOfD {
                d: choices(s, at, rel, d, replacement)?,
                replacement,
            }
        }
        Some(RawBalancer::LeastResponseTime { decay }) => BalancerSpec::LeastResponseTime {
            decay: decay_of(at, rel, decay)?,
        },
        Some(RawBalancer::PeakEwma { d, decay }) => BalancerSpec::PeakEwma {
            d: choices(s, at, rel, d, false)?,
            decay: decay_of(at, rel, decay)?,
        },
        Some(RawBalancer::Queue { max_length }) => BalancerSpec::Queue {
            max_length: match max_length {
                Some(v) if v < 0 || v > i64::from(u32::MAX) => {
                    return Err(at.err(
                        &format!("{rel}.balancer.max_length"),
                        format!("max_length must be between 0 and {}, got {v}", u32::MAX),
                    ));
                }
                Some(v) => v as u32,
                None => u32::MAX,
            },
        },
    };
    Ok((spec, view))
}

/// A power-of-d balancer's `d` (default 2).
fn choices(
    s: &RawService,
    at: At,
    rel: &str,
    d: Option<i64>,
    replacement: bool,
) -> Result<u32, ConfigError> {
    let drel = format!("{rel}.balancer.d");
    let d = d.unwrap_or(2);
    let max = i64::from(crate::components::balancer::MAX_D);
    if !(1..=max).contains(&d) {
        return Err(at.err(&drel, format!("a pick draws 1 to {max} instances, got {d}")));
    }
    if !replacement && s.replicas > 0 && d > s.replicas {
        return Err(at.err(
            &drel,
            format!(
                "d = {d} is larger than the fleet ({} replicas): every pick would compare every instance (use least_connections, or `replacement`)",
                s.replicas
            ),
        ));
    }
    Ok(d as u32)
}

/// A latency estimate's time constant (default 10 s, Finagle's and linkerd's).
fn decay_of(
    at: At,
    rel: &str,
    decay: Option<crate::config::quantity::Duration>,
) -> Result<SimDuration, ConfigError> {
    match decay {
        None => Ok(SimDuration::from_secs(10)),
        Some(d) => positive_duration(at, &format!("{rel}.balancer.decay"), d, "decay"),
    }
}

/// The loads a least-connections or power-of-d balancer sees.
fn load_view(
    s: &RawService,
    view: Option<&RawLoadView>,
    at: At,
    rel: &str,
) -> Result<LoadView, ConfigError> {
    let vrel = format!("{rel}.balancer.view");
    let Some(v) = view else {
        return Ok(LoadView::Exact);
    };
    if s.database.is_some() {
        return Err(at.err(
            &vrel,
            "a database routes its queries itself (`database.reads`); a load view applies to a service's own balancer",
        ));
    }
    match (v.refresh, v.balancers) {
        (Some(r), None) => Ok(LoadView::Published {
            refresh: positive_duration(at, &format!("{vrel}.refresh"), r, "refresh")?,
        }),
        (None, Some(b)) => Ok(LoadView::Own {
            balancers: super::int_in(
                at,
                &format!("{vrel}.balancers"),
                b,
                2,
                i64::from(MAX_BALANCERS),
                "balancers",
            )?,
        }),
        _ => Err(at.err(
            &vrel,
            "a view is either {\"refresh\": \"1s\"} (loads copied at an interval) or {\"balancers\": 4} (balancer instances each counting their own requests)",
        )),
    }
}
