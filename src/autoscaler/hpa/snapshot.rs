//! The snapshot file format: raw serde types that mirror the JSON (unknown fields refused), the
//! API's defaulting (an empty `metrics` list becomes cpu at 80%, `behavior` fields left out get
//! the Kubernetes defaults), and the conversion into a validated [`HpaState`].
//!
//! ```json
//! { "spec_replicas": 3, "min_replicas": 1, "max_replicas": 10,
//!   "metrics": [ { "type": "Resource", "name": "cpu",
//!                  "target": { "type": "Utilization", "average_utilization": 50 } } ],
//!   "pods": [ { "name": "web-1", "started_s_ago": 900,
//!               "requests_milli": { "cpu": 500 },
//!               "samples": { "cpu": { "value_milli": 400, "age_s": 10, "window_s": 15 } } } ],
//!   "recommendations": null }
//! ```

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::Path;

use super::error::{SnapshotFileError, StateError};
use super::state::{
    Behavior, ControllerConfig, DEFAULT_SAMPLE_WINDOW_S, DEFAULT_TOLERANCE, HpaState, MetricSource,
    MetricSpec, MetricType, Pod, PodPhase, PolicyKind, Recommendation, ResourceTarget, Sample,
    ScaleEvent, ScalingPolicy, ScalingRules, SelectPolicy, Tolerances, ValueTarget,
};

/// The target utilization the API gives an HPA that lists no metrics
/// (`autoscaling.DefaultCPUUtilization`).
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

/// Reads a snapshot file (at most [`crate::input::MAX_CONFIG_BYTES`]) into a validated state,
/// as `surge hpa` does.
pub fn read_snapshot(file: &Path) -> Result<HpaState, SnapshotFileError> {
    let text = crate::input::read_text(file, crate::input::MAX_CONFIG_BYTES).map_err(|source| {
        SnapshotFileError::Read {
            file: file.to_path_buf(),
            source,
        }
    })?;
    parse_snapshot(&text).map_err(|source| SnapshotFileError::Invalid {
        file: file.to_path_buf(),
        source,
    })
}

/// Parses a snapshot (JSON text) into a validated state. Errors carry the JSON path, and the
/// line and column where the parser knows them.
pub fn parse_snapshot(json: &str) -> Result<HpaState, StateError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let raw: RawSnapshot =
        serde_path_to_error::deserialize(&mut de).map_err(StateError::from_serde)?;
    de.end().map_err(|e| StateError::Syntax {
        line: e.line(),
        column: e.column(),
        message: "trailing characters".into(),
    })?;
    let state = raw.into_state()?;
    state.validate()?;
    Ok(state)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnapshot {
    spec_replicas: i64,
    /// Defaults to `spec_replicas`.
    status_replicas: Option<i64>,
    /// Defaults to 1, as the API does.
    min_replicas: Option<i64>,
    max_replicas: i64,
    #[serde(default)]
    metrics: Vec<RawMetric>,
    #[serde(default)]
    pods: Vec<RawPod>,
    behavior: Option<RawBehavior>,
    recommendations: Option<Vec<RawRecommendation>>,
    #[serde(default)]
    scale_up_events: Vec<RawScaleEvent>,
    #[serde(default)]
    scale_down_events: Vec<RawScaleEvent>,
    #[serde(default)]
    config: RawConfig,
}

/// One metric of `spec.metrics`, e.g. `{"type": "Resource", "name": "cpu", "target":
/// {"type": "Utilization", "average_utilization": 60}}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HpaMetric")]
pub(crate) struct RawMetric {
    /// The metric source: Resource (`cpu`, `memory`), Pods (a custom metric of each pod),
    /// Object or External.
    #[serde(rename = "type")]
    kind: MetricType,
    /// The metric's name: for Resource `cpu` or `memory`; for Pods e.g. `requests_per_second`.
    name: String,
    /// The target: its `type` says which value field goes with it.
    target: RawTarget,
    /// The observed value of an Object or External metric, in thousandths.
    value_milli: Option<i64>,
    /// The metric could not be fetched (default false).
    #[serde(default)]
    fetch_error: bool,
}

