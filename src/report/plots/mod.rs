//! Plots, as SVG (and PNG on request): for a run, beside `report.json`, the services and their
//! calls as a map (when services call one another), load against replicas, p99 latency,
//! throughput, CPU, cache hit ratios, database replication lag and stale reads, and errors over
//! time, and cost (or instance-hours) against SLO-violation minutes with the Pareto front; for
//! a sweep, beside `sweep.json`, each metric against the swept parameter and, for a grid over
//! two parameters, heatmaps.
//!
//! Time-series plots and the map show replication 0 of each variant; the scatter shows the means over
//! replications from the report. Each variant keeps one colour, in variant order, across every
//! plot, run and sweep alike. Rendering is deterministic: the same report and results give
//! byte-identical files (no timestamps, no unordered maps, and plotters' SVG backend prints
//! coordinates as integers).
//!
//! Every data series sits in its own `<g class="series" data-series="NAME">` group, so that a
//! reader, a stylesheet or a test can tell the series apart and count them.
//!
//! Long runs are downsampled before drawing: consecutive buckets are grouped so that a line has
//! at most [`MAX_GROUPS`] groups, and each group contributes its lowest and its highest point,
//! in the order they occurred. A line therefore has at most 2 x [`MAX_GROUPS`] points, and
//! every spike and dip still reaches its true height (a stride would drop those narrower than
//! the stride). A 24-hour run at 1 s resolution draws at most 2,000 points per line.
//!
//! A bucket without a value (no successful response, hence no p99) breaks its line rather than
//! being bridged by a straight segment; a lone point between two gaps is drawn as a dot.
//! Values that are not finite count as missing: never drawn, never stretching an axis.
//!
//! Code map: `chart` (shared primitives), `cache` (hit ratios and misses), `database`
//! (replication lag and stale reads), `topology` (services as boxes, calls as arrows, the
//! saturated service marked), `timeseries` (the run's plots over time), `scatter` (cost
//! against SLO minutes, the Pareto front), `sweep` (sweep curves and heatmaps), `png`
//! (rasterising an SVG with an embedded font), `file` (what `surge plot` draws of a file).

mod cache;
mod chart;
mod database;
mod file;
mod png;
mod scatter;
pub mod sweep;
mod timeseries;
mod topology;

pub use cache::cache;
pub use database::database;
pub use file::{PlotFileError, plot_file};
pub use png::{PNG_SCALE, to_png};
pub use scatter::{cost_slo, pareto_front};
pub use timeseries::{cpu, errors, latency, replicas, throughput};
pub use topology::{CPU_SATURATED, QUEUE_SATURATED, topology};

use super::Report;
use crate::experiment::RunResult;
use crate::simulation::SloSummary;
use chart::fmt_num;

/// Every file name [`render`] may write, so that a caller can clear stale ones.
pub const FILE_NAMES: [&str; 10] = [
    TOPOLOGY_FILE,
    REPLICAS_FILE,
    LATENCY_FILE,
    THROUGHPUT_FILE,
    CPU_FILE,
    CACHE_FILE,
    DATABASE_FILE,
    ERRORS_FILE,
    COST_SLO_FILE,
    INSTANCE_HOURS_SLO_FILE,
];

/// Services as boxes and their calls as arrows, one panel per variant; written only when the
/// model has an edge between services.
pub const TOPOLOGY_FILE: &str = "topology.svg";
/// Load and replicas over time, one row of panels per variant.
pub const REPLICAS_FILE: &str = "replicas.svg";
/// p99 latency over time, one line per variant, with the SLO target.
pub const LATENCY_FILE: &str = "latency.svg";
/// Arrivals and successful responses per second over time, one panel per variant.
pub const THROUGHPUT_FILE: &str = "throughput.svg";
/// CPU utilisation over time, one panel per service, one line per variant.
pub const CPU_FILE: &str = "cpu.svg";
/// Each cache's hit ratio and misses per second over time, one line per variant; written only
/// when the model has caches.
pub const CACHE_FILE: &str = "cache.svg";
/// Each database's replication lag (mean and longest) and stale reads (% of replica reads)
/// over time, one line per variant; written only when the model has databases.
pub const DATABASE_FILE: &str = "database.svg";
/// Errors per second by cause over time, one panel per variant.
pub const ERRORS_FILE: &str = "errors.svg";
/// Cost against SLO-violation minutes, one point per variant.
pub const COST_SLO_FILE: &str = "cost-slo.svg";
/// Instance-hours against SLO-violation minutes, written instead of [`COST_SLO_FILE`] when the
/// experiment has an SLO but no prices: the file name says what the x axis is.
pub const INSTANCE_HOURS_SLO_FILE: &str = "instance-hours-slo.svg";

