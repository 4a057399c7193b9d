//! One reconcile of one HPA, as upstream's `reconcileAutoscaler`: the bounds checks, the
//! proposals of all metrics combined (`computeReplicasForMetrics`), normalization, and what the
//! controller records.

use super::behavior::{self, Normalized};
use super::decision::{
    ConditionStatus, ConditionType, Conditions, Decision, Event, EventType, MetricOutcome,
    ScaleAction,
};
use super::replica_calculator::{Calculator, Proposal};
use super::state::{
    HpaState, MetricSource, MetricSpec, Recommendation, ResourceTarget, SelectPolicy, Tolerances,
    ValueTarget,
};

/// Decides the replica count for `state`, as one reconcile of the upstream controller would.
///
/// Pure and total: it reads only `state`, never panics, and returns the controller memory to
/// carry forward in [`Decision::next_recommendations`] and the `next_scale_*_events`.
pub fn reconcile(state: &HpaState) -> Decision {
    let current = state.spec_replicas;
    let mut conditions = Conditions::default();
    let mut events = Vec::new();
    conditions.set(
        ConditionType::AbleToScale,
        ConditionStatus::True,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    );
    // recordInitialRecommendation: the first time the controller sees this HPA, the current
    // count becomes its first recommendation, so a scale-down waits a full window.
    let history = state.recommendations.clone().unwrap_or_else(|| {
        vec![Recommendation {
            replicas: current,
            age_s: 0.0,
        }]
    });

    // Each branch gives the decision and the rescale reason (used only if the count changes).
    let (mut decision, rescale_reason) = if current == 0 && state.min_replicas != 0 {
        let message = "scaling is disabled since the replica count of the target is zero";
        conditions.set(
            ConditionType::ScalingActive,
            ConditionStatus::False,
            "ScalingDisabled",
            message,
        );
        (
            unchanged(state, message.to_string(), history),
            String::new(),
        )
    } else if current > state.max_replicas || current < state.min_replicas {
        // Outside the bounds: go to the bound, with no metrics, stabilization or rate limit.
        let (bound, reason) = if current > state.max_replicas {
            (
                state.max_replicas,
                "Current number of replicas above Spec.MaxReplicas",
            )
        } else {
            (
                state.min_replicas,
                "Current number of replicas below Spec.MinReplicas",
            )
        };
        let decision = Decision {
            desired_replicas: bound,
            ..unchanged(state, reason.to_string(), history)
        };
        (decision, reason.to_string())
    } else {
        let mut combined = compute_replicas_for_metrics(state, &mut conditions, &mut events);
        match combined.valid.take() {
            Some(valid) => from_metrics(state, valid, combined, &mut conditions, history),
            None => {
                // Upstream returns here: no recommendation is recorded, nothing is scaled.
                let error = combined.error.unwrap_or_default();
                events.push(Event {
                    kind: EventType::Warning,
                    reason: "FailedComputeMetricsReplicas".into(),
                    message: error.clone(),
                });
                let reason = format!(
                    "failed to compute desired number of replicas based on listed metrics: {error}"
                );
                let decision = Decision {
                    metrics: combined.outcomes,
                    ..unchanged(state, reason, history)
                };
                (decision, String::new())
            }
        }
    };

    let desired = decision.desired_replicas;
    if desired != current {
        conditions.set(
            ConditionType::AbleToScale,
            ConditionStatus::True,
            "SucceededRescale",
            format!("the HPA controller was able to update the target scale to {desired}"),
        );
        events.push(Event {
            kind: EventType::Normal,
            reason: "SuccessfulRescale".into(),
            message: format!("New size: {desired}; reason: {rescale_reason}"),
        });
        let (up, down) = behavior::record_scale_event(
            state.behavior.as_ref(),
            &state.scale_up_events,
            &state.scale_down_events,
            current,
            desired,
        );
        decision.next_scale_up_events = up;
        decision.next_scale_down_events = down;
        decision.action = if desired > current {
            ScaleAction::ScaleUp
        } else {
            ScaleAction::ScaleDown
        };
    }
    decision.conditions = conditions.into_vec();
    decision.events = events;
    decision
}

