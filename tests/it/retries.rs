//! Retries on call edges: attempts and successes against the geometric closed forms, retries
//! at two layers multiplying, timeouts retried, bad settings refused.

use crate::support::{assert_error_at, experiment, load_error, only, run_conserved};

/// `api.e` calls `mid.e` (retry `MID`), which calls `leaf.e` (retry `LEAF`), which fails
/// with probability `P` whatever the load; 1,000 requests/s for `SECS` seconds.
const MODEL: &str = r#"{ "name": "retries", "seed": 9, "duration": "SECSs", "warmup": "1s",
  "model": { "services": {
    "api": { "replicas": 1, "instance": { "cores": 8 }, "endpoints": { "e": { "steps": [
      { "call": { "service": "mid", "endpoint": "e" } } ] } } },
    "mid": { "replicas": 1, "instance": { "cores": 8 }, "endpoints": { "e": { "steps": [
      { "call": { "service": "leaf", "endpoint": "e" LEAF } } ] } } },
    "leaf": { "replicas": 1, "instance": { "cores": 8 }, "endpoints": { "e": { "steps": [
      { "cpu": "100us" }, { "fail": P } ] } } } } },
  "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 1000 },
                  "mix": [ { "service": "api", "endpoint": "e" } ] } ] }"#;

fn model(secs: u32, p: f64, leaf: &str, mid: &str) -> String {
    MODEL
        .replace("SECS", &secs.to_string())
        .replace("P", &p.to_string())
        .replace("LEAF", leaf)
        .replace(
            r#"{ "call": { "service": "mid", "endpoint": "e" } }"#,
            &format!(r#"{{ "call": {{ "service": "mid", "endpoint": "e" {mid} }} }}"#),
        )
}

const TWO_RETRIES: &str =
    r#", "retry": { "retries": 2, "backoff": { "kind": "constant", "delay": "1ms" } }"#;

/// Expected tries with N retries and a load-independent failure probability p:
/// sum_{k=0}^{N} p^k = (1 - p^(N+1)) / (1 - p).
fn tries(p: f64, retries: i32) -> f64 {
    (1.0 - p.powi(retries + 1)) / (1.0 - p)
}

/// One layer: N = 2 retries at p = 0.3 make (1 - p^3)/(1 - p) = 1.39 tries a request and
/// succeed with probability 1 - p^3 = 0.973. Over ~100,000 requests the standard errors are
/// 0.002 tries (a try count's variance is 0.418) and 0.0005 for the failure rate: tolerances
/// of five.
#[test]
fn retries_make_geometric_tries_and_successes() {
    let p = 0.3;
    let results = run_conserved(&experiment("retry-one", &model(101, p, TWO_RETRIES, "")));
    let s = &only(&results).output.summary;
    let edge = &s.calls["mid.e -> leaf.e"];
    let requests = s.calls["api.e -> mid.e"].calls as f64;
    let per_request = edge.calls as f64 / requests;
    assert!(
        (per_request - tries(p, 2)).abs() < 0.01,
        "{per_request} tries a request, expected {}",
        tries(p, 2)
    );
    assert_eq!(edge.retries, edge.calls - s.calls["api.e -> mid.e"].calls);
    let failed = s.outcomes.get("failed").copied().unwrap_or(0) as f64 / s.arrivals as f64;
    assert!(
        (failed - p.powi(3)).abs() < 0.0026,
        "{failed} of requests failed, expected p^3 = {}",
        p.powi(3)
    );
    let failed_tries = edge.outcomes.get("failed").copied().unwrap_or(0) as f64;
    assert!(
        (failed_tries / edge.calls as f64 - p).abs() < 0.01,
        "each try fails with p"
    );
}

/// Two layers multiply: the middle retries its call twice, each of whose tries retries the
/// leaf twice. The middle's call fails only if all three leaf tries do (q = p^3), so the leaf
/// sees (1 - q^3)/(1 - q) x (1 - p^3)/(1 - p) = 1.0270 x 1.39 = 1.428 tries a request, and
/// the API almost never fails (q^3 = 2e-5).
#[test]
fn retries_at_two_layers_multiply_the_tries() {
    let p: f64 = 0.3;
    let q = p.powi(3);
    let results = run_conserved(&experiment(
        "retry-two",
        &model(101, p, TWO_RETRIES, TWO_RETRIES),
    ));
    let s = &only(&results).output.summary;
    let top = &s.calls["api.e -> mid.e"];
    let requests = (top.calls - top.retries) as f64;
    let mid = top.calls as f64 / requests;
    assert!(
        (mid - tries(q, 2)).abs() < 0.003,
        "{mid} middle tries a request, expected {}",
        tries(q, 2)
    );
    let leaf = s.calls["mid.e -> leaf.e"].calls as f64 / requests;
    let expected = tries(q, 2) * tries(p, 2);
    assert!(
        (leaf - expected).abs() < 0.012,
        "{leaf} leaf tries a request, expected {expected}"
    );
    assert!(s.error_rate < 0.0005, "{}", s.error_rate);
}

/// A try that times out is retried too: every try of a 50 ms call with a 10 ms timeout
/// times out, so each request makes exactly three, and fails.
#[test]
fn a_timed_out_try_is_retried() {
    let slow = MODEL
        .replace(r#"{ "cpu": "100us" }, { "fail": P }"#, r#"{ "io": "50ms" }"#)
        .replace("SECS", "11")
        .replace(
            "LEAF",
            r#", "timeout": "10ms", "retry": { "retries": 2, "backoff": { "kind": "constant", "delay": "5ms" } }"#,
        );
    let results = run_conserved(&experiment("retry-timeout", &slow));
    let s = &only(&results).output.summary;
    let edge = &s.calls["mid.e -> leaf.e"];
    let requests = s.calls["api.e -> mid.e"].calls;
    // Requests near the warm-up's end and the run's have some tries outside it.
    assert!(
        edge.calls.abs_diff(3 * requests) * 200 < edge.calls,
        "{} tries for {requests}",
        edge.calls
    );
    assert_eq!(edge.outcomes.get("ok").copied().unwrap_or(0), 0);
    assert_eq!(s.error_rate, 1.0);
}

#[test]
fn bad_retries_are_refused_with_their_path() {
    let at = "model.services.mid.endpoints.e.steps[0].call.retry";
    for (tag, retry, path, words) in [
        (
            "retry-zero",
            r#", "retry": { "retries": 0 }"#,
            format!("{at}.retries"),
            "1 to 10",
        ),
        (
            "retry-many",
            r#", "retry": { "retries": 11 }"#,
            format!("{at}.retries"),
            "1 to 10",
        ),
        (
            "retry-cap",
            r#", "retry": { "retries": 2, "backoff": { "kind": "exponential", "base": "1s", "cap": "100ms" } }"#,
            format!("{at}.backoff.cap"),
            "at least its base",
        ),
    ] {
        let e = load_error(tag, &model(5, 0.1, retry, ""));
        assert_error_at(&e, &path, words);
    }
    for (tag, throttle, field) in [
        (
            "throttle-size",
            r#"{ "max_tokens": 0, "token_ratio": 0.1 }"#,
            "max_tokens",
        ),
        (
            "throttle-ratio",
            r#"{ "max_tokens": 10, "token_ratio": 2 }"#,
            "token_ratio",
        ),
    ] {
        let retry = format!(r#", "retry": {{ "retries": 2, "throttle": {throttle} }}"#);
        let e = load_error(tag, &model(5, 0.1, &retry, ""));
        assert_error_at(&e, &format!("{at}.throttle.{field}"), "above 0");
    }
    let e = load_error(
        "retry-jitter",
        &model(
            5,
            0.1,
            r#", "retry": { "retries": 2, "jitter": "fancy" }"#,
            "",
        ),
    );
    assert!(e.contains("fancy"), "{e}");
    let e = load_error("fail-p", &model(5, 1.5, "", ""));
    assert_error_at(
        &e,
        "model.services.leaf.endpoints.e.steps[1].fail",
        "0 to 1",
    );
}

/// gRPC's retry throttling: a failed try takes a token of 10, a success gives back 0.1, and
/// retries stop at half the bucket. At p = 0.5 the first tries alone drain it (each request
/// -0.45 on average), so after the first few retries none are made: tries per request fall
/// from (1 - p^3)/(1 - p) = 1.75 to 1. At p = 0.05 (below 0.1/1.1 = 9% failing) the bucket
/// stays near full and nearly every retry is made: 1.0525 tries.
#[test]
fn a_retry_throttle_stops_retries_once_tries_fail_too_often() {
    let throttled = r#", "retry": { "retries": 2, "backoff": { "kind": "constant", "delay": "1ms" },
                       "throttle": { "max_tokens": 10, "token_ratio": 0.1 } }"#;
    let per_request = |p: f64, leaf: &str, tag: &str| {
        let results = run_conserved(&experiment(tag, &model(51, p, leaf, "")));
        let s = &only(&results).output.summary;
        let edge = &s.calls["mid.e -> leaf.e"];
        (
            edge.calls as f64 / s.calls["api.e -> mid.e"].calls as f64,
            edge.retries_throttled,
        )
    };
    let (free, _) = per_request(0.5, TWO_RETRIES, "throttle-none");
    assert!((free - tries(0.5, 2)).abs() < 0.015, "{free}");
    let (capped, refused) = per_request(0.5, throttled, "throttle-high");
    assert!(capped < 1.001, "{capped} tries a request with the throttle");
    assert!(refused > 20_000, "{refused} retries refused");
    let (low, refused) = per_request(0.05, throttled, "throttle-low");
    assert!((low - tries(0.05, 2)).abs() < 0.005, "{low}");
    // A burst of failures now and then dips it to half (a random walk with drift +0.045).
    assert!(refused < 100, "{refused} retries refused");
}
