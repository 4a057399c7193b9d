//! The seed claims of Go Coffee (G-..) and Mercenary (M-..), one test per experiment in
//! `experiments/seeds/`, each at a horizon short enough for the suite (patched into the loaded
//! file; the full runs' figures are in docs/seeds.md). Every test checks the claim's headline
//! figure and that every request is accounted for.

use crate::support::{repo, run_conserved, summary_of, write_experiment};
use serde_json::{Value, json};
use surge::experiment::{Experiment, RunResult};
use surge::metrics::Outcome;
use surge::metrics::timeseries::TimeSeriesRow;
use surge::simulation::RunSummary;

/// Loads `experiments/seeds/NAME.json` after `patch` has edited its JSON (a shorter horizon,
/// fewer variants). A model named by path is made absolute, so the patched copy can live in a
/// temporary directory.
pub(crate) fn seed(name: &str, patch: impl FnOnce(&mut Value)) -> Experiment {
    let dir = repo().join("experiments/seeds");
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["name"], name, "the name is the file stem");
    if let Some(model) = doc["model"].as_str() {
        doc["model"] = json!(dir.join(model).to_string_lossy());
    }
    patch(&mut doc);
    let path = write_experiment(name, &serde_json::to_string(&doc).unwrap());
    surge::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Sets the value at a JSON pointer, which must exist.
pub(crate) fn set(doc: &mut Value, pointer: &str, value: Value) {
    *doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}")) = value;
}

/// Keeps only the named variants.
pub(crate) fn keep(doc: &mut Value, variants: &[&str]) {
    let all = doc["variants"].as_object_mut().unwrap();
    all.retain(|k, _| variants.contains(&k.as_str()));
    assert_eq!(all.len(), variants.len(), "unknown variant in {variants:?}");
}

fn rows<'a>(results: &'a [RunResult], variant: &str) -> &'a [TimeSeriesRow] {
    &results
        .iter()
        .find(|r| r.variant == variant)
        .unwrap()
        .output
        .timeseries
}

/// (time, from, to) of every scaling action.
fn actions(s: &RunSummary) -> Vec<(f64, u32, u32)> {
    s.scaling_actions
        .iter()
        .map(|a| (a.t_s, a.from, a.to))
        .collect()
}

fn count(s: &RunSummary, outcome: &str) -> u64 {
    s.outcomes[outcome]
}

/// Errors over arrivals in one time-series bucket.
fn bucket_error_rate(row: &TimeSeriesRow) -> f64 {
    let errors: u64 = Outcome::ALL
        .iter()
        .filter(|o| **o != Outcome::Ok)
        .map(|o| row.outcomes.get(*o))
        .sum();
    errors as f64 / row.arrivals.max(1) as f64
}

#[test]
fn g01_g03_round_robin_spreads_evenly_and_least_connections_cuts_the_tail() {
    let exp = seed("g01-g03-balancers", |d| {
        set(d, "/duration", json!("4m"));
        set(d, "/warmup", json!("30s"));
    });
    let results = run_conserved(&exp);
    // G-01: each pod gets a third of the requests, so about the same CPU (80% overall).
    // Over 3.5 minutes a pod serves ~90,000 requests; their CPU varies by a few tenths of a
    // percent, so 2 points between pods is a difference round robin would not make.
    let rr = summary_of(&results, "round-robin");
    let cpu: Vec<f64> = rr.services["gateway"]
        .per_instance
        .iter()
        .map(|i| i.cpu_utilisation)
        .collect();
    let (lo, hi) = cpu
        .iter()
        .fold((1.0f64, 0.0f64), |(l, h), &c| (l.min(c), h.max(c)));
    assert!(hi - lo < 0.02 && (0.75..0.85).contains(&lo), "{cpu:?}");
    // G-03: least connections keeps new requests off pods holding slow ones: the fast
    // requests' p99 falls to less than two thirds of round robin's, and fewer wait.
    let lc = summary_of(&results, "least-connections");
    let fast_p99 = |s: &RunSummary| s.endpoints["gateway.fast"].latency_s.p99;
    assert!(
        fast_p99(lc) < 0.67 * fast_p99(rr),
        "{} vs {}",
        fast_p99(lc),
        fast_p99(rr)
    );
    assert!(fast_p99(rr) < fast_p99(summary_of(&results, "random")) * 1.1);
    assert!(
        lc.services["gateway"].mean_queue_length < 0.6 * rr.services["gateway"].mean_queue_length
    );
}

#[test]
fn g08_black_friday_10x_under_100ms_needs_capacity_ready_for_the_peak() {
    // Shortened: 10x reached within 5 minutes from 1 minute, 4 minutes at the peak.
    let exp = seed("g08-black-friday-10x", |d| {
        set(d, "/workload/0/rate/start", json!("1m"));
        set(d, "/workload/0/rate/plateau", json!("4m"));
        set(d, "/duration", json!("10m"));
        set(d, "/warmup", json!("30s"));
        keep(d, &["static-3", "static-peak-5", "hpa-go-coffee"]);
    });
    let results = run_conserved(&exp);
    let p99 = |v: &str| summary_of(&results, v).latency_s.p99;
    // The peak fleet holds p99 under 100 ms with no errors; 3 pods at 100% CPU do not.
    assert!(p99("static-peak-5") < 0.1, "{}", p99("static-peak-5"));
    assert_eq!(summary_of(&results, "static-peak-5").error_rate, 0.0);
    assert!(p99("static-3") > 0.1, "{}", p99("static-3"));
    // Go Coffee's HPA meets it too, because 100 req/s per pod asks for 50 pods at 5,000 req/s
    // (ten times what the CPU needs).
    let gc = summary_of(&results, "hpa-go-coffee");
    assert!(gc.latency_s.p99 < 0.1 && gc.error_rate == 0.0);
    assert!(
        gc.services["api"].peak_instances >= 40,
        "{}",
        gc.services["api"].peak_instances
    );
}

