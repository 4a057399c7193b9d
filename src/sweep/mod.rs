//! Parameter sweeps: one experiment file, many points. Each point is the experiment with the
//! swept values set; every point runs every variant x replication on the same seeds (common
//! random numbers across points as well as variants), in parallel, and only each run's scalar
//! summary is kept, so memory does not grow with the time series of thousands of runs.
//!
//! Results are gathered in (point, variant, replication) order whatever the thread count, so
//! `sweep.json` is byte-identical for any `-j`.

mod shard;
pub mod spec;
pub mod summary;

pub use shard::{MergeError, ShardError, merge_files, parse_shard};

use crate::config::{ConfigError, load_experiment_text, parse_text, read, read_result};
use crate::experiment::stats::Estimate;
use crate::experiment::{Experiment, RunError, RunId, run_one, with_threads};
use crate::report::{estimates, flatten};
use crate::simulation::RunLimits;
use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spec::{Mode, SweepSpec};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A loaded sweep: the spec and one validated experiment per point.
#[derive(Debug)]
pub struct Sweep {
    /// The experiment file.
    pub file: PathBuf,
    /// Name (the experiment's).
    pub name: String,
    /// What it explores.
    pub description: Option<String>,
    /// Parameters and mode.
    pub spec: SweepSpec,
    /// The experiment at each point, in point order.
    pub points: Vec<Experiment>,
}

impl Sweep {
    /// Where `surge sweep` writes when given no `--out`: `results/<name>-sweep`.
    pub fn default_out(&self) -> PathBuf {
        crate::output::results_dir(&format!("{}-sweep", self.name))
    }

    /// Every run of the sweep: (point, run) in order.
    pub fn runs(&self) -> Vec<(usize, RunId)> {
        self.points
            .iter()
            .enumerate()
            .flat_map(|(p, e)| e.runs().into_iter().map(move |id| (p, id)))
            .collect()
    }
}

/// Checks an experiment file as `surge validate` does, and says what it would run: the
/// experiment ([`crate::experiment::load::describe`]) and, for a file with a `sweep`, checked at
/// every point as `surge sweep` would, how many points and runs.
pub fn describe_file(path: &Path) -> Result<String, ConfigError> {
    let exp = crate::config::load_experiment(path)?;
    let points = if exp.config.get("sweep").is_some() {
        let sw = load_sweep(path)?;
        format!(
            "; sweep: {} point(s), {} run(s)",
            sw.points.len(),
            sw.runs().len()
        )
    } else {
        String::new()
    };
    Ok(format!(
        "{}{points}",
        crate::experiment::load::describe(&exp)
    ))
}

/// Loads an experiment file with a `sweep` and validates every point before anything runs.
pub fn load_sweep(path: &Path) -> Result<Sweep, ConfigError> {
    let text = read(path, "the experiment file", None)?;
    // Check the whole file first, so a malformed one gets the usual message.
    load_experiment_text(path, &text)?;
    let mut doc: Value = serde_json::from_str(&text).expect("validated above");
    let Some(raw_spec) = doc.as_object_mut().and_then(|o| o.remove("sweep")) else {
        return Err(ConfigError::invalid(
            path,
            "sweep",
            "the file has no `sweep`: add `\"sweep\": {\"mode\": \"grid\", \"parameters\": [{\"path\": ..., \"values\": [...]}]}`, or use `surge run`",
        ));
    };
    let spec = SweepSpec::parse(&raw_spec, path)?;
    // A model in its own file is inlined, so paths under `model` reach it.
    if let Some(model_file) = doc.get("model").and_then(Value::as_str) {
        let file = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
            .join(model_file);
        let mtext = read(&file, "the model file", None)?;
        doc["model"] = serde_json::from_str(&mtext).expect("validated above");
    }
    let mut points = Vec::with_capacity(spec.count());
    for k in 0..spec.count() {
        let values = spec.point(k);
        let mut point = doc.clone();
        for (i, (p, v)) in spec.parameters.iter().zip(&values).enumerate() {
            spec::set(&mut point, &p.segments, (*v).clone()).map_err(|m| {
                ConfigError::invalid(
                    path,
                    format!("sweep.parameters[{i}].path"),
                    format!("`{}` names nothing in the experiment: {m}", p.name),
                )
            })?;
        }
        let text = serde_json::to_string(&point).expect("JSON values serialize");
        let exp = load_experiment_text(path, &text).map_err(|e| match e {
            // The point's text is not the file's: its line and column would point nowhere.
            ConfigError::Invalid { location, message } => ConfigError::Invalid {
                location: crate::config::Location {
                    line_column: None,
                    ..location
                },
                message: format!(
                    "at sweep point {k} ({}): {message}",
                    describe(&spec, &values)
                ),
            },
            other => other,
        })?;
        if k == 0 {
            let runs = spec
                .count()
                .saturating_mul(exp.variants.len())
                .saturating_mul(exp.replications as usize);
            if runs > spec::MAX_RUNS {
                return Err(ConfigError::invalid(
                    path,
                    "sweep",
                    format!(
                        "the sweep has {runs} runs ({} points x {} variants x {} replications), more than the {} whose results a sweep keeps in memory; sweep fewer values or split it into several files",
                        spec.count(),
                        exp.variants.len(),
                        exp.replications,
                        spec::MAX_RUNS
                    ),
                ));
            }
        }
        points.push(exp);
    }
    let first = &points[0];
    Ok(Sweep {
        file: path.to_path_buf(),
        name: first.name.clone(),
        description: first.description.clone(),
        spec,
        points,
    })
}

