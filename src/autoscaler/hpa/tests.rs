//! Whole-reconcile tests: worked examples of the documented algorithm with expected values
//! computed by hand in the comments, the edges of every window and band, and the bundled
//! example snapshots.

use super::*;

/// A running pod, up for an hour (past the CPU initialization period), ready since it started.
fn pod(name: &str) -> Pod {
    Pod::running(name, 3600.0)
}

/// `n` running pods with a CPU request of `request` and a fresh CPU sample of `usage`.
fn cpu_pods(n: usize, request: i64, usage: i64) -> Vec<Pod> {
    (0..n)
        .map(|i| {
            pod(&format!("p{i}"))
                .with_request("cpu", request)
                .with_sample("cpu", usage)
        })
        .collect()
}

/// `replicas` replicas between `min` and `max`, one CPU utilization target, the given pods.
fn cpu_state(replicas: u32, min: u32, max: u32, target: i32, pods: Vec<Pod>) -> HpaState {
    let mut s = HpaState::new(
        replicas,
        min,
        max,
        vec![MetricSpec::resource_utilization("cpu", target)],
    );
    s.pods = pods;
    s
}

/// Validates (a test state must be a valid one) and reconciles.
fn run(state: &HpaState) -> Decision {
    state.validate().expect("the test state is valid");
    reconcile(state)
}

fn rec(replicas: u32, age_s: f64) -> Recommendation {
    Recommendation { replicas, age_s }
}

fn condition(d: &Decision, kind: ConditionType) -> &Condition {
    d.conditions
        .iter()
        .find(|c| c.kind == kind)
        .expect("condition set")
}

fn behavior(up: ScalingRules, down: ScalingRules) -> Option<Behavior> {
    Some(Behavior {
        scale_up: up,
        scale_down: down,
    })
}

