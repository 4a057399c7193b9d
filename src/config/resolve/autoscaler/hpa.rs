//! The Kubernetes HPA and KEDA from their file form, each built as the snapshot `surge hpa`
//! reads and parsed by the same code.

use super::{bounds, number_in, period_s};
use crate::autoscaler::keda::KedaSpec;
use crate::components::instance::InstanceSpec;
use crate::config::raw::{RawHpa, RawKeda};
use crate::config::resolve::{At, MAX_INSTANCES, int_in, positive_duration};
use crate::config::{ConfigError, quantity};

pub(super) fn keda(k: &RawKeda, at: At, rel: &str) -> Result<KedaSpec, ConfigError> {
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

/// Resolves a simulated HPA by building the snapshot it would have and parsing it with the same
/// code as `surge hpa`, so both accept exactly the same metrics, behavior and controller flags.
pub(super) fn hpa(
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
    let period = |d: &Option<quantity::Duration>, field: &str| -> Result<f64, ConfigError> {
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
