//! Writing outputs so that a directory never holds a partial result: each file is written to a
//! temporary name and renamed into place, and `report.json`, which marks a finished result, is
//! renamed last.

use super::{Report, html, plots, timeseries_csv};
use crate::experiment::RunResult;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub use crate::output::OutputError;
use crate::output::write_atomically;

/// Whether [`write_outputs`] also writes the HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlPage {
    /// Only the report, the time series and the plots.
    Skip,
    /// Also `report.html` (see [`html`]), from the report and every SVG in the directory.
    Write,
}

/// The formats plots are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageFormats {
    /// SVG only.
    #[default]
    Svg,
    /// SVG, and a PNG beside each (see [`plots::to_png`]).
    SvgAndPng,
}

/// Writes `timeseries.csv`, the plots (see [`plots::render`]) and then `report.json` into `dir`,
/// creating it. Returns the paths: the report, the time series, then the plots (each SVG
/// followed by its PNG).
pub fn write_outputs(
    dir: &Path,
    report: &Report,
    results: &[RunResult],
    formats: ImageFormats,
) -> Result<Vec<PathBuf>, OutputError> {
    write_outputs_with(dir, report, results, formats, HtmlPage::Skip)
}

/// As [`write_outputs`], and `report.html` before `report.json` if `page` asks for it. Returns
/// the paths: the report, the time series, the plots, then the page.
pub fn write_outputs_with(
    dir: &Path,
    report: &Report,
    results: &[RunResult],
    formats: ImageFormats,
    page: HtmlPage,
) -> Result<Vec<PathBuf>, OutputError> {
    std::fs::create_dir_all(dir).map_err(|cause| OutputError::Io {
        path: dir.to_path_buf(),
        cause,
    })?;
    let csv = timeseries_csv::render(results);
    let plots = plots::render(report, results).map_err(|e| plot_failure(dir, &e))?;
    let ts = dir.join("timeseries.csv");
    let rep = dir.join("report.json");
    // A stale report or plot from an earlier run must not sit beside a new time series.
    let _ = std::fs::remove_file(&rep);
    let _ = std::fs::remove_file(dir.join(html::FILE_NAME));
    for name in plots::FILE_NAMES {
        let _ = std::fs::remove_file(dir.join(name));
        let _ = std::fs::remove_file(dir.join(plots::png_name(name)));
    }
    write_atomically(&ts, csv.as_bytes())?;
    let mut written = vec![rep.clone(), ts];
    written.extend(write_plots(dir, &plots, formats)?);
    if page == HtmlPage::Write {
        // From the directory, as `surge report --html` would: the same page either way.
        let path = dir.join(html::FILE_NAME);
        let figures = html::figures_beside(dir).map_err(|e| OutputError::Io {
            path: path.clone(),
            cause: std::io::Error::other(e.to_string()),
        })?;
        write_atomically(&path, html::render(report, &figures).as_bytes())?;
        written.push(path);
    }
    write_atomically(&rep, report.to_json().as_bytes())?;
    Ok(written)
}

/// Writes plots into `dir` (which must exist): each SVG, and with
/// [`ImageFormats::SvgAndPng`] its PNG after it. PNGs are rasterised in parallel; the files and
/// the returned paths are in the plots' order.
pub fn write_plots(
    dir: &Path,
    plots: &[plots::Plot],
    formats: ImageFormats,
) -> Result<Vec<PathBuf>, OutputError> {
    let pngs: Vec<Option<Vec<u8>>> = match formats {
        ImageFormats::Svg => vec![None; plots.len()],
        ImageFormats::SvgAndPng => plots
            .par_iter()
            .map(|p| plots::to_png(&p.file_name, &p.svg).map(Some))
            .collect::<Result<_, _>>()
            .map_err(|e| plot_failure(dir, &e))?,
    };
    let mut written = Vec::new();
    for (plot, png) in plots.iter().zip(pngs) {
        let path = dir.join(&plot.file_name);
        write_atomically(&path, plot.svg.as_bytes())?;
        written.push(path);
        if let Some(png) = png {
            let path = dir.join(plot.png_name());
            write_atomically(&path, &png)?;
            written.push(path);
        }
    }
    Ok(written)
}

fn plot_failure(dir: &Path, e: &plots::PlotError) -> OutputError {
    OutputError::Io {
        path: dir.join(&e.file_name),
        cause: std::io::Error::other(e.message.clone()),
    }
}
