//! `report.html`: one self-contained page per report, to read in a browser, print or send.
//!
//! The page opens on the verdict (which variants meet the SLO, the cheapest of them, the
//! Pareto front of cost against SLO minutes), then the summary table (the rows of
//! [`table::rows`], as the terminal shows them, with 95% intervals and n), every SVG plot beside
//! `report.json`, the run's metadata and the command that reproduces it with a note on common
//! random numbers, the runs one by one, and the configuration that ran.
//!
//! What the page promises:
//! - It needs no network and no other file: the style sheet is inline, plots are `data:` URIs
//!   and there is no script. A Content-Security-Policy forbids every fetch but `data:` images,
//!   so a browser refuses (and logs) anything else.
//! - Plots are embedded as images, not as inline `<svg>` elements: whatever an SVG file holds
//!   (scripts, ids, styles, malformed markup) stays inside its image and cannot reach the page.
//! - Everything that comes from a user (names, descriptions, configuration strings, file
//!   names) is HTML-escaped.
//! - It is a pure function of the report and the plots' bytes: no timestamps, no paths but the
//!   experiment file's as the report records it, plots in a fixed order. The same inputs give
//!   a byte-identical page.

use super::table::{self, Cell, Section};
use super::{Report, plots};
use crate::config::ConfigError;
use crate::kernel::SimDuration;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The page's file name beside `report.json`.
pub const FILE_NAME: &str = "report.html";

/// Plots in the order the page shows them, with what each shows; any other SVG follows these,
/// by file name.
const KNOWN_PLOTS: [(&str, &str); 10] = [
    (
        plots::TOPOLOGY_FILE,
        "The services and their calls, one panel per variant (replication 0): each box a service with its instances at the end (and the peak, if higher) and its CPU utilisation, laid out by call depth from the clients on the left; each arrow goes from caller to callee, labelled with calls per second and, when calls failed, the error rate; dashed arrows are messages to a worker pool. A red border marks the saturated service: the busiest, if its CPU utilisation is at least 90%, else the one with the longest queue, if at least 8 requests wait per instance.",
    ),
    (
        plots::REPLICAS_FILE,
        "Each service's load (requests sent to it per second) against its desired, starting and ready replicas over time: one row per variant, one column per service (replication 0).",
    ),
    (
        plots::LATENCY_FILE,
        "p99 latency of successful responses over time, one line per variant, with the SLO's latency as a dashed red line (replication 0).",
    ),
    (
        "throughput.svg",
        "Throughput over time, one line per variant (replication 0).",
    ),
    ("errors.svg", "Errors over time by cause (replication 0)."),
    ("cpu.svg", "CPU utilisation over time (replication 0)."),
    (
        plots::CACHE_FILE,
        "Each cache's hit ratio over time, and the misses per second it passes on to what a miss calls (replication 0).",
    ),
    (
        plots::DATABASE_FILE,
        "Each database's replication lag over time (how long a write committed on the primary took to reach a replica: the mean per bucket as a solid line, the longest dashed), and the share of replica reads that returned stale data; a gap is a bucket with no write applied or no replica read (replication 0).",
    ),
    (
        plots::COST_SLO_FILE,
        "Cost against SLO-violation minutes: one point per variant, with 95% whiskers over replications.",
    ),
    (
        plots::INSTANCE_HOURS_SLO_FILE,
        "Instance-hours against SLO-violation minutes: one point per variant, with 95% whiskers over replications.",
    ),
];

/// A plot to embed: its file name and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// File name, such as `latency.svg`.
    pub file_name: String,
    /// The SVG document, as read.
    pub svg: Vec<u8>,
}

