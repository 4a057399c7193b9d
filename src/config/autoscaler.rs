//! Autoscaling policies from their file form: bounds, periods and rules checked, with the JSON
//! path of anything impossible.

use super::error::ConfigError;
use super::raw::*;
use super::resolve::{At, MAX_INSTANCES, int_in, positive_duration};
use crate::autoscaler::forecast::ForecasterSpec;
use crate::autoscaler::keda::KedaSpec;
use crate::autoscaler::predictive::PredictiveSpec;
use crate::autoscaler::target_tracking::{TargetTrackingSpec, TrackedMetric};
use crate::components::instance::InstanceSpec;
use crate::components::lifecycle::LifecycleSpec;
use crate::kernel::SimDuration;

/// Checks `min <= max` replica bounds, both within limits (`min` may be 0 when `zero_ok`).
fn bounds(at: At, rel: &str, min: i64, max: i64, zero_ok: bool) -> Result<(u32, u32), ConfigError> {
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
fn period_s(
    at: At,
    rel: &str,
    d: Option<super::quantity::Duration>,
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
fn number_in(at: At, rel: &str, v: f64, lo: f64, hi: f64, what: &str) -> Result<f64, ConfigError> {
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

fn predictive(
    p: &RawPredictive,
    at: At,
    rel: &str,
    lifecycle: &LifecycleSpec,
) -> Result<PredictiveSpec, ConfigError> {
    let f = |field: &str| format!("{rel}.{field}");
    let (min_replicas, max_replicas) = bounds(at, rel, p.min_replicas, p.max_replicas, false)?;
    let period = period_s(at, rel, p.period, 60, "period")?;
    // Whole periods, so a season or window is a number of observations.
    let periods = |d: super::quantity::Duration, field: &str| -> Result<u32, ConfigError> {
        let n = d.secs() / period;
        if (n - n.round()).abs() > 1e-9 || n.round() < 1.0 || n > 1e6 {
            return Err(at.err(
                field,
                format!(
                    "must be a whole number of periods ({period} s), at most a million, got \"{}\"",
                    d.0
                ),
            ));
        }
        Ok(n.round() as u32)
    };
    let mut forecasters = Vec::new();
    match &p.forecasters {
        None => {
            forecasters.push(ForecasterSpec::HoltWinters {
                alpha: 0.3,
                beta: 0.05,
                gamma: 0.3,
                season_periods: periods(
                    super::quantity::Duration(SimDuration::from_secs(86_400)),
                    &f("period"),
                )?,
            });
            forecasters.push(ForecasterSpec::LinearTrend { window_periods: 10 });
        }
        Some(list) if list.is_empty() => {
            return Err(at.err(
                &f("forecasters"),
                "a predictive policy needs at least one forecaster",
            ));
        }
        Some(list) => {
            for (k, raw) in list.iter().enumerate() {
                let frel = f(&format!("forecasters[{k}]"));
                let unit = |v: Option<f64>, field: &str, default: f64| {
                    number_in(
                        at,
                        &format!("{frel}.{field}"),
                        v.unwrap_or(default),
                        0.0,
                        1.0,
                        field,
                    )
                };
                forecasters.push(match raw {
                    RawForecaster::HoltWinters {
                        alpha,
                        beta,
                        gamma,
                        season,
                    } => ForecasterSpec::HoltWinters {
                        alpha: unit(*alpha, "alpha", 0.3)?,
                        beta: unit(*beta, "beta", 0.05)?,
                        gamma: unit(*gamma, "gamma", 0.3)?,
                        season_periods: periods(
                            season.unwrap_or(super::quantity::Duration(SimDuration::from_secs(
                                86_400,
                            ))),
                            &format!("{frel}.season"),
                        )?,
                    },
                    RawForecaster::LinearTrend { window } => {
                        let n = match window {
                            Some(w) => periods(*w, &format!("{frel}.window"))?,
                            None => 10,
                        };
                        // The fit is O(window) per evaluation: a bound keeps runs finite.
                        if !(2..=10_000).contains(&n) {
                            return Err(at.err(
                                &format!("{frel}.window"),
                                format!("a line is fitted to 2 to 10,000 periods, got {n}"),
                            ));
                        }
                        ForecasterSpec::LinearTrend { window_periods: n }
                    }
                });
            }
        }
    }
    if p.requests_per_replica.is_none() && p.cpu_target.is_none() {
        return Err(at.err(rel, "a predictive policy sizes by `requests_per_replica`, `cpu_target` or both; give at least one"));
    }
    let requests_per_replica = p
        .requests_per_replica
        .map(|v| {
            number_in(
                at,
                &f("requests_per_replica"),
                v,
                1e-6,
                1e9,
                "requests_per_replica",
            )
        })
        .transpose()?;
    let cpu_target = match p.cpu_target {
        Some(v) if v > 0.0 && v <= 1.0 => Some(v),
        Some(v) => {
            return Err(at.err(
                &f("cpu_target"),
                format!("cpu_target is a utilisation above 0 and at most 1 (0.7 for 70%), got {v}"),
            ));
        }
        None => None,
    };
    let history = match &p.history {
        None => Vec::new(),
        Some(h) => {
            let hrel = f("history");
            let dir = at.dir;
            let profile = super::resolve::rate_profile(&h.rate, at, &format!("{hrel}.rate"), dir)?;
            let n = periods(h.duration, &format!("{hrel}.duration"))?;
            // The mean rate of each period, from eight points within it.
            (0..n)
                .map(|k| {
                    (0..8)
                        .map(|j| {
                            profile.rate_at((f64::from(k) + (f64::from(j) + 0.5) / 8.0) * period)
                        })
                        .sum::<f64>()
                        / 8.0
                })
                .collect()
        }
    };
    Ok(PredictiveSpec {
        min_replicas,
        max_replicas,
        period_s: period,
        look_ahead_s: p
            .look_ahead
            .map_or(lifecycle.time_to_ready().as_secs_f64(), |d| d.secs()),
        forecasters,
        requests_per_replica,
        cpu_target,
        scale_in_stabilization_s: p.scale_in_stabilization.map_or(300.0, |d| d.secs()),
        history,
    })
}

fn keda(k: &RawKeda, at: At, rel: &str) -> Result<KedaSpec, ConfigError> {
    use crate::autoscaler::hpa::{StateError, parse_snapshot};
    let f = |field: &str| format!("{rel}.{field}");
    let (min_replicas, max_replicas) = bounds(
        at,
        rel,
        k.min_replicas.unwrap_or(0),
        k.max_replicas.unwrap_or(100),
        true,
    )?;
    let target = number_in(
        at,
        &f("target"),
        k.target,
        1e-3,
        1e12,
        "target (messages per replica)",
    )?;
    let activation_target = number_in(
        at,
        &f("activation_target"),
        k.activation_target.unwrap_or(0.0),
        0.0,
        1e12,
        "activation_target",
    )?;
    let polling = period_s(at, rel, k.polling_interval, 30, "polling_interval")?;
    // The HPA KEDA generates: min max(1, min), one External AverageValue metric.
    let snapshot = serde_json::json!({
        "spec_replicas": 1,
        "min_replicas": min_replicas.max(1),
        "max_replicas": max_replicas,
        "metrics": [{
            "type": "External",
            "name": crate::autoscaler::keda::QUEUE_METRIC,
            "target": { "type": "AverageValue", "average_value_milli": (target * 1000.0).round().max(1.0) as i64 },
            "value_milli": 0
        }],
        "behavior": k.behavior.clone().unwrap_or(serde_json::Value::Null),
    });
    let template = parse_snapshot(&snapshot.to_string()).map_err(|e| match e {
        StateError::Invalid { path, message, .. } => at.err(&f(&path), message),
        other => at.err(rel, other.to_string()),
    })?;
    Ok(KedaSpec {
        min_replicas,
        max_replicas,
        target,
        activation_target,
        polling_interval_s: polling,
        cooldown_s: k.cooldown_period.map_or(300.0, |d| d.secs()),
        hpa: crate::autoscaler::hpa_controller::HpaSpec {
            template,
            sync_period_s: polling,
            metric_resolution_s: polling,
            cpu_request_milli: None,
        },
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

/// Resolves a simulated HPA by building the snapshot it would have and parsing it with the same
/// code as `surge hpa`, so both accept exactly the same metrics, behavior and controller flags.
fn hpa(
    h: &RawHpa,
    at: At,
    rel: &str,
    instance: &InstanceSpec,
) -> Result<crate::autoscaler::hpa_controller::HpaSpec, ConfigError> {
    use crate::autoscaler::hpa::{MetricSource, ResourceTarget, StateError, parse_snapshot};
    use crate::autoscaler::hpa_controller::POD_METRICS;
    let f = |field: &str| format!("{rel}.{field}");
    int_in(
        at,
        &f("max_replicas"),
        h.max_replicas,
        1,
        MAX_INSTANCES,
        "max_replicas",
    )?;
    let snapshot = serde_json::json!({
        "spec_replicas": 1,
        "min_replicas": h.min_replicas.unwrap_or(1),
        "max_replicas": h.max_replicas,
        "metrics": h.metrics.clone().unwrap_or_else(|| serde_json::json!([])),
        "behavior": h.behavior.clone().unwrap_or(serde_json::Value::Null),
        "config": h.controller.clone().unwrap_or_else(|| serde_json::json!({})),
    });
    let template = parse_snapshot(&snapshot.to_string()).map_err(|e| match e {
        StateError::Invalid { path, message, .. } => {
            let path = match path.strip_prefix("config") {
                Some(rest) => format!("controller{rest}"),
                None => path,
            };
            at.err(&f(&path), message)
        }
        other => at.err(rel, other.to_string()),
    })?;
    let memory_request_milli = instance
        .memory
        .and_then(|m| m.request_bytes.or(m.limit_bytes))
        .map(|b| i64::try_from(u128::from(b) * 1000).unwrap_or(i64::MAX));
    for (k, m) in template.metrics.iter().enumerate() {
        let mrel = f(&format!("metrics[{k}]"));
        let utilization = matches!(
            m.source,
            MetricSource::Resource(ResourceTarget::Utilization { .. })
        );
        match (&m.source, m.name.as_str()) {
            (MetricSource::Resource(_), "cpu") => {}
            (MetricSource::Pods { .. }, name) if POD_METRICS.contains(&name) => {}
            (MetricSource::Resource(_), "memory") if instance.memory.is_none() => {
                return Err(at.err(&mrel, "a memory metric needs the memory model: give the service's instance a `memory` ({\"base\": ..., \"per_request\": ..., \"limit\": ...})"));
            }
            (MetricSource::Resource(_), "memory") if utilization && memory_request_milli.is_none() => {
                return Err(at.err(&mrel, "memory Utilization is over the pod's memory request: give the instance's `memory` a `request` or a `limit`"));
            }
            (MetricSource::Resource(_), "memory") => {}
            (MetricSource::Resource(_), other) => {
                return Err(at.err(&mrel, format!("the simulation measures the `cpu` and `memory` resources, not `{other}`")));
            }
            (MetricSource::Pods { .. }, other) => {
                return Err(at.err(&mrel, format!("the simulation measures the Pods metric `requests_per_second` (or `http_requests_per_second`), not `{other}`")));
            }
            _ => return Err(at.err(&mrel, "Object and External metrics have no source in the simulation; use Resource `cpu` or `memory`, or Pods `requests_per_second`")),
        }
    }
    let period = |d: &Option<super::quantity::Duration>, field: &str| -> Result<f64, ConfigError> {
        match d {
            Some(d) => Ok(positive_duration(at, &f(field), *d, field)?.as_secs_f64()),
            None => Ok(15.0),
        }
    };
    let cpu_request_milli = match h.cpu_request_milli {
        Some(m) if m > 0 => Some(m),
        Some(m) => {
            return Err(at.err(
                &f("cpu_request_milli"),
                format!("a CPU request is a positive number of millicores, got {m}"),
            ));
        }
        None => None,
    };
    Ok(crate::autoscaler::hpa_controller::HpaSpec {
        template,
        sync_period_s: period(&h.sync_period, "sync_period")?,
        metric_resolution_s: period(&h.metric_resolution, "metric_resolution")?,
        cpu_request_milli,
    })
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
        "response_time" => match value.as_str().map(super::quantity::Duration::parse) {
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