/// What a target holds the metric at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(rename = "HpaTargetType")]
enum TargetType {
    /// Average utilisation, percent of the pods' request (Resource metrics only):
    /// `average_utilization`.
    Utilization,
    /// Average value per pod: `average_value_milli`.
    AverageValue,
    /// Total value (Object and External metrics): `value_milli`.
    Value,
}

/// A metric target: `type` and the one value field that goes with it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HpaTarget")]
struct RawTarget {
    /// Utilization, AverageValue or Value.
    #[serde(rename = "type")]
    kind: TargetType,
    /// For Utilization: percent of the request, e.g. 60.
    average_utilization: Option<i64>,
    /// For AverageValue: per pod, in thousandths (500 for 0.5).
    average_value_milli: Option<i64>,
    /// For Value: in thousandths.
    value_milli: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPod {
    name: String,
    #[serde(default = "running")]
    phase: PodPhase,
    #[serde(default = "yes")]
    ready: bool,
    #[serde(default)]
    deleting: bool,
    started_s_ago: Option<f64>,
    /// Defaults to `started_s_ago` (readiness last changed when the pod started).
    ready_changed_s_ago: Option<f64>,
    #[serde(default)]
    requests_milli: IndexMap<String, i64>,
    #[serde(default)]
    samples: IndexMap<String, RawSample>,
}

fn running() -> PodPhase {
    PodPhase::Running
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSample {
    value_milli: i64,
    #[serde(default)]
    age_s: f64,
    #[serde(default = "default_window")]
    window_s: f64,
}

fn default_window() -> f64 {
    DEFAULT_SAMPLE_WINDOW_S
}

/// `spec.behavior`: scaling rules per direction; a direction or field left out gets the
/// Kubernetes default.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HpaBehavior")]
pub(crate) struct RawBehavior {
    /// Scale-up rules (default: no stabilisation; at most 4 pods or 100% per 15 s, the larger).
    scale_up: Option<RawRules>,
    /// Scale-down rules (default: a 300 s stabilisation window; at most 100% per 15 s).
    scale_down: Option<RawRules>,
}

/// `HPAScalingRules` of one direction.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HpaScalingRules")]
struct RawRules {
    /// Seconds of past recommendations considered (0 to 3600).
    stabilization_window_s: Option<i64>,
    /// Which policy applies when several do: Max (default), Min or Disabled.
    select_policy: Option<SelectPolicy>,
    /// Limits on the change per period (an empty list is refused, as by the API).
    policies: Option<Vec<RawPolicy>>,
    /// Tolerance of this direction, overriding the controller's.
    tolerance: Option<f64>,
}

/// `HPAScalingPolicy`: at most `value` pods, or `value` percent, per `period_s` seconds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HpaScalingPolicy")]
struct RawPolicy {
    /// Pods or Percent.
    #[serde(rename = "type")]
    kind: PolicyKind,
    /// Pods, or percent of the replicas at the start of the period (more than 0).
    value: i64,
    /// The period in seconds (1 to 1800).
    period_s: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecommendation {
    replicas: i64,
    age_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScaleEvent {
    change: i64,
    age_s: f64,
}

/// The controller's flags (kube-controller-manager's `--horizontal-pod-autoscaler-*`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HpaController")]
pub(crate) struct RawConfig {
    /// Tolerance around a usage ratio of 1 (default 0.1): a number for both directions or
    /// {"scale_up": ..., "scale_down": ...}.
    // A number or an object, read by hand (`tolerances`) for a clear error.
    #[schemars(with = "Option<ToleranceSchema>")]
    tolerance: Option<serde_json::Value>,
    /// Seconds: without `behavior`, the scale-down stabilisation window (default 300).
    downscale_stabilization_s: Option<f64>,
    /// Seconds after a pod starts during which its CPU samples need a full window after
    /// readiness (default 300).
    cpu_initialization_period_s: Option<f64>,
    /// Seconds after start within which an unready pod counts as never ready (default 30).
    initial_readiness_delay_s: Option<f64>,
    /// Without `behavior`: a reconcile scales up to at most this factor x the current count
    /// (default 2) ...
    scale_up_limit_factor: Option<f64>,
    /// ... or to this many replicas, whichever is larger (default 4).
    scale_up_limit_minimum: Option<f64>,
}

// Schema only: `tolerances` reads the value by hand.
/// One tolerance for both directions, or one per direction.
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "HpaTolerance")]
#[allow(dead_code)]
enum ToleranceSchema {
    /// Both directions.
    Both(f64),
    /// Per direction; one left out keeps the default.
    PerDirection(TolerancePerDirection),
}

/// Tolerances per direction: `{"scale_up": 0.05, "scale_down": 0.1}`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HpaTolerancePerDirection")]
#[allow(dead_code)]
struct TolerancePerDirection {
    /// Tolerance of scale-ups.
    scale_up: Option<f64>,
    /// Tolerance of scale-downs.
    scale_down: Option<f64>,
}

impl RawSnapshot {
    fn into_state(self) -> Result<HpaState, StateError> {
        let spec_replicas = count("spec_replicas", self.spec_replicas)?;
        let metrics = if self.metrics.is_empty() {
            // SetDefaults_HorizontalPodAutoscaler: no metrics means cpu at 80% utilization.
            vec![MetricSpec::resource_utilization(
                "cpu",
                DEFAULT_CPU_UTILIZATION,
            )]
        } else {
            self.metrics
                .into_iter()
                .enumerate()
                .map(|(i, m)| m.into_spec(&format!("metrics[{i}]")))
                .collect::<Result<_, _>>()?
        };
        Ok(HpaState {
            spec_replicas,
            status_replicas: match self.status_replicas {
                Some(n) => count("status_replicas", n)?,
                None => spec_replicas,
            },
            min_replicas: count("min_replicas", self.min_replicas.unwrap_or(1))?,
            max_replicas: count("max_replicas", self.max_replicas)?,
            metrics,
            pods: self.pods.into_iter().map(RawPod::into_pod).collect(),
            behavior: self.behavior.map(RawBehavior::into_behavior).transpose()?,
            recommendations: match self.recommendations {
                None => None,
                Some(list) => Some(
                    list.into_iter()
                        .enumerate()
                        .map(|(i, r)| {
                            Ok(Recommendation {
                                replicas: count(
                                    &format!("recommendations[{i}].replicas"),
                                    r.replicas,
                                )?,
                                age_s: r.age_s,
                            })
                        })
                        .collect::<Result<_, StateError>>()?,
                ),
            },
            scale_up_events: events("scale_up_events", self.scale_up_events)?,
            scale_down_events: events("scale_down_events", self.scale_down_events)?,
            config: self.config.into_config()?,
        })
    }
}

impl RawMetric {
    fn into_spec(self, path: &str) -> Result<MetricSpec, StateError> {
        let t = &self.target;
        let target_path = format!("{path}.target");
        // Exactly the field that goes with the target type.
        let expected = match t.kind {
            TargetType::Utilization => "average_utilization",
            TargetType::AverageValue => "average_value_milli",
            TargetType::Value => "value_milli",
        };
        for (field, present) in [
            ("average_utilization", t.average_utilization.is_some()),
            ("average_value_milli", t.average_value_milli.is_some()),
            ("value_milli", t.value_milli.is_some()),
        ] {
            if field == expected && !present {
                return Err(StateError::invalid(
                    format!("{target_path}.{field}"),
                    format!("a target of type {:?} needs `{field}`", t.kind),
                ));
            }
            if field != expected && present {
                return Err(StateError::invalid(
                    format!("{target_path}.{field}"),
                    format!(
                        "a target of type {:?} takes `{expected}`, not `{field}`",
                        t.kind
                    ),
                ));
            }
        }
        let unsupported = |allowed: &str| {
            StateError::invalid(
                format!("{target_path}.type"),
                format!(
                    "a {:?} metric cannot have a {:?} target (expected {allowed})",
                    self.kind, t.kind
                ),
            )
        };
        let value_target = || match t.kind {
            TargetType::Value => Ok(ValueTarget::Value {
                value_milli: t.value_milli.unwrap_or_default(),
            }),
            TargetType::AverageValue => Ok(ValueTarget::AverageValue {
                average_value_milli: t.average_value_milli.unwrap_or_default(),
            }),
            TargetType::Utilization => Err(unsupported("Value or AverageValue")),
        };
        let source = match self.kind {
            MetricType::Resource => match t.kind {
                TargetType::Utilization => {
                    let pct = t.average_utilization.unwrap_or_default();
                    let average_utilization = i32::try_from(pct).map_err(|_| {
                        StateError::invalid(
                            format!("{target_path}.average_utilization"),
                            format!("{pct} is beyond int32"),
                        )
                    })?;
                    MetricSource::Resource(ResourceTarget::Utilization {
                        average_utilization,
                    })
                }
                TargetType::AverageValue => MetricSource::Resource(ResourceTarget::AverageValue {
                    average_value_milli: t.average_value_milli.unwrap_or_default(),
                }),
                TargetType::Value => return Err(unsupported("Utilization or AverageValue")),
            },
            MetricType::Pods => match t.kind {
                TargetType::AverageValue => MetricSource::Pods {
                    average_value_milli: t.average_value_milli.unwrap_or_default(),
                },
                _ => return Err(unsupported("AverageValue")),
            },
            MetricType::Object => MetricSource::Object {
                target: value_target()?,
                value_milli: self.value_milli,
            },
            MetricType::External => MetricSource::External {
                target: value_target()?,
                value_milli: self.value_milli,
            },
        };
        if matches!(self.kind, MetricType::Resource | MetricType::Pods)
            && self.value_milli.is_some()
        {
            return Err(StateError::invalid(
                format!("{path}.value_milli"),
                format!(
                    "a {:?} metric reads its values from pods[].samples.{}, not from value_milli",
                    self.kind, self.name
                ),
            ));
        }
        Ok(MetricSpec {
            name: self.name,
            source,
            fetch_error: self.fetch_error,
        })
    }
}

impl RawPod {
    fn into_pod(self) -> Pod {
        let samples = self
            .samples
            .into_iter()
            .map(|(name, s)| {
                (
                    name,
                    Sample {
                        value_milli: s.value_milli,
                        age_s: s.age_s,
                        window_s: s.window_s,
                    },
                )
            })
            .collect();
        Pod {
            name: self.name,
            phase: self.phase,
            ready: self.ready,
            deleting: self.deleting,
            started_s_ago: self.started_s_ago,
            ready_changed_s_ago: self.ready_changed_s_ago.or(self.started_s_ago),
            requests_milli: self.requests_milli.into_iter().collect(),
            samples,
        }
    }
}

impl RawBehavior {
    /// SetDefaults_HorizontalPodAutoscalerBehavior: every field left out gets its default.
    fn into_behavior(self) -> Result<Behavior, StateError> {
        Ok(Behavior {
            scale_up: rules(
                "behavior.scale_up",
                self.scale_up,
                ScalingRules::default_scale_up(),
            )?,
            scale_down: rules(
                "behavior.scale_down",
                self.scale_down,
                ScalingRules::default_scale_down(),
            )?,
        })
    }
}

/// copyHPAScalingRules: the given fields over the defaults. An explicit empty `policies` list
/// stays empty (and fails validation, as in the API).
fn rules(
    path: &str,
    raw: Option<RawRules>,
    mut rules: ScalingRules,
) -> Result<ScalingRules, StateError> {
    let Some(raw) = raw else { return Ok(rules) };
    if let Some(window) = raw.stabilization_window_s {
        rules.stabilization_window_s = Some(u32::try_from(window).map_err(|_| {
            StateError::invalid(
                format!("{path}.stabilization_window_s"),
                format!("{window} must be >= 0"),
            )
        })?);
    }
    if let Some(select) = raw.select_policy {
        rules.select_policy = select;
    }
    if let Some(policies) = raw.policies {
        rules.policies = policies
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let at = |field: &str| format!("{path}.policies[{i}].{field}");
                Ok(ScalingPolicy {
                    kind: p.kind,
                    value: u32::try_from(p.value).map_err(|_| {
                        StateError::invalid(
                            at("value"),
                            format!("{} must be greater than zero", p.value),
                        )
                    })?,
                    period_s: u32::try_from(p.period_s).map_err(|_| {
                        StateError::invalid(
                            at("period_s"),
                            format!("{} must be greater than zero", p.period_s),
                        )
                    })?,
                })
            })
            .collect::<Result<_, StateError>>()?;
    }
    if raw.tolerance.is_some() {
        rules.tolerance = raw.tolerance;
    }
    Ok(rules)
}