/// A plot beside the report could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {source}", .path.display())]
pub struct FigureError {
    /// The file or directory.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// Why `report.html` could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HtmlError {
    /// `report.json` is missing, malformed or not a report (bad input).
    #[error(transparent)]
    Report(#[from] ConfigError),
    /// A plot beside it could not be read.
    #[error(transparent)]
    Figure(#[from] FigureError),
    /// The page could not be written.
    #[error(transparent)]
    Write(#[from] super::OutputError),
}

/// Reads `report_path` and the SVG files beside it and writes the page to `out` (default:
/// `report.html` beside the report). Returns the page's path.
pub fn write_page(report_path: &Path, out: Option<&Path>) -> Result<PathBuf, HtmlError> {
    let report = super::read_report(report_path)?;
    let dir = crate::output::dir_of(report_path);
    let figures = figures_beside(dir)?;
    let out = out.map_or_else(|| dir.join(FILE_NAME), Path::to_path_buf);
    crate::output::write_atomically(&out, render(&report, &figures).as_bytes())?;
    Ok(out)
}

/// Every `.svg` file in `dir`: the known plots first in the page's order, then the others by
/// file name.
pub fn figures_beside(dir: &Path) -> Result<Vec<Figure>, FigureError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FigureError {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| FigureError {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let is_svg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
        if is_svg && path.is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort_by_key(|name| (known_rank(name), name.clone()));
    names
        .into_iter()
        .map(|file_name| {
            let path = dir.join(&file_name);
            let svg = std::fs::read(&path).map_err(|source| FigureError { path, source })?;
            Ok(Figure { file_name, svg })
        })
        .collect()
}

/// Position among the known plots; unknown ones after all of them.
fn known_rank(file_name: &str) -> usize {
    KNOWN_PLOTS
        .iter()
        .position(|(name, _)| *name == file_name)
        .unwrap_or(KNOWN_PLOTS.len())
}

/// Renders the page.
pub fn render(report: &Report, figures: &[Figure]) -> String {
    let mut h = String::with_capacity(
        64 * 1024 + figures.iter().map(|f| f.svg.len() * 4 / 3).sum::<usize>(),
    );
    let name = escape(&report.experiment);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"Surge {}\">\n<title>{name} - Surge report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(crate::VERSION)
    );
    let _ = writeln!(
        h,
        "<header>\n<p class=\"kicker\">Surge report</p>\n<h1>{name}</h1>"
    );
    if let Some(d) = &report.description {
        let _ = writeln!(h, "<p class=\"description\">{}</p>", escape(d));
    }
    h.push_str(
        "<nav aria-label=\"Contents\"><a href=\"#verdict\">Verdict</a> <a href=\"#summary\">Summary</a> \
         <a href=\"#plots\">Plots</a> <a href=\"#run\">The run</a> <a href=\"#runs\">Runs</a> \
         <a href=\"#config\">Configuration</a></nav>\n</header>\n",
    );
    // What a reader came for first: which variants meet the SLO and what they cost; then the
    // figures behind it; the run's metadata after.
    verdict(&mut h, report);
    summary(&mut h, report);
    figures_section(&mut h, figures);
    metadata(&mut h, report);
    runs(&mut h, report);
    configuration(&mut h, report);
    let _ = writeln!(
        h,
        "<footer>Report written by Surge {}; page rendered by Surge {} from <code>report.json</code> and the plots beside it.</footer>\n</main>\n</body>\n</html>",
        escape(&report.surge_version),
        escape(crate::VERSION)
    );
    h
}

/// The answer, in words: which variants meet the SLO, the cheapest of them, and the Pareto
/// front of cost (instance-hours when a variant is not priced) against SLO-violation minutes,
/// the same front `cost-slo.svg` rings.
fn verdict(h: &mut String, report: &Report) {
    h.push_str("<section id=\"verdict\">\n<h2>Verdict</h2>\n");
    let judged: Vec<(&String, bool)> = report
        .variants
        .iter()
        .filter_map(|(name, v)| Some((name, v.slo_met?)))
        .collect();
    if judged.is_empty() {
        h.push_str(
            "<p class=\"verdict\">This experiment has no SLO, so no variant is judged: compare them \
             in the summary below.</p>\n</section>\n",
        );
        return;
    }
    let names = |list: &[&String]| -> String {
        list.iter()
            .map(|n| format!("<strong>{}</strong>", escape(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let meeting: Vec<&String> = judged.iter().filter(|(_, m)| *m).map(|(n, _)| *n).collect();
    let slo = slo_text(&report.config).map_or_else(String::new, |t| format!(" ({t})"));
    let every = if report.replications == 1 {
        "in its run"
    } else {
        "in every replication"
    };
    if meeting.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"verdict bad\">No variant meets the SLO{slo} {every}: {} of {} fail it.</p>",
            judged.len(),
            judged.len()
        );
    } else {
        let _ = writeln!(
            h,
            "<p class=\"verdict\">{} of {} variants {} the SLO{slo} {every}: {}.</p>",
            meeting.len(),
            judged.len(),
            if meeting.len() == 1 { "meets" } else { "meet" },
            names(&meeting)
        );
    }
    // "Met" judges the whole measured period; a variant can still have had windows that
    // missed a target, which the reader should not have to find in the table.
    let windows: Vec<String> = meeting
        .iter()
        .filter_map(|n| {
            let minutes = report.variants[n.as_str()]
                .metrics
                .get("slo.violation_minutes")?
                .mean;
            (minutes > 0.0).then(|| {
                format!(
                    "<strong>{}</strong> ({} min)",
                    escape(n),
                    escape(&table::fmt_value("slo.violation_minutes", minutes))
                )
            })
        })
        .collect();
    if !windows.is_empty() {
        let _ = writeln!(
            h,
            "<p>Met over the whole measured period, yet with windows that missed a target \
             (SLO-violation minutes, mean): {}.</p>",
            windows.join(", ")
        );
    }
    // Cost when every judged variant is priced, instance-hours otherwise (as the scatter).
    let cost = |name: &str| -> Option<f64> {
        let m = &report.variants[name].metrics;
        m.get("cost_usd").map(|e| e.mean).filter(|c| c.is_finite())
    };
    let by_cost = judged.iter().all(|(n, _)| cost(n).is_some());
    let spend = |name: &str| -> Option<f64> {
        if by_cost {
            return cost(name);
        }
        let hours: f64 = report.variants[name]
            .metrics
            .iter()
            .filter(|(k, _)| k.starts_with("services.") && k.ends_with(".instance_hours"))
            .map(|(_, e)| e.mean)
            .sum();
        hours.is_finite().then_some(hours)
    };
    let shown = |v: f64| {
        if by_cost {
            format!("{} USD", escape(&table::fmt_value("cost_usd", v)))
        } else {
            format!(
                "{} instance-hours (the model has no prices)",
                escape(&table::fmt_value("instance_hours", v))
            )
        }
    };
    let cheapest = meeting
        .iter()
        .filter_map(|n| Some((*n, spend(n)?)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((name, value)) = cheapest {
        let _ = writeln!(
            h,
            "<p>The cheapest that meets it: <strong>{}</strong>, at {}.</p>",
            escape(name),
            shown(value)
        );
    }
    let points: Vec<(&String, (f64, f64))> = judged
        .iter()
        .filter_map(|(n, _)| {
            let minutes = report.variants[n.as_str()]
                .metrics
                .get("slo.violation_minutes")?
                .mean;
            Some((*n, (spend(n)?, minutes)))
        })
        .collect();
    let coords: Vec<(f64, f64)> = points.iter().map(|(_, p)| *p).collect();
    let front: Vec<&String> = plots::pareto_front(&coords)
        .into_iter()
        .map(|i| points[i].0)
        .collect();
    if !front.is_empty() {
        let _ = writeln!(
            h,
            "<p>Pareto front ({} against SLO-violation minutes; no other variant is lower on \
             both), from the cheapest: {}.</p>",
            if by_cost { "cost" } else { "instance-hours" },
            names(&front)
        );
    }
    h.push_str("</section>\n");
}

fn metadata(h: &mut String, report: &Report) {
    h.push_str("<section id=\"run\">\n<h2>The run</h2>\n<dl class=\"meta\">\n");
    let variants: Vec<String> = report.variants.keys().map(|v| escape(v)).collect();
    let mut item = |term: &str, value: String| {
        let _ = writeln!(h, "<dt>{term}</dt><dd>{value}</dd>");
    };
    item(
        "Variants",
        format!("{}: {}", variants.len(), variants.join(", ")),
    );
    item("Seed", report.seed.to_string());
    item(
        "Replications",
        format!(
            "{} per variant ({} run{})",
            report.replications,
            report.runs.len(),
            if report.runs.len() == 1 { "" } else { "s" }
        ),
    );
    item(
        "Duration",
        format!("{} simulated per run", duration(report.duration_s)),
    );
    item(
        "Warm-up",
        if report.warmup_s > 0.0 {
            format!("{}, excluded from the summary", duration(report.warmup_s))
        } else {
            "none".into()
        },
    );
    item(
        "Resolution",
        format!("{} per time-series bucket", duration(report.resolution_s)),
    );
    if let Some(slo) = slo_text(&report.config) {
        item("SLO", slo);
    }
    item("Surge version", escape(&report.surge_version));
    h.push_str("</dl>\n");
    let file = report.experiment_file.as_deref();
    let _ = writeln!(
        h,
        "<p>The command that reproduces this report{}:</p>\n<pre class=\"command\"><code>surge run {} --seed {} --replications {}</code></pre>",
        if file.is_some() {
            ", from the directory Surge ran in"
        } else {
            " (this report does not record its experiment file: put its path for EXPERIMENT.json)"
        },
        escape(&shell_word(file.unwrap_or("EXPERIMENT.json"))),
        report.seed,
        report.replications
    );
    h.push_str(
        "<p class=\"note\"><strong>Common random numbers.</strong> Every variant runs on the same \
         random numbers: with the same seed and replication, each variant sees the same arrivals \
         and, where its endpoints are the same, the same work per request. Random streams are keyed \
         by seed, replication, component and purpose, never by variant. The differences between \
         variants are therefore the strategies', not the dice's. Replications use independent \
         streams, and the intervals below are over replications; because variants are paired, a \
         difference can be consistent in every replication even where two variants' intervals \
         overlap (compare the runs one by one below).</p>\n</section>\n",
    );
}

fn summary(h: &mut String, report: &Report) {
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    let rows = table::rows(report);
    let reps: Vec<u32> = report.variants.values().map(|v| v.replications).collect();
    // Beyond four variants the intervals go under the values, so the table fits a laptop.
    let layout = if reps.len() > 4 { " stacked" } else { "" };
    let _ = write!(
        h,
        "<div class=\"table-wrap\">\n<table class=\"summary{layout}\">\n<thead>\n<tr><th scope=\"col\">metric</th>"
    );
    for name in report.variants.keys() {
        let _ = write!(h, "<th scope=\"col\">{}</th>", escape(name));
    }
    h.push_str("</tr>\n<tr class=\"n\"><th scope=\"row\">replications (n)</th>");
    for n in &reps {
        let _ = write!(h, "<td>{n} <span class=\"ci\"></span></td>");
    }
    h.push_str("</tr>\n</thead>\n");
    let columns = reps.len() + 1;
    let mut current: Option<&Section> = None;
    for row in &rows {
        if current != Some(&row.section) {
            if current.is_some() {
                h.push_str("</tbody>\n");
            }
            let _ = writeln!(
                h,
                "<tbody>\n<tr class=\"section\"><th scope=\"rowgroup\" colspan=\"{columns}\">{}</th></tr>",
                escape(&row.section.title())
            );
            current = Some(&row.section);
        }
        let _ = write!(
            h,
            "<tr><th scope=\"row\"{}>{}</th>",
            if row.breakdown { " class=\"sub\"" } else { "" },
            escape(&row.label)
        );
        for (cell, n) in row.cells.iter().zip(&reps) {
            cell_html(h, cell, *n);
        }
        h.push_str("</tr>\n");
    }
    if current.is_some() {
        h.push_str("</tbody>\n");
    }
    h.push_str("</table>\n</div>\n");
    let means = if report.replications == 1 {
        "Figures from one replication, so no confidence interval.".to_string()
    } else {
        format!(
            "Means over {} replications; &plusmn; the half-width of the 95% Student-t confidence \
             interval over replications (hover a value for the interval and n); &plusmn; 0 means \
             the value was the same in every replication.",
            report.replications
        )
    };
    let _ = writeln!(
        h,
        "<p class=\"caption\">{means} Latency is that of successful responses; error rates are \
         shares of the requests sent after warm-up that ended.</p>\n</section>"
    );
}

fn cell_html(h: &mut String, cell: &Cell<'_>, replications: u32) {
    match cell {
        Cell::Estimate { key, estimate } => {
            let title = match (estimate.ci95_low, estimate.ci95_high) {
                (Some(lo), Some(hi)) => format!(
                    "95% CI {} to {}, n = {}",
                    table::fmt_value(key, lo),
                    table::fmt_value(key, hi),
                    estimate.n
                ),
                _ => format!("n = {}", estimate.n),
            };
            let _ = write!(
                h,
                "<td title=\"{}\">{}",
                escape(&title),
                escape(&table::fmt_value(key, estimate.mean))
            );
            // Always a span, empty without an interval, so that values line up in a column.
            h.push_str(" <span class=\"ci\">");
            if let Some(hw) = table::half_width(estimate) {
                let _ = write!(h, "&plusmn;&nbsp;{}", escape(&table::fmt_value(key, hw)));
            }
            if estimate.n != replications {
                let _ = write!(h, " n&nbsp;=&nbsp;{}", estimate.n);
            }
            h.push_str("</span></td>");
        }
        Cell::SloMet(Some(true)) => {
            h.push_str("<td class=\"ok\">yes <span class=\"ci\"></span></td>")
        }
        Cell::SloMet(Some(false)) => {
            h.push_str("<td class=\"bad\">no <span class=\"ci\"></span></td>")
        }
        Cell::SloMet(None) | Cell::Missing => {
            h.push_str("<td class=\"missing\">&ndash; <span class=\"ci\"></span></td>");
        }
    }
}

fn figures_section(h: &mut String, figures: &[Figure]) {
    h.push_str("<section id=\"plots\">\n<h2>Plots</h2>\n");
    if figures.is_empty() {
        h.push_str("<p>No plots beside this report.</p>\n");
    }
    for f in figures {
        let caption = KNOWN_PLOTS
            .iter()
            .find(|(name, _)| *name == f.file_name)
            .map_or("", |(_, c)| c);
        let name = escape(&f.file_name);
        let alt = if caption.is_empty() {
            name.clone()
        } else {
            escape(caption)
        };
        let _ = writeln!(
            h,
            "<figure>\n<img alt=\"{alt}\" src=\"data:image/svg+xml;base64,{}\">\n<figcaption><code>{name}</code>{}{}</figcaption>\n</figure>",
            base64(&f.svg),
            if caption.is_empty() { "" } else { ": " },
            escape(caption)
        );
    }
    h.push_str("</section>\n");
}

fn runs(h: &mut String, report: &Report) {
    let cost = report.runs.iter().any(|r| r.summary.cost_usd.is_some());
    let slo = report.runs.iter().any(|r| r.summary.slo.is_some());
    h.push_str(
        "<section id=\"runs\">\n<h2>Runs</h2>\n<details>\n<summary>Each run's headline figures \
         (variants with the same replication saw the same arrivals)</summary>\n\
         <div class=\"table-wrap\">\n<table class=\"runs\">\n<thead><tr><th scope=\"col\">variant</th>\
         <th scope=\"col\">replication</th><th scope=\"col\">arrivals</th><th scope=\"col\">error rate</th>\
         <th scope=\"col\">latency p99</th>",
    );
    if slo {
        h.push_str("<th scope=\"col\">SLO violation (min)</th>");
    }
    if cost {
        h.push_str("<th scope=\"col\">cost (USD)</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in &report.runs {
        let s = &r.summary;
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(&r.variant),
            r.replication,
            s.arrivals,
            escape(&table::fmt_value("error_rate", s.error_rate)),
            escape(&table::fmt_value("latency_s.p99", s.latency_s.p99)),
        );
        if slo {
            let v = s.slo.as_ref().map_or("&ndash;".to_string(), |x| {
                escape(&table::fmt_value(
                    "slo.violation_minutes",
                    x.violation_minutes,
                ))
            });
            let _ = write!(h, "<td>{v}</td>");
        }
        if cost {
            let v = s.cost_usd.map_or("&ndash;".to_string(), |c| {
                escape(&table::fmt_value("cost_usd", c))
            });
            let _ = write!(h, "<td>{v}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n</div>\n</details>\n</section>\n");
}

fn configuration(h: &mut String, report: &Report) {
    let json =
        serde_json::to_string_pretty(&report.config).unwrap_or_else(|_| report.config.to_string());
    let _ = writeln!(
        h,
        "<section id=\"config\">\n<h2>Configuration</h2>\n<details open>\n<summary>The experiment as \
         it ran, with its model inlined ({} lines of JSON)</summary>\n<pre><code>{}</code></pre>\n</details>\n</section>",
        json.lines().count(),
        escape(&json)
    );
}

/// A duration in the config files' units, with seconds when that is not the unit already:
/// "2m (120 s)", "500ms (0.5 s)", "10s".
fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return format!("{seconds} s");
    }
    let d = SimDuration::from_secs_f64(seconds).to_string();
    if d.ends_with('s') && !d.ends_with("ms") && !d.ends_with("us") && !d.ends_with("ns") {
        d
    } else {
        format!("{d} ({seconds} s)")
    }
}

/// The SLO as the experiment states it, e.g. "p99 under 250ms, error rate under 1%, judged per
/// 10s window". `None` without an SLO.
fn slo_text(config: &serde_json::Value) -> Option<String> {
    let slo = config.get("slo")?.as_object()?;
    let quantile = slo
        .get("quantile")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.99);
    let mut parts = Vec::new();
    if let Some(l) = slo.get("latency") {
        parts.push(format!(
            "p{} latency under {}",
            hundredths(quantile),
            escape(&plain(l))
        ));
    }
    if let Some(e) = slo.get("error_rate") {
        let text = e
            .as_f64()
            .map_or_else(|| plain(e), |r| format!("{}%", hundredths(r)));
        parts.push(format!("error rate under {}", escape(&text)));
    }
    let window = slo.get("window").map_or_else(|| "1m".into(), plain);
    Some(format!(
        "{}; violation minutes counted per {} window",
        parts.join(", "),
        escape(&window)
    ))
}

/// A fraction in percent, without the binary noise of `x * 100` (0.07 is "7", not
/// "7.000000000000001").
fn hundredths(x: f64) -> String {
    let s = format!("{:.6}", x * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A JSON value as text, without quotes around a string.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `s` as one word for a POSIX shell: unchanged when it is plainly safe, single-quoted
/// otherwise.
fn shell_word(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Text made safe for HTML content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (RFC 4648, with padding), for `data:` URIs.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The style sheet: system fonts, readable at laptop widths, wide tables scroll sideways on
/// screen, and print without navigation or clipped tables.
const STYLE: &str = r#":root {
  --fg: #1d232a; --muted: #5b6672; --line: #d8dde3; --band: #f4f6f8;
  --accent: #1f5fa8; --note: #eef4fb; --ok: #1b7a3d; --bad: #b3261e;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--fg); background: #fff;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 74rem; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
header { margin-bottom: 1rem; }
.kicker { margin: 0; color: var(--muted); font-size: .75rem; letter-spacing: .08em; text-transform: uppercase; }
h1 { margin: .2rem 0 .5rem; font-size: 2rem; line-height: 1.2; overflow-wrap: anywhere; }
h2 { margin: 2.5rem 0 .8rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); font-size: 1.35rem; }
.description { max-width: 62rem; margin: 0 0 1rem; font-size: 1.05rem; white-space: pre-line; overflow-wrap: anywhere; }
nav { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; font-size: .9rem; }
a { color: var(--accent); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.5rem; margin: 0 0 1rem; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .85rem; }
pre { margin: .5rem 0 1rem; padding: .75rem 1rem; background: var(--band); border: 1px solid var(--line); border-radius: 6px; line-height: 1.45; white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { font-size: 1.12rem; margin: .6rem 0; padding: .7rem 1rem; border-left: 4px solid var(--ok); background: #eef7f0; border-radius: 0 6px 6px 0; }
.verdict.bad { border-left-color: var(--bad); background: #fbeeed; }
.note { margin: 1rem 0; padding: .7rem 1rem; background: var(--note); border-left: 4px solid var(--accent); border-radius: 0 6px 6px 0; }
.caption, figcaption { color: var(--muted); font-size: .88rem; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { width: 100%; border-collapse: collapse; font-size: .88rem; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .8rem; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; vertical-align: baseline; }
thead th { background: var(--band); white-space: normal; overflow-wrap: anywhere; min-width: 7rem; vertical-align: bottom; }
tbody th, thead th:first-child, tr.n th { text-align: left; font-weight: normal; position: sticky; left: 0; background: #fff; }
thead th:first-child { background: var(--band); }
tr.n td, tr.n th { color: var(--muted); font-size: .8rem; background: var(--band); }
tr.section th { padding-top: .8rem; color: var(--accent); font-weight: 600; background: #fff; }
th.sub { padding-left: 2rem; color: var(--muted); }
tbody tr:hover td, tbody tr:hover th { background: #fafbfc; }
.ci { display: inline-block; min-width: 6.5em; color: var(--muted); font-size: .85em; text-align: left; }
table.stacked .ci { display: block; min-width: 0; text-align: right; }
td.ok { color: var(--ok); font-weight: 600; }
td.bad { color: var(--bad); font-weight: 600; }
td.missing { color: var(--muted); }
figure { margin: 1.5rem 0 2rem; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; background: #fff; }
figcaption { margin-top: .4rem; }
details > summary { cursor: pointer; margin: .4rem 0; }
footer { margin-top: 3rem; padding-top: .8rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .8rem; }
@media (max-width: 40rem) {
  main { padding: 1rem .8rem 2rem; }
  dl.meta { grid-template-columns: 1fr; }
  dl.meta dd { margin-bottom: .4rem; }
}
@media print {
  @page { margin: 14mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, .note, dl.meta, tr { break-inside: avoid; }
  .table-wrap { overflow: visible; border: none; }
  table { font-size: 8pt; }
  th, td { padding: .15rem .4rem; }
  tbody th, thead th:first-child, tr.n th { position: static; }
  pre { font-size: 7.5pt; }
  a { color: inherit; text-decoration: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_word("experiments/quickstart.json"),
            "experiments/quickstart.json"
        );
        assert_eq!(shell_word("my plan.json"), "'my plan.json'");
        assert_eq!(shell_word("it's.json"), r"'it'\''s.json'");
        assert_eq!(shell_word("$(rm -rf x).json"), "'$(rm -rf x).json'");
    }

    #[test]
    fn durations_show_seconds_when_the_unit_is_not_seconds() {
        assert_eq!(duration(120.0), "2m (120 s)");
        assert_eq!(duration(10.0), "10s");
        assert_eq!(duration(0.5), "500ms (0.5 s)");
        assert_eq!(duration(f64::NAN), "NaN s");
    }

    #[test]
    fn known_plots_come_first_in_page_order_then_the_rest_by_name() {
        let mut names = vec![
            "zeta.svg",
            "cost-slo.svg",
            "alpha.svg",
            "latency.svg",
            "replicas.svg",
        ];
        names.sort_by_key(|n| (known_rank(n), n.to_string()));
        assert_eq!(
            names,
            [
                "replicas.svg",
                "latency.svg",
                "cost-slo.svg",
                "alpha.svg",
                "zeta.svg"
            ]
        );
    }
}
