//! The summary table: one column per variant, one row per metric, with the 95% interval when
//! there are replications. [`rows`] decides which metrics appear, in which order and under which
//! label; [`render`] prints them for the terminal and `html` renders the same rows as a page.

use super::Report;
use crate::experiment::stats::Estimate;
use std::fmt::Write;

/// A group of rows, shown as a heading in the HTML page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// Arrivals, completions, throughput.
    Traffic,
    /// The error rate and its breakdown by cause.
    Errors,
    /// Latency of successful responses.
    Latency,
    /// One endpoint's traffic, errors and latency (`service.endpoint`), when the model has
    /// more than one.
    Endpoint(String),
    /// One service's instances, utilisation and queues.
    Service(String),
    /// One edge of the call graph (`caller.endpoint -> callee.endpoint`): its calls, errors
    /// and latency as the caller saw them.
    Call(String),
    /// One cache: its hit ratio and what its stores did.
    Cache(String),
    /// One database: writes, where reads went, stale reads and replication lag.
    Database(String),
    /// One sharded service: how its load spread over shards.
    Shards(String),
    /// One connection pool: waits, timeouts and refusals.
    Pool(String),
    /// What the instances cost.
    Cost,
    /// The service-level objective.
    Slo,
}

impl Section {
    /// The heading.
    pub fn title(&self) -> String {
        match self {
            Section::Traffic => "Traffic".into(),
            Section::Errors => "Errors".into(),
            Section::Latency => "Latency (successful responses)".into(),
            Section::Endpoint(name) => format!("Endpoint {name}"),
            Section::Service(name) => format!("Service {name}"),
            Section::Call(name) => format!("Calls {name}"),
            Section::Cache(name) => format!("Cache {name}"),
            Section::Database(name) => format!("Database {name}"),
            Section::Shards(name) => format!("Shards {name}"),
            Section::Pool(name) => format!("Pool {name}"),
            Section::Cost => "Cost".into(),
            Section::Slo => "SLO".into(),
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    /// The group it belongs to.
    pub section: Section,
    /// What the row shows, without a service prefix.
    pub label: String,
    /// Whether the row breaks down the row above it (an error cause under the error rate).
    pub breakdown: bool,
    /// One cell per variant, in variant order.
    pub cells: Vec<Cell<'a>>,
}

/// One variant's value in a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// A metric's estimate over replications; `key` is its flat name (it decides the unit).
    Estimate {
        /// The flat metric name, such as `latency_s.p99`.
        key: &'a str,
        /// Mean and interval.
        estimate: &'a Estimate,
    },
    /// Whether every replication met the SLO (`None`: the variant has no SLO verdict).
    SloMet(Option<bool>),
    /// The variant does not have this metric.
    Missing,
}

impl Cell<'_> {
    /// The cell as plain text: the value, then `+- half-width` when there is an interval
    /// (`+- 0` when every replication agreed).
    pub fn text(&self) -> String {
        match self {
            Cell::Estimate { key, estimate } => estimate_text(key, estimate),
            Cell::SloMet(Some(true)) => "yes".into(),
            Cell::SloMet(Some(false)) => "NO".into(),
            Cell::SloMet(None) | Cell::Missing => "-".into(),
        }
    }
}

/// An estimate as plain text: its mean, then `+- half-width` when there is an interval, zero
/// included (every replication agreed); nothing after the mean only when there is no interval
/// (one replication).
pub fn estimate_text(key: &str, e: &Estimate) -> String {
    let v = fmt_value(key, e.mean);
    match half_width(e) {
        Some(h) => format!("{v} +- {}", fmt_value(key, h)),
        None => v,
    }
}

/// The interval's half-width when there is an interval: none with one replication, zero when
/// every replication agreed (which is worth saying: it is not the same as not knowing).
pub fn half_width(e: &Estimate) -> Option<f64> {
    e.ci95_half_width.filter(|h| h.is_finite())
}