#[test]
fn g09_vertical_scaling_restarts_the_instance_and_scaling_out_does_not() {
    let exp = seed("g09-vertical-restart", |d| {
        set(d, "/duration", json!("13m"));
    });
    let results = run_conserved(&exp);
    // One VM resized: no instance for provisioning + start-up + readiness = 110 s, at 300
    // req/s about 33,000 requests. Poisson noise on that count is about 0.6% (0.6 s); 5 s of
    // slack covers it and the instance's last requests draining.
    let one = summary_of(&results, "scale-up-one-vm");
    let lost = count(one, "no_instance") as f64;
    assert!(
        (lost / 300.0 - 110.0).abs() < 5.0,
        "{lost} requests had no instance"
    );
    // Two VMs one at a time, or a second VM: no outage.
    for v in ["scale-up-two-vms-rolling", "scale-out"] {
        let s = summary_of(&results, v);
        assert_eq!(count(s, "no_instance"), 0, "{v}");
        assert!(s.error_rate < 1e-3, "{v}: {}", s.error_rate);
    }
}

#[test]
fn g10_scheduled_and_predictive_prescale_a_known_event_reactive_does_not() {
    let exp = seed("g10-predictive-reactive-scheduled", |d| {
        set(d, "/duration", json!("27m"));
        keep(d, &["reactive-hpa", "predictive-3m-ahead", "scheduled"]);
    });
    let results = run_conserved(&exp);
    // The event needs 15 pods; the reactive HPA starts when it begins and loses most of it.
    assert!(summary_of(&results, "reactive-hpa").error_rate > 0.3);
    for v in ["predictive-3m-ahead", "scheduled"] {
        assert!(summary_of(&results, v).error_rate < 1e-3, "{v}");
    }
    // Holt-Winters learned the event from the hour before: 15 pods ordered before 20 minutes.
    let first = actions(summary_of(&results, "predictive-3m-ahead"))[0];
    assert!(first.0 < 1200.0 && first.2 == 15, "{first:?}");
}

#[test]
fn g11_pods_at_their_500m_limit_serve_750_req_s_and_the_512mi_limit_kills_an_overloaded_pod() {
    let results = run_conserved(&seed("g11-pod-resources", |_| {}));
    // 600 req/s for 4.5 minutes, then as much of 900 as 3 x 500m / 2 ms = 750 req/s: the mean
    // over the 9.5 measured minutes is (600 x 270 + 750 x 300) / 570 = 679 req/s.
    let limited = summary_of(&results, "limit-100-in-progress-100-waiting");
    let expected = (600.0 * 270.0 + 750.0 * 300.0) / 570.0;
    assert!(
        (limited.throughput_rps / expected - 1.0).abs() < 0.02,
        "{} req/s",
        limited.throughput_rps
    );
    assert!(count(limited, "rejected") > 0);
    assert_eq!(limited.services["gateway"].oom_kills, 0);
    // Without a limit, each overloaded pod queues past 412 open requests and is killed, again
    // and again.
    let open = summary_of(&results, "no-admission-limit");
    assert!(open.services["gateway"].oom_kills >= 6);
    assert!(count(open, "oom_killed") > 0 && open.error_rate > 0.3);
}

#[test]
fn g12_hpa_holds_3_settles_at_22_and_stops_at_50() {
    // Compressed: 150/s, 1,500/s from 2 minutes, 4,000/s from 10 minutes.
    let exp = seed("g12-hpa-cpu", |d| {
        set(d, "/workload/0/rate/points/1/at", json!("2m"));
        set(d, "/workload/0/rate/points/2/at", json!("10m"));
        set(d, "/duration", json!("14m"));
    });
    let results = run_conserved(&exp);
    let s = summary_of(&results, "hpa-cpu-70");
    let acts = actions(s);
    // Nothing before the step: 150 orders/s is 50% of 3 pods' requests.
    assert!(acts[0].0 > 120.0, "{acts:?}");
    // The legacy path overshoots to 26 (max(2x, 4) per sync while pods start) and, after the
    // 5-minute downscale stabilisation, settles at 22 = ceil(15 cores / 0.7).
    let ts = rows(&results, "hpa-cpu-70");
    let at = |t: f64| ts.iter().find(|r| r.t_s == t).unwrap().services[0].desired;
    // (The overshoot depends on the draws while pods start: 26 with this seed before the
    // request path was rebuilt, 27 since.)
    assert!((25..=28).contains(&at(300.0)), "{}", at(300.0));
    assert_eq!(at(570.0), 22);
    // 4,000/s would need 58 pods: the HPA stops at its maximum.
    assert_eq!(s.services["orders"].desired_replicas, 50);
    assert!(acts.iter().all(|a| a.2 <= 50));
}