fn describe(spec: &SweepSpec, values: &[&Value]) -> String {
    spec.parameters
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{} = {v}", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scalar results of one run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunMetrics {
    /// Replication.
    pub replication: u32,
    /// Flat metrics, as in `report.json`'s variant metrics.
    pub metrics: IndexMap<String, f64>,
    /// Whether the run met its SLO (when there is one).
    pub slo_met: Option<bool>,
    /// Batch-means intervals, when the experiment asks for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_means: Option<crate::metrics::batch_means::BatchMeansSummary>,
}

/// A variant at one point.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PointVariant {
    /// Means with 95% confidence intervals over replications.
    pub metrics: IndexMap<String, Estimate>,
    /// Every replication's figures.
    pub runs: Vec<RunMetrics>,
}

/// One point of the sweep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PointReport {
    /// Position in the expansion.
    pub index: usize,
    /// The swept values, by parameter path.
    pub parameters: IndexMap<String, Value>,
    /// Per variant, in file order.
    pub variants: IndexMap<String, PointVariant>,
}

/// `sweep.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepReport {
    /// The experiment's name.
    pub experiment: String,
    /// What it explores.
    pub description: Option<String>,
    /// The Surge version that ran it.
    pub surge_version: String,
    /// Master seed (the same at every point: common random numbers).
    pub seed: u64,
    /// Replications per variant and point.
    pub replications: u32,
    /// `grid` or `zip`.
    pub mode: String,
    /// Parameter paths, in order.
    pub parameters: Vec<String>,
    /// Variant names, in file order.
    pub variants: Vec<String>,
    /// Total runs of the whole sweep.
    pub total_runs: usize,
    /// Which slice of the runs this file holds: (k, n) for shard k of n, absent for all.
    pub shard: Option<(usize, usize)>,
    /// Points, in order (with a shard: only the runs it holds).
    pub points: Vec<PointReport>,
    /// The SLO every point is judged by, when the experiment has one and no point changes it
    /// (absent from files written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<SweepSlo>,
    /// The workload's client names in file order, so that `workload[K]` can be named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
}

/// An SLO's targets as `sweep.json` records them, for plots to draw.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepSlo {
    /// Which latency quantile the target is for (0.99 for p99).
    pub quantile: f64,
    /// Latency target at that quantile, seconds.
    pub latency_s: Option<f64>,
    /// Highest acceptable error fraction.
    pub error_rate: Option<f64>,
}

impl SweepSlo {
    fn of(slo: &crate::experiment::Slo) -> SweepSlo {
        SweepSlo {
            quantile: slo.quantile,
            latency_s: slo.latency.map(|d| d.as_secs_f64()),
            error_rate: slo.error_rate,
        }
    }
}

/// How to run a sweep.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Run only shard `k` of `n` (1-based k): runs whose index is k-1 modulo n.
    pub shard: Option<(usize, usize)>,
    /// What each run may use.
    pub limits: RunLimits,
}

/// A run of a sweep stopped by its limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at sweep point {point}: {run}")]
pub struct SweepRunError {
    /// The point.
    pub point: usize,
    /// The run and why it stopped.
    pub run: RunError,
}

/// Runs the sweep (or one shard of it). `done` counts finished runs, for progress bars.
pub fn run_sweep(
    sweep: &Sweep,
    options: &SweepOptions,
    done: Option<&AtomicU64>,
) -> Result<SweepReport, SweepRunError> {
    let all = sweep.runs();
    let total = all.len();
    let mine: Vec<(usize, RunId)> = match options.shard {
        Some((k, n)) => all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k - 1)
            .map(|(_, r)| r)
            .collect(),
        None => all,
    };
    let work = || -> Vec<Result<(usize, RunId, RunMetrics), SweepRunError>> {
        mine.par_iter()
            .map(|&(p, id)| {
                let r = run_one(&sweep.points[p], id, &options.limits, None)
                    .map_err(|run| SweepRunError { point: p, run })?;
                if let Some(d) = done {
                    d.fetch_add(1, Ordering::Relaxed);
                }
                // The time series is dropped here: a sweep keeps scalars only.
                let s = &r.output.summary;
                let m = RunMetrics {
                    replication: id.replication,
                    metrics: flatten(s),
                    slo_met: s.slo.as_ref().map(|x| x.met),
                    batch_means: s.batch_means.clone(),
                };
                Ok((p, id, m))
            })
            .collect()
    };
    let results = with_threads(options.threads, work)
        .into_iter()
        .collect::<Result<_, _>>()?;
    Ok(assemble(sweep, results, total, options.shard))
}