impl RawConfig {
    fn into_config(self) -> Result<ControllerConfig, StateError> {
        let d = ControllerConfig::default();
        Ok(ControllerConfig {
            tolerance: match self.tolerance {
                None => d.tolerance,
                Some(value) => tolerances(&value)?,
            },
            downscale_stabilization_s: self
                .downscale_stabilization_s
                .unwrap_or(d.downscale_stabilization_s),
            cpu_initialization_period_s: self
                .cpu_initialization_period_s
                .unwrap_or(d.cpu_initialization_period_s),
            initial_readiness_delay_s: self
                .initial_readiness_delay_s
                .unwrap_or(d.initial_readiness_delay_s),
            scale_up_limit_factor: self
                .scale_up_limit_factor
                .unwrap_or(d.scale_up_limit_factor),
            scale_up_limit_minimum: self
                .scale_up_limit_minimum
                .unwrap_or(d.scale_up_limit_minimum),
        })
    }
}

/// `0.1` or `{"scale_up": 0.05, "scale_down": 0.1}` (a direction left out keeps the default).
fn tolerances(value: &serde_json::Value) -> Result<Tolerances, StateError> {
    const PATH: &str = "config.tolerance";
    const EXPECTED: &str = "expected a number (both directions) or an object {\"scale_up\": number, \"scale_down\": number}";
    match value {
        serde_json::Value::Number(n) => Ok(Tolerances::symmetric(n.as_f64().unwrap_or(f64::NAN))),
        serde_json::Value::Object(map) => {
            let mut t = Tolerances::symmetric(DEFAULT_TOLERANCE);
            for (key, v) in map {
                let slot = match key.as_str() {
                    "scale_up" => &mut t.scale_up,
                    "scale_down" => &mut t.scale_down,
                    _ => {
                        return Err(StateError::invalid(
                            format!("{PATH}.{key}"),
                            format!("unknown field `{key}`, expected `scale_up` or `scale_down`"),
                        ));
                    }
                };
                *slot = v.as_f64().ok_or_else(|| {
                    StateError::invalid(
                        format!("{PATH}.{key}"),
                        format!("expected a number, found {v}"),
                    )
                })?;
            }
            Ok(t)
        }
        other => Err(StateError::invalid(
            PATH,
            format!("{EXPECTED}, found {other}"),
        )),
    }
}