fn rules(
    window: u32,
    select_policy: SelectPolicy,
    policies: &[(PolicyKind, u32, u32)],
) -> ScalingRules {
    ScalingRules {
        stabilization_window_s: Some(window),
        select_policy,
        policies: policies
            .iter()
            .map(|&(kind, value, period_s)| ScalingPolicy {
                kind,
                value,
                period_s,
            })
            .collect(),
        tolerance: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The ratio and the tolerance band

#[test]
fn scales_up_by_the_ratio_of_utilization_to_target() {
    // 3 pods at 450m of 500m: 90%; target 50%: ratio 1.8; ceil(1.8 x 3) = ceil(5.4) = 6.
    // First reconcile: history [3], max(6, 3) = 6; scale-up limit max(2 x 3, 4) = 6.
    let d = run(&cpu_state(3, 1, 10, 50, cpu_pods(3, 500, 450)));
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.action, ScaleAction::ScaleUp);
    assert_eq!(
        d.reason,
        "cpu resource utilization (percentage of request) above target"
    );
    assert_eq!(d.metric_desired_replicas, Some(6));
    assert_eq!(d.metrics[0].current_utilization, Some(90));
    assert_eq!(d.metrics[0].current_average_value_milli, Some(450));
    assert_eq!(
        d.events.last().unwrap().message,
        "New size: 6; reason: cpu resource utilization (percentage of request) above target"
    );
    assert_eq!(
        condition(&d, ConditionType::AbleToScale).reason,
        "SucceededRescale"
    );
    assert_eq!(
        condition(&d, ConditionType::ScalingActive).reason,
        "ValidMetricFound"
    );
    assert_eq!(d.next_recommendations, vec![rec(3, 0.0), rec(6, 0.0)]);
    // Without behavior the controller keeps no scale events.
    assert!(d.next_scale_up_events.is_empty());
}

#[test]
fn utilization_is_the_integer_percent_of_summed_usage_over_summed_requests() {
    // Requests 300m and 700m, usage 201m and 500m: 701 x 100 / 1000 = 70.1 -> 70% (not the mean
    // of 67% and 71%). Target 50%: ratio 1.4, ceil(1.4 x 2) = ceil(2.8) = 3.
    let pods = vec![
        pod("a").with_request("cpu", 300).with_sample("cpu", 201),
        pod("b").with_request("cpu", 700).with_sample("cpu", 500),
    ];
    let d = run(&cpu_state(2, 1, 10, 50, pods));
    assert_eq!(d.metrics[0].current_utilization, Some(70));
    assert_eq!(d.metrics[0].current_average_value_milli, Some(350)); // 701 / 2, truncated
    assert_eq!(d.desired_replicas, 3);
}

#[test]
fn a_ratio_exactly_at_the_upper_tolerance_keeps_the_replicas_and_just_above_scales() {
    // 275m of 500m = 55%; 55/50 = 1.1 = 1 + 0.1: inside the band (inclusive).
    let d = run(&cpu_state(4, 1, 10, 50, cpu_pods(4, 500, 275)));
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(d.action, ScaleAction::Keep);
    assert!(
        d.reason
            .starts_with("recommended size matches current size"),
        "{}",
        d.reason
    );
    assert!(
        d.metrics[0]
            .note
            .as_deref()
            .unwrap()
            .contains("within the tolerance band")
    );
    // 280m = 56%: 1.12, ceil(1.12 x 4) = ceil(4.48) = 5.
    let d = run(&cpu_state(4, 1, 10, 50, cpu_pods(4, 500, 280)));
    assert_eq!(d.desired_replicas, 5);
}

#[test]
fn a_ratio_exactly_at_the_lower_tolerance_keeps_the_replicas_and_just_below_scales() {
    // 225m of 500m = 45%; 0.9 = 1 - 0.1: inside.
    let mut s = cpu_state(10, 1, 10, 50, cpu_pods(10, 500, 225));
    s.recommendations = Some(vec![]);
    assert_eq!(run(&s).desired_replicas, 10);
    // 220m = 44%: 0.88, ceil(0.88 x 10) = ceil(8.8) = 9; no earlier recommendations to hold it.
    s.pods = cpu_pods(10, 500, 220);
    let d = run(&s);
    assert_eq!(d.desired_replicas, 9);
    assert_eq!(d.reason, "All metrics below target");
}

#[test]
fn tolerances_can_differ_by_direction() {
    let mut s = cpu_state(4, 1, 10, 50, cpu_pods(4, 500, 270));
    s.config.tolerance = Tolerances {
        scale_up: 0.05,
        scale_down: 0.2,
    };
    // 54%: 1.08 > 1.05: ceil(1.08 x 4) = ceil(4.32) = 5.
    assert_eq!(run(&s).desired_replicas, 5);
    // 42.5% -> 42%: 0.84 >= 0.8: keep.
    s.pods = cpu_pods(4, 500, 212);
    s.recommendations = Some(vec![]);
    assert_eq!(run(&s).desired_replicas, 4);
}

#[test]
fn a_behavior_tolerance_overrides_the_controller_tolerance() {
    // 51%: 1.02 is within the default 10%, but behavior.scale_up.tolerance is 0:
    // ceil(1.02 x 4) = ceil(4.08) = 5 (the default policies allow +4).
    let mut s = cpu_state(4, 1, 10, 50, cpu_pods(4, 500, 255));
    assert_eq!(run(&s).desired_replicas, 4);
    let mut b = Behavior::default();
    b.scale_up.tolerance = Some(0.0);
    s.behavior = Some(b);
    assert_eq!(run(&s).desired_replicas, 5);
}

// ---------------------------------------------------------------------------------------------
// Pod groups: unready, missing, ignored

#[test]
fn unready_pods_count_as_using_nothing_on_a_scale_up() {
    // One ready pod at 260m of 100m (260%) and one Pending pod requesting 300m; target 50%.
    // Ready only: 5.2 (ceil(5.2 x 1) = 6 naively). Counting the Pending pod at 0:
    // 260 / 400 = 65%, 1.3, ceil(1.3 x 2) = ceil(2.6) = 3.
    let mut pending = pod("b").with_request("cpu", 300);
    pending.phase = PodPhase::Pending;
    pending.started_s_ago = None;
    pending.ready = false;
    let s = cpu_state(
        2,
        1,
        10,
        50,
        vec![
            pod("a").with_request("cpu", 100).with_sample("cpu", 260),
            pending,
        ],
    );
    let d = run(&s);
    assert_eq!(d.metrics[0].replicas, Some(3));
    assert_eq!(
        d.metrics[0].pods,
        Some(PodCounts {
            ready: 1,
            unready: 1,
            missing: 0,
            ignored: 0
        })
    );
    assert_eq!(d.desired_replicas, 3);
}

#[test]
fn counting_unready_pods_that_reverses_the_direction_keeps_the_replicas() {
    // One ready pod at 60% (ratio 1.2) and three Pending pods: 300 / 2000 = 15%, ratio 0.3 < 1.
    // A scale-up turned into a scale-down: keep 4 (naively ceil(1.2 x 1) = 2, a scale-down).
    let mut pods = vec![pod("a").with_request("cpu", 500).with_sample("cpu", 300)];
    for i in 0..3 {
        let mut p = pod(&format!("pending{i}")).with_request("cpu", 500);
        p.phase = PodPhase::Pending;
        pods.push(p);
    }
    let d = run(&cpu_state(4, 1, 10, 50, pods));
    assert_eq!(d.desired_replicas, 4);
    assert!(
        d.metrics[0]
            .note
            .as_deref()
            .unwrap()
            .contains("would reverse the direction"),
        "{:?}",
        d.metrics[0].note
    );
}

#[test]
fn missing_pods_count_as_using_their_full_request_on_a_scale_down() {
    // Two pods at 20% and two without samples: ratio 0.4. Missing at 100%:
    // (100 + 100 + 500 + 500) / 2000 = 60%, ratio 1.2 > 1: the direction flips, keep 4.
    let mut pods = cpu_pods(2, 500, 100);
    pods.push(pod("m1").with_request("cpu", 500));
    pods.push(pod("m2").with_request("cpu", 500));
    let mut s = cpu_state(4, 1, 10, 50, pods);
    s.recommendations = Some(vec![]);
    let d = run(&s);
    assert_eq!(
        d.metrics[0].pods,
        Some(PodCounts {
            ready: 2,
            unready: 0,
            missing: 2,
            ignored: 0
        })
    );
    assert_eq!(d.desired_replicas, 4);

    // Five pods at 10% and one missing: ratio 0.2 (naively ceil(0.2 x 5) = 1). Missing at 100%:
    // (250 + 500) / 3000 = 25%, 0.5, ceil(0.5 x 6) = 3.
    let mut pods = cpu_pods(5, 500, 50);
    pods.push(pod("m").with_request("cpu", 500));
    s.spec_replicas = 6;
    s.status_replicas = 6;
    s.pods = pods;
    assert_eq!(run(&s).desired_replicas, 3);
}

#[test]
fn missing_pods_count_as_using_nothing_on_a_scale_up() {
    // Three pods at 100% (ratio 2.0, naively ceil(2 x 3) = 6) and one missing pod requesting
    // 1500m: 1500 / 3000 = 50%, ratio 1.0, within tolerance: keep 4.
    let mut pods = cpu_pods(3, 500, 500);
    pods.push(pod("big").with_request("cpu", 1500));
    let d = run(&cpu_state(4, 1, 10, 50, pods));
    assert_eq!(d.desired_replicas, 4);
}

#[test]
fn a_missing_pod_on_a_scale_down_counts_at_the_target_when_the_target_is_above_100_percent() {
    // Target 150%. Two pods at 10% (ratio 10/150) and a missing one counted at 150% of 500m
    // = 750m: (50 + 50 + 750) / 1500 = 56.7 -> 56%, 56/150 = 0.373, ceil(0.373 x 3) = 2.
    // (At 100% it would be 40%, ceil(0.267 x 3) = 1.)
    let mut pods = cpu_pods(2, 500, 50);
    pods.push(pod("m").with_request("cpu", 500));
    let mut s = cpu_state(3, 1, 10, 150, pods);
    s.recommendations = Some(vec![]);
    assert_eq!(run(&s).desired_replicas, 2);
}

#[test]
fn a_cpu_sample_taken_too_soon_after_readiness_is_set_aside_during_initialization() {
    // An old pod at 100% and a pod started 60 s ago (inside the 300 s initialization period)
    // whose sample (age 10 s, window 15 s) is also at 100%.
    let state_with = |ready_changed_s_ago: f64| {
        let mut young = Pod::running("young", 60.0)
            .with_request("cpu", 500)
            .with_sample_at(
                "cpu",
                Sample {
                    value_milli: 500,
                    age_s: 10.0,
                    window_s: 15.0,
                },
            );
        young.ready_changed_s_ago = Some(ready_changed_s_ago);
        cpu_state(
            2,
            1,
            10,
            50,
            vec![
                pod("old").with_request("cpu", 500).with_sample("cpu", 500),
                young,
            ],
        )
    };
    // Ready 20 s ago: the sample started 20 - 10 = 10 s after readiness, less than a window:
    // unready. Ratio 2.0 on the old pod; with the young one at 0: 50%, 1.0: keep 2.
    let d = run(&state_with(20.0));
    assert_eq!(d.metrics[0].pods.unwrap().unready, 1);
    assert_eq!(d.desired_replicas, 2);
    // Ready 25 s ago: exactly one window (15 s) after readiness: the sample counts.
    // Ratio 2.0 over 2 pods: 4 (limit max(2 x 2, 4) = 4).
    assert_eq!(run(&state_with(25.0)).desired_replicas, 4);
    assert_eq!(run(&state_with(30.0)).desired_replicas, 4);
}

#[test]
fn after_initialization_only_a_pod_that_was_never_ready_is_set_aside() {
    // A pod started 400 s ago (past the initialization period), not ready, sample at 100%.
    let state_with = |ready_changed_s_ago: f64| {
        let mut p = Pod::running("p", 400.0)
            .with_request("cpu", 500)
            .with_sample("cpu", 500);
        p.ready = false;
        p.ready_changed_s_ago = Some(ready_changed_s_ago);
        cpu_state(
            2,
            1,
            10,
            50,
            vec![
                pod("old").with_request("cpu", 500).with_sample("cpu", 500),
                p,
            ],
        )
    };
    // Readiness last changed 10 s after start (within the 30 s delay): never ready, unready;
    // with it at 0: 50%, keep 2.
    assert_eq!(run(&state_with(390.0)).desired_replicas, 2);
    // Changed 300 s after start: it was ready and became unready; upstream counts its sample.
    assert_eq!(run(&state_with(100.0)).desired_replicas, 4);
}

#[test]
fn the_readiness_rules_apply_to_cpu_only() {
    // An old pod and a young, not-ready pod, both at 100% of their request of `resource`.
    // For memory the young pod's sample counts (ratio 2.0 over 2 pods: 4); for cpu it is set
    // aside as unready (counted at 0 on the scale-up: 50%, keep 2).
    let decide = |resource: &str| {
        let mut young = Pod::running("young", 60.0)
            .with_request(resource, 500)
            .with_sample(resource, 500);
        young.ready = false;
        let mut s = HpaState::new(
            2,
            1,
            10,
            vec![MetricSpec::resource_utilization(resource, 50)],
        );
        s.pods = vec![
            pod("old")
                .with_request(resource, 500)
                .with_sample(resource, 500),
            young,
        ];
        run(&s).desired_replicas
    };
    assert_eq!(decide("memory"), 4);
    assert_eq!(decide("cpu"), 2);
}

#[test]
fn deleting_and_failed_pods_are_ignored() {
    // Two pods at 100%, plus a deleting and a Failed pod at 0: ignored, not counted at 0.
    // Ratio 2.0, ceil(2 x 2) = 4.
    let mut pods = cpu_pods(2, 500, 500);
    let mut deleting = pod("deleting")
        .with_request("cpu", 500)
        .with_sample("cpu", 0);
    deleting.deleting = true;
    let mut failed = pod("failed").with_request("cpu", 500).with_sample("cpu", 0);
    failed.phase = PodPhase::Failed;
    pods.extend([deleting, failed]);
    let d = run(&cpu_state(2, 1, 10, 50, pods));
    assert_eq!(
        d.metrics[0].pods,
        Some(PodCounts {
            ready: 2,
            unready: 0,
            missing: 0,
            ignored: 2
        })
    );
    assert_eq!(d.desired_replicas, 4);
}

#[test]
fn a_utilization_target_needs_a_request_on_every_pod() {
    let mut pods = cpu_pods(2, 500, 500);
    pods.push(pod("no-request").with_sample("cpu", 100));
    let d = run(&cpu_state(3, 1, 10, 50, pods));
    assert_eq!(d.desired_replicas, 3);
    assert!(
        d.metrics[0]
            .error
            .as_deref()
            .unwrap()
            .contains("missing request for cpu in pod no-request")
    );
    assert_eq!(
        condition(&d, ConditionType::ScalingActive).reason,
        "FailedGetResourceMetric"
    );
}

// ---------------------------------------------------------------------------------------------
// Metric types

#[test]
fn a_pods_metric_compares_the_integer_average_with_the_target() {
    // 15, 20 and 25 rps against 10 rps per pod: average 20, ratio 2.0, ceil(2 x 3) = 6.
    let mut s = HpaState::new(3, 1, 10, vec![MetricSpec::pods("rps", 10_000)]);
    s.pods = [15_000, 20_000, 25_000]
        .iter()
        .enumerate()
        .map(|(i, &v)| pod(&format!("p{i}")).with_sample("rps", v))
        .collect();
    let d = run(&s);
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(d.reason, "pods metric rps above target");
    assert_eq!(d.metrics[0].current_average_value_milli, Some(20_000));
}

#[test]
fn a_missing_pod_counts_at_the_target_for_a_pods_metric_scale_down() {
    // Three pods at 2 rps, one missing, target 10: ratio 0.2. Missing at 10:
    // (6 + 10) / 4 = 4, ratio 0.4, ceil(0.4 x 4) = 2.
    let mut s = HpaState::new(4, 1, 10, vec![MetricSpec::pods("rps", 10_000)]);
    s.pods = (0..3)
        .map(|i| pod(&format!("p{i}")).with_sample("rps", 2_000))
        .collect();
    s.pods.push(pod("missing"));
    s.recommendations = Some(vec![]);
    assert_eq!(run(&s).desired_replicas, 2);
}

#[test]
fn a_resource_average_value_target_uses_the_plain_average() {
    // Memory target 512Mi per pod, two pods at 768Mi (milli-bytes): ratio 1.5, ceil(3) = 3.
    const MI: i64 = 1024 * 1024 * 1000;
    let mut s = HpaState::new(
        2,
        1,
        10,
        vec![MetricSpec::resource_average_value("memory", 512 * MI)],
    );
    s.pods = (0..2)
        .map(|i| pod(&format!("p{i}")).with_sample("memory", 768 * MI))
        .collect();
    let d = run(&s);
    assert_eq!(d.desired_replicas, 3);
    assert_eq!(d.reason, "memory resource above target");
}

#[test]
fn an_object_value_target_scales_the_ready_pods() {
    // 250 rps against 100: ratio 2.5; 2 of the 3 pods are Running and ready: ceil(2.5 x 2) = 5.
    let target = ValueTarget::Value {
        value_milli: 100_000,
    };
    let mut s = HpaState::new(
        3,
        1,
        10,
        vec![MetricSpec::object("ingress_rps", target, 250_000)],
    );
    let mut pending = pod("c");
    pending.phase = PodPhase::Pending;
    s.pods = vec![pod("a"), pod("b"), pending];
    let d = run(&s);
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.reason, "object metric ingress_rps above target");
    assert_eq!(d.metrics[0].current_value_milli, Some(250_000));
}