#[test]
fn g13_g14_hpa_takes_the_largest_of_cpu_memory_and_requests_per_pod() {
    let exp = seed("g13-g14-hpa-metrics", |d| {
        set(d, "/duration", json!("4m"));
        set(d, "/warmup", json!("30s"));
    });
    let results = run_conserved(&exp);
    let pods = |v: &str| summary_of(&results, v).services["gateway"].desired_replicas;
    // CPU: 1.5 cores over 3 one-CPU requests is 50%: no reason to scale.
    assert_eq!(pods("cpu-70"), 3);
    // Memory (128 + 750/n MiB of a 256Mi request): 8 pods at 87%, within the 10% tolerance
    // of 80%; 7 would be 95%.
    // (Open requests fluctuate, so the last pod is a draw away: 8 or 9.)
    assert!(
        (8..=9).contains(&pods("cpu-70-memory-80")),
        "{}",
        pods("cpu-70-memory-80")
    );
    // 1,500 req/s at 100 per pod: 15, the largest proposal.
    assert_eq!(pods("cpu-memory-100-rps"), 15);
    for r in &results {
        assert_eq!(r.output.summary.services["gateway"].oom_kills, 0);
    }
}

#[test]
fn g15_g16_go_coffee_behavior_doubles_per_minute_and_sheds_10_percent_per_minute() {
    let exp = seed("g15-g16-hpa-behavior", |d| {
        set(d, "/workload/0/rate/points/2/at", json!("8m"));
        set(d, "/duration", json!("17m"));
    });
    let results = run_conserved(&exp);
    let gc = actions(summary_of(&results, "go-coffee-behavior"));
    let ups: Vec<_> = gc.iter().filter(|a| a.2 > a.1).collect();
    let downs: Vec<_> = gc.iter().filter(|a| a.2 < a.1).collect();
    // G-15: 3 -> 6 -> 12 -> 22, at most 100% per 60 s, the first after the 60 s window.
    assert_eq!(
        ups.iter().map(|a| a.2).collect::<Vec<_>>(),
        vec![6, 12, 22],
        "{gc:?}"
    );
    assert!(ups[0].0 >= 120.0 + 60.0);
    for w in ups.windows(2) {
        assert!(w[1].0 - w[0].0 >= 60.0 && w[1].2 <= 2 * w[1].1);
    }
    // G-16: nothing for 300 s after the load falls at 8 minutes, then at most 10% per minute.
    assert!(downs.len() >= 3, "{gc:?}");
    assert!(downs[0].0 >= 480.0 + 300.0);
    for w in downs.windows(2) {
        assert!(w[1].0 - w[0].0 >= 60.0);
    }
    for a in &downs {
        assert!(f64::from(a.2) >= (0.9 * f64::from(a.1)).floor(), "{a:?}");
    }
    // The default behaviour (100% per 15 s) is back at the minimum within two syncs of its
    // 300 s; Go Coffee's still has more than 15 pods then.
    let default = actions(summary_of(&results, "default-behavior"));
    let last = default.last().unwrap();
    assert!(last.2 == 3 && last.0 <= 480.0 + 300.0 + 30.0, "{default:?}");
    let desired_then = gc.iter().rev().find(|a| a.0 <= last.0).unwrap().2;
    assert!(desired_then > 15, "{gc:?}");
}

#[test]
fn g17_predictive_scaler_needs_two_days_of_history_to_prescale_15_minutes_ahead() {
    // Cut to 5 minutes after the 8:00 jump (at 30 minutes).
    let exp = seed("g17-predictive-scaler", |d| {
        set(d, "/duration", json!("35m"));
        keep(
            d,
            &["predictive-24h-history", "predictive-48h-holt-winters-only"],
        );
    });
    let results = run_conserved(&exp);
    // With 48 hours, Holt-Winters sees the jump 15 minutes ahead: 18 pods =
    // max(ceil(1,200 x 10 ms / 0.7), 1,200 / 100) by 16 minutes, and no errors.
    let learned = summary_of(&results, "predictive-48h-holt-winters-only");
    let acts = actions(learned);
    assert_eq!(acts.len(), 1, "{acts:?}");
    assert!(
        acts[0].0 <= 1800.0 - 14.0 * 60.0 && acts[0].2 == 18,
        "{acts:?}"
    );
    assert_eq!(learned.error_rate, 0.0);
    // With the document's 24 hours nothing is forecast: the first action follows the jump.
    let short = summary_of(&results, "predictive-24h-history");
    assert!(actions(short)[0].0 > 1800.0);
    assert!(short.error_rate > 0.01);
}

