//! What `surge sweep` prints once its files are written: a table with one row per point x
//! variant (the swept values, then the headline metrics as mean +- 95% half-width, as the run
//! table shows them), and, when the experiment has an SLO, the answer to the question a sweep
//! is usually run for, per variant:
//! - over a load parameter (a rate, `*rps`, or closed-loop `connections`): the highest value
//!   that meets the SLO;
//! - over a capacity parameter (`replicas`, `min_replicas`, `max_replicas`, `cores`,
//!   `workers`): the fewest that meets it;
//! - otherwise: the cheapest point that meets it (by cost when priced, else instance-hours).
//!
//! A point meets the SLO when every one of its replications did. The first swept load or
//! capacity parameter is the one answered; with other parameters in a grid, the answer is
//! given for each combination of their values.

use super::{PointReport, PointVariant, SweepReport};
use crate::experiment::stats::{Estimate, estimate};
use crate::report::aliases;
use crate::report::table::estimate_text;
use serde_json::Value;
use std::fmt::Write;

/// A metric asked for that the sweep does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no metric \"{name}\" in the sweep; use an alias ({aliases}) or a flat name or `*` pattern it has: {available}",
    aliases = aliases::names(),
    available = .available.join(", ")
)]
pub struct UnknownMetric {
    /// As asked for.
    pub name: String,
    /// Every metric the sweep has, in order.
    pub available: Vec<String>,
}

/// What the answer is about: the parameter answered and its direction, or the cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// The highest value of this load parameter that meets the SLO.
    HighestLoad(String),
    /// The fewest of this capacity parameter that meets the SLO.
    FewestCapacity(String),
    /// The cheapest point that meets the SLO.
    Cheapest,
}

/// The sweep's answer for one variant (and one combination of the other parameters' values).
/// Points are positions in [`SweepReport::points`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No point meets the SLO.
    NoneMeets,
    /// Every point meets it; `best` is the answer within the swept range, which should be
    /// wider to find the limit.
    EveryPointMeets {
        /// The highest load, the fewest instances, or the cheapest point.
        best: usize,
    },
    /// Points up to `best` (from the easiest: lowest load, most capacity) meet the SLO and
    /// `next`, the next harder one, does not; `again` are harder points that meet it again.
    Limit {
        /// The last point that meets the SLO with every easier point meeting it too.
        best: usize,
        /// The first that does not.
        next: usize,
        /// Harder points than `next` that meet it nonetheless.
        again: Vec<usize>,
    },
    /// The easiest point misses the SLO, yet `meeting` (harder ones) meet it.
    EasiestFails {
        /// The easiest point.
        easiest: usize,
        /// Those that meet it.
        meeting: Vec<usize>,
    },
    /// Some points meet the SLO and `best` is the cheapest of them.
    Cheapest {
        /// The cheapest point that meets it.
        best: usize,
    },
}

/// Values of the parameters an answer holds fixed, by path.
pub type Fixed = Vec<(String, Value)>;

/// One answer: which variant, at which values of the parameters not answered, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The variant.
    pub variant: String,
    /// The other parameters' values this answer holds for (empty when there are none, or in
    /// a zip, where they move with the answered one).
    pub fixed: Fixed,
    /// What was asked.
    pub question: Question,
    /// What the sweep found.
    pub verdict: Verdict,
}

/// The summary with the headline metrics: throughput, error rate, p99, then cost when
/// priced, else instance-hours (summed over services), and whether the SLO was met.
pub fn render(report: &SweepReport) -> String {
    render_columns(report, &headline(report))
}

/// The summary with the metrics named in `metrics` (aliases, flat names or `*` patterns, each
/// a column per metric it stands for) instead of the headline ones.
pub fn render_metrics(report: &SweepReport, metrics: &[String]) -> Result<String, UnknownMetric> {
    if metrics.is_empty() {
        return Ok(render(report));
    }
    let available = available(report);
    let mut columns = Vec::new();
    for name in metrics {
        let found = aliases::resolve(name, available.iter().map(String::as_str));
        if found.is_empty() {
            return Err(UnknownMetric {
                name: name.clone(),
                available,
            });
        }
        for m in found {
            if !columns.iter().any(|c: &Column| c.label == m) {
                columns.push(Column {
                    label: m.clone(),
                    source: Source::Flat(m),
                });
            }
        }
    }
    if has_slo(report) {
        columns.push(Column {
            label: "SLO met".into(),
            source: Source::SloMet,
        });
    }
    Ok(render_columns(report, &columns))
}

