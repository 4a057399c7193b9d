//! The bundled service-graph experiments (`experiments/microservices.json`, `fan-out.json`,
//! `shared-database.json`, `nginx-gateway.json`), each at a short horizon with its headline
//! assertion, and conservation on every run: every request, every call on every edge and
//! every request at every service ends once or is in flight at the end. The README's figures
//! come from the full horizons (`surge run FILE`, `surge sweep experiments/shared-database.json`).

use crate::support::{repo, run_conserved, summary_of};
use serde_json::{Value, json};
use surge::experiment::{Experiment, RunResult};
use surge::metrics::Outcome;
use surge::simulation::RunSummary;

/// Loads `experiments/NAME.json` after `patch` has edited its JSON. The file's own path is
/// kept, so a model named by a relative path still resolves.
fn load(name: &str, patch: impl FnOnce(&mut Value)) -> Experiment {
    let path = repo().join("experiments").join(format!("{name}.json"));
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    patch(&mut doc);
    surge::config::load_experiment_text(&path, &doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// Sets the horizon and the warm-up.
fn horizon(doc: &mut Value, duration: &str, warmup: &str) {
    doc["duration"] = json!(duration);
    doc["warmup"] = json!(warmup);
}

/// The p99 of the successful calls on edge `edge`.
fn edge_p99(s: &RunSummary, edge: &str) -> f64 {
    s.calls
        .get(edge)
        .unwrap_or_else(|| panic!("no edge {edge} in {:?}", s.calls.keys()))
        .latency_s
        .p99
}

/// The edge out of `caller` (a "service.endpoint") whose successful calls have the largest
/// p99, with that p99.
fn slowest_edge_from<'a>(s: &'a RunSummary, caller: &str) -> (&'a str, f64) {
    let prefix = format!("{caller} -> ");
    s.calls
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(name, c)| (name.as_str(), c.latency_s.p99))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_else(|| panic!("no edge from {caller}"))
}

#[test]
fn microservices_a_saturated_service_is_the_slowest_edge_behind_the_gateways_p99() {
    let exp = load("microservices", |d| horizon(d, "40s", "5s"));
    let results = run_conserved(&exp);
    let base = summary_of(&results, "baseline");
    assert_eq!(base.error_rate, 0.0, "{:?}", base.outcomes);
    assert!(
        base.latency_s.p99 < 0.1,
        "baseline p99 {}",
        base.latency_s.p99
    );

    // A Place DB without its index: 120% of its cores. Its edge is the slowest one out of the
    // city page, ten times any sibling, and most of the gateway's p99; the place service's
    // own edge to its store shows where the time goes.
    let place = summary_of(&results, "place-db-missing-index");
    assert!(place.services["place-db"].cpu_utilisation > 0.99);
    let (slowest, p99) = slowest_edge_from(place, "gateway.city-page");
    assert_eq!(slowest, "gateway.city-page -> place.list");
    for sibling in [
        "user.session",
        "city.get",
        "review.list",
        "affiliate.offers",
    ] {
        let other = edge_p99(place, &format!("gateway.city-page -> {sibling}"));
        assert!(p99 > 10.0 * other, "place {p99} vs {sibling} {other}");
    }
    assert!(
        p99 > 0.4 * place.latency_s.p99,
        "{p99} of {}",
        place.latency_s.p99
    );
    assert!(place.latency_s.p99 > 5.0 * base.latency_s.p99);
    let store = edge_p99(place, "place.list -> place-db.search");
    assert!(store > 10.0 * edge_p99(base, "place.list -> place-db.search"));
    // The slow calls hold the gateway's slots: it rejects even review posts, which never
    // touch the Place DB (the rest queue behind them).
    let posts = &place.services["gateway"].endpoints["review-post"];
    assert!(posts.outcomes["rejected"] > 0, "{:?}", posts.outcomes);

    // The review service on one pod of three: 105% of one event loop. Its edges are the
    // slowest out of the pages that call it, its refusals are the dependency failures, and
    // the itinerary, which does not call it, is untouched.
    let review = summary_of(&results, "review-one-pod");
    assert!(review.services["review"].cpu_utilisation > 0.99);
    let (slowest, p99) = slowest_edge_from(review, "gateway.city-page");
    assert_eq!(slowest, "gateway.city-page -> review.list");
    assert!(
        p99 > 0.8 * review.latency_s.p99,
        "{p99} of {}",
        review.latency_s.p99
    );
    assert_eq!(
        slowest_edge_from(review, "gateway.review-post").0,
        "gateway.review-post -> review.create"
    );
    let failures: Vec<&str> = review
        .dependency_failures
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        failures,
        [
            "gateway.city-page -> review.list",
            "gateway.review-post -> review.create"
        ]
    );
    let itinerary = |s: &RunSummary| s.endpoints["gateway.itinerary"].latency_s.p99;
    assert!(itinerary(review) < 1.5 * itinerary(base));
    assert_eq!(review.endpoints["gateway.itinerary"].outcomes["failed"], 0);
}