/// Most groups a time-series line is reduced to; each gives at most two points.
pub const MAX_GROUPS: usize = 1_000;

/// A rendered plot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plot {
    /// File name, ending in `.svg`: one of [`FILE_NAMES`] for a run, `sweep-...` for a sweep.
    pub file_name: String,
    /// The SVG document.
    pub svg: String,
}

impl Plot {
    /// The name of the plot's PNG copy: its file name with `.png` for `.svg`.
    pub fn png_name(&self) -> String {
        png_name(&self.file_name)
    }
}

/// `x.png` for `x.svg` (and for any other name, `.png` appended).
pub fn png_name(svg_name: &str) -> String {
    format!("{}.png", svg_name.strip_suffix(".svg").unwrap_or(svg_name))
}

/// A plot could not be drawn (or rasterised).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot draw {file_name}: {message}")]
pub struct PlotError {
    /// The plot's file name.
    pub file_name: String,
    /// What the drawing library reported.
    pub message: String,
}

/// Renders every plot the data supports, in a fixed order: [`topology`] (the map, read
/// first), [`replicas`], [`latency`], [`throughput`], [`cpu`], [`cache`], [`database`],
/// [`errors`], [`cost_slo`]. A plot
/// without data is left out, never written empty (so a run without a single error has no
/// `errors.svg`, and one without calls between services no `topology.svg`).
pub fn render(report: &Report, results: &[RunResult]) -> Result<Vec<Plot>, PlotError> {
    Ok([
        topology(report)?,
        replicas(report, results)?,
        latency(report, results)?,
        throughput(report, results)?,
        cpu(report, results)?,
        cache(report, results)?,
        database(report, results)?,
        errors(report, results)?,
        cost_slo(report)?,
    ]
    .into_iter()
    .flatten()
    .collect())
}

/// The SLO of the experiment, as the first run that measured one reports it.
pub(super) fn slo(report: &Report) -> Option<&SloSummary> {
    report.runs.iter().find_map(|r| r.summary.slo.as_ref())
}

/// The SLO as legend lines: what a window must meet, and the window.
pub(super) fn describe_slo(s: &SloSummary) -> Vec<String> {
    let mut lines = vec![format!("SLO per {} s window:", fmt_num(s.window_s))];
    if let Some(t) = s.latency_target_s.filter(|t| t.is_finite()) {
        lines.push(format!(
            "{} ≤ {} ms",
            quantile_name(s.quantile),
            fmt_num(t * 1e3)
        ));
    }
    if let Some(e) = s.error_rate_target.filter(|e| e.is_finite()) {
        lines.push(format!("errors ≤ {}%", fmt_num(e * 100.0)));
    }
    lines
}