/// A decision to keep the current count, carrying the memory forward unchanged but for
/// `history`; conditions and events are filled in at the end of [`reconcile`].
fn unchanged(state: &HpaState, reason: String, history: Vec<Recommendation>) -> Decision {
    Decision {
        desired_replicas: state.spec_replicas,
        current_replicas: state.spec_replicas,
        action: ScaleAction::Keep,
        reason,
        metric_desired_replicas: None,
        stabilized_replicas: None,
        stabilized: false,
        limited: false,
        metrics: Vec::new(),
        conditions: Vec::new(),
        events: Vec::new(),
        next_recommendations: history,
        next_scale_up_events: state.scale_up_events.clone(),
        next_scale_down_events: state.scale_down_events.clone(),
    }
}

/// The metric path: the largest proposal, stabilized and limited. Returns the decision and the
/// rescale reason.
fn from_metrics(
    state: &HpaState,
    valid: Valid,
    combined: Combined,
    conditions: &mut Conditions,
    history: Vec<Recommendation>,
) -> (Decision, String) {
    let current = i64::from(state.spec_replicas);
    let proposal = i64::from(valid.replicas).max(0);
    let rescale_reason = if proposal > current {
        format!("{} above target", valid.metric)
    } else if proposal < current {
        "All metrics below target".to_string()
    } else {
        String::new()
    };
    let n: Normalized = match &state.behavior {
        None => behavior::normalize_legacy(state, history, proposal),
        Some(b) => behavior::normalize_with_behavior(state, b, history, proposal),
    };
    conditions.set(
        ConditionType::AbleToScale,
        ConditionStatus::True,
        n.stabilization.0,
        n.stabilization.1,
    );
    let limited = n.desired != n.stabilized;
    let status = if limited {
        ConditionStatus::True
    } else {
        ConditionStatus::False
    };
    conditions.set(ConditionType::ScalingLimited, status, n.limit.0, n.limit.1);

    let stabilized = n.stabilized != proposal;
    let desired = u32::try_from(n.desired.max(0)).unwrap_or(u32::MAX);
    let limit_message = if limited {
        Some(limit_message(state, &n))
    } else {
        None
    };
    let mut reason = if i64::from(desired) != current {
        // The rescale reason is empty when the metrics propose the current count and the
        // stabilization moves it (upstream's event then ends in "reason: ").
        let stabilization = stabilized.then_some(n.stabilization.1);
        [
            Some(rescale_reason.as_str()),
            stabilization,
            limit_message.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
    } else if stabilized && n.stabilized == current {
        format!("{rescale_reason}, but {}", n.stabilization.1)
    } else if let Some(m) = limit_message {
        format!("{rescale_reason}, but {m}")
    } else {
        // The metrics propose the current count.
        let detail = combined
            .outcomes
            .iter()
            .find(|o| o.description == valid.metric)
            .and_then(|o| o.note.clone());
        match detail {
            Some(note) => format!("{}; {}: {note}", n.stabilization.1, valid.metric),
            None => n.stabilization.1.to_string(),
        }
    };
    if let Some(error) = &combined.error {
        let invalid = combined
            .outcomes
            .iter()
            .filter(|o| o.error.is_some())
            .count();
        reason = format!(
            "{reason}; {invalid} of {} metrics could not be computed, so only a scale-up on the valid ones is allowed ({error})",
            combined.outcomes.len()
        );
    }
    let decision = Decision {
        desired_replicas: desired,
        metric_desired_replicas: Some(valid.replicas),
        stabilized_replicas: Some(i32::try_from(n.stabilized).unwrap_or(i32::MAX)),
        stabilized,
        limited,
        metrics: combined.outcomes,
        ..unchanged(state, reason, n.history)
    };
    (decision, rescale_reason)
}

/// The limit's upstream message, saying so when the direction is disabled.
fn limit_message(state: &HpaState, n: &Normalized) -> String {
    let current = i64::from(state.spec_replicas);
    if let Some(b) = &state.behavior {
        if n.stabilized > current
            && n.desired == current
            && b.scale_up.select_policy == SelectPolicy::Disabled
        {
            return "scaling up is disabled (behavior.scale_up.select_policy is Disabled)"
                .to_string();
        }
        if n.stabilized < current
            && n.desired == current
            && b.scale_down.select_policy == SelectPolicy::Disabled
        {
            return "scaling down is disabled (behavior.scale_down.select_policy is Disabled)"
                .to_string();
        }
    }
    n.limit.1.to_string()
}

/// The tolerances in force: the controller's, overridden per direction by `behavior`.
fn tolerances(state: &HpaState) -> Tolerances {
    let mut t = state.config.tolerance;
    if let Some(b) = &state.behavior {
        if let Some(up) = b.scale_up.tolerance {
            t.scale_up = up;
        }
        if let Some(down) = b.scale_down.tolerance {
            t.scale_down = down;
        }
    }
    t
}

/// The metrics combined.
struct Combined {
    outcomes: Vec<MetricOutcome>,
    /// `None` if the metrics cannot be used (all failed, or some failed and the valid ones
    /// would scale down).
    valid: Option<Valid>,
    /// "invalid metrics (...), first error is: ..." when any metric failed.
    error: Option<String>,
}

/// The largest valid proposal and the description of the metric that made it.
struct Valid {
    replicas: i32,
    metric: String,
}

/// A metric's failure: the condition reason, the error the condition and event carry, and the
/// error as `computeReplicasForMetric` wraps it.
struct Failure {
    reason: &'static str,
    detail: String,
    wrapped: String,
}

/// `computeReplicasForMetrics`: every metric's proposal; the largest valid one wins. If some
/// metrics fail, the valid ones may scale up but never down (nor may all failing scale at all).
fn compute_replicas_for_metrics(
    state: &HpaState,
    conditions: &mut Conditions,
    events: &mut Vec<Event>,
) -> Combined {
    let calc = Calculator {
        state,
        tolerances: tolerances(state),
    };
    let mut outcomes = Vec::with_capacity(state.metrics.len());
    let (mut replicas, mut metric) = (0i32, String::new());
    let mut invalid = 0usize;
    let mut first: Option<Failure> = None;
    for spec in &state.metrics {
        let description = describe(spec);
        let result = compute_metric(&calc, spec);
        let mut outcome = MetricOutcome {
            kind: spec.metric_type(),
            name: spec.name.clone(),
            description: description.clone(),
            replicas: None,
            usage_ratio: None,
            current_utilization: None,
            current_average_value_milli: None,
            current_value_milli: None,
            pods: None,
            note: None,
            error: None,
        };
        match result {
            Ok(p) => {
                outcome.replicas = Some(p.replicas);
                outcome.usage_ratio = Some(p.usage_ratio);
                outcome.current_utilization = p.current.utilization;
                outcome.current_average_value_milli = p.current.average_value_milli;
                outcome.current_value_milli = p.current.value_milli;
                outcome.pods = p.pods;
                outcome.note = p.note;
                if replicas == 0 || p.replicas > replicas {
                    replicas = p.replicas;
                    metric = description;
                }
            }
            Err(f) => {
                events.push(Event {
                    kind: EventType::Warning,
                    reason: f.reason.into(),
                    message: f.detail.clone(),
                });
                outcome.error = Some(f.wrapped.clone());
                invalid += 1;
                first.get_or_insert(f);
            }
        }
        outcomes.push(outcome);
    }

    let total = state.metrics.len();
    let error = first.as_ref().map(|f| {
        format!(
            "invalid metrics ({invalid} invalid out of {total}), first error is: {}",
            f.wrapped
        )
    });
    if invalid >= total
        || (invalid > 0 && replicas < i32::try_from(state.spec_replicas).unwrap_or(i32::MAX))
    {
        if let Some(f) = &first {
            conditions.set(
                ConditionType::ScalingActive,
                ConditionStatus::False,
                f.reason,
                format!(
                    "the HPA was unable to compute the replica count: {}",
                    f.detail
                ),
            );
        }
        let error =
            error.or_else(|| Some("no metrics to compute a replica count from".to_string()));
        return Combined {
            outcomes,
            valid: None,
            error,
        };
    }
    conditions.set(
        ConditionType::ScalingActive,
        ConditionStatus::True,
        "ValidMetricFound",
        format!("the HPA was able to successfully calculate a replica count from {metric}"),
    );
    Combined {
        outcomes,
        valid: Some(Valid { replicas, metric }),
        error,
    }
}

/// Upstream's name for the metric in conditions and rescale reasons.
fn describe(spec: &MetricSpec) -> String {
    let name = &spec.name;
    match spec.source {
        MetricSource::Resource(ResourceTarget::Utilization { .. }) => {
            format!("{name} resource utilization (percentage of request)")
        }
        MetricSource::Resource(ResourceTarget::AverageValue { .. }) => format!("{name} resource"),
        MetricSource::Pods { .. } => format!("pods metric {name}"),
        // Upstream names the described object's kind here; a snapshot does not carry it.
        MetricSource::Object { .. } => format!("object metric {name}"),
        MetricSource::External { .. } => format!("external metric {name}"),
    }
}

/// One metric's proposal, or its failure in upstream's words.
fn compute_metric(calc: &Calculator<'_>, spec: &MetricSpec) -> Result<Proposal, Failure> {
    const FETCH: &str = "the metrics API returned an error (fetch_error is set)";
    let name = &spec.name;
    match &spec.source {
        MetricSource::Resource(target) => {
            let (what, result) = match *target {
                ResourceTarget::Utilization {
                    average_utilization,
                } => (
                    "utilization",
                    fetch(spec, || {
                        format!("unable to get metrics for resource {name}: {FETCH}")
                    })
                    .and_then(|()| calc.resource_utilization(name, average_utilization)),
                ),
                ResourceTarget::AverageValue {
                    average_value_milli,
                } => (
                    "usage",
                    fetch(spec, || {
                        format!("unable to get metrics for resource {name}: {FETCH}")
                    })
                    .and_then(|()| calc.plain(name, name == "cpu", average_value_milli)),
                ),
            };
            result.map_err(|e| {
                let detail = format!("failed to get {name} {what}: {e}");
                Failure {
                    reason: "FailedGetResourceMetric",
                    wrapped: format!("failed to get {name} resource metric value: {detail}"),
                    detail,
                }
            })
        }
        MetricSource::Pods {
            average_value_milli,
        } => fetch(spec, || format!("unable to get metric {name}: {FETCH}"))
            .and_then(|()| calc.plain(name, false, *average_value_milli))
            .map_err(|detail| Failure {
                reason: "FailedGetPodsMetric",
                wrapped: format!("failed to get pods metric value: {detail}"),
                detail,
            }),
        MetricSource::Object {
            target,
            value_milli,
        } => value_metric(
            calc,
            spec,
            *target,
            *value_milli,
            format!("unable to get metric {name}: {FETCH}"),
        )
        .map_err(|detail| Failure {
            reason: "FailedGetObjectMetric",
            wrapped: format!("failed to get object metric value: {detail}"),
            detail,
        }),
        MetricSource::External {
            target,
            value_milli,
        } => value_metric(
            calc,
            spec,
            *target,
            *value_milli,
            format!("unable to get external metric {name}: {FETCH}"),
        )
        .map_err(|detail| Failure {
            reason: "FailedGetExternalMetric",
            wrapped: format!("failed to get {name} external metric value: {detail}"),
            detail,
        }),
    }
}

fn fetch(spec: &MetricSpec, error: impl FnOnce() -> String) -> Result<(), String> {
    if spec.fetch_error {
        Err(error())
    } else {
        Ok(())
    }
}

/// An Object or External metric: its value against a total or a per-replica target.
fn value_metric(
    calc: &Calculator<'_>,
    spec: &MetricSpec,
    target: ValueTarget,
    value: Option<i64>,
    fetch_error: String,
) -> Result<Proposal, String> {
    let value = match value {
        Some(v) if !spec.fetch_error => v,
        _ => return Err(fetch_error),
    };
    match target {
        ValueTarget::Value { value_milli } => calc.value(value, value_milli),
        ValueTarget::AverageValue {
            average_value_milli,
        } => Ok(calc.per_replica(value, average_value_milli)),
    }
}