/// Every metric the sweep has, in order of first appearance.
fn available(report: &SweepReport) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in report.points.iter().flat_map(|p| p.variants.values()) {
        for k in v.metrics.keys() {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    out
}

/// Where a column's values come from.
#[derive(Debug, Clone)]
enum Source {
    /// A flat metric's estimate.
    Flat(String),
    /// Instance-hours summed over services, run by run, then estimated.
    InstanceHours,
    /// Whether every replication met the SLO.
    SloMet,
}

#[derive(Debug, Clone)]
struct Column {
    label: String,
    source: Source,
}

fn headline(report: &SweepReport) -> Vec<Column> {
    let available = available(report);
    let mut columns: Vec<Column> = [
        ("throughput (req/s)", "throughput"),
        ("error rate", "errors"),
        ("latency p99", "p99"),
    ]
    .into_iter()
    .filter_map(|(label, alias)| {
        let m = aliases::resolve(alias, available.iter().map(String::as_str));
        m.into_iter().next().map(|m| Column {
            label: label.into(),
            source: Source::Flat(m),
        })
    })
    .collect();
    if priced(report) {
        columns.push(Column {
            label: "cost (USD)".into(),
            source: Source::Flat("cost_usd".into()),
        });
    } else {
        columns.push(Column {
            label: "instance-hours".into(),
            source: Source::InstanceHours,
        });
    }
    if has_slo(report) {
        columns.push(Column {
            label: "SLO met".into(),
            source: Source::SloMet,
        });
    }
    columns
}

fn priced(report: &SweepReport) -> bool {
    report
        .points
        .iter()
        .flat_map(|p| p.variants.values())
        .any(|v| v.metrics.contains_key("cost_usd"))
}

fn has_slo(report: &SweepReport) -> bool {
    report
        .points
        .iter()
        .flat_map(|p| p.variants.values())
        .flat_map(|v| &v.runs)
        .any(|r| r.slo_met.is_some())
}

/// Instance-hours of every service, summed run by run, with the interval over replications.
fn instance_hours(v: &PointVariant) -> Option<Estimate> {
    let totals: Vec<f64> = v
        .runs
        .iter()
        .map(|r| {
            aliases::resolve("instance_hours", r.metrics.keys().map(String::as_str))
                .iter()
                .map(|k| r.metrics[k])
                .sum()
        })
        .collect();
    (!totals.is_empty()).then(|| estimate(&totals))
}

/// Whether every replication of `v` met the SLO (false for a variant without runs).
fn meets(v: &PointVariant) -> bool {
    !v.runs.is_empty() && v.runs.iter().all(|r| r.slo_met == Some(true))
}

fn slo_text(v: &PointVariant) -> String {
    let met = v.runs.iter().filter(|r| r.slo_met == Some(true)).count();
    if v.runs.iter().all(|r| r.slo_met.is_none()) {
        "-".into()
    } else if met == v.runs.len() {
        "yes".into()
    } else {
        // How close it came: a point that failed one replication in five is nearer the limit
        // than one that failed them all.
        format!("NO ({met}/{})", v.runs.len())
    }
}

fn cell(v: &PointVariant, source: &Source) -> String {
    match source {
        Source::Flat(m) => v.metrics.get(m).map_or("-".into(), |e| estimate_text(m, e)),
        Source::InstanceHours => {
            instance_hours(v).map_or("-".into(), |e| estimate_text("instance_hours", &e))
        }
        Source::SloMet => slo_text(v),
    }
}

/// Each parameter's name in the table: the shortest tail of its path (whole segments) that no
/// other parameter's path ends with, so `workload[0].rate.rps` is `rps` and two `replicas`
/// become `api.replicas` and `db.replicas`.
fn short_names(paths: &[String]) -> Vec<String> {
    let segments: Vec<Vec<&str>> = paths.iter().map(|p| p.split('.').collect()).collect();
    let tail = |s: &[&str], k: usize| s[s.len().saturating_sub(k)..].join(".");
    segments
        .iter()
        .enumerate()
        .map(|(i, mine)| {
            (1..=mine.len())
                .map(|k| (k, tail(mine, k)))
                .find(|(k, t)| {
                    segments
                        .iter()
                        .enumerate()
                        .all(|(j, other)| j == i || tail(other, *k) != *t)
                })
                .map_or_else(|| paths[i].clone(), |(_, t)| t)
        })
        .collect()
}

/// The table's name for the parameter at `path`.
fn short(report: &SweepReport, path: &str) -> String {
    let names = short_names(&report.parameters);
    report
        .parameters
        .iter()
        .position(|p| p == path)
        .map_or_else(|| path.to_string(), |i| names[i].clone())
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn render_columns(report: &SweepReport, columns: &[Column]) -> String {
    let mut header = vec!["point".to_string()];
    let names = short_names(&report.parameters);
    header.extend(names.iter().cloned());
    header.push("variant".into());
    header.extend(columns.iter().map(|c| c.label.clone()));
    let variant_column = report.parameters.len() + 1;
    let mut rows = vec![header];
    for p in &report.points {
        for (name, v) in &p.variants {
            let mut row = vec![p.index.to_string()];
            row.extend(
                report
                    .parameters
                    .iter()
                    .map(|k| p.parameters.get(k).map_or("-".into(), value_text)),
            );
            row.push(name.clone());
            row.extend(columns.iter().map(|c| cell(v, &c.source)));
            rows.push(row);
        }
    }
    let mut out = crate::report::table::aligned(&rows, variant_column);
    let batches = report
        .points
        .first()
        .and_then(|p| p.variants.values().next())
        .and_then(|v| v.runs.first())
        .is_some_and(|r| r.batch_means.is_some());
    let intervals = if report.replications > 1 {
        format!(
            "means over {} replications, +- the 95% confidence half-width",
            report.replications
        )
    } else if batches {
        "one replication: throughput, errors and latency +- the 95% half-width of its batch means"
            .to_string()
    } else {
        "one replication, so no intervals".to_string()
    };
    let slo = if has_slo(report) {
        "; SLO met: yes when every replication met it, else how many did"
    } else {
        ""
    };
    let _ = writeln!(out, "({intervals}{slo})");
    let renamed: Vec<String> = names
        .iter()
        .zip(&report.parameters)
        .filter(|(n, p)| n != p)
        .map(|(n, p)| format!("{n} is {p}"))
        .collect();
    if !renamed.is_empty() {
        let _ = writeln!(out, "(swept: {})", renamed.join("; "));
    }
    if let Some((k, n)) = report.shard {
        let _ = writeln!(
            out,
            "(shard {k}/{n} holds part of the runs: `surge merge` the shards for the whole sweep)"
        );
        return out;
    }
    if !has_slo(report) {
        out.push_str(
            "(no SLO in the experiment: add an `slo` and the sweep says which points meet it)\n",
        );
        return out;
    }
    let found = answers(report);
    if let Some(first) = found.first() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{} (a point meets it when every replication does):",
            match &first.question {
                Question::HighestLoad(p) => {
                    format!("Highest {} that meets the SLO", short(report, p))
                }
                Question::FewestCapacity(p) => {
                    format!("Fewest {} that meets the SLO", short(report, p))
                }
                Question::Cheapest => format!("Cheapest point that meets the SLO, by {}", {
                    if priced(report) {
                        "cost"
                    } else {
                        "instance-hours"
                    }
                }),
            }
        );
        for a in &found {
            let _ = writeln!(out, "  {}", sentence(report, a));
        }
    }
    out
}

