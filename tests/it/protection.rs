//! Server protection: token-bucket rate limits and load shedding by queueing delay.

use crate::support::{assert_error_at, experiment, load_error, run_conserved, summary_of};
use surge::metrics::Outcome;

/// Four single-core instances, one request at a time each, exponential 10 ms of work,
/// offered `rps` for 60 s, with `extra` in the service.
fn fleet(extra: &str, rps: u32) -> String {
    format!(
        r#"{{ "duration": "60s", "warmup": "5s", "seed": 3,
          "model": {{ "services": {{ "api": {{ "replicas": 4,
            "instance": {{ "cores": 1, "runtime": "thread_pool", "concurrency_limit": 1 }},
            {extra}
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "10ms" }} }} ] }} }} }} }} }},
          "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": {rps} }},
                           "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ] }}"#
    )
}

/// A token bucket refilled at r passes r requests a second from an offered load above r
/// (here twice it): 100 of 200 a second, the rest refused at once as `rate_limited`; the same
/// with a bucket of 25 a second on each of the four instances behind round robin. Over 55 s
/// the passed count is 5,500 plus at most the burst.
#[test]
fn a_token_bucket_passes_its_rate_and_refuses_the_rest() {
    for (tag, limit) in [
        (
            "limit-service",
            r#""rate_limit": { "rps": 100, "burst": 10 },"#,
        ),
        (
            "limit-instance",
            r#""rate_limit": { "rps": 25, "burst": 3, "per": "instance" },"#,
        ),
    ] {
        let results = run_conserved(&experiment(tag, &fleet(limit, 200)));
        let s = summary_of(&results, "base");
        let ok = s.outcomes[Outcome::Ok.name()] as f64;
        assert!((ok - 5_500.0).abs() <= 15.0, "{tag}: {ok} passed");
        let limited = s.outcomes[Outcome::RateLimited.name()] as f64;
        assert!(
            (limited / (ok + limited) - 0.5).abs() < 0.03,
            "{tag}: {limited}"
        );
    }
}

/// At 1.5 times the fleet's capacity an unbounded queue grows all run (p99 of seconds);
/// controlled delay (5 ms once the queue has stood 100 ms) sheds the excess, a third, and
/// keeps what it serves under 100 ms at p99, at the same goodput (the fleet's capacity).
#[test]
fn controlled_delay_sheds_the_excess_and_keeps_latency_short() {
    let unprotected = run_conserved(&experiment("shed-none", &fleet("", 600)));
    let s = summary_of(&unprotected, "base");
    assert!(s.latency_s.p99 > 5.0, "{}", s.latency_s.p99);
    let goodput = s.throughput_rps;
    for (tag, shedding) in [
        ("shed-fifo", r#""shedding": {},"#),
        (
            "shed-lifo",
            r#""shedding": { "target": "5ms", "interval": "100ms", "lifo": true },"#,
        ),
    ] {
        let results = run_conserved(&experiment(tag, &fleet(shedding, 600)));
        let s = summary_of(&results, "base");
        let ended: u64 = s.outcomes.values().sum();
        let shed = s.outcomes[Outcome::Shed.name()] as f64 / ended as f64;
        // Offered 600/s, served about 400/s (the fleet's 4 x 100/s at full use).
        assert!((shed - 1.0 / 3.0).abs() < 0.05, "{tag}: shed {shed}");
        assert!(s.latency_s.p99 < 0.1, "{tag}: p99 {}", s.latency_s.p99);
        assert!((s.throughput_rps - goodput).abs() < 0.02 * goodput, "{tag}");
    }
}

#[test]
fn bad_rate_limits_and_shedding_are_refused_with_their_path() {
    for (tag, extra, path, words) in [
        (
            "limit-zero",
            r#""rate_limit": { "rps": 0 },"#,
            "model.services.api.rate_limit.rps",
            "above 0",
        ),
        (
            "limit-burst",
            r#""rate_limit": { "rps": 10, "burst": 0.5 },"#,
            "model.services.api.rate_limit.burst",
            "at least 1",
        ),
        (
            "limit-per",
            r#""rate_limit": { "rps": 10, "per": "pod" },"#,
            "model.services.api.rate_limit.per",
            "unknown",
        ),
        (
            "shed-interval",
            r#""shedding": { "target": "50ms", "interval": "10ms" },"#,
            "model.services.api.shedding.interval",
            "at least the target",
        ),
    ] {
        let e = load_error(tag, &fleet(extra, 100));
        assert_error_at(&e, path, words);
    }
}