/// The rows of the summary table, in display order. Rows that would say nothing are left
/// out, so everyday tables stay short: error causes, OOM kills and spot interruptions appear
/// only where some variant has them (the error rate always does), an endpoint group only when
/// the model has more than one endpoint, and event-loop lag only for a service that some
/// variant runs on event loops.
pub fn rows(report: &Report) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = Vec::new();
    let metric = |key: &str| -> Vec<Cell<'_>> {
        report
            .variants
            .values()
            .map(|v| match v.metrics.get_key_value(key) {
                Some((key, estimate)) => Cell::Estimate { key, estimate },
                None => Cell::Missing,
            })
            .collect()
    };
    let row = |section: &Section, label: &str, key: &str| Row {
        section: section.clone(),
        label: label.to_string(),
        breakdown: false,
        cells: metric(key),
    };
    for (label, key) in [
        ("arrivals", "arrivals"),
        ("completed (ok)", "completed"),
        ("throughput (req/s)", "throughput_rps"),
    ] {
        rows.push(row(&Section::Traffic, label, key));
    }
    rows.push(row(&Section::Errors, "error rate", "error_rate"));
    let causes: Vec<&String> = report
        .variants
        .values()
        .flat_map(|v| v.metrics.keys().filter(|k| k.starts_with("error_rates.")))
        .fold(Vec::new(), |mut acc, k| {
            if !acc.contains(&k) {
                acc.push(k);
            }
            acc
        });
    let happened = |key: &str| {
        report
            .variants
            .values()
            .any(|v| v.metrics.get(key).is_some_and(|e| e.mean != 0.0))
    };
    for key in causes.into_iter().filter(|k| happened(k)) {
        let cause = key.trim_start_matches("error_rates.");
        rows.push(Row {
            breakdown: true,
            ..row(&Section::Errors, cause, key)
        });
    }
    for (label, q) in [
        ("latency mean", "mean"),
        ("latency p50", "p50"),
        ("latency p90", "p90"),
        ("latency p95", "p95"),
        ("latency p99", "p99"),
        ("latency p99.9", "p999"),
        ("latency max", "max"),
    ] {
        rows.push(row(&Section::Latency, label, &format!("latency_s.{q}")));
    }
    let first = report.runs.first().map(|r| &r.summary);
    // Endpoints the clients send to (an endpoint only other services call has no client
    // figures: its own are under its service).
    let endpoints: Vec<&String> = first
        .map(|s| s.endpoints.keys().collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| happened(&format!("endpoints.{e}.arrivals")))
        .collect();
    if endpoints.len() > 1 {
        for e in endpoints {
            let section = Section::Endpoint(e.clone());
            for (label, key) in [
                ("arrivals", "arrivals"),
                ("throughput (req/s)", "throughput_rps"),
                ("error rate", "error_rate"),
                ("latency p50", "latency_s.p50"),
                ("latency p99", "latency_s.p99"),
            ] {
                rows.push(row(&section, label, &format!("endpoints.{e}.{key}")));
            }
        }
    }
    let services = super::union_keys(report.runs.iter().map(|r| &r.summary.services));
    for s in services {
        let section = Section::Service(s.clone());
        for (label, key) in [
            ("instances (end)", "instances"),
            ("peak instances", "peak_instances"),
            ("instance-hours", "instance_hours"),
            ("scaling actions", "scaling_actions"),
            ("CPU utilisation", "cpu_utilisation"),
            ("busy cores", "busy_cores"),
            ("mean queue length", "mean_queue_length"),
            ("peak queue length", "peak_queue_length"),
        ] {
            rows.push(row(&section, label, &format!("services.{s}.{key}")));
        }
        // The longest wait for a core is event-loop lag only on an event loop; on a thread
        // pool it would be a number under a name that misleads, so those variants show none.
        let event_loop: Vec<bool> = report
            .variants
            .keys()
            .map(|v| event_loop(report, v, s))
            .collect();
        if event_loop.contains(&true) {
            let mut lag = row(
                &section,
                "peak event-loop lag",
                &format!("services.{s}.peak_event_loop_lag_s"),
            );
            for (cell, on_loop) in lag.cells.iter_mut().zip(event_loop) {
                if !on_loop {
                    *cell = Cell::Missing;
                }
            }
            rows.push(lag);
        }
        let sessions = format!("services.{s}.sessions.miss_fraction");
        if report
            .variants
            .values()
            .any(|v| v.metrics.contains_key(&sessions))
        {
            rows.push(row(&section, "sessions missed", &sessions));
            let lost = format!("services.{s}.sessions.lost");
            if happened(&lost) {
                rows.push(row(&section, "sessions lost", &lost));
            }
        }
        for (label, key) in [
            ("probes failed", "probes_failed"),
            ("taken out by probes", "marked_unhealthy"),
            ("put back by probes", "marked_healthy"),
            ("ejections", "ejections"),
            ("sent to a dead instance", "refused"),
        ] {
            let name = format!("services.{s}.health.{key}");
            if happened(&name) {
                rows.push(row(&section, label, &name));
            }
        }
        // Zones: what each carried, and how busy it was (after a zone's loss, the survivors).
        let zones = super::union_keys(
            report
                .runs
                .iter()
                .filter_map(|r| r.summary.services.get(s.as_str()))
                .map(|svc| &svc.zones),
        );
        for z in zones {
            let key = format!("services.{s}.zones.{z}");
            rows.push(row(
                &section,
                &format!("zone {z}: requests"),
                &format!("{key}.routed_fraction"),
            ));
            rows.push(row(
                &section,
                &format!("zone {z}: CPU utilisation"),
                &format!("{key}.cpu_utilisation"),
            ));
        }
        // A mixed fleet: what each group carried, and how busy it was.
        let groups = super::union_keys(
            report
                .runs
                .iter()
                .filter_map(|r| r.summary.services.get(s.as_str()))
                .map(|svc| &svc.groups),
        );
        for g in groups {
            let key = format!("services.{s}.groups.{g}");
            rows.push(row(
                &section,
                &format!("{g}: requests"),
                &format!("{key}.routed_fraction"),
            ));
            rows.push(row(
                &section,
                &format!("{g}: CPU utilisation"),
                &format!("{key}.cpu_utilisation"),
            ));
        }
        // With a call graph, each endpoint's server-side latency: where the time of a slow
        // dependency is spent.
        let served: Vec<&String> = first
            .filter(|f| !f.calls.is_empty())
            .and_then(|f| f.services.get(s.as_str()))
            .map(|svc| svc.endpoints.keys().collect())
            .unwrap_or_default();
        for e in served {
            let key = format!("services.{s}.endpoints.{e}");
            if happened(&format!("{key}.arrivals")) {
                rows.push(row(
                    &section,
                    &format!("{e} served p99"),
                    &format!("{key}.latency_s.p99"),
                ));
                let errors = format!("{key}.error_rate");
                if happened(&errors) {
                    rows.push(row(&section, &format!("{e} error rate"), &errors));
                }
            }
        }
        for (label, key) in [
            ("OOM kills", "oom_kills"),
            ("spot interruptions", "spot_interruptions"),
            ("random failures", "failures"),
        ] {
            let name = format!("services.{s}.{key}");
            if happened(&name) {
                rows.push(row(&section, label, &name));
            }
        }
    }
    // The call graph, grouped by caller in the file's order; an edge no variant used, and an
    // error or timeout rate that is zero everywhere, are left out.
    // Every variant's edges (one variant may call what another does not).
    let edges = super::union_keys(report.runs.iter().map(|r| &r.summary.calls));
    for edge in edges {
        let key = format!("calls.{}", super::edge_key(edge));
        if !happened(&format!("{key}.calls")) {
            continue;
        }
        let section = Section::Call(edge.clone());
        rows.push(row(&section, "calls/s", &format!("{key}.rate_rps")));
        for (label, metric) in [
            ("retries/s", "retries_rps"),
            ("retries throttled/s", "retries_throttled_rps"),
            ("short-circuited/s", "short_circuited_rps"),
            ("breaker opens", "breaker_opens"),
            ("error rate", "error_rate"),
            ("timed out", "timed_out_rate"),
        ] {
            let name = format!("{key}.{metric}");
            if happened(&name) {
                rows.push(row(&section, label, &name));
            }
        }
        for (label, q) in [("latency p50", "p50"), ("latency p99", "p99")] {
            rows.push(row(&section, label, &format!("{key}.latency_s.{q}")));
        }
    }
    // Each cache a variant looked in or wrote behind to.
    let caches = super::union_keys(report.runs.iter().map(|r| &r.summary.caches));
    for cache in caches {
        let key = format!("caches.{cache}");
        let (lookups, writes) = (format!("{key}.lookups_rps"), format!("{key}.writes_rps"));
        let (looked, wrote) = (happened(&lookups), happened(&writes));
        if !looked && !wrote {
            continue;
        }
        let section = Section::Cache(cache.clone());
        let first_lookup_row = rows.len();
        if looked {
            rows.push(row(&section, "hit ratio", &format!("{key}.hit_ratio")));
            rows.push(row(&section, "lookups/s", &lookups));
            // Counted (count_stale) in some variant: 0% stale is a finding too.
            let stale = format!("{key}.stale_hit_fraction");
            if report
                .variants
                .values()
                .any(|v| v.metrics.contains_key(&stale))
            {
                rows.push(row(&section, "hits stale", &stale));
            }
            for (label, metric) in [
                ("coalesced/s", "coalesced_rps"),
                ("expired/s", "expired_rps"),
                ("evictions/s", "evictions_rps"),
                ("refreshes/s", "refreshes_rps"),
                ("reload fetches/s", "reload_fetches_rps"),
                ("reloads dropped", "reload_dropped"),
            ] {
                let name = format!("{key}.{metric}");
                if happened(&name) {
                    rows.push(row(&section, label, &name));
                }
            }
        }
        let lookup_rows = first_lookup_row..rows.len();
        rows.push(row(&section, "entries (end)", &format!("{key}.entries")));
        let first_write_row = rows.len();
        if wrote {
            rows.push(row(&section, "writes behind/s", &writes));
            rows.push(row(
                &section,
                "flushed/s",
                &format!("{key}.writes_flushed_rps"),
            ));
            rows.push(row(
                &section,
                "writes merged",
                &format!("{key}.merged_fraction"),
            ));
            rows.push(row(&section, "writes lost", &format!("{key}.lost_writes")));
        }
        let write_rows = first_write_row..rows.len();
        // A variant that never looked in this cache has no hit ratio, and one that does not
        // write behind no flushes: a dash, not 0.
        let labels = |range: std::ops::Range<usize>, rows: &[Row]| -> Vec<String> {
            rows[range].iter().map(|r| r.label.clone()).collect()
        };
        let (lookup_labels, write_labels) = (labels(lookup_rows, &rows), labels(write_rows, &rows));
        dash_without(report, &mut rows, &lookups, |r| {
            r.section == section && lookup_labels.contains(&r.label)
        });
        dash_without(report, &mut rows, &writes, |r| {
            r.section == section && write_labels.contains(&r.label)
        });
    }
    // Each database.
    let databases = super::union_keys(report.runs.iter().map(|r| &r.summary.databases));
    for db in databases {
        let key = format!("databases.{db}");
        let section = Section::Database(db.clone());
        rows.push(row(&section, "writes/s", &format!("{key}.writes_rps")));
        rows.push(row(&section, "reads/s", &format!("{key}.reads_rps")));
        let replicated = happened(&format!("{key}.replica_reads_rps"));
        if replicated {
            rows.push(row(
                &section,
                "replica reads/s",
                &format!("{key}.replica_reads_rps"),
            ));
            rows.push(row(
                &section,
                "stale reads",
                &format!("{key}.stale_fraction"),
            ));
        }
        if happened(&format!("{key}.lag_s.max")) {
            for (label, q) in [("lag mean", "mean"), ("lag p99", "p99"), ("lag max", "max")] {
                rows.push(row(&section, label, &format!("{key}.lag_s.{q}")));
            }
        }
        let lost = format!("{key}.lost_writes");
        if happened(&lost) {
            rows.push(row(&section, "lost writes", &lost));
        }
        // A variant whose reads never reached a replica has no staleness or lag: a dash.
        dash_without(
            report,
            &mut rows,
            &format!("{key}.replica_reads_rps"),
            |r| r.section == section && (r.label.starts_with("lag") || r.label == "stale reads"),
        );
    }
    // Each sharded service.
    let sharded = super::union_keys(report.runs.iter().map(|r| &r.summary.shards));
    for name in sharded {
        let key = format!("shards.{name}");
        let section = Section::Shards(name.clone());
        rows.push(row(
            &section,
            "hottest shard's share",
            &format!("{key}.hottest_share"),
        ));
        let moved = format!("{key}.moved_fraction");
        if report
            .variants
            .values()
            .any(|v| v.metrics.contains_key(&moved))
        {
            rows.push(row(&section, "keys moved by resharding", &moved));
        }
    }
    // Each connection pool.
    for name in super::union_keys(report.runs.iter().map(|r| &r.summary.pools)) {
        let key = format!("pools.{name}");
        let section = Section::Pool(name.clone());
        for (label, metric) in [
            ("connections/s", "acquired_rps"),
            ("calls that waited", "exhausted_fraction"),
            ("mean wait", "mean_wait_s"),
            ("peak in use", "peak_in_use"),
        ] {
            rows.push(row(&section, label, &format!("{key}.{metric}")));
        }
        for (label, metric) in [("timeouts/s", "timeouts_rps"), ("refused/s", "refused_rps")] {
            let name = format!("{key}.{metric}");
            if happened(&name) {
                rows.push(row(&section, label, &name));
            }
        }
    }
    if report
        .variants
        .values()
        .any(|v| v.metrics.contains_key("cost_usd"))
    {
        rows.push(row(&Section::Cost, "cost (USD)", "cost_usd"));
        rows.push(row(
            &Section::Cost,
            "cost per 1M ok (USD)",
            "cost_per_million_ok_usd",
        ));
    }
    if report.variants.values().any(|v| v.slo_met.is_some()) {
        rows.push(row(
            &Section::Slo,
            "SLO violation (min)",
            "slo.violation_minutes",
        ));
        rows.push(Row {
            section: Section::Slo,
            label: "SLO met".into(),
            breakdown: false,
            cells: report
                .variants
                .values()
                .map(|v| Cell::SloMet(v.slo_met))
                .collect(),
        });
    }
    rows
}

