//! Buying capacity: spot instances with their interruptions and prices, vertical scaling by a
//! scheduled resize, and variant patches that swap an autoscaler for another kind.
//!
//! - Spot interruptions are a Poisson process over spot instance-hours; reserved instances
//!   are never interrupted; without notice the instance's requests end as `interrupted` and
//!   the group replaces it, with a notice it drains in time.
//! - The spot bill is the spot price on the instance-hours beyond the reservation plus the
//!   reservation over the whole window.
//! - A `recreate` resize of one instance is an outage of one time-to-ready; `rolling` keeps
//!   all but one instance serving; the new cores are used (by every worker in cluster mode,
//!   by one in a single event loop); the bill changes price at the resize.
//! - Impossible spot values and scheduled actions are refused with their JSON path.
//! - Spot plus resize runs are deterministic across thread counts.

use crate::support::{assert_conserved, assert_error_at, experiment, load_error, only, run};
use surge::experiment::{ExecuteOptions, RunResult, run_experiment};
use surge::metrics::Outcome;
use surge::metrics::timeseries::TimeSeriesRow;
use surge::report::Report;
use surge::simulation::ServiceSummary;

// Small helpers, as in `policies.rs` (kept private there).

/// The (first) run of variant `name`.
fn variant<'a>(results: &'a [RunResult], name: &str) -> &'a RunResult {
    results
        .iter()
        .find(|r| r.variant == name)
        .unwrap_or_else(|| panic!("no run of variant `{name}`"))
}

/// The service `api`'s figures in a run.
fn api(r: &RunResult) -> &ServiceSummary {
    &r.output.summary.services["api"]
}

/// Time-series rows whose bucket starts in [from, to).
fn rows_in(r: &RunResult, from: f64, to: f64) -> impl Iterator<Item = &TimeSeriesRow> {
    r.output
        .timeseries
        .iter()
        .filter(move |row| row.t_s >= from - 1e-9 && row.t_s < to - 1e-9)
}

/// Mean CPU utilisation of the first service over the buckets starting in [from, to).
fn mean_cpu(r: &RunResult, from: f64, to: f64) -> f64 {
    let v: Vec<f64> = rows_in(r, from, to)
        .map(|row| row.services[0].cpu_utilisation)
        .collect();
    assert!(!v.is_empty(), "no buckets in [{from}, {to})");
    v.iter().sum::<f64>() / v.len() as f64
}

/// Requests ending as `outcome` in the buckets starting in [from, to).
fn ended_in(r: &RunResult, outcome: Outcome, from: f64, to: f64) -> u64 {
    rows_in(r, from, to)
        .map(|row| row.outcomes.get(outcome))
        .sum()
}

/// A bill agrees with its formula to within float rounding (1e-8 USD, or 1e-9 relative).
fn assert_usd(what: &str, observed: f64, expected: f64) {
    assert!(
        (observed - expected).abs() <= 1e-8 + 1e-9 * expected.abs(),
        "{what}: billed {observed} USD, expected {expected} USD"
    );
}

// ---------------------------------------------------------------------------------------------
// Spot capacity.

/// Hours in the spot runs below: long enough for thousands of interruptions, and cheap since
/// the traffic is a trickle.
const SPOT_HOURS: f64 = 1000.0;

/// Interruptions per spot instance-hour: far above real markets, to count many of them.
const SPOT_RATE: f64 = 2.0;

/// Four 1-core instances billed as m5.large under a trickle of traffic (one request every
/// 20 s), on spot capacity with `cost` (a `cost` object), for `SPOT_HOURS`, 1-hour buckets.
/// `variants` is the experiment's `variants` object.
fn spot_fleet_json(cost: &str, variants: &str) -> String {
    format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 4,
            "instance": {{ "cores": 1 }},
            "lifecycle": {{ "provisioning": "60s", "startup": "20s", "readiness": "10s" }},
            "cost": {cost},
            "endpoints": {{ "e": {{ "steps": [ {{ "io": "1ms" }} ] }} }} }} }} }},
        "workload": [ {{ "name": "trickle", "kind": "open", "rate": {{ "kind": "constant", "rps": 0.05 }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        "duration": "{SPOT_HOURS}h", "resolution": "1h", "seed": 2024,
        "variants": {variants}
    }}"#
    )
}

/// The same fleet all on spot, half reserved, and all reserved.
fn reservation_variants() -> String {
    spot_fleet_json(
        &format!(
            r#"{{ "instance_type": "m5.large", "spot": {{ "interruptions_per_hour": {SPOT_RATE} }} }}"#
        ),
        r#"{
            "all-spot": {},
            "half-reserved": { "services": { "api": { "cost": { "reserved": 2, "spot": { "price_per_hour": 0.03 } } } } },
            "all-reserved": { "services": { "api": { "cost": { "reserved": 4 } } } }
        }"#,
    )
}

