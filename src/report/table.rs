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
    /// One service's instances, utilisation and queues.
    Service(String),
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
            Section::Service(name) => format!("Service {name}"),
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
    /// The cell as plain text: the value, then `+- half-width` when there is an interval.
    pub fn text(&self) -> String {
        match self {
            Cell::Estimate { key, estimate } => {
                let v = fmt_value(key, estimate.mean);
                match half_width(estimate) {
                    Some(h) => format!("{v} +- {}", fmt_value(key, h)),
                    None => v,
                }
            }
            Cell::SloMet(Some(true)) => "yes".into(),
            Cell::SloMet(Some(false)) => "NO".into(),
            Cell::SloMet(None) | Cell::Missing => "-".into(),
        }
    }
}

/// The interval's half-width when there is one worth showing (none with one replication, or
/// when every replication agreed).
pub fn half_width(e: &Estimate) -> Option<f64> {
    e.ci95_half_width.filter(|h| *h > 0.0)
}

/// The rows of the summary table, in display order. Error causes, OOM kills and spot
/// interruptions appear only where some variant has them, so everyday tables stay short.
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
    for key in causes {
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
    let services: Vec<&String> = report
        .runs
        .first()
        .map(|r| r.summary.services.keys().collect())
        .unwrap_or_default();
    for s in services {
        let section = Section::Service(s.clone());
        for (label, key) in [
            ("instances (end)", "instances"),
            ("peak instances", "peak_instances"),
            ("instance-hours", "instance_hours"),
            ("scaling actions", "scaling_actions"),
            ("CPU utilisation", "cpu_utilisation"),
            ("mean queue length", "mean_queue_length"),
            ("peak queue length", "peak_queue_length"),
            ("peak event-loop lag", "peak_event_loop_lag_s"),
        ] {
            rows.push(row(&section, label, &format!("services.{s}.{key}")));
        }
        for (label, key) in [
            ("OOM kills", "oom_kills"),
            ("spot interruptions", "spot_interruptions"),
        ] {
            let name = format!("services.{s}.{key}");
            let happened = report
                .variants
                .values()
                .any(|v| v.metrics.get(&name).is_some_and(|e| e.mean > 0.0));
            if happened {
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

/// Formats by what the metric is: seconds as ms or s, fractions as %, counts as integers.
pub fn fmt_value(key: &str, v: f64) -> String {
    if key.ends_with("_s") || key.contains("latency_s.") {
        if v.abs() >= 1.0 {
            format!("{v:.3} s")
        } else {
            format!("{:.2} ms", v * 1e3)
        }
    } else if key.contains("error_rate")
        || key.ends_with("utilisation")
        || key.ends_with("probability")
    {
        format!("{:.2}%", v * 100.0)
    } else if key == "arrivals"
        || key == "completed"
        || key.ends_with("instances")
        || key.ends_with("scaling_actions")
        || key.ends_with("peak_queue_length")
    {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