#[test]
fn g18_a_500m_pod_serves_100_qps_only_below_5ms_of_cpu_per_request() {
    let exp = seed("g18-qps-per-replica", |d| {
        set(d, "/duration", json!("4m"));
        set(d, "/warmup", json!("30s"));
    });
    let results = run_conserved(&exp);
    // Utilisation of the 500m limit is 100 req/s x c / 500m, up to Poisson noise (3.5 min at
    // 100 req/s: about 1%).
    for (v, c_ms) in [
        ("cpu-1ms", 1.0),
        ("cpu-1_75ms", 1.75),
        ("cpu-2_5ms", 2.5),
        ("cpu-4ms", 4.0),
    ] {
        let s = summary_of(&results, v);
        let u = s.services["gateway"].cpu_utilisation;
        assert!((u / (100.0 * c_ms / 500.0) - 1.0).abs() < 0.05, "{v}: {u}");
        assert_eq!(s.error_rate, 0.0, "{v}");
    }
    // 6 ms would need 600m: the pod saturates and sheds.
    let over = summary_of(&results, "cpu-6ms");
    assert!(over.services["gateway"].cpu_utilisation > 0.99 && over.error_rate > 0.05);
    assert!(over.throughput_rps < 86.0, "{}", over.throughput_rps);
}

#[test]
fn g20_g21_a_prescheduled_flash_sale_with_reserved_and_spot_costs_less_than_half() {
    // A 2-minute sale at 6 minutes; the schedule keeps its 5 minutes of lead.
    let exp = seed("g20-g21-flash-sale-cost", |d| {
        set(d, "/workload/0/rate/start", json!("6m"));
        set(d, "/workload/0/rate/duration", json!("2m"));
        set(d, "/duration", json!("10m"));
        set(d, "/warmup", json!("1m"));
        let schedule = json!([{ "at": "1m", "replicas": 10 }, { "at": "9m", "replicas": 3 }]);
        for v in ["scheduled-5m-ahead", "scheduled-reserved-plus-spot"] {
            set(
                d,
                &format!("/variants/{v}/services/api/schedule"),
                schedule.clone(),
            );
        }
        keep(
            d,
            &[
                "static-normal-3",
                "scheduled-5m-ahead",
                "scheduled-reserved-plus-spot",
            ],
        );
    });
    let results = run_conserved(&exp);
    // G-20: 3 pods cannot carry 10,000 req/s (12 cores of work on 6); 10 pods ready in time
    // can.
    assert!(count(summary_of(&results, "static-normal-3"), "rejected") > 0);
    let ahead = summary_of(&results, "scheduled-5m-ahead");
    assert!(ahead.error_rate < 1e-4 && ahead.latency_s.p99 < 0.1);
    // G-21: the same schedule with the baseline 3 reserved (0.060 vs 0.096 USD/h) and the rest
    // on spot (35%): every instance-hour is cheaper, so the bill is at most
    // max(0.060, 0.35 x 0.096) / 0.096 = 62.5% of on demand, whatever the mix.
    let cost = |v: &str| summary_of(&results, v).cost_usd.unwrap();
    let cheap = cost("scheduled-reserved-plus-spot");
    assert!(
        cheap <= 0.625 * cost("scheduled-5m-ahead") + 1e-9,
        "{cheap}"
    );
}

#[test]
fn m01_equal_capacity_costs_the_same_but_only_vertical_scaling_restarts() {
    let exp = seed("m01-horizontal-vs-vertical", |d| {
        set(d, "/duration", json!("13m"));
    });
    let results = run_conserved(&exp);
    // 8 cores cost the same whichever way they are bought (0.384 USD/h) until the action.
    let horizontal = summary_of(&results, "horizontal-4-m5-large");
    assert_eq!(horizontal.error_rate, 0.0);
    // One instance resized: no instance for 60 + 15 + 15 = 90 s at 560 req/s.
    let one = summary_of(&results, "vertical-1-m5-2xlarge");
    let lost = count(one, "no_instance") as f64 / 560.0;
    assert!((lost - 90.0).abs() < 4.0, "{lost} s without an instance");
    // Two resized one at a time: no outage, but the survivor carries 140% while the other
    // reboots.
    let rolling = summary_of(&results, "vertical-2-m5-xlarge-rolling");
    assert_eq!(count(rolling, "no_instance"), 0);
    assert!(rolling.error_rate > 0.005, "{}", rolling.error_rate);
}

#[test]
fn m02_offloading_work_to_a_queue_keeps_checkout_fast_while_jobs_wait() {
    let exp = seed("m02-background-jobs", |d| {
        set(d, "/duration", json!("18m"));
    });
    let results = run_conserved(&exp);
    let checkout = |v: &str| summary_of(&results, v).endpoints["app.checkout"].clone();
    // Inline, the 3x burst needs 13.5 of 8 cores: checkouts queue for seconds and are refused.
    let inline = checkout("inline");
    assert!(inline.latency_s.p99 > 1.0 && inline.outcomes["rejected"] > 0);
    // Offloaded, the checkout needs 1.5 cores at the burst: fast and without errors.
    let offloaded = checkout("offloaded");
    assert!(offloaded.latency_s.p99 < 0.15 && offloaded.outcomes["rejected"] == 0);
    // Each checkout enqueued its receipt; the receipts wait instead (12 cores of work on 6
    // during the burst), and none is lost: each is done or still queued.
    let s = summary_of(&results, "offloaded");
    let receipts = &s.calls["app.checkout => workers.receipt"];
    // (A checkout sent just before the warm-up's end may enqueue just after it.)
    assert!(
        receipts.calls.abs_diff(s.arrivals) <= 2,
        "{} vs {}",
        receipts.calls,
        s.arrivals
    );
    assert!(receipts.latency_s.p99 > 60.0, "{}", receipts.latency_s.p99);
    assert_eq!(
        receipts.outcomes["ok"] + receipts.in_flight_at_end,
        receipts.calls
    );
    assert!(summary_of(&results, "inline").calls.is_empty());
}

