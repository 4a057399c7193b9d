//! Per-metric replica proposals, as upstream's `ReplicaCalculator`: pod grouping (ready,
//! unready, missing, ignored), the usage ratio against the target with its tolerance band, the
//! conservative re-count of unready and missing pods, and the Object and External formulas.
//!
//! The arithmetic mirrors upstream operation for operation (integer percent and integer
//! averages, then `f64` ratio times a pod count, then `ceil`) so that results agree exactly,
//! floating-point rounding included.

use super::decision::PodCounts;
use super::state::{ControllerConfig, HpaState, Pod, PodPhase, Sample, Tolerances};

/// A metric's successful proposal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Proposal {
    /// Replicas, saturated to the int32 range like upstream's counts.
    pub replicas: i32,
    /// Current over target, as first computed.
    pub usage_ratio: f64,
    pub current: Current,
    pub pods: Option<PodCounts>,
    pub note: Option<String>,
}

/// The current value a metric reports, by target kind.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Current {
    pub utilization: Option<i32>,
    pub average_value_milli: Option<i64>,
    pub value_milli: Option<i64>,
}

/// The pods of one Resource or Pods metric, by `groupPods`. Indices into `HpaState::pods`.
struct Groups {
    /// Ready pods and their sample values: the only samples the first ratio uses.
    ready: Vec<(usize, i64)>,
    unready: Vec<usize>,
    missing: Vec<usize>,
    ignored: usize,
}

impl Groups {
    fn counts(&self) -> PodCounts {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        PodCounts {
            ready: n(self.ready.len()),
            unready: n(self.unready.len()),
            missing: n(self.missing.len()),
            ignored: n(self.ignored),
        }
    }
}

/// Sorts the pods for metric `name` as upstream's `groupPods`, in this order: deleting or
/// Failed pods are ignored; Pending pods are unready; pods without a sample are missing; for
/// CPU only, pods that are not ready yet or still initializing are unready; the rest are ready.
fn group_pods(pods: &[Pod], name: &str, cpu: bool, config: &ControllerConfig) -> Groups {
    let mut g = Groups {
        ready: Vec::new(),
        unready: Vec::new(),
        missing: Vec::new(),
        ignored: 0,
    };
    for (i, pod) in pods.iter().enumerate() {
        if pod.deleting || pod.phase == PodPhase::Failed {
            g.ignored += 1;
            continue;
        }
        if pod.phase == PodPhase::Pending {
            g.unready.push(i);
            continue;
        }
        let Some(sample) = pod.samples.get(name) else {
            g.missing.push(i);
            continue;
        };
        if cpu && cpu_sample_unready(pod, sample, config) {
            g.unready.push(i);
            continue;
        }
        g.ready.push((i, sample.value_milli));
    }
    g
}

/// Upstream's CPU readiness rule, in ages: a CPU sample is set aside when the pod has no start
/// time or `Ready` condition; or, during the initialization period after start, when the pod is
/// not ready or the sample does not cover a full window after readiness last changed; or, after
/// it, when the pod is not ready and has never been (its readiness last changed within the
/// initial readiness delay of its start).
fn cpu_sample_unready(pod: &Pod, sample: &Sample, config: &ControllerConfig) -> bool {
    let (Some(started), Some(ready_changed)) = (pod.started_s_ago, pod.ready_changed_s_ago) else {
        return true;
    };
    if started < config.cpu_initialization_period_s {
        // sample time < transition time + window
        !pod.ready || ready_changed - sample.age_s < sample.window_s
    } else {
        // start time + delay > transition time
        !pod.ready && started - ready_changed < config.initial_readiness_delay_s
    }
}

/// `ceil(x)` as a replica count: saturates at the int32 range, as the newest upstream does for
/// Object and External metrics (and as the API's int32 forces everywhere); NaN gives 0.
fn ceil_replicas(x: f64) -> i32 {
    let c = x.ceil();
    if c >= f64::from(i32::MAX) {
        i32::MAX
    } else if c <= f64::from(i32::MIN) {
        i32::MIN
    } else {
        c as i32
    }
}

fn saturate(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

/// The usage of a set of `(pod, value)` entries: the ratio to the target and what to report.
type Usage<'a> = dyn Fn(&[(usize, i64)]) -> Result<(f64, Current), String> + 'a;

/// Computes one metric's proposal against the state.
pub(crate) struct Calculator<'a> {
    pub state: &'a HpaState,
    pub tolerances: Tolerances,
}

