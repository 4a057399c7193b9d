//! From a metric proposal to the count to set: the stabilization window over past
//! recommendations, the scale rate limits and the `min`/`max` bounds, in both of upstream's
//! forms (the legacy rules when `behavior` is unset, and `behavior`'s windows and policies), and
//! the bookkeeping of the recommendation history and scale events the controller keeps.
//!
//! Window edges follow upstream's time comparisons exactly. In ages:
//! - legacy stabilization counts a recommendation while `age <= window` (`!Before(cutoff)`);
//! - `behavior` stabilization counts it while `age < window` (`After(cutoff)`), so a window of
//!   0 counts none;
//! - a rate-limit period counts a scale event while `age < period` (`After(cutoff)`).

use super::state::{
    Behavior, HpaState, PolicyKind, Recommendation, ScaleEvent, ScalingRules, SelectPolicy,
};

/// The stabilized and limited count, and what upstream would report about it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Normalized {
    /// After the stabilization window.
    pub stabilized: i64,
    /// After the rate limits and bounds: the count to set.
    pub desired: i64,
    /// The `AbleToScale` reason and message the stabilization step sets.
    pub stabilization: (&'static str, &'static str),
    /// The `ScalingLimited` reason and message the limiting step sets.
    pub limit: (&'static str, &'static str),
    /// The recommendation history with this reconcile's proposal recorded.
    pub history: Vec<Recommendation>,
}

const READY_FOR_NEW_SCALE: (&str, &str) =
    ("ReadyForNewScale", "recommended size matches current size");
const SCALE_DOWN_STABILIZED: (&str, &str) = (
    "ScaleDownStabilized",
    "recent recommendations were higher than current one, applying the highest recent recommendation",
);
const SCALE_UP_STABILIZED: (&str, &str) = (
    "ScaleUpStabilized",
    "recent recommendations were lower than current one, applying the lowest recent recommendation",
);
const SCALE_UP_LIMIT: (&str, &str) = (
    "ScaleUpLimit",
    "the desired replica count is increasing faster than the maximum scale rate",
);
const SCALE_DOWN_LIMIT: (&str, &str) = (
    "ScaleDownLimit",
    "the desired replica count is decreasing faster than the maximum scale rate",
);
const TOO_MANY_REPLICAS: (&str, &str) = (
    "TooManyReplicas",
    "the desired replica count is more than the maximum replica count",
);
const TOO_FEW_REPLICAS: (&str, &str) = (
    "TooFewReplicas",
    "the desired replica count is less than the minimum replica count",
);
const DESIRED_WITHIN_RANGE: (&str, &str) = (
    "DesiredWithinRange",
    "the desired count is within the acceptable range",
);

/// Without `behavior` (`normalizeDesiredReplicas`): the highest recommendation within the
/// downscale window, then at most `max(factor x current, minimum)` and the bounds.
pub(crate) fn normalize_legacy(
    state: &HpaState,
    history: Vec<Recommendation>,
    proposal: i64,
) -> Normalized {
    let current = i64::from(state.spec_replicas);
    let window = state.config.downscale_stabilization_s;
    let mut stabilized = proposal;
    let mut old = None;
    for (i, r) in history.iter().enumerate() {
        if r.age_s > window {
            old = Some(i);
        } else {
            stabilized = stabilized.max(i64::from(r.replicas));
        }
    }
    let history = record(history, old, proposal);
    let stabilization = if stabilized != proposal {
        SCALE_DOWN_STABILIZED
    } else {
        READY_FOR_NEW_SCALE
    };

    // convertDesiredReplicasWithRules. The limit guards against bogus usage reports blowing up
    // the replica count in one step (kubernetes#32304).
    let scale_up_limit = (state.config.scale_up_limit_factor * current as f64)
        .max(state.config.scale_up_limit_minimum) as i64;
    let (max_allowed, above) = if i64::from(state.max_replicas) > scale_up_limit {
        (scale_up_limit, SCALE_UP_LIMIT)
    } else {
        (i64::from(state.max_replicas), TOO_MANY_REPLICAS)
    };
    let (desired, limit) = if stabilized < i64::from(state.min_replicas) {
        (i64::from(state.min_replicas), TOO_FEW_REPLICAS)
    } else if stabilized > max_allowed {
        (max_allowed, above)
    } else {
        (stabilized, DESIRED_WITHIN_RANGE)
    };
    Normalized {
        stabilized,
        desired,
        stabilization,
        limit,
        history,
    }
}

