//! Plots of a sweep (`sweep.json`): each metric against the swept parameter, one line per
//! variant with its 95% band (`sweep-METRIC.svg`); and, when the sweep is a grid over exactly
//! two parameters, a heatmap of each metric with a panel per variant on one colour scale
//! (`sweep-heatmap-METRIC.svg`).
//!
//! The x axis is the first parameter: numeric values on a linear axis, or a logarithmic one
//! when they are positive and span more than 1.5 decades; any other values (strings, objects)
//! as evenly spaced categories in sweep order. A grid over more parameters gets small
//! multiples: one panel per combination of the others' values, on shared axes. In a zip, the
//! parameters move together, so the first stands for all of them.

use super::chart::*;
use super::{Plot, PlotError, quantile_name};
use crate::experiment::stats::Estimate;
use crate::sweep::SweepReport;
use crate::sweep::spec::{Segment, parse_path};
use indexmap::{IndexMap, IndexSet};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

/// Metrics plotted when none is asked for, in this order, when the sweep has them.
pub const DEFAULT_METRICS: [&str; 4] = [
    "latency_s.p99",
    "error_rate",
    "slo.violation_minutes",
    "cost_usd",
];

/// Per-service metrics plotted by default, for every service (`services.<name>.<metric>`).
pub const DEFAULT_SERVICE_METRICS: [&str; 2] = ["instance_hours", "peak_instances"];

/// Values of a parameter that span more than this factor (1.5 decades) get a log axis.
const LOG_SPAN: f64 = 31.622_776_601_683_793;

/// The sweep cannot be plotted as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepPlotError {
    /// A metric the sweep does not have.
    #[error("unknown metric `{name}`; the sweep has: {}", .available.join(", "))]
    UnknownMetric {
        /// The name asked for.
        name: String,
        /// Every metric the sweep has, in order.
        available: Vec<String>,
    },
    /// Nothing to plot.
    #[error("the sweep has no points")]
    NoPoints,
    /// Drawing failed.
    #[error(transparent)]
    Draw(#[from] PlotError),
}

/// Every metric the sweep holds, in order of first appearance.
pub fn available_metrics(report: &SweepReport) -> Vec<String> {
    let mut seen: IndexSet<&str> = IndexSet::new();
    for p in &report.points {
        for v in p.variants.values() {
            seen.extend(v.metrics.keys().map(String::as_str));
        }
    }
    seen.into_iter().map(String::from).collect()
}

