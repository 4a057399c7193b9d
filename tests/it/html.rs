//! `report.html`: written by `surge run --html` and `surge report --html`, the same page either
//! way; self-contained (nothing to fetch); every SVG beside the report embedded; user text
//! escaped; byte-identical across renders; a missing or malformed report.json refused with
//! exit code 2 and the file named.

use crate::support::{assert_bad_input, ok, repo, surge, temp_dir, write_experiment};
use std::path::{Path, PathBuf};

/// User text in every place the page shows it: the description, variant names and a string
/// deep in the configuration.
const HOSTILE: &str = r#"{
  "name": "hostile",
  "description": "<script>alert('description')</script> & \"quoted\"",
  "model": { "services": { "api": { "replicas": 2, "instance": { "cores": 1 },
      "endpoints": { "get": { "description": "</code></pre><script>alert('config')</script>",
                              "steps": [ { "cpu": { "kind": "exponential", "mean": "5ms" } } ] } } } } },
  "workload": [ { "kind": "open", "rate": { "kind": "constant", "rps": 150 },
                  "mix": [ { "service": "api", "endpoint": "get" } ] } ],
  "duration": "10s", "seed": 4, "replications": 2,
  "slo": { "latency": "20ms", "window": "5s" },
  "variants": { "<img src=x onerror=alert(1)>": {}, "three": { "services": { "api": { "replicas": 3 } } } }
}"#;

/// Runs `file` with `--html` into a fresh directory; returns the directory and stdout.
fn run_html(tag: &str, file: &Path) -> (PathBuf, String) {
    let out = temp_dir(tag).join("out");
    let stdout = ok(&surge(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--html",
        "-j",
        "2",
    ]));
    (out, stdout)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The values of every `attr="..."` in the page.
fn attribute_values<'a>(page: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    let mut values = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        let end = after.find('"').expect("attribute value is closed");
        values.push(&after[..end]);
        rest = &after[end..];
    }
    values
}

/// Standard base64 decoding, written independently of the encoder under test.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The embedded images, decoded, in page order.
fn embedded_svgs(page: &str) -> Vec<Vec<u8>> {
    attribute_values(page, "src")
        .into_iter()
        .map(|src| {
            let b64 = src
                .strip_prefix("data:image/svg+xml;base64,")
                .unwrap_or_else(|| panic!("an image that is not an SVG data URI: {src:.80}"));
            base64_decode(b64)
        })
        .collect()
}

/// The `.svg` files in `dir`, by name.
fn svg_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg"))
        .collect();
    names.sort();
    names
}

