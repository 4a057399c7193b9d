//! A service's faults and health checks from their file form.

use super::{At, MAX_INSTANCES, int_in, positive_duration};
use crate::components::health::{ActiveCheck, HealthSpec, OutlierDetection};
use crate::components::service::{Fault, FaultKind};
use crate::config::ConfigError;
use crate::config::raw::{RawFault, RawFaultKind, RawService};
use crate::kernel::SimDuration;

/// The service's faults, in file order, naming its `zones`.
pub(super) fn faults(
    s: &RawService,
    zones: &[String],
    at: At,
    rel: &str,
) -> Result<Vec<Fault>, ConfigError> {
    s.faults
        .iter()
        .flatten()
        .enumerate()
        .map(|(k, f)| fault(f, zones, at, &format!("{rel}.faults[{k}]")))
        .collect()
}

/// The service's zones: distinct names, 1 to 16 of them.
pub(super) fn zones(s: &RawService, at: At, rel: &str) -> Result<Vec<String>, ConfigError> {
    let zones = s.zones.clone().unwrap_or_default();
    if s.zones.is_some() && !(1..=16).contains(&zones.len()) {
        return Err(at.err(
            &format!("{rel}.zones"),
            format!("a service spreads over 1 to 16 zones, got {}", zones.len()),
        ));
    }
    for (k, z) in zones.iter().enumerate() {
        super::check_name(at, &format!("{rel}.zones[{k}]"), z, "a zone")?;
        if zones[..k].contains(z) {
            return Err(at.err(
                &format!("{rel}.zones[{k}]"),
                format!("zone `{z}` is named twice"),
            ));
        }
    }
    Ok(zones)
}

fn fault(f: &RawFault, zones: &[String], at: At, frel: &str) -> Result<Fault, ConfigError> {
    let field = |name: &str| format!("{frel}.{name}");
    let unused = |name: &str, value: bool| -> Result<(), ConfigError> {
        if value {
            return Err(at.err(
                &field(name),
                format!("a {} fault has no `{name}`", kind_name(f.kind)),
            ));
        }
        Ok(())
    };
    unused(
        "factor",
        f.factor.is_some() && !matches!(f.kind, RawFaultKind::Slow),
    )?;
    unused(
        "rate",
        f.rate.is_some() && !matches!(f.kind, RawFaultKind::Errors),
    )?;
    // A kind's own number: present, and within its range.
    let number =
        |name: &str, value: Option<f64>, within: fn(f64) -> bool, range: &str, missing: &str| {
            match value {
                Some(x) if within(x) => Ok(x),
                Some(x) => Err(at.err(&field(name), format!("{range}, got {x}"))),
                None => Err(at.err(&field(name), missing)),
            }
        };
    let kind = match f.kind {
        RawFaultKind::Slow => FaultKind::Slow {
            factor: number(
                "factor",
                f.factor,
                |x| x > 1.0 && x <= 10_000.0,
                "a slow instance takes above 1 and at most 10,000 times as long",
                "a slow fault needs its `factor` (how many times slower)",
            )?,
        },
        RawFaultKind::Hang => FaultKind::Hang,
        RawFaultKind::Errors => FaultKind::Errors {
            rate: number(
                "rate",
                f.rate,
                |p| p > 0.0 && p <= 1.0,
                "an error rate is above 0 and at most 1",
                "an errors fault needs its `rate` (the share of requests that fail)",
            )?,
        },
        RawFaultKind::Crash => FaultKind::Crash,
    };
    let instances = match f.instances {
        None => None,
        Some(n) => Some(int_in(
            at,
            &field("instances"),
            n,
            1,
            MAX_INSTANCES,
            "instances",
        )?),
    };
    // A crashed process may start again at once; every other fault lasts a while.
    let lasts = match kind {
        FaultKind::Crash => f.lasts.0,
        _ => positive_duration(at, &field("for"), f.lasts, "a fault")?,
    };
    let zone = match &f.zone {
        None => None,
        Some(z) => match zones.iter().position(|n| n == z) {
            Some(k) => Some((k as u32, zones.len() as u32)),
            None if zones.is_empty() => {
                return Err(at.err(
                    &field("zone"),
                    format!("the service names no `zones`, so no zone `{z}` can fail"),
                ));
            }
            None => {
                return Err(at.err(
                    &field("zone"),
                    format!(
                        "unknown zone `{z}` (the service's zones: {})",
                        zones.join(", ")
                    ),
                ));
            }
        },
    };
    Ok(Fault {
        start: f.at.0,
        lasts,
        kind,
        instances,
        zone,
    })
}

