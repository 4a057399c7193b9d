//! Reports: `report.json` (the contract later tools read), `timeseries.csv`, the plots (of a
//! run and of a sweep), the terminal summary table and the self-contained HTML page.

pub mod aliases;
pub mod csv_text;
pub mod html;
pub mod plots;
mod read;
pub mod table;
pub mod timeseries_csv;
mod write;

pub(crate) use read::check_figures;
pub use read::{MAX_FIGURE, parse_report, read_report, read_summary};
pub use write::{
    HtmlPage, ImageFormats, OutputError, write_outputs, write_outputs_with, write_plots,
};

use crate::experiment::stats::{Estimate, estimate};
use crate::experiment::{Experiment, RunResult};
use crate::metrics::LatencySummary;
use crate::metrics::batch_means::{self, BatchMeansSummary};
use crate::simulation::RunSummary;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The full report of an experiment. Field names are the contract documented in the README.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// Experiment name.
    pub experiment: String,
    /// What it shows.
    pub description: Option<String>,
    /// The experiment file as it was named on the command line (relative to the directory
    /// Surge ran in); with `seed` and `replications` it gives the command that reproduces the
    /// report. Absent in reports from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment_file: Option<String>,
    /// Surge version that produced it.
    pub surge_version: String,
    /// Master seed.
    pub seed: u64,
    /// Replications per variant.
    pub replications: u32,
    /// Simulated seconds per run.
    pub duration_s: f64,
    /// Warm-up seconds excluded from summaries.
    pub warmup_s: f64,
    /// Time-series bucket width, seconds.
    pub resolution_s: f64,
    /// Every run, variant-major then replication.
    pub runs: Vec<RunReport>,
    /// Per variant: means over replications with 95% confidence intervals.
    pub variants: IndexMap<String, VariantReport>,
    /// The experiment as run (model inlined).
    pub config: serde_json::Value,
}

/// One run in the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    /// Variant name.
    pub variant: String,
    /// Replication number, from 0.
    pub replication: u32,
    /// Master seed; with `replication` it reproduces the run.
    pub seed: u64,
    /// The figures.
    pub summary: RunSummary,
}

/// A variant's figures over its replications.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariantReport {
    /// Replications aggregated.
    pub replications: u32,
    /// Flat metric name -> estimate, e.g. `latency_s.p99`, `services.api.cpu_utilisation`.
    /// With one replication and batch means, the request metrics' intervals come from the
    /// batches and `n` counts batches.
    pub metrics: IndexMap<String, Estimate>,
    /// Whether every replication met the SLO (absent without an SLO).
    pub slo_met: Option<bool>,
}

impl Report {
    /// Builds the report from results in run order.
    pub fn new(experiment: &Experiment, results: &[RunResult]) -> Report {
        let runs: Vec<RunReport> = results
            .iter()
            .map(|r| RunReport {
                variant: r.variant.clone(),
                replication: r.id.replication,
                seed: r.seed,
                summary: r.output.summary.clone(),
            })
            .collect();
        let mut variants = IndexMap::new();
        for v in &experiment.variants {
            let mine: Vec<&RunSummary> = runs
                .iter()
                .filter(|r| r.variant == v.name)
                .map(|r| &r.summary)
                .collect();
            variants.insert(v.name.clone(), aggregate(&mine));
        }
        Report {
            experiment: experiment.name.clone(),
            description: experiment.description.clone(),
            experiment_file: Some(experiment.file.display().to_string()),
            surge_version: crate::VERSION.to_string(),
            seed: experiment.seed,
            replications: experiment.replications,
            duration_s: experiment.duration.as_secs_f64(),
            warmup_s: experiment.warmup.as_secs_f64(),
            resolution_s: experiment.resolution.as_secs_f64(),
            runs,
            variants,
            config: experiment.config.clone(),
        }
    }

    /// The report as pretty JSON with a trailing newline. Deterministic: maps keep insertion
    /// order and floats print in shortest round-trip form.
    pub fn to_json(&self) -> String {
        let mut s =
            serde_json::to_string_pretty(self).expect("reports contain only serialisable data");
        s.push('\n');
        s
    }
}

/// An edge's name in metric keys: "a.x -> b.y" without its spaces, "a.x->b.y".
pub fn edge_key(edge: &str) -> String {
    edge.replace(' ', "")
}

