//! The storefront of the Black Friday experiment with and without a data tier: the same day,
//! the same arrivals, once with the pod's 15 ms Redis/PostgreSQL round trip as a plain wait
//! (the bundled model), once with that round trip made of parts: an in-process L1 (10,000
//! entries per pod, 1 min TTL) in front of a shared L2 (a Redis service of its own, 200,000
//! entries) in front of a database with a primary and two read replicas (reads routed round
//! robin, 5,000 writes/s applied per replica), over Zipf(0.9) keys from 1M products, and one
//! request in ten a write that goes to the primary and invalidates both caches.
//!
//!     cargo bench --bench data_tier
//!
//! Prints requests simulated, wall time and requests per second on one core for each model;
//! the issue's bar is that the data tier costs at most half the speed. `SURGE_BENCH_HOURS`
//! (default 3) simulates the first hours of the day.

use std::path::Path;
use std::time::Instant;
use surge::experiment::{RunId, run_one};
use surge::kernel::SimDuration;
use surge::simulation::RunLimits;

/// The storefront's api endpoint with its round trip made of the data tier.
const DATA_TIER: &str = r#"{
  "name": "storefront-data-tier",
  "keyspaces": { "products": { "kind": "zipf", "keys": 1000000, "s": 0.9 } },
  "caches": {
    "l1": { "scope": "instance", "capacity": 10000, "eviction": "lru", "ttl": "1m" },
    "l2": { "scope": "shared", "capacity": 200000, "eviction": "lru", "ttl": "10m" }
  },
  "services": {
    "api": {
      "replicas": 3,
      "instance": { "cores": 2, "concurrency_limit": 200, "queue_limit": 300,
        "memory": { "base": "160MiB", "per_request": "256KiB", "request": "256Mi", "limit": "512Mi" } },
      "cost": { "instance_type": "m5.large" },
      "balancer": { "kind": "round_robin" },
      "lifecycle": { "provisioning": "45s", "startup": "10s", "readiness": "10s", "drain_timeout": "30s" },
      "endpoints": {
        "browse": {
          "key": "products",
          "steps": [
            { "cpu": { "kind": "exponential", "mean": "800us" } },
            { "branch": [
              { "p": 0.9, "steps": [
                { "cache_get": { "cache": "l1", "miss": [
                  { "cache_get": { "cache": "l2", "miss": [
                    { "call": { "service": "db", "endpoint": "read", "latency": "250us" } } ] } } ] } } ] },
              { "p": 0.1, "steps": [
                { "call": { "service": "db", "endpoint": "write", "latency": "250us" } },
                { "invalidate": { "cache": "l1" } },
                { "invalidate": { "cache": "l2" } } ] } ] },
            { "cpu": { "kind": "exponential", "mean": "400us" } }
          ]
        }
      }
    },
    "db": {
      "replicas": 3,
      "instance": { "cores": 16, "runtime": "thread_pool" },
      "database": { "replication": { "apply_rate": 5000, "network": "1ms", "read_routing": "round_robin" } },
      "endpoints": {
        "read": { "query": "read", "steps": [ { "io": { "kind": "lognormal", "mean": "15ms", "p99": "60ms" } } ] },
        "write": { "query": "write", "steps": [ { "io": { "kind": "lognormal", "mean": "15ms", "p99": "60ms" } } ] }
      }
    }
  }
}"#;

fn run(label: &str, text: &str, path: &Path, hours: u64) -> f64 {
    let mut exp = surge::config::load_experiment_text(path, text).expect("valid experiment");
    exp.duration = SimDuration::from_secs(hours * 3600);
    exp.warmup = SimDuration::ZERO;
    let variant = exp
        .variants
        .iter()
        .position(|v| v.name == "static-peak")
        .expect("static-peak variant");
    let t = Instant::now();
    let r = run_one(
        &exp,
        RunId {
            variant,
            replication: 0,
        },
        &RunLimits::default(),
        None,
    )
    .expect("the run stays within its limits");
    let secs = t.elapsed().as_secs_f64();
    let s = &r.output.summary;
    let rate = s.arrivals as f64 / secs;
    println!(
        "{label:<12} {:>12} {:>10.2} {:>14.0} {:>12} {:>10.4}",
        s.arrivals, secs, rate, s.events, s.error_rate
    );
    for (name, c) in &s.caches {
        println!("  cache {name}: hit ratio {:.4}", c.hit_ratio);
    }
    for (name, d) in &s.databases {
        println!(
            "  db {name}: {} writes, {} replica reads, stale {:.4}, lag mean {:.4} s",
            d.writes, d.replica_reads, d.stale_fraction, d.lag_s.mean
        );
    }
    rate
}

fn main() {
    let hours = std::env::var("SURGE_BENCH_HOURS")
        .ok()
        .and_then(|h| h.parse::<u64>().ok())
        .unwrap_or(3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("experiments/black-friday.json");
    let plain = std::fs::read_to_string(&path).expect("black-friday.json");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let model = dir.path().join("storefront-data-tier.json");
    std::fs::write(&model, DATA_TIER).expect("model written");
    let tiered = plain.replace(
        "\"../models/storefront.json\"",
        &format!("{:?}", model.to_str().expect("a UTF-8 path")),
    );
    println!("black-friday static-peak, {hours} h simulated, one core");
    println!(
        "{:<12} {:>12} {:>10} {:>14} {:>12} {:>10}",
        "model", "requests", "wall (s)", "requests/s", "events", "errors"
    );
    let base = run("plain", &plain, &path, hours);
    let data = run("data tier", &tiered, &path, hours);
    println!("data tier at {:.2}x the plain model's speed", data / base);
}
