//! Plots through the `surge` binary: every plot a run or a sweep writes is a well-formed SVG
//! with one `<g class="series">` group per series, counted against what the data says must be
//! there (from `timeseries.csv`, `report.json` and `sweep.json`, not from the plotting code);
//! PNGs have the signature and the size; `surge plot` refuses bad input with exit code 2.

use crate::support::{assert_bad_input, experiment, ok, run, surge, temp_dir, write_experiment};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An SVG file's series: name -> the element names inside its group, in order.
struct Svg {
    width: u32,
    height: u32,
    series: BTreeMap<String, Vec<String>>,
    text: String,
}

/// Parses `path` as XML, checks that it is an SVG document, and collects its series groups.
fn svg(path: &Path) -> Svg {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{}: not well-formed XML: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg", "{}", path.display());
    let dim = |a: &str| -> u32 { root.attribute(a).and_then(|v| v.parse().ok()).unwrap() };
    let mut series = BTreeMap::new();
    for g in root
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("series"))
    {
        let name = g.attribute("data-series").expect("a series has a name");
        let elements: Vec<String> = g
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name().to_string())
            .collect();
        assert!(
            series.insert(name.to_string(), elements).is_none(),
            "{}: series `{name}` twice",
            path.display()
        );
    }
    assert!(
        !text.contains("NaN") && !text.contains("inf"),
        "{}: a non-finite value was drawn",
        path.display()
    );
    Svg {
        width: dim("width"),
        height: dim("height"),
        series,
        text: text.clone(),
    }
}

impl Svg {
    /// The series, each of which must have drawn something.
    fn names(&self) -> Vec<&str> {
        for (name, elements) in &self.series {
            assert!(!elements.is_empty(), "series `{name}` draws nothing");
        }
        self.series.keys().map(String::as_str).collect()
    }

    fn count(&self, series: &str, element: &str) -> usize {
        self.series
            .get(series)
            .unwrap_or_else(|| panic!("no series `{series}` in {:?}", self.series.keys()))
            .iter()
            .filter(|e| *e == element)
            .count()
    }
}

/// Checks the PNG signature and that the image is `PNG_SCALE` times the SVG's size.
fn png_matches(png: &Path, svg: &Svg) {
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", png.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |k: usize| u32::from_be_bytes(bytes[k..k + 4].try_into().unwrap());
    let scale = surge::report::plots::PNG_SCALE;
    assert_eq!(
        (be(16), be(20)),
        (svg.width * scale, svg.height * scale),
        "{}",
        png.display()
    );
}

/// A text element: where it is drawn, how it is anchored, its size and its text.
struct Label {
    x: f64,
    y: f64,
    anchor: String,
    size: f64,
    text: String,
}

fn labels(svg: &Svg) -> Vec<Label> {
    let doc = roxmltree::Document::parse(&svg.text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("transform").is_none())
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            Label {
                x: num("x"),
                y: num("y"),
                anchor: n.attribute("text-anchor").unwrap_or("start").to_string(),
                size: num("font-size"),
                text: n.text().unwrap_or("").trim().to_string(),
            }
        })
        .collect()
}

/// A label's estimated width in pixels: DejaVu Sans averages under 0.64 em a character.
fn label_width(l: &Label) -> f64 {
    l.text.chars().count() as f64 * l.size * 0.64
}

/// Centred labels on one baseline (tick labels of an x axis, panel captions) never overlap:
/// neighbours are at least half their widths apart.
fn assert_ticks_apart(name: &str, svg: &Svg) {
    let mut rows: BTreeMap<(i64, i64), Vec<Label>> = BTreeMap::new();
    for l in labels(svg) {
        if l.anchor == "middle" && !l.text.is_empty() {
            rows.entry((l.y as i64, (l.size * 100.0) as i64))
                .or_default()
                .push(l);
        }
    }
    for row in rows.values_mut() {
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        for w in row.windows(2) {
            let room = (label_width(&w[0]) + label_width(&w[1])) / 2.0;
            assert!(
                w[1].x - w[0].x >= room,
                "{name}: `{}` at x = {} and `{}` at x = {} run together",
                w[0].text,
                w[0].x,
                w[1].text,
                w[1].x
            );
        }
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Two services, an SLO and prices; `small` is overloaded (errors by rejection and timeout),
/// `big` is not, `mid` in between. 20 s, 2 replications.
const RUN: &str = r#"{
  "name": "plots-it",
  "model": { "services": {
    "api": { "replicas": 1, "instance": { "cores": 1, "concurrency_limit": 8, "queue_limit": 16 },
      "cost": { "instance_type": "m5.large" },
      "endpoints": { "get": { "steps": [ { "cpu": { "kind": "exponential", "mean": "5ms" } } ] } } },
    "jobs": { "replicas": 1, "instance": { "cores": 1 },
      "cost": { "instance_type": "m5.large" },
      "endpoints": { "run": { "steps": [ { "cpu": { "kind": "constant", "value": "2ms" } } ] } } } } },
  "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 300 },
      "mix": [ { "service": "api", "endpoint": "get", "weight": 2 }, { "service": "jobs", "endpoint": "run", "weight": 1 } ],
      "timeout": "300ms" } ],
  "duration": "20s", "warmup": "2s", "seed": 11, "replications": 2, "resolution": "1s",
  "slo": { "quantile": 0.99, "latency": "50ms", "window": "5s" },
  "variants": {
    "small": {},
    "mid": { "services": { "api": { "replicas": 2 } } },
    "big": { "services": { "api": { "replicas": 4 } } }
  }
}"#;

