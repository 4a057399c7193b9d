//! A service's rate limit and load shedding from their file form.

use super::{At, positive_duration};
use crate::components::protection::{RateLimit, Shedding};
use crate::config::ConfigError;
use crate::config::raw::{RawBalancer, RawRateLimitScope, RawService};
use crate::kernel::SimDuration;

/// The most tokens a second a rate limit adds (a billion: past any real limit, and finite).
const MAX_RPS: f64 = 1e9;

pub(super) fn protection(
    s: &RawService,
    at: At,
    rel: &str,
) -> Result<(Option<RateLimit>, Option<Shedding>), ConfigError> {
    let rate_limit = match &s.rate_limit {
        None => None,
        Some(r) => {
            let rrel = format!("{rel}.rate_limit");
            if !(r.rps > 0.0 && r.rps <= MAX_RPS) {
                return Err(at.err(
                    &format!("{rrel}.rps"),
                    format!(
                        "a rate limit adds above 0 and at most {MAX_RPS:e} tokens a second, got {}",
                        r.rps
                    ),
                ));
            }
            let burst = match r.burst {
                None => r.rps.max(1.0),
                Some(b) if (1.0..=MAX_RPS).contains(&b) => b,
                Some(b) => {
                    return Err(at.err(
                        &format!("{rrel}.burst"),
                        format!(
                            "a bucket holds at least 1 and at most {MAX_RPS:e} tokens, got {b}"
                        ),
                    ));
                }
            };
            let per_instance = matches!(r.per, Some(RawRateLimitScope::Instance));
            if !per_instance && s.database.is_some() {
                return Err(at.err(
                    &format!("{rrel}.per"),
                    "a database routes its own queries: limit each instance (\"per\": \"instance\")",
                ));
            }
            Some(RateLimit {
                rps: r.rps,
                burst,
                per_instance,
            })
        }
    };
    let shedding = match &s.shedding {
        None => None,
        Some(sh) => {
            let srel = format!("{rel}.shedding");
            if matches!(s.balancer, Some(RawBalancer::Queue { .. })) {
                return Err(at.err(
                    &srel,
                    "a worker pool's messages wait in its queue (`balancer.max_length`), not on instances; shedding applies to instances' accept queues",
                ));
            }
            let target = match sh.target {
                None => SimDuration::from_millis(5),
                Some(t) => positive_duration(at, &format!("{srel}.target"), t, "target")?,
            };
            let interval = match sh.interval {
                None => SimDuration::from_millis(100).max(target),
                Some(t) => positive_duration(at, &format!("{srel}.interval"), t, "interval")?,
            };
            if interval < target {
                return Err(at.err(
                    &format!("{srel}.interval"),
                    format!(
                        "the interval ({:.3} s) is the longest wait when the queue is not standing, so it is at least the target ({:.3} s)",
                        interval.as_secs_f64(),
                        target.as_secs_f64()
                    ),
                ));
            }
            Some(Shedding {
                target,
                interval,
                lifo: sh.lifo.unwrap_or(false),
            })
        }
    };
    Ok((rate_limit, shedding))
}