#[test]
fn m26_halving_database_cpu_cuts_query_time_75_percent_at_the_peak_and_50_at_night() {
    let exp = seed("m26-database-indexes", |d| {
        set(d, "/duration", json!("2m"));
        set(d, "/warmup", json!("10s"));
    });
    let results = run_conserved(&exp);
    let query = |v: &str, db: &str| {
        summary_of(&results, v).services[db].endpoints["query"]
            .latency_s
            .mean
    };
    let cpu = |v: &str, db: &str| summary_of(&results, v).services[db].cpu_utilisation;
    for db in ["peak-db", "night-db"] {
        let ratio = cpu("indexed", db) / cpu("before", db);
        assert!((ratio - 0.5).abs() < 0.03, "{db}: CPU ratio {ratio}");
    }
    // M/M/4 at 85% busy: 17.2 ms -> 4.2 ms; at 30%: 8.1 -> 4.0 ms.
    let cut = |db: &str| 1.0 - query("indexed", db) / query("before", db);
    assert!(
        (0.70..0.82).contains(&cut("peak-db")),
        "peak {}",
        cut("peak-db")
    );
    assert!(
        (0.45..0.56).contains(&cut("night-db")),
        "night {}",
        cut("night-db")
    );
    for r in &results {
        assert_eq!(r.output.summary.error_rate, 0.0, "{}", r.variant);
    }
}

#[test]
fn m03_cpu_over_70_percent_for_5_minutes_ignores_a_4_minute_burst() {
    let exp = seed("m03-cpu-threshold", |d| {
        set(d, "/duration", json!("27m"));
    });
    let results = run_conserved(&exp);
    // The burst (10-14 min) is 4 datapoints above 70%: not enough. From 20 minutes the fifth
    // datapoint is in at 25 minutes.
    assert_eq!(
        actions(summary_of(&results, "cpu-70-for-5m")),
        vec![(1500.0, 4, 6)]
    );
    // One datapoint is enough for the 1-minute rule: it fires on the burst.
    assert_eq!(
        actions(summary_of(&results, "cpu-70-for-1m"))[0],
        (660.0, 4, 6)
    );
}

#[test]
fn m04_memory_over_80_percent_for_5_minutes_scales_what_cpu_never_sees() {
    let exp = seed("m04-memory-threshold", |d| {
        set(d, "/duration", json!("27m"));
    });
    let results = run_conserved(&exp);
    assert_eq!(
        actions(summary_of(&results, "memory-80-for-5m")),
        vec![(1500.0, 4, 6)]
    );
    let cpu = summary_of(&results, "cpu-70-for-5m");
    assert!(actions(cpu).is_empty());
    assert!(cpu.services["app"].cpu_utilisation < 0.45);
}

#[test]
fn m05_queue_over_100_fires_a_minute_into_an_overload_cpu_waits_five() {
    let exp = seed("m05-queue-threshold", |d| {
        set(d, "/duration", json!("16m"));
    });
    let results = run_conserved(&exp);
    assert_eq!(
        actions(summary_of(&results, "queue-over-100"))[0],
        (660.0, 4, 6)
    );
    assert_eq!(
        actions(summary_of(&results, "cpu-70-for-5m"))[0],
        (900.0, 4, 6)
    );
    assert!(
        summary_of(&results, "queue-over-100").error_rate
            < summary_of(&results, "cpu-70-for-5m").error_rate
    );
}

#[test]
fn m06_response_time_over_500ms_scales_out_for_a_slow_database_without_effect() {
    let exp = seed("m06-response-time", |d| {
        set(d, "/duration", json!("30m"));
    });
    let results = run_conserved(&exp);
    let latency = summary_of(&results, "response-time-over-500ms");
    let acts = actions(latency);
    // +2 at 11 minutes and every 5 minutes after: 4 -> 12 by 26 minutes.
    assert_eq!(acts.len(), 4, "{acts:?}");
    assert!(acts.iter().all(|a| a.2 == a.1 + 2));
    // The mean response (dominated by the 5 s reports) is what it is with 4 instances.
    let cpu = summary_of(&results, "cpu-70-for-5m");
    assert!(actions(cpu).is_empty());
    assert!((latency.mean_response_s / cpu.mean_response_s - 1.0).abs() < 0.03);
    assert!(latency.mean_response_s > 0.5);
}

#[test]
fn m08_the_fleet_stays_between_2_and_20() {
    // Cool-down cut to 1 minute (the bounds are the claim, not the pace) and phases shortened:
    // night until 17 minutes, then 2,100 req/s, more than 20 instances can serve.
    let exp = seed("m08-scaling-limits", |d| {
        set(
            d,
            "/variants/guide-rules",
            json!({ "services": { "app": { "autoscaler": { "cooldown": "1m" } } } }),
        );
        set(
            d,
            "/workload/0/rate/points/1",
            json!({ "at": "17m", "rps": 2100 }),
        );
        set(d, "/duration", json!("28m"));
    });
    let results = run_conserved(&exp);
    let s = summary_of(&results, "guide-rules");
    let acts = actions(s);
    let lowest = acts.iter().map(|a| a.2).min().unwrap();
    let highest = acts.iter().map(|a| a.2).max().unwrap();
    assert_eq!((lowest, highest), (2, 20), "{acts:?}");
    assert_eq!(s.services["app"].desired_replicas, 20);
    // At the maximum the rest is shed.
    assert!(count(s, "rejected") > 0);
}