/// Groups run results (in run order) into points and variants.
fn assemble(
    sweep: &Sweep,
    results: Vec<(usize, RunId, RunMetrics)>,
    total_runs: usize,
    shard: Option<(usize, usize)>,
) -> SweepReport {
    let points = group(results.into_iter().map(|(p, id, m)| {
        PlacedRun {
            point: p,
            parameters: sweep
                .spec
                .parameters
                .iter()
                .zip(sweep.spec.point(p))
                .map(|(par, v)| (par.name.clone(), v.clone()))
                .collect(),
            variant: sweep.points[p].variants[id.variant].name.clone(),
            metrics: m,
        }
    }));
    let first = &sweep.points[0];
    SweepReport {
        experiment: sweep.name.clone(),
        description: sweep.description.clone(),
        surge_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: first.seed,
        replications: first.replications,
        mode: match sweep.spec.mode {
            Mode::Grid => "grid",
            Mode::Zip => "zip",
        }
        .to_string(),
        parameters: sweep
            .spec
            .parameters
            .iter()
            .map(|p| p.name.clone())
            .collect(),
        variants: first.variants.iter().map(|v| v.name.clone()).collect(),
        total_runs,
        shard,
        points,
        slo: first.slo.as_ref().map(SweepSlo::of).filter(|slo| {
            sweep
                .points
                .iter()
                .all(|p| p.slo.as_ref().map(SweepSlo::of).as_ref() == Some(slo))
        }),
        clients: first
            .variants
            .first()
            .map(|v| v.workload.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default(),
    }
}

/// Means and intervals over replications (or one run's batches), metric by metric.
fn summarise(runs: &[RunMetrics]) -> IndexMap<String, Estimate> {
    estimates(
        &runs.iter().map(|r| &r.metrics).collect::<Vec<_>>(),
        runs.first().and_then(|r| r.batch_means.as_ref()),
    )
}

/// Reads a `sweep.json` (or a shard's). Errors name the file, and for JSON of the wrong shape
/// the line, column and JSON path.
pub fn read_sweep_report(path: &Path) -> Result<SweepReport, ConfigError> {
    parse_sweep_report(path, &read_result(path, "the sweep.json")?)
}

/// Parses a `sweep.json`'s text; `path` names it in errors. Beyond its shape, the report must
/// hang together (see [`SweepReport::check`]), so that no later step trips over it.
pub fn parse_sweep_report(path: &Path, text: &str) -> Result<SweepReport, ConfigError> {
    const NOT_A_SWEEP: &str = "not a sweep.json as `surge sweep` writes it: ";
    let report: SweepReport = parse_text(path, text, NOT_A_SWEEP)?;
    crate::report::check_figures(path, text, NOT_A_SWEEP)?;
    report
        .check()
        .map_err(|(at, m)| ConfigError::invalid(path, &at, format!("{NOT_A_SWEEP}{m}")))?;
    Ok(report)
}

impl SweepReport {
    /// Writes `sweep.csv` and `sweep.json` into `dir` (which must exist); returns their paths.
    /// Into a [`crate::output::Staging`] directory, the two always come from one sweep.
    pub fn write_files(&self, dir: &Path) -> Result<Vec<PathBuf>, crate::output::OutputError> {
        let mut written = Vec::new();
        for (name, text) in [("sweep.csv", self.to_csv()), ("sweep.json", self.to_json())] {
            let path = dir.join(name);
            crate::output::write_atomically(&path, text.as_bytes())?;
            written.push(path);
        }
        Ok(written)
    }

    /// Writes `sweep.csv` and `sweep.json` through `staging` and puts them in place, so the
    /// two always come from one sweep; returns where they are.
    pub fn write_into(
        &self,
        staging: crate::output::Staging,
    ) -> Result<Vec<PathBuf>, crate::output::OutputError> {
        let written = self.write_files(staging.dir())?;
        staging.commit_files(&written)
    }

    /// Checks that the report is one `surge sweep` could have written: a shard within the
    /// sweep, at most [`spec::MAX_RUNS`] runs, every point with exactly the sweep's parameters,
    /// variants of the sweep, replications in range and no run twice. The error is the JSON
    /// path and what is wrong.
    pub fn check(&self) -> Result<(), (String, String)> {
        let err = |at: String, m: String| Err((at, m));
        if self.total_runs > spec::MAX_RUNS {
            return err(
                "total_runs".into(),
                format!(
                    "{} runs, more than the {} a sweep may have",
                    self.total_runs,
                    spec::MAX_RUNS
                ),
            );
        }
        if let Some((k, n)) = self.shard {
            if !(k >= 1 && k <= n && n <= self.total_runs.max(1)) {
                return err(
                    "shard".into(),
                    format!(
                        "shard [{k}, {n}] is not a slice K/N with 1 <= K <= N <= total_runs ({})",
                        self.total_runs
                    ),
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, point) in self.points.iter().enumerate() {
            let keys: Vec<&String> = point.parameters.keys().collect();
            let want: Vec<&String> = self.parameters.iter().collect();
            if keys != want {
                return err(
                    format!("points[{i}].parameters"),
                    format!(
                        "has {}, expected exactly the sweep's parameters {} in that order",
                        list(&keys),
                        list(&want)
                    ),
                );
            }
            for (vname, v) in &point.variants {
                if !self.variants.contains(vname) {
                    return err(
                        format!("points[{i}].variants"),
                        format!(
                            "variant {vname:?} is not one of the sweep's {:?}",
                            self.variants
                        ),
                    );
                }
                for (j, r) in v.runs.iter().enumerate() {
                    let at = format!("points[{i}].variants.{vname}.runs[{j}]");
                    if r.replication >= self.replications {
                        return err(
                            at,
                            format!(
                                "replication {} is out of range: the sweep has {}",
                                r.replication, self.replications
                            ),
                        );
                    }
                    if !seen.insert((point.index, vname.as_str(), r.replication)) {
                        return err(
                            at,
                            format!(
                                "point {} variant {vname:?} replication {} appears twice",
                                point.index, r.replication
                            ),
                        );
                    }
                }
            }
        }
        if seen.len() > self.total_runs {
            return err(
                "points".into(),
                format!(
                    "{} runs, more than the sweep's total_runs ({})",
                    seen.len(),
                    self.total_runs
                ),
            );
        }
        Ok(())
    }

    /// Pretty JSON, newline-terminated.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a sweep report serializes");
        s.push('\n');
        s
    }

    /// `sweep.csv`: one row per point x variant x metric.
    pub fn to_csv(&self) -> String {
        use crate::report::csv_text::neutralise;
        // Text fields are neutralised against spreadsheet formulas; numbers are written as
        // they are. The csv crate quotes what needs it (commas, quotes, line breaks).
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let mut header: Vec<String> = vec!["point".into()];
        header.extend(self.parameters.iter().map(|p| neutralise(p).into_owned()));
        header
            .extend(["variant", "metric", "mean", "ci95_low", "ci95_high", "n"].map(String::from));
        let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
        let mut rows = vec![header];
        for point in &self.points {
            let params: Vec<String> = self
                .parameters
                .iter()
                .map(|p| match &point.parameters[p] {
                    Value::String(s) => neutralise(s).into_owned(),
                    other => other.to_string(),
                })
                .collect();
            for (vname, v) in &point.variants {
                for (metric, e) in &v.metrics {
                    let mut row = vec![point.index.to_string()];
                    row.extend(params.iter().cloned());
                    row.extend([
                        neutralise(vname).into_owned(),
                        neutralise(metric).into_owned(),
                        e.mean.to_string(),
                        num(e.ci95_low),
                        num(e.ci95_high),
                        e.n.to_string(),
                    ]);
                    rows.push(row);
                }
            }
        }
        for row in rows {
            w.write_record(&row).expect("writing to memory cannot fail");
        }
        String::from_utf8(w.into_inner().expect("writing to memory cannot fail"))
            .expect("the fields are UTF-8")
    }
}

/// A run's figures and where they go in the report.
struct PlacedRun {
    point: usize,
    parameters: IndexMap<String, Value>,
    variant: String,
    metrics: RunMetrics,
}

/// Groups runs, given in (point, variant, replication) order, into points and variants, with
/// means and intervals over the replications.
fn group(runs: impl Iterator<Item = PlacedRun>) -> Vec<PointReport> {
    let mut points: Vec<PointReport> = Vec::new();
    for r in runs {
        if points.last().is_none_or(|last| last.index != r.point) {
            points.push(PointReport {
                index: r.point,
                parameters: r.parameters,
                variants: IndexMap::new(),
            });
        }
        let point = points.last_mut().expect("pushed above");
        point
            .variants
            .entry(r.variant)
            .or_insert_with(|| PointVariant {
                metrics: IndexMap::new(),
                runs: Vec::new(),
            })
            .runs
            .push(r.metrics);
    }
    for point in &mut points {
        for v in point.variants.values_mut() {
            v.metrics = summarise(&v.runs);
        }
    }
    points
}

fn list(items: &[&String]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
