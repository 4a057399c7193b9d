//! The rules a state must follow beyond its types: the API server's validation of an HPA
//! (`pkg/apis/autoscaling/validation`) and the consistency of the observed parts.

use std::collections::BTreeSet;

use super::error::StateError;
use super::state::{
    Behavior, ControllerConfig, HpaState, MAX_PERIOD_S, MAX_STABILIZATION_WINDOW_S, MetricSource,
    MetricSpec, Pod, PodPhase, ResourceTarget, ScalingRules, ValueTarget,
};

type Check = Result<(), StateError>;

/// The first problem with `state`, in field order.
pub(super) fn validate(state: &HpaState) -> Check {
    if state.max_replicas < 1 {
        return Err(StateError::invalid("max_replicas", "must be at least 1"));
    }
    if state.min_replicas > state.max_replicas {
        return Err(StateError::invalid(
            "min_replicas",
            format!(
                "{} is more than max_replicas ({})",
                state.min_replicas, state.max_replicas
            ),
        ));
    }
    for (field, value) in [
        ("spec_replicas", state.spec_replicas),
        ("status_replicas", state.status_replicas),
    ] {
        if value > i32::MAX as u32 {
            return Err(StateError::invalid(
                field,
                "is beyond the int32 range of a replica count",
            ));
        }
    }
    validate_metrics(state)?;
    validate_pods(state)?;
    if let Some(behavior) = &state.behavior {
        validate_behavior(behavior)?;
    }
    if let Some(recommendations) = &state.recommendations {
        for (i, r) in recommendations.iter().enumerate() {
            age(&format!("recommendations[{i}].age_s"), r.age_s)?;
        }
    }
    for (field, events) in [
        ("scale_up_events", &state.scale_up_events),
        ("scale_down_events", &state.scale_down_events),
    ] {
        for (i, e) in events.iter().enumerate() {
            age(&format!("{field}[{i}].age_s"), e.age_s)?;
        }
    }
    validate_config(&state.config)
}

fn validate_metrics(state: &HpaState) -> Check {
    if state.metrics.is_empty() {
        return Err(StateError::invalid(
            "metrics",
            "needs at least one metric (a snapshot without metrics gets the API default, cpu at 80% utilization)",
        ));
    }
    for (i, metric) in state.metrics.iter().enumerate() {
        validate_metric(&format!("metrics[{i}]"), metric)?;
    }
    // Resource and Pods metrics read `samples[name]`; a Pods metric named like a resource would
    // read the resource's samples.
    for (i, metric) in state.metrics.iter().enumerate() {
        if let MetricSource::Pods { .. } = metric.source {
            let clash = state
                .metrics
                .iter()
                .any(|m| m.name == metric.name && matches!(m.source, MetricSource::Resource(_)));
            if clash {
                return Err(StateError::invalid(
                    format!("metrics[{i}].name"),
                    format!(
                        "a Pods metric and a Resource metric are both named `{}`; samples are keyed by metric name, so rename one",
                        metric.name
                    ),
                ));
            }
        }
    }
    if state.min_replicas == 0
        && !state.metrics.iter().any(|m| {
            matches!(
                m.source,
                MetricSource::Object { .. } | MetricSource::External { .. }
            )
        })
    {
        return Err(StateError::invalid(
            "min_replicas",
            "0 (scale to zero) needs at least one Object or External metric, as the API requires",
        ));
    }
    Ok(())
}

fn validate_metric(path: &str, metric: &MetricSpec) -> Check {
    if metric.name.is_empty() {
        return Err(StateError::invalid(
            format!("{path}.name"),
            "must not be empty",
        ));
    }
    let target = format!("{path}.target");
    match &metric.source {
        MetricSource::Resource(ResourceTarget::Utilization {
            average_utilization,
        }) => positive(
            &format!("{target}.average_utilization"),
            i64::from(*average_utilization),
        ),
        MetricSource::Resource(ResourceTarget::AverageValue {
            average_value_milli,
        })
        | MetricSource::Pods {
            average_value_milli,
        } => positive(
            &format!("{target}.average_value_milli"),
            *average_value_milli,
        ),
        MetricSource::Object {
            target: t,
            value_milli,
        }
        | MetricSource::External {
            target: t,
            value_milli,
        } => {
            match t {
                ValueTarget::Value { value_milli } => {
                    positive(&format!("{target}.value_milli"), *value_milli)?
                }
                ValueTarget::AverageValue {
                    average_value_milli,
                } => positive(
                    &format!("{target}.average_value_milli"),
                    *average_value_milli,
                )?,
            }
            match value_milli {
                Some(v) if *v < 0 => Err(StateError::invalid(
                    format!("{path}.value_milli"),
                    format!("{v} is negative"),
                )),
                None if !metric.fetch_error => Err(StateError::invalid(
                    format!("{path}.value_milli"),
                    "is required for an Object or External metric (unless fetch_error is true)",
                )),
                _ => Ok(()),
            }
        }
    }
}