#[test]
fn an_average_value_target_divides_the_total_by_the_target_per_replica() {
    // 100 messages, 30 per replica, 2 replicas: ratio 100 / 60 = 1.67, ceil(100 / 30) = 4.
    let target = ValueTarget::AverageValue {
        average_value_milli: 30_000,
    };
    let d = run(&HpaState::new(
        2,
        1,
        10,
        vec![MetricSpec::external("queue", target, 100_000)],
    ));
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(d.metrics[0].current_average_value_milli, Some(50_000));
    // 63 messages: 63 / 60 = 1.05, within tolerance: keep the 2 replicas.
    let d = run(&HpaState::new(
        2,
        1,
        10,
        vec![MetricSpec::external("queue", target, 63_000)],
    ));
    assert_eq!(d.desired_replicas, 2);
}

#[test]
fn an_object_metric_scales_from_zero() {
    // min 0 (scale to zero) with an Object metric: from 0 replicas the count is ceil(2.5) = 3.
    let target = ValueTarget::Value {
        value_milli: 100_000,
    };
    let d = run(&HpaState::new(
        0,
        0,
        10,
        vec![MetricSpec::object("ingress_rps", target, 250_000)],
    ));
    assert_eq!(d.desired_replicas, 3);
}

// ---------------------------------------------------------------------------------------------
// Several metrics, failing metrics