#[test]
fn m09_a_5_minute_cooldown_makes_4_to_12_take_15_minutes() {
    let exp = seed("m09-cooldown", |d| {
        set(d, "/duration", json!("27m"));
        keep(d, &["cooldown-5m", "cooldown-1m"]);
    });
    let results = run_conserved(&exp);
    let reach = |v: &str| {
        let acts = actions(summary_of(&results, v));
        for w in acts.windows(2) {
            let gap = if v == "cooldown-5m" { 300.0 } else { 60.0 };
            assert!(w[1].0 - w[0].0 >= gap, "{v}: {acts:?}");
        }
        let first = acts[0].0;
        let twelve = acts.iter().find(|a| a.2 >= 12).unwrap().0;
        twelve - first
    };
    assert_eq!(reach("cooldown-5m"), 900.0);
    assert_eq!(reach("cooldown-1m"), 180.0);
    assert!(
        summary_of(&results, "cooldown-1m").error_rate
            < 0.6 * summary_of(&results, "cooldown-5m").error_rate
    );
}

#[test]
fn m10_cpu_scale_in_stops_at_6_but_the_memory_rule_drives_the_fleet_into_overload() {
    let exp = seed("m10-scale-in", |d| {
        set(
            d,
            "/workload/0/rate",
            json!({ "kind": "constant", "rps": 200 }),
        );
        set(d, "/duration", json!("1h"));
    });
    let results = run_conserved(&exp);
    // CPU < 30% for 15 minutes: one at 15 minutes, then one per cool-down while CPU (2/n
    // cores) stays under 30%: 10 -> 6, where it is 33%.
    let cpu = summary_of(&results, "cpu-scale-in-only");
    assert_eq!(
        actions(cpu),
        vec![
            (900.0, 10, 9),
            (1200.0, 9, 8),
            (1500.0, 8, 7),
            (1800.0, 7, 6)
        ]
    );
    assert_eq!(cpu.error_rate, 0.0);
    // Memory never reaches 50%, so that rule removes instances down to the minimum (2 at 100%
    // CPU) and the scale-out rules add them back (the full 2-hour run shows the cycle repeat).
    let both = summary_of(&results, "cpu-and-memory-scale-in");
    let acts = actions(both);
    assert!(acts.iter().any(|a| a.2 == 2), "{acts:?}");
    let reversals = acts
        .windows(2)
        .filter(|w| (w[0].2 > w[0].1) != (w[1].2 > w[1].1))
        .count();
    assert!(reversals >= 1, "{acts:?}");
    let hottest = rows(&results, "cpu-and-memory-scale-in")
        .iter()
        .map(|r| r.services[0].cpu_utilisation)
        .fold(0.0, f64::max);
    assert!(hottest > 0.95, "{hottest}");
    assert!(both.services["app"].instance_hours < cpu.services["app"].instance_hours);
}

#[test]
fn m20_20_m5_xlarge_serve_50000_users_at_10000_req_s_under_1s() {
    let exp = seed("m20-benchmark-targets", |d| {
        set(d, "/duration", json!("80s"));
    });
    let results = run_conserved(&exp);
    let target = summary_of(&results, "20-m5-xlarge");
    // Little's law for the closed loop: X = N / (Z + R) with N = 50,000, Z = 5 s.
    let x = 50_000.0 / (5.0 + target.mean_response_s);
    assert!(
        (target.throughput_rps / x - 1.0).abs() < 0.02,
        "{} vs {x}",
        target.throughput_rps
    );
    assert!(target.throughput_rps > 9_700.0);
    assert!(target.latency_s.p99 < 1.0 && target.error_rate < 1e-3);
    // Half the fleet tops out at 40 cores / 6 ms = 6,667 req/s, and the users wait.
    let half = summary_of(&results, "10-m5-xlarge");
    assert!(half.throughput_rps < 6_700.0 && half.latency_s.p99 > 1.0);
}

#[test]
fn m21_reserved_terms_cut_the_bill_by_their_price_ratio_and_spot_by_65_percent() {
    let exp = seed("m21-spot-and-reserved", |d| {
        set(d, "/duration", json!("40m"));
        keep(
            d,
            &[
                "on-demand",
                "reserved-1-year",
                "reserved-3-year",
                "spot-workers-and-api",
            ],
        );
    });
    let results = run_conserved(&exp);
    let cost = |v: &str| summary_of(&results, v).cost_usd.unwrap();
    let on_demand = cost("on-demand");
    // A fleet that never changes pays (4 x 0.060 + 2 x 0.079) / (4 x 0.096 + 2 x 0.126).
    let one_year = (4.0 * 0.060 + 2.0 * 0.079) / (4.0 * 0.096 + 2.0 * 0.126);
    let three_year = (4.0 * 0.038 + 2.0 * 0.050) / (4.0 * 0.096 + 2.0 * 0.126);
    assert!((cost("reserved-1-year") / on_demand - one_year).abs() < 1e-9);
    assert!((cost("reserved-3-year") / on_demand - three_year).abs() < 1e-9);
    // Spot at 35%, plus whatever replacements overlap their predecessors' notice.
    let spot = cost("spot-workers-and-api") / on_demand;
    assert!((0.35..0.37).contains(&spot), "{spot}");
}