fn fraction(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Every key of the runs' maps, in the order they first appear: variants may differ (a
/// sharded service has a shard service per shard its variant gives it), so tables and plots
/// list them all and show a dash or no line where a variant has none.
pub(crate) fn union_keys<'a, V: 'a>(
    maps: impl Iterator<Item = &'a IndexMap<String, V>>,
) -> Vec<&'a String> {
    let mut keys: Vec<&String> = Vec::new();
    for m in maps {
        for k in m.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// The scalar metrics of a run summary, flattened to `a.b.c` names, in a fixed order: the
/// run's requests, then each entry endpoint's as clients saw it
/// (`endpoints.<service>.<endpoint>.*`), each service's (`services.<name>.*`), each endpoint as
/// its service saw it (`services.<name>.endpoints.<endpoint>.*`, server-side latency), each
/// edge of the call graph (`calls.<caller>-><callee>.*`, `=>` for a message), each cache
/// (`caches.<name>.*`), each database (`databases.<name>.*`), each sharded service
/// (`shards.<name>.*`), each connection pool (`pools.<name>.*`), cost and SLO.
/// [`aliases`] gives the most used ones short names.
pub fn flatten(s: &RunSummary) -> IndexMap<String, f64> {
    let mut m = IndexMap::new();
    m.insert("arrivals".into(), s.arrivals as f64);
    m.insert("completed".into(), s.completed as f64);
    m.insert("throughput_rps".into(), s.throughput_rps);
    m.insert("error_rate".into(), s.error_rate);
    for (cause, r) in &s.error_rates {
        m.insert(format!("error_rates.{cause}"), *r);
    }
    for (k, v) in latency_fields(&s.latency_s) {
        m.insert(format!("latency_s.{k}"), v);
    }
    m.insert("mean_response_s".into(), s.mean_response_s);
    m.insert("mean_in_flight".into(), s.mean_in_flight);
    let per_second = |n: u64| {
        if s.measured_s > 0.0 {
            n as f64 / s.measured_s
        } else {
            0.0
        }
    };
    for (name, e) in &s.endpoints {
        // As for the whole run: throughput counts successes, the error rate is over the
        // requests that ended.
        let ok = e.outcomes.get("ok").copied().unwrap_or(0);
        let ended: u64 = e.outcomes.values().sum();
        let prefix = format!("endpoints.{name}");
        m.insert(format!("{prefix}.arrivals"), e.arrivals as f64);
        m.insert(format!("{prefix}.throughput_rps"), per_second(ok));
        m.insert(
            format!("{prefix}.error_rate"),
            if ended == 0 {
                0.0
            } else {
                (ended - ok) as f64 / ended as f64
            },
        );
        for (k, v) in latency_fields(&e.latency_s) {
            m.insert(format!("{prefix}.latency_s.{k}"), v);
        }
    }
    for (name, svc) in &s.services {
        m.insert(
            format!("services.{name}.instances"),
            f64::from(svc.instances),
        );
        m.insert(
            format!("services.{name}.peak_instances"),
            f64::from(svc.peak_instances),
        );
        m.insert(
            format!("services.{name}.instance_hours"),
            svc.instance_hours,
        );
        m.insert(
            format!("services.{name}.scaling_actions"),
            svc.scaling_actions as f64,
        );
        m.insert(format!("services.{name}.oom_kills"), svc.oom_kills as f64);
        m.insert(format!("services.{name}.failures"), svc.failures as f64);
        m.insert(
            format!("services.{name}.spot_interruptions"),
            svc.spot_interruptions as f64,
        );
        m.insert(
            format!("services.{name}.cpu_utilisation"),
            svc.cpu_utilisation,
        );
        m.insert(format!("services.{name}.busy_cores"), svc.busy_cores);
        m.insert(
            format!("services.{name}.mean_queue_length"),
            svc.mean_queue_length,
        );
        m.insert(
            format!("services.{name}.peak_queue_length"),
            svc.peak_queue_length as f64,
        );
        m.insert(
            format!("services.{name}.cpu_wait_probability"),
            svc.cpu_wait_probability,
        );
        m.insert(
            format!("services.{name}.peak_event_loop_lag_s"),
            svc.peak_event_loop_lag_s,
        );
    }
    for (name, svc) in &s.services {
        if let Some(t) = &svc.sessions {
            let prefix = format!("services.{name}.sessions");
            m.insert(format!("{prefix}.miss_fraction"), t.miss_fraction());
            m.insert(format!("{prefix}.elsewhere_rps"), per_second(t.elsewhere));
            m.insert(format!("{prefix}.lost"), t.lost as f64);
            m.insert(format!("{prefix}.new_rps"), per_second(t.new));
        }
        if let Some(h) = &svc.health {
            let prefix = format!("services.{name}.health");
            m.insert(format!("{prefix}.probes_failed"), h.probes_failed as f64);
            m.insert(
                format!("{prefix}.marked_unhealthy"),
                h.marked_unhealthy as f64,
            );
            m.insert(format!("{prefix}.marked_healthy"), h.marked_healthy as f64);
            m.insert(format!("{prefix}.ejections"), h.ejections as f64);
            m.insert(format!("{prefix}.refused"), h.refused as f64);
        }
        for (zone, z) in &svc.zones {
            let prefix = format!("services.{name}.zones.{zone}");
            m.insert(format!("{prefix}.routed_fraction"), z.routed_fraction);
            m.insert(format!("{prefix}.cpu_utilisation"), z.cpu_utilisation);
        }
        for (group, g) in &svc.groups {
            let prefix = format!("services.{name}.groups.{group}");
            m.insert(format!("{prefix}.routed_fraction"), g.routed_fraction);
            m.insert(format!("{prefix}.cpu_utilisation"), g.cpu_utilisation);
        }
        for (endpoint, e) in &svc.endpoints {
            let ok = e.outcomes.get("ok").copied().unwrap_or(0);
            let ended: u64 = e.outcomes.values().sum();
            let prefix = format!("services.{name}.endpoints.{endpoint}");
            m.insert(format!("{prefix}.arrivals"), e.arrivals as f64);
            m.insert(format!("{prefix}.throughput_rps"), per_second(ok));
            m.insert(format!("{prefix}.error_rate"), fraction(ended - ok, ended));
            for (k, v) in latency_fields(&e.latency_s) {
                m.insert(format!("{prefix}.latency_s.{k}"), v);
            }
        }
    }
    for (edge, c) in &s.calls {
        let ok = c.outcomes.get("ok").copied().unwrap_or(0);
        let ended: u64 = c.outcomes.values().sum();
        let prefix = format!("calls.{}", edge_key(edge));
        m.insert(format!("{prefix}.calls"), c.calls as f64);
        m.insert(format!("{prefix}.rate_rps"), per_second(c.calls));
        m.insert(format!("{prefix}.retries_rps"), per_second(c.retries));
        m.insert(
            format!("{prefix}.retries_throttled_rps"),
            per_second(c.retries_throttled),
        );
        m.insert(
            format!("{prefix}.short_circuited_rps"),
            per_second(c.short_circuited),
        );
        m.insert(format!("{prefix}.breaker_opens"), c.breaker_opens as f64);
        m.insert(format!("{prefix}.error_rate"), fraction(ended - ok, ended));
        let timed_out = c.outcomes.get("timed_out").copied().unwrap_or(0);
        m.insert(
            format!("{prefix}.timed_out_rate"),
            fraction(timed_out, ended),
        );
        for (k, v) in latency_fields(&c.latency_s) {
            m.insert(format!("{prefix}.latency_s.{k}"), v);
        }
    }
    for (name, c) in &s.caches {
        let prefix = format!("caches.{name}");
        m.insert(format!("{prefix}.lookups_rps"), per_second(c.lookups));
        m.insert(format!("{prefix}.hit_ratio"), c.hit_ratio);
        m.insert(format!("{prefix}.misses_rps"), per_second(c.misses));
        m.insert(format!("{prefix}.coalesced_rps"), per_second(c.coalesced));
        m.insert(format!("{prefix}.expired_rps"), per_second(c.expired));
        m.insert(format!("{prefix}.evictions_rps"), per_second(c.evictions));
        m.insert(format!("{prefix}.refreshes_rps"), per_second(c.refreshes));
        m.insert(format!("{prefix}.entries"), c.entries_at_end as f64);
        if let Some(r) = &c.reloads {
            m.insert(
                format!("{prefix}.reload_fetches_rps"),
                per_second(r.fetches),
            );
            m.insert(format!("{prefix}.reload_dropped"), r.dropped as f64);
        }
        if let Some(stale) = &c.stale {
            m.insert(format!("{prefix}.stale_hits_rps"), per_second(stale.hits));
            m.insert(format!("{prefix}.stale_hit_fraction"), stale.fraction);
        }
        if let Some(w) = &c.write_behind {
            m.insert(format!("{prefix}.writes_rps"), per_second(w.writes));
            m.insert(
                format!("{prefix}.writes_flushed_rps"),
                per_second(w.flushed),
            );
            m.insert(
                format!("{prefix}.merged_fraction"),
                fraction(w.merged, w.writes),
            );
            m.insert(format!("{prefix}.lost_writes"), w.lost as f64);
        }
    }
    for (name, d) in &s.databases {
        let prefix = format!("databases.{name}");
        m.insert(format!("{prefix}.writes_rps"), per_second(d.writes));
        m.insert(format!("{prefix}.reads_rps"), per_second(d.reads));
        m.insert(
            format!("{prefix}.replica_reads_rps"),
            per_second(d.replica_reads),
        );
        m.insert(format!("{prefix}.stale_fraction"), d.stale_fraction);
        m.insert(format!("{prefix}.lost_writes"), d.lost_writes as f64);
        for (k, v) in latency_fields(&d.lag_s) {
            m.insert(format!("{prefix}.lag_s.{k}"), v);
        }
    }
    for (name, sh) in &s.shards {
        let prefix = format!("shards.{name}");
        m.insert(format!("{prefix}.hottest_share"), sh.hottest_share);
        if let Some(r) = &sh.reshard {
            m.insert(format!("{prefix}.moved_fraction"), r.moved_fraction);
        }
    }
    for (name, p) in &s.pools {
        let prefix = format!("pools.{name}");
        m.insert(format!("{prefix}.acquired_rps"), per_second(p.acquired));
        m.insert(format!("{prefix}.exhausted_fraction"), p.exhausted_fraction);
        m.insert(format!("{prefix}.mean_wait_s"), p.mean_wait_s);
        m.insert(format!("{prefix}.timeouts_rps"), per_second(p.timeouts));
        m.insert(format!("{prefix}.refused_rps"), per_second(p.refused));
        m.insert(format!("{prefix}.peak_in_use"), f64::from(p.peak_in_use));
    }
    if let Some(c) = s.cost_usd {
        m.insert("cost_usd".into(), c);
    }
    if let Some(c) = s.cost_per_million_ok_usd {
        m.insert("cost_per_million_ok_usd".into(), c);
    }
    if let Some(slo) = &s.slo {
        m.insert("slo.violation_minutes".into(), slo.violation_minutes);
        m.insert("slo.latency_observed_s".into(), slo.latency_observed_s);
    }
    m
}

/// A latency summary's fields under their flat names, in report order.
fn latency_fields(l: &LatencySummary) -> [(&'static str, f64); 7] {
    [
        ("mean", l.mean),
        ("p50", l.p50),
        ("p90", l.p90),
        ("p95", l.p95),
        ("p99", l.p99),
        ("p999", l.p999),
        ("max", l.max),
    ]
}

/// Means with 95% intervals, metric by metric, over runs' flat metrics: from the spread of
/// replications, or, for a single run with batch means, from the spread of its batches.
pub fn estimates(
    flats: &[&IndexMap<String, f64>],
    batches: Option<&BatchMeansSummary>,
) -> IndexMap<String, Estimate> {
    let mut metrics = IndexMap::new();
    if let Some(first) = flats.first() {
        for key in first.keys() {
            let values: Vec<f64> = flats.iter().filter_map(|f| f.get(key).copied()).collect();
            let batch = batches
                .filter(|_| flats.len() == 1)
                .and_then(|b| b.metrics.get(key));
            let e = match batch {
                Some(b) => batch_means::interval(values[0], b),
                None => estimate(&values),
            };
            metrics.insert(key.clone(), e);
        }
    }
    metrics
}

fn aggregate(runs: &[&RunSummary]) -> VariantReport {
    let flats: Vec<IndexMap<String, f64>> = runs.iter().map(|s| flatten(s)).collect();
    let metrics = estimates(
        &flats.iter().collect::<Vec<_>>(),
        runs.first().and_then(|r| r.batch_means.as_ref()),
    );
    let slo_met = runs
        .first()
        .and_then(|r| r.slo.as_ref())
        .map(|_| runs.iter().all(|r| r.slo.as_ref().is_some_and(|s| s.met)));
    VariantReport {
        replications: runs.len() as u32,
        metrics,
        slo_met,
    }
}
