//! The data tier: keys, caches and what they take off a database, checked against the
//! claims they test and the theory they follow.

use crate::support::{assert_error_at, load_error, repo, run};

/// FinPay F-18: 1,000 req/s of 50 ms database reads is 50 s of database time per second; a
/// cache with a 90% hit ratio leaves 100 req/s, 5 s. The hit ratio emerges from Zipf(1.2)
/// keys over 100,000 accounts and an LRU of 6,700 entries: Che's approximation gives 0.900.
/// Tolerances: 60,000 measured lookups give the hit ratio a binomial standard error of 0.0012
/// (LRU's serial correlation widens it; 0.015 is ~10 of them plus Che's own error at this
/// size, under 0.5%); the busy time is 50 ms x misses per second, so it follows the hit
/// ratio: 5 +- 0.75 cores with the cache, 50 +- 1.5 without (Poisson counts over 60 s).
#[test]
fn finpay_cache_turns_fifty_seconds_of_database_time_into_five() {
    let path = repo().join("experiments/cache-offload.json");
    let exp = surge::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"));
    let results = run(&exp);
    let summary = |v: &str| {
        &results
            .iter()
            .find(|r| r.variant == v)
            .expect("variant ran")
            .output
            .summary
    };
    let cached = summary("cache");
    let hit = cached.caches["accounts"].hit_ratio;
    assert!((hit - 0.90).abs() < 0.015, "hit ratio {hit}");
    let busy = cached.services["database"].busy_cores;
    assert!(
        (busy - 5.0).abs() < 0.75,
        "database busy {busy} cores with the cache"
    );
    let uncached = summary("no-cache");
    let busy = uncached.services["database"].busy_cores;
    assert!(
        (busy - 50.0).abs() < 1.5,
        "database busy {busy} cores without"
    );
    assert!(uncached.caches["accounts"].lookups == 0);
}

const BASE: &str = r#"{ "model": { MODEL "services": { "api": { "replicas": 1, "instance": { "cores": 1 }, "endpoints": { "e": { KEY "steps": [ STEP ] } } } } },
    "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 10 }, "mix": [ { "service": "api", "endpoint": "e" } ] } ], "duration": "1s" }"#;

fn model(data: &str, key: &str, step: &str) -> String {
    BASE.replace("MODEL", data)
        .replace("KEY", key)
        .replace("STEP", step)
}