/// Four pods with CPU at `cpu`m of 500m and 12.5 rps each; CPU target 50%, rps 10 per pod, a
/// queue of 20 against 10 per replica.
fn three_metrics(cpu: i64) -> HpaState {
    let queue = ValueTarget::AverageValue {
        average_value_milli: 10_000,
    };
    let mut s = HpaState::new(
        4,
        1,
        20,
        vec![
            MetricSpec::resource_utilization("cpu", 50),
            MetricSpec::pods("rps", 10_000),
            MetricSpec::external("queue", queue, 20_000),
        ],
    );
    s.pods = (0..4)
        .map(|i| {
            pod(&format!("p{i}"))
                .with_request("cpu", 500)
                .with_sample("cpu", cpu)
                .with_sample("rps", 12_500)
        })
        .collect();
    s
}

#[test]
fn several_metrics_take_the_largest_proposal() {
    // cpu 75%: 1.5 x 4 = 6; rps 1.25 x 4 = 5; queue 20 / (10 x 4) = 0.5, ceil(20/10) = 2.
    let d = run(&three_metrics(375));
    let proposals: Vec<_> = d.metrics.iter().map(|m| m.replicas).collect();
    assert_eq!(proposals, vec![Some(6), Some(5), Some(2)]);
    assert_eq!(d.desired_replicas, 6);
    assert_eq!(
        d.reason,
        "cpu resource utilization (percentage of request) above target"
    );
    // cpu at 50%: within tolerance, 4; rps wins with 5.
    let d = run(&three_metrics(250));
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.reason, "pods metric rps above target");
}