/// An answer in words: `variant[, fixed = value]: what was found`.
fn sentence(report: &SweepReport, a: &Answer) -> String {
    let mut who = a.variant.clone();
    for (k, v) in &a.fixed {
        let _ = write!(who, ", {} = {}", short(report, k), value_text(v));
    }
    let answered = match &a.question {
        Question::HighestLoad(p) | Question::FewestCapacity(p) => Some(p.as_str()),
        Question::Cheapest => None,
    };
    let value = |i: usize| match answered {
        Some(p) => report.points[i]
            .parameters
            .get(p)
            .map_or("-".into(), value_text),
        None => point_text(report, i, &a.variant),
    };
    let list = |points: &[usize]| points.iter().map(|i| value(*i)).collect::<Vec<_>>();
    let what = match &a.verdict {
        Verdict::NoneMeets => "none of the points meets the SLO".to_string(),
        Verdict::EveryPointMeets { best } => match &a.question {
            Question::HighestLoad(_) => format!(
                "every point meets it, up to {} (try a wider range)",
                value(*best)
            ),
            Question::FewestCapacity(_) => format!(
                "every point meets it, down to {} (try a wider range)",
                value(*best)
            ),
            Question::Cheapest => format!(
                "every point meets it (try a wider range); the cheapest is {}",
                value(*best)
            ),
        },
        Verdict::Limit { best, next, again } => {
            let mut s = format!("{} ({} does not", value(*best), value(*next));
            if !again.is_empty() {
                let _ = write!(
                    s,
                    "; {} meets it again, so the limit is not sharp at these replications",
                    list(again).join(", ")
                );
            }
            s.push(')');
            s
        }
        Verdict::EasiestFails { easiest, meeting } => format!(
            "the easiest point, {}, does not meet it, though {} does",
            value(*easiest),
            list(meeting).join(", ")
        ),
        Verdict::Cheapest { best } => value(*best),
    };
    format!("{who}: {what}")
}