#[test]
fn fan_out_the_p99_of_the_slowest_of_n_grows_with_n() {
    let exp = load("fan-out", |d| horizon(d, "1m", "10s"));
    let results = run_conserved(&exp);
    let s = |v: &str| summary_of(&results, v);
    let p99 = |v: &str| s(v).latency_s.p99;
    // Every backend is M/M/1 at 0.5 whatever N: its own p99 stays ln(100) x 20 ms = 92 ms.
    for v in ["1-backend", "10-backends", "100-backends"] {
        let backend = s(v).services["backend"].cpu_utilisation;
        assert!((backend - 0.5).abs() < 0.03, "{v}: backend busy {backend}");
        let edge = edge_p99(s(v), "frontend.search -> backend.query");
        assert!((0.075..0.115).contains(&edge), "{v}: backend p99 {edge}");
    }
    // The search waits for the slowest of N: about 92, 138 and 184 ms if independent.
    assert!(
        p99("1-backend") < p99("10-backends") && p99("10-backends") < p99("100-backends"),
        "{} {} {}",
        p99("1-backend"),
        p99("10-backends"),
        p99("100-backends")
    );
    assert!(p99("100-backends") > 1.5 * p99("1-backend"));
    assert!(
        (0.15..0.2).contains(&p99("100-backends")),
        "{}",
        p99("100-backends")
    );
    // Not waiting for the last five takes back most of the growth.
    assert!(p99("100-backends-quorum-95") < 0.75 * p99("100-backends"));
    // A 1% hiccup of 1 s is one backend's p99, and most 100-way searches' median.
    assert!(s("1-backend-1pct-slow").latency_s.p50 < 0.05);
    assert!(s("100-backends-1pct-slow").latency_s.p50 > 1.0);
    within(
        "100-way mean with hiccups",
        s("100-backends-1pct-slow").latency_s.mean,
        // 1 - 0.99^100 of the searches wait the extra second.
        (1.0 - 0.99f64.powi(100)) * 1.0 + s("100-backends").latency_s.mean,
        0.1,
    );
}

fn within(what: &str, value: f64, expected: f64, relative: f64) {
    assert!(
        (value - expected).abs() <= relative * expected,
        "{what}: {value} is not within {:.1}% of {expected}",
        relative * 100.0
    );
}

