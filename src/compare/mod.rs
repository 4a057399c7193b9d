//! `surge compare`: puts reports (or variants inside one report) side by side, metric by
//! metric, with the difference from the first one (the baseline), its 95% interval and
//! whether it is statistically significant.
//!
//! Replication r of two variants run from the same master seed sees the same arrivals
//! (common random numbers), so their per-replication differences are compared with a paired
//! t-test, which cancels the noise they share; anything else gets Welch's t-test.

pub mod render;
pub mod threshold;

use crate::experiment::stats::{Difference, Estimate, Test, estimate, paired, welch};
pub use crate::report::aliases::glob;
use crate::report::{Report, aliases, flatten};
use indexmap::IndexMap;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A problem with the command's input, worded for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// One side of a comparison: one variant of one report, with every replication's figures.
#[derive(Debug, Clone)]
pub struct Subject {
    /// How tables name it: the variant, or `experiment/variant` when that is ambiguous.
    pub label: String,
    /// The report it came from.
    pub file: PathBuf,
    /// The report's experiment.
    pub experiment: String,
    /// The variant.
    pub variant: String,
    /// The report's master seed.
    pub seed: u64,
    /// Replication numbers, in report order.
    pub replications: Vec<u32>,
    /// Each replication's flat metrics (as in `report.json`'s variant metrics).
    pub runs: Vec<IndexMap<String, f64>>,
}

impl Subject {
    /// Every replication's value of `metric` (None if any run lacks it).
    pub fn values(&self, metric: &str) -> Option<Vec<f64>> {
        self.runs.iter().map(|r| r.get(metric).copied()).collect()
    }
}

/// Reads `FILE` or `FILE#VARIANT` arguments. A file without `#VARIANT` contributes every
/// variant it holds, in its order.
pub fn load_subjects(args: &[String]) -> Result<Vec<Subject>, InputError> {
    let mut reports: IndexMap<PathBuf, Report> = IndexMap::new();
    let mut picked: Vec<(PathBuf, Option<String>)> = Vec::new();
    for arg in args {
        let (file, variant) = split_arg(arg);
        if !reports.contains_key(&file) {
            reports.insert(file.clone(), read_report(&file)?);
        }
        picked.push((file, variant));
    }
    let mut subjects = Vec::new();
    for (file, variant) in picked {
        let report = &reports[&file];
        let names: Vec<&String> = match &variant {
            Some(v) if !report.variants.contains_key(v) => {
                return Err(InputError(format!(
                    "{}: no variant \"{v}\"; it has {}",
                    file.display(),
                    list(report.variants.keys())
                )));
            }
            Some(v) => vec![v],
            None => report.variants.keys().collect(),
        };
        for name in names {
            let runs: Vec<_> = report.runs.iter().filter(|r| &r.variant == name).collect();
            if runs.is_empty() {
                return Err(InputError(format!(
                    "{}: variant \"{name}\" has no runs",
                    file.display()
                )));
            }
            subjects.push(Subject {
                label: String::new(),
                file: file.clone(),
                experiment: report.experiment.clone(),
                variant: name.clone(),
                seed: report.seed,
                replications: runs.iter().map(|r| r.replication).collect(),
                runs: runs.iter().map(|r| flatten(&r.summary)).collect(),
            });
        }
    }
    if subjects.len() < 2 {
        return Err(InputError(format!(
            "compare needs at least two things to compare, and {} holds {}: name more reports, or a report with several variants",
            args.join(" "),
            match subjects.first() {
                Some(s) => format!("only the variant \"{}\"", s.variant),
                None => "nothing".to_string(),
            }
        )));
    }
    label(&mut subjects);
    Ok(subjects)
}

/// `path#variant` splits at the last `#`, unless the whole argument is an existing file.
fn split_arg(arg: &str) -> (PathBuf, Option<String>) {
    match arg.rsplit_once('#') {
        Some((file, variant)) if !Path::new(arg).exists() && !variant.is_empty() => {
            (PathBuf::from(file), Some(variant.to_string()))
        }
        _ => (PathBuf::from(arg), None),
    }
}

fn read_report(file: &Path) -> Result<Report, InputError> {
    crate::report::read_report(file).map_err(|e| {
        // The likeliest wrong file is the other kind of result.
        let sweep = matches!(e, crate::config::ConfigError::Invalid { .. })
            && std::fs::read_to_string(file).is_ok_and(|t| t.contains("\"total_runs\""));
        let hint = if sweep {
            " (this looks like a sweep.json; compare takes the report.json of `surge run`)"
        } else {
            ""
        };
        InputError(format!("{e}{hint}"))
    })
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Names subjects as briefly as stays unambiguous.
fn label(subjects: &mut [Subject]) {
    let unique = |f: &dyn Fn(&Subject) -> String, s: &[Subject]| {
        let names: Vec<String> = s.iter().map(f).collect();
        names
            .iter()
            .enumerate()
            .all(|(i, n)| !names[..i].contains(n))
            .then_some(names)
    };
    let names = unique(&|s| s.variant.clone(), subjects)
        .or_else(|| unique(&|s| format!("{}/{}", s.experiment, s.variant), subjects))
        .unwrap_or_else(|| {
            subjects
                .iter()
                .enumerate()
                .map(|(i, s)| format!("#{} {}#{}", i + 1, s.file.display(), s.variant))
                .collect()
        });
    for (s, n) in subjects.iter_mut().zip(names) {
        s.label = n;
    }
}

/// Which test to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TestChoice {
    /// Paired when both sides ran the same replications from the same seed, else Welch.
    #[default]
    Auto,
    /// Always paired (the replications must match).
    Paired,
    /// Always Welch.
    Welch,
}