#[test]
fn run_html_and_report_html_write_the_same_page() {
    let exp = repo().join("experiments/quickstart.json");
    let (out, stdout) = run_html("html-both", &exp);
    let page_path = out.join("report.html");
    assert!(
        stdout.contains(&page_path.display().to_string()),
        "`surge run --html` names the page among what it wrote: {stdout}"
    );
    let from_run = read(&page_path);

    // `surge report --html` next to the report by default, printing the path ...
    std::fs::remove_file(&page_path).unwrap();
    let report = out.join("report.json");
    let printed = ok(&surge(&["report", report.to_str().unwrap(), "--html"]));
    assert_eq!(printed.trim(), format!("wrote {}", page_path.display()));
    assert_eq!(
        read(&page_path),
        from_run,
        "the same page from `surge run --html` and `surge report --html`"
    );
    // ... or where --out says, again byte for byte.
    let elsewhere = temp_dir("html-elsewhere").join("page.html");
    let printed = ok(&surge(&[
        "report",
        report.to_str().unwrap(),
        "--html",
        "--out",
        elsewhere.to_str().unwrap(),
    ]));
    assert_eq!(printed.trim(), format!("wrote {}", elsewhere.display()));
    assert_eq!(
        read(&elsewhere),
        from_run,
        "a second render is byte-identical"
    );

    // What the page must say.
    for text in [
        "<h1>quickstart</h1>",
        "A traffic spike from 300 to 900 req/s",
        "<dt>Seed</dt><dd>7</dd>",
        "<dt>Replications</dt><dd>3 per variant (9 runs)</dd>",
        "<dt>Duration</dt><dd>2m (120 s) simulated per run</dd>",
        "<dt>Warm-up</dt><dd>10s, excluded from the summary</dd>",
        "<dt>Resolution</dt><dd>1s per time-series bucket</dd>",
        &format!(
            "<dt>Surge version</dt><dd>{}</dd>",
            env!("CARGO_PKG_VERSION")
        ),
        &format!(
            "surge run {} --seed 7 --replications 3</code>",
            exp.display()
        ),
        "Common random numbers.",
        "<th scope=\"col\">round-robin</th>",
        "<th scope=\"col\">4-replicas</th>",
        "latency p99",
        "rejected",
        "SLO violation (min)",
        "SLO met",
        "instance-hours",
        "&plusmn;&nbsp;",
        "95% CI ",
        "replications (n)",
        "&quot;concurrency_limit&quot;: 64",
    ] {
        assert!(from_run.contains(text), "the page lacks `{text}`");
    }
    // The verdict first, then the table, the plots, and the metadata and configuration.
    let at = |id: &str| {
        from_run
            .find(&format!("<section id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no section {id}"))
    };
    let order = ["verdict", "summary", "plots", "run", "runs", "config"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // What the verdict says, checked against report.json: who meets the SLO, the cheapest of
    // them (by instance-hours: the model has no prices) and the Pareto front.
    let json: serde_json::Value = serde_json::from_str(&read(&report)).unwrap();
    let variants = json["variants"].as_object().unwrap();
    let meeting: Vec<&String> = variants
        .iter()
        .filter(|(_, v)| v["slo_met"] == serde_json::json!(true))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(meeting, ["4-replicas"], "the README's table says so");
    let verdict = &from_run[order[0]..order[1]];
    assert!(
        verdict.contains("1 of 3 variants meets the SLO"),
        "{verdict}"
    );
    assert!(verdict.contains("The cheapest that meets it: <strong>4-replicas</strong>"));
    // Met over the whole period, but a window missed the target in some replication: said.
    let minutes = variants["4-replicas"]["metrics"]["slo.violation_minutes"]["mean"]
        .as_f64()
        .unwrap();
    assert_eq!(
        verdict.contains("yet with windows that missed a target"),
        minutes > 0.0,
        "{verdict}"
    );
    let point = |v: &serde_json::Value| {
        let m = &v["metrics"];
        let hours = m["services.api.instance_hours"]["mean"].as_f64().unwrap();
        (hours, m["slo.violation_minutes"]["mean"].as_f64().unwrap())
    };
    let mut front: Vec<(&String, (f64, f64))> = variants
        .iter()
        .map(|(n, v)| (n, point(v)))
        .filter(|(_, p)| {
            !variants
                .values()
                .map(point)
                .any(|q| q.0 <= p.0 && q.1 <= p.1 && (q.0 < p.0 || q.1 < p.1))
        })
        .collect();
    front.sort_by(|a, b| a.1.0.total_cmp(&b.1.0).then(a.1.1.total_cmp(&b.1.1)));
    let named: Vec<String> = front
        .iter()
        .map(|(n, _)| format!("<strong>{n}</strong>"))
        .collect();
    assert!(
        verdict.contains(&format!("from the cheapest: {}.", named.join(", "))),
        "{verdict}"
    );
    // The summary shows the terminal table's rows, in its order.
    let terminal = ok(&surge(&["report", report.to_str().unwrap()]));
    let mut at = 0;
    for line in terminal.lines().skip(3) {
        let label = line.trim_start().split("  ").next().unwrap();
        if label.is_empty() || label.starts_with('(') {
            continue;
        }
        // The terminal names an endpoint's rows `service.endpoint: label`; the page puts them
        // under the endpoint's heading.
        let label = label.rsplit_once(": ").map_or(label, |(_, l)| l);
        let cell = format!(">{label}</th>");
        let found = from_run[at..]
            .find(&cell)
            .unwrap_or_else(|| panic!("the page lacks the row `{label}` (or has it out of order)"));
        at += found;
    }
}

#[test]
fn the_page_is_self_contained() {
    let (out, _) = run_html(
        "html-self-contained",
        &repo().join("experiments/quickstart.json"),
    );
    let page = read(&out.join("report.html"));
    // Links only within the page; images only as data: URIs.
    for href in attribute_values(&page, "href") {
        assert!(href.starts_with('#'), "a link out of the page: {href}");
    }
    let srcs = attribute_values(&page, "src");
    assert!(!srcs.is_empty());
    for src in srcs {
        assert!(src.starts_with("data:"), "an image fetched from {src:.80}");
    }
    // Nothing else that loads or runs anything.
    for tag in [
        "<script", "<link", "<iframe", "<object", "<embed", "@import", "url(", "srcset",
    ] {
        assert!(!page.contains(tag), "the page contains `{tag}`");
    }
    // No address at all, not even the SVG namespace `http://www.w3.org/2000/svg`: the plots
    // are base64 data: URIs, not inline <svg>, so their xmlns is not in the page's text. (A URL
    // in a user's description would be escaped text, not a fetch; this experiment has none.)
    assert!(!page.contains("http://") && !page.contains("https://"));
    // And the browser is told to refuse anything that slipped through.
    assert!(page.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
    ));
}