#[test]
fn m22_only_the_cpu_warning_comes_well_before_users_see_errors() {
    let exp = seed("m22-alert-thresholds", |d| {
        set(d, "/duration", json!("35m"));
    });
    let results = run_conserved(&exp);
    let ts = rows(&results, "static-4");
    let first = |f: &dyn Fn(&TimeSeriesRow) -> bool| {
        ts.iter().find(|r| f(r)).map(|r| r.t_s / 60.0).unwrap()
    };
    let cpu_warn = first(&|r| r.services[0].cpu_utilisation > 0.7);
    let cpu_crit = first(&|r| r.services[0].cpu_utilisation > 0.9);
    let p99_warn = first(&|r| r.p99_s > 1.0);
    let p99_crit = first(&|r| r.p99_s > 2.0);
    let err_warn = first(&|r| bucket_error_rate(r) > 0.01);
    let err_crit = first(&|r| bucket_error_rate(r) > 0.05);
    // The load is 100 + 10 t req/s: 70% CPU at 18 minutes, 90% at 26.
    assert_eq!((cpu_warn, cpu_crit), (18.0, 26.0));
    // Latency and errors warn only once the fleet is saturated, a minute before their
    // critical level; the CPU warning leads the first error by over 10 minutes.
    assert!(p99_warn >= cpu_crit + 3.0 && p99_crit - p99_warn <= 2.0);
    assert!(err_crit - err_warn <= 2.0 && err_warn - cpu_warn >= 10.0);
}

#[test]
fn m23_twelve_instances_absorb_a_10x_launch_under_800ms() {
    // The launch at 5 minutes, 10x within 10 minutes, cut 15 minutes into the peak.
    let exp = seed("m23-product-launch-10x", |d| {
        set(d, "/workload/0/rate/start", json!("5m"));
        set(d, "/duration", json!("30m"));
        set(d, "/warmup", json!("2m"));
        keep(d, &["static-4", "static-12"]);
    });
    let results = run_conserved(&exp);
    let twelve = summary_of(&results, "static-12");
    assert!(twelve.latency_s.p99 < 0.8 && twelve.error_rate == 0.0);
    assert!(summary_of(&results, "static-4").error_rate > 0.3);
}

#[test]
fn m25_twelve_instances_handle_5x_with_zero_downtime_and_four_do_not() {
    let exp = seed("m25-launch-results-5x", |d| {
        set(d, "/workload/0/rate/start", json!("5m"));
        set(d, "/duration", json!("30m"));
        set(d, "/warmup", json!("2m"));
        keep(d, &["static-4", "static-12"]);
    });
    let results = run_conserved(&exp);
    let twelve = summary_of(&results, "static-12");
    assert!(twelve.latency_s.p99 < 0.8 && twelve.error_rate == 0.0);
    assert_eq!(count(twelve, "no_instance"), 0);
    assert_eq!(twelve.slo.as_ref().unwrap().windows_violated, 0);
    let four = summary_of(&results, "static-4");
    assert!(four.error_rate > 0.05 && four.latency_s.p99 > 0.8);
}

/// G-23: a write-through Set updates the writer's L1 and the shared L2, so the L2 is never
/// stale, but the other pods' L1s serve the old price until their entry leaves: one pod has
/// no stale hit, six pods a large share, fewer with a shorter L1 TTL, more when the Set skips
/// the L1 altogether.
#[test]
fn g23_write_through_reaches_the_writers_l1_only() {
    let exp = seed("g23-write-through-levels", |doc| {
        set(doc, "/duration", json!("20m"));
        set(doc, "/warmup", json!("5m"));
    });
    let results = run_conserved(&exp);
    let stale = |v: &str, cache: &str| {
        let c = &summary_of(&results, v).caches[cache];
        c.stale.as_ref().expect("counted").fraction
    };
    for r in &results {
        assert_eq!(stale(&r.variant, "l2"), 0.0, "{}: L2", r.variant);
        assert_eq!(r.output.summary.error_rate, 0.0, "{}", r.variant);
    }
    assert_eq!(stale("one-pod", "l1"), 0.0);
    let (five, thirty, skip) = (
        stale("six-pods-l1-5m", "l1"),
        stale("six-pods-l1-30s", "l1"),
        stale("six-pods-l2-only", "l1"),
    );
    assert!(five > 0.3, "six pods, 5 min: {five}");
    assert!(thirty < five - 0.05, "30 s {thirty} against 5 min {five}");
    assert!(skip > five, "L2 only {skip} against write-through {five}");
}