#[test]
fn a_failing_metric_blocks_a_scale_down() {
    // cpu at 20% proposes ceil(0.4 x 5) = 2, but the queue metric cannot be read: no scale-down.
    let queue = ValueTarget::AverageValue {
        average_value_milli: 10_000,
    };
    let mut s = cpu_state(5, 1, 10, 50, cpu_pods(5, 500, 100));
    s.metrics
        .push(MetricSpec::external("queue", queue, 0).failing());
    s.recommendations = Some(vec![]);
    let d = run(&s);
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(d.metric_desired_replicas, None);
    assert_eq!(
        d.reason,
        "failed to compute desired number of replicas based on listed metrics: invalid metrics (1 invalid out of 2), \
         first error is: failed to get queue external metric value: unable to get external metric queue: \
         the metrics API returned an error (fetch_error is set)"
    );
    assert_eq!(
        condition(&d, ConditionType::ScalingActive).reason,
        "FailedGetExternalMetric"
    );
    let reasons: Vec<_> = d.events.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        vec!["FailedGetExternalMetric", "FailedComputeMetricsReplicas"]
    );
    // The controller returns before recording a recommendation.
    assert!(d.next_recommendations.is_empty());
}

#[test]
fn a_failing_metric_still_allows_a_scale_up_on_the_valid_ones() {
    // cpu at 90%: ceil(1.8 x 5) = 9 > 5, so the valid metric may scale up despite the failure.
    let queue = ValueTarget::AverageValue {
        average_value_milli: 10_000,
    };
    let mut s = cpu_state(5, 1, 10, 50, cpu_pods(5, 500, 450));
    s.metrics
        .push(MetricSpec::external("queue", queue, 0).failing());
    let d = run(&s);
    assert_eq!(d.desired_replicas, 9);
    assert!(
        d.reason.starts_with(
            "cpu resource utilization (percentage of request) above target; 1 of 2 metrics could not be computed"
        ),
        "{}",
        d.reason
    );
    assert_eq!(
        condition(&d, ConditionType::ScalingActive).reason,
        "ValidMetricFound"
    );
}

#[test]
fn all_metrics_failing_keeps_the_replicas() {
    let mut s = cpu_state(3, 1, 10, 50, cpu_pods(3, 500, 500));
    s.metrics[0].fetch_error = true;
    let d = run(&s);
    assert_eq!(d.desired_replicas, 3);
    assert_eq!(
        d.reason,
        "failed to compute desired number of replicas based on listed metrics: invalid metrics (1 invalid out of 1), \
         first error is: failed to get cpu resource metric value: failed to get cpu utilization: \
         unable to get metrics for resource cpu: the metrics API returned an error (fetch_error is set)"
    );
    assert_eq!(
        condition(&d, ConditionType::ScalingActive).message,
        "the HPA was unable to compute the replica count: failed to get cpu utilization: \
         unable to get metrics for resource cpu: the metrics API returned an error (fetch_error is set)"
    );
}

// ---------------------------------------------------------------------------------------------
// Bounds

#[test]
fn min_replicas_clamps_a_scale_down() {
    // 10%: 0.2 x 5 = 1, below min 3: 3.
    let mut s = cpu_state(5, 3, 10, 50, cpu_pods(5, 500, 50));
    s.recommendations = Some(vec![]);
    let d = run(&s);
    assert_eq!(d.desired_replicas, 3);
    assert!(d.limited);
    assert_eq!(
        d.reason,
        "All metrics below target; the desired replica count is less than the minimum replica count"
    );
    let limited = condition(&d, ConditionType::ScalingLimited);
    assert_eq!(
        (limited.status, limited.reason.as_str()),
        (ConditionStatus::True, "TooFewReplicas")
    );
}

#[test]
fn max_replicas_clamps_a_scale_up() {
    // 100%: 2.0 x 5 = 10; the limit max(2 x 5, 4) = 10 is not below max 7: TooManyReplicas, 7.
    let d = run(&cpu_state(5, 1, 7, 50, cpu_pods(5, 500, 500)));
    assert_eq!(d.desired_replicas, 7);
    assert_eq!(
        condition(&d, ConditionType::ScalingLimited).reason,
        "TooManyReplicas"
    );
    assert_eq!(
        d.reason,
        "cpu resource utilization (percentage of request) above target; the desired replica count is more than the maximum replica count"
    );
}