#[test]
fn shared_database_throughput_stops_growing_where_the_database_saturates() {
    // The sweep's points, each run as an experiment of its own at a short horizon.
    let sweep = surge::sweep::load_sweep(&repo().join("experiments/shared-database.json")).unwrap();
    assert_eq!(sweep.points.len(), 11);
    let point = |instances: u32| {
        let exp = load("shared-database", |d| {
            horizon(d, "12s", "2s");
            d["model"]["services"]["payments"]["replicas"] = json!(instances);
            d["workload"][0]["rate"]["rps"] = json!(1000 * instances);
        });
        run_conserved(&exp)
    };
    let served = |r: &[RunResult], v: &str| summary_of(r, v).throughput_rps;
    let (three, eight, twelve, twenty, fifty) =
        (point(3), point(8), point(12), point(20), point(50));
    // Linear while the database has room: 1,000 payments/s per instance.
    within(
        "3 instances",
        served(&three, "database-4-cores"),
        3000.0,
        0.03,
    );
    within(
        "8 instances",
        served(&eight, "database-4-cores"),
        8000.0,
        0.03,
    );
    let p95 = |r: &[RunResult]| summary_of(r, "database-4-cores").latency_s.p95;
    assert!(
        p95(&three) < 0.05,
        "F-29's p95 at 3 instances: {}",
        p95(&three)
    );
    within("p95 at 8 vs 3", p95(&eight), p95(&three), 0.1);
    // From 12 instances on, the database's 10,000 writes/s are the fleet's throughput: the
    // excess is refused, and the p95 is the database's queue.
    for (n, r) in [(12, &twelve), (20, &twenty), (50, &fifty)] {
        let s = summary_of(r, "database-4-cores");
        within(&format!("{n} instances"), s.throughput_rps, 10_000.0, 0.03);
        assert!(s.services["database"].cpu_utilisation > 0.99);
        within(
            &format!("{n} instances' error rate"),
            s.error_rate,
            1.0 - 10.0 / f64::from(n),
            0.05,
        );
        assert_eq!(
            s.dependency_failures["payments.pay -> database.write"],
            s.outcomes["failed"]
        );
        assert!(
            s.latency_s.p95 > 2.0 * p95(&three),
            "{n}: {}",
            s.latency_s.p95
        );
    }
    assert!(served(&fifty, "database-4-cores") < 1.02 * served(&twenty, "database-4-cores"));
    // 16 cores would write 40,000/s, but 500 connections held ~16.5 ms each cap it near
    // 30,000 (Little's law), with CPU to spare.
    within(
        "16 cores at 20",
        served(&twenty, "database-16-cores"),
        20_000.0,
        0.03,
    );
    let big = summary_of(&fifty, "database-16-cores");
    within("16 cores at 50", big.throughput_rps, 30_300.0, 0.05);
    assert!(big.services["database"].cpu_utilisation < 0.85);
}

#[test]
fn nginx_gateway_the_hop_is_cheap_and_round_robin_stalls_behind_a_blocked_gateway() {
    let exp = load("nginx-gateway", |_| {});
    let results = run_conserved(&exp);
    for r in &results {
        let s = &r.output.summary;
        // nginx's share of a request: its latency minus its call to the gateway.
        let proxied = s.services["nginx"].endpoints["users"].latency_s.mean;
        let upstream = s.calls["nginx.users -> gateway.users"].latency_s.mean;
        assert!(
            proxied - upstream < 0.001,
            "{}: {proxied} vs {upstream}",
            r.variant
        );
        assert!(s.services["nginx"].cpu_utilisation < 0.15, "{}", r.variant);
        assert_eq!(s.error_rate, 0.0, "{}: {:?}", r.variant, s.outcomes);
    }
    let rate = |v: &str| summary_of(&results, v).throughput_rps;
    assert!(rate("3-gateways") > 2.5 * rate("1-gateway"));
    assert!(rate("5-gateways-least-conn") > 4.5 * rate("1-gateway"));
    // Served per second, bucket by bucket, after the warm-up.
    let ok_per_bucket = |v: &str| -> Vec<u64> {
        let r = results.iter().find(|r| r.variant == v).unwrap();
        r.output
            .timeseries
            .iter()
            .filter(|row| row.t_s >= 5.0)
            .map(|row| row.outcomes.get(Outcome::Ok))
            .collect()
    };
    // Round robin deals every fifth request to the blocked gateway: within a few requests all
    // 50 connections wait on it, and nothing is served for the 3 s.
    let rr = ok_per_bucket("5-gateways");
    assert!(rr.iter().filter(|&&n| n == 0).count() >= 2, "{rr:?}");
    // least_conn stops sending to it: the other four keep serving.
    let lc = ok_per_bucket("5-gateways-least-conn");
    let median = {
        let mut v = lc.clone();
        v.sort_unstable();
        v[v.len() / 2]
    };
    assert!(lc.iter().all(|&n| n as f64 > 0.7 * median as f64), "{lc:?}");
    assert!(rate("5-gateways-least-conn") > rate("5-gateways"));
}

/// `surge validate` counts the load a request puts on every service it reaches through its
/// calls, at the expected visits per request: the shared database's overload shows before
/// anything runs.
#[test]
fn validate_shows_the_load_calls_put_on_a_shared_database() {
    let o = crate::support::surge(&["validate", "experiments/shared-database.json"]);
    let out = crate::support::ok(&o);
    assert!(out.contains("database at 1000% of CPU capacity"), "{out}");
}