/// How to compare.
#[derive(Debug, Clone)]
pub struct Options {
    /// Significance level of the two-sided tests.
    pub alpha: f64,
    /// Which test.
    pub test: TestChoice,
    /// Metrics to show, in order, each an alias (`p99`, `cpu`, ...; see
    /// [`aliases`](crate::report::aliases)), a flat name or a `*` pattern; empty for the
    /// default set.
    pub metrics: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            alpha: 0.05,
            test: TestChoice::Auto,
            metrics: Vec::new(),
        }
    }
}

/// When a default metric is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// Whenever the reports have it.
    Always,
    /// Only where some run saw a non-zero value, so everyday tables stay short.
    NonZero,
    /// Only when the reports have more than one endpoint (with one, the endpoint's figures
    /// are the run's).
    SeveralEndpoints,
}

/// The metrics shown by default, in order.
const DEFAULT_METRICS: [(&str, Shown); 20] = [
    ("throughput_rps", Shown::Always),
    ("error_rate", Shown::Always),
    ("error_rates.*", Shown::NonZero),
    ("latency_s.p50", Shown::Always),
    ("latency_s.p90", Shown::Always),
    ("latency_s.p99", Shown::Always),
    ("latency_s.p999", Shown::Always),
    ("mean_response_s", Shown::Always),
    ("endpoints.*.throughput_rps", Shown::SeveralEndpoints),
    ("endpoints.*.error_rate", Shown::SeveralEndpoints),
    ("endpoints.*.latency_s.p99", Shown::SeveralEndpoints),
    ("slo.violation_minutes", Shown::Always),
    ("services.*.instances", Shown::Always),
    ("services.*.peak_instances", Shown::Always),
    ("services.*.instance_hours", Shown::Always),
    ("services.*.scaling_actions", Shown::NonZero),
    ("services.*.cpu_utilisation", Shown::Always),
    ("services.*.oom_kills", Shown::NonZero),
    ("services.*.spot_interruptions", Shown::NonZero),
    ("cost_usd", Shown::Always),
];

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Significance level used.
    pub alpha: f64,
    /// Subjects in argument order; the first is the baseline.
    pub subjects: Vec<SubjectInfo>,
    /// For each candidate (every subject after the baseline): the test used and why.
    pub tests: Vec<TestInfo>,
    /// One row per metric.
    pub metrics: Vec<MetricRow>,
}

/// Where a subject came from.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectInfo {
    /// Its label in tables.
    pub label: String,
    /// The report file.
    pub file: String,
    /// Experiment name.
    pub experiment: String,
    /// Variant name.
    pub variant: String,
    /// Master seed.
    pub seed: u64,
    /// Replications.
    pub replications: usize,
}

/// The test behind a candidate's differences.
#[derive(Debug, Clone, Serialize)]
pub struct TestInfo {
    /// The candidate's label.
    pub candidate: String,
    /// Paired or Welch.
    pub test: Test,
    /// Why.
    pub reason: String,
}

/// One metric across subjects.
#[derive(Debug, Clone, Serialize)]
pub struct MetricRow {
    /// Flat metric name, as in report.json.
    pub metric: String,
    /// Per subject: mean with its 95% interval (absent where the report lacks the metric).
    pub values: Vec<Option<Estimate>>,
    /// Per candidate (subjects after the baseline): the difference from the baseline.
    pub differences: Vec<Option<MetricDifference>>,
}

/// A candidate's difference from the baseline on one metric.
#[derive(Debug, Clone, Serialize)]
pub struct MetricDifference {
    /// Candidate minus baseline, with interval and p-value.
    #[serde(flatten)]
    pub difference: Difference,
    /// The difference relative to the baseline's mean (absent when that mean is zero).
    pub relative: Option<f64>,
    /// Whether p < alpha.
    pub significant: bool,
}