/// `p99` for 0.99, `p99.9` for 0.999, `p99.99` for 0.9999.
pub(super) fn quantile_name(q: f64) -> String {
    let percent = format!("{:.4}", q * 100.0);
    format!("p{}", percent.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::chart::*;
    use super::*;
    use crate::experiment::stats::estimate;
    use crate::experiment::{ExecuteOptions, run_experiment};
    use crate::metrics::timeseries::TimeSeriesRow;
    use crate::report::ImageFormats;
    use plotters::prelude::*;
    use std::path::PathBuf;

    /// Two variants (3 and 4 instances), two replications, 20 s with an SLO; no prices.
    const EXPERIMENT: &str = r#"{
      "name": "plots-test",
      "model": {
        "name": "tiny",
        "services": {
          "api": {
            "replicas": 3,
            "instance": { "cores": 1, "runtime": "thread_pool", "concurrency_limit": 16, "queue_limit": 32 },
            "balancer": { "kind": "round_robin" },
            "endpoints": { "work": { "steps": [ { "cpu": { "kind": "exponential", "mean": "5ms" } } ] } }
          }
        }
      },
      "workload": [ {
        "name": "users", "kind": "open",
        "rate": { "kind": "spike", "baseline_rps": 200, "peak_rps": 700, "start": "6s", "rise": "2s", "plateau": "5s", "decay": "2s" },
        "mix": [ { "service": "api", "endpoint": "work" } ],
        "timeout": "2s"
      } ],
      "duration": "20s",
      "warmup": "2s",
      "seed": 3,
      "replications": 2,
      "resolution": "1s",
      "slo": { "quantile": 0.99, "latency": "50ms", "window": "5s" },
      "variants": { "three": {}, "four": { "services": { "api": { "replicas": 4 } } } }
    }"#;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("surge-plots-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fixture(tag: &str) -> (Report, Vec<RunResult>) {
        let path = temp_dir(tag).join("plots-test.json");
        std::fs::write(&path, EXPERIMENT).unwrap();
        let exp = crate::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"));
        if let Some(dir) = path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        let results = run_experiment(&exp, &ExecuteOptions::default())
            .expect("the run stays within its limits");
        (Report::new(&exp, &results), results)
    }

    fn hex(c: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
    }

    /// `<polyline>` elements drawn in `colour` at full `opacity`.
    fn polylines(svg: &str, colour: RGBColor, opacity: &str) -> usize {
        let stroke = format!("stroke=\"{}\"", hex(colour));
        let opacity = format!("opacity=\"{opacity}\"");
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&stroke) && l.contains(&opacity))
            .count()
    }

    fn well_formed(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "a non-finite value was drawn"
        );
    }

    #[test]
    fn every_plot_is_well_formed_svg() {
        let (report, results) = fixture("well-formed");
        let plots = render(&report, &results).unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.file_name.as_str()).collect();
        // No prices in the model: instance-hours take the cost axis.
        assert_eq!(
            names,
            [
                REPLICAS_FILE,
                LATENCY_FILE,
                THROUGHPUT_FILE,
                CPU_FILE,
                ERRORS_FILE,
                INSTANCE_HOURS_SLO_FILE
            ]
        );
        for p in &plots {
            well_formed(&p.svg);
        }
    }

    #[test]
    fn replicas_draws_load_and_three_replica_lines_per_variant() {
        let (report, results) = fixture("replicas");
        let svg = replicas(&report, &results).unwrap().unwrap().svg;
        well_formed(&svg);
        assert!(svg.contains("height=\"484\""), "44 + 2 x 220 px");
        assert_eq!(polylines(&svg, LOAD_GREY, "1"), 2);
        assert_eq!(polylines(&svg, DESIRED, "1"), 2);
        for i in 0..2 {
            assert_eq!(polylines(&svg, variant_colour(i), "1"), 1, "ready");
            assert_eq!(polylines(&svg, variant_colour(i), "0.45"), 1, "starting");
        }
        for text in [
            "arrivals/s",
            "replicas",
            "time (s)",
            "\nthree\n",
            "\nfour\n",
        ] {
            assert!(svg.contains(text), "{text}");
        }
    }

    #[test]
    fn latency_draws_a_line_per_variant_and_the_slo_target() {
        let (mut report, results) = fixture("latency");
        let svg = latency(&report, &results).unwrap().unwrap().svg;
        well_formed(&svg);
        for i in 0..2 {
            assert_eq!(polylines(&svg, variant_colour(i), "1"), 1);
        }
        assert!(polylines(&svg, SLO_RED, "1") >= 2, "a dashed line");
        assert!(svg.contains("SLO: p99 ≤ 50 ms"));

        for run in &mut report.runs {
            run.summary.slo = None;
        }
        let svg = latency(&report, &results).unwrap().unwrap().svg;
        assert_eq!(polylines(&svg, SLO_RED, "1"), 0);
        assert!(!svg.contains("SLO"));
    }

    #[test]
    fn cost_slo_has_one_labelled_point_per_variant() {
        let (mut report, _) = fixture("cost");
        let plot = cost_slo(&report).unwrap().unwrap();
        assert_eq!(plot.file_name, INSTANCE_HOURS_SLO_FILE);
        assert!(plot.svg.contains("instance-hours"));

        for (i, v) in report.variants.values_mut().enumerate() {
            v.metrics.insert(
                "cost_usd".into(),
                estimate(&[1.0 + i as f64, 1.5 + i as f64]),
            );
        }
        let plot = cost_slo(&report).unwrap().unwrap();
        assert_eq!(plot.file_name, COST_SLO_FILE);
        well_formed(&plot.svg);
        for name in ["three", "four"] {
            assert_eq!(in_series(&plot.svg, name, "<circle"), 1, "{name}");
        }
        // Four instances cost more; whether they buy fewer minutes decides the front.
        let on_front = in_series(&plot.svg, "Pareto front", "<circle");
        assert!((1..=2).contains(&on_front));
        assert!(plot.svg.contains("Pareto front"));
        for name in ["three", "four"] {
            // The label beside the point and the legend entry.
            assert_eq!(
                plot.svg.matches(&format!("\n{name}\n")).count(),
                2,
                "{name}"
            );
        }
        assert!(plot.svg.contains("cost (USD)"));

        for v in report.variants.values_mut() {
            v.metrics.shift_remove("slo.violation_minutes");
        }
        assert_eq!(cost_slo(&report).unwrap(), None, "no SLO, no plot");
    }

    #[test]
    fn no_rows_no_time_series_plots() {
        let (report, mut results) = fixture("no-rows");
        for r in &mut results {
            r.output.timeseries.clear();
        }
        assert_eq!(replicas(&report, &results).unwrap(), None);
        assert_eq!(latency(&report, &results).unwrap(), None);
        let plots = render(&report, &results).unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.file_name.as_str()).collect();
        assert_eq!(names, [INSTANCE_HOURS_SLO_FILE]);
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let (mut report, mut results) = fixture("non-finite");
        for r in &mut results {
            for (i, row) in r.output.timeseries.iter_mut().enumerate() {
                match i % 4 {
                    0 => row.p99_s = f64::NAN,
                    1 => row.p99_s = f64::INFINITY,
                    2 => row.width_s = 0.0,
                    _ => {}
                }
            }
        }
        for (i, v) in report.variants.values_mut().enumerate() {
            let cost = if i == 0 { f64::NAN } else { 2.0 };
            v.metrics.insert("cost_usd".into(), estimate(&[cost, cost]));
        }
        report.duration_s = f64::NAN;
        for p in render(&report, &results).unwrap() {
            well_formed(&p.svg);
        }
        // The variant without a finite cost is left off; the other keeps its point.
        let plot = cost_slo(&report).unwrap().unwrap();
        assert_eq!(plot.file_name, COST_SLO_FILE);
        assert_eq!(in_series(&plot.svg, "three", "<circle"), 0);
        assert_eq!(in_series(&plot.svg, "four", "<circle"), 1);
        assert_eq!(in_series(&plot.svg, "Pareto front", "<circle"), 1);
    }

    /// Lines of the series group `name` that start with `element`.
    fn in_series(svg: &str, name: &str, element: &str) -> usize {
        let open = format!("<g class=\"series\" data-series=\"{name}\">");
        svg.lines()
            .skip_while(|l| *l != open)
            .skip(1)
            .take_while(|l| *l != "</g>")
            .filter(|l| l.starts_with(element))
            .count()
    }

    #[test]
    fn new_time_series_plots_draw_a_line_per_series() {
        let (report, results) = fixture("new-plots");
        let svg = throughput(&report, &results).unwrap().unwrap().svg;
        well_formed(&svg);
        for v in ["three", "four"] {
            assert_eq!(in_series(&svg, &format!("{v}: arrivals/s"), "<polyline"), 1);
            assert_eq!(in_series(&svg, &format!("{v}: ok/s"), "<polyline"), 1);
        }
        let svg = cpu(&report, &results).unwrap().unwrap().svg;
        for v in ["three", "four"] {
            assert_eq!(in_series(&svg, &format!("api: {v}"), "<polyline"), 1);
        }
        assert!(svg.contains("CPU (%)"));
        let svg = errors(&report, &results).unwrap().unwrap().svg;
        assert_eq!(in_series(&svg, "three: rejected", "<polyline"), 1);
        assert_eq!(in_series(&svg, "four: rejected", "<polyline"), 1);
    }

    #[test]
    fn errors_are_left_out_without_errors_and_marked_where_a_variant_has_none() {
        let (report, mut results) = fixture("no-errors");
        let clear = |r: &mut RunResult| {
            for row in &mut r.output.timeseries {
                row.outcomes = Default::default();
            }
        };
        for r in results.iter_mut().filter(|r| r.variant == "four") {
            clear(r);
        }
        let svg = errors(&report, &results).unwrap().unwrap().svg;
        assert_eq!(svg.matches("\nno errors\n").count(), 1);
        assert_eq!(
            in_series(&svg, "four: rejected", "<polyline"),
            1,
            "flat at zero"
        );
        results.iter_mut().for_each(clear);
        assert_eq!(errors(&report, &results).unwrap(), None);
    }

    #[test]
    fn series_names_are_escaped_into_their_group() {
        let svg = chart::render_svg((100, 100), |root| {
            chart::in_series(root, "a \"b\" <c> & d", || {
                root.draw(&Circle::new((5, 5), 2, BLACK.filled()))
            })?;
            chart::begin_series(root, "unclosed")?;
            root.draw(&Circle::new((5, 5), 2, BLACK.filled()))
        })
        .unwrap();
        assert!(svg.contains(
            "<g class=\"series\" data-series=\"a &quot;b&quot; &lt;c&gt; &amp; d\">\n<circle"
        ));
        assert!(svg.ends_with("/>\n</g>\n</svg>\n"), "{svg}");
        assert!(!svg.contains('\u{E000}'));
    }

    #[test]
    fn long_runs_are_downsampled_to_bounded_lines() {
        let (report, mut results) = fixture("long");
        // A day at 1 s resolution, with one 1-second spike in the middle.
        for r in &mut results {
            let template = r.output.timeseries[5].clone();
            r.output.timeseries = (0..86_400)
                .map(|t| TimeSeriesRow {
                    t_s: f64::from(t),
                    width_s: 1.0,
                    arrivals: if t == 43_210 { 9_000 } else { 300 },
                    p99_s: if t == 43_210 { 1.5 } else { 0.02 },
                    ..template.clone()
                })
                .collect();
        }
        let mut report = report;
        report.duration_s = 86_400.0;
        for p in [
            replicas(&report, &results).unwrap().unwrap(),
            latency(&report, &results).unwrap().unwrap(),
        ] {
            well_formed(&p.svg);
            assert!(p.svg.contains("time (h)"));
            for line in p.svg.lines().filter(|l| l.starts_with("<polyline")) {
                let points = line.matches(',').count();
                assert!(points <= 2 * MAX_GROUPS, "{points} points");
            }
        }
    }

    #[test]
    fn downsampling_keeps_peaks_and_dips() {
        let mut points: Vec<Option<(f64, f64)>> =
            (0..86_400).map(|t| Some((f64::from(t), 10.0))).collect();
        points[40_001] = Some((40_001.0, 99.0));
        points[60_002] = Some((60_002.0, -5.0));
        let lines = downsample(&points, MAX_GROUPS);
        let [out] = lines.as_slice() else {
            panic!("one line, got {}", lines.len())
        };
        assert!(out.len() <= 2 * MAX_GROUPS);
        assert!(out.contains(&(40_001.0, 99.0)));
        assert!(out.contains(&(60_002.0, -5.0)));
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "in x order");
        assert_eq!(out.first(), Some(&(0.0, 10.0)));
        let short: Vec<(f64, f64)> = points[..100].iter().flatten().copied().collect();
        assert_eq!(downsample(&points[..100], MAX_GROUPS), [short]);
    }

    #[test]
    fn missing_values_break_lines() {
        let p = |x: f64| Some((x, x));
        let points = [p(0.0), p(1.0), None, None, p(4.0), None, p(6.0), p(7.0)];
        assert_eq!(
            downsample(&points, MAX_GROUPS),
            [
                vec![(0.0, 0.0), (1.0, 1.0)],
                vec![(4.0, 4.0)],
                vec![(6.0, 6.0), (7.0, 7.0)]
            ]
        );
        // Grouped: a group with any value continues the line; an empty one breaks it.
        let mut long: Vec<Option<(f64, f64)>> = (0..10_000).map(|t| p(f64::from(t))).collect();
        long[5_000..5_030].fill(None);
        long[7_000] = None;
        assert_eq!(downsample(&long, 1_000).len(), 2);
        assert_eq!(
            downsample(&[None, None], MAX_GROUPS),
            Vec::<Vec<(f64, f64)>>::new()
        );
    }

    #[test]
    fn latency_lines_break_where_no_request_succeeded() {
        let (report, mut results) = fixture("gaps");
        let run = results
            .iter_mut()
            .find(|r| r.variant == "three" && r.id.replication == 0)
            .unwrap();
        for row in &mut run.output.timeseries[8..11] {
            row.p99_s = 0.0;
        }
        run.output.timeseries[12].p99_s = 0.0;
        let svg = latency(&report, &results).unwrap().unwrap().svg;
        // Rows 0-7, 11 (a dot) and 13-19.
        assert_eq!(polylines(&svg, variant_colour(0), "1"), 2);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert_eq!(polylines(&svg, variant_colour(1), "1"), 1);
    }

    #[test]
    fn writing_twice_gives_identical_files() {
        let (report, results) = fixture("twice");
        let dir = temp_dir("twice-out");
        let first =
            super::super::write_outputs(&dir, &report, &results, ImageFormats::Svg).unwrap();
        let names: Vec<String> = first
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "report.json",
                "timeseries.csv",
                REPLICAS_FILE,
                LATENCY_FILE,
                THROUGHPUT_FILE,
                CPU_FILE,
                ERRORS_FILE,
                INSTANCE_HOURS_SLO_FILE
            ]
        );
        let bytes: Vec<Vec<u8>> = first.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let second =
            super::super::write_outputs(&dir, &report, &results, ImageFormats::Svg).unwrap();
        assert_eq!(first, second);
        for (p, b) in second.iter().zip(&bytes) {
            assert_eq!(&std::fs::read(p).unwrap(), b, "{}", p.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn tick_labels_and_steps_are_round() {
        for (v, s) in [
            (0.0, "0"),
            (1500.0, "1500"),
            (12.5, "12.5"),
            (2.0, "2"),
            (0.25, "0.25"),
            (-0.0001, "0"),
        ] {
            assert_eq!(fmt_num(v), s);
        }
        assert_eq!(
            nice_ticks(0.0, 15.0, 8, 0.0),
            [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]
        );
        assert_eq!(
            nice_ticks(0.0, 3.0, 5, 1.0),
            [0.0, 1.0, 2.0, 3.0],
            "whole replicas"
        );
        assert_eq!(quantile_name(0.99), "p99");
        assert_eq!(quantile_name(0.999), "p99.9");
        assert_eq!(quantile_name(0.9999), "p99.99");
        let span = ValueAxis::span(40.0, 90.0, 6, FromZero::No);
        assert_eq!(span.ticks, [40.0, 50.0, 60.0, 70.0, 80.0, 90.0]);
        assert!(span.lo < 40.0 && span.hi > 90.0);
        let span = ValueAxis::span(0.2, 1.3, 5, FromZero::Yes);
        assert_eq!(span.lo, 0.0);
        assert_eq!(span.ticks, [0.0, 0.5, 1.0, 1.5]);
        // One value: a range from zero around it, never an empty axis.
        let flat = ValueAxis::span(0.0, 0.0, 5, FromZero::Yes);
        assert!(flat.lo == 0.0 && flat.hi >= 1.0);
        let flat = ValueAxis::span(2.0, 2.0, 5, FromZero::Yes);
        assert!(flat.lo == 0.0 && flat.hi > 2.0 && flat.ticks.contains(&2.0));
        let log = ValueAxis::log(8.0, 2_000.0);
        let labels: Vec<String> = log.ticks.iter().map(|t| fmt_num(log.value(*t))).collect();
        assert_eq!(
            labels,
            ["10", "20", "50", "100", "200", "500", "1000", "2000"]
        );
    }
}
