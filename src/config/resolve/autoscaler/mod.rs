//! Autoscaling policies from their file form: bounds, periods and rules checked, with the JSON
//! path of anything impossible. Target tracking and threshold rules are here; forecasting in
//! `predictive.rs`, the Kubernetes HPA and KEDA (which drives one) in `hpa.rs`.

mod hpa;
mod predictive;

use super::{At, MAX_INSTANCES, int_in, positive_duration};
use crate::autoscaler::target_tracking::{TargetTrackingSpec, TrackedMetric};
use crate::components::instance::InstanceSpec;
use crate::components::lifecycle::LifecycleSpec;
use crate::config::raw::*;
use crate::config::{ConfigError, quantity};
use crate::kernel::SimDuration;
use hpa::{hpa, keda};
use predictive::predictive;

/// Checks `min <= max` replica bounds, both within limits (`min` may be 0 when `zero_ok`).
pub(super) fn bounds(
    at: At,
    rel: &str,
    min: i64,
    max: i64,
    zero_ok: bool,
) -> Result<(u32, u32), ConfigError> {
    let f = |field: &str| format!("{rel}.{field}");
    let min = int_in(
        at,
        &f("min_replicas"),
        min,
        i64::from(!zero_ok),
        MAX_INSTANCES,
        "min_replicas",
    )?;
    let max = int_in(
        at,
        &f("max_replicas"),
        max,
        1,
        MAX_INSTANCES,
        "max_replicas",
    )?;
    if max < min {
        return Err(at.err(
            &f("max_replicas"),
            format!("max_replicas ({max}) must not be below min_replicas ({min})"),
        ));
    }
    Ok((min, max))
}

/// A period of at least a millisecond (shorter would make runs endless), in seconds.
pub(super) fn period_s(
    at: At,
    rel: &str,
    d: Option<quantity::Duration>,
    default_s: u64,
    field: &str,
) -> Result<f64, ConfigError> {
    match d {
        Some(d) => {
            let p = positive_duration(at, &format!("{rel}.{field}"), d, field)?;
            if p < SimDuration::from_millis(1) {
                return Err(at.err(
                    &format!("{rel}.{field}"),
                    format!("{field} must be at least 1ms, got \"{p}\""),
                ));
            }
            Ok(p.as_secs_f64())
        }
        None => Ok(default_s as f64),
    }
}

/// A finite number within `[lo, hi]`.
pub(super) fn number_in(
    at: At,
    rel: &str,
    v: f64,
    lo: f64,
    hi: f64,
    what: &str,
) -> Result<f64, ConfigError> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(at.err(
            rel,
            format!("{what} must be between {lo} and {hi}, got {v}"),
        ))
    }
}

fn target_tracking(
    t: &RawTargetTracking,
    at: At,
    rel: &str,
) -> Result<TargetTrackingSpec, ConfigError> {
    let f = |field: &str| format!("{rel}.{field}");
    let (min_replicas, max_replicas) = bounds(at, rel, t.min_replicas, t.max_replicas, false)?;
    let metric = match t.metric.as_str() {
        "cpu" => TrackedMetric::Cpu,
        "requests_per_instance" => TrackedMetric::RequestsPerInstance,
        other => {
            return Err(at.err(
                &f("metric"),
                format!("unknown metric `{other}`, expected `cpu` or `requests_per_instance`"),
            ));
        }
    };
    let target = match metric {
        TrackedMetric::Cpu if t.target > 0.0 && t.target < 1.0 => t.target,
        TrackedMetric::Cpu => {
            return Err(at.err(
                &f("target"),
                format!(
                    "a cpu target is a utilisation between 0 and 1 (0.5 for 50%), got {}",
                    t.target
                ),
            ));
        }
        TrackedMetric::RequestsPerInstance => number_in(
            at,
            &f("target"),
            t.target,
            1e-6,
            1e9,
            "a requests_per_instance target (per second)",
        )?,
    };
    let datapoints = |v: Option<i64>, field: &str, default: i64| {
        int_in(at, &f(field), v.unwrap_or(default), 1, 10_000, field)
    };
    Ok(TargetTrackingSpec {
        metric,
        target,
        min_replicas,
        max_replicas,
        period_s: period_s(at, rel, t.period, 60, "period")?,
        scale_out_datapoints: datapoints(t.scale_out_datapoints, "scale_out_datapoints", 3)?,
        scale_in_datapoints: datapoints(t.scale_in_datapoints, "scale_in_datapoints", 15)?,
        scale_in_threshold: number_in(
            at,
            &f("scale_in_threshold"),
            t.scale_in_threshold.unwrap_or(0.9),
            0.0,
            1.0,
            "scale_in_threshold",
        )?,
        instance_warmup_s: t.instance_warmup.map_or(300.0, |d| d.secs()),
        scale_in_cooldown_s: t.scale_in_cooldown.map_or(300.0, |d| d.secs()),
        scale_in_max_percent: number_in(
            at,
            &f("scale_in_max_percent"),
            t.scale_in_max_percent.unwrap_or(10.0),
            1e-9,
            100.0,
            "scale_in_max_percent",
        )?,
        disable_scale_in: t.disable_scale_in.unwrap_or(false),
    })
}