#[test]
fn bad_keys_and_caches_are_refused_with_their_path() {
    let get = r#"{ "cache_get": { "cache": "l1", "miss": [ { "cpu": "1ms" } ] } }"#;
    let cache = r#""caches": { "l1": { "capacity": 10 } },"#;
    for (tag, data, key, step, path, words) in [
        (
            "no-cache",
            "",
            "",
            get,
            "services.api.endpoints.e.steps[0].cache_get.cache",
            "no cache `l1`",
        ),
        (
            "unknown-cache",
            r#""caches": { "l2": { "capacity": 10 } },"#,
            "",
            get,
            "services.api.endpoints.e.steps[0].cache_get.cache",
            "it has: l2",
        ),
        (
            "zero-capacity",
            r#""caches": { "l1": { "capacity": 0 } },"#,
            "",
            get,
            "caches.l1.capacity",
            "1 to",
        ),
        (
            "huge-capacity",
            r#""caches": { "l1": { "capacity": 99999999999 } },"#,
            "",
            get,
            "caches.l1.capacity",
            "1 to",
        ),
        (
            "zero-ttl",
            r#""caches": { "l1": { "capacity": 5, "ttl": "0s" } },"#,
            "",
            get,
            "caches.l1.ttl",
            "longer than zero",
        ),
        (
            "refresh-no-ttl",
            r#""caches": { "l1": { "capacity": 5, "ttl_refresh": "on_hit" } },"#,
            "",
            get,
            "caches.l1.ttl_refresh",
            "no `ttl`",
        ),
        (
            "no-keyspace",
            cache,
            r#""key": "users","#,
            get,
            "services.api.endpoints.e.key",
            "no key space `users`",
        ),
        (
            "zero-keys",
            &format!(r#"{cache} "keyspaces": {{ "users": {{ "kind": "uniform", "keys": 0 }} }},"#),
            "",
            get,
            "keyspaces.users.keys",
            "1 to 2^48",
        ),
        (
            "too-many-keys",
            &format!(
                r#"{cache} "keyspaces": {{ "users": {{ "kind": "uniform", "keys": 281474976710657 }} }},"#
            ),
            "",
            get,
            "keyspaces.users.keys",
            "2^48",
        ),
        (
            "zipf-exponent",
            &format!(
                r#"{cache} "keyspaces": {{ "users": {{ "kind": "zipf", "keys": 10, "s": -1 }} }},"#
            ),
            "",
            get,
            "keyspaces.users.s",
            "Zipf exponent",
        ),
        (
            "zipf-nan",
            &format!(
                r#"{cache} "keyspaces": {{ "users": {{ "kind": "zipf", "keys": 10, "s": 11 }} }},"#
            ),
            "",
            get,
            "keyspaces.users.s",
            "0 to 10",
        ),
        (
            "hot-fraction",
            &format!(
                r#"{cache} "keyspaces": {{ "users": {{ "kind": "hot_set", "keys": 10, "hot_keys": 1.0, "hot_requests": 0.5 }} }},"#
            ),
            "",
            get,
            "keyspaces.users.hot_keys",
            "below 1",
        ),
        (
            "hot-share",
            &format!(
                r#"{cache} "keyspaces": {{ "users": {{ "kind": "hot_set", "keys": 10, "hot_keys": 0.1, "hot_requests": 1.5 }} }},"#
            ),
            "",
            get,
            "keyspaces.users.hot_requests",
            "from 0 to 1",
        ),
        (
            "two-ops",
            cache,
            "",
            r#"{ "cache_set": { "cache": "l1" }, "cpu": "1ms" }"#,
            "services.api.endpoints.e.steps[0]",
            "exactly one of",
        ),
    ] {
        let json = model(data, key, step);
        assert_error_at(&load_error(tag, &json), &format!("model.{path}"), words);
    }
}

/// A hot key expiring under 2,000 req/s with a 100 ms refill: without single-flight every
/// request in the refill's window queries the database (about 2,000 x 0.1 = 200 per expiry,
/// queued behind 8 cores: seconds of tail); with it, exactly one query per expiry (the
/// lookup that found the entry expired) and the rest wait for its fill.
#[test]
fn a_hot_key_expiring_is_a_stampede_unless_misses_coalesce() {
    let path = repo().join("experiments/cache-stampede.json");
    let exp = surge::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"));
    let results = run(&exp);
    let summary = |v: &str| {
        &results
            .iter()
            .find(|r| r.variant == v)
            .expect("variant ran")
            .output
            .summary
    };
    let edge = "web.page -> database.query";
    let stampede = summary("stampede");
    let expiries = stampede.caches["pages"].expired;
    assert!(expiries >= 4, "{expiries} expiries");
    let queries = stampede.calls[edge].calls;
    assert!(
        queries >= 100 * expiries,
        "{queries} queries for {expiries} expiries"
    );
    assert!(stampede.latency_s.p999 > 1.0, "{:?}", stampede.latency_s);
    let coalesced = summary("coalesced");
    let c = &coalesced.caches["pages"];
    assert_eq!(
        coalesced.calls[edge].calls, c.expired,
        "one query per expiry"
    );
    assert!(c.coalesced >= 150 * c.expired, "{c:?}");
    assert!(coalesced.latency_s.max < 0.15, "{:?}", coalesced.latency_s);
    // Refresh-ahead at 0.8 of 10 s: the first hit past 8 s (2,000 req/s: 0.5 ms later)
    // refreshes, the refill takes the query's 100 ms and restarts the TTL, and the next
    // refresh is due 8 s after that: one query per 8.1005 s, never an expiry. The hits during
    // a refresh start no other (one per key at a time): 60 s measured hold 7 or 8 cycles.
    let ahead = summary("refresh-ahead");
    let c = &ahead.caches["pages"];
    assert_eq!(c.expired, 0, "a refreshed page never expires");
    assert_eq!(c.hits, c.lookups, "every lookup hits");
    assert!((7..=8).contains(&c.refreshes), "{} refreshes", c.refreshes);
    assert!(
        ahead.calls[edge].calls.abs_diff(c.refreshes) <= 1,
        "one query a refresh"
    );
    assert!(
        ahead.latency_s.max < 0.005,
        "nobody waits: {:?}",
        ahead.latency_s
    );
}

/// `cache.svg` draws, per cache, the hit ratio and the misses passed on, a line per variant;
/// a coalesced variant passes on a handful of misses where the stampede passes on hundreds,
/// and `surge plot` redraws the same file from `timeseries.csv`. A model without caches has
/// no `cache.svg`.
#[test]
fn cache_plot_shows_hit_ratio_and_misses_passed_on_per_variant() {
    let out = crate::support::temp_dir("cache-plot");
    let o = crate::support::surge(&[
        "run",
        "experiments/cache-stampede.json",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(out.join("cache.svg")).unwrap();
    for variant in ["stampede", "coalesced", "per-instance-coalesced"] {
        for panel in ["hit ratio", "misses"] {
            let group = format!("data-series=\"pages {panel}: {variant}\"");
            assert!(svg.contains(&group), "no {group}");
        }
    }
    let again = out.join("again");
    let o = crate::support::surge(&[
        "plot",
        out.join("report.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(again.join("cache.svg")).unwrap(),
        svg
    );
    let plain = crate::support::temp_dir("no-cache-plot");
    let o = crate::support::surge(&[
        "run",
        "experiments/quickstart.json",
        "--out",
        plain.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    assert!(!plain.join("cache.svg").exists());
}

/// Warming: a cache loaded with its key space's C most popular keys starts at the hit ratio
/// of a perfect LFU, the sum of the top C popularities (Zipf(1.2) over 100,000 keys, C =
/// 6,700: 0.9307), instead of cold. The first second's 1,000 lookups give a binomial
/// standard error near 0.008: tolerance five of them. A cold cache's first second is far
/// below.
#[test]
fn a_warmed_cache_starts_at_the_top_c_popularity_sum() {
    let path = repo().join("experiments/cache-offload.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let warmed = text.replace(
        r#""capacity": 6700, "eviction": "lru" }"#,
        r#""capacity": 6700, "eviction": "lru", "warm": { "keyspace": "accounts", "top": 6700 } }"#,
    );
    assert_ne!(warmed, text, "the experiment's cache line changed");
    let exp = crate::support::experiment("cache-warm", &warmed);
    let results = run(&exp);
    let first_second = |v: &str| {
        let r = results.iter().find(|r| r.variant == v).unwrap();
        r.output.timeseries[0].caches[0].hit_ratio()
    };
    let h = |n: u64| (1..=n).map(|r| (r as f64).powf(-1.2)).sum::<f64>();
    let top = h(6700) / h(100_000);
    let warm = first_second("cache");
    let se = (top * (1.0 - top) / 1000.0).sqrt();
    assert!((warm - top).abs() < 5.0 * se, "warm start {warm} vs {top}");
    let cold = surge::config::load_experiment(&path).unwrap();
    let cold = run(&cold);
    let cold_start = cold
        .iter()
        .find(|r| r.variant == "cache")
        .unwrap()
        .output
        .timeseries[0]
        .caches[0]
        .hit_ratio();
    assert!(cold_start < warm - 0.2, "cold start {cold_start}");
}

#[test]
fn bad_warming_is_refused_with_its_path() {
    let get = r#"{ "cache_get": { "cache": "l1", "miss": [ { "cpu": "1ms" } ] } }"#;
    for (tag, warm, path, words) in [
        (
            "warm-unknown-space",
            r#"{ "keyspace": "users", "top": 5 }"#,
            "caches.l1.warm.keyspace",
            "no key space `users`",
        ),
        (
            "warm-past-capacity",
            r#"{ "keyspace": "k", "top": 11 }"#,
            "caches.l1.warm.top",
            "1 to 10 keys",
        ),
    ] {
        let data = format!(
            r#""keyspaces": {{ "k": {{ "kind": "uniform", "keys": 100 }} }}, "caches": {{ "l1": {{ "capacity": 10, "warm": {warm} }} }},"#
        );
        let e = load_error(tag, &model(&data, r#""key": "k","#, get));
        assert_error_at(&e, &format!("model.{path}"), words);
    }
}

#[test]
fn bad_refresh_ahead_is_refused_with_its_path() {
    let get = r#"{ "cache_get": { "cache": "l1", "miss": [ { "cpu": "1ms" } ] } }"#;
    for (tag, cache, words) in [
        (
            "one",
            r#""l1": { "capacity": 10, "ttl": "1s", "refresh_ahead": 1.0 }"#,
            "above 0, below 1",
        ),
        (
            "zero",
            r#""l1": { "capacity": 10, "ttl": "1s", "refresh_ahead": 0 }"#,
            "above 0, below 1",
        ),
        (
            "no-ttl",
            r#""l1": { "capacity": 10, "refresh_ahead": 0.5 }"#,
            "has no `ttl`",
        ),
        (
            "on-hit",
            r#""l1": { "capacity": 10, "ttl": "1s", "ttl_refresh": "on_hit", "refresh_ahead": 0.5 }"#,
            "nothing to refresh ahead of",
        ),
    ] {
        let json = model(&format!(r#""caches": {{ {cache} }},"#), "", get);
        let err = load_error(&format!("refresh-{tag}"), &json);
        assert_error_at(&err, "model.caches.l1.refresh_ahead", words);
    }
}

/// A client's users: each of 50 closed-loop connections is one user (key k) for the whole
/// run, so a session cache in front of the session store misses exactly once per user, and
/// holds 50 sessions; the key reaches the store through the call. An open client's requests
/// draw their user from the space instead, so its sessions are spread over the space.
#[test]
fn a_closed_clients_connections_are_its_users() {
    let json = |client: &str| {
        format!(
            r#"{{ "name": "sessions", "seed": 4, "duration": "5s",
          "model": {{ "keyspaces": {{ "users": {{ "kind": "uniform", "keys": 1000 }} }},
            "services": {{
              "api": {{ "replicas": 1, "instance": {{ "cores": 2 }}, "endpoints": {{
                "e": {{ "steps": [ {{ "cache_get": {{ "cache": "sessions", "miss": [
                  {{ "call": {{ "service": "store", "endpoint": "load" }} }} ] }} }} ] }} }} }},
              "store": {{ "replicas": 1, "instance": {{ "cores": 1 }}, "endpoints": {{
                "load": {{ "steps": [ {{ "cache_get": {{ "cache": "seen" }} }}, {{ "cpu": "1ms" }} ] }} }} }} }},
            "caches": {{ "sessions": {{ "capacity": 1000 }}, "seen": {{ "scope": "shared", "capacity": 1000 }} }} }},
          "workload": [ {client} ] }}"#
        )
    };
    let closed = r#"{ "kind": "closed", "connections": 50, "think": "10ms", "key": "users",
                      "mix": [ { "service": "api", "endpoint": "e" } ] }"#;
    let results = run(&crate::support::experiment("users-closed", &json(closed)));
    let s = &crate::support::only(&results).output.summary;
    assert_eq!(s.caches["sessions"].misses, 50, "one miss per user");
    assert_eq!(s.caches["sessions"].entries_at_end, 50);
    // The store saw the same 50 keys: its own cache missed each once.
    assert_eq!(s.caches["seen"].misses, 50);
    let open = r#"{ "kind": "open", "rate": { "kind": "constant", "rps": 2000 }, "key": "users",
                    "mix": [ { "service": "api", "endpoint": "e" } ] }"#;
    let results = run(&crate::support::experiment("users-open", &json(open)));
    let s = &crate::support::only(&results).output.summary;
    // 10,000 draws over 1,000 users touch nearly all of them (1 - e^-10 each).
    let held = s.caches["sessions"].entries_at_end;
    assert!(held > 990 && held <= 1000, "{held} sessions");
    let err = load_error(
        "users-too-few",
        &json(closed).replace(r#""keys": 1000"#, r#""keys": 20"#),
    );
    assert_error_at(&err, "workload[0].key", "20 keys for 50 connections");
}