/// The metrics plotted by default: [`DEFAULT_METRICS`], then [`DEFAULT_SERVICE_METRICS`] of
/// every service, those the sweep has.
pub fn default_metrics(report: &SweepReport) -> Vec<String> {
    let available = available_metrics(report);
    let mut out: Vec<String> = DEFAULT_METRICS
        .iter()
        .filter(|m| available.iter().any(|a| a == *m))
        .map(|m| m.to_string())
        .collect();
    // Services in order, from metric names (`services.<name>.<metric>`, names may hold dots).
    let mut services: IndexSet<&str> = IndexSet::new();
    for m in &available {
        if let Some(rest) = m.strip_prefix("services.") {
            for s in DEFAULT_SERVICE_METRICS {
                if let Some(name) = rest.strip_suffix(s).and_then(|r| r.strip_suffix('.')) {
                    services.insert(name);
                }
            }
        }
    }
    for name in services {
        for s in DEFAULT_SERVICE_METRICS {
            let m = format!("services.{name}.{s}");
            if available.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// Renders the plots of `metrics` (the defaults when empty), metric by metric: the curves,
/// then the heatmap when the sweep is a grid over two parameters. A metric the sweep does not
/// have is an error that lists those it has.
pub fn render_sweep(report: &SweepReport, metrics: &[String]) -> Result<Vec<Plot>, SweepPlotError> {
    if report.points.is_empty() {
        return Err(SweepPlotError::NoPoints);
    }
    let available = available_metrics(report);
    let chosen: Vec<String> = if metrics.is_empty() {
        default_metrics(report)
    } else {
        if let Some(unknown) = metrics.iter().find(|m| !available.contains(m)) {
            return Err(SweepPlotError::UnknownMetric {
                name: unknown.clone(),
                available,
            });
        }
        let unique: IndexSet<&String> = metrics.iter().collect();
        unique.into_iter().cloned().collect()
    };
    let layout = Layout::new(report);
    let mut plots = Vec::new();
    for metric in &chosen {
        plots.push(curves(report, &layout, metric)?);
        if let Some(h) = heatmap(report, metric)? {
            plots.push(h);
        }
    }
    Ok(plots)
}

/// The file name of the curves of `metric`.
pub fn curves_file(metric: &str) -> String {
    format!("sweep-{}.svg", file_safe(metric))
}

/// The file name of the heatmap of `metric`.
pub fn heatmap_file(metric: &str) -> String {
    format!("sweep-heatmap-{}.svg", file_safe(metric))
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// How a metric is shown: the factor from its stored unit and the axis label a person reads
/// (`p99 latency (ms)` for `latency_s.p99`); a metric without a known name keeps its own,
/// with its unit.
fn unit(metric: &str) -> (f64, String) {
    let (factor, unit) = if metric.ends_with("_s") || metric.contains("_s.") {
        (1e3, " (ms)")
    } else if metric == "error_rate"
        || metric.ends_with(".error_rate")
        || metric.starts_with("error_rates.")
        || metric.ends_with("cpu_utilisation")
        || metric.ends_with("probability")
    {
        (100.0, " (%)")
    } else if metric.ends_with("_minutes") {
        (1.0, " (min)")
    } else if metric.ends_with("_usd") {
        (1.0, " (USD)")
    } else if metric.ends_with("_rps") {
        (1.0, " (req/s)")
    } else {
        (1.0, "")
    };
    let (service, name) = match metric
        .strip_prefix("services.")
        .and_then(|r| r.rsplit_once('.'))
    {
        Some((service, name)) => (Some(service), name),
        None => (None, metric),
    };
    let known = match name {
        "latency_s.mean" => Some("mean latency".to_string()),
        "latency_s.max" => Some("max latency".to_string()),
        "mean_response_s" => Some("mean response time".to_string()),
        "error_rate" => Some("error rate".to_string()),
        "slo.violation_minutes" => Some("SLO violation".to_string()),
        "cost_usd" => Some("cost".to_string()),
        "cost_per_million_ok_usd" => Some("cost per million ok".to_string()),
        "throughput_rps" => Some("throughput".to_string()),
        "arrival_rate_rps" => Some("arrival rate".to_string()),
        "instance_hours" => Some("instance-hours".to_string()),
        "peak_instances" => Some("peak instances".to_string()),
        "cpu_utilisation" => Some("CPU utilisation".to_string()),
        "mean_queue_length" => Some("mean queue length".to_string()),
        "peak_event_loop_lag_s" => Some("peak event-loop lag".to_string()),
        other => other
            .strip_prefix("latency_s.")
            .map(|q| format!("{q} latency"))
            .or_else(|| {
                other
                    .strip_prefix("error_rates.")
                    .map(|cause| format!("{} rate", cause.replace('_', " ")))
            }),
    };
    let label = match (service, known) {
        (Some(service), Some(known)) => format!("{service} {known}{unit}"),
        (None, Some(known)) => format!("{known}{unit}"),
        _ => format!("{metric}{unit}"),
    };
    (factor, label)
}

/// A swept parameter as an axis label a person reads, from its path: `workload[0].rate.rps`
/// is "arrival rate (req/s), client NAME" (the client's name when the sweep recorded it),
/// `model.services.api.replicas` is "api replicas". A path of another shape is its own label.
fn parameter_label(path: &str, clients: &[String]) -> String {
    let Ok(segments) = parse_path(path) else {
        return path.to_string();
    };
    let words = |rest: &[Segment]| -> String {
        rest.iter()
            .map(|s| match s {
                Segment::Key(k) => k.replace('_', " "),
                Segment::Index(i) => format!("#{i}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let key = |s: &Segment, name: &str| matches!(s, Segment::Key(k) if k == name);
    match segments.as_slice() {
        [w, Segment::Index(k), rest @ ..] if key(w, "workload") => {
            let client = clients
                .get(*k)
                .map_or_else(|| format!("client #{k}"), |n| format!("client {n}"));
            let what = match rest {
                [r, Segment::Key(field)] if key(r, "rate") => rate_label(field),
                [Segment::Key(field)] if field == "connections" => "connections".to_string(),
                [] => return path.to_string(),
                _ => words(rest),
            };
            format!("{what}, {client}")
        }
        [m, s, Segment::Key(name), rest @ ..] if key(m, "model") && key(s, "services") => {
            let what = match rest {
                [] => return path.to_string(),
                [Segment::Key(f)] if f == "replicas" => "replicas".to_string(),
                [i, Segment::Key(f)] if key(i, "instance") && f == "cores" => {
                    "cores per instance".to_string()
                }
                [a, .., Segment::Key(f)] if key(a, "autoscaler") && f == "average_utilization" => {
                    "autoscaler target utilisation (%)".to_string()
                }
                _ => words(rest),
            };
            format!("{name} {what}")
        }
        _ => path.to_string(),
    }
}

/// A rate profile's field: `rps` is the arrival rate, `peak_rps` the peak rate, in req/s.
fn rate_label(field: &str) -> String {
    match field {
        "rps" => "arrival rate (req/s)".to_string(),
        f => match f.strip_suffix("_rps") {
            Some(which) => format!("{} rate (req/s)", which.replace('_', " ")),
            None => format!("rate {}", f.replace('_', " ")),
        },
    }
}

/// A parameter value as a label: strings without quotes, long values cut short.
fn value_label(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), fmt_value),
        other => other.to_string(),
    };
    shorten(&text, 24)
}

/// A number as written, without float noise: up to six significant digits.
fn fmt_value(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// At most `max` characters, keeping the end (the most specific part of a path).
fn shorten(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        text.to_string()
    } else {
        let tail: String = text.chars().skip(n + 1 - max).collect();
        format!("…{tail}")
    }
}

/// Where each point sits: its x position and its panel.
struct Layout {
    /// Label under the x axis.
    x_desc: String,
    x_axis: ValueAxis,
    /// Tick labels by position, for categories.
    categories: Option<Vec<String>>,
    /// Every how many categories a label is shown, so that labels never run together.
    stride: usize,
    /// One panel's size in pixels.
    panel: (u32, u32),
    /// The x position of each point, by index in `points`.
    x: Vec<Option<f64>>,
    /// Panels: caption (empty for a single panel) and the points in it.
    panels: Vec<(String, Vec<usize>)>,
    /// A note for the title, e.g. the parameters a zip moves together.
    note: String,
}

impl Layout {
    fn new(report: &SweepReport) -> Layout {
        let x_param = report.parameters.first().cloned().unwrap_or_default();
        let value_of = |i: usize| report.points[i].parameters.get(&x_param);
        let distinct: IndexSet<String> = (0..report.points.len())
            .filter_map(value_of)
            .map(|v| v.to_string())
            .collect();
        let numbers: Vec<Option<f64>> = (0..report.points.len())
            .map(|i| {
                value_of(i)
                    .and_then(Value::as_f64)
                    .filter(|v| v.is_finite())
            })
            .collect();
        let numeric = distinct.len() > 1 && numbers.iter().all(Option::is_some);
        let others: Vec<&String> = report.parameters.iter().skip(1).collect();
        let panel_count = if report.mode == "grid" && !others.is_empty() {
            let combos: IndexSet<String> = report
                .points
                .iter()
                .map(|p| {
                    let values: Vec<String> = others
                        .iter()
                        .map(|o| p.parameters.get(*o).map_or("?".into(), Value::to_string))
                        .collect();
                    values.join("\u{1F}")
                })
                .collect();
            combos.len()
        } else {
            1
        };
        let panel = panel_size(panel_count);
        // Margins (2 x 10) and the y labels (64) take the rest of the panel's width.
        let plot_px = f64::from(panel.0 - 84);
        let mut stride = 1;
        let (x_axis, categories, x, scale_note) = if numeric {
            let values: Vec<f64> = numbers.iter().flatten().copied().collect();
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if lo > 0.0 && hi / lo > LOG_SPAN {
                let x = numbers.iter().map(|v| v.map(f64::log10)).collect();
                let axis = thin_log_ticks(ValueAxis::log(lo, hi), plot_px);
                (axis, None, x, " (log scale)")
            } else {
                (fitted(lo, hi, plot_px), None, numbers, "")
            }
        } else {
            let labels: Vec<String> = distinct
                .iter()
                .map(|s| value_label(&serde_json::from_str(s).unwrap_or(Value::Null)))
                .collect();
            let x = (0..report.points.len())
                .map(|i| {
                    let v = value_of(i)?.to_string();
                    distinct.get_index_of(&v).map(|k| k as f64)
                })
                .collect();
            let n = labels.len().max(1);
            stride = category_stride(&labels, plot_px);
            let axis = ValueAxis {
                lo: -0.5,
                hi: n as f64 - 0.5,
                ticks: (0..n).map(|k| k as f64).collect(),
                log: false,
            };
            (axis, Some(labels), x, "")
        };
        let (panels, note) = if report.mode == "grid" && !others.is_empty() {
            let mut groups: IndexMap<String, Vec<usize>> = IndexMap::new();
            for (i, p) in report.points.iter().enumerate() {
                let caption = others
                    .iter()
                    .map(|o| {
                        let v = p.parameters.get(*o).map_or("?".into(), value_label);
                        format!("{} = {v}", parameter_label(o, &report.clients))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                groups.entry(caption).or_default().push(i);
            }
            (groups.into_iter().collect(), String::new())
        } else {
            let note = if others.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = others
                    .iter()
                    .map(|o| parameter_label(o, &report.clients))
                    .collect();
                format!(" ({} moving with it)", names.join(", "))
            };
            (
                vec![(String::new(), (0..report.points.len()).collect())],
                note,
            )
        };
        Layout {
            x_desc: format!("{}{scale_note}", parameter_label(&x_param, &report.clients)),
            x_axis,
            categories,
            stride,
            panel,
            x,
            panels,
            note,
        }
    }

    fn x_label(&self, position: f64) -> String {
        match &self.categories {
            Some(labels) => {
                let k = position.round();
                if (position - k).abs() > 1e-6 || k < 0.0 || k as usize % self.stride != 0 {
                    return String::new();
                }
                labels.get(k as usize).cloned().unwrap_or_default()
            }
            None => fmt_num(self.x_axis.value(position)),
        }
    }
}

/// The SLO's target for `metric`, in display units (`factor`), with its legend label: the
/// latency target on latency plots, the error-rate target on the error-rate plot.
fn slo_target(report: &SweepReport, metric: &str, factor: f64) -> Option<(f64, String)> {
    let slo = report.slo.as_ref()?;
    let (value, label) = if metric.starts_with("latency_s.") {
        let t = slo.latency_s? * factor;
        (
            t,
            format!("SLO: {} ≤ {} ms", quantile_name(slo.quantile), fmt_num(t)),
        )
    } else if metric == "error_rate" {
        let t = slo.error_rate? * factor;
        (t, format!("SLO: errors ≤ {}%", fmt_num(t)))
    } else {
        return None;
    };
    (value.is_finite() && value > 0.0).then_some((value, label))
}

/// "1 replication", or "mean of N replications".
fn replications(n: u32) -> String {
    if n == 1 {
        "1 replication".to_string()
    } else {
        format!("mean of {n} replications")
    }
}

/// At most `max` characters, keeping the start (a title reads from the left).
fn shorten_end(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let head: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    }
}

/// A panel's size: one large panel alone, smaller ones in a grid.
fn panel_size(panels: usize) -> (u32, u32) {
    if panels <= 1 { (780, 560) } else { (380, 300) }
}

/// A linear axis over the data and a 4% margin on each side, no further (a round end past
/// the last point would draw the curve short of the frame), with round ticks inside that fit
/// `width_px` pixels.
fn fitted(lo: f64, hi: f64, width_px: f64) -> ValueAxis {
    let margin = (hi - lo) * 0.04;
    let (lo, hi) = (lo - margin, hi + margin);
    ValueAxis {
        lo,
        hi,
        ticks: fitting_ticks(lo, hi, width_px, 6, fmt_num),
        log: false,
    }
}

/// A log axis's ticks at 1, 2 and 5 times powers of ten, or fewer (1 and 5, then powers of ten,
/// then every other power) until their labels fit `width_px` pixels.
fn thin_log_ticks(mut axis: ValueAxis, width_px: f64) -> ValueAxis {
    let all = std::mem::take(&mut axis.ticks);
    let mantissa = |t: f64| (10f64.powf(t) / 10f64.powf(t.floor())).round();
    let decade = |t: f64| (t + 1e-9).floor() as i64;
    let choices: [&dyn Fn(f64) -> bool; 4] = [
        &|_| true,
        &|t| mantissa(t) != 2.0,
        &|t| mantissa(t) == 1.0,
        &|t| mantissa(t) == 1.0 && decade(t) % 2 == 0,
    ];
    for keep in choices {
        let ticks: Vec<f64> = all.iter().copied().filter(|t| keep(*t)).collect();
        let labelled: Vec<(f64, String)> =
            ticks.iter().map(|&t| (t, fmt_num(axis.value(t)))).collect();
        if labels_fit(axis.lo, axis.hi, width_px, &labelled) || ticks.len() <= 2 {
            axis.ticks = ticks;
            return axis;
        }
    }
    axis.ticks = all.into_iter().take(1).collect();
    axis
}

fn estimate<'a>(
    report: &'a SweepReport,
    point: usize,
    variant: &str,
    metric: &str,
) -> Option<&'a Estimate> {
    report.points[point]
        .variants
        .get(variant)?
        .metrics
        .get(metric)
}

/// A mean and its 95% interval, in display units.
#[derive(Debug, Clone, Copy)]
struct Band {
    x: f64,
    mean: f64,
    low: f64,
    high: f64,
}

fn curves(report: &SweepReport, layout: &Layout, metric: &str) -> Result<Plot, PlotError> {
    let file_name = curves_file(metric);
    let (factor, y_desc) = unit(metric);
    // Every variant's bands, panel by panel, sorted by x.
    let bands: Vec<Vec<Vec<Band>>> = layout
        .panels
        .iter()
        .map(|(_, points)| {
            report
                .variants
                .iter()
                .map(|v| {
                    let mut b: Vec<Band> = points
                        .iter()
                        .filter_map(|&i| {
                            let e = estimate(report, i, v, metric)?;
                            let mean = e.mean * factor;
                            let x = layout.x[i]?;
                            let or_mean = |c: Option<f64>| {
                                c.map(|c| c * factor)
                                    .filter(|c| c.is_finite())
                                    .unwrap_or(mean)
                            };
                            (mean.is_finite() && x.is_finite()).then(|| Band {
                                x,
                                mean,
                                low: or_mean(e.ci95_low),
                                high: or_mean(e.ci95_high),
                            })
                        })
                        .collect();
                    b.sort_by(|a, c| a.x.total_cmp(&c.x));
                    b
                })
                .collect()
        })
        .collect();
    // Every default metric is a count, a rate, a time or a price: when no mean is negative,
    // neither is the metric, and an interval reaching below zero is cut at zero.
    let mut bands = bands;
    if bands.iter().flatten().flatten().all(|b| b.mean >= 0.0) {
        for b in bands.iter_mut().flatten().flatten() {
            b.low = b.low.max(0.0);
        }
    }
    let target = slo_target(report, metric, factor);
    let all = || bands.iter().flatten().flatten();
    let target_value = target.as_ref().map(|(v, _)| *v);
    let lo = all()
        .map(|b| b.low.min(b.mean))
        .chain(target_value)
        .fold(f64::INFINITY, f64::min);
    let hi = all()
        .map(|b| b.high.max(b.mean))
        .chain(target_value)
        .fold(f64::NEG_INFINITY, f64::max);
    let min_mean = all().map(|b| b.mean).fold(f64::INFINITY, f64::min);
    let y = if factor == 1e3 && min_mean > 0.0 && hi / min_mean > 20.0 {
        ValueAxis::log(lo.max(min_mean / 10.0).min(min_mean), hi)
    } else {
        ValueAxis::span(lo, hi, 5, FromZero::Yes)
    };
    let y_desc = if y.log {
        format!("{y_desc}, log scale")
    } else {
        y_desc
    };
    let n = layout.panels.len();
    let cols = if n == 1 { 1 } else { n.min(3) };
    let rows = n.div_ceil(cols);
    let (panel_w, panel_h) = layout.panel;
    // Tall enough for the legend too: a row per variant, the SLO's two and the band's three.
    let legend_rows = report.variants.len() as u32 + if target.is_some() { 2 } else { 0 } + 3;
    let size = (
        cols as u32 * panel_w + LEGEND_WIDTH,
        (HEADER_HEIGHT + rows as u32 * panel_h).max(HEADER_HEIGHT + 30 + 22 * legend_rows + 10),
    );
    let y_name = y_desc.split(" (").next().unwrap_or(&y_desc).to_string();
    let x_name = layout.x_desc.split(" (").next().unwrap_or(&layout.x_desc);
    let title = format!(
        "{}: {y_name} vs {x_name}{} ({}, 95% band)",
        report.experiment,
        layout.note,
        replications(report.replications)
    );
    // About 9 px a character at the title's size.
    let title = shorten_end(&title, (size.0 as usize - 24) / 9);
    let svg = render_svg(size, |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(&header, &title)?;
        let (grid, legend_area) = body.split_horizontally(cols as u32 * panel_w);
        let cells = grid.split_evenly((rows, cols));
        let x_fmt = |v: &f64| layout.x_label(*v);
        let y_fmt = |v: &f64| fmt_num(y.value(*v));
        let y_pos = |v: f64| {
            if y.log {
                v.max(10f64.powf(y.lo)).log10()
            } else {
                v
            }
        };
        for (((caption, _), cell), panel) in layout.panels.iter().zip(&cells).zip(&bands) {
            let mut builder = ChartBuilder::on(cell);
            if !caption.is_empty() {
                builder.caption(caption.as_str(), text_style(14, BLACK));
            }
            let mut chart = builder
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(layout.x_axis.coord(), y.coord())?;
            chart
                .configure_mesh()
                .bold_line_style(GRID)
                .light_line_style(TRANSPARENT)
                .x_desc(shorten(&layout.x_desc, if n == 1 { 110 } else { 52 }))
                .y_desc(y_desc.as_str())
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .label_style(text_style(13, BLACK))
                .axis_desc_style(text_style(14, BLACK))
                .draw()?;
            let marks = chart.plotting_area().strip_coord_spec();
            for ((vi, name), line) in report.variants.iter().enumerate().zip(panel) {
                if line.is_empty() {
                    continue;
                }
                let colour = variant_colour(vi);
                let series_name = if caption.is_empty() {
                    name.clone()
                } else {
                    format!("{caption}: {name}")
                };
                let area = chart.plotting_area();
                in_series(&marks, &series_name, || {
                    if line.len() > 1 && line.iter().any(|b| b.high > b.low) {
                        let outline: Vec<(f64, f64)> = line
                            .iter()
                            .map(|b| (b.x, y_pos(b.low)))
                            .chain(line.iter().rev().map(|b| (b.x, y_pos(b.high))))
                            .collect();
                        area.draw(&Polygon::new(outline, band(colour).filled()))?;
                    } else {
                        // One point, or no spread: whiskers instead of a band.
                        for b in line.iter().filter(|b| b.high > b.low) {
                            area.draw(&PathElement::new(
                                [(b.x, y_pos(b.low)), (b.x, y_pos(b.high))],
                                colour.stroke_width(1),
                            ))?;
                        }
                    }
                    let means: Vec<(f64, f64)> =
                        line.iter().map(|b| (b.x, y_pos(b.mean))).collect();
                    if means.len() > 1 {
                        area.draw(&PathElement::new(means.clone(), colour.stroke_width(2)))?;
                    }
                    for p in means {
                        area.draw(&Circle::new(p, 4, colour.filled()))?;
                    }
                    Ok(())
                })?;
            }
            if let Some((value, _)) = &target {
                let name = if caption.is_empty() {
                    "SLO target".to_string()
                } else {
                    format!("{caption}: SLO target")
                };
                let at = y_pos(*value);
                let (x0, x1) = (layout.x_axis.lo, layout.x_axis.hi);
                in_series(&marks, &name, || {
                    chart.draw_series(DashedLineSeries::new(
                        [(x0, at), (x1, at)],
                        10,
                        6,
                        SLO_RED.stroke_width(2),
                    ))?;
                    Ok(())
                })?;
            }
        }
        let mut legend: Vec<(String, Swatch)> = report
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), Swatch::Band(variant_colour(i))))
            .collect();
        if let Some((_, label)) = &target {
            legend.push((String::new(), Swatch::None));
            legend.push((label.clone(), Swatch::Dashed(SLO_RED)));
        }
        legend.push((String::new(), Swatch::None));
        legend.push(("line: mean".into(), Swatch::None));
        legend.push(("band: 95% interval".into(), Swatch::None));
        draw_legend(&legend_area, 30, &legend)
    })
    .map_err(|e| plot_error(&file_name, &e))?;
    Ok(Plot { file_name, svg })
}