/// Resolves an autoscaling policy.
pub(crate) fn autoscaler(
    raw: &RawAutoscaler,
    at: At,
    rel: &str,
    instance: &InstanceSpec,
    lifecycle: &LifecycleSpec,
) -> Result<crate::autoscaler::AutoscalerSpec, ConfigError> {
    use crate::autoscaler::AutoscalerSpec;
    use crate::autoscaler::threshold::{Rule, ThresholdSpec};
    let f = |field: &str| format!("{rel}.{field}");
    match raw {
        RawAutoscaler::Hpa(h) => {
            hpa(h, at, rel, instance).map(|spec| AutoscalerSpec::Hpa(Box::new(spec)))
        }
        RawAutoscaler::TargetTracking(t) => {
            target_tracking(t, at, rel).map(AutoscalerSpec::TargetTracking)
        }
        RawAutoscaler::Predictive(p) => {
            predictive(p, at, rel, lifecycle).map(|spec| AutoscalerSpec::Predictive(Box::new(spec)))
        }
        RawAutoscaler::Keda(k) => keda(k, at, rel).map(|spec| AutoscalerSpec::Keda(Box::new(spec))),
        RawAutoscaler::DatabaseReplicas(d) => {
            database_replicas(d, at, rel).map(AutoscalerSpec::DatabaseReplicas)
        }
        RawAutoscaler::Threshold {
            min_replicas,
            max_replicas,
            period,
            cooldown,
            scale_out,
            scale_in,
        } => {
            let (min, max) = bounds(at, rel, *min_replicas, *max_replicas, false)?;
            let period = match period {
                Some(p) => positive_duration(at, &f("period"), *p, "period")?,
                None => SimDuration::from_secs(60),
            };
            let cooldown = cooldown.map_or(SimDuration::from_secs(300), |c| c.0);
            if scale_out.is_empty() && scale_in.is_empty() {
                return Err(at.err(
                    rel,
                    "a threshold policy needs at least one rule in `scale_out` or `scale_in`",
                ));
            }
            let rules = |list: &[RawRule],
                         side: &str,
                         key: &str|
             -> Result<Vec<Rule>, ConfigError> {
                list.iter()
                    .enumerate()
                    .map(|(k, r)| {
                        threshold_rule(r, at, &format!("{rel}.{side}[{k}]"), key, period, instance)
                    })
                    .collect()
            };
            Ok(AutoscalerSpec::Threshold(ThresholdSpec {
                min_replicas: min,
                max_replicas: max,
                period_s: period.as_secs_f64(),
                cooldown_s: cooldown.as_secs_f64(),
                scale_out: rules(scale_out, "scale_out", "above")?,
                scale_in: rules(scale_in, "scale_in", "below")?,
            }))
        }
    }
}