#[test]
fn every_svg_beside_the_report_is_embedded_known_plots_first() {
    let (out, _) = run_html("html-svgs", &repo().join("experiments/quickstart.json"));
    // Plots Surge does not know (another tool's, or ones added later), one with a script that
    // must stay inside its image, and a PNG that is not an SVG.
    std::fs::write(
        out.join("zz-extra.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#,
    )
    .unwrap();
    std::fs::write(
        out.join("aa-extra.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>"#,
    )
    .unwrap();
    std::fs::write(out.join("replicas.png"), b"\x89PNG not really").unwrap();
    let report = out.join("report.json");
    ok(&surge(&["report", report.to_str().unwrap(), "--html"]));
    let page = read(&out.join("report.html"));

    let files = svg_files(&out);
    assert!(files.len() >= 5, "{files:?}");
    let embedded = embedded_svgs(&page);
    assert_eq!(embedded.len(), files.len(), "one image per SVG file");
    for name in &files {
        let bytes = std::fs::read(out.join(name)).unwrap();
        assert!(
            embedded.contains(&bytes),
            "{name} is not embedded byte for byte"
        );
        assert!(
            page.contains(&format!("<code>{name}</code>")),
            "{name} has no caption"
        );
    }
    // Known plots first, in the page's order, then the rest by name.
    let order: Vec<String> = embedded
        .iter()
        .map(|bytes| {
            files
                .iter()
                .find(|n| std::fs::read(out.join(n.as_str())).unwrap() == *bytes)
                .unwrap()
                .clone()
        })
        .collect();
    assert_eq!(order[0], "replicas.svg");
    assert_eq!(order[1], "latency.svg");
    let n = order.len();
    assert_eq!(order[n - 2..], ["aa-extra.svg", "zz-extra.svg"]);
    assert!(
        !page.contains("<script"),
        "an SVG's script reached the page"
    );
}

#[test]
fn user_text_is_escaped() {
    let exp = write_experiment("hostile", HOSTILE);
    let (out, _) = run_html("html-escape", &exp);
    let page = read(&out.join("report.html"));
    assert!(!page.contains("<script"), "a <script> reached the page");
    assert!(!page.contains("<img src=x"), "a variant name became a tag");
    assert!(!page.contains("</code></pre><script"));
    for shown in [
        // The description, in the header (and in the title of the configuration).
        "<p class=\"description\">&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;</p>",
        // A variant's name, in the table's head and in the runs.
        "<th scope=\"col\">&lt;img src=x onerror=alert(1)&gt;</th>",
        "<th scope=\"row\">&lt;img src=x onerror=alert(1)&gt;</th>",
        // A string deep in the configuration.
        "&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(&#39;config&#39;)&lt;/script&gt;",
    ] {
        assert!(page.contains(shown), "the page lacks `{shown}`");
    }
    // The experiment's own file, in the command, quoted for a shell only if it needs it.
    assert!(page.contains(&format!(
        "surge run {} --seed 4 --replications 2</code>",
        exp.display()
    )));
}

#[test]
fn a_run_without_html_removes_a_stale_page() {
    let exp = write_experiment("html-stale", HOSTILE);
    let (out, _) = run_html("html-stale", &exp);
    assert!(out.join("report.html").exists());
    ok(&surge(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert!(
        !out.join("report.html").exists(),
        "a page describing an earlier run must not sit beside a new report"
    );
}

/// `surge report FILE` (with and without --html) refuses `text` with exit code 2, naming the
/// file and saying each of `expected`; no page is written.
fn refused(tag: &str, text: Option<&str>, expected: &[&str]) {
    let dir = temp_dir(tag);
    let file = dir.join("report.json");
    if let Some(text) = text {
        std::fs::write(&file, text).unwrap();
    }
    for html in [true, false] {
        let mut args = vec!["report", file.to_str().unwrap()];
        if html {
            args.push("--html");
        }
        let o = surge(&args);
        let stderr = assert_bad_input(tag, &o, expected);
        assert!(
            stderr.contains(&file.display().to_string()),
            "{tag}: the message must name the file: {stderr}"
        );
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{tag}: one line: {stderr}"
        );
        assert!(o.stdout.is_empty(), "{tag}: nothing on stdout");
    }
    assert!(!dir.join("report.html").exists(), "{tag}: no page written");
}

#[test]
fn a_missing_or_malformed_report_is_refused_with_exit_code_2() {
    refused("html-missing", None, &["cannot read the report"]);
    refused(
        "html-truncated",
        Some("{ \"experiment\": \"x\",\n  \"runs\": ["),
        &[":2:11: malformed JSON"],
    );
    refused(
        "html-not-json",
        Some("<html>not a report</html>"),
        &[":1:1: malformed JSON"],
    );
    refused(
        "html-trailing",
        Some("{} {}"),
        &["not a report.json as `surge run` writes it"],
    );
    // An experiment file where a report was expected: well-formed JSON, the wrong shape.
    refused(
        "html-experiment",
        Some(HOSTILE),
        &[
            "not a report.json as `surge run` writes it",
            "missing field",
        ],
    );
    refused(
        "html-wrong-type",
        Some(r#"{ "experiment": 3 }"#),
        &[
            "1:17: at `experiment`",
            "not a report.json as `surge run` writes it",
            "wrong type",
        ],
    );
}