#[test]
fn a_count_outside_the_bounds_goes_to_the_bound_without_consulting_metrics() {
    let mut s = cpu_state(12, 2, 10, 50, vec![]);
    s.metrics[0].fetch_error = true;
    let d = run(&s);
    assert_eq!(d.desired_replicas, 10);
    assert_eq!(d.action, ScaleAction::ScaleDown);
    assert_eq!(
        d.reason,
        "Current number of replicas above Spec.MaxReplicas"
    );
    assert_eq!(
        d.events[0].message,
        "New size: 10; reason: Current number of replicas above Spec.MaxReplicas"
    );
    assert!(d.metrics.is_empty());
    s.spec_replicas = 1;
    let d = run(&s);
    assert_eq!(d.desired_replicas, 2);
    assert_eq!(
        d.reason,
        "Current number of replicas below Spec.MinReplicas"
    );
}

#[test]
fn a_target_at_zero_replicas_is_not_scaled() {
    let d = run(&cpu_state(0, 1, 10, 50, vec![]));
    assert_eq!(d.desired_replicas, 0);
    assert_eq!(
        d.reason,
        "scaling is disabled since the replica count of the target is zero"
    );
    assert_eq!(
        condition(&d, ConditionType::ScalingActive).reason,
        "ScalingDisabled"
    );
}

// ---------------------------------------------------------------------------------------------
// Without behavior: downscale stabilization and the scale-up limit

#[test]
fn the_legacy_scale_up_limit_is_the_larger_of_double_and_four() {
    // 1 pod at 1000%: ratio 20, proposal 20. Limit max(2 x 1, 4) = 4.
    let d = run(&cpu_state(1, 1, 100, 50, cpu_pods(1, 500, 5000)));
    assert_eq!(d.metric_desired_replicas, Some(20));
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(
        condition(&d, ConditionType::ScalingLimited).reason,
        "ScaleUpLimit"
    );
    // 10 pods at 500%: proposal 100; limit max(2 x 10, 4) = 20.
    let d = run(&cpu_state(10, 1, 100, 50, cpu_pods(10, 500, 2500)));
    assert_eq!(d.desired_replicas, 20);
    // The factor and minimum are flags: factor 3 gives 30.
    let mut s = cpu_state(10, 1, 100, 50, cpu_pods(10, 500, 2500));
    s.config.scale_up_limit_factor = 3.0;
    assert_eq!(run(&s).desired_replicas, 30);
}

/// 8 replicas at 15% against 50%: ceil(0.3 x 8) = ceil(2.4) = 3.
fn eight_at_15_percent() -> HpaState {
    cpu_state(8, 1, 10, 50, cpu_pods(8, 500, 75))
}

#[test]
fn legacy_stabilization_applies_the_highest_recommendation_in_the_window() {
    let mut s = eight_at_15_percent();
    s.recommendations = Some(vec![rec(6, 200.0), rec(8, 100.0)]);
    let d = run(&s);
    assert_eq!(d.metric_desired_replicas, Some(3));
    assert_eq!(d.stabilized_replicas, Some(8));
    assert_eq!(d.desired_replicas, 8);
    assert_eq!(
        d.reason,
        "All metrics below target, but recent recommendations were higher than current one, applying the highest recent recommendation"
    );
    assert_eq!(
        condition(&d, ConditionType::AbleToScale).reason,
        "ScaleDownStabilized"
    );
    assert_eq!(
        d.next_recommendations,
        vec![rec(6, 200.0), rec(8, 100.0), rec(3, 0.0)]
    );
}

#[test]
fn legacy_stabilization_counts_a_recommendation_exactly_at_the_window_edge() {
    // Upstream drops a recommendation only when it is *before* now - window: age 300 counts.
    let mut s = eight_at_15_percent();
    s.recommendations = Some(vec![rec(7, 300.0)]);
    let d = run(&s);
    assert_eq!(d.desired_replicas, 7);
    assert_eq!(
        d.reason,
        "All metrics below target; recent recommendations were higher than current one, applying the highest recent recommendation"
    );
    assert_eq!(d.next_recommendations, vec![rec(7, 300.0), rec(3, 0.0)]);
    // Just past it, the old slot is reused for the new recommendation.
    s.recommendations = Some(vec![rec(7, 300.5)]);
    let d = run(&s);
    assert_eq!(d.desired_replicas, 3);
    assert_eq!(d.next_recommendations, vec![rec(3, 0.0)]);
}

#[test]
fn legacy_stabilization_can_raise_a_count_the_metrics_are_happy_with() {
    // Someone scaled the target down to 5 by hand; the metrics are on target (5), but the
    // controller recommended 8 a minute ago: the highest recommendation in the window wins.
    let mut s = cpu_state(5, 1, 10, 50, cpu_pods(5, 500, 250));
    s.recommendations = Some(vec![rec(8, 60.0)]);
    let d = run(&s);
    assert_eq!(d.metric_desired_replicas, Some(5));
    assert_eq!(d.desired_replicas, 8);
    assert_eq!(
        d.reason,
        "recent recommendations were higher than current one, applying the highest recent recommendation"
    );
    assert_eq!(d.events.last().unwrap().message, "New size: 8; reason: ");
}

