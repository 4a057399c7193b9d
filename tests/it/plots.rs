//! Plots through the `surge` binary: every plot a run or a sweep writes is a well-formed SVG
//! with one `<g class="series">` group per series, counted against what the data says must be
//! there (from `timeseries.csv`, `report.json` and `sweep.json`, not from the plotting code);
//! PNGs have the signature and the size; `surge plot` refuses bad input with exit code 2.

use crate::support::{assert_bad_input, ok, surge, temp_dir, write_experiment};
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
        assert_eq!(plot.names(), ["least-connections", "round-robin"], "{m}");
        for v in ["least-connections", "round-robin"] {
            assert_eq!(plot.count(v, "circle"), 3, "{m}: a marker per point");
            assert_eq!(plot.count(v, "polyline"), 1, "{m}: the line of means");
        }
        assert!(
            plot.text.contains("workload[0].rate.rps (log scale)"),
            "{m}: 10 to 1000 spans two decades"
        );
        png_matches(&dir.join(format!("sweep-{m}.png")), &plot);
    }
    // Two replications: an interval, drawn as a band, where the replications differ.
    let p99 = svg(&dir.join("sweep-latency_s.p99.svg"));
    assert_eq!(p99.count("round-robin", "polygon"), 1);
    assert!(p99.text.contains("latency_s.p99 (ms"));
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
            expected.push(format!("replicas = {r}: {v}"));
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
    assert!(heat.text.contains("model.services.api.replicas"));
    assert!(
        heat.text.contains("services.api.peak_instances"),
        "the scale's label"
    );
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
