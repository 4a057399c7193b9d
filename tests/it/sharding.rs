//! Sharded services: keys spread over shard services by hash, range, ring or directory, the
//! load each shard takes, and resharding at a set time, checked on FinPay's claims.

use crate::support::{assert_conserved, assert_error_at, load_error, repo, run, summary_of};

/// `experiments/sharding.json`, FinPay F-13, F-14 and F-15 at a tenth of FinPay's scale.
/// - F-13: one 1,000 writes/s shard collapses under 3,600 payments/s; four carry them at
///   90% CPU (3,600 x 8 ms / 32 cores) and eight at 45%; hash placement of uniform keys is
///   even: the hottest of four shards takes 1/4 +- 5 binomial standard errors of its share.
/// - F-14: sequential sign-up ids under even ranges all fall in the first range (10M ids,
///   216,000 sign-ups), so one shard takes every write and collapses; hashed, they spread.
/// - A hot account with 30% of payments: its shard takes 0.3 + 0.7 / 4 = 0.475.
/// - F-15: resharding 4 -> 5 moves 1 - 1/5 = 80% of keys under hash mod N and about 1/5 on
///   a ring (256 tokens a shard); the moved keys miss in their new shard's buffer cache, so
///   the hit ratio in the second after the switch falls far more under hash.
#[test]
fn finpay_shards_scale_writes_and_resharding_moves_what_the_placement_says() {
    let exp = surge::config::load_experiment(&repo().join("experiments/sharding.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let results = run(&exp);
    for r in &results {
        assert_conserved(&r.variant, &r.output.summary);
    }
    let one = summary_of(&results, "1-shard");
    assert!(one.error_rate > 0.9, "one shard: {}", one.error_rate);
    let four = summary_of(&results, "4-shards");
    assert_eq!(four.error_rate, 0.0);
    let util = four.services["ledger-0"].cpu_utilisation;
    assert!((util - 0.9).abs() < 0.03, "four shards at {util}");
    let sh = &four.shards["ledger"];
    let total: u64 = sh.queries.iter().sum();
    let se = (0.25 * 0.75 / total as f64).sqrt();
    // The largest of four shares: within 5 standard errors of 1/4 (a loose bound on the max).
    assert!(sh.hottest_share - 0.25 < 5.0 * se, "{sh:?}");
    let eight = summary_of(&results, "8-shards");
    let util = eight.services["ledger-0"].cpu_utilisation;
    assert!((util - 0.45).abs() < 0.03, "eight shards at {util}");

    let range = &summary_of(&results, "range-sequential");
    assert_eq!(range.shards["ledger"].hottest_share, 1.0);
    assert!(range.error_rate > 0.9);
    let hashed = &summary_of(&results, "hash-sequential");
    assert!(hashed.shards["ledger"].hottest_share < 0.26);
    assert_eq!(hashed.error_rate, 0.0);

    let hot = &summary_of(&results, "hot-key").shards["ledger"];
    assert!((hot.hottest_share - 0.475).abs() < 0.01, "{hot:?}");

    let moved = |v: &str| {
        summary_of(&results, v).shards["ledger"]
            .reshard
            .as_ref()
            .expect("resharded")
            .clone()
    };
    let hash = moved("reshard-hash-4-to-5");
    assert!((hash.moved_fraction - 0.8).abs() < 0.01, "{hash:?}");
    assert_eq!(hash.switched_at_s, Some(30.0));
    let ring = moved("reshard-consistent-4-to-5");
    assert!((ring.moved_fraction - 0.2).abs() < 0.05, "{ring:?}");
    let hit_after = |v: &str| {
        let r = results.iter().find(|r| r.variant == v).unwrap();
        let row = r
            .output
            .timeseries
            .iter()
            .find(|row| row.t_s == 30.0)
            .unwrap();
        row.caches[0].hit_ratio()
    };
    let (h, c, none) = (
        hit_after("reshard-hash-4-to-5"),
        hit_after("reshard-consistent-4-to-5"),
        hit_after("4-shards"),
    );
    assert!(
        h < 0.5 && c > 0.7 && none > 0.95,
        "hit ratios {h} {c} {none}"
    );
    assert_eq!(summary_of(&results, "reshard-hash-4-to-5").error_rate, 0.0);

    // Copying before switching: every moving key (the ring's moved fraction of 20,000,
    // counted exactly) is exported once from the shard it leaves and imported once into the
    // new shard (a ring that grows moves keys only to the new shard), 500 a second from when
    // the new shard is ready (at once here), and the map switches after the last import:
    // 30 s + keys / 500 + the 8 ms import.
    let copying = summary_of(&results, "reshard-consistent-copy");
    let r = copying.shards["ledger"].reshard.clone().expect("resharded");
    let m = r.migration.clone().expect("a migration");
    let keys = (r.moved_fraction * 20_000.0).round() as u64;
    assert_eq!((m.copied, m.failed, m.in_flight_at_end), (keys, 0, 0));
    let switched = r.switched_at_s.expect("switched");
    let expected = 30.0 + keys as f64 / 500.0;
    assert!(
        (switched - expected).abs() < 0.05,
        "switched at {switched}, copy done {expected}"
    );
    let served = |shard: &str, e: &str| {
        copying.services[shard]
            .endpoints
            .get(e)
            .map_or(0, |x| x.arrivals)
    };
    let exports: u64 = (0..4)
        .map(|k| served(&format!("ledger-{k}"), "export"))
        .sum();
    assert_eq!(exports, keys, "each moving key exported once");
    assert_eq!(
        served("ledger-4", "import"),
        keys,
        "and imported into the new shard"
    );
    assert_eq!(served("ledger-4", "export"), 0);
    assert_eq!(copying.error_rate, 0.0);
}

const BASE: &str = r#"{ "model": { "keyspaces": { "users": { "kind": "uniform", "keys": 100 } },
    "services": {
      "api": { "replicas": 1, "instance": { "cores": 1 }, "endpoints": {
        "e": { "key": "users", "steps": [ { "call": { "service": "db", "endpoint": "q" } } ] } } },
      "db": { "replicas": 1, "instance": { "cores": 1 }, SHARDS "endpoints": { "q": { "steps": [ { "cpu": "1ms" } ] } } } EXTRA } },
    "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 10 }, "mix": [ { "service": "api", "endpoint": "e" } ] } ], "duration": "1s" }"#;

#[test]
fn bad_shards_are_refused_with_their_path() {
    for (tag, shards, extra, path, words) in [
        (
            "bounds-mismatch",
            r#""shards": { "key": "users", "count": 4, "placement": { "kind": "range", "bounds": [ 10, 20 ] } },"#,
            "",
            "services.db.shards.placement",
            "4 shards need 3",
        ),
        (
            "unknown-key-space",
            r#""shards": { "key": "orders", "count": 2 },"#,
            "",
            "services.db.shards.key",
            "no key space `orders`",
        ),
        (
            "override-past-count",
            r#""shards": { "key": "users", "count": 2, "placement": { "kind": "directory", "overrides": [ { "key": 5, "shard": 2 } ] } },"#,
            "",
            "services.db.shards.placement",
            "shards are 0..2",
        ),
        (
            "migration-rate",
            r#""shards": { "key": "users", "count": 2, "reshard": { "at": "1s", "count": 3, "migration": { "keys_per_second": 0, "export": "q", "import": "q" } } },"#,
            "",
            "services.db.shards.reshard.migration.keys_per_second",
            "above 0",
        ),
        (
            "migration-endpoint",
            r#""shards": { "key": "users", "count": 2, "reshard": { "at": "1s", "count": 3, "migration": { "keys_per_second": 10, "export": "dump", "import": "q" } } },"#,
            "",
            "services.db.shards.reshard.migration.export",
            "no endpoint `dump`",
        ),
        (
            "zero-shards",
            r#""shards": { "key": "users", "count": 0 },"#,
            "",
            "services.db.shards.count",
            "1 to 65536",
        ),
        (
            "reshard-inherits-bad-bounds",
            r#""shards": { "key": "users", "count": 2, "placement": { "kind": "range", "bounds": [ 50 ] }, "reshard": { "at": "1s", "count": 4 } },"#,
            "",
            "services.db.shards.reshard.count",
            "4 shards need 3",
        ),
        (
            "reshard-with-autoscaler",
            r#""shards": { "key": "users", "count": 2, "reshard": { "at": "1s", "count": 4 } }, "autoscaler": { "kind": "threshold", "min_replicas": 1, "max_replicas": 4, "scale_out": [ { "metric": "cpu", "above": 0.8, "step": 1 } ], "scale_in": [ { "metric": "cpu", "below": 0.2, "step": 1 } ] },"#,
            "",
            "services.db.shards.reshard",
            "cannot also have an `autoscaler`",
        ),
        (
            "name-taken",
            r#""shards": { "key": "users", "count": 2 },"#,
            r#", "db-1": { "replicas": 1, "instance": { "cores": 1 }, "endpoints": { "q": { "steps": [ { "cpu": "1ms" } ] } } }"#,
            "services.db.shards",
            "`db-1`",
        ),
    ] {
        let json = BASE.replace("SHARDS", shards).replace("EXTRA", extra);
        let e = load_error(tag, &json);
        assert_error_at(&e, &format!("model.{path}"), words);
    }
}

/// Variants with different shard counts have different services: `timeseries.csv` has a
/// column group for every service any variant has (empty where a variant has none), the
/// plots draw each service for the variants that have it, and `surge plot` reads the file
/// back into the same plots, byte for byte.
#[test]
fn variants_with_different_shard_counts_plot_and_replot_every_shard() {
    let out = crate::support::temp_dir("shard-plots");
    let o = crate::support::surge(&[
        "run",
        "experiments/sharding.json",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for k in 0..8 {
        assert!(header.contains(&format!("ledger-{k}.arrivals")), "{header}");
    }
    let cpu = std::fs::read_to_string(out.join("cpu.svg")).unwrap();
    assert!(cpu.contains("data-series=\"ledger-7: 8-shards\""));
    assert!(!cpu.contains("data-series=\"ledger-7: 4-shards\""));
    let again = out.join("again");
    let o = crate::support::surge(&[
        "plot",
        out.join("report.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for plot in ["cpu.svg", "cache.svg", "replicas.svg", "throughput.svg"] {
        assert_eq!(
            std::fs::read_to_string(again.join(plot)).unwrap(),
            std::fs::read_to_string(out.join(plot)).unwrap(),
            "{plot}"
        );
    }
}