const VARIANTS: [&str; 3] = ["small", "mid", "big"];
const SERVICES: [&str; 2] = ["api", "jobs"];

/// Runs [`RUN`] with `--png` into a fresh directory.
fn run_plots_it() -> PathBuf {
    let path = write_experiment("plots-it", RUN);
    let out = path.parent().unwrap().join("out");
    ok(&surge(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--png",
        "-q",
    ]));
    out
}

/// Causes with at least one error in replication 0 of any variant, and the variants with
/// any error there, from `timeseries.csv`.
fn errors_in_csv(csv: &str) -> (Vec<String>, Vec<String>) {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let causes = [
        "rejected",
        "timed_out",
        "no_instance",
        "killed",
        "oom_killed",
        "interrupted",
    ];
    let mut seen = Vec::new();
    let mut variants = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields[1] != "0" {
            continue;
        }
        for cause in causes {
            let k = header.iter().position(|h| *h == cause).unwrap();
            if fields[k] != "0" && !seen.contains(&cause.to_string()) {
                seen.push(cause.to_string());
            }
            if fields[k] != "0" && !variants.contains(&fields[0].to_string()) {
                variants.push(fields[0].to_string());
            }
        }
    }
    (seen, variants)
}

#[test]
fn a_run_writes_every_plot_with_every_series_as_svg_and_png() {
    let out = run_plots_it();
    let read = |name: &str| svg(&out.join(name));

    let replicas = read("replicas.svg");
    let mut expected = Vec::new();
    for v in VARIANTS {
        for s in SERVICES {
            for line in [
                "arrivals/s",
                "starting replicas",
                "desired replicas",
                "ready replicas",
            ] {
                expected.push(format!("{v} · {s}: {line}"));
            }
        }
    }
    assert_eq!(replicas.names(), sorted(expected));

    let latency = read("latency.svg");
    let mut expected: Vec<String> = VARIANTS.iter().map(|v| v.to_string()).collect();
    expected.push("SLO target".into());
    assert_eq!(latency.names(), sorted(expected));

    let throughput = read("throughput.svg");
    let expected: Vec<String> = VARIANTS
        .iter()
        .flat_map(|v| [format!("{v}: arrivals/s"), format!("{v}: ok/s")])
        .collect();
    assert_eq!(throughput.names(), sorted(expected));
    assert!(throughput.text.contains("requests/s") && throughput.text.contains("time (s)"));

    let cpu = read("cpu.svg");
    let expected: Vec<String> = SERVICES
        .iter()
        .flat_map(|s| VARIANTS.iter().map(move |v| format!("{s}: {v}")))
        .collect();
    assert_eq!(cpu.names(), sorted(expected));
    assert!(cpu.text.contains("CPU (%)"));

    // One line per cause that occurs, in every variant's panel; the overloaded variant has
    // errors, the big one none.
    let (causes, with_errors) =
        errors_in_csv(&std::fs::read_to_string(out.join("timeseries.csv")).unwrap());
    assert!(causes.contains(&"rejected".to_string()), "{causes:?}");
    assert!(
        with_errors.contains(&"small".to_string()) && !with_errors.contains(&"big".to_string())
    );
    let errors = read("errors.svg");
    let expected: Vec<String> = VARIANTS
        .iter()
        .flat_map(|v| causes.iter().map(move |c| format!("{v}: {c}")))
        .collect();
    assert_eq!(errors.names(), sorted(expected));
    assert!(errors.text.contains("errors/s"));
    assert_eq!(
        errors.text.matches("\nno errors\n").count(),
        VARIANTS.len() - with_errors.len()
    );

    // The scatter: a point and an interval per variant, and the Pareto front through the
    // variants no other beats on both cost and SLO minutes (computed here from report.json).
    let cost = read("cost-slo.svg");
    let mut expected: Vec<String> = VARIANTS
        .iter()
        .flat_map(|v| [v.to_string(), format!("{v}: 95% interval")])
        .collect();
    expected.push("Pareto front".into());
    assert_eq!(cost.names(), sorted(expected));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let mean = |v: &str, m: &str| {
        report["variants"][v]["metrics"][m]["mean"]
            .as_f64()
            .unwrap()
    };
    let points: Vec<(f64, f64)> = VARIANTS
        .iter()
        .map(|v| (mean(v, "cost_usd"), mean(v, "slo.violation_minutes")))
        .collect();
    let on_front = points
        .iter()
        .filter(|p| {
            !points
                .iter()
                .any(|q| q.0 <= p.0 && q.1 <= p.1 && (q.0 < p.0 || q.1 < p.1))
        })
        .count();
    assert!(on_front >= 1);
    assert_eq!(cost.count("Pareto front", "circle"), on_front, "{points:?}");
    assert_eq!(
        cost.count("Pareto front", "polyline"),
        usize::from(on_front > 1)
    );
    assert!(cost.text.contains("Pareto front"), "a legend entry");
    for v in VARIANTS {
        assert_eq!(cost.count(v, "circle"), 1);
    }

    for name in [
        "replicas",
        "latency",
        "throughput",
        "cpu",
        "errors",
        "cost-slo",
    ] {
        png_matches(
            &out.join(format!("{name}.png")),
            &read(&format!("{name}.svg")),
        );
        assert_ticks_apart(name, &read(&format!("{name}.svg")));
    }
}

