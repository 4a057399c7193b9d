//! The comparison as a terminal table, Markdown (for pull requests and wikis) or JSON.

use super::threshold::{Check, Compared};
use super::{Comparison, MetricDifference};
use crate::experiment::stats::{Estimate, Test};
use crate::report::table::{fmt_value, half_width};
use serde::Serialize;
use std::fmt::Write;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned plain text.
    Table,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// Everything, as JSON.
    Json,
}

/// Renders the comparison and the threshold checks.
pub fn render(c: &Comparison, checks: &[Check], format: Format) -> String {
    match format {
        Format::Json => json(c, checks),
        Format::Table => text(c, checks, false),
        Format::Markdown => text(c, checks, true),
    }
}

#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    checks: &'a [Check],
    passed: bool,
}

fn json(c: &Comparison, checks: &[Check]) -> String {
    let mut s = serde_json::to_string_pretty(&JsonOut {
        comparison: c,
        checks,
        passed: checks.iter().all(|k| !k.breached),
    })
    .expect("a comparison serializes");
    s.push('\n');
    s
}

fn text(c: &Comparison, checks: &[Check], markdown: bool) -> String {
    let base = &c.subjects[0].label;
    let mut out = String::new();
    // Two subjects make one table; more make one table per candidate, so that each stays
    // narrow enough for a terminal.
    for (k, (s, t)) in c.subjects[1..].iter().zip(&c.tests).enumerate() {
        if c.subjects.len() > 2 {
            if k > 0 {
                out.push('\n');
            }
            let title = format!("{} vs {}", s.label, base);
            if markdown {
                let _ = writeln!(out, "### {title}\n");
            } else {
                let _ = writeln!(out, "{title}\n");
            }
        }
        let mut rows = vec![vec![
            "metric".to_string(),
            base.clone(),
            s.label.clone(),
            "difference [95% CI]".into(),
            "change".into(),
            "p".into(),
        ]];
        for m in &c.metrics {
            let mut row = vec![
                m.metric.clone(),
                est(&m.metric, m.values[0].as_ref()),
                est(&m.metric, m.values[k + 1].as_ref()),
            ];
            match &m.differences[k] {
                Some(d) => {
                    row.push(diff(&m.metric, d));
                    row.push(
                        d.relative
                            .map_or("-".into(), |r| format!("{:+.1}%", 100.0 * r)),
                    );
                    let mark = if d.significant { " *" } else { "" };
                    row.push(
                        d.difference
                            .p_value
                            .map_or("n/a".into(), |p| format!("{}{mark}", p_value(p))),
                    );
                }
                None => row.extend(["-".to_string(), "-".to_string(), "-".to_string()]),
            }
            rows.push(row);
        }
        out.push_str(&if markdown {
            markdown_table(&rows)
        } else {
            crate::report::table::aligned(&rows, 0)
        });
        let _ = writeln!(
            out,
            "{}{} over {} replication(s): {}.",
            if markdown { "\n" } else { "" },
            capitalise(t.test.name()),
            s.replications.min(c.subjects[0].replications),
            t.reason
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{}Values are means +- 95% confidence half-widths; the difference is candidate minus baseline ({base}); * marks p < {} (two-sided). n/a: one replication cannot be tested; run more.",
        bullet(markdown),
        c.alpha
    );
    if c.tests.iter().any(|t| t.test == Test::Paired) {
        let _ = writeln!(
            out,
            "{}Paired runs share their random numbers (common random numbers), so differences are sharper than independent runs would give.",
            bullet(markdown)
        );
    }
    let tested = c.metrics.len() * c.tests.len();
    if tested > 5 {
        let _ = writeln!(
            out,
            "{}With {tested} differences tested at {}, about {:.1} may be flagged by chance alone.",
            bullet(markdown),
            c.alpha,
            c.alpha * tested as f64
        );
    }
    if !checks.is_empty() {
        out.push('\n');
        let breached: Vec<&Check> = checks.iter().filter(|k| k.breached).collect();
        if breached.is_empty() {
            let _ = writeln!(
                out,
                "{}All {} threshold check(s) passed.",
                bullet(markdown),
                checks.len()
            );
        }
        for k in breached {
            let _ = writeln!(
                out,
                "{}FAILED {}: {} {} is {}{}",
                bullet(markdown),
                k.rule,
                k.candidate,
                k.metric,
                observed(k),
                match k.significant {
                    Some(true) => " (significant)",
                    Some(false) => " (not significant)",
                    None => "",
                }
            );
        }
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn bullet(markdown: bool) -> &'static str {
    if markdown { "- " } else { "" }
}

fn observed(k: &Check) -> String {
    match k.compared {
        Compared::RelativeChange => format!("{:+.1}% from the baseline", 100.0 * k.observed),
        Compared::Change => format!("{} from the baseline", signed(&k.metric, k.observed)),
        Compared::Level => num(&k.metric, k.observed),
    }
}

fn signed(metric: &str, v: f64) -> String {
    let sign = if v > 0.0 { "+" } else { "" };
    format!("{sign}{}", num(metric, v))
}

fn est(metric: &str, e: Option<&Estimate>) -> String {
    match e {
        None => "-".into(),
        // As in the run table: `+- 0` where every replication agreed, nothing where there is
        // no interval (one replication).
        Some(e) => match half_width(e) {
            Some(h) => format!("{} +- {}", num(metric, e.mean), num(metric, h)),
            None => num(metric, e.mean),
        },
    }
}

fn diff(metric: &str, d: &MetricDifference) -> String {
    let m = signed(metric, d.difference.mean);
    match (d.difference.ci95_low, d.difference.ci95_high) {
        (Some(lo), Some(hi)) if lo != hi => {
            format!("{m} [{}, {}]", num(metric, lo), num(metric, hi))
        }
        _ => m,
    }
}

/// Like the run table's formatting, but keeps fractions of counts (a mean over replications
/// of 3 and 4 instances is 3.5, and a difference of 0.5 should not print as 1).
fn num(metric: &str, v: f64) -> String {
    let s = fmt_value(metric, v);
    if v.fract() != 0.0 && !s.contains('.') && !s.contains(' ') && !s.contains('%') {
        format!("{v:.2}")
    } else {
        s
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn markdown_table(rows: &[Vec<String>]) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        out.push('|');
        for cell in row {
            let _ = write!(out, " {} |", esc(cell));
        }
        out.push('\n');
        if n == 0 {
            out.push('|');
            for i in 0..row.len() {
                out.push_str(if i == 0 { "---|" } else { "---:|" });
            }
            out.push('\n');
        }
    }
    out
}