/// With `behavior` (`normalizeDesiredReplicasWithBehaviors`): keep the current count unless
/// every recommendation in the scale-up window is above it (then the lowest) or every one in
/// the scale-down window is below it (then the highest); then the rate policies and bounds.
pub(crate) fn normalize_with_behavior(
    state: &HpaState,
    behavior: &Behavior,
    history: Vec<Recommendation>,
    proposal: i64,
) -> Normalized {
    let current = i64::from(state.spec_replicas);
    let up_window = f64::from(behavior.scale_up.stabilization_window_s.unwrap_or(0));
    // maybeInitScaleDownStabilizationWindow converts the flag to whole seconds.
    let down_window = match behavior.scale_down.stabilization_window_s {
        Some(w) => f64::from(w),
        None => state.config.downscale_stabilization_s.trunc(),
    };

    let (mut up_bound, mut down_bound) = (proposal, proposal);
    let mut old = None;
    for (i, r) in history.iter().enumerate() {
        let replicas = i64::from(r.replicas);
        if r.age_s < up_window {
            up_bound = up_bound.min(replicas);
        }
        if r.age_s < down_window {
            down_bound = down_bound.max(replicas);
        }
        if r.age_s > up_window && r.age_s > down_window {
            old = Some(i);
        }
    }
    let stabilized = current.max(up_bound).min(down_bound);
    let history = record(history, old, proposal);
    let stabilization = match (stabilized != proposal, proposal >= current) {
        (false, _) => READY_FOR_NEW_SCALE,
        (true, true) => SCALE_UP_STABILIZED,
        (true, false) => SCALE_DOWN_STABILIZED,
    };

    // convertDesiredReplicasWithBehaviorRate
    let (min, max) = (i64::from(state.min_replicas), i64::from(state.max_replicas));
    let (up_events, down_events) = (&state.scale_up_events, &state.scale_down_events);
    let (desired, limit) = if stabilized > current {
        // A limit below the current count waits for past scale-ups to leave the period.
        let limit =
            scale_up_limit(current, up_events, down_events, &behavior.scale_up).max(current);
        let (max_allowed, reason) = if max > limit {
            (limit, SCALE_UP_LIMIT)
        } else {
            (max, TOO_MANY_REPLICAS)
        };
        if stabilized > max_allowed {
            (max_allowed, reason)
        } else {
            (stabilized, DESIRED_WITHIN_RANGE)
        }
    } else if stabilized < current {
        let limit =
            scale_down_limit(current, up_events, down_events, &behavior.scale_down).min(current);
        let (min_allowed, reason) = if min < limit {
            (limit, SCALE_DOWN_LIMIT)
        } else {
            (min, TOO_FEW_REPLICAS)
        };
        if stabilized < min_allowed {
            (min_allowed, reason)
        } else {
            (stabilized, DESIRED_WITHIN_RANGE)
        }
    } else {
        (stabilized, DESIRED_WITHIN_RANGE)
    };
    Normalized {
        stabilized,
        desired,
        stabilization,
        limit,
        history,
    }
}

/// Replaces the last recommendation that fell out of every window with this one, or appends
/// it (upstream reuses slots so the history stays small).
fn record(
    mut history: Vec<Recommendation>,
    old: Option<usize>,
    proposal: i64,
) -> Vec<Recommendation> {
    let recommendation = Recommendation {
        replicas: u32::try_from(proposal.max(0)).unwrap_or(u32::MAX),
        age_s: 0.0,
    };
    match old {
        Some(i) => history[i] = recommendation,
        None => history.push(recommendation),
    }
    history
}