#[test]
fn spot_interruptions_are_poisson_over_spot_instance_hours_and_spare_reserved_instances() {
    // Each spot instance gets an exponential lifetime (rate R per hour) when it is launched, so
    // the interruptions form a Poisson process whose intensity is R times the number of spot
    // instances alive, starting ones included. The count N over the run therefore has mean
    // and variance R x E (E = spot instance-hours, provisioning included):
    // |N - R E| <= 5 sqrt(R E). Reserved instances are on demand: with 2 of 4 reserved the
    // exposure is the instance-hours minus 2 x 1,000 h; with all 4 reserved it is zero, and no
    // instance is ever interrupted. Without notice every interruption launches exactly one
    // replacement, and the desired count never changes.
    let results = run(&experiment("spot-poisson", &reservation_variants()));
    assert_eq!(results.len(), 3);
    for (name, reserved) in [
        ("all-spot", 0.0),
        ("half-reserved", 2.0),
        ("all-reserved", 4.0),
    ] {
        let r = variant(&results, name);
        let s = api(r);
        let exposure = s.instance_hours - reserved * SPOT_HOURS;
        let expected = SPOT_RATE * exposure;
        let n = s.spot_interruptions as f64;
        let tol = 5.0 * expected.sqrt();
        assert!(
            (n - expected).abs() <= tol,
            "{name}: {n} interruptions over {exposure:.1} spot instance-hours, \
             expected {expected:.0} +- {tol:.0}"
        );
        assert_eq!(
            u64::from(s.instances_started),
            4 + s.spot_interruptions,
            "{name}: one replacement per interruption"
        );
        assert!(r.output.summary.scaling_actions.is_empty(), "{name}");
        assert!(
            r.output
                .timeseries
                .iter()
                .all(|row| row.services[0].desired == 4),
            "{name}: the desired count changed"
        );
        assert_conserved(name, &r.output.summary);
    }
    let all_spot = api(variant(&results, "all-spot"));
    assert!(
        all_spot.spot_interruptions > 6000,
        "about 8,000 expected: {}",
        all_spot.spot_interruptions
    );
    let reserved = api(variant(&results, "all-reserved"));
    assert_eq!(reserved.spot_interruptions, 0);
    assert_eq!(reserved.instances_started, 4);
    assert!((reserved.instance_hours - 4.0 * SPOT_HOURS).abs() < 1e-9);
}

#[test]
fn spot_bill_is_the_spot_price_beyond_the_reservation_plus_the_reservation() {
    // m5.large: 0.096 USD/h on demand, 0.060 reserved. The bill is
    //   reserved x 0.060 x hours + spot price x (instance-hours - reserved x hours)
    // (reserved instances run the whole window; replacements overlap nothing without notice).
    // The spot price is the file's `price_per_hour`, or 35% of on-demand (0.0336) without it.
    let results = run(&experiment("spot-cost", &reservation_variants()));
    let h = SPOT_HOURS;
    let cases = [
        ("all-spot", 0.0, 0.35 * 0.096),
        ("half-reserved", 2.0, 0.03),
        ("all-reserved", 4.0, 0.35 * 0.096),
    ];
    for (name, reserved, spot_price) in cases {
        let r = variant(&results, name);
        let s = api(r);
        let cost = s.cost.as_ref().expect("priced");
        let expected = reserved * 0.060 * h + spot_price * (s.instance_hours - reserved * h);
        assert_usd(name, cost.usd, expected);
        assert_usd(&format!("{name} per hour"), cost.usd_per_hour, expected / h);
        assert_eq!(cost.instance_type, "m5.large");
        assert_eq!(f64::from(cost.reserved), reserved);
        assert_usd(
            &format!("{name} run total"),
            r.output.summary.cost_usd.unwrap(),
            expected,
        );
    }
    // The same fleet on demand, for scale: spot at 35% really is cheaper.
    let on_demand = 4.0 * 0.096 * h;
    let spot = api(variant(&results, "all-spot"))
        .cost
        .as_ref()
        .unwrap()
        .usd;
    assert!(spot < 0.4 * on_demand, "{spot} vs {on_demand}");
}

/// Three 2-core instances under 30 req/s of 1 ms CPU then `io` (a distribution), on spot
/// capacity at `SPOT_RATE` interruptions per hour with `notice` (`, "notice": ...` or
/// nothing), for two hours.
fn spot_traffic_json(io: &str, notice: &str) -> String {
    format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 3,
            "instance": {{ "cores": 2 }},
            "lifecycle": {{ "provisioning": "20s", "startup": "5s", "readiness": "5s" }},
            "cost": {{ "instance_type": "m5.large",
                "spot": {{ "interruptions_per_hour": {SPOT_RATE}{notice} }} }},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": "1ms" }}, {{ "io": {io} }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": 30 }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        "duration": "2h", "resolution": "10s", "seed": 99
    }}"#
    )
}