/// A point for the cheapest answer: its swept values and its cost.
fn point_text(report: &SweepReport, i: usize, variant: &str) -> String {
    let p = &report.points[i];
    let values = report
        .parameters
        .iter()
        .map(|k| {
            format!(
                "{} = {}",
                short(report, k),
                p.parameters.get(k).map_or("-".into(), value_text)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let cost = p
        .variants
        .get(variant)
        .map_or(String::new(), |v| match v.metrics.get("cost_usd") {
            Some(e) => format!(": {} USD", estimate_text("cost_usd", e)),
            None => instance_hours(v).map_or(String::new(), |e| {
                format!(": {} instance-hours", estimate_text("instance_hours", &e))
            }),
        });
    format!("point {} ({values}){cost}", p.index)
}

/// How a swept parameter bears on the SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// More of it is harder: a rate or a number of connections.
    Load,
    /// More of it is easier: instances, cores, workers.
    Capacity,
    /// Anything else.
    Other,
}

/// What a parameter is, by the last segment of its path.
fn kind(path: &str) -> Kind {
    let last = path.rsplit('.').next().unwrap_or(path);
    let last = last.split('[').next().unwrap_or(last);
    if last.ends_with("rps") || last == "connections" {
        Kind::Load
    } else if [
        "replicas",
        "min_replicas",
        "max_replicas",
        "cores",
        "workers",
    ]
    .contains(&last)
    {
        Kind::Capacity
    } else {
        Kind::Other
    }
}

/// The sweep's answers, per variant and (in a grid) per combination of the parameters not
/// answered, in variant order then first appearance. Empty without an SLO, or for a shard.
pub fn answers(report: &SweepReport) -> Vec<Answer> {
    if report.shard.is_some() || !has_slo(report) {
        return Vec::new();
    }
    let numeric = |p: &String| {
        report
            .points
            .iter()
            .all(|pt| pt.parameters.get(p).is_some_and(Value::is_number))
    };
    let answered = report
        .parameters
        .iter()
        .find(|p| kind(p) != Kind::Other && numeric(p));
    let question = match answered {
        Some(p) if kind(p) == Kind::Load => Question::HighestLoad(p.clone()),
        Some(p) => Question::FewestCapacity(p.clone()),
        None => Question::Cheapest,
    };
    // Groups of points that differ only in the answered parameter.
    let others: Vec<&String> = match (&question, report.mode.as_str()) {
        (Question::Cheapest, _) | (_, "zip") => Vec::new(),
        _ => report
            .parameters
            .iter()
            .filter(|p| Some(*p) != answered)
            .collect(),
    };
    let mut groups: Vec<(Fixed, Vec<usize>)> = Vec::new();
    for (i, p) in report.points.iter().enumerate() {
        let fixed: Fixed = others
            .iter()
            .map(|k| {
                (
                    (*k).clone(),
                    p.parameters.get(*k).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
        match groups.iter_mut().find(|(f, _)| *f == fixed) {
            Some((_, members)) => members.push(i),
            None => groups.push((fixed, vec![i])),
        }
    }
    let mut out = Vec::new();
    for variant in &report.variants {
        for (fixed, members) in &groups {
            let members: Vec<usize> = members
                .iter()
                .copied()
                .filter(|i| report.points[*i].variants.contains_key(variant))
                .collect();
            if members.is_empty() {
                continue;
            }
            let verdict = match answered {
                Some(p) => along(&report.points, &members, variant, p, kind(p))
                    .unwrap_or_else(|| cheapest(&report.points, &members, variant)),
                None => cheapest(&report.points, &members, variant),
            };
            out.push(Answer {
                variant: variant.clone(),
                fixed: fixed.clone(),
                question: question.clone(),
                verdict,
            });
        }
    }
    out
}

/// The verdict along one parameter: the points ordered from the easiest (lowest load, most
/// capacity) to the hardest. None when two points share a value, so there is no order.
fn along(
    points: &[PointReport],
    members: &[usize],
    variant: &str,
    parameter: &str,
    kind: Kind,
) -> Option<Verdict> {
    let value = |i: usize| {
        points[i]
            .parameters
            .get(parameter)
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let mut order = members.to_vec();
    order.sort_by(|a, b| value(*a).total_cmp(&value(*b)));
    if kind == Kind::Capacity {
        order.reverse();
    }
    if order.windows(2).any(|w| value(w[0]) == value(w[1])) {
        return None;
    }
    let met: Vec<bool> = order
        .iter()
        .map(|i| meets(&points[*i].variants[variant]))
        .collect();
    let verdict = if met.iter().all(|m| !m) {
        Verdict::NoneMeets
    } else if met.iter().all(|m| *m) {
        Verdict::EveryPointMeets {
            best: *order.last().expect("a group has points"),
        }
    } else if !met[0] {
        Verdict::EasiestFails {
            easiest: order[0],
            meeting: order
                .iter()
                .zip(&met)
                .filter(|(_, m)| **m)
                .map(|(i, _)| *i)
                .collect(),
        }
    } else {
        let first_miss = met.iter().position(|m| !m).expect("some point misses");
        Verdict::Limit {
            best: order[first_miss - 1],
            next: order[first_miss],
            again: order[first_miss + 1..]
                .iter()
                .zip(&met[first_miss + 1..])
                .filter(|(_, m)| **m)
                .map(|(i, _)| *i)
                .collect(),
        }
    };
    Some(verdict)
}

/// The cheapest of `members` that meets the SLO: by mean cost where the variant is priced at
/// both points, else by mean instance-hours; the first in point order on a tie.
fn cheapest(points: &[PointReport], members: &[usize], variant: &str) -> Verdict {
    let price = |i: usize| {
        let v = &points[i].variants[variant];
        match v.metrics.get("cost_usd") {
            Some(e) => (0, e.mean),
            None => (1, instance_hours(v).map_or(f64::INFINITY, |e| e.mean)),
        }
    };
    let meeting: Vec<usize> = members
        .iter()
        .copied()
        .filter(|i| meets(&points[*i].variants[variant]))
        .collect();
    let Some(best) = meeting.iter().copied().reduce(|best, i| {
        let (a, b) = (price(best), price(i));
        if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) {
            i
        } else {
            best
        }
    }) else {
        return Verdict::NoneMeets;
    };
    if meeting.len() == members.len() {
        Verdict::EveryPointMeets { best }
    } else {
        Verdict::Cheapest { best }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::estimates;
    use crate::sweep::RunMetrics;
    use indexmap::IndexMap;
    use serde_json::json;

    /// A variant at a point: one run per entry of `met` (did that replication meet the SLO),
    /// each costing `cost` and taking one instance-hour per replica.
    fn variant(met: &[bool], cost: f64) -> PointVariant {
        let runs: Vec<RunMetrics> = met
            .iter()
            .enumerate()
            .map(|(r, m)| RunMetrics {
                replication: r as u32,
                metrics: IndexMap::from([
                    ("throughput_rps".to_string(), 100.0 + r as f64),
                    ("error_rate".to_string(), 0.0),
                    ("latency_s.p99".to_string(), 0.05),
                    ("services.api.instance_hours".to_string(), cost),
                    ("services.db.instance_hours".to_string(), 1.0),
                ]),
                slo_met: Some(*m),
                batch_means: None,
            })
            .collect();
        PointVariant {
            metrics: estimates(&runs.iter().map(|r| &r.metrics).collect::<Vec<_>>(), None),
            runs,
        }
    }

    /// A sweep over `parameters`; each point gives its values and, per variant in order
    /// (`a`, then `b` when given), its replications' verdicts and cost.
    fn sweep(
        parameters: &[&str],
        mode: &str,
        points: Vec<(Vec<Value>, Vec<PointVariant>)>,
    ) -> SweepReport {
        let names = ["a", "b"];
        let variants = points[0].1.len();
        SweepReport {
            experiment: "t".into(),
            description: None,
            surge_version: "0".into(),
            seed: 1,
            replications: points[0].1[0].runs.len() as u32,
            mode: mode.into(),
            parameters: parameters.iter().map(|p| p.to_string()).collect(),
            variants: names[..variants].iter().map(|v| v.to_string()).collect(),
            total_runs: 0,
            shard: None,
            slo: None,
            clients: Vec::new(),
            points: points
                .into_iter()
                .enumerate()
                .map(|(index, (values, vs))| PointReport {
                    index,
                    parameters: parameters
                        .iter()
                        .map(|p| p.to_string())
                        .zip(values)
                        .collect(),
                    variants: names.iter().map(|n| n.to_string()).zip(vs).collect(),
                })
                .collect(),
        }
    }

    const RPS: &str = "workload[0].rate.rps";
    const REPLICAS: &str = "model.services.api.replicas";

    /// A sweep of one parameter with one variant: each value with its replications' verdicts.
    fn one(parameter: &str, points: &[(i64, &[bool])]) -> SweepReport {
        sweep(
            &[parameter],
            "grid",
            points
                .iter()
                .map(|(v, met)| (vec![json!(v)], vec![variant(met, *v as f64)]))
                .collect(),
        )
    }

    fn verdicts(report: &SweepReport) -> Vec<Verdict> {
        answers(report).into_iter().map(|a| a.verdict).collect()
    }

    #[test]
    fn over_a_rate_the_answer_is_the_highest_value_met_with_every_lower_one() {
        let r = one(
            RPS,
            &[
                (100, &[true, true]),
                (200, &[true, true]),
                (300, &[true, false]),
                (400, &[false, false]),
            ],
        );
        let a = answers(&r);
        assert_eq!(a[0].question, Question::HighestLoad(RPS.into()));
        assert_eq!(
            a[0].verdict,
            Verdict::Limit {
                best: 1,
                next: 2,
                again: vec![]
            }
        );
        let text = render(&r);
        assert!(
            text.contains("Highest rps that meets the SLO")
                && text.contains("(swept: rps is workload[0].rate.rps)"),
            "{text}"
        );
        assert!(text.contains("  a: 200 (300 does not)"), "{text}");
        // One replication in two missing it is a miss, and the table says how close it came.
        assert!(text.contains("NO (1/2)"), "{text}");
        assert!(
            text.contains("SLO met: yes when every replication met it"),
            "{text}"
        );
    }

    #[test]
    fn the_points_are_ordered_by_value_not_by_position() {
        let r = one(RPS, &[(300, &[false]), (100, &[true]), (200, &[true])]);
        assert_eq!(
            verdicts(&r),
            [Verdict::Limit {
                best: 2,
                next: 0,
                again: vec![]
            }]
        );
    }

    #[test]
    fn over_replicas_the_answer_is_the_fewest_that_meets_it() {
        let r = one(
            REPLICAS,
            &[(1, &[false]), (2, &[false]), (3, &[true]), (4, &[true])],
        );
        let a = answers(&r);
        assert_eq!(a[0].question, Question::FewestCapacity(REPLICAS.into()));
        // From the most capacity down: 4 and 3 meet it, 2 is the first that does not.
        assert_eq!(
            a[0].verdict,
            Verdict::Limit {
                best: 2,
                next: 1,
                again: vec![]
            }
        );
        assert!(render(&r).contains("  a: 3 (2 does not)"));
        for p in [
            "model.services.api.autoscaler.max_replicas",
            "model.services.api.instance.cores",
        ] {
            assert_eq!(kind(p), Kind::Capacity, "{p}");
        }
        for p in ["workload[0].rate.to_rps", "workload[1].connections"] {
            assert_eq!(kind(p), Kind::Load, "{p}");
        }
    }

    #[test]
    fn none_every_and_the_easiest_failing_are_said_so() {
        let none = one(RPS, &[(100, &[false]), (200, &[false])]);
        assert_eq!(verdicts(&none), [Verdict::NoneMeets]);
        assert!(render(&none).contains("a: none of the points meets the SLO"));
        let every = one(RPS, &[(100, &[true]), (200, &[true])]);
        assert_eq!(verdicts(&every), [Verdict::EveryPointMeets { best: 1 }]);
        assert!(render(&every).contains("a: every point meets it, up to 200 (try a wider range)"));
        let fewest = one(REPLICAS, &[(2, &[true]), (3, &[true])]);
        assert!(render(&fewest).contains("every point meets it, down to 2 (try a wider range)"));
        let odd = one(RPS, &[(100, &[false]), (200, &[true])]);
        assert_eq!(
            verdicts(&odd),
            [Verdict::EasiestFails {
                easiest: 0,
                meeting: vec![1]
            }]
        );
        // Met again above the first miss: the limit is the first miss, and the rest is named.
        let noisy = one(RPS, &[(100, &[true]), (200, &[false]), (300, &[true])]);
        assert_eq!(
            verdicts(&noisy),
            [Verdict::Limit {
                best: 0,
                next: 1,
                again: vec![2]
            }]
        );
        assert!(render(&noisy).contains("100 (200 does not; 300 meets it again"));
    }

    #[test]
    fn over_anything_else_the_answer_is_the_cheapest_point_that_meets_it() {
        let target = "model.services.api.autoscaler.target_utilization";
        // Instance-hours (api's cost plus db's one hour) of 5, 3, 4: the 3 misses the SLO.
        let r = sweep(
            &[target],
            "grid",
            vec![
                (
                    vec![json!(40)],
                    vec![variant(&[true], 4.0), variant(&[true], 4.0)],
                ),
                (
                    vec![json!(60)],
                    vec![variant(&[false], 2.0), variant(&[true], 2.0)],
                ),
                (
                    vec![json!(80)],
                    vec![variant(&[true], 3.0), variant(&[true], 3.0)],
                ),
            ],
        );
        assert_eq!(
            verdicts(&r),
            [
                Verdict::Cheapest { best: 2 },
                Verdict::EveryPointMeets { best: 1 }
            ]
        );
        let text = render(&r);
        assert!(
            text.contains("Cheapest point that meets the SLO, by instance-hours"),
            "{text}"
        );
        assert!(
            text.contains("  a: point 2 (target_utilization = 80): 4.00 instance-hours"),
            "{text}"
        );
        assert!(
            text.contains("b: every point meets it (try a wider range); the cheapest is point 1"),
            "{text}"
        );
        // The headline columns: instance-hours summed over services when nothing is priced.
        let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            header[header.len() - 3..],
            ["instance-hours", "SLO", "met"],
            "{text}"
        );
    }

    #[test]
    fn in_a_grid_the_answer_is_given_for_each_value_of_the_other_parameters() {
        let point = |replicas: i64, rps: i64, met: bool| {
            (
                vec![json!(replicas), json!(rps)],
                vec![variant(&[met], 1.0)],
            )
        };
        let r = sweep(
            &[REPLICAS, RPS],
            "grid",
            vec![
                point(2, 100, true),
                point(2, 200, false),
                point(3, 100, true),
                point(3, 200, true),
            ],
        );
        let a = answers(&r);
        // The first load or capacity parameter is answered: fewest replicas, per rate.
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].fixed, [(RPS.to_string(), json!(100))]);
        assert_eq!(a[0].verdict, Verdict::EveryPointMeets { best: 0 });
        assert_eq!(
            a[1].verdict,
            Verdict::Limit {
                best: 3,
                next: 1,
                again: vec![]
            }
        );
        assert!(render(&r).contains("a, rps = 200: 3 (2 does not)"));
    }

    #[test]
    fn parameters_are_named_by_the_shortest_tail_of_their_path_that_is_unique() {
        let paths = [
            "model.services.api.replicas",
            "model.services.db.replicas",
            "workload[0].rate.rps",
            "rps",
        ]
        .map(String::from);
        assert_eq!(
            short_names(&paths),
            ["api.replicas", "db.replicas", "rate.rps", "rps"]
        );
    }

    #[test]
    fn the_table_has_a_row_per_point_and_variant_with_intervals() {
        let r = sweep(
            &[RPS],
            "grid",
            vec![
                (
                    vec![json!(100)],
                    vec![variant(&[true, true], 1.0), variant(&[true, true], 1.0)],
                ),
                (
                    vec![json!(200)],
                    vec![variant(&[true, true], 1.0), variant(&[true, false], 1.0)],
                ),
            ],
        );
        let text = render(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("point  rps  variant"), "{text}");
        assert!(lines[1].chars().all(|c| c == '-'));
        assert_eq!(lines[2..6].iter().filter(|l| l.contains("+-")).count(), 4);
        // Throughput 100 and 101 over two replications: mean 100.5, half-width t(0.975, 1) x 0.5.
        assert!(lines[2].contains("100.50 +- 6.35"), "{text}");
        // Every replication agreed on the error rate: +- 0, not nothing.
        assert!(lines[2].contains("0.00% +- 0.00%"), "{text}");
        assert!(lines[5].ends_with("NO (1/2)"), "{text}");
        assert!(text.contains("(means over 2 replications, +- the 95% confidence half-width"));
    }

    #[test]
    fn metrics_are_chosen_by_alias_and_an_unknown_one_is_refused() {
        let r = one(RPS, &[(100, &[true])]);
        let text = render_metrics(&r, &["p99".into(), "instance_hours".into()]).unwrap();
        assert!(
            text.lines().next().unwrap().ends_with(
                "latency_s.p99  services.api.instance_hours  services.db.instance_hours  SLO met"
            ),
            "{text}"
        );
        let e = render_metrics(&r, &["cost".into()]).unwrap_err();
        assert!(e.to_string().contains("no metric \"cost\""), "{e}");
        assert!(e.to_string().contains("latency_s.p99"), "{e}");
    }

    #[test]
    fn without_an_slo_there_is_no_answer_and_a_shard_waits_for_the_merge() {
        let mut r = one(RPS, &[(100, &[true])]);
        for run in &mut r.points[0].variants[0].runs {
            run.slo_met = None;
        }
        assert!(answers(&r).is_empty());
        assert!(render(&r).contains("no SLO in the experiment"));
        let mut shard = one(RPS, &[(100, &[true])]);
        shard.shard = Some((1, 2));
        assert!(answers(&shard).is_empty());
        assert!(render(&shard).contains("`surge merge` the shards"));
    }
}