#[test]
fn plot_redraws_a_run_from_its_report_byte_for_byte() {
    let out = run_plots_it();
    let again = out.parent().unwrap().join("again");
    let stdout = ok(&surge(&[
        "plot",
        out.join("report.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--png",
    ]));
    let written: Vec<&str> = stdout.lines().collect();
    assert_eq!(written.len(), 12, "six plots, SVG and PNG: {stdout}");
    for path in written {
        let name = Path::new(path).file_name().unwrap();
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(out.join(name)).unwrap(),
            "{path}"
        );
    }
    // A report without its time series, or with a --metric, is refused.
    let alone = out.parent().unwrap().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(out.join("report.json"), alone.join("report.json")).unwrap();
    let report = alone.join("report.json");
    refused(
        &["plot", report.to_str().unwrap()],
        &["timeseries.csv", "cannot read the time series"],
    );
    std::fs::write(alone.join("timeseries.csv"), "variant,replication\n").unwrap();
    refused(
        &["plot", report.to_str().unwrap()],
        &["timeseries.csv:1:", "the header is not the one"],
    );
    refused(
        &["plot", report.to_str().unwrap(), "--metric", "error_rate"],
        &["report.json", "--metric"],
    );
}

/// A small service with its arrival rate swept, and optionally more parameters.
fn sweep_json(mode: &str, parameters: &str) -> String {
    format!(
        r#"{{
        "name": "plots-sweep",
        "model": {{ "services": {{ "api": {{ "replicas": 2, "instance": {{ "cores": 1, "concurrency_limit": 8, "queue_limit": 32 }},
            "cost": {{ "instance_type": "m5.large" }},
            "endpoints": {{ "e": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "2ms" }} }} ] }} }} }} }} }},
        "workload": [ {{ "name": "users", "kind": "open", "rate": {{ "kind": "constant", "rps": 100 }},
            "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ],
        "duration": "10s", "seed": 5, "replications": 2,
        "slo": {{ "quantile": 0.99, "latency": "20ms", "window": "5s" }},
        "variants": {{ "round-robin": {{}}, "least-connections": {{ "services": {{ "api": {{ "balancer": {{ "kind": "least_connections" }} }} }} }} }},
        "sweep": {{ "mode": "{mode}", "parameters": [ {parameters} ] }}
    }}"#
    )
}

const RPS: &str = r#"{ "path": "workload[0].rate.rps", "values": [10, 100, 1000] }"#;
const REPLICAS: &str = r#"{ "path": "model.services.api.replicas", "values": [1, 2] }"#;