#[test]
fn the_first_reconcile_records_the_current_count_so_a_scale_down_waits() {
    // recommendations null: the controller records [8 now] first, which holds the scale-down.
    let d = run(&eight_at_15_percent());
    assert_eq!(d.desired_replicas, 8);
    assert_eq!(d.next_recommendations, vec![rec(8, 0.0), rec(3, 0.0)]);
    // The same with behavior (the scale-down window defaults to the controller's 300 s).
    let mut s = eight_at_15_percent();
    s.behavior = Some(Behavior::default());
    assert_eq!(run(&s).desired_replicas, 8);
    // A controller that has seen the HPA but has no recommendations scales down at once.
    s.recommendations = Some(vec![]);
    assert_eq!(run(&s).desired_replicas, 3);
    s.behavior = None;
    assert_eq!(run(&s).desired_replicas, 3);
}

// ---------------------------------------------------------------------------------------------
// With behavior

#[test]
fn behavior_scale_up_stabilization_applies_the_lowest_recommendation_in_the_window() {
    // 3 pods at 100% against 20%: ratio 5, proposal 15. Up window 60 s holds 5 (30 s ago) and
    // 9 (10 s ago): lowest 5. Then max(+4, +100%) from 3 = 7 allows 5.
    let mut s = cpu_state(3, 1, 20, 20, cpu_pods(3, 500, 500));
    s.behavior = behavior(
        ScalingRules {
            stabilization_window_s: Some(60),
            ..ScalingRules::default_scale_up()
        },
        ScalingRules::default_scale_down(),
    );
    s.recommendations = Some(vec![rec(5, 30.0), rec(9, 10.0)]);
    let d = run(&s);
    assert_eq!(d.metric_desired_replicas, Some(15));
    assert_eq!(d.desired_replicas, 5);
    assert_eq!(
        d.reason,
        "cpu resource utilization (percentage of request) above target; recent recommendations were lower than current one, applying the lowest recent recommendation"
    );
    assert_eq!(
        condition(&d, ConditionType::AbleToScale).reason,
        "SucceededRescale"
    );
}

#[test]
fn behavior_stabilization_excludes_a_recommendation_exactly_at_the_window_edge() {
    // Upstream counts a recommendation only when it is *after* now - window: age 300 is out
    // (unlike the legacy rule). Default behavior: down window 300 s, -100% per 15 s.
    let mut s = eight_at_15_percent();
    s.behavior = Some(Behavior::default());
    s.recommendations = Some(vec![rec(8, 300.0)]);
    let d = run(&s);
    assert_eq!(d.desired_replicas, 3);
    assert_eq!(d.next_recommendations, vec![rec(8, 300.0), rec(3, 0.0)]);
    s.recommendations = Some(vec![rec(8, 299.5)]);
    let d = run(&s);
    assert_eq!(d.desired_replicas, 8);
    assert!(d.stabilized);
}

#[test]
fn pods_and_percent_policies_are_chosen_by_select_policy() {
    // Up: 10 pods at 150% against 50%: proposal 30. +4 pods allows 14, +50% allows 15.
    let up = |select| {
        let mut s = cpu_state(10, 1, 100, 50, cpu_pods(10, 500, 750));
        let policies = [(PolicyKind::Pods, 4, 60), (PolicyKind::Percent, 50, 60)];
        s.behavior = behavior(
            rules(0, select, &policies),
            ScalingRules::default_scale_down(),
        );
        run(&s)
    };
    assert_eq!(up(SelectPolicy::Max).desired_replicas, 15);
    assert_eq!(up(SelectPolicy::Min).desired_replicas, 14);
    assert_eq!(
        condition(&up(SelectPolicy::Min), ConditionType::ScalingLimited).reason,
        "ScaleUpLimit"
    );
    // Down: 10 pods at 5%: proposal 1. -2 pods allows 8, -50% allows 5.
    let down = |select| {
        let mut s = cpu_state(10, 1, 100, 50, cpu_pods(10, 500, 25));
        let policies = [(PolicyKind::Pods, 2, 60), (PolicyKind::Percent, 50, 60)];
        s.behavior = behavior(
            ScalingRules::default_scale_up(),
            rules(0, select, &policies),
        );
        run(&s)
    };
    assert_eq!(down(SelectPolicy::Max).desired_replicas, 5);
    assert_eq!(down(SelectPolicy::Min).desired_replicas, 8);
    assert_eq!(
        down(SelectPolicy::Min).reason,
        "All metrics below target; the desired replica count is decreasing faster than the maximum scale rate"
    );
}

#[test]
fn a_disabled_direction_keeps_the_replicas() {
    let mut s = cpu_state(4, 1, 10, 50, cpu_pods(4, 500, 500));
    s.behavior = behavior(
        rules(0, SelectPolicy::Disabled, &[(PolicyKind::Pods, 4, 15)]),
        ScalingRules::default_scale_down(),
    );
    let d = run(&s);
    assert_eq!(d.desired_replicas, 4);
    assert_eq!(
        d.reason,
        "cpu resource utilization (percentage of request) above target, but scaling up is disabled (behavior.scale_up.select_policy is Disabled)"
    );
    // Scaling down can be disabled while scaling up works.
    s.behavior = behavior(
        ScalingRules::default_scale_up(),
        rules(0, SelectPolicy::Disabled, &[(PolicyKind::Percent, 100, 15)]),
    );
    s.pods = cpu_pods(4, 500, 50);
    assert_eq!(run(&s).desired_replicas, 4);
    s.pods = cpu_pods(4, 500, 500);
    assert_eq!(run(&s).desired_replicas, 8);
}