/// G-24 (and F-23's scheduled refresh, C-13's warming): a reload of the 2,000 most popular
/// items every 30 min all at once is a burst of 2,000 reads queued at the database; at 100 keys
/// a second it queues nothing. Warming lifts the cold first minute, but on an LRU that keeps
/// the popular items anyway it moves the hit ratio by hundredths of a point.
#[test]
fn g24_scheduled_warming_is_a_burst_of_loads_that_helps_the_cold_start() {
    let exp = seed("g24-scheduled-warming", |doc| {
        set(doc, "/duration", json!("40m"));
        keep(doc, &["no-warming", "every-30m-burst", "every-15m-paced"]);
    });
    let results = run_conserved(&exp);
    let reloads = |v: &str| {
        let r = summary_of(&results, v).caches["menu"].reloads.clone();
        let r = r.expect("reload figures");
        (r.fetches, r.stored, r.dropped)
    };
    assert_eq!(
        reloads("every-30m-burst"),
        (2000, 2000, 0),
        "one reload, at 30 min"
    );
    assert_eq!(
        reloads("every-15m-paced"),
        (4000, 4000, 0),
        "at 15 and 30 min"
    );
    let queue = |v: &str| summary_of(&results, v).services["database"].peak_queue_length;
    assert!(
        queue("every-30m-burst") > 1000,
        "burst queue {}",
        queue("every-30m-burst")
    );
    assert!(
        queue("every-15m-paced") < 50,
        "paced queue {}",
        queue("every-15m-paced")
    );
    let first_minute = |v: &str| rows(&results, v)[0].caches[0].hit_ratio();
    assert!(
        first_minute("every-30m-burst") > first_minute("no-warming") + 0.01,
        "first minute warmed {} cold {}",
        first_minute("every-30m-burst"),
        first_minute("no-warming")
    );
    let hit = |v: &str| summary_of(&results, v).caches["menu"].hit_ratio;
    assert!((hit("every-15m-paced") - hit("no-warming")).abs() < 0.005);
    for r in &results {
        assert_eq!(r.output.summary.error_rate, 0.0, "{}", r.variant);
    }
}

/// M-16, C-22, C-13: edge caches take a share of the requests off the origin and the
/// round trip to it off the users; an origin shield turns the edges' misses into almost no
/// origin requests; caching API responses for 10 s splits badly over many locations (each
/// sees too few requests a key to hit within 10 s).
#[test]
fn m16_edges_offload_the_origin_and_a_shield_absorbs_their_misses() {
    let exp = seed("m16-cdn-edges", |doc| {
        set(doc, "/duration", json!("4m"));
        set(doc, "/warmup", json!("1m"));
    });
    let results = run_conserved(&exp);
    let s = |v: &str| summary_of(&results, v);
    let calls = |v: &str, edge: &str| s(v).calls.get(edge).map_or(0, |c| c.calls);
    let to_origin = "edge.asset -> origin.asset";
    let proxied = calls("200-edges-proxy-only", to_origin);
    let arrivals = s("200-edges-proxy-only").arrivals;
    assert!(
        proxied.abs_diff(arrivals) * 100 < arrivals,
        "every request proxied: {proxied} of {arrivals}"
    );
    let hit = |v: &str| s(v).caches["edge"].hit_ratio;
    assert!(
        hit("200-edges") > 0.35,
        "edge hit ratio {}",
        hit("200-edges")
    );
    assert!(calls("200-edges", to_origin) < proxied * 7 / 10);
    let shielded = calls("200-edges-shield", "shield.asset -> origin.asset");
    let edge_misses = calls("200-edges-shield", "edge.asset -> shield.asset");
    assert!(
        shielded * 50 < edge_misses,
        "{shielded} origin requests for {edge_misses} edge misses"
    );
    assert!(
        hit("20-edges-api-10s") > hit("200-edges-api-10s") + 0.1,
        "10 s TTL: 20 edges {}, 200 edges {}",
        hit("20-edges-api-10s"),
        hit("200-edges-api-10s")
    );
    let mean = |v: &str| s(v).latency_s.mean;
    assert!(mean("200-edges") < mean("200-edges-proxy-only") - 0.02);
    for r in &results {
        assert_eq!(r.output.summary.error_rate, 0.0, "{}", r.variant);
    }
}

/// G-26: at 100,000 reads/s over 100,000 items (Zipf(0.9)), 99% of reads answered by a cache
/// takes an L2 holding nearly the whole catalogue: 90% of it still sends about 2% to the
/// database, half of it about 13%.
#[test]
fn g26_ninety_nine_percent_hits_needs_nearly_the_whole_catalogue_cached() {
    let exp = seed("g26-hit-rate-at-100k", |doc| {
        set(doc, "/duration", json!("40s"));
        set(doc, "/warmup", json!("15s"));
        keep(doc, &["l2-50k", "l2-90k", "l2-whole-catalogue"]);
    });
    let results = run_conserved(&exp);
    let cached = |v: &str| {
        let s = summary_of(&results, v);
        assert_eq!(s.error_rate, 0.0, "{v}");
        1.0 - s.calls["menu.item -> database.read"].calls as f64 / s.arrivals as f64
    };
    assert!(
        cached("l2-50k") < 0.9,
        "half the catalogue: {}",
        cached("l2-50k")
    );
    let ninety = cached("l2-90k");
    assert!(
        ninety > 0.96 && ninety < 0.99,
        "90% of the catalogue: {ninety}"
    );
    assert!(cached("l2-whole-catalogue") > 0.99);
}