/// Runs a sweep and returns its directory.
fn sweep(tag: &str, json: &str) -> PathBuf {
    let path = write_experiment(tag, json);
    let out = path.parent().unwrap().join("sweep");
    ok(&surge(&[
        "sweep",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    out
}

#[test]
fn plot_draws_a_curve_per_metric_with_a_line_and_band_per_variant() {
    let dir = sweep("plots-sweep-1", &sweep_json("grid", RPS));
    let stdout = ok(&surge(&[
        "plot",
        dir.join("sweep.json").to_str().unwrap(),
        "--png",
    ]));
    let defaults = [
        "latency_s.p99",
        "error_rate",
        "slo.violation_minutes",
        "cost_usd",
        "services.api.instance_hours",
        "services.api.peak_instances",
    ];
    let expected: Vec<String> = defaults
        .iter()
        .flat_map(|m| {
            let svg = dir.join(format!("sweep-{m}.svg"));
            let png = dir.join(format!("sweep-{m}.png"));
            [svg, png].map(|p| p.display().to_string())
        })
        .collect();
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        expected,
        "written beside sweep.json"
    );
    for m in defaults {
        let plot = svg(&dir.join(format!("sweep-{m}.svg")));
        // The SLO has a latency target only: a dashed line on the latency plot alone.
        let mut expected = vec!["least-connections".to_string(), "round-robin".into()];
        if m == "latency_s.p99" {
            expected.push("SLO target".into());
        }
        assert_eq!(plot.names(), sorted(expected), "{m}");
        assert_ticks_apart(m, &plot);
        for v in ["least-connections", "round-robin"] {
            assert_eq!(plot.count(v, "circle"), 3, "{m}: a marker per point");
            assert_eq!(plot.count(v, "polyline"), 1, "{m}: the line of means");
        }
        assert!(
            plot.text
                .contains("arrival rate (req/s), client users (log scale)"),
            "{m}: the parameter in words; 10 to 1000 spans two decades"
        );
        assert!(!plot.text.contains("workload[0]"), "{m}: no internal path");
        png_matches(&dir.join(format!("sweep-{m}.png")), &plot);
    }
    // Two replications: an interval, drawn as a band, where the replications differ.
    let p99 = svg(&dir.join("sweep-latency_s.p99.svg"));
    assert_eq!(p99.count("round-robin", "polygon"), 1);
    assert!(p99.text.contains("p99 latency (ms"));
    assert!(p99.count("SLO target", "polyline") >= 2, "dashed");
    assert!(p99.text.contains("SLO: p99 ≤ 20 ms"));
    // No heatmap without two grid parameters.
    assert!(!dir.join("sweep-heatmap-latency_s.p99.svg").exists());
}

#[test]
fn a_grid_over_two_parameters_gets_small_multiples_and_heatmaps() {
    let dir = sweep(
        "plots-sweep-2",
        &sweep_json("grid", &format!("{RPS}, {REPLICAS}")),
    );
    let out = dir.join("plots");
    let stdout = ok(&surge(&[
        "plot",
        dir.join("sweep.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--metric",
        "error_rate",
        "--metric",
        "services.api.peak_instances",
    ]));
    let names: Vec<&str> = stdout
        .lines()
        .map(|l| Path::new(l).file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "sweep-error_rate.svg",
            "sweep-heatmap-error_rate.svg",
            "sweep-services.api.peak_instances.svg",
            "sweep-heatmap-services.api.peak_instances.svg"
        ]
    );
    // A panel per value of the second parameter, a line per variant in each.
    let curves = svg(&out.join("sweep-error_rate.svg"));
    let mut expected = Vec::new();
    for r in [1, 2] {
        for v in ["least-connections", "round-robin"] {
            expected.push(format!("api replicas = {r}: {v}"));
        }
    }
    assert_eq!(curves.names(), expected);
    // A heatmap panel per variant: 3 x 2 cells, each a fill, a border and a label.
    let heat = svg(&out.join("sweep-heatmap-services.api.peak_instances.svg"));
    assert_eq!(heat.names(), ["least-connections", "round-robin"]);
    for v in ["least-connections", "round-robin"] {
        assert_eq!(heat.count(v, "rect"), 2 * 6);
        assert_eq!(heat.count(v, "text"), 6);
    }
    assert!(heat.text.contains("\napi replicas\n"));
    assert!(
        heat.text.contains("\napi peak instances\n"),
        "the scale's label"
    );
    assert_ticks_apart("heatmap", &heat);
    // Same input, same bytes.
    let first = std::fs::read(out.join("sweep-heatmap-error_rate.svg")).unwrap();
    ok(&surge(&[
        "plot",
        dir.join("sweep.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--metric",
        "error_rate",
    ]));
    assert_eq!(
        std::fs::read(out.join("sweep-heatmap-error_rate.svg")).unwrap(),
        first
    );
}

/// `surge plot` on bad input: exit 2, one message naming the file and what was expected.
fn refused(args: &[&str], words: &[&str]) {
    assert_bad_input(&format!("{args:?}"), &surge(args), words);
}

#[test]
fn plot_refuses_what_it_cannot_draw_with_exit_code_2() {
    let dir = temp_dir("plots-bad");
    let missing = dir.join("nothing.json");
    refused(
        &["plot", missing.to_str().unwrap()],
        &["nothing.json", "cannot read"],
    );

    let experiment = dir.join("experiment.json");
    std::fs::write(&experiment, sweep_json("grid", RPS)).unwrap();
    refused(
        &["plot", experiment.to_str().unwrap()],
        &["experiment.json", "not a sweep.json or a report.json"],
    );

    let garbled = dir.join("garbled.json");
    std::fs::write(&garbled, "{ \"points\": [").unwrap();
    refused(
        &["plot", garbled.to_str().unwrap()],
        &["garbled.json", "not JSON"],
    );

    let wrong = dir.join("wrong.json");
    std::fs::write(&wrong, r#"{ "points": 3, "parameters": [] }"#).unwrap();
    refused(
        &["plot", wrong.to_str().unwrap()],
        &["wrong.json", "not a sweep.json"],
    );

    let sweep_dir = sweep("plots-bad-sweep", &sweep_json("zip", RPS));
    let file = sweep_dir.join("sweep.json");
    refused(
        &["plot", file.to_str().unwrap(), "--metric", "latency_s.p42"],
        &[
            "sweep.json",
            "unknown metric `latency_s.p42`",
            "latency_s.p99",
            "services.api.instance_hours",
        ],
    );
    assert!(
        !sweep_dir.join("sweep-latency_s.p99.svg").exists(),
        "nothing written"
    );
}

#[test]
fn values_that_are_not_numbers_are_evenly_spaced_categories() {
    let durations = r#"{ "path": "duration", "values": ["4s", "8s", "6s"] }"#;
    let dir = sweep("plots-sweep-categories", &sweep_json("grid", durations));
    ok(&surge(&[
        "plot",
        dir.join("sweep.json").to_str().unwrap(),
        "--metric",
        "arrivals",
    ]));
    let plot = svg(&dir.join("sweep-arrivals.svg"));
    assert_eq!(plot.names(), ["least-connections", "round-robin"]);
    assert_eq!(plot.count("round-robin", "circle"), 3);
    // In sweep order, one label each, on a plain axis.
    let labels: Vec<usize> = ["\n4s\n", "\n8s\n", "\n6s\n"]
        .iter()
        .map(|l| plot.text.find(l).expect(l))
        .collect();
    assert!(labels.windows(2).all(|w| w[0] < w[1]), "{labels:?}");
    assert!(plot.text.contains("\nduration\n"));
    assert!(!plot.text.contains("log scale"));
}

/// Five services at different shares of one client's traffic, with an SLO and prices; two
/// variants that change nothing, so that their points coincide in cost-slo.svg.
fn five_services() -> String {
    let names = ["gateway", "catalog", "cart", "checkout", "search"];
    let services: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                r#""{n}": {{ "replicas": 2, "instance": {{ "cores": 1, "concurrency_limit": 16, "queue_limit": 32 }},
                   "cost": {{ "instance_type": "m5.large" }},
                   "endpoints": {{ "get": {{ "steps": [ {{ "cpu": {{ "kind": "exponential", "mean": "4ms" }} }} ] }} }} }}"#
            )
        })
        .collect();
    let mix: Vec<String> = names
        .iter()
        .zip([8, 4, 2, 1, 3])
        .map(|(n, w)| format!(r#"{{ "service": "{n}", "endpoint": "get", "weight": {w} }}"#))
        .collect();
    format!(
        r#"{{
        "name": "plots-five",
        "model": {{ "services": {{ {} }} }},
        "workload": [ {{ "name": "shoppers", "kind": "open",
            "rate": {{ "kind": "step", "from_rps": 300, "to_rps": 800, "at": "8s" }},
            "mix": [ {} ], "timeout": "1s" }} ],
        "duration": "20s", "warmup": "2s", "seed": 9, "replications": 2, "resolution": "1s",
        "slo": {{ "quantile": 0.99, "latency": "60ms", "window": "5s" }},
        "variants": {{ "base": {{}}, "base-again": {{}}, "also-base": {{}},
                       "gateway-3": {{ "services": {{ "gateway": {{ "replicas": 3 }} }} }} }}
    }}"#,
        services.join(", "),
        mix.join(", ")
    )
}