/// Compares every subject after the first with the first.
pub fn compare(subjects: &[Subject], options: &Options) -> Result<Comparison, InputError> {
    let base = &subjects[0];
    let mut tests = Vec::new();
    for s in &subjects[1..] {
        tests.push(choose_test(base, s, options.test)?);
    }
    let metrics = select_metrics(subjects, &options.metrics)?;
    let rows = metrics
        .into_iter()
        .map(|m| {
            let values: Vec<Option<Vec<f64>>> = subjects.iter().map(|s| s.values(&m)).collect();
            let estimates = values.iter().map(|v| v.as_deref().map(estimate)).collect();
            let differences = subjects[1..]
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    let (a, b) = (values[0].as_deref()?, values[i + 1].as_deref()?);
                    Some(difference(a, b, tests[i].test, options.alpha))
                })
                .collect();
            MetricRow {
                metric: m,
                values: estimates,
                differences,
            }
        })
        .collect();
    Ok(Comparison {
        alpha: options.alpha,
        subjects: subjects
            .iter()
            .map(|s| SubjectInfo {
                label: s.label.clone(),
                file: s.file.display().to_string(),
                experiment: s.experiment.clone(),
                variant: s.variant.clone(),
                seed: s.seed,
                replications: s.runs.len(),
            })
            .collect(),
        tests,
        metrics: rows,
    })
}

/// The difference `b - a` by `test`, with its significance at `alpha`.
pub fn difference(a: &[f64], b: &[f64], test: Test, alpha: f64) -> MetricDifference {
    let d = match test {
        Test::Paired => paired(a, b),
        Test::Welch => welch(a, b),
    };
    let base = a.iter().sum::<f64>() / a.len().max(1) as f64;
    MetricDifference {
        relative: (base != 0.0 && d.mean.is_finite()).then(|| d.mean / base.abs()),
        significant: d.p_value.is_some_and(|p| p < alpha),
        difference: d,
    }
}

fn choose_test(base: &Subject, cand: &Subject, choice: TestChoice) -> Result<TestInfo, InputError> {
    let same_runs = base.replications == cand.replications;
    let shared = base.seed == cand.seed && same_runs;
    let (test, reason) = match choice {
        TestChoice::Welch => (Test::Welch, "chosen with --test welch".to_string()),
        TestChoice::Paired if !same_runs => {
            return Err(InputError(format!(
                "--test paired needs the same replications on both sides, but \"{}\" has {} and \"{}\" has {}",
                base.label,
                base.runs.len(),
                cand.label,
                cand.runs.len()
            )));
        }
        TestChoice::Paired => (
            Test::Paired,
            if shared {
                format!(
                    "replication r of both ran from seed {} with the same random numbers",
                    base.seed
                )
            } else {
                "chosen with --test paired (different seeds: pairs share no random numbers)"
                    .to_string()
            },
        ),
        TestChoice::Auto if shared && base.runs.len() > 1 => (
            Test::Paired,
            format!(
                "replication r of both ran from seed {} with the same random numbers",
                base.seed
            ),
        ),
        TestChoice::Auto => (
            Test::Welch,
            if base.runs.len() < 2 || cand.runs.len() < 2 {
                "a single replication leaves nothing to test".to_string()
            } else if base.seed != cand.seed {
                format!("independent runs (seeds {} and {})", base.seed, cand.seed)
            } else {
                "the replications differ, so they cannot be paired".to_string()
            },
        ),
    };
    Ok(TestInfo {
        candidate: cand.label.clone(),
        test,
        reason,
    })
}

/// Metric names to show, in order: the patterns' matches in each pattern's order, each name
/// once.
fn select_metrics(subjects: &[Subject], patterns: &[String]) -> Result<Vec<String>, InputError> {
    let mut available: Vec<&String> = Vec::new();
    for s in subjects {
        for r in &s.runs {
            for k in r.keys() {
                if !available.contains(&k) {
                    available.push(k);
                }
            }
        }
    }
    let nonzero = |m: &str| {
        subjects
            .iter()
            .flat_map(|s| &s.runs)
            .any(|r| r.get(m).is_some_and(|v| *v != 0.0))
    };
    let endpoints = available
        .iter()
        .filter(|m| m.starts_with("endpoints.") && m.ends_with(".arrivals"))
        .count();
    let chosen: Vec<(&str, Shown)> = if patterns.is_empty() {
        DEFAULT_METRICS.to_vec()
    } else {
        patterns
            .iter()
            .map(|p| (p.as_str(), Shown::Always))
            .collect()
    };
    let mut out: Vec<String> = Vec::new();
    for (name, shown) in chosen {
        let matches: Vec<String> = aliases::resolve(name, available.iter().map(|m| m.as_str()))
            .into_iter()
            .filter(|m| match shown {
                Shown::Always => true,
                Shown::NonZero => nonzero(m),
                Shown::SeveralEndpoints => endpoints > 1,
            })
            .collect();
        if matches.is_empty() && !patterns.is_empty() {
            return Err(InputError(format!(
                "--metric \"{name}\" matches no metric; use an alias ({}) or a flat name or `*` pattern the reports have: {}",
                aliases::names(),
                available
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for m in matches {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_at_the_last_hash() {
        assert_eq!(
            split_arg("r/report.json#hpa"),
            (PathBuf::from("r/report.json"), Some("hpa".into()))
        );
        assert_eq!(
            split_arg("r/report.json"),
            (PathBuf::from("r/report.json"), None)
        );
    }
}