/// Whether `variant` runs `service` on event loops, as its first run recorded. A report from
/// before the runtime was recorded counts as one, so the row it always had stays.
fn event_loop(report: &Report, variant: &str, service: &str) -> bool {
    report
        .runs
        .iter()
        .find(|r| r.variant == variant)
        .and_then(|r| r.summary.services.get(service))
        .is_none_or(|s| s.runtime.as_deref().is_none_or(|r| r == "event_loop"))
}

/// `body` under a heading line: the experiment's name and, after a colon, its description.
pub fn titled(name: &str, description: Option<&str>, body: &str) -> String {
    let description = description.map(|d| format!(": {d}")).unwrap_or_default();
    format!("{name}{description}\n{body}")
}

/// Renders the table as plain text.
pub fn render(report: &Report) -> String {
    let names: Vec<&String> = report.variants.keys().collect();
    let table = rows(report);
    let services = table
        .iter()
        .filter_map(|r| match &r.section {
            Section::Service(s) => Some(s),
            _ => None,
        })
        .fold(Vec::new(), |mut acc, s| {
            if !acc.contains(&s) {
                acc.push(s);
            }
            acc
        });
    let lines: Vec<(String, Vec<String>)> = table
        .iter()
        .map(|r| {
            let label = match &r.section {
                Section::Service(s) if services.len() > 1 => format!("{s}: {}", r.label),
                Section::Endpoint(e) | Section::Call(e) => format!("{e}: {}", r.label),
                Section::Cache(c) => format!("cache {c}: {}", r.label),
                Section::Database(d) => format!("db {d}: {}", r.label),
                Section::Shards(d) => format!("shards {d}: {}", r.label),
                Section::Pool(d) => format!("pool {d}: {}", r.label),
                _ if r.breakdown => format!("  {}", r.label),
                _ => r.label.clone(),
            };
            (label, r.cells.iter().map(Cell::text).collect())
        })
        .collect();
    let label_w = lines
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let col_w: Vec<usize> = (0..names.len())
        .map(|i| {
            lines
                .iter()
                .map(|r| r.1[i].chars().count())
                .chain([names[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let _ = write!(out, "{:label_w$}", "");
    for (n, w) in names.iter().zip(&col_w) {
        let _ = write!(out, "  {n:>w$}");
    }
    out.push('\n');
    let total = label_w + col_w.iter().map(|w| w + 2).sum::<usize>();
    out.push_str(&"-".repeat(total));
    out.push('\n');
    for (label, cells) in lines {
        let _ = write!(out, "{label:label_w$}");
        for (c, w) in cells.iter().zip(&col_w) {
            let _ = write!(out, "  {c:>w$}");
        }
        out.push('\n');
    }
    if report.replications > 1 {
        let _ = writeln!(
            out,
            "(means over {} replications, +- the 95% confidence half-width)",
            report.replications
        );
    } else if let Some(b) = report
        .runs
        .first()
        .and_then(|r| r.summary.batch_means.as_ref())
    {
        let _ = writeln!(
            out,
            "(throughput, errors and latency +- the 95% half-width from {} batch means of {:.0} s; lag-1 autocorrelation of the batches' mean response {})",
            b.batches,
            b.batch_s,
            b.lag1_autocorrelation
                .map_or("n/a".to_string(), |r| format!("{r:.2}"))
        );
    }
    if report.variants.len() > 1 {
        let _ = writeln!(
            out,
            "(variants share random numbers: the same arrivals and work per seed and replication, so differences are the strategies'; `surge compare` tests them pairwise)"
        );
    }
    out
}

/// Shows a dash, not a figure, in the `rows` that `which` picks, for every variant in which
/// `metric` never happened (a cache never looked in, a database whose reads never reached a
/// replica): its zero would read as a measurement.
fn dash_without(report: &Report, rows: &mut [Row<'_>], metric: &str, which: impl Fn(&Row) -> bool) {
    let happened: Vec<bool> = report
        .variants
        .values()
        .map(|v| v.metrics.get(metric).is_some_and(|e| e.mean != 0.0))
        .collect();
    for r in rows.iter_mut().filter(|r| which(r)) {
        for (cell, happened) in r.cells.iter_mut().zip(&happened) {
            if !happened {
                *cell = Cell::Missing;
            }
        }
    }
}

/// Formats by what the metric is: seconds as ms or s, fractions as %, counts as integers.
pub fn fmt_value(key: &str, v: f64) -> String {
    if key.ends_with("_s") || key.contains("latency_s.") || key.contains("lag_s.") {
        if v.abs() >= 1.0 {
            format!("{v:.3} s")
        } else {
            format!("{:.2} ms", v * 1e3)
        }
    } else if key.contains("error_rate")
        || key.ends_with("timed_out_rate")
        || key.ends_with("utilisation")
        || key.ends_with("probability")
        || key.ends_with("hit_ratio")
        || key.ends_with("_fraction")
        || key.ends_with("_share")
    {
        format!("{:.2}%", v * 100.0)
    } else if key == "arrivals"
        || key == "completed"
        || key.ends_with(".arrivals")
        || key.ends_with("instances")
        || key.ends_with("scaling_actions")
        || key.ends_with("peak_queue_length")
        || key.ends_with(".entries")
        || key.ends_with("lost_writes")
        || key.ends_with("reload_dropped")
        || key.ends_with("breaker_opens")
        || key.ends_with("peak_in_use")
    {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Aligned columns under a dashed rule: `left` is left-aligned (names), the rest right-aligned
/// (numbers).
pub(crate) fn aligned(rows: &[Vec<String>], left: usize) -> String {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if i == left {
                let _ = write!(line, "{cell:w$}");
            } else {
                let _ = write!(line, "{cell:>w$}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if n == 0 {
            let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_experiment_text;
    use crate::experiment::{ExecuteOptions, run_experiment};
    use std::path::Path;

    /// One 1-core instance with a short accept queue under 150 req/s of 5 ms requests (0.75 of
    /// its core) split over two endpoints: bursts overflow the queue, so `pool` (a thread pool)
    /// and `node` (an event loop) reject some; `big` (4 cores) never fills it.
    fn report(replications: u32) -> Report {
        let text = format!(
            r#"{{
            "model": {{ "services": {{ "api": {{ "replicas": 1,
                "instance": {{ "cores": 1, "concurrency_limit": 1, "queue_limit": 2 }},
                "endpoints": {{
                    "get": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "5ms" }} }} ] }},
                    "put": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "5ms" }} }} ] }} }} }} }} }},
            "workload": [ {{ "kind": "open", "rate": {{ "kind": "constant", "rps": 150 }},
                "mix": [ {{ "service": "api", "endpoint": "get", "weight": 3 }},
                         {{ "service": "api", "endpoint": "put", "weight": 1 }} ] }} ],
            "duration": "20s", "seed": 3, "replications": {replications},
            "variants": {{
                "pool": {{}},
                "node": {{ "services": {{ "api": {{ "instance": {{ "runtime": "event_loop" }} }} }} }},
                "big": {{ "services": {{ "api": {{ "instance": {{ "cores": 4, "concurrency_limit": 4 }} }} }} }}
            }}
        }}"#
        );
        let exp = load_experiment_text(Path::new("table-test.json"), &text).unwrap();
        let results = run_experiment(&exp, &ExecuteOptions::default())
            .expect("the run stays within its limits");
        Report::new(&exp, &results)
    }

    fn labels(report: &Report) -> Vec<String> {
        rows(report)
            .iter()
            .map(|r| match &r.section {
                Section::Endpoint(e) | Section::Service(e) => format!("{e}: {}", r.label),
                _ => r.label.clone(),
            })
            .collect()
    }

    fn row<'a>(rows: &'a [Row<'a>], label: &str) -> &'a Row<'a> {
        rows.iter()
            .find(|r| r.label == label)
            .unwrap_or_else(|| panic!("no row `{label}`"))
    }

    #[test]
    fn error_causes_that_never_happen_are_left_out_and_the_error_rate_stays() {
        let r = report(2);
        let rows = rows(&r);
        let rejected = row(&rows, "rejected");
        assert!(rejected.breakdown);
        // The two 1-core variants reject; the 4-core one next to never (a burst may fill
        // its queue once), and still has its cell.
        let means: Vec<f64> = rejected
            .cells
            .iter()
            .map(|c| match c {
                Cell::Estimate { estimate, .. } => estimate.mean,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(
            means[0] > 0.0 && means[1] > 0.0 && means[2] < means[0] / 100.0,
            "{means:?}"
        );
        for cause in [
            "timed_out",
            "no_instance",
            "killed",
            "oom_killed",
            "interrupted",
        ] {
            assert!(!labels(&r).contains(&cause.to_string()), "{cause}");
        }
        assert!(labels(&r).contains(&"error rate".to_string()));
    }

    #[test]
    fn each_endpoint_gets_a_group_when_there_are_several() {
        let r = report(2);
        let l = labels(&r);
        for e in ["api.get", "api.put"] {
            for what in [
                "arrivals",
                "throughput (req/s)",
                "error rate",
                "latency p50",
                "latency p99",
            ] {
                assert!(l.contains(&format!("{e}: {what}")), "{e}: {what} in {l:?}");
            }
        }
        // The endpoints' arrivals add up to the run's, replication by replication, so their
        // means do too.
        let mean = |key: &str| r.variants["pool"].metrics[key].mean;
        let sum = mean("endpoints.api.get.arrivals") + mean("endpoints.api.put.arrivals");
        assert!((sum - mean("arrivals")).abs() < 1e-9);
        let text = render(&r);
        assert!(text.contains("api.put: latency p99"), "{text}");
    }

    #[test]
    fn event_loop_lag_is_shown_only_where_there_is_an_event_loop() {
        let r = report(2);
        let rows = rows(&r);
        let lag = row(&rows, "peak event-loop lag");
        // pool, node, big: only `node` runs on an event loop.
        assert!(matches!(lag.cells[0], Cell::Missing));
        assert!(matches!(lag.cells[1], Cell::Estimate { .. }));
        assert!(matches!(lag.cells[2], Cell::Missing));
        // Without an event-loop variant there is no row at all.
        let mut pools = r.clone();
        pools.variants.shift_remove("node");
        pools.runs.retain(|run| run.variant != "node");
        assert!(
            !super::rows(&pools)
                .iter()
                .any(|r| r.label == "peak event-loop lag")
        );
    }

    #[test]
    fn a_zero_interval_shows_as_plus_minus_zero_and_one_replication_shows_none() {
        let e = |half: Option<f64>| Estimate {
            mean: 3.0,
            ci95_half_width: half,
            ci95_low: half.map(|h| 3.0 - h),
            ci95_high: half.map(|h| 3.0 + h),
            n: if half.is_some() { 2 } else { 1 },
        };
        assert_eq!(
            estimate_text("services.api.instances", &e(Some(0.0))),
            "3 +- 0"
        );
        assert_eq!(estimate_text("services.api.instances", &e(None)), "3");
        assert_eq!(
            estimate_text("latency_s.p99", &e(Some(0.0))),
            "3.000 s +- 0.00 ms"
        );
        // In a real table: one instance in every replication of every variant.
        let two = report(2);
        assert!(render(&two).contains("1 +- 0"), "{}", render(&two));
        let one = report(1);
        let text = render(&one);
        let instances = text
            .lines()
            .find(|l| l.starts_with("instances (end)"))
            .unwrap();
        assert!(!instances.contains("+-"), "{instances}");
    }
}