#[test]
fn five_services_get_their_own_load_wide_panels_and_ticks_that_stay_apart() {
    let path = write_experiment("plots-five", &five_services());
    let out = path.parent().unwrap().join("out");
    ok(&surge(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--png",
        "-q",
    ]));
    let names = ["gateway", "catalog", "cart", "checkout", "search"];
    // timeseries.csv: every service's arrivals, summing to the bucket's.
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |h: &str| header.iter().position(|c| *c == h).unwrap();
    let mut shares = [0u64; 5];
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let per: Vec<u64> = names
            .iter()
            .map(|n| f[column(&format!("{n}.arrivals"))].parse().unwrap())
            .collect();
        assert_eq!(
            per.iter().sum::<u64>(),
            f[column("arrivals")].parse::<u64>().unwrap()
        );
        for (s, p) in shares.iter_mut().zip(&per) {
            *s += p;
        }
    }
    // Weights 8:4:2:1:3 of 18: the gateway gets about 8 / 18 of the requests.
    let total: u64 = shares.iter().sum();
    let gateway = shares[0] as f64 / total as f64;
    assert!((gateway - 8.0 / 18.0).abs() < 0.02, "{shares:?}");

    // A column per service at least 300 px wide; every label apart, in every plot.
    let replicas = svg(&out.join("replicas.svg"));
    assert!(replicas.width >= 5 * 300, "{}", replicas.width);
    for name in ["replicas", "latency", "throughput", "cpu", "cost-slo"] {
        let plot = svg(&out.join(format!("{name}.svg")));
        assert_ticks_apart(name, &plot);
        png_matches(&out.join(format!("{name}.png")), &plot);
    }
    for v in ["base", "gateway-3"] {
        for s in names {
            assert_eq!(
                replicas.count(&format!("{v} · {s}: arrivals/s"), "polyline"),
                1
            );
        }
    }

    // Three variants at one point: each label clear of every point and of the others.
    let cost = svg(&out.join("cost-slo.svg"));
    let doc = roxmltree::Document::parse(&cost.text).unwrap();
    let points: Vec<(f64, f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .map(|n| {
            let a = |k: &str| n.attribute(k).unwrap().parse::<f64>().unwrap();
            (a("cx"), a("cy"), a("r"))
        })
        .filter(|p| p.2 <= 7.0)
        .collect();
    let variants = ["base", "base-again", "also-base", "gateway-3"];
    assert_eq!(points.len(), variants.len(), "a dot per variant");
    let boxes: Vec<(f64, f64, f64, f64)> = labels(&cost)
        .into_iter()
        .filter(|l| variants.contains(&l.text.as_str()) && l.x < 780.0)
        .map(|l| {
            let w = label_width(&l);
            (l.x, l.y - l.size / 2.0, l.x + w, l.y + l.size / 2.0)
        })
        .collect();
    assert_eq!(
        boxes.len(),
        variants.len(),
        "a label per variant beside its point"
    );
    for (i, b) in boxes.iter().enumerate() {
        for p in &points {
            let hidden = p.0 + p.2 > b.0 && p.0 - p.2 < b.2 && p.1 + p.2 > b.1 && p.1 - p.2 < b.3;
            assert!(!hidden, "label {b:?} under the point {p:?}");
        }
        for o in &boxes[i + 1..] {
            let overlap = b.0 < o.2 && o.0 < b.2 && b.1 < o.3 && o.1 < b.3;
            assert!(!overlap, "labels {b:?} and {o:?} overlap");
        }
    }
}