/// Replicas changed by the events within the last `period_s` seconds.
fn changed_within(period_s: u32, events: &[ScaleEvent]) -> i64 {
    events
        .iter()
        .filter(|e| e.age_s < f64::from(period_s))
        .map(|e| i64::from(e.change))
        .sum()
}

/// The count at the start of a policy's period: now, minus what was added, plus what was
/// removed within it.
fn period_start(current: i64, period_s: u32, up: &[ScaleEvent], down: &[ScaleEvent]) -> i64 {
    current - changed_within(period_s, up) + changed_within(period_s, down)
}

/// `calculateScaleUpLimitWithScalingRules`: the most replicas the policies allow now.
pub(crate) fn scale_up_limit(
    current: i64,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
) -> i64 {
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        // For scaling up, the smallest change is the smallest limit.
        SelectPolicy::Min => (i64::from(i32::MAX), i64::min),
        SelectPolicy::Max => (i64::from(i32::MIN), i64::max),
    };
    for policy in &rules.policies {
        let start = period_start(current, policy.period_s, up, down);
        let proposed = match policy.kind {
            PolicyKind::Pods => start + i64::from(policy.value),
            // Rounded up, or a small target could never grow.
            PolicyKind::Percent => {
                (start as f64 * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i64
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`: the fewest replicas the policies allow now.
pub(crate) fn scale_down_limit(
    current: i64,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
) -> i64 {
    let (mut result, pick): (i64, fn(i64, i64) -> i64) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        // For scaling down, the smallest change is the largest limit.
        SelectPolicy::Min => (i64::from(i32::MIN), i64::max),
        SelectPolicy::Max => (i64::from(i32::MAX), i64::min),
    };
    for policy in &rules.policies {
        let start = period_start(current, policy.period_s, up, down);
        let proposed = match policy.kind {
            PolicyKind::Pods => start - i64::from(policy.value),
            // Truncated, as upstream's int32 conversion: the count that stays rounds down.
            PolicyKind::Percent => (start as f64 * (1.0 - f64::from(policy.value) / 100.0)) as i64,
        };
        result = pick(result, proposed);
    }
    result
}

/// `storeScaleEvent`: after a rescale, remember its size for the rate policies (only with
/// `behavior`; the legacy rules do not look back). The slot of an event older than the
/// direction's longest period is reused.
pub(crate) fn record_scale_event(
    behavior: Option<&Behavior>,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    previous: u32,
    new: u32,
) -> (Vec<ScaleEvent>, Vec<ScaleEvent>) {
    let (mut up, mut down) = (up.to_vec(), down.to_vec());
    if let Some(behavior) = behavior {
        if new > previous {
            push_event(&mut up, &behavior.scale_up, new - previous);
        } else {
            push_event(&mut down, &behavior.scale_down, previous - new);
        }
    }
    (up, down)
}

fn push_event(events: &mut Vec<ScaleEvent>, rules: &ScalingRules, change: u32) {
    let longest = rules.policies.iter().map(|p| p.period_s).max().unwrap_or(0);
    let event = ScaleEvent { change, age_s: 0.0 };
    match events.iter().rposition(|e| e.age_s > f64::from(longest)) {
        Some(i) => events[i] = event,
        None => events.push(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoscaler::hpa::state::ScalingPolicy;

    fn rules(select_policy: SelectPolicy, policies: &[(PolicyKind, u32, u32)]) -> ScalingRules {
        ScalingRules {
            stabilization_window_s: Some(0),
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

    fn ev(change: u32, age_s: f64) -> ScaleEvent {
        ScaleEvent { change, age_s }
    }

    #[test]
    fn scale_up_limit_picks_pods_or_percent_by_select_policy() {
        let both = [(PolicyKind::Pods, 4, 60), (PolicyKind::Percent, 100, 60)];
        // From 10: Pods allows 10 + 4 = 14, Percent allows ceil(10 x 2) = 20.
        assert_eq!(
            scale_up_limit(10, &[], &[], &rules(SelectPolicy::Max, &both)),
            20
        );
        assert_eq!(
            scale_up_limit(10, &[], &[], &rules(SelectPolicy::Min, &both)),
            14
        );
        // From 2: Pods allows 6, Percent 4.
        assert_eq!(
            scale_up_limit(2, &[], &[], &rules(SelectPolicy::Max, &both)),
            6
        );
        assert_eq!(
            scale_up_limit(2, &[], &[], &rules(SelectPolicy::Min, &both)),
            4
        );
        assert_eq!(
            scale_up_limit(2, &[], &[], &rules(SelectPolicy::Disabled, &both)),
            2
        );
    }

    #[test]
    fn percent_rounds_up_when_growing_and_down_when_shrinking() {
        // 3 x 1.1 = 3.3 -> 4 (so a small target can grow); 3 x 0.9 = 2.7 -> 2.
        assert_eq!(
            scale_up_limit(
                3,
                &[],
                &[],
                &rules(SelectPolicy::Max, &[(PolicyKind::Percent, 10, 60)])
            ),
            4
        );
        assert_eq!(
            scale_down_limit(
                3,
                &[],
                &[],
                &rules(SelectPolicy::Max, &[(PolicyKind::Percent, 10, 60)])
            ),
            2
        );
    }

    #[test]
    fn limits_count_events_strictly_inside_the_period() {
        let r = rules(SelectPolicy::Max, &[(PolicyKind::Pods, 4, 60)]);
        // 12 now, of which 3 were added 59.9 s ago (inside) and 5 exactly 60 s ago (outside):
        // the period started at 12 - 3 = 9, so the limit is 9 + 4 = 13.
        assert_eq!(scale_up_limit(12, &[ev(3, 59.9), ev(5, 60.0)], &[], &r), 13);
        // A scale-down inside the period raises the start: 12 + 2 = 14, limit 18.
        assert_eq!(scale_up_limit(12, &[], &[ev(2, 10.0)], &r), 18);
    }

    #[test]
    fn scale_down_limit_picks_by_select_policy() {
        let both = [(PolicyKind::Pods, 2, 60), (PolicyKind::Percent, 50, 60)];
        // From 10: Pods allows 8, Percent allows 5. Max (largest change) -> 5; Min -> 8.
        assert_eq!(
            scale_down_limit(10, &[], &[], &rules(SelectPolicy::Max, &both)),
            5
        );
        assert_eq!(
            scale_down_limit(10, &[], &[], &rules(SelectPolicy::Min, &both)),
            8
        );
        assert_eq!(
            scale_down_limit(10, &[], &[], &rules(SelectPolicy::Disabled, &both)),
            10
        );
        // 3 removed 30 s ago: the period started at 13; Pods allows 11, Percent 6.
        assert_eq!(
            scale_down_limit(10, &[], &[ev(3, 30.0)], &rules(SelectPolicy::Min, &both)),
            11
        );
    }

    #[test]
    fn scale_events_reuse_the_slot_of_an_outdated_event() {
        let behavior = Behavior::default(); // scale-up policies have periods of 15 s
        let up = [ev(2, 100.0), ev(1, 20.0), ev(4, 5.0)];
        // 20 s and 100 s are outside 15 s; the last outdated slot (index 1) is reused.
        let (up, down) = record_scale_event(Some(&behavior), &up, &[], 3, 7);
        assert_eq!(up, vec![ev(2, 100.0), ev(4, 0.0), ev(4, 5.0)]);
        assert!(down.is_empty());
        let (up2, down2) = record_scale_event(Some(&behavior), &[], &[], 7, 4);
        assert!(up2.is_empty());
        assert_eq!(down2, vec![ev(3, 0.0)]);
        // Without behavior nothing is kept.
        assert_eq!(record_scale_event(None, &[], &[], 3, 7), (vec![], vec![]));
    }
}