#[test]
fn rate_limits_remember_the_scale_events_of_their_period() {
    // 6 pods at 100%: proposal 12; at most +2 pods per 60 s.
    let state_with = |events: Vec<ScaleEvent>| {
        let mut s = cpu_state(6, 1, 20, 50, cpu_pods(6, 500, 500));
        s.behavior = behavior(
            rules(0, SelectPolicy::Max, &[(PolicyKind::Pods, 2, 60)]),
            ScalingRules::default_scale_down(),
        );
        s.scale_up_events = events;
        s
    };
    // +2 thirty seconds ago: the period started at 4, the limit is 6: no room left.
    let d = run(&state_with(vec![ScaleEvent {
        change: 2,
        age_s: 30.0,
    }]));
    assert_eq!(d.desired_replicas, 6);
    assert!(d.limited);
    assert_eq!(
        d.reason,
        "cpu resource utilization (percentage of request) above target, but the desired replica count is increasing faster than the maximum scale rate"
    );
    // The same event exactly 60 s ago is outside the period: 6 + 2 = 8. It is not yet older
    // than the longest period, so the new event is appended.
    let d = run(&state_with(vec![ScaleEvent {
        change: 2,
        age_s: 60.0,
    }]));
    assert_eq!(d.desired_replicas, 8);
    assert_eq!(
        d.next_scale_up_events,
        vec![
            ScaleEvent {
                change: 2,
                age_s: 60.0
            },
            ScaleEvent {
                change: 2,
                age_s: 0.0
            }
        ]
    );
    // An older one is replaced.
    let d = run(&state_with(vec![ScaleEvent {
        change: 2,
        age_s: 61.0,
    }]));
    assert_eq!(
        d.next_scale_up_events,
        vec![ScaleEvent {
            change: 2,
            age_s: 0.0
        }]
    );
}

#[test]
fn feeding_the_decision_back_reproduces_a_rate_limited_ramp() {
    // The defaults (+4 pods or +100% per 15 s, whichever is more) from 1 replica towards 40, one
    // reconcile every 15 s (so each event leaves the period before the next): 1 -> max(5, 2) = 5
    // -> max(9, 10) = 10 -> 20 -> 40, then max_replicas holds it (the pods report 1000%).
    let mut s = cpu_state(1, 1, 40, 50, cpu_pods(1, 500, 5000));
    s.behavior = Some(Behavior::default());
    let mut counts = vec![1];
    for _ in 0..5 {
        let d = run(&s);
        let age = |mut r: Recommendation| {
            r.age_s += 15.0;
            r
        };
        let age_event = |mut e: ScaleEvent| {
            e.age_s += 15.0;
            e
        };
        s.recommendations = Some(d.next_recommendations.into_iter().map(age).collect());
        s.scale_up_events = d.next_scale_up_events.into_iter().map(age_event).collect();
        s.spec_replicas = d.desired_replicas;
        s.status_replicas = d.desired_replicas;
        s.pods = cpu_pods(d.desired_replicas as usize, 500, 5000);
        counts.push(d.desired_replicas);
    }
    assert_eq!(counts, vec![1, 5, 10, 20, 40, 40]);
}

// ---------------------------------------------------------------------------------------------
// Snapshots

#[test]
fn the_bundled_example_snapshots_parse_and_decide() {
    let examples = [
        // Ready: web-1, web-2 and web-3 (ready 40 s ago, its sample 35 s after that, more than a
        // window): 1300 / 1500 = 86%, 1.72. web-4 is Pending: at 0, 1300 / 2000 = 65%, 1.3,
        // ceil(1.3 x 4) = 6; the limit max(8, 4) allows it.
        (
            include_str!("examples/cpu-scale-up.json"),
            6,
            "cpu resource utilization (percentage of request) above target",
        ),
        // 12 pods at 6 of 20 rps: ceil(0.3 x 12) = 4. The 60 s window holds 4 (30 s ago), not 14
        // (90 s ago): 4. The period started at 12 + 2 = 14 (the 3 removed 200 s ago are out):
        // -4 pods allows 10, -40% allows trunc(14 x 0.6) = 8; Max picks the larger change, 8.
        (
            include_str!("examples/behavior-scale-down.json"),
            8,
            "All metrics below target; the desired replica count is decreasing faster than the maximum scale rate",
        ),
        // cpu 30% of 70%: ceil(0.43 x 5) = 3 < 5, and queue_depth failed: no scale-down.
        (
            include_str!("examples/failing-metric.json"),
            5,
            "failed to compute desired number of replicas based on listed metrics: invalid metrics (1 invalid out of 2)",
        ),
    ];
    for (json, desired, reason) in examples {
        let state = parse_snapshot(json).expect("example parses");
        let d = reconcile(&state);
        assert_eq!(d.desired_replicas, desired, "{}", d.reason);
        assert!(d.reason.starts_with(reason), "{}", d.reason);
        // The decision is plain data: serialising it twice gives the same text.
        let text = serde_json::to_string_pretty(&d).unwrap();
        assert_eq!(
            text,
            serde_json::to_string_pretty(&reconcile(&state)).unwrap()
        );
    }
}