/// Anchors of the heatmaps' colour scale, from the lowest value (pale) to the highest (dark):
/// for the default metrics, lower is better, so the darker a cell the worse.
const HEAT: [RGBColor; 5] = [
    RGBColor(255, 250, 210),
    RGBColor(254, 217, 118),
    RGBColor(253, 141, 60),
    RGBColor(217, 38, 28),
    RGBColor(110, 0, 38),
];

/// The colour at `t` in [0, 1] along [`HEAT`].
fn heat(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let scaled = t * (HEAT.len() - 1) as f64;
    let k = (scaled.floor() as usize).min(HEAT.len() - 2);
    let f = scaled - k as f64;
    let (a, b) = (HEAT[k], HEAT[k + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black on pale cells, white on dark ones.
fn ink(c: RGBColor) -> RGBColor {
    let luma = 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    if luma > 140.0 { BLACK } else { WHITE }
}

const MISSING_CELL: RGBColor = RGBColor(225, 225, 225);

/// A heatmap of `metric` over a grid of two parameters: the first across, the second up, one
/// panel per variant on a shared colour scale, each cell labelled with its mean when the
/// labels fit the cells. `None`
/// unless the sweep is a grid over exactly two parameters.
fn heatmap(report: &SweepReport, metric: &str) -> Result<Option<Plot>, PlotError> {
    let [p0, p1] = report.parameters.as_slice() else {
        return Ok(None);
    };
    if report.mode != "grid" {
        return Ok(None);
    }
    let file_name = heatmap_file(metric);
    let (factor, label) = unit(metric);
    let distinct = |p: &str| -> IndexSet<String> {
        report
            .points
            .iter()
            .filter_map(|pt| pt.parameters.get(p).map(|v| v.to_string()))
            .collect()
    };
    let (xs, ys) = (distinct(p0), distinct(p1));
    let label_of = |s: &String| value_label(&serde_json::from_str(s).unwrap_or(Value::Null));
    let x_labels: Vec<String> = xs.iter().map(label_of).collect();
    let y_labels: Vec<String> = ys.iter().map(label_of).collect();
    // (variant, x, y) -> value, display units.
    let mut cells: Vec<Vec<Vec<Option<f64>>>> =
        vec![vec![vec![None; ys.len()]; xs.len()]; report.variants.len()];
    for (i, pt) in report.points.iter().enumerate() {
        let (Some(x), Some(y)) = (
            pt.parameters
                .get(p0)
                .and_then(|v| xs.get_index_of(&v.to_string())),
            pt.parameters
                .get(p1)
                .and_then(|v| ys.get_index_of(&v.to_string())),
        ) else {
            continue;
        };
        for (vi, v) in report.variants.iter().enumerate() {
            cells[vi][x][y] = estimate(report, i, v, metric)
                .map(|e| e.mean * factor)
                .filter(|m| m.is_finite());
        }
    }
    let values = || cells.iter().flatten().flatten().flatten().copied();
    let lo = values().fold(f64::INFINITY, f64::min);
    let hi = values().fold(f64::NEG_INFINITY, f64::max);
    let t = |v: f64| {
        if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }
    };
    let nv = report.variants.len().max(1);
    let cols = nv.min(2);
    let rows = nv.div_ceil(cols);
    let (panel_w, panel_h) = (440u32, 380u32);
    const SCALE_WIDTH: u32 = 170;
    let size = (
        cols as u32 * panel_w + SCALE_WIDTH,
        HEADER_HEIGHT + rows as u32 * panel_h,
    );
    let axis = |n: usize| ValueAxis {
        lo: -0.5,
        hi: n as f64 - 0.5,
        ticks: (0..n).map(|k| k as f64).collect(),
        log: false,
    };
    let (x_axis, y_axis) = (axis(xs.len()), axis(ys.len()));
    // Labels across thinned to fit the panel's plotting width (440 less margins and the
    // y labels), labels up to a row each 18 px high.
    let x_stride = category_stride(&x_labels, f64::from(panel_w - 90));
    let y_stride = (1..=ys.len().max(1))
        .find(|k| f64::from(panel_h - 90) / ys.len().max(1) as f64 * *k as f64 >= 18.0)
        .unwrap_or(1);
    // Cells are labelled with their means only when the widest label fits a cell; otherwise
    // the colour scale alone tells the value (labels would run into each other).
    let widest = cells
        .iter()
        .flatten()
        .flatten()
        .map(|v| v.map_or(3, |v| fmt_num(v).chars().count()))
        .max()
        .unwrap_or(0);
    let cell_px = f64::from(panel_w - 90) / xs.len().max(1) as f64;
    let cell_labels = cell_px >= widest as f64 * LABEL_CHAR_PX + 6.0;
    let pick = |labels: &[String], stride: usize, v: f64| {
        let k = v.round();
        if (v - k).abs() > 1e-6 || k < 0.0 || k as usize % stride != 0 {
            String::new()
        } else {
            labels.get(k as usize).cloned().unwrap_or_default()
        }
    };
    let title = format!(
        "{}: {} ({})",
        report.experiment,
        label.split(" (").next().unwrap_or(&label),
        replications(report.replications)
    );
    let svg = render_svg(size, |root| {
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_title(&header, &title)?;
        let (grid, scale_area) = body.split_horizontally(cols as u32 * panel_w);
        let panels = grid.split_evenly((rows, cols));
        let x_fmt = |v: &f64| pick(&x_labels, x_stride, *v);
        let y_fmt = |v: &f64| pick(&y_labels, y_stride, *v);
        for ((vi, name), cell) in report.variants.iter().enumerate().zip(&panels) {
            let mut chart = ChartBuilder::on(cell)
                .caption(
                    name.as_str(),
                    (FONT, 15, FontStyle::Bold)
                        .into_font()
                        .color(&variant_colour(vi)),
                )
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(70)
                .build_cartesian_2d(x_axis.coord(), y_axis.coord())?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(shorten(&parameter_label(p0, &report.clients), 60))
                .y_desc(shorten(&parameter_label(p1, &report.clients), 46))
                .x_label_formatter(&x_fmt)
                .y_label_formatter(&y_fmt)
                .label_style(text_style(13, BLACK))
                .axis_desc_style(text_style(14, BLACK))
                .draw()?;
            let marks = chart.plotting_area().strip_coord_spec();
            let area = chart.plotting_area();
            in_series(&marks, name, || {
                for (x, column) in cells[vi].iter().enumerate() {
                    for (y, value) in column.iter().enumerate() {
                        let (cx, cy) = (x as f64, y as f64);
                        let corners = [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)];
                        let fill = value.map_or(MISSING_CELL, |v| heat(t(v)));
                        area.draw(&Rectangle::new(corners, fill.filled()))?;
                        area.draw(&Rectangle::new(corners, WHITE.stroke_width(2)))?;
                        let text = value.map_or("n/a".into(), fmt_num);
                        if !cell_labels {
                            continue;
                        }
                        area.draw(&Text::new(
                            text,
                            (cx, cy),
                            text_style(13, ink(fill)).pos(Pos::new(HPos::Center, VPos::Center)),
                        ))?;
                    }
                }
                Ok(())
            })?;
        }
        colour_scale(&scale_area, &label, lo, hi)
    })
    .map_err(|e| plot_error(&file_name, &e))?;
    Ok(Some(Plot { file_name, svg }))
}

/// The colour scale: a vertical bar from `lo` (bottom) to `hi` (top), with round ticks.
fn colour_scale(area: &Area<'_>, label: &str, lo: f64, hi: f64) -> Drawn {
    let (top, bottom) = (70, area.dim_in_pixel().1 as i32 - 70);
    let (left, right) = (24, 48);
    area.draw(&Text::new(
        shorten(label, 24),
        (12, 40),
        text_style(14, BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    if !(lo.is_finite() && hi.is_finite()) || bottom <= top {
        return Ok(());
    }
    const STEPS: i32 = 64;
    let height = bottom - top;
    for k in 0..STEPS {
        // k = 0 at the bottom (the lowest value).
        let y1 = bottom - height * k / STEPS;
        let y0 = bottom - height * (k + 1) / STEPS;
        let colour = heat((f64::from(k) + 0.5) / f64::from(STEPS));
        area.draw(&Rectangle::new([(left, y0), (right, y1)], colour.filled()))?;
    }
    area.draw(&Rectangle::new(
        [(left, top), (right, bottom)],
        BLACK.stroke_width(1),
    ))?;
    let ticks = if hi > lo {
        nice_ticks(lo, hi, 8, 0.0)
            .into_iter()
            .filter(|v| *v >= lo && *v <= hi)
            .collect()
    } else {
        vec![lo]
    };
    for v in ticks {
        let f = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        let y = bottom - (f * f64::from(height)).round() as i32;
        area.draw(&Rectangle::new(
            [(right, y), (right + 5, y + 1)],
            BLACK.filled(),
        ))?;
        area.draw(&Text::new(
            fmt_num(v),
            (right + 9, y),
            text_style(13, BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_units_and_names() {
        assert_eq!(unit("latency_s.p99").0, 1e3);
        assert_eq!(unit("error_rate"), (100.0, "error rate (%)".into()));
        assert_eq!(unit("endpoints.api.get.error_rate").0, 100.0);
        assert_eq!(
            unit("services.api.instance_hours"),
            (1.0, "api instance-hours".into())
        );
        assert_eq!(value_label(&serde_json::json!(0.1 + 0.2)), "0.3");
        assert_eq!(value_label(&serde_json::json!(40)), "40");
        assert_eq!(
            value_label(&serde_json::json!("least_connections")),
            "least_connections"
        );
        let clients = ["shoppers".to_string()];
        for (path, label) in [
            (
                "workload[0].rate.rps",
                "arrival rate (req/s), client shoppers",
            ),
            ("workload[1].rate.peak_rps", "peak rate (req/s), client #1"),
            ("workload[0].connections", "connections, client shoppers"),
            ("model.services.api.replicas", "api replicas"),
            ("/model/services/api/replicas", "api replicas"),
            ("model.services.db.instance.cores", "db cores per instance"),
            (
                "model.services.orders.autoscaler.metrics[0].target.average_utilization",
                "orders autoscaler target utilisation (%)",
            ),
            ("model.services.api.balancer.kind", "api balancer kind"),
            ("duration", "duration"),
            ("model.services.api", "model.services.api"),
            ("not a [path", "not a [path"),
        ] {
            assert_eq!(parameter_label(path, &clients), label, "{path}");
        }
        for (metric, label) in [
            ("latency_s.p99", "p99 latency (ms)"),
            ("slo.violation_minutes", "SLO violation (min)"),
            ("cost_usd", "cost (USD)"),
            ("services.api.peak_instances", "api peak instances"),
            ("services.api.cpu_utilisation", "api CPU utilisation (%)"),
            ("error_rates.timed_out", "timed out rate (%)"),
            ("something_new", "something_new"),
        ] {
            assert_eq!(unit(metric).1, label, "{metric}");
        }
        assert_eq!(shorten("abcdef", 4), "…def");
        assert_eq!(curves_file("latency_s.p99"), "sweep-latency_s.p99.svg");
        assert_eq!(
            heatmap_file("services.a b.x"),
            "sweep-heatmap-services.a_b.x.svg"
        );
        // The x axis ends within 4% of the data, never at a round value far past it, and
        // its ticks fit the panel.
        let x = fitted(5.0, 95.0, 600.0);
        assert!((x.lo - 1.4).abs() < 1e-9 && (x.hi - 98.6).abs() < 1e-9);
        assert!(x.ticks.iter().all(|t| *t >= x.lo && *t <= x.hi));
        assert!(x.ticks.len() >= 4, "{:?}", x.ticks);
        let narrow = fitted(0.0, 100_000.0, 120.0);
        assert!(narrow.ticks.len() <= 3, "{:?}", narrow.ticks);
        // A log axis over 10 to 100000 keeps 1-2-5 ticks when wide, powers of ten when not.
        let wide = thin_log_ticks(ValueAxis::log(10.0, 100_000.0), 2_000.0);
        assert_eq!(wide.ticks.len(), 13);
        let tight = thin_log_ticks(ValueAxis::log(10.0, 100_000.0), 200.0);
        let labels: Vec<String> = tight
            .ticks
            .iter()
            .map(|t| fmt_num(tight.value(*t)))
            .collect();
        assert!(labels.iter().all(|l| l.starts_with('1')), "{labels:?}");
        assert_eq!(heat(0.0), HEAT[0]);
        assert_eq!(heat(1.0), HEAT[4]);
        assert_eq!(heat(f64::NAN), HEAT[0]);
        assert_eq!(ink(HEAT[0]), BLACK);
        assert_eq!(ink(HEAT[4]), WHITE);
    }
}