/// A per-service panel draws that service's arrivals: with none sent to `jobs`, its load line
/// lies flat on the axis while `api`'s does not (the total of all clients would be neither).
#[test]
fn each_service_panel_draws_the_arrivals_of_that_service() {
    let exp = experiment("plots-per-service", RUN);
    let mut results = run(&exp);
    let report = surge::report::Report::new(&exp, &results);
    for r in &mut results {
        for row in &mut r.output.timeseries {
            row.services[1].arrivals = 0;
        }
    }
    let plot = surge::report::plots::replicas(&report, &results)
        .unwrap()
        .unwrap();
    let heights = |series: &str| -> Vec<i64> {
        let open = format!("<g class=\"series\" data-series=\"{series}\">");
        let line = plot
            .svg
            .lines()
            .skip_while(|l| *l != open)
            .find(|l| l.starts_with("<polyline"))
            .unwrap_or_else(|| panic!("no line in {series}"));
        let points = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        points
            .split_whitespace()
            .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
            .collect()
    };
    let jobs = heights("small · jobs: arrivals/s");
    assert!(jobs.windows(2).all(|w| w[0] == w[1]), "flat: {jobs:?}");
    let api = heights("small · api: arrivals/s");
    assert!(api.windows(2).any(|w| w[0] != w[1]), "api's load varies");
}