fn threshold_rule(
    r: &RawRule,
    at: At,
    rel: &str,
    key: &str,
    period: SimDuration,
    instance: &InstanceSpec,
) -> Result<crate::autoscaler::threshold::Rule, ConfigError> {
    use crate::autoscaler::threshold::{Rule, Signal};
    let (value, wrong) = match key {
        "above" => (&r.above, r.below.is_some()),
        _ => (&r.below, r.above.is_some()),
    };
    if wrong {
        let other = if key == "above" { "below" } else { "above" };
        return Err(at.err(&format!("{rel}.{other}"), format!("a rule in this list fires when the metric is `{key}` its threshold; `{other}` belongs in the other list")));
    }
    let Some(value) = value else {
        return Err(at.err(rel, format!("the rule needs `{key}`: its threshold")));
    };
    let vrel = format!("{rel}.{key}");
    let (signal, threshold) = match r.metric.as_str() {
        "cpu" => match value.as_f64() {
            Some(v) if v > 0.0 && v < 1.0 => (Signal::Cpu, v),
            _ => return Err(at.err(&vrel, format!("a cpu threshold is a utilisation between 0 and 1 (0.7 for 70%), got {value}"))),
        },
        "memory" => match value.as_f64() {
            Some(v) if v > 0.0 && v < 1.0 && instance.memory.and_then(|m| m.capacity_bytes()).is_some() => (Signal::Memory, v),
            Some(v) if v > 0.0 && v < 1.0 => return Err(at.err(&format!("{rel}.metric"), "a memory rule needs the memory model: give the service's instance a `memory` with a `limit` or a `request` (utilisation is over the limit, else the request)")),
            _ => return Err(at.err(&vrel, format!("a memory threshold is a utilisation between 0 and 1 (0.8 for 80%), got {value}"))),
        },
        "queue_length" => match value.as_f64() {
            Some(v) if v >= 0.0 && v.is_finite() => (Signal::QueueLength, v),
            _ => return Err(at.err(&vrel, format!("a queue_length threshold is a number of waiting requests per instance, got {value}"))),
        },
        "response_time" => match value.as_str().map(quantity::Duration::parse) {
            Some(Ok(d)) if !d.0.is_zero() => (Signal::ResponseTime, d.secs()),
            _ => return Err(at.err(&vrel, format!("a response_time threshold is a duration such as \"500ms\", got {value}"))),
        },
        other => {
            return Err(at.err(&format!("{rel}.metric"), format!("unknown metric `{other}`, expected one of `cpu`, `memory`, `queue_length`, `response_time`")));
        }
    };
    let hold = r.for_.map_or(period, |d| d.0);
    if hold.as_nanos() % period.as_nanos() != 0 || hold.is_zero() {
        return Err(at.err(&format!("{rel}.for"), format!("`for` (\"{hold}\") must be a whole number of periods (\"{period}\"), since the rule counts datapoints")));
    }
    let step = int_in(
        at,
        &format!("{rel}.step"),
        r.step.unwrap_or(1),
        1,
        MAX_INSTANCES,
        "step",
    )?;
    Ok(Rule {
        signal,
        threshold,
        datapoints: (hold.as_nanos() / period.as_nanos()) as u32,
        step,
    })
}

fn database_replicas(
    d: &crate::config::raw::RawDatabaseReplicas,
    at: At,
    rel: &str,
) -> Result<crate::autoscaler::database_replicas::DatabaseReplicasSpec, ConfigError> {
    let f = |field: &str| format!("{rel}.{field}");
    let period = match d.period {
        Some(p) => positive_duration(at, &f("period"), p, "period")?,
        None => SimDuration::from_secs(60),
    };
    let steps = d.ratio_steps.unwrap_or([5.0, 10.0]);
    if !(steps.iter().all(|v| v.is_finite() && *v >= 0.0) && steps[0] <= steps[1]) {
        return Err(at.err(
            &f("ratio_steps"),
            format!(
                "two read/write ratios, 0 or more and in order (Go Coffee: [5, 10]), got {steps:?}"
            ),
        ));
    }
    let connections_above = d.connections_above.unwrap_or(80.0);
    if !(connections_above.is_finite() && connections_above >= 0.0) {
        return Err(at.err(
            &f("connections_above"),
            format!("a number of connections, 0 or more, got {connections_above}"),
        ));
    }
    let cpu_above = d.cpu_above.unwrap_or(0.7);
    if !(cpu_above.is_finite() && (0.0..=1.0).contains(&cpu_above)) {
        return Err(at.err(
            &f("cpu_above"),
            format!("a CPU utilisation from 0 to 1, got {cpu_above}"),
        ));
    }
    let (min, max) = bounds(
        at,
        rel,
        d.min_replicas.unwrap_or(1),
        d.max_replicas.unwrap_or(5),
        true,
    )?;
    Ok(crate::autoscaler::database_replicas::DatabaseReplicasSpec {
        period_s: period.as_secs_f64(),
        ratio_steps: steps,
        connections_above,
        cpu_above,
        min_replicas: min,
        max_replicas: max,
    })
}
