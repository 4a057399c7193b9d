//! The summary table printed after a run: one column per variant, one row per metric, with
//! the 95% interval when there are replications.

use super::Report;
use std::fmt::Write;

/// Renders the table as plain text.
pub fn render(report: &Report) -> String {
    let names: Vec<&String> = report.variants.keys().collect();
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let metric = |key: &str| -> Vec<String> {
        report
            .variants
            .values()
            .map(|v| {
                v.metrics
                    .get(key)
                    .map_or("-".to_string(), |e| fmt_est(key, e))
            })
            .collect()
    };
    let mut push = |label: &str, key: &str| rows.push((label.to_string(), metric(key)));
    push("arrivals", "arrivals");
    push("completed (ok)", "completed");
    push("throughput (req/s)", "throughput_rps");
    push("error rate", "error_rate");
    let causes: Vec<String> = report
        .variants
        .values()
        .flat_map(|v| {
            v.metrics
                .keys()
                .filter(|k| k.starts_with("error_rates."))
                .cloned()
        })
        .fold(Vec::new(), |mut acc, k| {
            if !acc.contains(&k) {
                acc.push(k);
            }
            acc
        });
    for key in &causes {
        let cause = key.trim_start_matches("error_rates.");
        rows.push((format!("  {cause}"), metric(key)));
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
        rows.push((label.to_string(), metric(&format!("latency_s.{q}"))));
    }
    let services: Vec<String> = report
        .runs
        .first()
        .map(|r| r.summary.services.keys().cloned().collect())
        .unwrap_or_default();
    for s in &services {
        let prefix = if services.len() > 1 {
            format!("{s}: ")
        } else {
            String::new()
        };
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
            rows.push((
                format!("{prefix}{label}"),
                metric(&format!("services.{s}.{key}")),
            ));
        }
        // Shown only where they happened, so everyday tables stay short.
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
                rows.push((format!("{prefix}{label}"), metric(&name)));
            }
        }
    }
    if report
        .variants
        .values()
        .any(|v| v.metrics.contains_key("cost_usd"))
    {
        rows.push(("cost (USD)".into(), metric("cost_usd")));
        rows.push((
            "cost per 1M ok (USD)".into(),
            metric("cost_per_million_ok_usd"),
        ));
    }
    if report.variants.values().any(|v| v.slo_met.is_some()) {
        rows.push((
            "SLO violation (min)".into(),
            metric("slo.violation_minutes"),
        ));
        rows.push((
            "SLO met".into(),
            report
                .variants
                .values()
                .map(|v| match v.slo_met {
                    Some(true) => "yes".into(),
                    Some(false) => "NO".into(),
                    None => "-".into(),
                })
                .collect(),
        ));
    }
    let label_w = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0)
        .max(6);
    let col_w: Vec<usize> = (0..names.len())
        .map(|i| {
            rows.iter()
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
    for (label, cells) in rows {
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
    out
}

fn fmt_est(key: &str, e: &crate::experiment::stats::Estimate) -> String {
    let v = fmt_value(key, e.mean);
    match e.ci95_half_width {
        Some(h) if h > 0.0 => format!("{v} +- {}", fmt_value(key, h)),
        _ => v,
    }
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
