//! The plots of a result file, as `surge plot` draws them: what the file is (a `sweep.json` or
//! a run's `report.json`, told apart by their keys), then a sweep's curves and heatmaps, or a
//! run's plots again from the report and the `timeseries.csv` beside it.

use super::sweep::{SweepPlotError, available_metrics, render_sweep};
use super::{Plot, PlotError};
use crate::config::ConfigError;
use crate::input::{MAX_RESULT_BYTES, read_text};
use crate::report::timeseries_csv::{CsvError, read_first_replications};
use crate::report::{Report, aliases, parse_report};
use std::path::{Path, PathBuf};

/// Why a file's plots cannot be drawn. Every variant but [`PlotFileError::Draw`] is the
/// input's fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotFileError {
    /// The file cannot be read.
    #[error("{}: cannot read the file: {source}", .file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error(
        "{}:{}:{}: not JSON: {source}; expected a sweep.json (from `surge sweep`) or a report.json (from `surge run`)",
        .file.display(),
        .source.line(),
        .source.column()
    )]
    NotJson {
        /// The file.
        file: PathBuf,
        /// serde_json's error.
        source: serde_json::Error,
    },
    /// The JSON has the keys of neither a sweep.json nor a report.json.
    #[error(
        "{}: not a sweep.json or a report.json: expected the sweep.json of `surge sweep` (with `parameters` and `points`) or the report.json of `surge run` (with `runs`, `variants` and `config`)",
        .file.display()
    )]
    Unknown {
        /// The file.
        file: PathBuf,
    },
    /// Metrics were chosen for a report.json, whose plots are fixed.
    #[error(
        "{}: --metric chooses among a sweep's metrics; a report.json has its plots drawn whole",
        .file.display()
    )]
    MetricsOfReport {
        /// The file.
        file: PathBuf,
    },
    /// A sweep.json or report.json of the wrong shape.
    #[error(transparent)]
    Shape(#[from] ConfigError),
    /// A metric the sweep does not have, or a sweep without points.
    #[error("{}: {source}", .file.display())]
    Sweep {
        /// The sweep.json.
        file: PathBuf,
        /// What is missing.
        source: SweepPlotError,
    },
    /// The time series beside a report.json cannot be read.
    #[error("{}: cannot read the time series of {}: {source}", .csv.display(), .report.display())]
    ReadTimeSeries {
        /// The timeseries.csv.
        csv: PathBuf,
        /// The report.json it belongs to.
        report: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The time series does not fit the report.
    #[error("{}:{source}", .csv.display())]
    TimeSeries {
        /// The timeseries.csv.
        csv: PathBuf,
        /// Its line and what is wrong there.
        source: CsvError,
    },
    /// Drawing failed.
    #[error(transparent)]
    Draw(#[from] PlotError),
}

/// The plots of `file`: for a sweep.json, `metrics` (names or aliases; empty: the defaults)
/// against the swept parameters; for a report.json (which takes no `metrics`), the run's plots
/// from it and the timeseries.csv beside it.
pub fn plot_file(file: &Path, metrics: &[String]) -> Result<Vec<Plot>, PlotFileError> {
    let text = read_text(file, MAX_RESULT_BYTES).map_err(|source| PlotFileError::Read {
        file: file.to_path_buf(),
        source,
    })?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| PlotFileError::NotJson {
            file: file.to_path_buf(),
            source,
        })?;
    let has = |key: &str| doc.get(key).is_some();
    if has("points") && has("parameters") {
        let report = crate::sweep::parse_sweep_report(file, &text)?;
        let metrics = aliases::expand(metrics, &available_metrics(&report));
        render_sweep(&report, &metrics).map_err(|e| match e {
            SweepPlotError::Draw(e) => PlotFileError::Draw(e),
            source => PlotFileError::Sweep {
                file: file.to_path_buf(),
                source,
            },
        })
    } else if has("runs") && has("variants") && has("config") {
        if !metrics.is_empty() {
            return Err(PlotFileError::MetricsOfReport {
                file: file.to_path_buf(),
            });
        }
        let report = parse_report(file, &text)?;
        run_plots(file, &report)
    } else {
        Err(PlotFileError::Unknown {
            file: file.to_path_buf(),
        })
    }
}

/// A run's plots from its report.json (`file`, read as `report`) and the timeseries.csv
/// beside it.
fn run_plots(file: &Path, report: &Report) -> Result<Vec<Plot>, PlotFileError> {
    let csv_path = file.with_file_name("timeseries.csv");
    let csv =
        read_text(&csv_path, MAX_RESULT_BYTES).map_err(|source| PlotFileError::ReadTimeSeries {
            csv: csv_path.clone(),
            report: file.to_path_buf(),
            source,
        })?;
    let results =
        read_first_replications(&csv, report).map_err(|source| PlotFileError::TimeSeries {
            csv: csv_path.clone(),
            source,
        })?;
    Ok(super::render(report, &results)?)
}