/// A replica count: 0..=i32::MAX, as the API's int32.
fn count(path: &str, value: i64) -> Result<u32, StateError> {
    if (0..=i64::from(i32::MAX)).contains(&value) {
        Ok(value as u32)
    } else {
        Err(StateError::invalid(
            path,
            format!(
                "{value} is not a replica count (expected 0 to {})",
                i32::MAX
            ),
        ))
    }
}

fn events(field: &str, raw: Vec<RawScaleEvent>) -> Result<Vec<ScaleEvent>, StateError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, e)| {
            let change = u32::try_from(e.change).map_err(|_| {
                StateError::invalid(
                    format!("{field}[{i}].change"),
                    format!(
                        "{} must be >= 0: it is the number of replicas the event added or removed, without a sign",
                        e.change
                    ),
                )
            })?;
            Ok(ScaleEvent { change, age_s: e.age_s })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid snapshot with `extra` fields spliced in (later keys are not allowed to
    /// repeat earlier ones, so `extra` only adds).
    fn snapshot(extra: &str) -> String {
        format!(r#"{{ "spec_replicas": 2, "max_replicas": 5 {extra} }}"#)
    }

    /// Parsing `json` fails at `path` with a message containing `expected`.
    fn check_err(json: &str, path: &str, expected: &str) {
        let err = parse_snapshot(json).expect_err("the snapshot is invalid");
        assert_eq!(err.path(), Some(path), "{err}");
        assert!(err.to_string().contains(expected), "{err}");
    }

    #[test]
    fn a_minimal_snapshot_gets_the_api_defaults() {
        let s = parse_snapshot(&snapshot("")).unwrap();
        assert_eq!(
            (
                s.spec_replicas,
                s.status_replicas,
                s.min_replicas,
                s.max_replicas
            ),
            (2, 2, 1, 5)
        );
        // No metrics: cpu at 80% utilization, as the API defaults an HPA.
        assert_eq!(s.metrics, vec![MetricSpec::resource_utilization("cpu", 80)]);
        assert_eq!(s.behavior, None);
        assert_eq!(s.recommendations, None);
        assert_eq!(s.config, ControllerConfig::default());
    }

    #[test]
    fn behavior_fields_left_out_get_the_kubernetes_defaults() {
        let s = parse_snapshot(&snapshot(
            r#", "behavior": { "scale_down": { "select_policy": "Min" } }"#,
        ))
        .unwrap();
        let b = s.behavior.unwrap();
        assert_eq!(b.scale_up, ScalingRules::default_scale_up());
        assert_eq!(b.scale_down.select_policy, SelectPolicy::Min);
        assert_eq!(b.scale_down.stabilization_window_s, None); // the controller's window applies
        assert_eq!(
            b.scale_down.policies,
            ScalingRules::default_scale_down().policies
        );
        let s = parse_snapshot(&snapshot(r#", "behavior": {}"#)).unwrap();
        assert_eq!(s.behavior, Some(Behavior::default()));
    }

    #[test]
    fn pods_default_to_running_and_ready_since_they_started() {
        let s = parse_snapshot(&snapshot(
            r#", "pods": [ { "name": "a", "started_s_ago": 90, "requests_milli": { "cpu": 250 },
                            "samples": { "cpu": { "value_milli": 100 } } } ]"#,
        ))
        .unwrap();
        let p = &s.pods[0];
        assert_eq!(
            (p.phase, p.ready, p.deleting),
            (PodPhase::Running, true, false)
        );
        assert_eq!(
            (p.started_s_ago, p.ready_changed_s_ago),
            (Some(90.0), Some(90.0))
        );
        assert_eq!(
            p.samples["cpu"],
            Sample {
                value_milli: 100,
                age_s: 0.0,
                window_s: DEFAULT_SAMPLE_WINDOW_S
            }
        );
    }

    #[test]
    fn tolerance_is_a_number_or_one_per_direction() {
        let s = parse_snapshot(&snapshot(r#", "config": { "tolerance": 0.2 }"#)).unwrap();
        assert_eq!(s.config.tolerance, Tolerances::symmetric(0.2));
        let s = parse_snapshot(&snapshot(
            r#", "config": { "tolerance": { "scale_up": 0.05 } }"#,
        ))
        .unwrap();
        assert_eq!(
            s.config.tolerance,
            Tolerances {
                scale_up: 0.05,
                scale_down: DEFAULT_TOLERANCE
            }
        );
        check_err(
            &snapshot(r#", "config": { "tolerance": "10%" }"#),
            "config.tolerance",
            "expected a number",
        );
        check_err(
            &snapshot(r#", "config": { "tolerance": { "up": 0.1 } }"#),
            "config.tolerance.up",
            "unknown field `up`",
        );
        check_err(
            &snapshot(r#", "config": { "tolerance": -0.1 }"#),
            "config.tolerance.scale_up",
            "finite number >= 0",
        );
    }

    #[test]
    fn errors_name_the_json_path_and_what_was_expected() {
        let cpu = |target: &str| {
            format!(
                r#", "metrics": [ {{ "type": "Resource", "name": "cpu", "target": {target} }} ]"#
            )
        };
        let cases: &[(String, &str, &str)] = &[
            (
                snapshot(r#", "min_replicas": 6"#),
                "min_replicas",
                "6 is more than max_replicas (5)",
            ),
            (
                r#"{ "spec_replicas": -1, "max_replicas": 5 }"#.into(),
                "spec_replicas",
                "-1 is not a replica count",
            ),
            (
                snapshot(r#", "spec_replica": 2"#),
                "spec_replica",
                "unknown field `spec_replica`",
            ),
            (
                snapshot(&cpu(
                    r#"{ "type": "Utilization", "average_utilization": 0 }"#,
                )),
                "metrics[0].target.average_utilization",
                "0 must be greater than zero",
            ),
            (
                snapshot(&cpu(r#"{ "type": "Utilization", "value_milli": 500 }"#)),
                "metrics[0].target.average_utilization",
                "a target of type Utilization needs `average_utilization`",
            ),
            (
                snapshot(&cpu(r#"{ "type": "Value", "value_milli": 500 }"#)),
                "metrics[0].target.type",
                "a Resource metric cannot have a Value target (expected Utilization or AverageValue)",
            ),
            (
                snapshot(
                    r#", "metrics": [ { "type": "Resorce", "name": "cpu", "target": { "type": "Value" } } ]"#,
                ),
                "metrics[0].type",
                "unknown variant `Resorce`, expected one of `Resource`, `Pods`, `Object`, `External`",
            ),
            (
                snapshot(
                    r#", "metrics": [ { "type": "Pods", "name": "rps", "target": { "type": "Utilization", "average_utilization": 5 } } ]"#,
                ),
                "metrics[0].target.type",
                "a Pods metric cannot have a Utilization target (expected AverageValue)",
            ),
            (
                snapshot(
                    r#", "metrics": [ { "type": "Object", "name": "rps", "target": { "type": "Value", "value_milli": 5 } } ]"#,
                ),
                "metrics[0].value_milli",
                "is required for an Object or External metric (unless fetch_error is true)",
            ),
            (
                snapshot(
                    r#", "pods": [ { "name": "a", "started_s_ago": 1, "samples": { "rps": { "value_milli": 1 } } } ]"#,
                ),
                "pods[0].samples.rps",
                "no Resource or Pods metric is named `rps` (samples can be for: cpu)",
            ),
            (
                snapshot(
                    r#", "pods": [ { "name": "a", "started_s_ago": 1 }, { "name": "a", "started_s_ago": 1 } ]"#,
                ),
                "pods[1].name",
                "pod `a` is listed twice",
            ),
            (
                snapshot(r#", "pods": [ { "name": "a" } ]"#),
                "pods[0].started_s_ago",
                "a Running pod has a start time",
            ),
            (
                snapshot(
                    r#", "pods": [ { "name": "a", "started_s_ago": 1, "samples": { "cpu": { "value_milli": 1, "age": 3 } } } ]"#,
                ),
                "pods[0].samples.cpu.age",
                "unknown field `age`, expected one of `value_milli`, `age_s`, `window_s`",
            ),
            (
                snapshot(r#", "behavior": { "scale_up": { "policies": [] } }"#),
                "behavior.scale_up.policies",
                "must specify at least one policy",
            ),
            (
                snapshot(
                    r#", "behavior": { "scale_down": { "policies": [ { "type": "Pods", "value": 1, "period_s": 3600 } ] } }"#,
                ),
                "behavior.scale_down.policies[0].period_s",
                "3600 is outside 1..=1800 seconds",
            ),
            (
                snapshot(r#", "behavior": { "scale_down": { "select_policy": "Fastest" } }"#),
                "behavior.scale_down.select_policy",
                "unknown variant `Fastest`, expected one of `Max`, `Min`, `Disabled`",
            ),
            (
                snapshot(r#", "scale_down_events": [ { "change": -2, "age_s": 5 } ]"#),
                "scale_down_events[0].change",
                "without a sign",
            ),
            (
                snapshot(r#", "min_replicas": 0"#),
                "min_replicas",
                "needs at least one Object or External metric",
            ),
        ];
        for (json, path, expected) in cases {
            check_err(json, path, expected);
        }
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse_snapshot("{\n  \"spec_replicas\": 2,\n  \"max_replicas\": }").unwrap_err();
        assert!(matches!(err, StateError::Syntax { line: 3, .. }), "{err:?}");
        assert!(err.to_string().starts_with("3:"), "{err}");
        // Wrong types carry their position and path.
        let err =
            parse_snapshot("{ \"spec_replicas\": \"two\", \"max_replicas\": 5 }").unwrap_err();
        assert_eq!(err.path(), Some("spec_replicas"));
        assert!(err.to_string().starts_with("1:"), "{err}");
    }
}