impl Calculator<'_> {
    /// `GetResourceReplicas`: a Resource metric against a target utilization.
    pub fn resource_utilization(&self, resource: &str, target: i32) -> Result<Proposal, String> {
        let pods = &self.state.pods;
        if pods.is_empty() {
            return Err("no pods returned by selector while calculating replica count".into());
        }
        let groups = group_pods(pods, resource, resource == "cpu", &self.state.config);
        if groups.ready.is_empty() {
            return Err("did not receive metrics for targeted pods (pods might be unready)".into());
        }
        // Upstream reads the request of every pod the selector returns, ignored ones included.
        let requests: Vec<i64> = pods
            .iter()
            .map(|p| {
                p.requests_milli
                    .get(resource)
                    .copied()
                    .ok_or_else(|| format!("missing request for {resource} in pod {}", p.name))
            })
            .collect::<Result<_, _>>()?;
        let usage = |entries: &[(usize, i64)]| -> Result<(f64, Current), String> {
            let (mut used, mut requested) = (0i128, 0i128);
            for &(i, value) in entries {
                used += i128::from(value);
                requested += i128::from(requests[i]);
            }
            if requested == 0 {
                return Err("no metrics returned matched known pods".into());
            }
            // Integer percent, truncated, as GetResourceUtilizationRatio.
            let utilization = saturate(i64::try_from(used * 100 / requested).unwrap_or(i64::MAX));
            let average = i64::try_from(used / entries.len() as i128).unwrap_or(i64::MAX);
            let ratio = f64::from(utilization) / f64::from(target);
            Ok((
                ratio,
                Current {
                    utilization: Some(utilization),
                    average_value_milli: Some(average),
                    value_milli: None,
                },
            ))
        };
        // On a scale-down a missing pod counts as using all its request, or the target when
        // that is above 100%.
        let fallback = i64::from(target.max(100));
        let on_scale_down = |i: usize| requests[i].saturating_mul(fallback) / 100;
        self.pods_proposal(&groups, &usage, &on_scale_down)
    }

    /// `GetRawResourceReplicas` and `GetMetricReplicas`: a Resource metric against an average
    /// value, or a Pods metric. CPU's readiness rules apply to the resource `cpu` only.
    pub fn plain(&self, name: &str, cpu: bool, target: i64) -> Result<Proposal, String> {
        let pods = &self.state.pods;
        if pods.is_empty() {
            return Err("no pods returned by selector while calculating replica count".into());
        }
        let groups = group_pods(pods, name, cpu, &self.state.config);
        if groups.ready.is_empty() {
            return Err("did not receive metrics for targeted pods (pods might be unready)".into());
        }
        let usage = |entries: &[(usize, i64)]| -> Result<(f64, Current), String> {
            let total: i128 = entries.iter().map(|&(_, v)| i128::from(v)).sum();
            // Integer average, as GetMetricUsageRatio.
            let average = i64::try_from(total / entries.len() as i128).unwrap_or(i64::MAX);
            Ok((
                average as f64 / target as f64,
                Current {
                    average_value_milli: Some(average),
                    ..Current::default()
                },
            ))
        };
        // On a scale-down a missing pod counts as exactly on target.
        let on_scale_down = |_: usize| target;
        self.pods_proposal(&groups, &usage, &on_scale_down)
    }

    /// The part `GetResourceReplicas` and `calcPlainMetricReplicas` share.
    fn pods_proposal(
        &self,
        groups: &Groups,
        usage: &Usage<'_>,
        on_scale_down: &dyn Fn(usize) -> i64,
    ) -> Result<Proposal, String> {
        let current_replicas = i64::from(self.state.spec_replicas);
        let tol = self.tolerances;
        let (ratio, current) = usage(&groups.ready)?;
        let proposal = |replicas: i64, note: Option<String>| Proposal {
            replicas: saturate(replicas),
            usage_ratio: ratio,
            current,
            pods: Some(groups.counts()),
            note,
        };

        let scale_up_with_unready = !groups.unready.is_empty() && ratio > 1.0;
        if !scale_up_with_unready && groups.missing.is_empty() {
            if tol.is_within(ratio) {
                return Ok(proposal(current_replicas, Some(within_note(ratio, tol))));
            }
            return Ok(proposal(
                i64::from(ceil_replicas(ratio * groups.ready.len() as f64)),
                None,
            ));
        }

        // Count the pods we could not read against the direction of scaling, and look again.
        let mut entries = groups.ready.clone();
        let mut counted = Vec::new();
        if !groups.missing.is_empty() {
            if ratio < 1.0 {
                entries.extend(groups.missing.iter().map(|&i| (i, on_scale_down(i))));
                counted.push(format!(
                    "{} missing pod(s) as on target",
                    groups.missing.len()
                ));
            } else if ratio > 1.0 {
                entries.extend(groups.missing.iter().map(|&i| (i, 0)));
                counted.push(format!(
                    "{} missing pod(s) as using nothing",
                    groups.missing.len()
                ));
            }
        }
        if scale_up_with_unready {
            entries.extend(groups.unready.iter().map(|&i| (i, 0)));
            counted.push(format!(
                "{} unready pod(s) as using nothing",
                groups.unready.len()
            ));
        }
        let (new_ratio, _) = usage(&entries)?;
        let counted = if counted.is_empty() {
            "nothing more".to_string()
        } else {
            counted.join(" and ")
        };
        let flipped = (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0);
        if tol.is_within(new_ratio) || flipped {
            let why = if flipped {
                "would reverse the direction"
            } else {
                "is within tolerance"
            };
            let note = format!(
                "usage ratio {ratio:.3}; counting {counted} gives {new_ratio:.3}, which {why}: keep current replicas"
            );
            return Ok(proposal(current_replicas, Some(note)));
        }
        let new_replicas = i64::from(ceil_replicas(new_ratio * entries.len() as f64));
        if (new_ratio < 1.0 && new_replicas > current_replicas)
            || (new_ratio > 1.0 && new_replicas < current_replicas)
        {
            let note = format!(
                "counting {counted} gives {new_ratio:.3} over {} pods, {new_replicas} replicas, against the direction: keep current replicas",
                entries.len()
            );
            return Ok(proposal(current_replicas, Some(note)));
        }
        let note = format!(
            "usage ratio {ratio:.3}; counting {counted} gives {new_ratio:.3} over {} pods",
            entries.len()
        );
        Ok(proposal(new_replicas, Some(note)))
    }

    /// `GetObjectMetricReplicas` and `GetExternalMetricReplicas`: a total value against a total
    /// target; the ratio scales the ready pods (or, from zero replicas, is the count itself).
    pub fn value(&self, usage: i64, target: i64) -> Result<Proposal, String> {
        let current_replicas = self.state.spec_replicas;
        let ratio = usage as f64 / target as f64;
        let current = Current {
            value_milli: Some(usage),
            ..Current::default()
        };
        let (replicas, note) = if current_replicas != 0 {
            if self.tolerances.is_within(ratio) {
                (
                    saturate(i64::from(current_replicas)),
                    Some(within_note(ratio, self.tolerances)),
                )
            } else {
                if self.state.pods.is_empty() {
                    return Err("unable to calculate ready pods: no pods returned by selector while calculating replica count".into());
                }
                let ready = self
                    .state
                    .pods
                    .iter()
                    .filter(|p| p.phase == PodPhase::Running && p.ready)
                    .count();
                (
                    ceil_replicas(ratio * ready as f64),
                    Some(format!("usage ratio {ratio:.3} times {ready} ready pod(s)")),
                )
            }
        } else {
            // Scaling from zero: the ratio alone.
            (
                ceil_replicas(ratio),
                Some("from zero replicas: ceil(usage ratio)".to_string()),
            )
        };
        Ok(Proposal {
            replicas,
            usage_ratio: ratio,
            current,
            pods: None,
            note,
        })
    }

    /// `GetObjectPerPodMetricReplicas` and `GetExternalPerPodMetricReplicas`: a total value
    /// against a target per replica of `status_replicas`; the proposal is `ceil(total/target)`.
    pub fn per_replica(&self, usage: i64, target: i64) -> Proposal {
        let status = self.state.status_replicas;
        // With no replicas the ratio is infinite (or NaN for a zero value) and never within
        // tolerance, exactly as upstream's float division.
        let ratio = usage as f64 / (target as f64 * f64::from(status));
        let (replicas, note) = if self.tolerances.is_within(ratio) {
            (
                saturate(i64::from(status)),
                Some(within_note(ratio, self.tolerances)),
            )
        } else {
            (ceil_replicas(usage as f64 / target as f64), None)
        };
        let average = (status > 0).then(|| (usage as f64 / f64::from(status)).ceil() as i64);
        Proposal {
            replicas,
            usage_ratio: ratio,
            current: Current {
                average_value_milli: average,
                ..Current::default()
            },
            pods: None,
            note,
        }
    }
}

fn within_note(ratio: f64, tol: Tolerances) -> String {
    format!(
        "usage ratio {ratio:.3} is within the tolerance band [{:.3}, {:.3}]: keep current replicas",
        1.0 - tol.scale_down,
        1.0 + tol.scale_up
    )
}