fn kind_name(k: RawFaultKind) -> &'static str {
    match k {
        RawFaultKind::Slow => "slow",
        RawFaultKind::Hang => "hang",
        RawFaultKind::Errors => "errors",
        RawFaultKind::Crash => "crash",
    }
}

/// The service's failures at random.
pub(super) fn failures(
    s: &RawService,
    at: At,
    rel: &str,
) -> Result<Option<crate::components::health::FailureSpec>, ConfigError> {
    let Some(f) = &s.failures else {
        return Ok(None);
    };
    let frel = format!("{rel}.failures");
    // A mean under a millisecond would flood the run with failures; no fleet fails that often.
    let at_least_ms = |name: &str, d: crate::config::quantity::Duration| {
        let d = positive_duration(at, &format!("{frel}.{name}"), d, name)?;
        if d < SimDuration::from_millis(1) {
            return Err(at.err(
                &format!("{frel}.{name}"),
                format!("a mean {name} of at least 1 ms, got {} ns", d.as_nanos()),
            ));
        }
        Ok(d)
    };
    Ok(Some(crate::components::health::FailureSpec {
        mtbf: at_least_ms("mtbf", f.mtbf)?,
        mttr: at_least_ms("mttr", f.mttr)?,
    }))
}

/// The service's health checks.
pub(super) fn health(s: &RawService, at: At, rel: &str) -> Result<HealthSpec, ConfigError> {
    let active = match &s.health_check {
        None => None,
        Some(h) => {
            let hrel = format!("{rel}.health_check");
            let interval =
                positive_duration(at, &format!("{hrel}.interval"), h.interval, "interval")?;
            let timeout = match h.timeout {
                None => SimDuration::from_secs(5).min(interval),
                Some(t) => positive_duration(at, &format!("{hrel}.timeout"), t, "timeout")?,
            };
            if timeout > interval {
                return Err(at.err(
                    &format!("{hrel}.timeout"),
                    format!(
                        "a probe's timeout ({:.3} s) must not exceed the interval between probes ({:.3} s)",
                        timeout.as_secs_f64(),
                        interval.as_secs_f64()
                    ),
                ));
            }
            let threshold = |name: &str, v: Option<i64>| match v {
                None => Ok(2),
                Some(v) => int_in(at, &format!("{hrel}.{name}"), v, 1, 100, name),
            };
            Some(ActiveCheck {
                interval,
                timeout,
                unhealthy: threshold("unhealthy_threshold", h.unhealthy_threshold)?,
                healthy: threshold("healthy_threshold", h.healthy_threshold)?,
            })
        }
    };
    let passive = match &s.outlier_detection {
        None => None,
        Some(o) => {
            let orel = format!("{rel}.outlier_detection");
            let consecutive_errors = match o.consecutive_errors {
                None => 5,
                Some(v) => int_in(
                    at,
                    &format!("{orel}.consecutive_errors"),
                    v,
                    1,
                    1000,
                    "consecutive_errors",
                )?,
            };
            let eject_for = match o.eject_for {
                None => SimDuration::from_secs(30),
                Some(d) => positive_duration(at, &format!("{orel}.eject_for"), d, "eject_for")?,
            };
            let max_ejected = match o.max_ejected {
                None => 0.1,
                Some(x) if x > 0.0 && x <= 1.0 => x,
                Some(x) => {
                    return Err(at.err(
                        &format!("{orel}.max_ejected"),
                        format!("the share of the fleet ejected at once is above 0 and at most 1, got {x}"),
                    ));
                }
            };
            Some(OutlierDetection {
                consecutive_errors,
                eject_for,
                max_ejected,
            })
        }
    };
    if (active.is_some() || passive.is_some()) && s.database.is_some() {
        let field = if active.is_some() {
            "health_check"
        } else {
            "outlier_detection"
        };
        return Err(at.err(
            &format!("{rel}.{field}"),
            "a database routes its queries itself (`database.reads`); health checks apply to a service's own balancer",
        ));
    }
    if (active.is_some() || passive.is_some())
        && matches!(
            s.balancer,
            Some(crate::config::raw::RawBalancer::Queue { .. })
        )
    {
        let field = if active.is_some() {
            "health_check"
        } else {
            "outlier_detection"
        };
        return Err(at.err(
            &format!("{rel}.{field}"),
            "a worker pool's workers pull their messages; health checks apply to a balancer that pushes requests",
        ));
    }
    Ok(HealthSpec { active, passive })
}