#[test]
fn without_notice_an_interrupted_instance_takes_its_requests_and_is_replaced() {
    // 20 s of I/O per request at 30 req/s: each of the 3 instances holds ~200 requests. An
    // interruption without notice ends all of them as `interrupted` at one instant (so in one
    // bucket), the group launches a replacement at once (instances_started = 3 +
    // interruptions) and the desired count stays 3: the cloud, not a policy, took it.
    let results = run(&experiment(
        "spot-no-notice",
        &spot_traffic_json(r#""20s""#, ""),
    ));
    let r = only(&results);
    let s = &r.output.summary;
    let svc = api(r);
    assert_conserved("spot without notice", s);
    let interrupted = s.outcomes["interrupted"];
    assert!(svc.spot_interruptions >= 3, "{}", svc.spot_interruptions);
    assert!(
        interrupted >= 100 * svc.spot_interruptions,
        "{interrupted} requests lost in {} interruptions of ~200-request instances",
        svc.spot_interruptions
    );
    let buckets = r
        .output
        .timeseries
        .iter()
        .filter(|row| row.outcomes.get(Outcome::Interrupted) > 0)
        .count() as u64;
    assert!(
        buckets >= 1 && buckets <= svc.spot_interruptions,
        "{buckets} buckets with interrupted requests for {} interruptions",
        svc.spot_interruptions
    );
    assert_eq!(u64::from(svc.instances_started), 3 + svc.spot_interruptions);
    // Replacements reuse the slots of the instances they replace; the report still lists
    // every instance, in the order they were started, the interrupted ones stopped.
    let created: Vec<f64> = svc.per_instance.iter().map(|p| p.created_s).collect();
    assert!(created.windows(2).all(|w| w[0] <= w[1]), "{created:?}");
    let stopped = svc.per_instance.iter().filter(|p| p.stopped_s.is_some());
    assert_eq!(stopped.count() as u64, svc.spot_interruptions);
    assert!(s.scaling_actions.is_empty(), "{:?}", s.scaling_actions);
    assert!(
        r.output.timeseries.iter().all(|row| {
            let b = &row.services[0];
            b.desired == 3 && b.draining == 0 && b.instances + b.starting == 3
        }),
        "without notice nothing drains, and each lost instance is replaced at once"
    );
    assert_eq!(s.outcomes["killed"], 0);
}

#[test]
fn a_notice_longer_than_any_request_lets_the_instance_drain_in_time() {
    // I/O of 1-20 s and a 25 s notice: at the warning the instance leaves the balancer
    // and a replacement is launched; what it holds finishes well before the cloud takes it,
    // so nothing ends as `interrupted` (nor anything else but ok), yet the interruptions are
    // counted. Each warning launches one replacement, so instances_started - 3 is the
    // interruptions plus the warnings whose interruption falls after the horizon.
    let io = r#"{ "kind": "uniform", "min": "1s", "max": "20s" }"#;
    // (An instance whose lifetime is shorter than the notice gets none; with 25 s at 2 per
    // hour that is 1.4% of them, and none in this seeded run.)
    let results = run(&experiment(
        "spot-notice",
        &spot_traffic_json(io, r#", "notice": "25s""#),
    ));
    let r = only(&results);
    let s = &r.output.summary;
    let svc = api(r);
    assert_conserved("spot with notice", s);
    assert!(svc.spot_interruptions >= 3, "{}", svc.spot_interruptions);
    assert_eq!(s.outcomes["interrupted"], 0, "{:?}", s.outcomes);
    assert_eq!(
        s.outcomes["ok"] + s.in_flight_at_end,
        s.arrivals,
        "{:?}",
        s.outcomes
    );
    let launched = u64::from(svc.instances_started) - 3;
    assert!(
        launched >= svc.spot_interruptions && launched <= svc.spot_interruptions + 3,
        "{launched} replacements for {} interruptions",
        svc.spot_interruptions
    );
    assert!(
        r.output
            .timeseries
            .iter()
            .any(|row| row.services[0].draining > 0),
        "interrupted instances should drain after their notice"
    );
    assert!(s.scaling_actions.is_empty(), "{:?}", s.scaling_actions);
}

#[test]
fn impossible_spot_values_are_refused_with_their_json_path() {
    let exp = |spot: &str| {
        spot_fleet_json(
            &format!(r#"{{ "instance_type": "m5.large", "spot": {spot} }}"#),
            "{}",
        )
    };
    let p = "model.services.api.cost.spot";
    let cases = [
        (
            r#"{ "interruptions_per_hour": -0.5 }"#,
            format!("{p}.interruptions_per_hour"),
            "between 0 and 60",
        ),
        (
            r#"{ "interruptions_per_hour": 4000 }"#,
            format!("{p}.interruptions_per_hour"),
            "between 0 and 60",
        ),
        (
            r#"{ "interruptions_per_hour": 0.1, "price_per_hour": -0.01 }"#,
            format!("{p}.price_per_hour"),
            "zero or more",
        ),
        (
            r#"{ "interruptions_per_hour": 0.1, "notice": 120 }"#,
            format!("{p}.notice"),
            "unit",
        ),
    ];
    for (k, (spot, path, words)) in cases.iter().enumerate() {
        let e = load_error(&format!("bad-spot-{k}"), &exp(spot));
        assert_error_at(&e, path, words);
    }
}

// ---------------------------------------------------------------------------------------------
// Vertical scaling.

/// Provisioning + start-up + readiness of the resize models below.
const TIME_TO_READY_S: f64 = 30.0;

/// When the resize models below resize.
const RESIZE_S: f64 = 600.0;

#[test]
fn recreating_a_single_instance_is_an_outage_and_then_the_new_cores_serve() {
    // One 2-core instance under 250 req/s of 10 ms exponential CPU (2.5 cores of work) plus
    // 200 ms of I/O: saturated, shedding what its 100 + 100 admission limits cannot hold. At
    // 10 min it is recreated with 8 cores: what it held ends as `killed`, and for provisioning
    // + start-up + readiness (30 s) every request finds no instance (expected 250 x 30 = 7,500,
    // within 5 Poisson sd). Then 2.5 cores of work on 8: utilisation 0.3125, no queue, no
    // rejection.
    let json = r#"{
        "model": { "services": { "api": { "replicas": 1,
            "instance": { "cores": 2, "concurrency_limit": 100, "queue_limit": 100 },
            "lifecycle": { "provisioning": "20s", "startup": "5s", "readiness": "5s" },
            "schedule": [ { "at": "10m", "resize": { "instance": { "cores": 8, "concurrency_limit": 100, "queue_limit": 100 }, "strategy": "recreate" } } ],
            "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } }, { "io": "200ms" } ] } } } } },
        "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 250 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "20m", "seed": 11
    }"#;
    let results = run(&experiment("resize-recreate", json));
    let r = only(&results);
    let s = &r.output.summary;
    assert_conserved("recreate", s);
    let outage_end = RESIZE_S + TIME_TO_READY_S;
    // Replica counts are at each bucket's end; the resize and the return fall on bucket edges.
    for row in &r.output.timeseries {
        let down = row.t_s >= RESIZE_S && row.t_s < outage_end;
        assert_eq!(
            row.services[0].instances,
            u32::from(!down),
            "instances at the end of the bucket at {} s",
            row.t_s
        );
    }
    let no_instance = s.outcomes["no_instance"];
    assert_eq!(
        no_instance,
        ended_in(r, Outcome::NoInstance, RESIZE_S, outage_end),
        "no_instance only during the outage"
    );
    let expected = 250.0 * TIME_TO_READY_S;
    assert!(
        (no_instance as f64 - expected).abs() <= 5.0 * expected.sqrt(),
        "{no_instance} requests found no instance, expected {expected} +- {:.0}",
        5.0 * expected.sqrt()
    );
    // What it held at the resize (up to 100 admitted + 100 queued) is killed, at once.
    let killed = s.outcomes["killed"];
    assert!((100..=200).contains(&killed), "{killed}");
    assert_eq!(
        killed,
        ended_in(r, Outcome::Killed, RESIZE_S, RESIZE_S + 1.0)
    );
    // Before: saturated and shedding. After: a third of the cores, nothing shed or queued.
    let before = mean_cpu(r, 60.0, RESIZE_S);
    assert!(before > 0.98, "2 cores under 2.5 cores of work: {before}");
    assert!(ended_in(r, Outcome::Rejected, 60.0, RESIZE_S) > 10_000);
    let after = mean_cpu(r, outage_end + 30.0, 1200.0);
    assert!(
        (after - 2.5 / 8.0).abs() < 0.02,
        "8 cores under 2.5 cores of work: {after}"
    );
    assert_eq!(ended_in(r, Outcome::Rejected, outage_end, 1200.0), 0);
    let queue_after = rows_in(r, outage_end + 30.0, 1200.0)
        .map(|row| row.services[0].queue_length)
        .fold(0.0, f64::max);
    assert!(
        queue_after < 2.0,
        "peak bucket queue after the resize: {queue_after}"
    );
    // The resize is recorded, without changing the desired count; the instance is the same one.
    assert_eq!(s.scaling_actions.len(), 1, "{:?}", s.scaling_actions);
    let a = &s.scaling_actions[0];
    assert_eq!((a.t_s, a.from, a.to), (RESIZE_S, 1, 1));
    assert!(
        a.reason.contains("resize") && a.reason.contains("8 cores"),
        "{a:?}"
    );
    assert_eq!(api(r).instances_started, 1);
}

#[test]
fn a_rolling_resize_restarts_one_instance_per_time_to_ready_and_never_goes_dark() {
    // Three 2-core instances under 150 req/s of 10 ms CPU, resized to 8 cores one at a time:
    // instance k restarts at 600 + 30 k s, so from 600 s to 690 s exactly one is starting and
    // two serve (the load, 0.375 per core on the remaining four, fits). Nothing finds no
    // instance; each restart kills what its instance held, in its own bucket. Afterwards 1.5
    // cores of work spread over 24.
    let json = r#"{
        "model": { "services": { "api": { "replicas": 3,
            "instance": { "cores": 2 },
            "lifecycle": { "provisioning": "20s", "startup": "5s", "readiness": "5s" },
            "schedule": [ { "at": "10m", "resize": { "instance": { "cores": 8 }, "strategy": "rolling" } } ],
            "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } }, { "io": "500ms" } ] } } } } },
        "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 150 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "15m", "seed": 12
    }"#;
    let results = run(&experiment("resize-rolling", json));
    let r = only(&results);
    let s = &r.output.summary;
    assert_conserved("rolling", s);
    let end = RESIZE_S + 3.0 * TIME_TO_READY_S;
    for row in &r.output.timeseries {
        let b = &row.services[0];
        let rolling = row.t_s >= RESIZE_S && row.t_s < end;
        assert!(b.instances >= 2, "at {} s: {b:?}", row.t_s);
        assert_eq!(
            (b.instances, b.starting),
            if rolling { (2, 1) } else { (3, 0) },
            "at the end of the bucket at {} s",
            row.t_s
        );
    }
    assert_eq!(s.outcomes["no_instance"], 0);
    let killed_buckets: Vec<f64> = r
        .output
        .timeseries
        .iter()
        .filter(|row| row.outcomes.get(Outcome::Killed) > 0)
        .map(|row| row.t_s)
        .collect();
    assert_eq!(killed_buckets, [600.0, 630.0, 660.0]);
    let killed = s.outcomes["killed"];
    // Each instance holds ~150 / 3 x 0.51 s = 25 requests.
    assert!((30..=150).contains(&killed), "{killed}");
    let after = mean_cpu(r, end + 10.0, 900.0);
    assert!((after - 1.5 / 24.0).abs() < 0.01, "{after}");
    let a = &s.scaling_actions[0];
    assert!(a.reason.contains("one instance at a time"), "{a:?}");
    assert_eq!(api(r).instances_started, 3);
}

#[test]
fn a_single_event_loop_uses_one_core_of_a_bigger_machine_and_cluster_mode_uses_all() {
    // Node-style instances under 300 req/s of 10 ms CPU (3 cores of work), resized at 10 min
    // from 2 to 8 cores. In cluster mode (workers = cores) each of the 8 loops gets 3/8 of a
    // core of work: utilisation over the machine 0.375. A single process (`workers: 1`) can
    // run on one core only, whatever the machine: saturated, at most 1/8 of the machine (1/2
    // before the resize), shedding the rest.
    let shape = |cores: u32, workers: &str| {
        format!(
            r#"{{ "cores": {cores}, "runtime": "event_loop", "concurrency_limit": 200, "queue_limit": 200{workers} }}"#
        )
    };
    let schedule = |workers: &str| {
        format!(
            r#"[ {{ "at": "10m", "resize": {{ "instance": {} }} }} ]"#,
            shape(8, workers)
        )
    };
    let one = r#", "workers": 1"#;
    let json = format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 1,
            "instance": {},
            "lifecycle": {{ "provisioning": "20s", "startup": "5s", "readiness": "5s" }},
            "schedule": {},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": 300 }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        "duration": "15m", "seed": 13,
        "variants": {{
            "cluster": {{}},
            "single-process": {{ "services": {{ "api": {{ "instance": {{ "workers": 1 }}, "schedule": {} }} }} }}
        }}
    }}"#,
        shape(2, ""),
        schedule(""),
        schedule(one)
    );
    let results = run(&experiment("resize-workers", &json));
    let after = RESIZE_S + TIME_TO_READY_S;
    let cluster = variant(&results, "cluster");
    let single = variant(&results, "single-process");
    for r in &results {
        assert_conserved(&r.variant, &r.output.summary);
    }
    for row in &single.output.timeseries {
        let limit = if row.t_s < RESIZE_S { 0.5 } else { 0.125 };
        assert!(
            row.services[0].cpu_utilisation <= limit + 1e-9,
            "one loop on {} cores at {} s: {}",
            if row.t_s < RESIZE_S { 2 } else { 8 },
            row.t_s,
            row.services[0].cpu_utilisation
        );
    }
    let single_after = mean_cpu(single, after + 30.0, 900.0);
    assert!(
        single_after > 0.124,
        "the one loop is saturated: {single_after}"
    );
    assert!(ended_in(single, Outcome::Rejected, after + 30.0, 900.0) > 10_000);
    let cluster_before = mean_cpu(cluster, 60.0, RESIZE_S);
    assert!(cluster_before > 0.98, "{cluster_before}");
    let cluster_after = mean_cpu(cluster, after + 30.0, 900.0);
    assert!(
        (cluster_after - 0.375).abs() < 0.02,
        "eight loops under 3 cores of work: {cluster_after}"
    );
    assert_eq!(ended_in(cluster, Outcome::Rejected, after + 30.0, 900.0), 0);
}

/// Two instances billed as `cost` for an hour, resized at 30 min (`resize`, a resize object).
fn billed_resize_json(cost: &str, resize: &str) -> String {
    format!(
        r#"{{
        "model": {{ "services": {{ "api": {{ "replicas": 2,
            "instance": {{ "cores": 2 }},
            "lifecycle": {{ "provisioning": "20s", "startup": "5s", "readiness": "5s" }},
            "cost": {cost},
            "schedule": [ {{ "at": "30m", "resize": {resize} }} ],
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": "1ms" }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": 5 }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        "duration": "1h", "resolution": "1m", "seed": 14
    }}"#
    )
}

#[test]
fn the_bill_switches_price_at_the_resize_and_the_old_reservation_is_still_paid() {
    // Two instances for an hour (2 instance-hours; a restart is still billed, as the instance
    // is not released), resized from m5.large (0.096 on demand, 0.060 reserved) to m5.2xlarge
    // (0.384) at 30 min:
    // - on demand: 2 x 0.096 x 0.5 + 2 x 0.384 x 0.5 = 0.480;
    // - 1 reserved m5.large: the reservation is paid all hour (0.060) but covers nothing of
    //   the new type: 0.060 + 1 x 0.096 x 0.5 + 2 x 0.384 x 0.5 = 0.492;
    // - a resize without `instance_type` keeps the price: 2 x 0.096 = 0.192;
    // - spot at 0.03 (0.3125 of on-demand; no interruptions) keeps its discount on the new
    //   type: 2 x 0.03 x 0.5 + 2 x 0.384 x 0.3125 x 0.5 = 0.150.
    let shape = r#"{ "cores": 8 }"#;
    let resize = |ty: &str| format!(r#"{{ "instance": {shape}{ty}, "strategy": "rolling" }}"#);
    let to_2xl = resize(r#", "instance_type": "m5.2xlarge""#);
    let cases = [
        (
            "on demand",
            r#"{ "instance_type": "m5.large" }"#,
            to_2xl.clone(),
            0.480,
        ),
        (
            "reserved",
            r#"{ "instance_type": "m5.large", "reserved": 1 }"#,
            to_2xl.clone(),
            0.492,
        ),
        (
            "same type",
            r#"{ "instance_type": "m5.large" }"#,
            resize(""),
            0.192,
        ),
        (
            "spot",
            r#"{ "instance_type": "m5.large", "spot": { "interruptions_per_hour": 0, "price_per_hour": 0.03 } }"#,
            to_2xl.clone(),
            0.150,
        ),
    ];
    for (name, cost, resize, expected) in cases {
        let results = run(&experiment(
            "resize-bill",
            &billed_resize_json(cost, &resize),
        ));
        let r = only(&results);
        let s = api(r);
        assert!(
            (s.instance_hours - 2.0).abs() < 1e-9,
            "{name}: {}",
            s.instance_hours
        );
        assert_usd(name, s.cost.as_ref().unwrap().usd, expected);
        assert_usd(name, r.output.summary.cost_usd.unwrap(), expected);
        assert_eq!(
            s.instances_started, 2,
            "{name}: a resize restarts, it does not replace"
        );
    }
    // Reserved instances are on-demand capacity (never interrupted). Once a resize leaves the
    // reserved type, the reservation (2 x 0.060 for the hour) covers nothing and they are
    // billed on demand at the new type's price, not at its spot price:
    // 0.120 + 2 x 0.384 x 0.5 = 0.504, and no interruption ever happens.
    let results = run(&experiment(
        "resize-bill-reserved-spot",
        &billed_resize_json(
            r#"{ "instance_type": "m5.large", "reserved": 2, "spot": { "interruptions_per_hour": 20, "price_per_hour": 0.03 } }"#,
            &to_2xl,
        ),
    ));
    let s = api(only(&results));
    assert_usd("reserved then resized", s.cost.as_ref().unwrap().usd, 0.504);
    assert_eq!(s.spot_interruptions, 0);
    assert_eq!(s.cost.as_ref().unwrap().instance_type, "m5.2xlarge");
    assert_eq!(s.cores_per_instance, 8);
}

#[test]
fn a_resize_can_scale_out_in_the_same_action() {
    // Two 2-core instances under 300 req/s of 10 ms CPU (3 cores of work on 4), at 5 min
    // `{"replicas": 4, "resize": 8 cores}` (recreate): the two restart and two more launch, all
    // in the new shape, so from 5.5 min 3 cores of work run on 32: utilisation 0.094. The log
    // has the resize (2 -> 2) then the scale-out (2 -> 4).
    let json = r#"{
        "model": { "services": { "api": { "replicas": 2,
            "instance": { "cores": 2 },
            "lifecycle": { "provisioning": "20s", "startup": "5s", "readiness": "5s" },
            "schedule": [ { "at": "5m", "replicas": 4, "resize": { "instance": { "cores": 8 } } } ],
            "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
        "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 300 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "10m", "seed": 15
    }"#;
    let results = run(&experiment("resize-and-scale", json));
    let r = only(&results);
    let s = &r.output.summary;
    assert_conserved("resize and scale", s);
    let actions: Vec<(f64, u32, u32)> = s
        .scaling_actions
        .iter()
        .map(|a| (a.t_s, a.from, a.to))
        .collect();
    assert_eq!(
        actions,
        [(300.0, 2, 2), (300.0, 2, 4)],
        "{:?}",
        s.scaling_actions
    );
    assert!(s.scaling_actions[0].reason.contains("resize"));
    let svc = api(r);
    assert_eq!(svc.instances, 4);
    assert_eq!(svc.desired_replicas, 4);
    assert_eq!(svc.instances_started, 4);
    let ready = 300.0 + TIME_TO_READY_S;
    for row in &r.output.timeseries {
        let want = if row.t_s < 300.0 {
            2
        } else if row.t_s < ready {
            0
        } else {
            4
        };
        assert_eq!(row.services[0].instances, want, "at {} s", row.t_s);
    }
    let before = mean_cpu(r, 30.0, 300.0);
    assert!((before - 0.75).abs() < 0.03, "{before}");
    let after = mean_cpu(r, ready + 10.0, 600.0);
    assert!((after - 3.0 / 32.0).abs() < 0.01, "{after}");
}

#[test]
fn impossible_scheduled_actions_are_refused_with_their_json_path() {
    let exp = |cost: &str, action: &str| {
        format!(
            r#"{{ "model": {{ "services": {{ "api": {{ "replicas": 1, "instance": {{ "cores": 1 }}{cost},
                "schedule": [ {{ "at": "1m", "replicas": 2 }}, {action} ],
                "endpoints": {{ "e": {{ "steps": [ {{ "io": "1ms" }} ] }} }} }} }} }},
            "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": 1 }},
                "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
            "duration": "10m" }}"#
        )
    };
    let priced = r#", "cost": { "instance_type": "m5.large" }"#;
    let a = "model.services.api.schedule[1]";
    let cases = [
        (
            "",
            r#"{ "at": "2m" }"#.to_string(),
            a.to_string(),
            "sets `replicas`, `resize`, or both",
        ),
        (
            "",
            r#"{ "at": "2m", "resize": { "instance": { "cores": 4 }, "instance_type": "m5.xlarge" } }"#
                .to_string(),
            format!("{a}.resize.instance_type"),
            "no `cost`",
        ),
        (
            priced,
            r#"{ "at": "2m", "resize": { "instance": { "cores": 4 }, "instance_type": "m5.huge" } }"#
                .to_string(),
            format!("{a}.resize.instance_type"),
            "unknown instance type",
        ),
        (
            priced,
            r#"{ "at": "2m", "resize": { "instance": { "cores": 0 } } }"#.to_string(),
            format!("{a}.resize.instance.cores"),
            "cores",
        ),
        (
            priced,
            r#"{ "at": "30s", "resize": { "instance": { "cores": 4 } } }"#.to_string(),
            format!("{a}.at"),
            "time order",
        ),
    ];
    for (k, (cost, action, path, words)) in cases.iter().enumerate() {
        let e = load_error(&format!("bad-schedule-{k}"), &exp(cost, action));
        assert_error_at(&e, path, words);
    }
    // An unknown strategy is a parse error at its path.
    let e = load_error(
        "bad-strategy",
        &exp(
            "",
            r#"{ "at": "2m", "resize": { "instance": { "cores": 4 }, "strategy": "blue_green" } }"#,
        ),
    );
    assert!(e.contains(&format!("{a}.resize.strategy")), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Variant patches that change an object's kind.

#[test]
fn a_variant_that_changes_the_autoscaler_kind_replaces_it_instead_of_merging() {
    // The base has threshold rules (with `cooldown`, `scale_out`, ...); a variant switches to
    // target tracking. A merge would leave `cooldown` in a target-tracking object, which
    // refuses unknown fields; the patch must replace the object. A patch of the same kind
    // still merges (`max_replicas` only). 2 one-core instances at 150 req/s of 10 ms CPU (75%)
    // make each policy scale out, by its own rules: the threshold rule (above 45%) to 4, one
    // step per cool-down, unless capped at 3.
    let json = r#"{
        "model": { "services": { "api": { "replicas": 2,
            "instance": { "cores": 1 },
            "lifecycle": { "provisioning": "10s", "startup": "5s", "readiness": "5s" },
            "autoscaler": { "kind": "threshold", "min_replicas": 2, "max_replicas": 10,
                "period": "1m", "cooldown": "3m",
                "scale_out": [ { "metric": "cpu", "above": 0.45, "for": "2m", "step": 1 } ] },
            "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "10ms" } } ] } } } } },
        "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 150 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "15m", "seed": 16,
        "variants": {
            "threshold": {},
            "threshold-max-3": { "services": { "api": { "autoscaler": { "max_replicas": 3 } } } },
            "target-tracking": { "services": { "api": { "autoscaler": { "kind": "target_tracking",
                "metric": "cpu", "target": 0.4, "min_replicas": 2, "max_replicas": 10, "instance_warmup": "30s" } } } }
        }
    }"#;
    let exp = experiment("kind-replaces", json);
    assert_eq!(exp.variants.len(), 3);
    let results = run(&exp);
    let reasons = |name: &str| -> Vec<String> {
        variant(&results, name)
            .output
            .summary
            .scaling_actions
            .iter()
            .map(|a| a.reason.clone())
            .collect()
    };
    let threshold = reasons("threshold");
    let tracking = reasons("target-tracking");
    assert!(!threshold.is_empty() && !tracking.is_empty());
    assert_ne!(threshold, tracking, "the variant should run its own policy");
    assert!(
        tracking.iter().all(|r| r.contains("datapoints")),
        "target tracking's alarms: {tracking:?}"
    );
    assert!(
        threshold.iter().all(|r| !r.contains("datapoints")),
        "threshold rules: {threshold:?}"
    );
    // Same kind: merged, so the rules and cool-down stay and only the maximum changes.
    let capped = variant(&results, "threshold-max-3");
    assert_eq!(
        capped.output.summary.services["api"].desired_replicas, 3,
        "{:?}",
        capped.output.summary.scaling_actions
    );
    assert_eq!(
        reasons("threshold-max-3")[0],
        threshold[0],
        "same rule, same first decision"
    );
    for r in &results {
        assert_conserved(&r.variant, &r.output.summary);
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism.

#[test]
fn spot_and_resize_runs_are_identical_across_runs_and_thread_counts() {
    // Spot capacity with a notice above a reservation, a rolling resize to another type with a
    // scale-out, 2 replications: run on one thread and on two, the reports (summaries, the
    // interruptions, the bills) are byte for byte the same, and a second run on two threads
    // gives the same summaries again.
    let json = r#"{
        "model": { "services": { "api": { "replicas": 3,
            "instance": { "cores": 2 },
            "lifecycle": { "provisioning": "20s", "startup": "5s", "readiness": "5s" },
            "cost": { "instance_type": "m5.large", "reserved": 1,
                "spot": { "interruptions_per_hour": 3, "notice": "30s" } },
            "schedule": [ { "at": "20m", "replicas": 4,
                "resize": { "instance": { "cores": 4 }, "instance_type": "m5.xlarge", "strategy": "rolling" } } ],
            "endpoints": { "e": { "steps": [ { "cpu": { "kind": "exponential", "mean": "5ms" } },
                { "io": { "kind": "exponential", "mean": "2s" } } ] } } } } },
        "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 100 },
            "mix": [ { "service": "api", "endpoint": "e" } ] } ],
        "duration": "40m", "warmup": "1m", "seed": 17, "replications": 2
    }"#;
    let exp = experiment("spot-resize-determinism", json);
    let go = |threads: usize| {
        run_experiment(
            &exp,
            &ExecuteOptions {
                threads: Some(threads),
                ..ExecuteOptions::default()
            },
        )
        .expect("the run stays within its limits")
    };
    let one = go(1);
    let two = go(2);
    let again = go(2);
    for r in &one {
        assert_conserved(&r.variant, &r.output.summary);
        let s = api(r);
        assert!(s.spot_interruptions > 0, "the run should be interrupted");
        assert!(r.output.summary.outcomes["killed"] > 0, "the resize kills");
    }
    let json_of = |rs: &[RunResult]| Report::new(&exp, rs).to_json();
    assert_eq!(json_of(&one), json_of(&two), "1 and 2 threads differ");
    for (a, b) in two.iter().zip(&again) {
        assert_eq!(
            serde_json::to_string(&a.output.summary).unwrap(),
            serde_json::to_string(&b.output.summary).unwrap(),
            "two runs of the same replication differ"
        );
        assert_eq!(a.output.timeseries, b.output.timeseries);
    }
    // The replications are not copies of each other.
    assert_ne!(
        serde_json::to_string(&one[0].output.summary).unwrap(),
        serde_json::to_string(&one[1].output.summary).unwrap()
    );
}