fn validate_pods(state: &HpaState) -> Check {
    let mut names = BTreeSet::new();
    for (i, pod) in state.pods.iter().enumerate() {
        let path = format!("pods[{i}]");
        if pod.name.is_empty() {
            return Err(StateError::invalid(
                format!("{path}.name"),
                "must not be empty",
            ));
        }
        if !names.insert(pod.name.as_str()) {
            return Err(StateError::invalid(
                format!("{path}.name"),
                format!("pod `{}` is listed twice", pod.name),
            ));
        }
        validate_pod(&path, pod, &state.metrics)?;
    }
    Ok(())
}

fn validate_pod(path: &str, pod: &Pod, metrics: &[MetricSpec]) -> Check {
    if let Some(s) = pod.started_s_ago {
        age(&format!("{path}.started_s_ago"), s)?;
    } else if pod.phase != PodPhase::Pending {
        return Err(StateError::invalid(
            format!("{path}.started_s_ago"),
            format!(
                "a {:?} pod has a start time; give its age in seconds",
                pod.phase
            ),
        ));
    }
    if let Some(s) = pod.ready_changed_s_ago {
        age(&format!("{path}.ready_changed_s_ago"), s)?;
    }
    for (resource, request) in &pod.requests_milli {
        if *request < 0 {
            return Err(StateError::invalid(
                format!("{path}.requests_milli.{resource}"),
                format!("{request} is negative"),
            ));
        }
    }
    // The metrics whose values are pod samples.
    let sampled = metrics
        .iter()
        .filter(|m| {
            matches!(
                m.source,
                MetricSource::Resource(_) | MetricSource::Pods { .. }
            )
        })
        .map(|m| m.name.as_str());
    for (name, sample) in &pod.samples {
        let sample_path = format!("{path}.samples.{name}");
        if !sampled.clone().any(|m| m == name) {
            let known: Vec<&str> = sampled.clone().collect();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            return Err(StateError::invalid(
                sample_path,
                format!(
                    "no Resource or Pods metric is named `{name}` (samples can be for: {known})"
                ),
            ));
        }
        if sample.value_milli < 0 {
            return Err(StateError::invalid(
                format!("{sample_path}.value_milli"),
                format!("{} is negative", sample.value_milli),
            ));
        }
        age(&format!("{sample_path}.age_s"), sample.age_s)?;
        age(&format!("{sample_path}.window_s"), sample.window_s)?;
    }
    Ok(())
}

fn validate_behavior(behavior: &Behavior) -> Check {
    validate_rules("behavior.scale_up", &behavior.scale_up)?;
    validate_rules("behavior.scale_down", &behavior.scale_down)
}

fn validate_rules(path: &str, rules: &ScalingRules) -> Check {
    if let Some(window) = rules.stabilization_window_s {
        if window > MAX_STABILIZATION_WINDOW_S {
            return Err(StateError::invalid(
                format!("{path}.stabilization_window_s"),
                format!(
                    "{window} is more than the API's maximum of {MAX_STABILIZATION_WINDOW_S} seconds"
                ),
            ));
        }
    }
    if rules.policies.is_empty() {
        return Err(StateError::invalid(
            format!("{path}.policies"),
            "must specify at least one policy",
        ));
    }
    for (i, policy) in rules.policies.iter().enumerate() {
        if policy.value == 0 {
            return Err(StateError::invalid(
                format!("{path}.policies[{i}].value"),
                "must be greater than zero",
            ));
        }
        if policy.period_s == 0 || policy.period_s > MAX_PERIOD_S {
            return Err(StateError::invalid(
                format!("{path}.policies[{i}].period_s"),
                format!("{} is outside 1..={MAX_PERIOD_S} seconds", policy.period_s),
            ));
        }
    }
    if let Some(t) = rules.tolerance {
        non_negative(&format!("{path}.tolerance"), t)?;
    }
    Ok(())
}

fn validate_config(config: &ControllerConfig) -> Check {
    non_negative("config.tolerance.scale_up", config.tolerance.scale_up)?;
    non_negative("config.tolerance.scale_down", config.tolerance.scale_down)?;
    non_negative(
        "config.downscale_stabilization_s",
        config.downscale_stabilization_s,
    )?;
    non_negative(
        "config.cpu_initialization_period_s",
        config.cpu_initialization_period_s,
    )?;
    non_negative(
        "config.initial_readiness_delay_s",
        config.initial_readiness_delay_s,
    )?;
    if !(config.scale_up_limit_factor.is_finite() && config.scale_up_limit_factor >= 1.0) {
        return Err(StateError::invalid(
            "config.scale_up_limit_factor",
            format!(
                "{} must be a number of at least 1 (below 1 a scale-up would shrink the target)",
                config.scale_up_limit_factor
            ),
        ));
    }
    non_negative(
        "config.scale_up_limit_minimum",
        config.scale_up_limit_minimum,
    )
}

fn positive(path: &str, value: i64) -> Check {
    if value > 0 {
        Ok(())
    } else {
        Err(StateError::invalid(
            path,
            format!("{value} must be greater than zero"),
        ))
    }
}

fn non_negative(path: &str, value: f64) -> Check {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(StateError::invalid(
            path,
            format!("{value} must be a finite number >= 0"),
        ))
    }
}

/// An age or duration in seconds.
fn age(path: &str, seconds: f64) -> Check {
    if seconds.is_finite() && seconds >= 0.0 {
        Ok(())
    } else {
        Err(StateError::invalid(
            path,
            format!("{seconds} must be a finite number of seconds >= 0"),
        ))
    }
}