/// Names a spreadsheet or a naive CSV would break on, carried by a report as a hand edit could
/// leave them (set after validation): `surge plot report.json` redraws every plot byte for
/// byte from report.json and timeseries.csv, and no CSV field starts a formula.
#[test]
fn names_with_line_breaks_quotes_and_formula_prefixes_survive_the_plot_round_trip() {
    let mut exp = experiment("plots-names", RUN);
    for (v, name) in exp
        .variants
        .iter_mut()
        .zip(["two\nlines", "a\rb", "=1+2, \"quoted\""])
    {
        v.name = name.to_string();
    }
    let results = run(&exp);
    let report = surge::report::Report::new(&exp, &results);
    let out = temp_dir("plots-names").join("out");
    surge::report::write_outputs(&out, &report, &results, surge::report::ImageFormats::Svg)
        .unwrap();
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(
        csv.contains("\n\"'=1+2, \"\"quoted\"\"\","),
        "neutralised and quoted"
    );
    assert!(
        csv.contains("\n\"two\nlines\","),
        "a line break stays inside its quotes"
    );
    let again = out.parent().unwrap().join("again");
    let stdout = ok(&surge(&[
        "plot",
        out.join("report.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]));
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    for path in stdout.lines() {
        let name = Path::new(path).file_name().unwrap();
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(out.join(name)).unwrap(),
            "{path}"
        );
    }
}

/// A sweep.json from before the SLO and the client names were recorded still plots: no SLO
/// line, and the client named by its position.
#[test]
fn an_older_sweep_json_without_slo_or_clients_still_plots() {
    let dir = sweep("plots-sweep-old", &sweep_json("zip", RPS));
    let file = dir.join("sweep.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(doc["slo"]["latency_s"].as_f64() == Some(0.02), "recorded");
    assert_eq!(doc["clients"], serde_json::json!(["users"]));
    let o = doc.as_object_mut().unwrap();
    o.remove("slo");
    o.remove("clients");
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    ok(&surge(&[
        "plot",
        file.to_str().unwrap(),
        "--metric",
        "latency_s.p99",
    ]));
    let plot = svg(&dir.join("sweep-latency_s.p99.svg"));
    assert_eq!(plot.names(), ["least-connections", "round-robin"]);
    assert!(plot.text.contains("arrival rate (req/s), client #0"));
}

/// A call graph: clients -> gateway, whose two endpoints call two of users' (one arrow), both
/// of which call db (one arrow), and gateway => jobs, a worker pool (a dashed arrow). In
/// `small-db` db has one core for about 1.04 cores of work: saturated, its callers failing.
const GRAPH: &str = r#"{
  "name": "plots-topology",
  "model": { "services": {
    "gateway": { "replicas": 2, "instance": { "cores": 2 },
      "endpoints": {
        "home": { "steps": [ { "cpu": "1ms" }, { "call": { "service": "users", "endpoint": "get" } },
                             { "enqueue": { "service": "jobs", "endpoint": "send" } } ] },
        "login": { "steps": [ { "cpu": "1ms" }, { "call": { "service": "users", "endpoint": "auth" } } ] } } },
    "users": { "replicas": 2, "instance": { "cores": 2 },
      "endpoints": {
        "get": { "steps": [ { "cpu": "1ms" }, { "call": { "service": "db", "endpoint": "query", "timeout": "200ms" } } ] },
        "auth": { "steps": [ { "cpu": "2ms" }, { "call": { "service": "db", "endpoint": "query", "timeout": "200ms" } } ] } } },
    "db": { "replicas": 1, "instance": { "cores": 4, "concurrency_limit": 64, "queue_limit": 64 },
      "endpoints": { "query": { "steps": [ { "cpu": { "kind": "exponential", "mean": "2.6ms" } } ] } } },
    "jobs": { "replicas": 1, "instance": { "cores": 1, "concurrency_limit": 2 },
      "balancer": { "kind": "queue", "max_length": 100 },
      "endpoints": { "send": { "steps": [ { "cpu": "1ms" } ] } } } } },
  "workload": [ { "name": "web", "kind": "open", "rate": { "kind": "constant", "rps": 400 },
      "mix": [ { "service": "gateway", "endpoint": "home", "weight": 3 },
               { "service": "gateway", "endpoint": "login", "weight": 1 } ],
      "timeout": "1s" } ],
  "duration": "10s", "warmup": "1s", "seed": 5, "replications": 1, "resolution": "1s",
  "variants": {
    "roomy": {},
    "small-db": { "services": { "db": { "instance": { "cores": 1 } } } }
  }
}"#;

/// What one group of topology.svg draws: rectangles (x, y, width, height, stroke), the points
/// of its polylines and polygons, and its texts with where they are.
#[derive(Default)]
struct Drawn {
    rects: Vec<(f64, f64, f64, f64, String)>,
    polylines: Vec<Vec<(f64, f64)>>,
    polygons: Vec<Vec<(f64, f64)>>,
    texts: Vec<(f64, f64, String)>,
}

fn topology_groups(text: &str) -> BTreeMap<String, Drawn> {
    let doc = roxmltree::Document::parse(text).unwrap();
    let points = |n: roxmltree::Node| -> Vec<(f64, f64)> {
        n.attribute("points")
            .unwrap()
            .split_whitespace()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    };
    let mut groups = BTreeMap::new();
    for g in doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("series"))
    {
        let mut d = Drawn::default();
        for c in g.children().filter(|c| c.is_element()) {
            let num = |a: &str| -> f64 { c.attribute(a).unwrap().parse().unwrap() };
            match c.tag_name().name() {
                "rect" => d.rects.push((
                    num("x"),
                    num("y"),
                    num("width"),
                    num("height"),
                    c.attribute("stroke").unwrap_or("").to_string(),
                )),
                "polyline" => d.polylines.push(points(c)),
                "polygon" => d.polygons.push(points(c)),
                "text" => d.texts.push((
                    num("x"),
                    num("y"),
                    c.text().unwrap_or("").trim().to_string(),
                )),
                _ => {}
            }
        }
        groups.insert(g.attribute("data-series").unwrap().to_string(), d);
    }
    groups
}

/// The merged arrows of a run summary in report.json, by (caller, kind, callee) service:
/// (calls, ok, ended).
fn arrows_in_report(summary: &serde_json::Value) -> BTreeMap<String, (u64, u64, u64)> {
    let mut arrows: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut add = |key: String, calls: u64, outcomes: &serde_json::Value| {
        let outcomes = outcomes.as_object().unwrap();
        let ended: u64 = outcomes.values().map(|v| v.as_u64().unwrap()).sum();
        let ok = outcomes.get("ok").and_then(|v| v.as_u64()).unwrap_or(0);
        let e = arrows.entry(key).or_default();
        *e = (e.0 + calls, e.1 + ok, e.2 + ended);
    };
    for (edge, c) in summary["calls"].as_object().unwrap() {
        let service = |ep: &str| ep.split('.').next().unwrap().to_string();
        let (arrow, (a, b)) = match edge.split_once(" -> ") {
            Some(pair) => ("->", pair),
            None => ("=>", edge.split_once(" => ").unwrap()),
        };
        let key = format!("{} {arrow} {}", service(a), service(b));
        add(key, c["calls"].as_u64().unwrap(), &c["outcomes"]);
    }
    for (endpoint, e) in summary["endpoints"].as_object().unwrap() {
        let arrivals = e["arrivals"].as_u64().unwrap();
        if arrivals > 0 {
            let key = format!("(clients) -> {}", endpoint.split('.').next().unwrap());
            add(key, arrivals, &e["outcomes"]);
        }
    }
    arrows
}

#[test]
fn a_call_graph_gets_a_topology_of_boxes_and_arrows_with_the_saturated_service_marked() {
    let path = write_experiment("plots-topology", GRAPH);
    let out = path.parent().unwrap().join("out");
    ok(&surge(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--png",
        "--html",
        "-q",
    ]));
    let plot = svg(&out.join("topology.svg"));
    png_matches(&out.join("topology.png"), &plot);
    let groups = topology_groups(&plot.text);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let services = ["gateway", "users", "db", "jobs"];

    // A box per service and one for the clients; an arrow per pair of services (and kind),
    // from the report's edges merged here, and one from the clients to gateway.
    let mut expected = Vec::new();
    for v in ["roomy", "small-db"] {
        let run = report["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["variant"] == v && r["replication"] == 0)
            .unwrap();
        let arrows = arrows_in_report(&run["summary"]);
        assert_eq!(arrows.len(), 4, "{:?}", arrows.keys());
        expected.push(format!("{v}: (clients)"));
        expected.extend(services.iter().map(|s| format!("{v}: {s}")));
        expected.extend(arrows.keys().map(|a| format!("{v}: {a}")));
        let measured = run["summary"]["measured_s"].as_f64().unwrap();
        let cpu = |s: &str| {
            run["summary"]["services"][s]["cpu_utilisation"]
                .as_f64()
                .unwrap()
        };
        let busiest = services
            .iter()
            .copied()
            .max_by(|a, b| cpu(a).total_cmp(&cpu(b)))
            .unwrap();
        let box_of = |name: &str| -> (f64, f64, f64, f64) {
            let r = &groups[&format!("{v}: {name}")].rects[0];
            (r.0, r.1, r.2, r.3)
        };
        for (arrow, (calls, ok, ended)) in &arrows {
            let g = &groups[&format!("{v}: {arrow}")];
            // The label: the rate, and the error rate when a call failed.
            let rate: f64 = g.texts[0].2.split(' ').next().unwrap().parse().unwrap();
            let want = *calls as f64 / measured;
            assert!(
                (rate - want).abs() <= want * 0.005,
                "{v}: {arrow}: {rate} vs {want}"
            );
            let failed = ended - ok;
            assert_eq!(
                g.texts.iter().any(|t| t.2.ends_with("% errors")),
                failed > 0,
                "{v}: {arrow}"
            );
            // Out of the caller's right side, into the callee's left side, the head pointing
            // right at it.
            let (caller, callee) = arrow.split_once(['-', '=']).unwrap();
            let (caller, callee) = (caller.trim(), callee[1..].trim());
            let from = box_of(caller);
            let to = box_of(callee);
            let first = g.polylines[0][0];
            assert_eq!(first.0, from.0 + from.2, "{v}: {arrow} leaves the caller");
            assert!(first.1 > from.1 && first.1 < from.1 + from.3);
            let head = &g.polygons[0];
            let tip = head
                .iter()
                .copied()
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap();
            assert_eq!(tip.0, to.0, "{v}: {arrow} ends at the callee");
            assert!(tip.1 > to.1 && tip.1 < to.1 + to.3);
            assert!(head.iter().all(|p| p.0 <= tip.0));
            if arrow.contains("=>") {
                assert!(g.polylines.len() > 3, "dashed: {v}: {arrow}");
            } else {
                assert_eq!(g.polylines.len(), 1, "{v}: {arrow}");
            }
            // Labels sit between the boxes, never on one.
            for (x, y, t) in &g.texts {
                for s in services.iter().copied().chain(["(clients)"]) {
                    let b = box_of(s);
                    let inside = *x > b.0 && *x < b.0 + b.2 && *y > b.1 && *y < b.1 + b.3;
                    assert!(!inside, "{v}: label `{t}` on the box of {s}");
                }
            }
        }
        // The saturated one: the busiest, when at 90% or more (db in small-db only).
        let saturated = (cpu(busiest) >= 0.9).then_some(busiest);
        assert_eq!(
            saturated,
            (v == "small-db").then_some("db"),
            "{v}: db at {}",
            cpu("db")
        );
        for s in services {
            let g = &groups[&format!("{v}: {s}")];
            let marked = g.texts.iter().any(|t| t.2.starts_with("saturated"));
            let red = g.rects.iter().any(|r| r.4 == "#DC0000");
            assert_eq!(marked, saturated == Some(s), "{v}: {s}");
            assert_eq!(red, saturated == Some(s), "{v}: {s}");
            assert!(g.texts.iter().any(|t| t.2.starts_with("CPU ")));
        }
    }
    assert_eq!(plot.names(), sorted(expected));

    // No two boxes overlap, in a panel or across panels.
    let boxes: Vec<(f64, f64, f64, f64)> = groups
        .iter()
        .filter(|(name, _)| !name.contains(" -> ") && !name.contains(" => "))
        .map(|(_, g)| {
            let r = &g.rects[0];
            (r.0, r.1, r.0 + r.2, r.1 + r.3)
        })
        .collect();
    assert_eq!(boxes.len(), 10);
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            assert!(
                !(a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3),
                "{a:?} and {b:?} overlap"
            );
        }
    }

    // report.html embeds it with its caption.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<code>topology.svg</code>: The services and their calls"));

    // `surge plot report.json` draws it again, byte for byte.
    let again = out.parent().unwrap().join("again");
    ok(&surge(&[
        "plot",
        out.join("report.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--png",
    ]));
    for name in ["topology.svg", "topology.png"] {
        assert_eq!(
            std::fs::read(again.join(name)).unwrap(),
            std::fs::read(out.join(name)).unwrap(),
            "{name}"
        );
    }
}

/// A single service, or services that do not call one another: no topology.svg. With calls,
/// a variant's name reaches the groups escaped and comes back whole from the XML.
#[test]
fn topology_is_left_out_without_calls_and_carries_names_escaped() {
    let single = r#"{
      "name": "plots-single",
      "model": { "services": { "api": { "replicas": 1, "instance": { "cores": 1 },
        "endpoints": { "get": { "steps": [ { "cpu": "2ms" } ] } } } } },
      "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 100 },
        "mix": [ { "service": "api", "endpoint": "get" } ] } ],
      "duration": "3s", "seed": 1, "resolution": "1s"
    }"#;
    for (tag, json) in [
        ("plots-topology-single", single),
        ("plots-topology-apart", RUN),
    ] {
        let exp = experiment(tag, json);
        let results = run(&exp);
        let report = surge::report::Report::new(&exp, &results);
        assert_eq!(
            surge::report::plots::topology(&report).unwrap(),
            None,
            "{tag}"
        );
        let names: Vec<String> = surge::report::plots::render(&report, &results)
            .unwrap()
            .into_iter()
            .map(|p| p.file_name)
            .collect();
        assert!(
            !names.contains(&"topology.svg".to_string()),
            "{tag}: {names:?}"
        );
    }

    let mut graph = experiment("plots-topology-names", GRAPH);
    graph.variants[0].name = "<a> & \"b\"".to_string();
    let report = surge::report::Report::new(&graph, &run(&graph));
    let plot = surge::report::plots::topology(&report).unwrap().unwrap();
    assert_eq!(plot.file_name, "topology.svg");
    assert!(
        plot.svg
            .contains("data-series=\"&lt;a&gt; &amp; &quot;b&quot;: gateway\"")
    );
    let groups = topology_groups(&plot.svg);
    assert!(groups.contains_key("<a> & \"b\": gateway -> users"));
    assert!(groups.contains_key("small-db: gateway => jobs"));
}
